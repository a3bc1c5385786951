import re

import numpy as np
import pandas as pd
import pytest

from discovery import (
    Campaign,
    CandidatePool,
    ConfigurationError,
    FunctionOracle,
    LookupOracle,
)
from discovery.policy import Portfolio
from discovery.surrogates import GaussianProcessSurrogate, RandomForestSurrogate


def make_pool(n: int = 150, seed: int = 0) -> CandidatePool:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(rng.random((n, 2)), columns=["a", "b"])
    frame["y"] = -((frame["a"] - 0.7) ** 2) - (frame["b"] - 0.3) ** 2
    return CandidatePool.from_frame(frame, objective="y")


POOL = make_pool()
ORACLE = LookupOracle.from_pool(POOL, "y")


def campaign(**options) -> Campaign:
    settings = dict(surrogate="forest", acquisition="ei", budget=20, n_initial=4, seed=0)
    settings.update(options)
    return Campaign(POOL, ORACLE, "y", **settings)


def test_same_seed_gives_the_same_choices():
    first = campaign(seed=3).run(progress=False).history["candidate_id"].tolist()
    second = campaign(seed=3).run(progress=False).history["candidate_id"].tolist()
    other = campaign(seed=4).run(progress=False).history["candidate_id"].tolist()
    assert first == second
    assert first != other


@pytest.mark.parametrize("surrogate", ["forest", "gp"])
@pytest.mark.parametrize("acquisition", ["ei", "ucb", "thompson", "random", "mes"])
def test_no_candidate_is_measured_twice(surrogate, acquisition):
    result = campaign(surrogate=surrogate, acquisition=acquisition, batch_size=3, budget=16).run(
        progress=False
    )
    ids = result.history["candidate_id"]
    assert len(ids) == 16 and ids.is_unique


def test_history_records_every_experiment_with_the_best_so_far():
    result = campaign().run(progress=False)
    history = result.history
    assert list(history["iteration"][:4]) == [0, 0, 0, 0]
    assert list(history["iteration"][4:]) == list(range(1, 17))
    np.testing.assert_allclose(history["best_so_far"], np.maximum.accumulate(history["y"]))
    assert (history["fit_seconds"][4:] > 0).all()
    assert result.summary()["best_value"] == history["y"].max()


def test_minimisation_is_first_class():
    result = campaign(maximize=False, acquisition="greedy", budget=12).run(progress=False)
    history = result.history
    np.testing.assert_allclose(history["best_so_far"], np.minimum.accumulate(history["y"]))
    assert result.best["y"] == history["y"].min()


def test_campaign_stops_when_the_target_is_reached():
    target = float(np.sort(POOL.frame["y"])[-20])  # the 20th best value
    result = campaign(target=target, budget=100).run(progress=False)
    assert result.stopped_because == "target"
    history = result.history
    first_hit = int(np.argmax(history["y"].to_numpy() >= target))
    assert history["iteration"][first_hit] == history["iteration"].iloc[-1]  # no lap after it
    assert len(history) < 100


def test_a_target_objective_homes_in_on_its_value_and_stops_within_tolerance():
    goal = -0.1  # y ranges over about [-0.58, 0]: a ring of designs around the optimum
    pool = make_pool(600, seed=1)
    distance = (pool.frame["y"] - goal).abs()
    ring = Campaign(
        pool,
        LookupOracle.from_pool(pool, "y"),
        "y",
        surrogate="forest",
        seed=0,
        closest_to=goal,
        acquisition="greedy",
        budget=40,
        n_initial=4,
    )
    result = ring.run(progress=False)
    history = result.history
    best = history["best_so_far"].to_numpy()
    assert np.all(np.diff(np.abs(best - goal)) <= 0)  # best-so-far only moves closer
    assert result.best["y"] == history.loc[(history["y"] - goal).abs().idxmin(), "y"]
    later = (history["y"][20:] - goal).abs().median()
    assert later < distance.median() / 3  # the model learned where the ring lies
    tolerance = float(np.sort(distance)[5])
    stopped = campaign(closest_to=goal, target=tolerance, budget=100).run(progress=False)
    assert stopped.stopped_because == "target"
    assert abs(stopped.best["y"] - goal) <= tolerance and len(stopped.history) < 100


def test_an_oracle_failure_is_recorded_and_the_campaign_goes_on():
    def flaky(candidate):
        if candidate.parameters["a"] < 0.3:
            raise RuntimeError("sample cracked")
        return candidate.parameters["a"]

    result = Campaign(
        POOL, FunctionOracle(flaky, output="y"), "y", surrogate="forest", budget=20, seed=1
    ).run(progress=False)
    history = result.history
    failed = history[history["state"] == "failed"]
    assert len(history) == 20 and len(failed) >= 1
    assert failed["error"].str.contains("sample cracked").all()
    assert failed["y"].isna().all()
    assert history["candidate_id"].is_unique


def test_a_result_without_the_objective_fails_that_experiment_only():
    oracle = FunctionOracle(lambda c: {"energy": 1.0, "gap": 2.0})
    result = Campaign(POOL, oracle, "y", surrogate="forest", budget=6, n_initial=2).run(
        progress=False
    )
    assert (result.history["state"] == "failed").all()
    assert result.history["error"].str.contains("result has no 'y'").all()


def test_replace_validates_again():
    assert campaign().replace(budget=30).config.budget == 30
    with pytest.raises(ConfigurationError, match="budget"):
        campaign().replace(budget=2)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"budget": 3, "n_initial": 5}, r"budget \(3\) is smaller than the initial design"),
        ({"batch_size": 200}, r"batch_size \(200\) is larger than the pool remaining"),
        ({"acquisition": "expected_improvment"}, "unknown name 'expected_improvment'"),
        ({"surrogate": "svm"}, "surrogate: unknown name 'svm'"),
        ({"budget": 500}, r"budget \(500\) is larger than the pool"),
        ({"n_initial": 0}, "n_initial must be >= 1"),
        ({"surrogate": "gp", "device": "gpu"}, "device: expected one of"),
        (
            {"acquisition": "ucb", "acquisition_params": {"beta": "2"}},
            "beta must be a finite number >= 0, got '2'",
        ),
        (
            {"surrogate": GaussianProcessSurrogate(lengthscale_prior="Gamma")},
            "lengthscale_prior must be one of",
        ),
        (
            {"surrogate": RandomForestSurrogate(n_estimators=0)},
            "n_estimators must be an integer >= 1, got 0",
        ),
    ],
)
def test_bad_configuration_is_refused_before_any_experiment(options, message):
    calls = []
    oracle = FunctionOracle(lambda c: calls.append(c) or 1.0, output="y")
    settings = dict(surrogate="forest", budget=20, n_initial=4) | options
    with pytest.raises(ConfigurationError, match=message):
        Campaign(POOL, oracle, "y", **settings)
    assert calls == []


@pytest.mark.parametrize(
    "arms", [["forest-ehvi", "forest-parego"], ["gp-ei", "forest-ehvi", "random"]]
)
def test_a_one_objective_portfolio_refuses_arms_that_seek_a_pareto_front(arms):
    # over one objective an ehvi or parego arm would run plain EI under a Pareto name
    calls = []
    oracle = FunctionOracle(lambda c: calls.append(c) or 1.0, output="y")
    pareto = [arm for arm in arms if "ehvi" in arm or "parego" in arm]
    with pytest.raises(ConfigurationError, match=re.escape(f"arms {pareto} seek a Pareto front")):
        Campaign(POOL, oracle, "y", budget=10, n_initial=4, policy=Portfolio(arms, "exp3"))
    assert calls == []


@pytest.mark.parametrize("size", [1, 5])
def test_an_initial_design_of_the_whole_pool_measures_every_candidate(size):
    small = CandidatePool.from_frame(pd.DataFrame({"x": np.arange(size, dtype=float)}))
    oracle = FunctionOracle(lambda c: c.parameters["x"] ** 2, output="y")
    result = Campaign(small, oracle, "y", budget=size, n_initial=size).run(progress=False)
    assert sorted(result.history["candidate_id"]) == sorted(small.ids)
    assert result.stopped_because == "budget"


def test_an_oracle_reporting_another_objective_is_refused():
    with pytest.raises(ConfigurationError, match="objective 'z' but the oracle reports 'y'"):
        Campaign(POOL, ORACLE, "z")


def test_an_oracle_missing_pool_candidates_is_refused():
    partial = LookupOracle({"0": 1.0, "1": 2.0}, "y")
    with pytest.raises(ConfigurationError, match="no value for 148 pool candidates"):
        Campaign(POOL, partial, "y")


def test_neural_surrogate_runs_a_campaign_and_diagnostics_are_stored():
    import json

    run = campaign(surrogate="neural", budget=12, n_initial=4, diagnose_every=4)
    result = run.run(progress=False)
    assert len(result.history) == 12 and result.history["candidate_id"].is_unique
    stored = result.history.drop_duplicates("iteration")["diagnostics_json"].dropna()
    scores = [json.loads(s) for s in stored]
    assert len(scores) == 2  # iterations 4 and 8
    assert all(s["mae"] > 0 and 0 <= s["coverage_95"] <= 1 for s in scores)


def test_parameters_named_like_the_columns_ask_reports_are_refused():
    frame = pd.DataFrame({"status": np.linspace(0, 1, 10), "score": np.linspace(1, 2, 10)})
    with pytest.raises(ConfigurationError, match=r"parameters named \['score', 'status'\]"):
        Campaign(CandidatePool.from_frame(frame), None, "y")


def test_space_parameters_named_like_a_history_column_or_the_objective_are_refused():
    """A parameter named 'state' read 'succeeded' in the history and was missing from the
    export; one named like the objective could not be told apart from it."""
    from discovery import Integer, Real, Space

    space = Space([Real("x", 0, 1), Integer("state", 1, 3), Real("y", 0, 1)])
    with pytest.raises(ConfigurationError, match=r"parameters named \['state', 'y'\]"):
        Campaign(space, None, "y")
    with pytest.raises(ConfigurationError, match=r"parameters named \['reward'\]"):
        Campaign(Space([Real("reward", 0, 1)]), None, "strength")
    Campaign(Space([Real("x", 0, 1)]), None, "strength")  # ordinary names are fine


def test_a_store_begun_with_such_a_name_goes_on_with_a_warning(tmp_path, monkeypatch):
    """A space campaign stored before the names were refused could not be resumed."""
    import discovery.campaign as campaign_module
    from discovery import Real, Space

    path = tmp_path / "old.sqlite"
    monkeypatch.setattr(campaign_module, "HISTORY_COLUMNS", frozenset())  # the code before
    Campaign(Space([Real("x", 0, 1), Real("kind", 0, 1)]), None, "y", store=path).ask(2)
    monkeypatch.undo()
    with pytest.warns(UserWarning, match=r"\['kind'\].*the store keeps them"):
        resumed = Campaign.resume(path)
    assert list(resumed.ask(1)["status"]) == ["pending", "pending", "new"]
    with pytest.warns(UserWarning):
        again = Campaign.resume(path, FunctionOracle(lambda c: 1.0, output="y"))
    with pytest.raises(ConfigurationError, match="rename them before starting afresh"):
        again.run(new=True, progress=False)  # a new store is refused them, as any is
    (tmp_path / "empty.sqlite").touch()
    with pytest.raises(ConfigurationError, match="rename them"):
        Campaign(Space([Real("kind", 0, 1)]), None, "y", store=tmp_path / "empty.sqlite")


def test_the_initial_design_lasts_n_initial_designs_when_asked_one_at_a_time():
    """Asked one suggestion at a time, the second came from a model fitted on a single
    result: the four-point initial design was one point."""
    manual = Campaign(POOL, None, "y", surrogate="forest", acquisition="ei", n_initial=4, seed=0)
    for _ in range(5):
        (asked,) = manual.ask(1).query("status == 'new'")["candidate_id"]
        manual.tell(asked, float(POOL.frame.loc[asked, "y"]))
    iterations = manual._memory_store.history("y")
    assert list(iterations["acquisition"]) == ["kmeans"] * 4 + ["ei"]


def test_results_told_before_a_run_count_towards_its_initial_design():
    """One result told before the run made the whole four-point initial design model
    choices from that one point."""
    run = campaign(budget=7)
    run.tell("3", float(POOL.frame.loc["3", "y"]))
    history = run.run(progress=False).history
    chosen = history.dropna(subset=["iteration"])
    assert list(chosen["acquisition"]) == ["kmeans"] * 3 + ["ei"] * 3


def test_the_progress_bar_shows_names_as_written(capsys):
    """A campaign named "n [/x]" failed in Rich's markup parser at its first step, and an
    objective "y{1}" would have been read as a format field."""
    frame = pd.DataFrame({"a": np.linspace(0, 1, 20)})
    frame["y{1} [/s]"] = frame["a"] ** 2
    pool = CandidatePool.from_frame(frame, objective="y{1} [/s]")
    oracle = LookupOracle.from_pool(pool, "y{1} [/s]")
    Campaign(
        pool, oracle, "y{1} [/s]", surrogate="forest", budget=5, n_initial=3, name="n [/x]"
    ).run(progress=True)
    shown = capsys.readouterr().out
    assert "n [/x]" in shown and "best y{1} [/s]: 1" in shown


def test_a_pool_that_keeps_the_measured_column_as_a_feature_is_refused():
    """A table holding the measured 'y', made a pool without objective='y': the emulator's
    answer was a feature, the model read it, and the benchmark looked nearly perfect."""
    table = POOL.frame.reset_index(drop=True)
    leaky = CandidatePool.from_frame(table)
    with pytest.raises(
        ConfigurationError,
        match=r"features \['y'\] hold the very values the oracle reports.*"
        r"CandidatePool\.from_frame\(frame, objective='y'\)",
    ):
        Campaign(leaky, LookupOracle.from_pool(leaky, "y"), "y", surrogate="forest")


def test_a_second_measured_column_left_among_the_features_is_refused():
    from discovery import Objective

    table = POOL.frame.reset_index(drop=True).assign(cost=lambda t: t["a"] + t["b"])
    pool = CandidatePool.from_frame(table, objective="y")
    oracle = LookupOracle.from_pool(pool, "y", others=["cost"])
    with pytest.raises(
        ConfigurationError, match=r"from_frame\(frame, objective='y', exclude=\['cost'\]\)"
    ):
        Campaign(pool, oracle, objectives=[Objective("y"), Objective("cost", "min")])


def test_an_array_pool_read_with_the_measured_column_is_refused(tmp_path):
    from discovery import ArrayPool

    POOL.frame.to_parquet(tmp_path / "designs.parquet", index=False)
    oracle = LookupOracle(dict(zip(POOL.ids, POOL.frame["y"], strict=True)), "y")
    every_column = ArrayPool.from_parquet(tmp_path / "designs.parquet")
    with pytest.raises(ConfigurationError, match=r"from_parquet\(path, features=\['a', 'b'\]\)"):
        Campaign(every_column, oracle, "y", surrogate="forest")
    designs = ArrayPool.from_parquet(tmp_path / "designs.parquet", features=["a", "b"])
    assert Campaign(designs, oracle, "y", surrogate="forest").pool is designs


def test_a_feature_named_like_the_measured_property_with_other_values_is_kept():
    """A structure's unrelaxed density is known before the experiment that measures the
    relaxed one: a feature of the same name, not the answer."""
    frame = pd.DataFrame({"density": np.linspace(7.0, 9.0, 12), "x": np.linspace(0, 1, 12)})
    pool = CandidatePool.from_frame(frame)
    relaxed = LookupOracle(dict(zip(pool.ids, 1.02 * frame["density"], strict=True)), "density")
    assert Campaign(pool, relaxed, "density", surrogate="forest", budget=8).pool is pool


def test_acquisition_params_apply_to_an_acquisition_object():
    """resolve_acquisition("ucb") with acquisition_params={"beta": 50} ran with beta 2."""
    from discovery.acquisition import resolve_acquisition

    ucb = resolve_acquisition("ucb")
    wide = campaign(acquisition=ucb, acquisition_params={"beta": 50.0}, budget=10)
    assert wide.config.acquisition_params == {"beta": 50.0}
    by_name = campaign(acquisition="ucb", acquisition_params={"beta": 50.0}, budget=10)
    chosen = wide.run(progress=False).history["candidate_id"].tolist()
    assert chosen == by_name.run(progress=False).history["candidate_id"].tolist()
    with pytest.raises(ConfigurationError, match=r"unknown parameters \['betta'\]"):
        campaign(acquisition=ucb, acquisition_params={"betta": 50.0})


def test_an_acquisition_function_of_the_wrong_signature_is_refused_before_any_experiment():
    """It was called with rng= only after the initial design had been measured."""
    measured = []
    oracle = FunctionOracle(lambda c: measured.append(c.id) or c.parameters["a"], output="y")

    def mean_only(prediction, incumbent, maximize):
        return prediction.mean

    with pytest.raises(
        ConfigurationError,
        match=re.escape("define it as def mean_only(prediction, incumbent, maximize, *, rng=None"),
    ):
        Campaign(POOL, oracle, "y", surrogate="forest", acquisition=mean_only).run(progress=False)
    assert measured == []


@pytest.mark.parametrize("k", [2.0, 2.5, "3", True])
def test_ask_refuses_a_count_that_is_not_a_whole_number(k):
    manual = Campaign(POOL, None, "y", surrogate="forest", n_initial=1)
    manual.tell("3", float(POOL.frame.loc["3", "y"]))
    with pytest.raises(ConfigurationError, match="ask: k must be a whole number >= 1"):
        manual.ask(k)


def test_a_new_run_without_a_store_file_starts_afresh():
    calls = []

    def measure(candidate):
        calls.append(candidate.id)
        return float(POOL.frame.loc[candidate.id, "y"])

    run = Campaign(POOL, FunctionOracle(measure, output="y"), "y", surrogate="forest", budget=5)
    first = run.run(progress=False)
    again = run.run(progress=False, new=True)
    assert len(calls) == 10  # five experiments again, not the first run's result
    assert again.history["candidate_id"].tolist() == first.history["candidate_id"].tolist()
