"""Campaigns over declared spaces: proposals meet the constraints, never repeat a point,
find optima, and ask/tell, stores and exclusions on pools work as for pools."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from discovery import (
    Campaign,
    CandidatePool,
    Categorical,
    ConfigurationError,
    Exclusion,
    FunctionOracle,
    Integer,
    LinearConstraint,
    Real,
    Space,
)
from discovery.acquisition import resolve_acquisition
from discovery.constraints import EQUALITY_TOLERANCE
from discovery.policy import Arm, Portfolio
from discovery.proposal import DUPLICATE_TOLERANCE, propose_by_sampling
from discovery.selection import TopK
from discovery.surrogates import NeuralEnsembleSurrogate, RandomForestSurrogate
from tests.test_search_space import random_spaces

MIXED = Space(
    [
        Real("a", 0, 1),
        Real("b", 0, 1),
        Real("c", 0, 1),
        Real("temperature", 20, 150),
        Integer("equivalents", 1, 4),
        Categorical("solvent", ["water", "DMF", "THF"]),
    ],
    [
        LinearConstraint({"a": 1, "b": 1, "c": 1}, "==", 1),
        LinearConstraint({"a": 1, "b": -1}, "<=", 0.5),
        Exclusion({"solvent": ["water"], "temperature": (">", 100)}),
        Exclusion({"solvent": ["THF"], "equivalents": [4]}),
    ],
)


def mixed_yield(candidate) -> float:
    p = candidate.parameters
    bonus = {"water": 0.3, "DMF": 0.0, "THF": 0.1}[p["solvent"]]
    return (
        p["a"]
        + 0.5 * p["b"]
        - ((p["temperature"] - 90) / 60) ** 2
        - 0.1 * abs(p["equivalents"] - 3)
        + bonus
    )


def assert_all_feasible_and_distinct(space, history):
    points = [dict(zip(space.names, row, strict=True)) for row in history[space.names].to_numpy()]
    for point in points:
        assert space.violation(point) is None
    X = space.encode(points)
    gaps = np.abs(X[:, None, :] - X[None, :, :]).max(axis=-1) + np.eye(len(X))
    assert gaps.min() > DUPLICATE_TOLERANCE


@pytest.mark.parametrize("surrogate", ["gp", "forest"])
def test_mixed_constrained_campaign_proposes_only_feasible_new_points(surrogate):
    campaign = Campaign(
        MIXED,
        FunctionOracle(mixed_yield, output="y"),
        "y",
        surrogate=surrogate,
        budget=8,
        n_initial=4,
        batch_size=2,
        seed=3,
    )
    result = campaign.run(progress=False)
    history = result.history
    assert len(history) == 8 and history["y"].notna().all()
    assert_all_feasible_and_distinct(MIXED, history)
    assert history["equivalents"].map(lambda v: float(v).is_integer()).all()
    mixtures = history[["a", "b", "c"]].sum(axis=1)
    assert (mixtures - 1).abs().max() <= EQUALITY_TOLERANCE


def test_a_gp_keeps_a_mixture_and_a_sliver_an_exclusion_leaves_one_solvent():
    """Raw samples of each solvent's optimisation come from the space's feasible draws,
    less those outside the range an exclusion leaves the solvent; water keeps 1 % of the
    temperatures, too few of them, and its samples come from a walk in its own box."""
    space = Space(
        [Real("a", 0, 1), Real("b", 0, 1), Real("temperature", 20, 120),
         Categorical("solvent", ["water", "THF"])],
        [LinearConstraint({"a": 1, "b": 1}, "==", 1),
         Exclusion({"solvent": ["water"], "temperature": (">", 21)})],
    )  # fmt: skip

    def wet_and_cool(p):
        return p["a"] + (0.5 if p["solvent"] == "water" else 0.0) - p["temperature"] / 100

    campaign = Campaign(space, None, "y", surrogate="gp", n_initial=2, seed=1)
    told = [(0.2, 20.5, "water"), (0.9, 20.2, "water"), (0.5, 60.0, "THF"), (0.8, 110.0, "THF")]
    for a, temperature, solvent in told:
        point = {"a": a, "b": 1 - a, "temperature": temperature, "solvent": solvent}
        campaign.tell(point, wet_and_cool(point))
    proposed = []
    for _ in range(2):
        for _, row in campaign.ask(1).iterrows():
            point = {name: row[name] for name in space.names}
            proposed.append(point)
            campaign.tell(point, wet_and_cool(point))
    assert all(space.violation(point) is None for point in proposed)
    assert max(abs(point["a"] + point["b"] - 1) for point in proposed) <= EQUALITY_TOLERANCE
    water = [point for point in proposed if point["solvent"] == "water"]
    assert len(water) >= 2 and all(point["temperature"] <= 21 for point in water)


def test_gp_campaign_finds_the_top_of_a_smooth_hill():
    space = Space([Real("x", 0, 1), Real("y", 0, 10)])

    def hill(candidate):
        p = candidate.parameters
        return -((p["x"] - 0.3) ** 2) - ((p["y"] - 7.0) / 10) ** 2

    result = Campaign(
        space, FunctionOracle(hill, output="z"), "z", budget=15, n_initial=5, seed=0
    ).run(progress=False)
    assert result.history["z"].max() > -1e-3
    # random search with the same budget is far off
    rng = np.random.default_rng(0)
    random_best = max(
        -((x - 0.3) ** 2) - ((y - 7) / 10) ** 2 for x, y in rng.random((15, 2)) * [1, 10]
    )
    assert result.history["z"].max() > random_best


def test_minimising_moves_towards_the_minimum():
    space = Space([Real("x", -2, 2)])
    result = Campaign(
        space,
        FunctionOracle(lambda c: (c.parameters["x"] - 1.2) ** 2, output="loss"),
        "loss",
        maximize=False,
        budget=10,
        n_initial=3,
        seed=1,
    ).run(progress=False)
    assert result.history["loss"].min() < 1e-3


def test_greedy_acquisition_never_repeats_a_measured_point():
    space = Space([Real("x", 0, 1)])
    result = Campaign(
        space,
        FunctionOracle(lambda c: -abs(c.parameters["x"] - 0.5), output="y"),
        "y",
        acquisition="greedy",
        budget=12,
        n_initial=3,
        seed=0,
    ).run(progress=False)
    assert_all_feasible_and_distinct(space, result.history)


def test_an_optimum_on_a_measured_corner_keeps_the_search_there_not_random():
    """Once the corner that maximises x + z/2 is measured, the optimiser returns it every
    time: its replacement was a random draw (10 of 13 picks, scored NaN)."""
    space = Space([Real("x", 0, 1), Real("z", 0, 1)])
    result = Campaign(
        space,
        FunctionOracle(lambda c: c.parameters["x"] + 0.5 * c.parameters["z"], output="y"),
        "y",
        budget=14,
        n_initial=3,
        seed=0,
    ).run(progress=False)
    history = result.history
    assert_all_feasible_and_distinct(space, history)
    chosen = history[history["iteration"] > 0]
    assert chosen["score"].notna().all()
    assert (chosen["y"].iloc[-6:] > 1.45).sum() >= 4  # mostly by the corner's 1.5


def test_a_space_of_categories_keeps_choosing_by_the_model_once_its_peak_is_measured():
    weights = {"a": 0, "b": 0.5, "c": 1, "d": 0.2, "L1": 0, "L2": 0.3, "L3": 1.2, "L4": 0.1}
    space = Space(
        [
            Categorical("cat", list("abcd")),
            Categorical("ligand", ["L1", "L2", "L3", "L4"]),
            Integer("equivalents", 1, 4),
        ]
    )

    def response(candidate):
        p = candidate.parameters
        return weights[p["cat"]] + weights[p["ligand"]] - 0.3 * abs(p["equivalents"] - 3)

    history = (
        Campaign(space, FunctionOracle(response, output="y"), "y", budget=14, n_initial=4, seed=0)
        .run(progress=False)
        .history
    )
    assert_all_feasible_and_distinct(space, history)
    assert history.loc[history["iteration"] > 0, "score"].notna().all()


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(space=random_spaces(), seed=st.integers(0, 1000))
def test_sampled_proposals_meet_every_constraint(space, seed):
    rng = np.random.default_rng(seed)
    weights = rng.standard_normal(space.n_features)
    taken = space.encode(space.sample(3, seed=seed))
    points, scores = propose_by_sampling(space, lambda X: X @ weights, TopK(), 3, taken, rng)
    assert len(points) == 3 and np.isfinite(scores).all()
    for point in points:
        assert space.violation(point) is None
    X = np.vstack([taken, space.encode(points)])
    gaps = np.abs(X[:, None, :] - X[None, :, :]).max(axis=-1) + np.eye(len(X))
    assert gaps.min() > DUPLICATE_TOLERANCE


def test_local_search_improves_on_the_best_sample():
    space = Space([Real("x", 0, 1), Real("y", 0, 1)])
    target = np.array([0.123456, 0.654321])
    rng = np.random.default_rng(0)
    points, _ = propose_by_sampling(
        space, lambda X: -np.abs(X - target).sum(axis=1), TopK(), 1, np.empty((0, 2)), rng
    )
    found = np.array([points[0]["x"], points[0]["y"]])
    assert np.abs(found - target).max() < 2e-3


@pytest.mark.parametrize(
    "surrogate",
    [RandomForestSurrogate(), NeuralEnsembleSurrogate(hidden=(16,), max_epochs=50, device="cpu")],
    ids=["forest", "neural"],
)
def test_thompson_over_a_space_scores_each_proposal_with_one_member(surrogate):
    space = Space([Real("a", 0, 1), Real("b", 0, 1)])
    rng = np.random.default_rng(0)
    X = rng.random((12, 2))
    y = np.sin(6 * X[:, 0]) + np.cos(5 * X[:, 1])
    model = surrogate.fit(X, y)
    thompson = resolve_acquisition("thompson")
    members_per_call = []

    def score(features):  # as a campaign scores: the members' predictions, one drawn
        prediction = model.predict(features, n_samples=1)
        scores = thompson.score(prediction, float(y.max()), True, rng)
        members = {k for k, draw in enumerate(prediction.samples) if np.array_equal(draw, scores)}
        members_per_call.append(members)
        return scores

    for _ in range(3):
        members_per_call.clear()
        propose_by_sampling(space, score, TopK(), 2, X, rng)
        assert len(members_per_call) > 4  # the sample's chunks, then the local searches' steps
        # one tree or member scored all of them: the proposal tops one sampled function,
        # not the most optimistic member at each point
        assert set.intersection(*members_per_call)


# -- ask / tell and the store ------------------------------------------------------------


def test_ask_and_tell_over_a_space(tmp_path):
    store = tmp_path / "reaction.sqlite"
    campaign = Campaign(MIXED, None, "y", budget=20, n_initial=3, seed=0, store=store)
    asked = campaign.ask(3)
    assert list(asked.columns[:3]) == ["candidate_id", "status", "score"]
    assert set(MIXED.names) <= set(asked.columns) and (asked["status"] == "new").all()
    for _, row in asked.iterrows():
        point = {n: row[n] for n in MIXED.names}
        campaign.tell(row["candidate_id"], mixed_yield(type("C", (), {"parameters": point})))
    own = {"a": 0.5, "b": 0.5, "c": 0.0, "temperature": 90.0, "equivalents": 3, "solvent": "DMF"}
    campaign.tell(own, 0.75)
    with pytest.raises(ConfigurationError, match=r"outside the space: 'temperature' = 200"):
        campaign.tell(own | {"temperature": 200.0}, 1.0)
    with pytest.raises(ConfigurationError, match="violates the constraint not \\(solvent in"):
        campaign.tell(own | {"solvent": "water", "temperature": 120.0}, 1.0)
    resumed = Campaign.resume(store)
    suggestion = resumed.ask(1)
    assert (suggestion["status"] == "new").all()
    point = {n: suggestion.iloc[0][n] for n in MIXED.names}
    assert MIXED.violation(point) is None
    assert isinstance(resumed.pool, Space) and resumed.pool == MIXED


def test_a_told_row_naming_an_asked_point_must_give_its_parameters(tmp_path):
    """Results typed back with the temperature rounded went to a new point, and the asked
    one came back as pending from every ask() after."""
    campaign = Campaign(MIXED, None, "y", budget=20, n_initial=2, seed=0)
    asked = campaign.ask(2)
    asked.to_csv(tmp_path / "asked.csv", index=False)
    exact = pd.read_csv(tmp_path / "asked.csv").assign(y=[0.1, 0.2])
    rounded = exact.assign(temperature=exact["temperature"].round(1) + 0.01)
    with pytest.raises(ConfigurationError, match="was chosen at other parameters"):
        campaign.tell(rounded)
    notebook = exact.assign(temperature=exact["temperature"].round(2))
    campaign.tell(notebook)  # rounded to the digits written, they name the asked points
    assert "pending" not in set(campaign.ask(1)["status"])


def test_a_stored_space_campaign_resumes_to_the_uninterrupted_result(tmp_path):
    space = Space([Real("x", 0, 1), Integer("n", 1, 3)])

    def run(budget, store):
        return Campaign(
            space,
            FunctionOracle(lambda c: c.parameters["x"] * c.parameters["n"], output="y"),
            "y",
            surrogate="forest",
            budget=budget,
            n_initial=3,
            seed=4,
            store=store,
        ).run(progress=False)

    whole = run(8, tmp_path / "whole.sqlite").history
    run(5, tmp_path / "cut.sqlite")
    resumed = run(8, tmp_path / "cut.sqlite").history
    assert resumed["candidate_id"].tolist() == whole["candidate_id"].tolist()
    assert np.allclose(resumed["y"], whole["y"])


def test_a_portfolio_learns_over_a_space_and_resumes_its_choices(tmp_path):
    from discovery.policy import Portfolio

    space = Space([Real("x", 0, 1), Categorical("catalyst", ["Pd", "Ni"])])

    def rate(candidate):
        p = candidate.parameters
        return (1.0 if p["catalyst"] == "Pd" else 0.6) - (p["x"] - 0.7) ** 2

    def run(budget, store):
        return Campaign(
            space,
            FunctionOracle(rate, output="rate"),
            "rate",
            policy=Portfolio(["gp-ei", "forest-ei", "random"]),
            budget=budget,
            n_initial=3,
            seed=2,
            store=store,
        ).run(progress=False)

    whole = run(8, tmp_path / "whole.sqlite")
    assert set(whole.arms()["arm"]) == {"gp-ei", "forest-ei", "random"}
    assert whole.arms()["picks"].sum() == 5
    assert_all_feasible_and_distinct(space, whole.history)
    run(5, tmp_path / "cut.sqlite")
    resumed = run(8, tmp_path / "cut.sqlite")
    assert resumed.history["candidate_id"].tolist() == whole.history["candidate_id"].tolist()


# -- pools: exclusions and pools as parameters --------------------------------------------


def test_exclusion_filters_a_pool_and_keeps_ids():
    frame = pd.DataFrame(
        {"solvent": ["water", "water", "DMF", "DMF"], "T": [80, 120, 80, 120], "y": [1, 2, 3, 4]}
    )
    pool = CandidatePool.from_frame(frame, objective="y")
    kept = pool.without(Exclusion({"solvent": ["water"], "T": (">", 100)}))
    assert kept.ids.tolist() == ["0", "2", "3"]
    assert kept.candidate(kept.index_of("3")).parameters == {"solvent": "DMF", "T": 120}


def test_a_pool_combines_with_a_continuous_parameter():
    frame = pd.DataFrame({"name": ["Pd", "Ni", "Cu"], "radius": [1.37, 1.24, 1.28],
                          "electronegativity": [2.2, 1.91, 1.9]})  # fmt: skip
    catalysts = CandidatePool.from_frame(frame, id_column="name")
    space = Space([Categorical.from_pool("catalyst", catalysts), Real("temperature", 20, 120)])
    assert space.feature_names == ["catalyst:radius", "catalyst:electronegativity", "temperature"]

    def rate(candidate):
        p = candidate.parameters
        return {"Pd": 1.0, "Ni": 0.5, "Cu": 0.2}[p["catalyst"]] - (
            (p["temperature"] - 60) / 50
        ) ** 2

    result = Campaign(
        space, FunctionOracle(rate, output="rate"), "rate", budget=8, n_initial=4, seed=0
    ).run(progress=False)
    assert set(result.history["catalyst"]) <= {"Pd", "Ni", "Cu"}


def test_a_failing_experiment_in_a_space_is_recorded_and_the_campaign_goes_on():
    space = Space([Real("x", 0, 1)])

    def fragile(candidate):
        if candidate.parameters["x"] > 0.5:
            raise RuntimeError("reactor clogged")
        return candidate.parameters["x"]

    result = Campaign(
        space,
        FunctionOracle(fragile, output="y"),
        "y",
        surrogate="forest",
        budget=8,
        n_initial=4,
        max_retries=0,
        seed=0,
    ).run(progress=False)
    history = result.history
    assert len(history) == 8
    failed = history[history["state"] != "succeeded"]
    assert len(failed) >= 1 and failed["error"].str.contains("reactor clogged").all()
    assert (failed["x"] > 0.5).all() and history.loc[
        history["state"] == "succeeded", "y"
    ].notna().all()


def test_max_value_entropy_is_refused_in_a_declared_space():
    # its scores compare the candidates scored together, which a sampled space lacks
    with pytest.raises(
        ConfigurationError, match="acquisition 'mes' compares the candidates of a finite pool"
    ):
        Campaign(MIXED, FunctionOracle(mixed_yield, output="y"), "y", acquisition="mes")


def test_a_portfolio_arm_with_max_value_entropy_is_refused_in_a_declared_space():
    arms = [Arm("gp-mes", "gp", "max_value_entropy"), Arm("gp-ei", "gp", "ei")]
    with pytest.raises(ConfigurationError, match="acquisition 'mes' compares the candidates"):
        Campaign(MIXED, FunctionOracle(mixed_yield, output="y"), "y", policy=Portfolio(arms))


SMALL = Space(
    [Integer("n", 1, 4), Categorical("s", ["a", "b"])],
    [Exclusion({"n": [2], "s": ["b"]})],
)  # 7 feasible points


def small_value(candidate) -> float:
    return float(candidate.parameters["n"]) + (candidate.parameters["s"] == "a")


@pytest.mark.parametrize(
    ("surrogate", "acquisition", "design"),
    [("gp", "ucb", "random"), ("gp", "thompson", "lhs"), ("forest", "ei", "kmeans"),
     ("forest", "random", "sobol")],
)  # fmt: skip
def test_a_small_space_of_integers_and_categories_is_measured_once_each_then_ends(
    surrogate, acquisition, design
):
    campaign = Campaign(
        SMALL, FunctionOracle(small_value, output="y"), "y", surrogate=surrogate,
        acquisition=acquisition, initial_design=design, budget=12, n_initial=3,
        batch_size=2, seed=1,
    )  # fmt: skip
    result = campaign.run(progress=False)
    measured = list(result.history[["n", "s"]].itertuples(index=False, name=None))
    assert sorted(measured) == sorted({(n, s) for n in range(1, 5) for s in "ab"} - {(2, "b")})
    assert result.stopped_because == "space exhausted"


def test_asking_more_than_a_small_space_holds_gives_its_new_points_once():
    campaign = Campaign(SMALL, None, "y", surrogate="forest", n_initial=5, seed=0)
    first = campaign.ask(5)
    campaign.tell({"n": int(first["n"].iloc[0]), "s": first["s"].iloc[0]}, 1.0)
    second = campaign.ask(6)
    rows = pd.concat([first, second[second["status"] == "new"]])
    assert len(rows) == 7 and not rows.duplicated(["n", "s"]).any()


@pytest.mark.parametrize("design", ["sobol", "farthest", "kmeans", "random"])
def test_an_initial_design_over_a_grid_offers_no_told_point_and_spreads_away_from_them(design):
    """Points told before the first ask were left out of the initial design: it offered
    a told point again (the farthest design, (1, 1) told and asked). And a design on a
    space of integers took the thousands of repeats in its sample for measured points:
    k-means made 4,092 clusters of 64 points (20 s an ask), the farthest point started
    at random."""
    grid = Space([Integer("n", 1, 8), Integer("m", 1, 8)])
    campaign = Campaign(grid, None, "y", initial_design=design, n_initial=6, seed=0)
    campaign.tell({"n": 1, "m": 1}, 1.0)
    campaign.tell({"n": 8, "m": 8}, 2.0)
    asked = set(campaign.ask(4)[["n", "m"]].itertuples(index=False, name=None))
    assert len(asked) == 4 and not asked & {(1, 1), (8, 8)}
    if design in ("sobol", "farthest"):  # the farthest from the told corners come first
        assert {(1, 8), (8, 1)} <= asked


@pytest.mark.parametrize("seed", [0, pytest.param(2, marks=pytest.mark.slow)])  # 10 s each
def test_a_trust_region_whose_points_are_all_measured_gives_way_to_the_whole_space(seed):
    space = Space([Integer("n", 1, 8), Categorical("s", ["a", "b"])])  # 16 points

    def peak(candidate) -> float:
        return -abs(candidate.parameters["n"] - 5) + (candidate.parameters["s"] == "a")

    campaign = Campaign(
        space, FunctionOracle(peak, output="y"), "y", surrogate="forest", budget=14,
        n_initial=3, seed=seed,
    )  # fmt: skip
    result = campaign.run(progress=False)
    assert len(result.history) == 14 and result.stopped_because == "budget"
    assert not result.history.duplicated(["n", "s"]).any()


def test_constraints_on_small_quantities_hold_as_strictly_as_on_fractions_of_one():
    """Loadings in mol, summing to at most 1 umol: an absolute tolerance of 1e-6 let the
    initial design propose 1.7 umol and took twice the limit for inside."""
    space = Space(
        [Real("cat_a", 0, 1e-6), Real("cat_b", 0, 1e-6)],
        [LinearConstraint({"cat_a": 1, "cat_b": 1}, "<=", 1e-6)],
    )
    assert not space.contains({"cat_a": 1e-6, "cat_b": 1e-6})
    mixture = LinearConstraint({"cat_a": 1, "cat_b": 1}, "==", 1e-6)
    assert not mixture.is_satisfied_by({"cat_a": 0.0, "cat_b": 0.0})
    assert mixture.is_satisfied_by({"cat_a": 4e-7, "cat_b": 6e-7})
    history = (
        Campaign(
            space,
            FunctionOracle(lambda c: c.parameters["cat_a"] + 2 * c.parameters["cat_b"], output="y"),
            "y",
            surrogate="forest",
            budget=8,
            n_initial=5,
            seed=0,
        )
        .run(progress=False)
        .history
    )
    totals = history["cat_a"] + history["cat_b"]
    assert totals.max() <= 1e-6 * (1 + EQUALITY_TOLERANCE)


@pytest.mark.parametrize("acquisition", ["ei", "ucb"])
def test_a_gp_campaign_in_small_units_chooses_what_it_chooses_in_units_of_one(acquisition):
    """A rate in mol/s (values near 1e-9): BoTorch scored the GP's posterior in those
    units, where its variance floor (1e-10) is every point's variance, so EI and UCB
    lost their exploration and the campaign stayed on the broad local maximum."""
    space = Space([Real("a", 0, 1), Real("b", 0, 1)])

    def two_peaks(p):  # a broad local maximum (1) and a narrow global one (2)
        broad = np.exp(-((p["a"] - 0.25) ** 2 + (p["b"] - 0.25) ** 2) / 0.05)
        return broad + 2 * np.exp(-((p["a"] - 0.8) ** 2 + (p["b"] - 0.8) ** 2) / 0.01)

    histories = {}
    for unit in (1.0, 1e-9):
        oracle = FunctionOracle(lambda c, unit=unit: unit * two_peaks(c.parameters), output="rate")
        campaign = Campaign(
            space, oracle, "rate", acquisition=acquisition, budget=10, n_initial=5, seed=0
        )
        histories[unit] = campaign.run(progress=False).history
    chosen = {unit: h[["a", "b"]].to_numpy() for unit, h in histories.items()}
    np.testing.assert_allclose(chosen[1e-9], chosen[1.0], atol=1e-4)
    # the scores stay in the objective's units: log units for EI, mol/s for UCB
    scores = {unit: h["score"].to_numpy(dtype=float)[5:] for unit, h in histories.items()}
    if acquisition == "ei":
        np.testing.assert_allclose(scores[1e-9], scores[1.0] + np.log(1e-9), rtol=1e-4)
    else:
        np.testing.assert_allclose(scores[1e-9], 1e-9 * scores[1.0], rtol=1e-4)


@pytest.mark.parametrize("acquisition", ["ei", "ucb"])
def test_a_rank_warped_gp_chooses_the_same_points_whatever_the_objectives_offset(acquisition):
    """A yield reported on a scale that starts at 1000: BoTorch compared the incumbent
    (1009) with the posterior of a GP that learns the values' normal scores (within
    +-2), so every expected improvement was exp(-10^7) and the search wandered."""
    from discovery.surrogates import GaussianProcessSurrogate

    space = Space([Real("a", 0, 1), Real("b", 0, 1)])

    def hill(p):
        return 10 * np.exp(-20 * ((p["a"] - 0.7) ** 2 + (p["b"] - 0.2) ** 2))

    histories = {}
    for offset in (0.0, 1000.0):
        oracle = FunctionOracle(lambda c, o=offset: o + hill(c.parameters), output="y")
        campaign = Campaign(space, oracle, "y", acquisition=acquisition, budget=9, n_initial=5,
                            surrogate=GaussianProcessSurrogate(output_warping="copula"))  # fmt: skip
        histories[offset] = campaign.run(progress=False).history
    chosen = {offset: h[["a", "b"]].to_numpy() for offset, h in histories.items()}
    np.testing.assert_allclose(chosen[1000.0], chosen[0.0], atol=1e-4)
    if acquisition == "ucb":  # the bound maps back to the objective's units
        scores = {offset: h["score"].to_numpy(dtype=float)[5:] for offset, h in histories.items()}
        np.testing.assert_allclose(scores[1000.0], scores[0.0] + 1000.0, rtol=1e-6)


def test_probability_of_improvement_is_scored_in_log_units_whatever_the_batch():
    """One point's PI was scored as log-PI (-0.61) and a batch's as a probability (0.82),
    so one asynchronous campaign's score column mixed the two."""
    space = Space([Real("a", 0, 1), Real("b", 0, 1)])
    oracle = FunctionOracle(lambda c: -((c.parameters["a"] - 0.4) ** 2), output="y")
    for batch_size in (1, 2):
        campaign = Campaign(space, oracle, "y", acquisition="pi", budget=6, n_initial=4,
                            batch_size=batch_size)  # fmt: skip
        scores = campaign.run(progress=False).history["score"].to_numpy(float)[4:]
        assert np.all(scores <= 0.0), (batch_size, scores)
