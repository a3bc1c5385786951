"""Where oracle calls run: inline, a thread pool, a process pool, or a Dask cluster.

Anything with the ``concurrent.futures.Executor`` interface works; these are the
built-in choices by name. A process pool whose worker dies is rebuilt on the
next submission (the jobs in flight fail as transient and are retried, each in a process
of its own, so that only the job that kills its process keeps failing).
"""

from __future__ import annotations

import functools
import importlib.machinery
import multiprocessing
import os
import pickle
import sys
import threading
from collections.abc import Iterable
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from discovery.exceptions import ConfigurationError

EXECUTOR_NAMES = ("inline", "thread", "process", "dask")
#: Seconds to wait for a Dask scheduler before calling it unreachable.
SCHEDULER_TIMEOUT_SECONDS = 5.0
#: Modules a fork server imports once, before it forks workers (importing runs no OpenMP):
#: each worker would otherwise import torch and the oracles anew, seconds each.
FORKSERVER_PRELOAD = ("discovery.oracles",)


def _importable_by_name(component: Any) -> bool:
    """Whether a process started afresh can import ``component`` (a function, a class, or
    an instance of one) by its module's name: not one of the main script's, nor of a file
    loaded under a name of its own (``discovery run`` loads a campaign file so)."""
    if not hasattr(component, "__qualname__"):
        component = type(component)
    module = getattr(component, "__module__", None)
    loaded = sys.modules.get(module) if module else None
    if (
        loaded is None
        or module in ("__main__", "__mp_main__")
        or "<locals>" in str(getattr(component, "__qualname__", ""))
    ):
        return False
    spec = getattr(loaded, "__spec__", None)
    return spec is not None and _found_by_name(module, spec.origin)


@functools.cache
def _found_by_name(module: str, origin: str | None) -> bool:
    """Whether import finds the module of this name at ``origin`` (its loaded file), not
    elsewhere or nowhere; asked once per module, not at every submission."""
    if origin in (None, "built-in", "frozen"):
        return True
    parent = module.rpartition(".")[0]
    search = getattr(sys.modules.get(parent), "__path__", None) if parent else None
    if parent and search is None:
        return False
    found = importlib.machinery.PathFinder.find_spec(module, search)
    return found is not None and found.origin == origin


def _callables_sent(values: Iterable[Any]) -> list[Any]:
    """The callables among ``values`` that a worker must import to receive them; a
    ``functools.partial`` has no module of its own to judge it by, so it stands for its
    type, the function it wraps and the callables it is given (nested partials too)."""
    sent = []
    for value in values:
        if isinstance(value, functools.partial):
            parts = (value.func, *value.args, *value.keywords.values())
            sent += [type(value), *_callables_sent(parts)]
        elif callable(value):
            sent.append(value)
    return sent


def _starts_afresh(fn: Any, args: tuple, kwargs: dict) -> bool:
    """Whether a job's function and the callables it is given can run in a worker started
    afresh (see :func:`_process_pool`)."""
    given = _callables_sent((fn, *args, *kwargs.values()))
    held = [  # an instance's own callables: an ASE calculation's structure builder
        value
        for component in given
        if not hasattr(component, "__qualname__")
        for value in _callables_sent(getattr(component, "__dict__", {}).values())
    ]
    return all(_importable_by_name(c) for c in (*given, *held))


def _process_pool(max_workers: int | None, afresh: bool) -> ProcessPoolExecutor:
    """A process pool whose workers start afresh (from a fork server; spawned where there
    is none) or, where the job's function lives in the main script or a file loaded by
    path, which such a worker could not import, are forked from this process.

    A forked worker inherits this process's OpenMP runtime, and GNU libgomp is not
    fork-safe: once this process has run OpenMP code (torch does, in every GP fit), an
    OpenMP region in the worker (tblite through ASE, a torch potential) deadlocks for
    ever. The oracles' own functions (:class:`~discovery.oracles.ase.AseOracle`'s
    calculation) and any function of an importable module therefore run in fresh workers.
    """
    if not afresh:
        return ProcessPoolExecutor(max_workers=max_workers)
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(list(FORKSERVER_PRELOAD))
    else:
        context = multiprocessing.get_context("spawn")
    return ProcessPoolExecutor(max_workers=max_workers, mp_context=context)


class RecoveringProcessPool(Executor):
    """A process pool that replaces itself when a worker process dies.

    A worker that dies (a segfault, the OOM killer) breaks the whole pool: every job in
    flight fails with ``BrokenProcessPool`` (a transient failure, retried by the
    campaign), though one caused it. A call submitted again after its run broke a pool
    then runs in a process of its own, so the retried jobs cannot take each other down
    again and only the one that kills its process keeps failing; other calls go to a
    fresh shared pool. Calls are recognised by their pickled function and arguments:
    new experiments submitted between the retries do not take the retries' places.

    Jobs whose functions a fresh process can import run in workers started from a fork
    server, the others (functions of the main script) in forked ones (see
    :func:`_process_pool`); each kind of pool is made at its first submission.
    """

    def __init__(self, max_workers: int | None = None) -> None:
        self.max_workers = max_workers
        self.rebuilds = 0
        self._pools: dict[bool, ProcessPoolExecutor] = {}  # by whether workers start afresh
        self._lock = threading.Lock()
        self._in_flight: dict[Future, tuple] = {}  # each future's call, until seen done
        self._suspects: list[bytes] = []  # calls whose last run broke its pool, pickled

    def submit(self, fn, /, *args: Any, **kwargs: Any) -> Future:
        afresh = _starts_afresh(fn, args, kwargs)
        call = (fn, args, kwargs)
        with self._lock:
            self._note_broken_calls()
            isolate = self._is_suspect(call)
            if not isolate and afresh not in self._pools:
                self._pools[afresh] = _process_pool(self.max_workers, afresh)
        if isolate:
            alone = _process_pool(1, afresh)
            future = alone.submit(fn, *args, **kwargs)
            future.add_done_callback(lambda _: alone.shutdown(wait=False))
        else:
            try:
                future = self._pools[afresh].submit(fn, *args, **kwargs)
            except BrokenProcessPool:
                self._pools[afresh].shutdown(wait=False, cancel_futures=True)
                self._pools[afresh] = _process_pool(self.max_workers, afresh)
                self.rebuilds += 1
                future = self._pools[afresh].submit(fn, *args, **kwargs)
        with self._lock:
            self._in_flight[future] = call
        return future

    def _note_broken_calls(self) -> None:
        """Take the calls of finished futures that a dying worker broke as suspects. Read
        here, at the next submission, not in a done-callback: a campaign can see a future
        done and submit its retry before the future's callbacks have run."""
        for future in [f for f in self._in_flight if f.done()]:
            call = self._in_flight.pop(future)
            if not future.cancelled() and isinstance(future.exception(), BrokenProcessPool):
                key = _pickled(call)
                if key is not None:
                    self._suspects.append(key)

    def _is_suspect(self, call: tuple) -> bool:
        """Whether ``call`` broke a pool on its last run (it is then no longer one)."""
        if not self._suspects:
            return False
        key = _pickled(call)
        if key not in self._suspects:
            return False
        self._suspects.remove(key)
        return True

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        for pool in list(self._pools.values()):
            pool.shutdown(wait=wait, cancel_futures=cancel_futures)


def _pickled(call: tuple) -> bytes | None:
    """A call's function and arguments as bytes, to know it again; None where they do not
    pickle (a process pool could not run the call either)."""
    try:
        return pickle.dumps(call)
    except (pickle.PicklingError, TypeError, AttributeError):
        return None


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
