"""Where oracle calls run: inline, a thread pool, a process pool, or a Dask cluster.

Anything with the ``concurrent.futures.Executor`` interface works; these are the
built-in choices by name. A process pool whose worker dies is rebuilt on the
next submission (the jobs in flight fail as transient and are retried, each in a process
of its own, so that only the job that kills its process keeps failing).
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from discovery.exceptions import ConfigurationError

EXECUTOR_NAMES = ("inline", "thread", "process", "dask")
#: Seconds to wait for a Dask scheduler before calling it unreachable.
SCHEDULER_TIMEOUT_SECONDS = 5.0


class RecoveringProcessPool(Executor):
    """A process pool that replaces itself when a worker process dies.

    A worker that dies (a segfault, the OOM killer) breaks the whole pool: every job in
    flight fails with ``BrokenProcessPool`` (a transient failure, retried by the
    campaign), though one caused it. The next submissions, as many as the futures that
    broke, then run each in a process of its own, so the retried jobs cannot take each
    other down again and only the one that kills its process keeps failing; the next
    submission after that starts a fresh shared pool.
    """

    def __init__(self, max_workers: int | None = None) -> None:
        self.max_workers = max_workers
        self.rebuilds = 0
        self._pool = ProcessPoolExecutor(max_workers=max_workers)
        self._lock = threading.Lock()
        self._to_isolate = 0  # submissions still to run alone, one per broken future

    def submit(self, fn, /, *args: Any, **kwargs: Any) -> Future:
        with self._lock:
            isolate = self._to_isolate > 0
            self._to_isolate -= isolate
        if isolate:
            alone = ProcessPoolExecutor(max_workers=1)
            future = alone.submit(fn, *args, **kwargs)
            future.add_done_callback(lambda _: alone.shutdown(wait=False))
        else:
            try:
                future = self._pool.submit(fn, *args, **kwargs)
            except BrokenProcessPool:
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = ProcessPoolExecutor(max_workers=self.max_workers)
                self.rebuilds += 1
                future = self._pool.submit(fn, *args, **kwargs)
        future.add_done_callback(self._count_broken)
        return future

    def _count_broken(self, future: Future) -> None:
        if not future.cancelled() and isinstance(future.exception(), BrokenProcessPool):
            with self._lock:
                self._to_isolate += 1

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._pool.shutdown(wait=wait, cancel_futures=cancel_futures)


def dask_executor(scheduler: Any) -> Executor:
    """The executor of a Dask ``Client``, or of a client connected to ``scheduler``
    (an address such as ``tcp://host:8786``), contacted with a short timeout.

    Raises:
        ConfigurationError: Dask is not installed, or the scheduler does not answer.
    """
    try:
        from distributed import Client
    except ImportError:
        raise ConfigurationError(
            "executor 'dask' needs Dask distributed: pip install 'discovery[dask]'"
        ) from None
    # pure=False: a retried job is a new task, not Dask's cached (failed) one.
    if isinstance(scheduler, Client):
        return scheduler.get_executor(pure=False)
    try:
        client = Client(scheduler, timeout=SCHEDULER_TIMEOUT_SECONDS)
    except (OSError, TimeoutError) as error:
        raise ConfigurationError(
            f"scheduler: cannot reach Dask scheduler at {scheduler} ({error})"
        ) from None
    return client.get_executor(pure=False)


def resolve_executor(
    spec: str | Executor | Any, workers: int | None = None, scheduler: str | None = None
) -> Executor | None:
    """An executor from a name ("inline", "thread", "process", "dask"), an Executor,
    or a ``dask.distributed.Client``; None means inline (calls run at submit).

    Raises:
        ConfigurationError: unknown name, workers < 1, or an unreachable scheduler.
    """
    if workers is not None and workers < 1:
        raise ConfigurationError(f"workers: must be >= 1, got {workers}")
    if isinstance(spec, Executor):
        return spec
    if type(spec).__name__ == "Client":
        return dask_executor(spec)
    if not isinstance(spec, str) or spec not in EXECUTOR_NAMES:
        raise ConfigurationError(
            f"executor: unknown name {spec!r}; choose one of {list(EXECUTOR_NAMES)}, "
            "or pass a concurrent.futures.Executor or a dask.distributed.Client"
        )
    if spec == "inline":
        return None
    if spec == "thread":
        return ThreadPoolExecutor(max_workers=workers)
    if spec == "process":
        return RecoveringProcessPool(max_workers=workers or os.cpu_count())
    if scheduler is None:
        raise ConfigurationError("executor 'dask' needs a scheduler address (--scheduler)")
    return dask_executor(scheduler)
