"""Failures are classified, transient ones retried with backoff, overdue jobs timed out."""

import sys
import threading
import time
import zlib
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from discovery import Campaign, Candidate, ConfigurationError, FunctionOracle, Status
from discovery.exceptions import InstrumentError, TransientError
from discovery.oracles.base import QUEUED, RUNNING, SUCCEEDED
from discovery.store import CampaignStore
from tests.test_resume import FRAME, POOL


def value(candidate):
    return float(FRAME.loc[int(candidate.id), "y"])


def run(function, executor=None, **options):
    settings = dict(surrogate="forest", budget=6, n_initial=3, retry_backoff=0.0) | options
    campaign = Campaign(
        POOL, FunctionOracle(function, output="y", executor=executor), "y", **settings
    )
    result = campaign.run(progress=False)
    return result, campaign._memory_store


def test_transient_failures_are_retried_under_the_same_key_and_recorded():
    calls = []

    def flaky(candidate):
        calls.append(candidate.idempotency_key)
        if calls.count(candidate.idempotency_key) <= 2:
            raise TransientError("connection reset by the furnace controller")
        return value(candidate)

    result, store = run(flaky)
    assert list(result.history["state"]) == ["succeeded"] * 6
    assert [job.attempts for job in store.jobs()] == [3] * 6
    attempts = store.attempts()
    assert len(attempts) == 12 and set(attempts["error_class"]) == {"transient"}
    assert attempts["error_message"].str.contains("connection reset").all()


def test_retries_stop_at_the_limit():
    def always(candidate):
        raise TransientError("queue full")

    result, store = run(always, max_retries=2, budget=3)
    assert list(result.history["error_class"]) == ["transient"] * 3
    assert [job.attempts for job in store.jobs()] == [3] * 3


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (InstrumentError("SCF did not converge"), "instrument"),
        (ConfigurationError("no pseudopotential for Xe"), "configuration"),
        (ZeroDivisionError("bug in the user's function"), "failed"),
    ],
)
def test_other_failures_are_classified_and_not_retried(error, kind):
    def broken(candidate):
        raise error

    result, store = run(broken, budget=3)
    assert list(result.history["error_class"]) == [kind] * 3
    assert [job.attempts for job in store.jobs()] == [1] * 3


def test_a_job_past_its_deadline_is_cancelled_and_recorded_as_timeout():
    with ThreadPoolExecutor(2) as executor:
        first = Campaign(
            POOL, FunctionOracle(value, output="y"), "y", surrogate="forest", budget=6, n_initial=3
        ).run(progress=False)
        target = first.history["candidate_id"].iloc[1]

        def slow(candidate):
            if candidate.id == target:
                time.sleep(1.5)
            return value(candidate)

        result, _ = run(slow, executor=executor, deadline=0.3)
    row = result.history.set_index("candidate_id").loc[target]
    assert row["state"] == "failed" and row["error_class"] == "timeout"
    assert (result.history["state"] == "succeeded").sum() == 5


def test_flaky_and_hanging_oracle_never_stops_the_campaign():
    def unreliable(candidate):
        draw = zlib.crc32(f"{candidate.idempotency_key}{time.monotonic_ns()}".encode()) % 100
        if draw < 20:
            raise TransientError("instrument busy")
        if draw < 25:
            time.sleep(2.0)  # hangs past the deadline
        return value(candidate)

    with ThreadPoolExecutor(4) as executor:
        result, store = run(
            unreliable, executor=executor, budget=20, n_initial=4, deadline=0.5, max_retries=5
        )
    history = result.history
    assert len(history) == 20 and history["candidate_id"].is_unique
    failed = history[history["state"] != "succeeded"]
    assert failed["error_class"].isin(["timeout", "transient"]).all()
    assert set(store.attempts()["error_class"]) <= {"transient"}
    assert np.isfinite(history.loc[history["state"] == "succeeded", "y"]).all()


def test_time_a_job_waits_for_a_worker_does_not_count_towards_its_deadline():
    """Before: with one worker and three jobs in flight, the jobs waiting behind the
    running one timed out though each ran well within the deadline."""

    def steady(candidate):
        time.sleep(0.3)
        return value(candidate)

    with ThreadPoolExecutor(1) as executor:
        result, _ = run(
            steady, executor=executor, budget=5, n_initial=5, max_in_flight=3, deadline=0.5
        )
    assert list(result.history["state"]) == ["succeeded"] * 5


class QueuedAtTheLab:
    """A lab with one station: each job waits its turn (``queued``), then runs
    ``run_seconds``; the clock starts at the first poll."""

    def __init__(self, run_seconds):
        self.run_seconds, self.order, self.first_poll = run_seconds, [], None

    def submit(self, candidate):
        self.order.append(candidate.id)
        return {"id": candidate.id}

    def poll(self, handle):
        self.first_poll = self.first_poll or time.monotonic()
        elapsed = (time.monotonic() - self.first_poll) / self.run_seconds
        turn, position = divmod(elapsed, 1.0)
        place = self.order.index(handle["id"])
        if place > turn:
            return Status(QUEUED)
        if place == turn:
            return Status(RUNNING, progress=position)
        return Status(SUCCEEDED, result={"y": value(Candidate(handle["id"], {}))})

    def cancel(self, handle):
        pass


def test_a_job_queued_at_the_lab_is_not_timed_out():
    """Before: with a one-station lab, max_in_flight=3 and a deadline longer than one run,
    jobs timed out while still waiting in the lab's queue."""
    campaign = Campaign(POOL, QueuedAtTheLab(run_seconds=0.3), "y", surrogate="forest",
                        budget=4, n_initial=4, max_in_flight=3, deadline=0.5,
                        poll_interval=0.01)  # fmt: skip
    result = campaign.run(progress=False)
    assert list(result.history["state"]) == ["succeeded"] * 4


@pytest.mark.parametrize("in_flight", [1, 3])
def test_a_hanging_experiment_on_a_single_thread_times_out_alone(in_flight):
    """Before: the timed-out experiment kept the only worker, so every later job timed
    out too, though none of them ever started."""
    release, started = threading.Event(), []

    def first_hangs(candidate):
        started.append(candidate.id)
        if len(started) == 1:
            release.wait(30)  # a hung instrument driver
        return value(candidate)

    executor = ThreadPoolExecutor(1)
    try:
        result, _ = run(first_hangs, executor=executor, budget=5, n_initial=5,
                        max_in_flight=in_flight, deadline=0.5, poll_interval=0.01)  # fmt: skip
    finally:
        release.set()
        executor.shutdown()
    assert list(result.history["error_class"].fillna("")) == ["timeout"] + [""] * 4
    assert len(started) == 5


class AnswersGarbageOnce:
    """An instrument whose second poll answers ``garbage``; ``wait`` may drop the link."""

    def __init__(self, garbage, wait_fails=False):
        self.garbage, self.polls, self.wait_fails = garbage, 0, wait_fails

    def submit(self, candidate):
        return {"id": candidate.id}

    def poll(self, handle):
        self.polls += 1
        if self.polls == 2:
            return self.garbage
        return Status(SUCCEEDED, result={"y": float(FRAME.loc[int(handle["id"]), "y"])})

    def wait(self, handles, timeout):
        if self.wait_fails:
            raise ConnectionError("instrument link dropped")

    def cancel(self, handle):
        pass


@pytest.mark.parametrize(
    "garbage",
    [None, {"state": "succeeded"}, "done", Status(SUCCEEDED, result=None),
     Status(SUCCEEDED, result=5.0), Status(SUCCEEDED, result=[1.0]),
     Status(SUCCEEDED, result={"y": 10**400}), Status(SUCCEEDED, result={"y": True})],
)  # fmt: skip
def test_an_oracle_answering_garbage_fails_that_experiment_only(garbage):
    campaign = Campaign(POOL, AnswersGarbageOnce(garbage), "y", surrogate="forest", budget=5,
                        n_initial=3, acquisition="random")  # fmt: skip
    result = campaign.run(progress=False)
    assert result.stopped_because == "budget" and len(result.history) == 5
    assert list(result.history["state"]).count("failed") == 1


def test_an_oracle_whose_wait_fails_still_has_its_experiments_polled():
    campaign = Campaign(POOL, AnswersGarbageOnce(None, wait_fails=True), "y", surrogate="forest",
                        budget=5, n_initial=3, acquisition="random", poll_interval=0.0)  # fmt: skip
    assert campaign.run(progress=False).stopped_because == "budget"


def test_an_experiment_that_calls_sys_exit_fails_alone():
    calls = []

    def exits_once(candidate):
        calls.append(candidate.id)
        if len(calls) == 2:
            sys.exit(1)  # a wrapped tool's main() that exits on an error
        return value(candidate)

    result, _ = run(exits_once)
    assert len(result.history) == 6 and list(result.history["state"]).count("failed") == 1


@pytest.mark.parametrize("interval", [-1, float("nan"), "fast"])
def test_a_bad_poll_interval_is_refused_before_any_experiment(interval):
    with pytest.raises(ConfigurationError, match="poll_interval"):
        Campaign(POOL, FunctionOracle(value, output="y"), "y", poll_interval=interval)


def test_properties_returned_as_torch_tensors_are_kept_as_numbers():
    # an oracle built on a torch model returns 0-d tensors; kept as their text
    # ("tensor(0.33)") they were read back as no measurement, and every objective was NaN
    import torch

    from discovery import Objective

    def measure(candidate):
        y = torch.tensor(value(candidate), dtype=torch.float64)
        return {"y": y, "cost": y * 2 + np.float32(1), "n": np.int64(3)}

    campaign = Campaign(
        POOL,
        FunctionOracle(measure),
        objectives=[Objective("y", "max"), Objective("cost", "min")],
        surrogate="forest",
        budget=6,
        n_initial=3,
    )
    history = campaign.run(progress=False).history
    assert history["state"].eq("succeeded").all()
    expected = FRAME.loc[history["candidate_id"].astype(int), "y"].to_numpy()
    np.testing.assert_allclose(history["y"], expected)
    np.testing.assert_allclose(history["cost"], expected * 2 + 1, rtol=1e-6)
    assert (history["kind"] == "model").sum() == 3  # it went on past its initial design


class DownLink:
    """Every submission fails with a dropped link; call ``stop_at`` is a stop (Ctrl-C)."""

    def __init__(self, stop_at=None):
        self.calls, self.stop_at = 0, stop_at

    def submit(self, candidate):
        self.calls += 1
        if self.calls == self.stop_at:
            raise KeyboardInterrupt("stopped")
        raise TransientError("link down")

    def poll(self, handle):
        raise AssertionError("nothing was submitted")

    def cancel(self, handle):
        pass


def test_a_resume_does_not_grant_a_job_its_retries_again(tmp_path):
    settings = dict(surrogate="forest", budget=1, n_initial=1, max_retries=2, retry_backoff=0.0)
    store = tmp_path / "s.sqlite"
    for _ in range(2):  # one failed attempt, then a stop, twice
        with pytest.raises(KeyboardInterrupt):
            Campaign(POOL, DownLink(stop_at=2), "y", store=store, **settings).run(progress=False)
    campaign = Campaign(POOL, DownLink(), "y", store=store, **settings)
    history = campaign.run(progress=False).history
    attempts = CampaignStore(store, read_only=True).attempts()
    assert (attempts["error_class"] == "transient").sum() == 3  # max_retries + 1 in all
    assert history["state"].tolist() == ["failed"]


class SlowAndFlaky:
    """Two slots: the first job runs until a third candidate is submitted (or 5 s pass);
    the second drops its link once, and the station refuses to take it again."""

    def __init__(self):
        self.submitted, self.third_before_first_ended = [], False

    def submit(self, candidate):
        if candidate.id in self.submitted:
            raise RuntimeError("the station refuses a second try")
        self.submitted.append(candidate.id)
        return {"id": candidate.id, "at": time.monotonic()}

    def poll(self, handle):
        first, second = self.submitted[:2]
        if handle["id"] == second:
            return Status("failed", error="link dropped", error_class="transient")
        if handle["id"] == first:
            if len(self.submitted) >= 3:
                self.third_before_first_ended = True
            elif time.monotonic() - handle["at"] < 5:
                return Status(RUNNING)
        return Status(SUCCEEDED, result={"y": value(Candidate(handle["id"], {}))})

    def cancel(self, handle):
        pass


def test_a_slot_freed_by_a_refused_retry_is_filled_at_once():
    station = SlowAndFlaky()
    settings = dict(surrogate="forest", budget=4, n_initial=2, max_in_flight=2)
    campaign = Campaign(POOL, station, "y", retry_backoff=0.0, poll_interval=0.01, **settings)
    history = campaign.run(progress=False).history
    assert station.third_before_first_ended  # not after a wait for the slow job
    assert history["state"].value_counts().to_dict() == {"succeeded": 3, "failed": 1}


class Spectrometer:
    """Reports the one property it measures, whatever the campaign asked for."""

    def submit(self, candidate):
        return {"id": candidate.id}

    def poll(self, handle):
        return Status(SUCCEEDED, result={"absorbance": 0.42})

    def cancel(self, handle):
        pass


def test_a_result_naming_another_property_is_not_taken_for_the_objective():
    campaign = Campaign(POOL, Spectrometer(), "y", surrogate="forest", budget=3, n_initial=3)
    history = campaign.run(progress=False).history
    assert history["state"].eq("failed").all() and history["y"].isna().all()
    assert "result has no 'y' (keys: ['absorbance'])" in history["error_message"].iloc[0]
    unnamed = FunctionOracle(value)  # a plain number, reported as "value": the objective
    assert (
        Campaign(POOL, unnamed, "y", surrogate="forest", budget=3, n_initial=3)
        .run(progress=False)
        .history["y"]
        .notna()
        .all()
    )
    with pytest.raises(ConfigurationError, match="reports a plain number as 'energy'"):
        Campaign(POOL, FunctionOracle(value, output="energy"), "y", budget=3, n_initial=3)
