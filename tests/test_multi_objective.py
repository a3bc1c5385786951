"""Campaigns that measure several properties: Pareto fronts, desirability, outcome
constraints, and measurements that lack a property."""

import numpy as np
import pandas as pd
import pytest

from discovery import (
    Campaign,
    CandidatePool,
    ConfigurationError,
    FunctionOracle,
    LookupOracle,
    Objective,
    OutcomeConstraint,
    Real,
    Space,
)
from discovery.history import HISTORY_COLUMNS
from discovery.report import load_campaign

TWO = [Objective("near_left"), Objective("near_right")]


def properties(a: float, b: float) -> dict[str, float]:
    """Two objectives in tension (the front is the segment b = 0.5, 0.2 <= a <= 0.8) and
    a third property, ``load``, that a constraint can bound."""
    return {
        "near_left": -((a - 0.2) ** 2) - (b - 0.5) ** 2,
        "near_right": -((a - 0.8) ** 2) - (b - 0.5) ** 2,
        "load": a + b,
    }


def make_pool(n: int = 200) -> CandidatePool:
    rng = np.random.default_rng(0)
    return CandidatePool.from_frame(pd.DataFrame(rng.random((n, 2)), columns=["a", "b"]))


POOL = make_pool()
ORACLE = FunctionOracle(lambda c: properties(c.parameters["a"], c.parameters["b"]))
SPACE = Space([Real("a", 0, 1), Real("b", 0, 1)])


def final_hypervolume(**options) -> float:
    settings = dict(
        objectives=TWO, surrogate="forest", budget=24, n_initial=6, seed=0,
        reference_point=(-0.36, -0.36),
    )  # fmt: skip
    result = Campaign(POOL, ORACLE, **(settings | options)).run(progress=False)
    return float(result.history["hypervolume"].iloc[-1])


@pytest.mark.parametrize("acquisition", ["ehvi", "parego"])
def test_a_forest_pareto_campaign_grows_a_larger_front_than_random_search(acquisition):
    chosen = final_hypervolume(acquisition=acquisition)
    random = [
        final_hypervolume(n_initial=24, initial_design="random", seed=seed) for seed in range(3)
    ]
    assert chosen > max(random)


def test_the_history_flags_the_front_and_its_hypervolume_never_falls():
    result = Campaign(
        POOL, ORACLE, objectives=TWO, surrogate="forest", budget=14, n_initial=6, seed=1
    ).run(progress=False)
    history = result.history
    assert {"near_left", "near_right", "pareto", "hypervolume"} <= set(history.columns)
    assert np.all(np.diff(history["hypervolume"]) >= -1e-12)
    # What the campaign seeks is hypervolume: the best so far, and each measurement's
    # reward the hypervolume it added (not the first objective's value).
    np.testing.assert_allclose(history["best_so_far"], history["hypervolume"])
    np.testing.assert_allclose(history["cumulative_reward"], history["hypervolume"])
    assert history["reward"].min() >= -1e-12 and history["simple_regret"].isna().all()
    front = result.pareto_front()
    assert len(front) == history["pareto"].sum() >= 1
    values = front[["near_left", "near_right"]].to_numpy()
    for row in values:  # no front member is dominated by another measurement
        others = history[["near_left", "near_right"]].to_numpy()
        assert not np.any(np.all(others >= row, axis=1) & np.any(others > row, axis=1))


def test_a_gp_pareto_campaign_over_a_space_proposes_distinct_points_in_the_box():
    result = Campaign(
        SPACE,
        FunctionOracle(lambda c: properties(c.parameters["a"], c.parameters["b"])),
        objectives=TWO,
        budget=10,
        n_initial=4,
        batch_size=2,
        seed=0,
        device="cpu",
    ).run(progress=False)
    history = result.history
    assert len(history) == 10 and history["candidate_id"].is_unique
    assert history["a"].between(0, 1).all() and history["b"].between(0, 1).all()
    assert set(history["acquisition"].iloc[4:]) == {"ehvi"}
    assert history["hypervolume"].iloc[-1] > history["hypervolume"].iloc[3]
    # Every other column is one a parameter may not be named (Campaign refuses those).
    others = set(history.columns) - set(SPACE.names) - {"near_left", "near_right", "load"}
    assert others <= HISTORY_COLUMNS


def test_desirability_turns_several_objectives_into_one_to_maximise():
    objectives = [
        Objective("near_left", "max", bounds=(-0.5, 0.0)),
        Objective("load", "match", target=1.2, bounds=(0.0, 2.0)),
    ]
    result = Campaign(
        POOL, ORACLE, objectives=objectives, mode="desirability", surrogate="forest",
        budget=20, n_initial=5, seed=0,
    ).run(progress=False)  # fmt: skip
    history = result.history
    assert "desirability" in history.columns and "hypervolume" not in history.columns
    best = result.best
    assert best["desirability"] == pytest.approx(history["desirability"].max())
    np.testing.assert_allclose(history["best_so_far"], history["desirability"].cummax())
    np.testing.assert_allclose(history["reward"], history["desirability"])
    assert history["desirability"].iloc[5:].median() > history["desirability"].iloc[:5].median()


def two_peaks(candidate) -> dict[str, float]:
    """A tall peak at (0.25, 0.25), outside the constraint a + b >= 1 (half the square),
    and a lower one at (0.7, 0.7), inside it."""
    a, b = candidate.parameters["a"], candidate.parameters["b"]
    tall = np.exp(-((a - 0.25) ** 2 + (b - 0.25) ** 2) / 0.02)
    low = 0.6 * np.exp(-((a - 0.7) ** 2 + (b - 0.7) ** 2) / 0.02)
    return {"peaks": float(tall + low), "load": a + b}


@pytest.mark.parametrize("where", [SPACE, POOL], ids=["space", "pool"])
def test_outcome_constraints_steer_choices_to_the_feasible_part(where):
    result = Campaign(
        where, FunctionOracle(two_peaks), objectives=[Objective("peaks")],
        outcome_constraints=[OutcomeConstraint("load", ">=", 1.0)], budget=16, n_initial=6,
        seed=0, device="cpu",
    ).run(progress=False)  # fmt: skip
    history = result.history
    chosen = history.iloc[6:]
    assert chosen["feasible"].mean() >= 0.8
    assert (chosen["load"] >= 1.0).mean() >= 0.8
    best = result.best
    assert best["load"] >= 1.0 and best["peaks"] > 0.5  # the lower, feasible peak
    assert best["peaks"] == history.loc[history["feasible"], "peaks"].max()


def test_a_measurement_without_a_property_is_kept_and_one_without_the_key_fails():
    def flaky(candidate):
        values = properties(candidate.parameters["a"], candidate.parameters["b"])
        if candidate.parameters["a"] < 0.3:
            values["near_right"] = None  # measured, but this property came out empty
        if candidate.parameters["b"] < 0.2:
            del values["near_left"]  # the instrument never reported it
        return values

    result = Campaign(
        POOL, FunctionOracle(flaky), objectives=TWO, surrogate="forest", budget=16,
        n_initial=5, seed=0,
    ).run(progress=False)  # fmt: skip
    history = result.history
    assert len(history) == 16
    failed = history[history["state"] == "failed"]
    assert len(failed) >= 1 and failed["error"].str.contains("no 'near_left'").all()
    kept = history[(history["state"] == "succeeded") & history["near_right"].isna()]
    assert len(kept) >= 1 and kept["near_left"].notna().all()


def test_only_a_feasible_measurement_reaches_the_target(tmp_path):
    """y and impurity rise together; the constraint keeps y below 0.5, so a target of 0.8
    is never met by a feasible measurement and the whole budget is spent."""
    line = CandidatePool.from_frame(pd.DataFrame({"x": np.linspace(0, 1, 60)}))
    oracle = FunctionOracle(lambda c: {"y": c.parameters["x"], "impurity": c.parameters["x"]})
    store = tmp_path / "constrained.sqlite"
    result = Campaign(
        line, oracle, objective="y", outcome_constraints=[OutcomeConstraint("impurity", "<=", 0.5)],
        target=0.8, budget=12, n_initial=5, seed=0, surrogate="forest", store=store,
    ).run(progress=False)  # fmt: skip
    assert (result.history["y"] >= 0.8).any()  # measured, but infeasible
    assert result.stopped_because == "budget" and len(result.history) == 12
    assert load_campaign(store).result.stopped_because == "budget"


def test_a_missing_first_objective_leaves_the_target_in_force(tmp_path):
    calls = []

    def unread_first(candidate):
        calls.append(candidate)
        values = properties(candidate.parameters["a"], candidate.parameters["b"])
        return values | {"near_left": None} if len(calls) == 1 else values

    store = tmp_path / "target.sqlite"
    result = Campaign(
        POOL, FunctionOracle(unread_first), objectives=TWO, target=-0.2, surrogate="forest",
        budget=30, n_initial=5, seed=0, store=store,
    ).run(progress=False)  # fmt: skip
    history = result.history
    assert history["near_left"].isna().iloc[0]
    reached = np.flatnonzero(history["near_left"].to_numpy() >= -0.2)
    assert result.stopped_because == "target" and len(history) == max(5, reached[0] + 1)
    assert load_campaign(store).result.stopped_because == "target"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"objective": "y"}, "give objective='y' or objectives"),
        ({"acquisition": "ucb"}, "Pareto front is sought with acquisition 'ehvi'"),
        ({"objectives": [Objective("x"), Objective("x")]}, "duplicated objective names"),
        ({"reference_point": (0.0,)}, "reference point has 1 values"),
        ({"mode": "desirability"}, "needs bounds"),
        (
            {"outcome_constraints": [OutcomeConstraint("near_left", "<=", 0)]},
            "objectives and outcome constraints at once",
        ),
        (
            {"outcome_constraints": OutcomeConstraint("load", "<=", 1)},
            "outcome_constraints must be a list of OutcomeConstraint",
        ),
        ({"maximize": False}, "maximize and closest_to are for one objective"),
        ({"closest_to": 0.0}, "maximize and closest_to are for one objective"),
        (
            {"objectives": [Objective("near_left", weight=3), Objective("near_right")]},
            r"weights on \['near_left'\] are for mode 'desirability'",
        ),
        (
            {
                "objectives": [Objective(n, bounds=(-1, 0)) for n in ("near_left", "near_right")],
                "mode": "desirability",
                "reference_point": (-1, -1),
            },
            "reference point measures the hypervolume of a Pareto front",
        ),
    ],
)
def test_bad_multi_objective_settings_fail_before_any_experiment(options, message):
    calls = []

    def counted(candidate):
        calls.append(candidate)
        return properties(0.5, 0.5)

    with pytest.raises(ConfigurationError, match=message):
        Campaign(POOL, FunctionOracle(counted), **({"objectives": TWO} | options))
    assert calls == []


def test_bounds_weights_and_points_taken_off_a_table_are_numbers_enough():
    table = pd.DataFrame({"low": [-1, -2], "high": [0, 1], "weight": [2, 1]})
    objectives = [
        Objective(name, bounds=(table["low"].min(), table["high"].max()), weight=table["weight"][i])
        for i, name in enumerate(["near_left", "near_right"])
    ]
    assert isinstance(table["weight"][0], np.integer)
    campaign = Campaign(
        POOL, ORACLE, objectives=objectives, mode="desirability", surrogate="forest",
        outcome_constraints=[OutcomeConstraint("load", "<=", table["high"].max() + 1)],
        budget=6, n_initial=4,
    )  # fmt: skip
    assert campaign.outcomes.objectives[0].weight == 2.0
    assert len(campaign.run(progress=False).history) == 6  # stored as JSON, run through
    pareto = Campaign(POOL, ORACLE, objectives=TWO, reference_point=np.array([-1, -1]))
    assert pareto.outcomes.reference_point == (-1.0, -1.0)


def test_an_emulator_without_a_named_property_is_refused_at_construction():
    frame = POOL.frame.assign(**properties(POOL.frame["a"], POOL.frame["b"]))
    columns = ["a", "b", "near_left", "near_right", "load"]
    pool = CandidatePool.from_frame(frame[columns], features=["a", "b"])
    emulator = LookupOracle.from_pool(pool, "near_left", others=["near_right", "load"])
    for options in (
        {"objectives": [Objective("near_left"), Objective("near_rihgt")]},
        {"objective": "near_left", "outcome_constraints": [OutcomeConstraint("lod", "<=", 1)]},
    ):
        with pytest.raises(
            ConfigurationError, match=r"reports \['near_left', 'near_right', 'load'\]"
        ):
            Campaign(pool, emulator, **options)
    Campaign(
        pool, emulator, objectives=TWO, outcome_constraints=[OutcomeConstraint("load", "<=", 1)]
    )


def test_a_multi_objective_campaign_resumes_from_its_store(tmp_path):
    store = tmp_path / "front.sqlite"
    settings = dict(objectives=TWO, surrogate="forest", n_initial=5, seed=2, store=store)
    Campaign(POOL, ORACLE, budget=9, **settings).run(progress=False)
    resumed = Campaign.resume(store, ORACLE, budget=15).run(progress=False)
    whole = Campaign(POOL, ORACLE, budget=15, **(settings | {"store": None})).run(progress=False)
    columns = ["candidate_id", "near_left", "near_right", "pareto", "hypervolume"]
    pd.testing.assert_frame_equal(resumed.history[columns], whole.history[columns])


def test_the_reported_hypervolume_grows_when_a_measurement_dominates_the_front(tmp_path):
    store = tmp_path / "dominated.sqlite"
    objectives = [Objective("y", "max"), Objective("cost", "min")]
    campaign = Campaign(POOL, None, objectives=objectives, surrogate="forest", store=store)
    reported = []
    for candidate, measured in zip(POOL.ids, [(1.0, 5.0), (2.0, 6.0), (3.0, 4.0)], strict=False):
        campaign.tell(str(candidate), {"y": measured[0], "cost": measured[1]})
        result = load_campaign(store).result
        reported.append(result.summary()["hypervolume"])
    assert reported[2] > reported[1] > reported[0] > 0  # the third beats both on both


@pytest.mark.parametrize("surrogate", ["forest", "gp"])
def test_a_front_is_sought_once_one_measurement_has_every_objective(surrogate):
    """The first two experiments lack near_right, the next two near_left: each objective
    has measurements, none has both, so there is no front to improve on yet."""
    calls = []

    def half_read(candidate):
        calls.append(candidate)
        values = properties(candidate.parameters["a"], candidate.parameters["b"])
        missing = "near_right" if len(calls) <= 2 else "near_left" if len(calls) <= 4 else None
        return values | ({missing: None} if missing else {})

    result = Campaign(
        POOL, FunctionOracle(half_read), objectives=TWO, surrogate=surrogate, budget=8,
        n_initial=4, seed=0, device="cpu",
    ).run(progress=False)  # fmt: skip
    history = result.history
    assert len(history) == 8 and (history["state"] == "succeeded").all()
    assert history["pareto"].sum() >= 1


def test_ask_and_tell_with_a_dict_of_properties_per_measurement(tmp_path):
    store = tmp_path / "told.sqlite"
    campaign = Campaign(
        POOL, None, objectives=TWO, surrogate="forest", n_initial=4, seed=0, store=store
    )
    for _ in range(3):
        for row in campaign.ask(2).itertuples():
            campaign.tell(row.candidate_id, properties(row.a, row.b))
    with pytest.raises(ConfigurationError, match="must be a dict of the measured properties"):
        campaign.tell(str(POOL.ids[-1]), 0.5)
    with pytest.raises(ConfigurationError, match="has no 'near_right'"):
        campaign.tell(str(POOL.ids[-1]), {"near_left": 0.5})
    frame = pd.DataFrame(
        [{"candidate_id": str(POOL.ids[-1]), "near_left": -0.1, "near_right": None}]
    )
    campaign.tell(frame)
    history = Campaign.resume(store, ORACLE, budget=7).run(progress=False).history
    assert len(history) == 7 and history["pareto"].sum() >= 1
    told = history[history["candidate_id"] == str(POOL.ids[-1])].iloc[0]
    assert told["near_left"] == -0.1 and np.isnan(told["near_right"])


def test_status_and_export_show_every_objective_and_the_front(tmp_path):
    from typer.testing import CliRunner

    from discovery.cli import app

    store = tmp_path / "front.sqlite"
    Campaign(
        POOL, ORACLE, objectives=TWO, outcome_constraints=[OutcomeConstraint("load", "<=", 1.5)],
        surrogate="forest", budget=10, n_initial=5, seed=0, store=store,
    ).run(progress=False)  # fmt: skip
    status = CliRunner().invoke(app, ["status", str(store)], env={"COLUMNS": "200"})
    assert status.exit_code == 0, status.output
    assert "near_left (max), near_right (max); subject to load <= 1.5" in status.output
    assert "Pareto front" in status.output and "hypervolume" in status.output
    exported = tmp_path / "front.csv"
    result = CliRunner().invoke(app, ["export", str(store), "-o", str(exported)])
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(exported)
    assert {"near_left", "near_right", "load", "feasible", "pareto", "hypervolume"} <= set(
        frame.columns
    )


def test_a_portfolio_over_a_front_credits_arms_with_the_hypervolume_they_add():
    from discovery.policy import Portfolio

    policy = Portfolio(["forest-ehvi", "forest-parego", "random"], "exp3", "hypervolume")
    result = Campaign(
        POOL, ORACLE, objectives=TWO, policy=policy, budget=18, n_initial=5, seed=0
    ).run(progress=False)
    history = result.history
    assert len(history) == 18 and history["candidate_id"].is_unique
    assert set(history["arm"].dropna()) <= {"forest-ehvi", "forest-parego", "random"}
    credits = [c for record in result.policy for c in record["credits"].values()]
    assert credits and all(0.0 <= c <= 1.0 for c in credits) and max(credits) > 0
    assert history["hypervolume"].iloc[-1] > history["hypervolume"].iloc[4]


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        (("forest-ehvi", "random"), "Portfolio\\(..., reward='hypervolume'\\)"),
        (("forest-ehvi", "gp-ei"), "\\['gp-ei'\\] are not"),
    ],
)
def test_a_portfolio_over_a_front_names_what_it_needs(policy, message):
    from discovery.policy import Portfolio

    arms, reward = policy, "objective" if "gp-ei" not in policy else "hypervolume"
    with pytest.raises(ConfigurationError, match=message):
        Campaign(POOL, ORACLE, objectives=TWO, policy=Portfolio(list(arms), "exp3", reward))


@pytest.mark.slow  # end to end, 9-18 s; the same invariant stays in the default run
def test_a_forest_pareto_campaign_over_a_space_beats_random_search():
    def hypervolume(**options) -> float:
        settings = dict(
            objectives=TWO, surrogate="forest", budget=20, n_initial=6, seed=0,
            reference_point=(-0.36, -0.36),
        )  # fmt: skip
        oracle = FunctionOracle(lambda c: properties(c.parameters["a"], c.parameters["b"]))
        result = Campaign(SPACE, oracle, **(settings | options)).run(progress=False)
        return float(result.history["hypervolume"].iloc[-1])

    chosen = hypervolume()
    random = [hypervolume(n_initial=20, initial_design="random", seed=s) for s in range(3)]
    assert chosen > max(random)


#: Units of about 1e-6, 1e-9 and 1e-12 that are powers of two: measurements in them are
#: those in units of 1 to the last bit, so whatever a campaign does differently in them
#: is its own doing.
MICRO, NANO, PICO = 2.0**-20, 2.0**-30, 2.0**-40


def chosen_in_units(unit: float, surrogate: str) -> list[str]:
    """The candidates a campaign chooses, seeking the tall peak of :func:`two_peaks`
    under ``load >= 1``, with the load measured in ``unit``."""

    def measure(candidate):
        values = two_peaks(candidate)
        return values | {"load": values["load"] * unit}

    result = Campaign(
        POOL, FunctionOracle(measure), objectives=[Objective("peaks")],
        outcome_constraints=[OutcomeConstraint("load", ">=", 1.0 * unit)], surrogate=surrogate,
        acquisition="ei", budget=14, n_initial=6, seed=0, device="cpu",
    ).run(progress=False)  # fmt: skip
    return result.history["candidate_id"].tolist()


@pytest.mark.parametrize(("surrogate", "unit"), [("forest", PICO), ("gp", MICRO)])
def test_an_outcome_constraint_in_small_units_is_kept_as_in_units_of_one(surrogate, unit):
    """A floor on the predicted spread of the load in absolute terms (1e-9 for a
    forest, GPyTorch's 1e-10 on a GP's variance) made every candidate look half
    feasible once the load was measured in micro- or picounits."""
    assert chosen_in_units(unit, surrogate) == chosen_in_units(1.0, surrogate)


@pytest.mark.parametrize("surrogate", ["forest", "gp"])
def test_a_pareto_campaign_in_small_units_chooses_and_measures_as_in_units_of_one(surrogate):
    """BoTorch infers the reference point with each objective's range floored at an
    absolute 1e-8, and smooths a GP's hypervolume improvement over an absolute 1e-6: a
    front in nanounits got a reference point far below it, reported a hypervolume
    dominated by that gap, and chose other candidates."""
    runs = {}
    for unit in (1.0, NANO):
        oracle = FunctionOracle(
            lambda c, unit=unit: {
                name: value * unit
                for name, value in properties(c.parameters["a"], c.parameters["b"]).items()
            }
        )
        campaign = Campaign(
            POOL,
            oracle,
            objectives=TWO,
            surrogate=surrogate,
            budget=12,
            n_initial=5,
            seed=0,
            device="cpu",
        )
        runs[unit] = campaign.run(progress=False).history
    assert runs[NANO]["candidate_id"].tolist() == runs[1.0]["candidate_id"].tolist()
    np.testing.assert_allclose(
        runs[NANO]["hypervolume"] / NANO**2, runs[1.0]["hypervolume"], rtol=1e-12
    )


@pytest.mark.parametrize("mode", ["desirability", "parego"])
def test_a_gp_chooses_when_the_only_feasible_measurement_lacks_an_objective(mode):
    """The one measurement within the impurity bound came back without its yield (None,
    kept as unmeasured): asking for the next experiment crashed inside BoTorch with
    "X must have at least one point"."""
    pool = CandidatePool.from_frame(
        pd.DataFrame({"a": np.linspace(0, 1, 20), "b": np.linspace(0, 1, 20) ** 2})
    )
    bounds = {"bounds": (0, 10)} if mode == "desirability" else {}
    objectives = [Objective("y1", "max", **bounds), Objective("y2", "min", **bounds)]
    options = {"mode": "desirability"} if mode == "desirability" else {"acquisition": "parego"}
    impurity = [OutcomeConstraint("imp", "<=", 1)]
    campaign = Campaign(pool, None, objectives=objectives, outcome_constraints=impurity,
                        surrogate="gp", budget=10, n_initial=2, **options)  # fmt: skip
    campaign.tell(pd.DataFrame({"candidate_id": ["0", "5", "9"], "y1": [5.0, None, 7.0],
                                "y2": [3.0, 2.0, 4.0], "imp": [2.0, 0.5, 3.0]}))  # fmt: skip
    suggestion = campaign.ask(1)
    assert suggestion["candidate_id"].iloc[0] not in {"0", "5", "9"}
    assert np.isfinite(float(suggestion["score"].iloc[0]))  # chosen by the models


def test_a_gp_learning_warped_objectives_chooses_the_same_whatever_their_offset():
    """Two objectives reported on scales that start at 1000: BoTorch measured the
    hypervolume of GPs learning the values' normal scores (within +-2) from a reference
    point near 1000, nothing could improve on it, and the choice was arbitrary."""
    from discovery.surrogates import GaussianProcessSurrogate

    features = np.random.default_rng(0).random((60, 2)).round(3)
    pool = CandidatePool.from_frame(pd.DataFrame(features, columns=["a", "b"]))
    told = pd.DataFrame({"candidate_id": [str(r) for r in range(8)]})
    told["p"] = np.sin(3 * features[:8, 0]) + features[:8, 1]
    told["q"] = np.cos(2 * features[:8, 1]) + 0.5 * features[:8, 0]
    chosen = {}
    for offset in (0.0, 1000.0):
        warped = GaussianProcessSurrogate(output_warping="copula")
        campaign = Campaign(pool, None, objectives=[Objective("p"), Objective("q")],
                            reference_point=[offset + 0.2, offset], n_initial=2, budget=30,
                            surrogate=warped)  # fmt: skip
        campaign.tell(told.assign(p=told["p"] + offset, q=told["q"] + offset))
        chosen[offset] = list(campaign.ask(2)["candidate_id"])
    assert chosen[1000.0] == chosen[0.0]


@pytest.mark.parametrize("warping", [None, "power"])
def test_a_gp_learning_warped_slacks_keeps_to_the_constraints_bound(warping):
    """An impurity bound learned by a GP on Yeo-Johnson-warped slacks was judged
    against a warped slack of 0, not the bound's own: the campaign suggested an impurity
    of 1.3 where the bound is 1, while the unwarped GP suggested the bound's edge."""
    from discovery.surrogates import GaussianProcessSurrogate

    a = np.round(np.linspace(0, 1, 41), 3)
    pool = CandidatePool.from_frame(pd.DataFrame({"a": a}))
    campaign = Campaign(pool, None, "y", outcome_constraints=[OutcomeConstraint("imp", "<=", 1)],
                        surrogate=GaussianProcessSurrogate(output_warping=warping), n_initial=2,
                        budget=30)  # fmt: skip
    rows = [0, 2, 4, 6, 8, 20, 36]  # feasible up to a = 0.25
    campaign.tell(pd.DataFrame({"candidate_id": [str(r) for r in rows], "y": a[rows],
                                "imp": 4 * a[rows]}))  # fmt: skip
    assert float(campaign.ask(1)["a"].iloc[0]) == 0.25


def test_a_gp_under_an_outcome_constraint_chooses_alike_in_small_units():
    """A yield in mol/s (near 1e-9) under an impurity bound: BoTorch smoothed every
    improvement over an absolute 1e-6, every candidate scored alike (log EI -14.05) and
    the campaign chose other candidates than in units of one."""
    features = np.random.default_rng(1).random((80, 2)).round(3)
    pool = CandidatePool.from_frame(pd.DataFrame(features, columns=["a", "b"]))
    a, b = features[:10, 0], features[:10, 1]
    rate = np.exp(-((a - 0.8) ** 2 + (b - 0.3) ** 2) / 0.05) + 0.8 * np.exp(
        -((a - 0.2) ** 2 + (b - 0.7) ** 2) / 0.1
    )
    told = pd.DataFrame({"candidate_id": [str(r) for r in range(10)], "imp": a + b})
    suggestions = {}
    for unit in (1.0, 1e-9):
        bound = [OutcomeConstraint("imp", "<=", 0.9)]
        campaign = Campaign(pool, None, "y", outcome_constraints=bound, surrogate="gp",
                            acquisition="ei", n_initial=2, budget=40)  # fmt: skip
        campaign.tell(told.assign(y=unit * rate))
        suggestions[unit] = campaign.ask(3)
    small, one = suggestions[1e-9], suggestions[1.0]
    assert list(small["candidate_id"]) == list(one["candidate_id"])
    scores = small["score"].to_numpy(float)
    np.testing.assert_allclose(scores, one["score"].to_numpy(float) + np.log(1e-9), rtol=1e-6)


def test_a_pareto_store_written_with_bounds_still_opens(tmp_path):
    """Bounds on a Pareto front's objectives are refused now (they never acted there);
    a store begun with them before must still open, resume and take the same campaign."""
    import json
    import sqlite3

    pool = CandidatePool.from_frame(pd.DataFrame({"a": np.linspace(0, 1, 20)}))
    path = tmp_path / "front.sqlite"
    objectives = [Objective("y1", "max"), Objective("y2", "min")]
    Campaign(pool, None, objectives=objectives, surrogate="forest", budget=10, store=path).ask(1)
    with sqlite3.connect(path) as db:  # as an earlier version wrote it
        (text,) = db.execute("SELECT config_json FROM campaign").fetchone()
        config = json.loads(text)
        for objective in config["objectives"]["objectives"]:
            objective["bounds"] = [0.0, 10.0]
        db.execute("UPDATE campaign SET config_json = ?", (json.dumps(config),))
    db.close()
    assert len(Campaign.resume(path).ask(1)) == 2
    again = Campaign(pool, None, objectives=objectives, surrogate="forest", budget=10, store=path)
    assert list(again.ask(1)["status"]) == ["pending", "pending", "new"]


@pytest.mark.parametrize("acquisition", ["ucb", "greedy", "uncertainty", "pi"])
def test_a_gp_over_several_outcomes_refuses_an_acquisition_it_would_not_use(acquisition):
    """A GP chooses by BoTorch's noisy EI there: acquisition 'uncertainty' (pure
    exploration) chose the very candidates 'ei' did, silently."""
    desirable = {
        "objectives": [
            Objective("near_left", "max", bounds=(-0.5, 0.0)),
            Objective("near_right", "max", bounds=(-0.5, 0.0)),
        ],
        "mode": "desirability",
    }
    bounded = {
        "objective": "near_left",
        "outcome_constraints": [OutcomeConstraint("load", "<=", 1)],
    }
    refused = rf"noisy expected improvement .*not '{acquisition}'"
    with pytest.raises(ConfigurationError, match=refused):
        Campaign(POOL, ORACLE, surrogate="gp", acquisition=acquisition, **desirable)
    if acquisition == "pi":  # the one beside 'ei' that outcome constraints can weight
        with pytest.raises(ConfigurationError, match=refused):
            Campaign(POOL, ORACLE, surrogate="gp", acquisition=acquisition, **bounded)
    Campaign(POOL, ORACLE, surrogate="forest", acquisition=acquisition, **desirable)  # honoured


def test_hyperparameter_draws_are_refused_where_botorch_would_ignore_them():
    """The draws average a GP's pool predictions; BoTorch proposed from the fitted
    hyper-parameters alone over a space or several outcomes, bit for bit as without them."""
    from discovery.surrogates import GaussianProcessSurrogate

    drawn = GaussianProcessSurrogate(hyperparameter_draws=8)
    with pytest.raises(ConfigurationError, match="over a declared space BoTorch proposes"):
        Campaign(SPACE, None, "near_left", surrogate=drawn, acquisition="ucb")
    with pytest.raises(ConfigurationError, match="over several outcomes BoTorch proposes"):
        Campaign(POOL, ORACLE, objectives=TWO, surrogate=drawn)
    Campaign(POOL, ORACLE, "near_left", surrogate=drawn, acquisition="ucb")  # a pool: used
