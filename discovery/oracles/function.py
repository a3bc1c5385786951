"""Oracles for Python callables and for recorded data (dataset emulators)."""

from __future__ import annotations

import concurrent.futures
import math
import pickle
import time
import traceback
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import (
    FIRST_COMPLETED,
    BrokenExecutor,
    Executor,
    Future,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
)
from typing import Any

import numpy as np

from discovery.exceptions import ConfigurationError
from discovery.oracles.base import (
    FAILED,
    LOST,
    QUEUED,
    RUNNING,
    SUCCEEDED,
    UNNAMED_OUTPUT,
    Handle,
    Status,
    failure_class,
)
from discovery.rewards import best_position
from discovery.space import Candidate, CandidatePool

#: Longest sleep while waiting on futures that cannot be waited on directly (Dask).
SHORT_WAIT_SECONDS = 0.05
#: The settings a standard pool is made with, by the attribute CPython keeps each in, so
#: that a fresh pool gets them too (its workers need the initializer a job relies on).
POOL_SETTINGS = {
    ProcessPoolExecutor: {
        "mp_context": "_mp_context",
        "initializer": "_initializer",
        "initargs": "_initargs",
        "max_tasks_per_child": "_max_tasks_per_child",
    },
    ThreadPoolExecutor: {
        "initializer": "_initializer",
        "initargs": "_initargs",
        "thread_name_prefix": "_thread_name_prefix",
    },
}


def _as_result(value: Any, output: str) -> dict[str, Any]:
    if isinstance(value, Mapping):
        return dict(value)
    return {output: float(value)}


def _describe(error: BaseException) -> str:
    lines = traceback.format_exception(type(error), error, error.__traceback__)
    return f"{type(error).__name__}: {error}\n{''.join(lines)}"


def _call(function: Callable[[Candidate], Any], output: str, candidate: Candidate) -> dict:
    """One experiment; module-level so that process pools and Dask can pickle it."""
    return _as_result(function(candidate), output)


def _is_recovering_pool(executor: Executor | None) -> bool:
    # By name for discovery.executors' pool: the layers contract keeps oracles from
    # importing executors.
    return type(executor).__name__ == "RecoveringProcessPool"


def _is_process_pool(executor: Executor | None) -> bool:
    # Dask pickles with cloudpickle, which takes lambdas.
    return isinstance(executor, ProcessPoolExecutor) or _is_recovering_pool(executor)


def _is_local_pool(executor: Executor | None) -> bool:
    """Whether the executor is a thread or process pool of this machine: one that marks a
    call running when a worker takes it, and that this oracle knows how to make again.
    (Dask's futures stay pending until done, and Dask cancels its own running tasks.)"""
    return type(executor) in (ThreadPoolExecutor, ProcessPoolExecutor) or _is_recovering_pool(
        executor
    )


def _pool_settings(executor: Executor) -> dict[str, Any]:
    """The settings a standard pool was made with, as keyword arguments; one this Python
    does not keep where CPython does is left to its default."""
    attributes = POOL_SETTINGS.get(type(executor), {})
    return {
        setting: getattr(executor, attribute)
        for setting, attribute in attributes.items()
        if hasattr(executor, attribute)
    }


def _fresh_pool(executor: Executor) -> Executor:
    """An idle pool of the same kind, size and settings as ``executor``, a local pool."""
    if _is_recovering_pool(executor):
        return type(executor)(executor.max_workers)
    # The standard pools keep their size and settings in private attributes.
    return type(executor)(executor._max_workers, **_pool_settings(executor))


def _check_picklable(function: Callable[[Candidate], Any]) -> None:
    """Refuse a function that a process pool could not send to its workers: every job
    would fail, spending the whole budget.

    Raises:
        ConfigurationError: pickle cannot serialize the function.
    """
    try:
        pickle.dumps(function)
    except (pickle.PicklingError, AttributeError, TypeError) as error:
        name = getattr(function, "__qualname__", type(function).__name__)
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ConfigurationError(
            f"FunctionOracle: function {name} cannot be sent to another process ({reason}); "
            "define it at module level (def measure(candidate): ...), or run it on threads "
            "(--executor thread, or a ThreadPoolExecutor)"
        ) from None


def _failed(error: BaseException) -> Status:
    return Status(FAILED, error=_describe(error), error_class=failure_class(error))


class FunctionOracle:
    """Runs any Python callable as the experiment.

    The callable receives the :class:`Candidate` (its ``id`` and original
    ``parameters``) and returns a number (stored under ``output``) or a dict of
    measured properties. An exception it raises fails that job with the
    traceback recorded; the campaign goes on.

    On a thread or process pool a call is reported queued until a worker takes it (a
    process pool hands one call more than it has workers to them ahead of time; Dask's
    calls are reported running from submission). Python cannot stop a call that has
    started: cancelling one (a job past its deadline) leaves it running in its worker
    until the function returns, so the oracle leaves that pool to it and sends the calls
    still waiting there, and all later ones, to a fresh pool of the same kind, size and
    settings. The interpreter still waits at exit for the abandoned call to return.

    A worker process that dies (a segfault, the OOM killer) breaks a standard
    ``ProcessPoolExecutor``: the calls it ran fail (as transient, so the campaign retries
    them) and the oracle sends later calls to a fresh pool. A pool the oracle leaves is
    shut down only if the oracle made it; the executor passed in is the caller's, perhaps
    shared with another campaign, and is left running.

    Args:
        function: ``function(candidate) -> float | dict``.
        output: the property name a plain number is reported as.
        executor: a ``concurrent.futures.Executor`` to run calls on; None runs
            each call at submit time, in the caller's thread.
    """

    def __init__(
        self,
        function: Callable[[Candidate], Any],
        output: str = UNNAMED_OUTPUT,
        executor: Executor | None = None,
    ) -> None:
        if not callable(function):
            raise ConfigurationError(
                f"FunctionOracle: function must be callable, got {type(function).__name__}"
            )
        self.function = function
        self.output = output
        self.executor = executor
        self._made_pools: list[Executor] = []  # fresh pools made here, so ours to shut down
        self._jobs: dict[str, Future | Status] = {}
        self._waiting_calls: dict[str, Candidate] = {}  # calls on a pool, not yet done

    @property
    def executor(self) -> Executor | None:
        """Where calls run; None runs each at submit time."""
        return self._executor

    @executor.setter
    def executor(self, executor: Executor | None) -> None:
        """Checked whenever set (the command line sets it from ``--executor``), so a
        function a process pool cannot receive is refused before any experiment.

        Raises:
            ConfigurationError: not an Executor, or a process pool and a function that
                cannot be pickled (a lambda, a function defined inside another).
        """
        if executor is not None and not callable(getattr(executor, "submit", None)):
            raise ConfigurationError(
                f"FunctionOracle: executor must be a concurrent.futures Executor, got "
                f"{executor!r}; for a name such as 'thread' use "
                f"discovery.executors.resolve_executor({executor!r})"
            )
        if _is_process_pool(executor):
            _check_picklable(self.function)
        self._executor = executor

    @property
    def finishes_at_submit(self) -> bool:
        """Whether each call runs inside :meth:`submit` (no executor): the campaign then
        records its result at once, before it submits the next."""
        return self.executor is None

    def submit(self, candidate: Candidate) -> Handle:
        """Start the call and return ``{"job_id": ...}``."""
        job_id = uuid.uuid4().hex
        if self.executor is not None:
            self._jobs[job_id] = self._submit_to_pool(candidate)
            self._waiting_calls[job_id] = candidate
            return {"job_id": job_id}
        try:
            self._jobs[job_id] = Status(
                SUCCEEDED, result=_call(self.function, self.output, candidate)
            )
        except (Exception, SystemExit) as error:  # the experiment failed, not the campaign
            self._jobs[job_id] = _failed(error)
        return {"job_id": job_id}

    def _submit_to_pool(self, candidate: Candidate) -> Future:
        """Submit the call to the executor, or to a fresh pool if it is a standard process
        pool that a dead worker broke: that one refuses every call from then on."""
        try:
            return self.executor.submit(_call, self.function, self.output, candidate)
        except BrokenExecutor:
            if type(self.executor) is not ProcessPoolExecutor:
                raise
            self._shut_down_if_made_here(self._move_to_fresh_pool())
            return self.executor.submit(_call, self.function, self.output, candidate)

    def poll(self, handle: Handle) -> Status:
        """The job's status; a job this process never started (e.g. before a restart) is lost."""
        job = self._jobs.get(str(handle.get("job_id")))
        if job is None:
            return Status(LOST, error=f"no job {handle.get('job_id')} in this process")
        if isinstance(job, Status):
            return job
        if not job.done():  # concurrent.futures and Dask futures answer alike
            waits = _is_local_pool(self.executor) and not job.running()
            return Status(QUEUED if waits else RUNNING)
        self._waiting_calls.pop(str(handle.get("job_id")), None)
        if job.cancelled():
            return Status(LOST, error="the executor cancelled the call")
        error = job.exception()
        if error is not None:
            return _failed(error)
        return Status(SUCCEEDED, result=job.result())

    def wait(self, handles: list[Handle], timeout: float) -> None:
        """Return as soon as one of these jobs finishes, or after ``timeout`` seconds.

        Lets a campaign react to a finished experiment at once instead of at its
        next poll. Jobs on a Dask cluster are waited for by sleeping briefly.
        """
        futures = [self._jobs.get(str(h.get("job_id"))) for h in handles]
        local = [f for f in futures if isinstance(f, Future)]
        if any(isinstance(f, Status) or (f is not None and f.done()) for f in futures):
            return
        if local and len(local) == len(futures):
            concurrent.futures.wait(local, timeout=timeout, return_when=FIRST_COMPLETED)
        else:
            time.sleep(min(timeout, SHORT_WAIT_SECONDS))

    def cancel(self, handle: Handle) -> None:
        """Cancel the call; one already running on a thread or process pool cannot be
        stopped, so its pool is left to it (see :meth:`_leave_pool`). A job this process
        never started (one from before a restart) has nothing here to cancel."""
        job_id = str(handle.get("job_id"))
        job = self._jobs.get(job_id)
        if job is None or isinstance(job, Status):
            return
        self._waiting_calls.pop(job_id, None)
        if not job.cancel() and not job.done() and _is_local_pool(self.executor):
            self._leave_pool()

    def _leave_pool(self) -> None:
        """Send later calls, and those still waiting for a worker, to a fresh pool: the
        old one keeps a worker busy with a call nobody waits for, perhaps for ever."""
        old = self._move_to_fresh_pool()
        for job_id, candidate in list(self._waiting_calls.items()):
            future = self._jobs[job_id]
            if isinstance(future, Future) and future.cancel():  # never started: move it
                self._jobs[job_id] = self._executor.submit(
                    _call, self.function, self.output, candidate
                )
        self._shut_down_if_made_here(old)

    def _move_to_fresh_pool(self) -> Executor:
        """Send later calls to a fresh pool of the same kind, size and settings; return the
        pool left."""
        old, self._executor = self._executor, _fresh_pool(self._executor)
        self._made_pools.append(self._executor)
        return old

    def _shut_down_if_made_here(self, pool: Executor) -> None:
        """Shut down a pool this oracle made (its running calls finish, its idle workers
        leave). The caller's own executor is left running: another campaign may share it."""
        if pool in self._made_pools:
            self._made_pools.remove(pool)
            pool.shutdown(wait=False)


def _recorded(column: str, values: Mapping[str, Any]) -> dict[str, float]:
    """Recorded values by candidate id as floats; a missing one (None, NaN) is no record.

    Raises:
        ConfigurationError: a value is text or infinite, naming the column, the
            candidate and the value.
    """
    recorded = {}
    for candidate_id, value in values.items():
        if value is None:
            continue
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ConfigurationError(
                f"LookupOracle: {column} holds {value!r} for candidate '{candidate_id}', "
                "not a number; write it as a plain number (12.5, not '12.5 %' or '12,5')"
            ) from None
        if math.isinf(number):
            raise ConfigurationError(
                f"LookupOracle: {column} holds {number} for candidate '{candidate_id}', "
                "not a finite number; leave the cell empty where nothing was measured"
            )
        if not math.isnan(number):
            recorded[str(candidate_id)] = number
    return recorded


class LookupOracle:
    """A dataset emulator: "measures" a candidate by returning its recorded value.

    Handles are the candidate ids themselves, so they stay valid across restarts.

    Args:
        values: recorded objective value by candidate id.
        objective: the name the value is reported under.
        others: further recorded properties, by name, each a value by candidate id,
            reported with the objective (None where a candidate has no record), for
            campaigns with several objectives or outcome constraints.
    """

    def __init__(
        self,
        values: Mapping[str, float],
        objective: str,
        others: Mapping[str, Mapping[str, float]] | None = None,
    ) -> None:
        self.values = _recorded(f"objective column '{objective}'", values)
        if not self.values:
            raise ConfigurationError("LookupOracle: no recorded values")
        self.objective = objective
        self.others = {
            name: _recorded(f"column '{name}'", recorded)
            for name, recorded in (others or {}).items()
        }

    @classmethod
    def from_pool(
        cls, pool: CandidatePool, objective: str, others: Sequence[str] = ()
    ) -> LookupOracle:
        """The emulator of a pool whose table holds the measured ``objective`` column
        (and the ``others`` columns, reported with it)."""
        for kind, column in [("objective", objective), *(("column", o) for o in others)]:
            if column not in pool.frame.columns:
                raise ConfigurationError(
                    f"LookupOracle: {kind} '{column}' not in the pool's columns "
                    f"{list(pool.frame.columns)}"
                )

        def by_id(column: str) -> dict[str, float]:
            return dict(zip(pool.ids, pool.frame[column].to_numpy(), strict=True))

        return cls(by_id(objective), objective, {name: by_id(name) for name in others})

    @property
    def outputs(self) -> tuple[str, ...]:
        """Every property this emulator reports: the objective, then the others."""
        return (self.objective, *self.others)

    @property
    def known_ids(self) -> set[str]:
        """The candidate ids this emulator can answer for."""
        return set(self.values)

    @property
    def optimum(self) -> tuple[float, float]:
        """The (min, max) recorded values: what a perfect campaign could find."""
        values = list(self.values.values())
        return min(values), max(values)

    def best_recorded(
        self, ids: Iterable[str], maximize: bool = True, closest_to: float | None = None
    ) -> float | None:
        """The best recorded value among ``ids`` (the largest, the smallest, or the
        closest to ``closest_to``): the optimum a campaign's regret is measured to."""
        values = [self.values[i] for i in map(str, ids) if i in self.values]
        if not values:
            return None
        return values[best_position(values, maximize, closest_to)]

    def recorded_outputs(self, ids: Iterable[str], names: Sequence[str]) -> np.ndarray:
        """(n, k) the recorded value of each named property for each id (NaN where none
        is recorded): which designs meet a campaign's outcome constraints."""
        columns = {self.objective: self.values, **self.others}
        return np.array(
            [[columns.get(name, {}).get(str(i), math.nan) for name in names] for i in ids],
            dtype=np.float64,
        ).reshape(-1, len(names))

    def submit(self, candidate: Candidate) -> Handle:
        return {"candidate_id": candidate.id}

    def poll(self, handle: Handle) -> Status:
        candidate_id = str(handle.get("candidate_id"))
        if candidate_id not in self.values:
            return Status(FAILED, error=f"no recorded value for candidate '{candidate_id}'")
        result = {self.objective: self.values[candidate_id]}
        result.update({name: v.get(candidate_id) for name, v in self.others.items()})
        return Status(SUCCEEDED, result=result)

    def cancel(self, handle: Handle) -> None:
        """Nothing to stop: a lookup finishes at once."""
