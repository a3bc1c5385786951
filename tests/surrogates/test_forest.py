import numpy as np
import pandas as pd
import pytest

from discovery import Campaign, CandidatePool, FunctionOracle
from discovery.surrogates import RandomForestSurrogate

X = np.linspace(0, 1, 20).reshape(-1, 1)
Y = np.sin(6 * X[:, 0])


def test_forest_std_is_positive_off_the_data():
    model = RandomForestSurrogate(seed=0).fit(X[:10], Y[:10])
    prediction = model.predict(np.array([[0.75], [0.9]]))
    assert np.all(prediction.std > 0)


def test_each_tree_is_one_sample():
    model = RandomForestSurrogate(n_estimators=7, seed=0).fit(X, Y)
    prediction = model.predict(X, n_samples=1)
    assert prediction.samples.shape == (7, 20)
    np.testing.assert_allclose(prediction.samples.mean(axis=0), prediction.mean)


def test_pool_predictions_in_parallel_chunks_equal_one_pass(monkeypatch):
    import discovery.surrogates.forest as forest_module

    rng = np.random.default_rng(2)
    X, pool = rng.random((60, 3)), rng.random((1000, 3))
    model = RandomForestSurrogate(n_estimators=20, n_jobs=2).fit(X, X.sum(axis=1))
    whole = model.predict(pool)
    monkeypatch.setattr(forest_module, "PREDICT_CHUNK", 64)
    chunked = model.predict(pool)
    np.testing.assert_allclose(chunked.mean, whole.mean, rtol=1e-12)
    np.testing.assert_allclose(chunked.std, whole.std, rtol=1e-12)
    assert len(model.predict(pool[:0])) == 0


@pytest.mark.parametrize("extra_trees", [False, True])
def test_total_energies_far_from_zero_are_learnt_as_their_differences(extra_trees):
    # DFT total energies: -45,000 eV apart from zero, differing by meV
    rng = np.random.default_rng(0)
    X, candidates = rng.random((30, 2)), rng.random((200, 2))
    energy = 1e-3 * (np.sin(6 * X[:, 0]) + np.cos(5 * X[:, 1]))
    near = RandomForestSurrogate(extra_trees=extra_trees).fit(X, energy)
    far = RandomForestSurrogate(extra_trees=extra_trees).fit(X, energy - 45_000.0)
    leaves = [[t.tree_.n_leaves for t in m.model_.estimators_] for m in (near, far)]
    assert leaves[0] == leaves[1]
    expected, shifted = near.predict(candidates, n_samples=1), far.predict(candidates, n_samples=1)
    # within the ulp of -45,000 eV (7e-12 eV): the same trees, read in the same units
    np.testing.assert_allclose(shifted.samples + 45_000.0, expected.samples, rtol=0, atol=1e-10)
    np.testing.assert_allclose(shifted.mean + 45_000.0, expected.mean, rtol=0, atol=1e-10)
    np.testing.assert_allclose(shifted.std, expected.std, rtol=0, atol=1e-10)


def test_a_campaign_on_total_energies_chooses_as_the_same_campaign_in_mev():
    rng = np.random.default_rng(0)
    pool = CandidatePool.from_frame(pd.DataFrame(rng.random((300, 2)), columns=["a", "b"]))
    choices = {}
    for offset in (0.0, -45_000.0):

        def energy(candidate, offset=offset):
            p = candidate.parameters
            return offset + 1e-3 * (np.sin(6 * p["a"]) + np.cos(5 * p["b"]))

        campaign = Campaign(
            pool,
            FunctionOracle(energy, output="energy"),
            "energy",
            maximize=False,
            surrogate="forest",
            acquisition="ucb",
            budget=24,
            n_initial=8,
            seed=0,
        )
        choices[offset] = campaign.run(progress=False).history["candidate_id"].tolist()
    assert choices[-45_000.0] == choices[0.0]
