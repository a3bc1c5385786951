import functools
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import pandas as pd
import pytest

from discovery import Candidate, CandidatePool, ConfigurationError, FunctionOracle, LookupOracle
from tests.oracles.conformance import check_oracle, wait_for

CANDIDATE = Candidate("c1", {"x": 2.0})


def square(candidate):
    return candidate.parameters["x"] ** 2


def broken(candidate):
    raise RuntimeError("furnace door open")


@pytest.mark.parametrize("executor", [None, ThreadPoolExecutor(2)], ids=["inline", "threads"])
def test_function_oracle_conformance(executor):
    check_oracle(FunctionOracle(square, output="y", executor=executor), CANDIDATE, "y")


def test_function_oracle_reports_dicts_as_they_are():
    oracle = FunctionOracle(lambda c: {"energy": -1.0, "gap": 2.0})
    assert wait_for(oracle, oracle.submit(CANDIDATE)).result == {"energy": -1.0, "gap": 2.0}


@pytest.mark.parametrize("executor", [None, ThreadPoolExecutor(1)], ids=["inline", "threads"])
def test_a_failing_function_fails_the_job_with_its_traceback(executor):
    oracle = FunctionOracle(broken, executor=executor)
    status = wait_for(oracle, oracle.submit(CANDIDATE))
    assert status.state == "failed"
    assert status.error.startswith("RuntimeError: furnace door open")
    assert "def broken" in status.error or "broken" in status.error


def test_a_job_from_another_process_is_lost_and_cancelling_it_does_nothing():
    oracle = FunctionOracle(square, executor=ThreadPoolExecutor(1))
    assert oracle.poll({"job_id": "not-mine"}).state == "lost"
    oracle.cancel({"job_id": "not-mine"})  # a campaign cancels what it left running
    assert oracle.poll({"job_id": "not-mine"}).state == "lost"


def wait_until_running(oracle, handle, timeout=10.0):
    deadline = time.monotonic() + timeout
    while oracle.poll(handle).state != "running" and time.monotonic() < deadline:
        time.sleep(0.01)


def test_a_call_waiting_for_a_worker_is_queued_until_a_worker_takes_it():
    """Before: a call waiting behind a busy worker was reported running."""
    release = threading.Event()
    oracle = FunctionOracle(lambda c: release.wait(10) and 1.0, executor=ThreadPoolExecutor(1))
    busy, waiting = oracle.submit(CANDIDATE), oracle.submit(Candidate("c2", {"x": 3.0}))
    wait_until_running(oracle, busy)
    assert oracle.poll(waiting).state == "queued"
    release.set()
    assert wait_for(oracle, waiting).state == "succeeded"


def test_cancelling_a_hung_call_lets_the_calls_waiting_behind_it_run():
    """Before: cancelling a running call did nothing; the calls queued behind it on the
    only worker never ran while it hung."""
    release = threading.Event()

    def first_hangs(candidate):
        if candidate.id == "hangs":
            release.wait(30)
        return square(candidate)

    oracle = FunctionOracle(first_hangs, output="y", executor=ThreadPoolExecutor(1))
    hung = oracle.submit(Candidate("hangs", {"x": 1.0}))
    waiting = oracle.submit(CANDIDATE)
    wait_until_running(oracle, hung)
    oracle.cancel(hung)
    later = oracle.submit(Candidate("c3", {"x": 3.0}))
    try:
        assert wait_for(oracle, waiting, timeout=5).result == {"y": 4.0}
        assert wait_for(oracle, later, timeout=5).result == {"y": 9.0}
    finally:
        release.set()


def hangs_until_released(candidate):
    """Module level, for a process pool: the candidate "hangs" waits for its release file."""
    release = candidate.parameters.get("release")
    deadline = time.monotonic() + 30
    while release and not os.path.exists(release) and time.monotonic() < deadline:
        time.sleep(0.05)
    return square(candidate)


def test_cancelling_a_hung_call_on_the_process_pool_lets_the_later_calls_run(tmp_path):
    """Before: the calls after a cancelled hung one waited for it to end."""
    from discovery.executors import resolve_executor

    release = tmp_path / "release"
    pool = resolve_executor("process", workers=1)
    oracle = FunctionOracle(hangs_until_released, output="y", executor=pool)
    hung = oracle.submit(Candidate("hangs", {"x": 1.0, "release": str(release)}))
    wait_until_running(oracle, hung)
    oracle.cancel(hung)
    try:
        assert wait_for(oracle, oracle.submit(CANDIDATE), timeout=20).result == {"y": 4.0}
        assert oracle.poll(hung).state == "running"  # it hangs yet, in the pool left to it
        assert type(oracle.executor) is type(pool) and oracle.executor.max_workers == 1
    finally:
        release.touch()


def dies_when_asked(candidate):
    """Module level, for a process pool: the candidate "dies" ends its worker process, as
    a segfault or the OOM killer would."""
    if candidate.id == "dies":
        os._exit(1)
    return square(candidate)


def test_a_worker_that_dies_fails_its_experiment_only():
    """Before: the README's ProcessPoolExecutor broke with its worker, and every later
    submission raised BrokenProcessPool, failing the rest of the campaign."""
    with ProcessPoolExecutor(1) as pool:
        oracle = FunctionOracle(dies_when_asked, output="y", executor=pool)
        died = wait_for(oracle, oracle.submit(Candidate("dies", {"x": 1.0})))
        assert (died.state, died.error_class) == ("failed", "transient")  # retried
        later = wait_for(oracle, oracle.submit(CANDIDATE))
        assert (later.state, later.result) == ("succeeded", {"y": 4.0}), later.error
        assert type(oracle.executor) is ProcessPoolExecutor
        oracle.executor.shutdown()


def hangs(candidate, release):
    if candidate.id == "hangs":
        release.wait(30)
    return square(candidate)


def test_a_timed_out_call_leaves_the_callers_own_executor_running():
    """Before: cancelling a running call shut down the executor passed in, so a second
    campaign sharing it failed every experiment ('cannot schedule new futures after
    shutdown')."""
    release = threading.Event()
    shared = ThreadPoolExecutor(2)
    first = FunctionOracle(functools.partial(hangs, release=release), executor=shared)
    hung = first.submit(Candidate("hangs", {"x": 1.0}))
    wait_until_running(first, hung)
    first.cancel(hung)
    try:
        assert first.executor is not shared  # the first campaign goes on elsewhere
        second = FunctionOracle(square, output="y", executor=shared)
        status = wait_for(second, second.submit(CANDIDATE))
        assert (status.state, status.result) == ("succeeded", {"y": 4.0}), status.error
    finally:
        release.set()
        shared.shutdown()
        first.executor.shutdown()


WORKER = threading.local()  # what a pool's initializer prepared in this worker


def get_ready(label):
    WORKER.label = label


def needs_its_initializer(candidate):
    """Module level, for a process pool: fails in a worker that its pool's initializer
    did not prepare (one that loads a model, opens a connection)."""
    if getattr(WORKER, "label", None) != "ready":
        raise RuntimeError("worker not initialised")
    return hangs_until_released(candidate)


@pytest.mark.parametrize("kind", [ThreadPoolExecutor, ProcessPoolExecutor])
def test_the_pool_after_a_timed_out_call_is_made_with_the_same_settings(kind, tmp_path):
    """Before: the fresh pool had no initializer, so every later call failed."""
    release = tmp_path / "release"
    pool = kind(1, initializer=get_ready, initargs=("ready",))
    oracle = FunctionOracle(needs_its_initializer, output="y", executor=pool)
    hung = oracle.submit(Candidate("hangs", {"x": 1.0, "release": str(release)}))
    wait_until_running(oracle, hung)
    oracle.cancel(hung)
    try:
        later = wait_for(oracle, oracle.submit(CANDIDATE), timeout=20)
        assert (later.state, later.result) == ("succeeded", {"y": 4.0}), later.error
        assert oracle.executor is not pool
    finally:
        release.touch()
        pool.shutdown()
        oracle.executor.shutdown()


def test_function_oracle_needs_a_callable():
    with pytest.raises(ConfigurationError, match="callable"):
        FunctionOracle(42)


def test_an_executor_given_by_name_is_named_at_construction():
    with pytest.raises(ConfigurationError, match=r"use discovery.executors.resolve_executor"):
        FunctionOracle(lambda c: 1.0, executor="thread")


def test_lookup_oracle_replays_recorded_values():
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": [10.0, 20.0, 30.0]})
    pool = CandidatePool.from_frame(frame, objective="y")
    oracle = LookupOracle.from_pool(pool, "y")
    check_oracle(oracle, pool.candidate(1), "y")
    assert oracle.poll(oracle.submit(pool.candidate(2))).result == {"y": 30.0}
    assert oracle.poll({"candidate_id": "99"}).state == "failed"
    assert oracle.optimum == (10.0, 30.0)


def test_lookup_oracle_names_a_missing_objective():
    pool = CandidatePool.from_frame(pd.DataFrame({"x": [1.0, 2.0]}))
    with pytest.raises(ConfigurationError, match="objective 'y' not in the pool's columns"):
        LookupOracle.from_pool(pool, "y")


@pytest.mark.parametrize(
    ("recorded", "message"),
    [
        (["10 %", "20 %", "30 %"], r"objective column 'y' holds '10 %' for candidate '0', not a "),
        (
            [10.0, float("inf"), 30.0],
            r"objective column 'y' holds inf for candidate '1', not a fin",
        ),
    ],
    ids=["text", "inf"],
)
def test_lookup_oracle_names_the_column_candidate_and_value_it_cannot_replay(recorded, message):
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": recorded})
    pool = CandidatePool.from_frame(frame, objective="y")
    with pytest.raises(ConfigurationError, match=message):
        LookupOracle.from_pool(pool, "y")
    gaps = LookupOracle({"a": 1.0, "b": float("nan"), "c": None}, "y")  # empty: not measured
    assert gaps.known_ids == {"a"}


def test_a_function_a_process_pool_cannot_receive_is_refused_before_any_experiment():
    from discovery.executors import resolve_executor

    def local(candidate):
        return 1.0

    pool = ProcessPoolExecutor(1)  # starts no process until a job is submitted
    for function in (lambda c: 1.0, local):
        with pytest.raises(ConfigurationError, match=r"cannot be sent to another process .*"):
            FunctionOracle(function, executor=pool)
    oracle = FunctionOracle(lambda c: 1.0)
    with pytest.raises(ConfigurationError, match=r"module level .* \(--executor thread"):
        oracle.executor = resolve_executor("process", workers=1)  # as `discovery run` does
    assert oracle.executor is None
    assert FunctionOracle(square, executor=pool).executor is pool
    oracle.executor = ThreadPoolExecutor(1)  # threads share the function: no pickling
    pool.shutdown()
