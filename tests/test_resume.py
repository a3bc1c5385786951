"""Stored campaigns: resume after an interruption, refusals, lost jobs, ask/tell."""

import json
import re
import sqlite3

import numpy as np
import pandas as pd
import pytest

from discovery import (
    Campaign,
    CandidatePool,
    ConfigurationError,
    FunctionOracle,
    Objective,
    Status,
)
from discovery.exceptions import StoreError
from discovery.store import CampaignStore

RNG = np.random.default_rng(0)
FRAME = pd.DataFrame(RNG.random((80, 2)), columns=["a", "b"])
FRAME["y"] = np.sin(5 * FRAME["a"]) + FRAME["b"] ** 2
POOL = CandidatePool.from_frame(FRAME, objective="y")


class RecordingExperiment:
    """y(a, b), logging every call's key; raises KeyboardInterrupt (a crash) on one call."""

    def __init__(self, crash_on_call=None):
        self.calls, self.crash_on_call = [], crash_on_call

    def __call__(self, candidate):
        self.calls.append((candidate.idempotency_key, candidate.id))
        if len(self.calls) == self.crash_on_call:
            raise KeyboardInterrupt("power cut")
        return float(FRAME.loc[int(candidate.id), "y"])


def campaign(store, experiment, **options):
    settings = dict(surrogate="forest", acquisition="ei", budget=14, n_initial=4, seed=2)
    return Campaign(
        POOL, FunctionOracle(experiment, output="y"), "y", store=store, **(settings | options)
    )


def export(path):
    history = CampaignStore(path, read_only=True).history("y")
    return list(zip(history["candidate_id"], history["y"], strict=True))


def test_an_interrupted_campaign_resumes_to_the_uninterrupted_result(tmp_path):
    campaign(tmp_path / "whole.sqlite", RecordingExperiment()).run(progress=False)
    experiment = RecordingExperiment(crash_on_call=7)
    with pytest.raises(KeyboardInterrupt):
        campaign(tmp_path / "cut.sqlite", experiment).run(progress=False)
    campaign(tmp_path / "cut.sqlite", experiment).run(progress=False)
    assert export(tmp_path / "cut.sqlite") == export(tmp_path / "whole.sqlite")
    keys = [key for key, _ in experiment.calls]
    assert len(keys) == 15 and len(set(keys)) == 14  # call 7 ran again, under the same key
    jobs = CampaignStore(tmp_path / "cut.sqlite", read_only=True).jobs()
    assert sorted(j.idempotency_key for j in jobs) == sorted(set(keys))


def test_a_resumed_default_strategy_chooses_as_the_uninterrupted_campaign(tmp_path):
    def default(store, budget):
        return Campaign(
            POOL, FunctionOracle(RecordingExperiment(), output="y"), "y", store=store,
            budget=budget, n_initial=4, seed=3,
        )  # fmt: skip

    default(tmp_path / "whole.sqlite", 14).run(progress=False)
    default(tmp_path / "cut.sqlite", 6).run(progress=False)
    resumed = Campaign.resume(
        tmp_path / "cut.sqlite", FunctionOracle(RecordingExperiment(), output="y"), budget=14
    )
    assert resumed.auto_choice is not None  # chosen again, not rebuilt as a plain "gp"
    resumed.run(progress=False)
    assert export(tmp_path / "cut.sqlite") == export(tmp_path / "whole.sqlite")


def test_raising_the_budget_continues_a_finished_campaign(tmp_path):
    path = tmp_path / "c.sqlite"
    first = campaign(path, RecordingExperiment()).run(progress=False)
    more = campaign(path, RecordingExperiment(), budget=20).run(progress=False)
    assert len(more.history) == 20
    assert list(more.history["candidate_id"][:14]) == list(first.history["candidate_id"])
    assert more.history["candidate_id"].is_unique
    again = campaign(path, RecordingExperiment(), budget=20)
    experiment = RecordingExperiment()
    again.oracle.function = experiment
    again.run(progress=False)
    assert experiment.calls == []  # nothing left to do, nothing measured twice
    # how jobs are seen through changes no choice: a stuck campaign may be given a deadline
    settings = [{"deadline": 60.0}, {"max_retries": 5}, {"retry_backoff": 0.1}]
    for budget, setting in enumerate(settings, start=21):
        resumed = campaign(path, RecordingExperiment(), budget=budget, **setting)
        assert len(resumed.run(progress=False).history) == budget


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"seed": 3}, "seed=2 (--seed 2), not seed=3"),
        ({"batch_size": 2}, "batch_size=1 (--batch-size 1), not batch_size=2"),
        ({"acquisition": "ucb"}, "acquisition='ei', not acquisition='ucb'"),
        ({"maximize": False}, "maximize=True, not maximize=False"),
    ],
)
def test_a_different_campaign_on_a_store_is_refused_and_the_store_kept(tmp_path, options, named):
    path = tmp_path / "c.sqlite"
    campaign(path, RecordingExperiment()).run(progress=False)
    before = export(path)
    with pytest.raises(StoreError, match=re.escape(named)) as refusal:
        campaign(path, RecordingExperiment(), **options).run(progress=False)
    assert "--new" in str(refusal.value) and "--store" in str(refusal.value)
    assert export(path) == before


def test_another_pool_on_a_store_is_refused(tmp_path):
    path = tmp_path / "c.sqlite"
    campaign(path, RecordingExperiment()).run(progress=False)
    other = CandidatePool.from_frame(FRAME.assign(a=FRAME["a"] + 1), objective="y")
    with pytest.raises(StoreError, match=r"another pool \(the same ids, other feature values"):
        Campaign(
            other,
            FunctionOracle(RecordingExperiment(), output="y"),
            "y",
            store=path,
            surrogate="forest",
            budget=14,
            n_initial=4,
            seed=2,
        ).run(progress=False)


def test_another_space_on_a_store_is_refused_naming_what_changed(tmp_path):
    from discovery import Real, Space

    path = tmp_path / "space.sqlite"
    Campaign(Space([Real("x", 0, 1)]), None, "y", store=path).ask(1)
    with pytest.raises(StoreError, match=r"another space \('x' .*'high': 1.* there, .*'high': 2"):
        Campaign(Space([Real("x", 0, 2)]), None, "y", store=path).ask(1)


def test_new_starts_afresh_and_keeps_the_old_file(tmp_path):
    path = tmp_path / "c.sqlite"
    campaign(path, RecordingExperiment()).run(progress=False)
    campaign(path, RecordingExperiment(), seed=5).run(progress=False, new=True)
    kept = [p for p in tmp_path.glob("c-*.sqlite")]
    assert len(kept) == 1 and len(export(kept[0])) == 14
    assert CampaignStore(path, read_only=True).campaign_row()["seed"] == 5


def test_new_keeps_every_row_while_a_reader_holds_the_store_open(tmp_path):
    """A notebook or browser reading the store keeps SQLite from folding its journal
    on close; the renamed store still holds every committed row."""
    path = tmp_path / "c.sqlite"
    campaign(path, RecordingExperiment(), budget=6).run(progress=False)
    reader = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    reader.execute("SELECT count(*) FROM jobs").fetchone()
    campaign(path, RecordingExperiment()).run(progress=False)  # 8 more rows, in the journal
    campaign(path, RecordingExperiment(), seed=5).run(progress=False, new=True)
    reader.close()
    (kept,) = tmp_path.glob("c-*.sqlite")
    assert len(export(kept)) == 14


def test_new_twice_within_a_second_keeps_both_old_files(tmp_path):
    path = tmp_path / "c.sqlite"
    for budget in (5, 6, 7):
        campaign(path, RecordingExperiment(), budget=budget).run(progress=False, new=True)
    kept = sorted(len(export(p)) for p in tmp_path.glob("c-*.sqlite"))
    assert kept == [5, 6] and len(export(path)) == 7


class ForgetfulOracle:
    """Loses every job on its first submission (a lab server restart), runs it on the second."""

    def __init__(self, always_lose=False):
        self.submissions, self.always_lose = [], always_lose

    def submit(self, candidate):
        self.submissions.append(candidate.idempotency_key)
        return {
            "key": candidate.idempotency_key,
            "id": candidate.id,
            "attempt": self.submissions.count(candidate.idempotency_key),
        }

    def poll(self, handle):
        if self.always_lose or handle["attempt"] == 1:
            return Status("lost", error="server restarted")
        return Status("succeeded", result={"y": float(FRAME.loc[int(handle["id"]), "y"])})

    def cancel(self, handle):
        pass


def test_a_lost_job_is_dispatched_once_more_under_the_same_key(tmp_path):
    oracle = ForgetfulOracle()
    Campaign(
        POOL, oracle, "y", surrogate="forest", budget=6, n_initial=3, store=tmp_path / "c.sqlite"
    ).run(progress=False)
    assert len(oracle.submissions) == 12 and len(set(oracle.submissions)) == 6
    jobs = CampaignStore(tmp_path / "c.sqlite", read_only=True).jobs()
    assert [j.attempts for j in jobs] == [2] * 6
    assert {j.state for j in jobs} == {"succeeded"}


def test_a_job_lost_twice_is_recorded_as_lost_and_the_campaign_goes_on():
    oracle = ForgetfulOracle(always_lose=True)
    result = Campaign(POOL, oracle, "y", surrogate="forest", budget=5, n_initial=2).run(
        progress=False
    )
    assert list(result.history["state"]) == ["lost"] * 5
    assert result.history["candidate_id"].is_unique


def test_ask_tell_round_trip_keeps_pending_suggestions(tmp_path):
    path = tmp_path / "c.sqlite"
    manual = Campaign(POOL, None, "y", surrogate="forest", n_initial=4, store=path)
    first = manual.ask(4)
    assert list(first["status"]) == ["new"] * 4 and {"a", "b"} <= set(first.columns)
    told = first.iloc[:3]
    manual.tell(told.assign(y=[FRAME.loc[int(i), "y"] for i in told["candidate_id"]]))
    second = Campaign.resume(path).ask(4)
    assert list(second["status"]) == ["pending"] + ["new"] * 4
    assert second["candidate_id"].iloc[0] == first["candidate_id"].iloc[3]
    assert not set(second["candidate_id"].iloc[1:]) & set(first["candidate_id"])
    measured = CampaignStore(path, read_only=True).measurements()
    assert [c for c, _, _ in measured] == list(told["candidate_id"])


def test_a_results_table_with_integer_ids_and_numbers_only_goes_to_those_candidates():
    manual = Campaign(POOL, None, "y", surrogate="forest", n_initial=4)
    asked = manual.ask(2)
    ids = [int(i) for i in asked["candidate_id"]]  # as a spreadsheet gives them back
    manual.tell(pd.DataFrame({"candidate_id": ids, "y": [1.0, 2.0], "a": [0.5, 0.5]}))
    measured = manual._memory_store.measurements()
    assert [(c, v) for c, v, _ in measured] == [(str(ids[0]), 1.0), (str(ids[1]), 2.0)]
    assert "pending" not in set(manual.ask(1)["status"])


def test_a_results_table_whose_ids_and_parameters_disagree_is_refused(tmp_path):
    """ask() written to CSV and read back with pandas' defaults turns '0012' into 12,
    which was recorded as a new design outside the pool, leaving the asked one open; a
    table shifted against its ids gave each result to another candidate's row."""
    frame = FRAME.assign(sample=[f"{i:04d}" for i in range(len(FRAME))])
    pool = CandidatePool.from_frame(frame, id_column="sample", objective="y")
    manual = Campaign(pool, None, "y", surrogate="forest", n_initial=3)
    asked = manual.ask(3)
    asked.to_csv(tmp_path / "asked.csv", index=False)
    results = pd.read_csv(tmp_path / "asked.csv").assign(y=[1.0, 2.0, 3.0])
    first = asked["candidate_id"].iloc[0]
    with pytest.raises(ConfigurationError, match=f"number of candidate '{first}'"):
        manual.tell(results)
    shifted = asked.assign(y=[1.0, 2.0, 3.0], a=np.roll(asked["a"], 1), b=np.roll(asked["b"], 1))
    with pytest.raises(ConfigurationError, match="is the table shifted"):
        manual.tell(shifted)
    rounded = asked.assign(y=[1.0, 2.0, 3.0], a=asked["a"].round(4), b=asked["b"].round(4))
    manual.tell(rounded)  # a value rounded in a notebook still names its candidate
    measured = manual._memory_store.measurements()
    assert [c for c, _, _ in measured] == list(asked["candidate_id"])


def test_an_asked_table_comes_back_through_a_csv_and_a_lab_notebook_and_is_told(tmp_path):
    """Codes '003' read back as 3, values rounded to two decimals, and a feature named like
    the measured property (a structure's unrelaxed density beside the measured one) still
    name their candidates."""
    from discovery import Objective

    frame = FRAME.assign(batch=[f"{i % 5:03d}" for i in range(len(FRAME))], density=FRAME["a"])
    pool = CandidatePool.from_frame(frame, objective="y")
    objectives = [Objective("density"), Objective("y")]
    manual = Campaign(pool, None, objectives=objectives, surrogate="forest", n_initial=3)
    asked = manual.ask(3)
    asked.to_csv(tmp_path / "asked.csv", index=False)
    results = pd.read_csv(tmp_path / "asked.csv", dtype={"candidate_id": str})
    assert results["batch"].dtype.kind == "i"  # '003' is 3 now
    results = results.round(2).assign(density=[7.1, 7.2, 7.3], y=[1.0, 2.0, 3.0])
    manual.tell(results)
    assert [v for _, v, _ in manual._memory_store.measurements()] == [7.1, 7.2, 7.3]


@pytest.mark.parametrize(
    "bad",
    [
        {"candidate_id": "x9", "y": 3.0},  # unknown id
        {"candidate_id": "7", "y": "high"},  # not a number
        {"candidate_id": "5", "y": 3.0},  # 5 twice
    ],
)
def test_a_refused_results_table_records_none_of_its_rows(bad):
    """A table whose third row is refused recorded its first two, so the corrected table
    was then refused for those ("already has an outcome")."""
    manual = Campaign(POOL, None, "y", surrogate="forest", n_initial=2)
    good = [{"candidate_id": "5", "y": 1.0}, {"candidate_id": "6", "y": 2.0}]
    with pytest.raises(ConfigurationError):
        manual.tell(pd.DataFrame([*good, bad]))
    assert manual._memory_store.measurements() == []
    manual.tell(pd.DataFrame([*good, {"candidate_id": "7", "y": 3.0}]))
    assert [v for _, v, _ in manual._memory_store.measurements()] == [1.0, 2.0, 3.0]


def test_tell_refuses_unknown_ids_repeated_results_and_non_numbers():
    manual = Campaign(POOL, None, "y", surrogate="forest", n_initial=2)
    manual.tell("5", 1.0)
    with pytest.raises(ConfigurationError, match="unknown candidate id 'x9'"):
        manual.tell("x9", 1.0)
    with pytest.raises(ConfigurationError, match="'5' already has an outcome"):
        manual.tell("5", 2.0)
    with pytest.raises(ConfigurationError, match="not a number"):
        manual.tell("6", "high")
    with pytest.raises(ConfigurationError, match="over a pool, a result names its candidate_id"):
        manual.tell({"a": 0.5, "b": 0.5}, 1.0)
    with pytest.raises(ConfigurationError, match="has no oracle"):
        manual.run(progress=False)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (np.nan, r"value for '6' is missing \(an empty cell\?\)"),
        (True, r"value for '6' is True, a boolean, not a number"),
        (np.True_, r"value for '6' is True, a boolean, not a number"),
    ],
    ids=["empty", "bool", "numpy-bool"],
)
def test_tell_refuses_an_empty_or_boolean_value_and_records_nothing(value, message):
    manual = Campaign(POOL, None, "y", surrogate="forest", n_initial=2)
    with pytest.raises(ConfigurationError, match=message):
        manual.tell("6", value)
    manual.tell("6", 1.0)
    assert manual._memory_store.measurements()[0][:2] == ("6", 1.0)


def test_tell_refuses_a_boolean_among_several_measured_properties():
    two = [Objective("y", "max"), Objective("cost", "min")]
    manual = Campaign(POOL, None, objectives=two, surrogate="forest", n_initial=2)
    with pytest.raises(ConfigurationError, match=r"'6': result 'y' is True, a boolean, not a"):
        manual.tell("6", {"y": True, "cost": 0.5})
    manual.tell("6", {"y": 1.0, "cost": 0.5})
    assert manual._memory_store.measurements()[0][:2] == ("6", 1.0)


def test_a_design_outside_the_pool_is_recorded_and_trains_the_model():
    manual = Campaign(POOL, None, "y", surrogate="forest", n_initial=1, seed=1)
    manual.tell("legacy-1", 2.5, parameters={"a": 0.31, "b": 0.99})
    suggestions = manual.ask(2)  # the told design is the initial design: the model chooses
    assert list(suggestions["status"]) == ["new", "new"]
    with pytest.raises(ConfigurationError, match="needs its parameters"):
        manual.tell("legacy-2", 1.0)
    with pytest.raises(ConfigurationError, match="'legacy-1' already has a measurement"):
        manual.tell("legacy-1", 1.0, parameters={"a": 0.3, "b": 0.9})
    store = manual._memory_store
    assert store.measurements()[0] == ("legacy-1", 2.5, {"a": 0.31, "b": 0.99})
    assert store.last_iteration()["kind"] == "model"


def test_a_design_told_from_outside_the_pool_is_in_the_history_but_not_the_budget(tmp_path):
    from typer.testing import CliRunner

    from discovery.cli import app
    from discovery.report import load_campaign

    store = tmp_path / "legacy.sqlite"
    manual = Campaign(POOL, None, "y", surrogate="forest", budget=4, n_initial=2, store=store)
    first = manual.ask(2)
    manual.tell(first["candidate_id"].iloc[0], 0.1)
    manual.tell("my-idea", 9.0, parameters={"a": 0.5, "b": 0.5})  # better than the pool holds
    manual.tell(first["candidate_id"].iloc[1], 0.2)
    history = load_campaign(store).result.history
    assert list(history["candidate_id"]) == [*first["candidate_id"], "my-idea"]
    told = history.set_index("candidate_id").loc["my-idea"]
    assert told["kind"] == "external" and told["a"] == 0.5 and told["y"] == 9.0
    assert load_campaign(store).result.best["candidate_id"] == "my-idea"
    assert load_campaign(store).state == "stopped"  # two of four experiments spent
    status = CliRunner().invoke(app, ["status", str(store)], env={"COLUMNS": "200"})
    assert "2 of 4 experiments" in status.output and "9 (candidate my-idea, told)" in status.output
    exported = CliRunner().invoke(app, ["export", str(store)])
    assert "my-idea" in exported.output


def test_a_stop_right_after_a_job_was_lost_still_sends_it_again(tmp_path):
    class StopsOnResubmission(ForgetfulOracle):
        def submit(self, candidate):
            if candidate.idempotency_key in self.submissions:
                raise KeyboardInterrupt("stopped between 'lost' and sending it again")
            return super().submit(candidate)

    path = tmp_path / "c.sqlite"
    settings = dict(surrogate="forest", budget=4, n_initial=2, store=path)
    with pytest.raises(KeyboardInterrupt):
        Campaign(POOL, StopsOnResubmission(), "y", **settings).run(progress=False)
    oracle = ForgetfulOracle()
    oracle.poll = lambda handle: Status("succeeded", result={"y": 1.0})
    Campaign(POOL, oracle, "y", **settings).run(progress=False)
    jobs = CampaignStore(path, read_only=True).jobs()
    assert [j.state for j in jobs] == ["succeeded"] * 4


@pytest.mark.parametrize(
    "additive",
    [["None", "LiCl", "NaCl"] * 4, ["NA", "LiCl", "NaCl"] * 4, ["", "LiCl", "NaCl"] * 4,
     pd.Categorical([1, 2, 3] * 4), ["salt", None, "acid"] * 4, ["None", None, "acid"] * 4,
     ["", None, "acid"] * 4, ["NA", np.nan, "acid", "salt"] * 3],
)  # fmt: skip
def test_a_stored_pool_with_a_category_called_none_or_categorical_numbers_reopens(
    tmp_path, additive
):
    """A category "None", "NA" or "" beside a gap the pool imputes: the stored table wrote
    both as an empty field, so either reading lost one of them and the store could not
    be reopened."""
    frame = pd.DataFrame({"additive": additive, "temp": range(12)})
    impute = "mean" if frame["additive"].isna().any() else None
    path = tmp_path / "c.sqlite"
    pool = CandidatePool.from_frame(frame, impute=impute)
    Campaign(pool, None, "y", surrogate="forest", n_initial=2, budget=6, store=path).ask(2)
    reopened = Campaign.resume(path)
    assert reopened.pool.fingerprint() == pool.fingerprint()
    assert list(reopened.ask(1)["status"]) == ["pending", "pending", "new"]


def test_a_told_best_without_an_iteration_is_summarised(tmp_path):
    path = tmp_path / "c.sqlite"
    Campaign(POOL, None, "y", surrogate="forest", budget=6, n_initial=3, store=path).tell(
        "29", 100.0
    )  # a bench result never asked for, and the best
    experiment = FunctionOracle(lambda c: float(FRAME.loc[int(c.id), "y"]), output="y")
    summary = Campaign.resume(path, oracle=experiment).run(progress=False).summary()
    assert summary["best_value"] == 100.0 and summary["best_candidate"] == "29"
    assert summary["found_at_iteration"] is None and summary["found_at_experiment"] == 1


def test_a_stop_inside_a_batch_keeps_the_results_before_it_and_never_reruns_them(tmp_path):
    path = tmp_path / "c.sqlite"
    experiment = RecordingExperiment(crash_on_call=4)  # Ctrl-C in the initial batch's 4th
    with pytest.raises(KeyboardInterrupt):
        campaign(path, experiment, n_initial=6).run(progress=False)
    finished = [candidate for _, candidate in experiment.calls[:3]]
    measured = CampaignStore(path, read_only=True).measurements()
    assert [candidate for candidate, _, _ in measured] == finished
    again = RecordingExperiment()
    campaign(path, again, n_initial=6).run(progress=False)
    assert not set(finished) & {candidate for _, candidate in again.calls}


def test_the_summary_counts_the_experiments_spent_apart_from_open_and_told_ones(tmp_path):
    """Two suggestions asked and not told were reported as failed, and three designs told
    from outside the pool as experiments (found 'at experiment 10' of a budget of 8)."""
    path = tmp_path / "c.sqlite"
    campaign(path, RecordingExperiment(), budget=6).run(progress=False)
    campaign(path, RecordingExperiment(), budget=6).ask(2)
    summary = campaign(path, RecordingExperiment(), budget=10).run(progress=False).summary()
    assert (summary["experiments"], summary["failed"], summary["open"]) == (10, 0, 2)

    told = campaign(tmp_path / "told.sqlite", RecordingExperiment(), budget=8)
    for name, a in (("legacy-1", 0.1), ("legacy-2", 0.2), ("legacy-3", 0.3)):
        told.tell(name, -5.0, parameters={"a": a, "b": 0.0})
    summary = told.run(progress=False).summary()
    assert (summary["experiments"], summary["told"], summary["succeeded"]) == (8, 3, 8)
    assert 1 <= summary["found_at_experiment"] <= 8


def test_a_store_whose_pool_used_a_saved_row_index_says_how_to_go_on(tmp_path, monkeypatch):
    import discovery.space as space_module

    FRAME.to_csv(tmp_path / "pool.csv")  # index=True: 'Unnamed: 0'
    path = tmp_path / "old.sqlite"
    monkeypatch.setattr(space_module, "without_unnamed", lambda features: features)
    old = CandidatePool.from_csv(tmp_path / "pool.csv", objective="y")  # as before
    Campaign(old, None, "y", surrogate="forest", store=path).ask(1)
    monkeypatch.undo()
    with pytest.warns(UserWarning, match="no header"):
        now = CandidatePool.from_csv(tmp_path / "pool.csv", objective="y")
    with pytest.raises(StoreError, match=r"features=\['Unnamed: 0', 'a', 'b'\]"):
        Campaign(now, None, "y", surrogate="forest", store=path).ask(1)
    named = CandidatePool.from_csv(
        tmp_path / "pool.csv", objective="y", features=["Unnamed: 0", "a", "b"]
    )
    resumed = Campaign(named, None, "y", surrogate="forest", store=path).ask(1)
    assert list(resumed["status"]) == ["pending", "new"]


def test_told_parameters_must_be_the_candidates_up_to_the_digits_written():
    """A rule of 'nearest candidate' let 35 C pass for a candidate at 20 C in a pool of
    three, and refused 0.83 for 0.833 in a grid of 0.001 steps."""
    sparse = CandidatePool.from_frame(
        pd.DataFrame({"T": [20.0, 60.0, 100.0], "solvent": ["water", "ethanol", "ethanol"]})
    )
    manual = Campaign(sparse, None, "y", surrogate="forest", n_initial=1, budget=3)
    for wrong in ({"T": 35.0, "solvent": "water"}, {"T": 20.0, "solvent": "ethanol"}):
        with pytest.raises(ConfigurationError, match="other parameters than the candidate's"):
            manual.tell("0", 1.0, parameters=wrong)
    grid = CandidatePool.from_frame(pd.DataFrame({"x": np.arange(1000) / 1000}))
    fine = Campaign(grid, None, "y", surrogate="forest", n_initial=3)
    fine.tell("833", 1.0, parameters={"x": 0.83})  # rounded to two decimals
    with pytest.raises(ConfigurationError, match="other parameters"):
        fine.tell("834", 1.0, parameters={"x": 0.82})
    gaps = pd.DataFrame({"a": [0.1, 0.2, 0.3], "b": [1.0, np.nan, 3.0]})
    imputed = Campaign(
        CandidatePool.from_frame(gaps, impute="mean"),
        None,
        "y",
        surrogate="forest",
        budget=3,
        n_initial=1,
    )
    imputed.tell("1", 1.0, parameters={"a": 0.2})  # a part of the parameters is enough


def test_a_design_told_under_its_own_id_is_not_suggested_again():
    """A lab notebook's id for a pool candidate was recorded as a design outside the pool,
    and the next ask spent an experiment measuring that candidate again."""
    grid = pd.DataFrame({"temperature": [300, 350, 400, 450, 500, 550],
                         "ratio": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]})  # fmt: skip
    manual = Campaign(CandidatePool.from_frame(grid), None, "y", n_initial=2, budget=6, seed=0)
    manual.tell("notebook-17", 91.0, parameters={"temperature": 550, "ratio": 0.6})
    manual.tell("notebook-18", 12.0, parameters={"temperature": 300, "ratio": 0.1})
    manual.tell("notebook-19", 40.0, parameters={"temperature": 400, "ratio": 0.3})
    assert set(manual.ask(3)["candidate_id"]) == {"1", "3", "4"}


def test_a_configured_surrogate_is_rebuilt_with_its_settings_on_resume(tmp_path):
    """Only the name "forest" was stored: `discovery ask` (Campaign.resume) asked with a
    default forest of 100 trees instead of the campaign's 10 with leaves of 15, and
    suggested other candidates."""
    from discovery.surrogates import RandomForestSurrogate

    path = tmp_path / "c.sqlite"
    forest = RandomForestSurrogate(n_estimators=10, min_samples_leaf=15)
    original = Campaign(POOL, None, "y", surrogate=forest, n_initial=3, budget=12, store=path)
    original.tell(FRAME.assign(candidate_id=FRAME.index.astype(str))[["candidate_id", "y"]][:6])
    resumed = Campaign.resume(path)
    assert (resumed.surrogate.n_estimators, resumed.surrogate.min_samples_leaf) == (10, 15)
    copy = tmp_path / "copy.sqlite"
    copy.write_bytes(path.read_bytes())
    assert list(original.ask(2)["candidate_id"]) == list(
        resumed.replace(store=copy).ask(2)["candidate_id"]
    )
    changed = RandomForestSurrogate(n_estimators=10, min_samples_leaf=3)
    with pytest.raises(StoreError, match="surrogate_options="):
        original.replace(surrogate=changed).ask(1)


def test_a_surrogate_of_the_users_own_under_a_library_name_must_be_passed_again(tmp_path):
    from discovery.surrogates import RandomForestSurrogate

    class Shrunk(RandomForestSurrogate):
        """A forest of the user's own, whose name is the library's."""

    path = tmp_path / "c.sqlite"
    Campaign(POOL, None, "y", surrogate=Shrunk(), n_initial=3, store=path).ask(1)
    with pytest.raises(ConfigurationError, match=r"surrogate \(Shrunk\) cannot be rebuilt"):
        Campaign.resume(path)
    assert len(Campaign.resume(path, surrogate=Shrunk()).ask(1)) == 2


def test_a_store_begun_before_surrogate_settings_were_stored_resumes(tmp_path):
    from discovery.surrogates import RandomForestSurrogate

    path = tmp_path / "c.sqlite"
    forest = RandomForestSurrogate(n_estimators=10)
    Campaign(POOL, None, "y", surrogate=forest, n_initial=3, store=path).ask(1)
    with sqlite3.connect(path) as db:  # as an earlier version wrote it
        (text,) = db.execute("SELECT config_json FROM campaign").fetchone()
        config = json.loads(text)
        del config["surrogate_options"]
        db.execute("UPDATE campaign SET config_json = ?", (json.dumps(config),))
    db.close()
    again = Campaign(POOL, None, "y", surrogate=forest, n_initial=3, store=path).ask(1)
    assert list(again["status"]) == ["pending", "new"]


def test_a_configured_selector_is_rebuilt_with_its_settings_on_resume(tmp_path):
    """Only the names "kmeans" were stored: a resumed campaign diversified its batches
    over the 10k best candidates instead of the campaign's 3k."""
    from discovery.selection import KMeansDiversified

    path = tmp_path / "c.sqlite"
    narrow = KMeansDiversified(oversample=3)
    original = Campaign(POOL, None, "y", surrogate="forest", selector=narrow, n_initial=3,
                        budget=12, store=path)  # fmt: skip
    original.tell(FRAME.assign(candidate_id=FRAME.index.astype(str))[["candidate_id", "y"]][:6])
    assert Campaign.resume(path).selector == narrow
    with pytest.raises(StoreError, match="selector_options="):
        original.replace(selector=KMeansDiversified(oversample=5)).ask(1)


def test_a_selector_of_the_users_own_must_be_passed_again_on_resume(tmp_path):
    from discovery.selection import TopK

    class Shuffled(TopK):
        """A selector of the user's own, whose name is the library's."""

    path = tmp_path / "c.sqlite"
    Campaign(POOL, None, "y", surrogate="forest", selector=Shuffled(), n_initial=3,
             store=path).ask(1)  # fmt: skip
    with pytest.raises(ConfigurationError, match=r"selector \(Shuffled\) cannot be rebuilt"):
        Campaign.resume(path)
    assert isinstance(Campaign.resume(path, selector=Shuffled()).selector, Shuffled)


def test_a_batch_asked_past_the_initial_design_is_completed_by_the_model():
    """ask(2) three times with n_initial=5 drew six designs from the initial design: a
    batch it owed only part of was drawn from it whole."""
    from tests.test_campaign import POOL

    manual = Campaign(POOL, None, "y", surrogate="forest", acquisition="ei", n_initial=5, seed=0)
    for _ in range(3):
        for asked in manual.ask(2).query("status == 'new'")["candidate_id"]:
            manual.tell(asked, float(POOL.frame.loc[asked, "y"]))
    chosen = manual._memory_store.history("y")
    assert list(chosen["acquisition"]) == ["kmeans"] * 5 + ["ei"]
    fresh = Campaign(POOL, None, "y", surrogate="forest", n_initial=3, seed=0)
    assert len(fresh.ask(5)) == 5  # nothing measured, no model: the initial design goes on
