"""Process pools: workers that start afresh where they can, so that an OpenMP experiment
does not deadlock in a worker forked from a campaign that has fitted a GP."""

import functools
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import pytest

from discovery import Candidate, FunctionOracle
from discovery.cli.run import load_campaign_module
from discovery.executors import RecoveringProcessPool, _starts_afresh
from tests.openmp_experiment import MATRIX_SIZE, matrix_product_sum
from tests.oracles.conformance import wait_for

#: Seconds a job may take, worker start-up included, before it is called hung.
RESULT_TIMEOUT_SECONDS = 60


def die_if_doomed(marker: str, name: str) -> str:
    """A job that takes a while, and kills its worker process where ``marker`` names it."""
    time.sleep(0.2)  # the others are in flight when it dies
    if Path(marker).read_text() == name:
        os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(0.3)
    return name


@pytest.fixture
def pool():
    """A one-worker pool whose workers are killed at the end: a hung one would otherwise
    keep the test session from exiting."""
    pool = RecoveringProcessPool(max_workers=1)
    yield pool
    end_workers(pool)


def end_workers(pool: RecoveringProcessPool) -> None:
    """Kill a pool's worker processes and shut it down."""
    for executor in list(getattr(pool, "_pools", {}).values()):
        for process in list((executor._processes or {}).values()):
            process.kill()
    pool.shutdown(wait=False, cancel_futures=True)


def test_a_worker_runs_openmp_code_after_this_process_has(pool):
    """tblite through ASE hung for ever in a process pool once the campaign had fitted a
    GP: GNU libgomp is not fork-safe, and a worker forked after torch ran a parallel
    region here deadlocks in its own first one."""
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        matrix = torch.rand(MATRIX_SIZE, MATRIX_SIZE)
        assert float((matrix @ matrix).sum()) > 0
    finally:
        torch.set_num_threads(threads)
    future = pool.submit(matrix_product_sum)
    assert future.result(timeout=RESULT_TIMEOUT_SECONDS) > 0


def test_a_function_defined_in_a_campaign_file_runs_in_a_worker(pool, tmp_path, monkeypatch):
    """`discovery run` loads a campaign file under a name of its own, which a worker
    started afresh could not import: its functions run in forked workers."""
    monkeypatch.setattr(sys, "path", list(sys.path))
    campaign_file = tmp_path / "melting.py"
    campaign_file.write_text("def melting_point(scale):\n    return 1234.5 * scale\n")
    module = load_campaign_module(campaign_file)
    try:
        assert not _starts_afresh(module.melting_point, (), {})
        future = pool.submit(module.melting_point, 2)
        assert future.result(timeout=RESULT_TIMEOUT_SECONDS) == 2469.0
    finally:
        del sys.modules[module.__name__]


class Holder:
    """An instance that holds a function, as an ASE calculation holds its structures."""

    def __init__(self, function):
        self.function = function

    def __call__(self, value):
        return self.function(value)


def test_a_job_holding_a_function_only_a_fork_can_find_runs_forked():
    """An ASE calculation whose structure builder is defined in the main script: a fresh
    worker would fail every job unpickling it."""

    def local(value):
        return value

    assert _starts_afresh(Holder(matrix_product_sum), (), {})
    assert not _starts_afresh(Holder(local), (), {})
    assert not _starts_afresh(matrix_product_sum, (local,), {})


def test_a_partial_of_a_function_defined_in_a_campaign_file_runs_in_a_worker(
    pool, tmp_path, monkeypatch
):
    """Before: a partial was judged by its own type, importable anywhere, so its calls
    went to workers started afresh that could not import the campaign file: every
    experiment failed with BrokenProcessPool."""
    monkeypatch.setattr(sys, "path", list(sys.path))
    campaign_file = tmp_path / "melting.py"
    campaign_file.write_text("def melting_point(candidate, scale):\n    return 1234.5 * scale\n")
    module = load_campaign_module(campaign_file)
    try:
        measure = functools.partial(module.melting_point, scale=2.0)
        oracle = FunctionOracle(measure, output="y", executor=pool)
        status = wait_for(oracle, oracle.submit(Candidate("c1", {})), RESULT_TIMEOUT_SECONDS)
        assert (status.state, status.result) == ("succeeded", {"y": 2469.0}), status.error
        given = functools.partial(matrix_product_sum, functools.partial(module.melting_point))
        assert not _starts_afresh(given, (), {})  # a partial given to a partial
        assert not _starts_afresh(Holder(measure), (), {})  # a partial an instance holds
        assert _starts_afresh(functools.partial(matrix_product_sum), (), {})
    finally:
        del sys.modules[module.__name__]


SCRIPT = """
from discovery.executors import RecoveringProcessPool


def doubled(value):
    return 2 * value


pool = RecoveringProcessPool(max_workers=1)
print(pool.submit(doubled, 21).result(timeout=60))
pool.shutdown()
"""


def test_a_function_of_an_unguarded_script_runs_in_a_worker(tmp_path):
    """A script's own function, run without `if __name__ == "__main__":`, as before."""
    script = tmp_path / "script.py"
    script.write_text(SCRIPT)
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "42"


def test_retried_calls_run_alone_though_new_ones_are_submitted_first(tmp_path):
    """After a worker died, the next submissions ran alone, as many as the calls that
    broke, whatever they were: new experiments sent first took those places, the retries
    went back to a shared pool, and the design that kills its process broke its
    neighbours' runs again (three retried experiments failed for good in one suite run)."""
    marker = tmp_path / "doomed"
    marker.write_text("d")
    pool = RecoveringProcessPool(max_workers=3)
    try:
        broken = [pool.submit(die_if_doomed, str(marker), name) for name in "dbc"]
        wait(broken, timeout=RESULT_TIMEOUT_SECONDS)
        assert all(isinstance(f.exception(), BrokenProcessPool) for f in broken)
        new = [pool.submit(die_if_doomed, str(marker), name) for name in "xyz"]
        retried = {name: pool.submit(die_if_doomed, str(marker), name) for name in "dbc"}
        assert retried["b"].result(timeout=RESULT_TIMEOUT_SECONDS) == "b"
        assert retried["c"].result(timeout=RESULT_TIMEOUT_SECONDS) == "c"
        assert isinstance(retried["d"].exception(timeout=RESULT_TIMEOUT_SECONDS), BrokenProcessPool)
        assert [f.result(timeout=RESULT_TIMEOUT_SECONDS) for f in new] == ["x", "y", "z"]
    finally:
        end_workers(pool)
