import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from discovery import (
    ConfigurationError,
    FarthestPointDesign,
    KMeansDesign,
    KMeansDiversified,
    RandomDesign,
    TopK,
)
from discovery.selection import (
    BATCH_SELECTORS,
    resolve_initial_design,
    resolve_selector,
    selector_options,
)

RNG = np.random.default_rng(0)
CENTRES = np.array([[0.1, 0.1], [0.9, 0.1], [0.5, 0.9]])
BLOBS = np.concatenate([c + 0.03 * RNG.standard_normal((20, 2)) for c in CENTRES])


def test_kmeans_design_returns_distinct_points_nearest_the_centroids():
    excluded = np.zeros(len(BLOBS), dtype=bool)
    chosen = KMeansDesign().pick(None, 3, excluded, BLOBS, np.random.default_rng(1))
    assert len(set(chosen.tolist())) == 3
    blob_of = chosen // 20
    assert sorted(blob_of.tolist()) == [0, 1, 2]
    for index, blob in zip(chosen, blob_of, strict=True):
        members = BLOBS[blob * 20 : (blob + 1) * 20]
        nearest = np.argmin(np.linalg.norm(members - members.mean(axis=0), axis=1))
        assert index == blob * 20 + nearest


def test_kmeans_design_distinct_even_with_more_clusters_than_distinct_points():
    features = np.repeat(np.array([[0.0], [1.0]]), 5, axis=0)
    with pytest.warns(Warning):  # scikit-learn: fewer distinct points than clusters
        chosen = KMeansDesign().pick(
            None, 4, np.zeros(10, bool), features, np.random.default_rng(0)
        )
    assert len(set(chosen.tolist())) == 4


def test_top_k_skips_excluded_and_puts_nan_last():
    scores = np.array([5.0, 9.0, 9.0, 1.0, np.nan, 7.0])
    excluded = np.array([False, True, False, False, False, False])
    chosen = TopK().pick(scores, 3, excluded, np.zeros((6, 1)), np.random.default_rng(0))
    assert chosen.tolist() == [2, 5, 0]
    everything = TopK().pick(scores, 5, excluded, np.zeros((6, 1)), np.random.default_rng(0))
    assert everything.tolist() == [2, 5, 0, 3, 4]


def test_top_k_draws_among_designs_tied_for_the_last_place_instead_of_taking_the_first():
    """A forest predicts the same for whole regions of a pool; the pool's order (often
    sorted by parameter value) must not decide between them."""
    scores = np.array([1.0, 3.0, 3.0, 3.0, 3.0, 0.0, 4.0])
    excluded = np.zeros(len(scores), dtype=bool)
    picks = [
        TopK().pick(scores, 2, excluded, np.zeros((7, 1)), np.random.default_rng(seed))
        for seed in range(400)
    ]
    assert all(pick[0] == 6 for pick in picks)  # the best is always taken, and first
    counts = np.bincount([pick[1] for pick in picks], minlength=7)
    assert counts[[0, 5, 6]].sum() == 0
    assert all(60 < count < 140 for count in counts[1:5])  # each tied design about 1 in 4
    again = TopK().pick(scores, 2, excluded, np.zeros((7, 1)), np.random.default_rng(3))
    assert again.tolist() == picks[3].tolist()  # the campaign's seed repeats the choice


@given(
    st.lists(st.sampled_from([-np.inf, -1.0, 0.0, 0.5, 2.0, np.inf, np.nan]), min_size=1),
    st.integers(1, 40),
    st.integers(0, 2**16),
)
def test_top_k_takes_the_scores_a_full_sort_would_with_nan_last(values, k, mask_seed):
    """Ties, infinities and NaN in any mix: the partial selection takes the scores a full
    sort of every score would, best first; where no tie for the last place is split, the
    very designs of a stable sort."""
    scores = np.array(values)
    excluded = np.random.default_rng(mask_seed).random(len(scores)) < 0.3
    available = np.flatnonzero(~excluded)
    k = min(k, available.shape[0])
    if k == 0:
        return
    ranked = np.nan_to_num(scores[available], nan=-np.inf)
    order = np.argsort(-ranked, kind="stable")
    chosen = TopK().pick(scores, k, excluded, np.zeros((len(scores), 1)), RNG)
    assert len(set(chosen.tolist())) == k and not excluded[chosen].any()
    taken = np.nan_to_num(scores[chosen], nan=-np.inf)
    assert taken.tolist() == ranked[order][:k].tolist()
    split = k < len(ranked) and ranked[order][k - 1] == ranked[order][k]
    if not split:
        assert chosen.tolist() == available[order][:k].tolist()


def test_kmeans_diversified_batch_spreads_over_peaks():
    # Scores favour blob 0 heavily; plain top-3 would take three points from it.
    scores = -np.linalg.norm(BLOBS - CENTRES[0], axis=1)
    excluded = np.zeros(len(BLOBS), dtype=bool)
    top = TopK().pick(scores, 3, excluded, BLOBS, np.random.default_rng(0))
    diverse = KMeansDiversified(oversample=20).pick(
        scores, 3, excluded, BLOBS, np.random.default_rng(0)
    )
    assert set((top // 20).tolist()) == {0}
    assert len(set((diverse // 20).tolist())) > 1
    assert scores.argmax() in diverse  # the best candidate is always kept


@pytest.mark.parametrize("oversample", [2.5, 0, True, "3"])
def test_kmeans_diversified_takes_a_whole_number_of_candidates_per_pick(oversample):
    """oversample=2.5 was accepted and failed after the initial design was measured, with
    "Partition index must be integer"."""
    with pytest.raises(ConfigurationError, match="oversample must be a whole number >= 1"):
        KMeansDiversified(oversample=oversample)


def test_kmeans_diversified_of_a_numpy_integer_is_stored_to_be_rebuilt():
    """np.int64(3), as a search grid gives it, could not be written to the store as JSON."""
    selector = KMeansDiversified(oversample=np.int64(3))
    assert selector_options(selector, BATCH_SELECTORS) == {"oversample": 3}


@pytest.mark.parametrize("design", [RandomDesign(), FarthestPointDesign(), KMeansDesign()])
def test_initial_designs_never_pick_excluded(design):
    excluded = np.zeros(len(BLOBS), dtype=bool)
    excluded[::2] = True
    chosen = design.pick(None, 5, excluded, BLOBS, np.random.default_rng(3))
    assert len(set(chosen.tolist())) == 5 and not excluded[chosen].any()


def test_farthest_point_design_reaches_every_blob():
    chosen = FarthestPointDesign().pick(
        None, 3, np.zeros(len(BLOBS), bool), BLOBS, np.random.default_rng(0)
    )
    assert sorted((chosen // 20).tolist()) == [0, 1, 2]


def test_asking_for_more_than_remains_is_an_error():
    excluded = np.ones(len(BLOBS), dtype=bool)
    excluded[:2] = False
    with pytest.raises(ConfigurationError, match="asked for 3 candidates but only 2 remain"):
        TopK().pick(np.zeros(len(BLOBS)), 3, excluded, BLOBS, np.random.default_rng(0))


def test_unknown_selector_names_are_errors():
    with pytest.raises(ConfigurationError, match="selector: unknown name 'best'"):
        resolve_selector("best")
    with pytest.raises(ConfigurationError, match="initial_design: unknown name 'sobol'"):
        resolve_initial_design("sobol")


@pytest.mark.parametrize("design", ["kmeans", "farthest"])
@pytest.mark.parametrize("where", ["pool", "space"])
def test_an_initial_design_asked_one_at_a_time_spreads_as_a_batch_does(design, where):
    """A bench user asks for one design at a time before any result: each pending one
    counts, so the five do not pile up (k-means put each at the pool's centre)."""
    from discovery import Campaign, CandidatePool, Real, Space

    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.random((2000, 3)), columns=["a", "b", "c"])
    pool = (
        CandidatePool.from_frame(frame)
        if where == "pool"
        else Space([Real(name, 0, 1) for name in "abc"])
    )
    campaign = Campaign(pool, None, "y", surrogate="forest", initial_design=design, n_initial=5)
    chosen = pd.concat([campaign.ask(1) for _ in range(5)]).drop_duplicates("candidate_id")
    points = chosen[["a", "b", "c"]].to_numpy(dtype=float)
    gaps = np.linalg.norm(points[:, None] - points[None], axis=-1)[np.triu_indices(5, 1)]
    assert len(points) == 5 and gaps.min() > 0.2


@pytest.mark.parametrize("design", ["sobol", "lhs"])
def test_a_space_design_asked_one_point_at_a_time_spreads_at_least_as_a_batch_does(design):
    """Each call scrambled a fresh sequence and took its first point: eight points asked
    one at a time were eight random ones (closest pair 0.17 apart; a batch's 0.38)."""
    from discovery import Campaign, Real, Space

    space = Space([Real(name, 0, 1) for name in "abc"])

    def closest_pair(points: pd.DataFrame) -> float:
        values = points[["a", "b", "c"]].to_numpy(dtype=float)
        return np.linalg.norm(values[:, None] - values[None], axis=-1)[np.triu_indices(8, 1)].min()

    def campaign():
        return Campaign(space, None, "y", surrogate="forest", initial_design=design, n_initial=8)

    one_by_one = campaign()
    asked = pd.concat([one_by_one.ask(1) for _ in range(8)]).drop_duplicates("candidate_id")
    assert len(asked) == 8
    assert closest_pair(asked) >= max(closest_pair(campaign().ask(8)), 0.3)
