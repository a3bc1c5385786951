"""K experiments in flight: pending-aware choices, executors, a dying worker."""

import os
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from discovery import Campaign, ConfigurationError, FunctionOracle
from discovery.executors import RecoveringProcessPool, resolve_executor
from tests.test_resume import FRAME, POOL


class Concurrency:
    """y(candidate) after a pause, counting how many calls run at once."""

    def __init__(self, pauses):
        self.pauses, self.running, self.peak, self.lock = pauses, 0, 0, threading.Lock()

    def __call__(self, candidate):
        with self.lock:
            self.running += 1
            self.peak = max(self.peak, self.running)
        time.sleep(self.pauses[int(candidate.id) % len(self.pauses)])
        with self.lock:
            self.running -= 1
        return float(FRAME.loc[int(candidate.id), "y"])


def asynchronous(function, executor, k, **options):
    settings_ = dict(surrogate="forest", budget=14, n_initial=3, max_in_flight=k) | options
    return Campaign(POOL, FunctionOracle(function, output="y", executor=executor), "y", **settings_)


def test_k_experiments_stay_in_flight_and_none_is_measured_twice():
    experiment = Concurrency([0.05, 0.2, 0.1, 0.3])
    with ThreadPoolExecutor(8) as executor:
        result = asynchronous(experiment, executor, k=3).run(progress=False)
    history = result.history
    assert len(history) == 14 and history["candidate_id"].is_unique
    assert (history["state"] == "succeeded").all()
    assert experiment.peak == 3  # never more than K, and K reached


def test_an_initial_design_larger_than_k_waits_for_free_slots():
    experiment = Concurrency([0.05, 0.1])
    with ThreadPoolExecutor(8) as executor:
        result = asynchronous(experiment, executor, k=2, n_initial=5, budget=9).run(progress=False)
    assert len(result.history) == 9 and (result.history["state"] == "succeeded").all()
    assert experiment.peak == 2  # the five initial experiments never ran at once


@settings(max_examples=8, deadline=None)
@given(
    k=st.integers(1, 4),
    pauses=st.lists(st.floats(0.0, 0.03), min_size=1, max_size=5),
    seed=st.integers(0, 1000),
)
def test_no_pending_candidate_is_ever_chosen_again(k, pauses, seed):
    # The store refuses a second job for a candidate (UNIQUE), and the selector check
    # refuses an excluded one, so a re-chosen pending candidate would stop the run.
    experiment = Concurrency(pauses)
    with ThreadPoolExecutor(4) as executor:
        campaign = asynchronous(experiment, executor, k=k, seed=seed, budget=10)
        result = campaign.run(progress=False)
    chosen = [job.candidate_id for job in campaign._memory_store.jobs()]
    assert len(chosen) == len(set(chosen)) == 10
    assert (result.history["state"] == "succeeded").all()


class DieOnce:
    """The first call kills its own worker process (SIGKILL); later calls measure."""

    def __init__(self, marker):
        self.marker = Path(marker)

    def __call__(self, candidate):
        if not self.marker.exists():
            self.marker.write_text("killed")
            os.kill(os.getpid(), signal.SIGKILL)
        return float(FRAME.loc[int(candidate.id), "y"])


def test_a_killed_worker_process_is_a_retried_transient_failure(tmp_path):
    pool = RecoveringProcessPool(max_workers=2)
    campaign = asynchronous(
        DieOnce(str(tmp_path / "killed")), pool, k=2, budget=8, retry_backoff=0.0
    )
    try:
        result = campaign.run(progress=False)
    finally:
        pool.shutdown(wait=False)
    history = result.history
    assert len(history) == 8 and history["candidate_id"].is_unique
    assert (history["state"] == "succeeded").all()
    attempts = campaign._memory_store.attempts()
    assert len(attempts) >= 1 and set(attempts["error_class"]) == {"transient"}
    assert attempts["error_message"].str.contains("BrokenProcessPool|terminated abruptly").all()
    assert pool.rebuilds >= 1


class AlwaysDiesOnTheFirst:
    """The first candidate called kills its worker process on every call (a design that
    segfaults the code); the others take a while, so they are in flight when it dies."""

    def __init__(self, marker):
        self.marker = Path(marker)

    def __call__(self, candidate):
        try:
            os.close(os.open(self.marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            self.marker.write_text(candidate.id)
        except FileExistsError:
            pass
        time.sleep(0.1)
        if self.marker.read_text() == candidate.id:
            os.kill(os.getpid(), signal.SIGKILL)
        time.sleep(0.3)
        return float(FRAME.loc[int(candidate.id), "y"])


def test_a_design_that_kills_its_process_fails_alone(tmp_path):
    pool = RecoveringProcessPool(max_workers=3)
    campaign = asynchronous(
        AlwaysDiesOnTheFirst(tmp_path / "doomed"), pool, k=3, budget=6, max_retries=2,
        retry_backoff=0.0,
    )  # fmt: skip
    try:
        history = campaign.run(progress=False).history
    finally:
        pool.shutdown(wait=False)
    doomed = (tmp_path / "doomed").read_text()
    failed = history[history["state"] != "succeeded"]
    assert list(failed["candidate_id"]) == [doomed] and failed["error_class"].iloc[0] == "transient"
    assert len(history) == 6


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"max_in_flight": 0}, r"max_in_flight \(K\) must be an integer >= 1, got 0"),
        ({"pending": "liar"}, "pending must be one of"),
    ],
)
def test_bad_asynchronous_settings_are_refused(options, message):
    with pytest.raises(ConfigurationError, match=message):
        asynchronous(lambda c: 1.0, None, k=2).replace(**options)


def test_unknown_executor_and_bad_worker_counts_are_refused():
    with pytest.raises(ConfigurationError, match="executor: unknown name 'gpu'"):
        resolve_executor("gpu")
    with pytest.raises(ConfigurationError, match="workers: must be >= 1, got 0"):
        resolve_executor("thread", workers=0)


def test_an_oracle_without_an_executor_under_k_learns_from_each_result_before_the_next():
    # each call runs inside submit: nothing is ever in flight, so every choice may know
    # every result before it (as a synchronous campaign's does)
    def y(candidate):
        return float(FRAME.loc[int(candidate.id), "y"])

    target = 1.7  # 1.73 at best; found in the teens
    settings = dict(surrogate="forest", budget=30, n_initial=2, seed=0, target=target)
    history = {
        k: Campaign(POOL, FunctionOracle(y, output="y"), "y", max_in_flight=k, **settings)
        .run(progress=False)
        .history
        for k in (None, 4)
    }
    assert (history[4]["kind"] == "initial").sum() == 2  # not four, one per slot
    assert history[4]["candidate_id"].tolist() == history[None]["candidate_id"].tolist()
    assert history[4]["y"].iloc[-1] >= target  # stopped at the target, not past it


def test_the_time_per_iteration_counts_the_model_choices_only():
    # under K, the initial design's choices are iterations of their own, fitting nothing
    def y(candidate):
        return float(FRAME.loc[int(candidate.id), "y"])

    with ThreadPoolExecutor(3) as pool:
        oracle = FunctionOracle(y, output="y", executor=pool)
        result = Campaign(
            POOL, oracle, "y", surrogate="forest", budget=8, n_initial=1, max_in_flight=3
        ).run(progress=False)
    history = result.history.drop_duplicates("iteration")
    modelled = history[history["kind"] == "model"]
    assert (history["kind"] == "initial").sum() > 1 and len(modelled) > 1
    expected = (modelled["fit_seconds"] + modelled["selection_seconds"]).mean()
    assert result.summary()["seconds_per_iteration"] == pytest.approx(expected)
