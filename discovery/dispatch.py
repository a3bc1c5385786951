"""Sending jobs to an oracle and seeing them through: submit, poll, retry, time out, record.

Failures are classified: ``transient`` ones (a dropped connection, a dead
worker, the oracle's own :class:`~discovery.exceptions.TransientError`) are
sent again under the same idempotency key after an exponential backoff, up to
a limit; ``instrument`` and ``configuration`` failures are recorded at once; a
job that runs past its deadline is cancelled where the oracle can and recorded as a
``timeout``. The deadline counts from when a poll first finds the job running: time
spent queued (waiting for a worker, for a free station at the lab) does not count, so a
job that is only ever reported queued waits for its turn however long that is. Every
failed attempt is written to the store.

One error is no job's failure: :class:`~discovery.exceptions.AccessRefused` (the lab
refused credentials it took before) goes up and stops the run, with nothing recorded,
so that every job in flight keeps its handle in the store and a run with renewed
credentials polls it again.
"""

from __future__ import annotations

import math
import time
from collections import deque
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from discovery.exceptions import AccessRefused
from discovery.objectives import Objectives
from discovery.oracles.base import (
    FAILED,
    LOST,
    RUNNING,
    SUCCEEDED,
    UNNAMED_OUTPUT,
    Oracle,
    Status,
    check_handle,
    failure_class,
)
from discovery.space import CandidatePool
from discovery.store import SUBMITTED, CampaignStore, Job

#: Longest pause between two polls of unfinished jobs, in seconds.
MAX_POLL_INTERVAL = 5.0
#: Times one job may be lost and sent again within one process before it counts as failed
#: (a stopped process loses its jobs once, a restarted instrument once more).
MAX_LOSSES_PER_PROCESS = 2
TRANSIENT, TIMEOUT = "transient", "timeout"


@dataclass(frozen=True)
class RetryPolicy:
    """How failures are retried and how long a job may run.

    Attributes:
        max_retries: transient failures retried per job before it is recorded failed.
        backoff: seconds before the first retry; doubled for each further one.
        deadline: seconds a job may run, counted from the first poll that finds it
            running (time queued does not count), before it is cancelled and recorded
            as ``timeout``; None waits for ever.
    """

    max_retries: int = 3
    backoff: float = 1.0
    deadline: float | None = None


class Dispatcher:
    """Keeps a set of jobs in flight on one oracle and records each outcome once."""

    def __init__(
        self,
        oracle: Oracle,
        store: CampaignStore,
        pool: CandidatePool,
        objective: str | Objectives,
        policy: RetryPolicy,
        poll_interval: float,
        capacity: int | None = None,
    ) -> None:
        self.oracle, self.store, self.pool = oracle, store, pool
        self.objective, self.policy, self.poll_interval = objective, policy, poll_interval
        self.capacity = capacity  # jobs on the oracle at once; None: no limit
        self._queued: deque[Job] = deque()  # taken, not yet submitted: waiting for a slot
        self._waiting: dict[int, Job] = {}
        self._started: dict[int, float] = {}  # when a poll first found the job running
        self._retry_at: dict[int, tuple[float, Job]] = {}
        self._losses: dict[int, int] = {}
        # counted over every run: a resumed campaign does not retry a job afresh
        self._transient_failures = store.failed_attempts(TRANSIENT)
        self._recorded_early = 0  # finished at submit, recorded, not yet counted as finished

    @property
    def in_flight(self) -> int:
        """Jobs taken and not counted as finished: submitted, waiting for their retry or
        for a slot, or recorded at submit (see :meth:`_submit`) until :meth:`run_until`
        counts them."""
        waiting = len(self._waiting) + len(self._retry_at) + len(self._queued)
        return waiting + self._recorded_early

    def pending_candidates(self) -> list[str]:
        """Candidate ids of the jobs in flight."""
        jobs = [*self._waiting.values(), *(job for _, job in self._retry_at.values())]
        return [job.candidate_id for job in [*jobs, *self._queued]]

    def describe_in_flight(self) -> str:
        """For the progress display: jobs in flight, the age of the oldest, jobs queued."""
        queued = f", {len(self._queued)} queued" if self._queued else ""
        if not self._waiting:
            return f"in flight: 0{queued}"
        now = time.monotonic()
        oldest = max(now - self._started.get(job_id, now) for job_id in self._waiting)
        return f"in flight: {len(self._waiting)} (oldest {oldest:.0f} s){queued}"

    def add(self, job: Job) -> None:
        """Take a job: poll it if it already has a handle, otherwise submit it as soon as
        fewer than ``capacity`` jobs occupy the oracle."""
        if job.state == SUBMITTED and job.handle:
            # Start times are not stored: the deadline of a job resumed after a restart
            # counts from when this process first finds it running.
            self._waiting[job.job_id] = job
        else:
            self._queued.append(job)
            self._submit_queued()

    def _submit_queued(self) -> None:
        """Submit queued jobs while the oracle has free slots (a job awaiting its retry
        keeps its slot)."""
        while self._queued and (
            self.capacity is None or len(self._waiting) + len(self._retry_at) < self.capacity
        ):
            self._submit(self._queued.popleft())

    def run_until(self, enough: int | None = None) -> int:
        """Poll until ``enough`` jobs have finished (None: all of them) or none is left in
        flight; how many did."""
        finished, pause = self.take_recorded_at_submit(), self.poll_interval
        while self.in_flight and (enough is None or finished < enough):
            done = self.step() + self.take_recorded_at_submit()  # retries sent by the step
            finished += done
            if not done and self.in_flight:
                self._wait(pause)
                pause = min(pause * 2, MAX_POLL_INTERVAL)
            elif done:
                pause = self.poll_interval
            self._submit_queued()
            finished += self.take_recorded_at_submit()
        return finished

    def take_recorded_at_submit(self) -> int:
        """Jobs recorded at submit since last asked (an oracle that runs each call inside
        submit, a submission refused for good), now counted as finished."""
        taken, self._recorded_early = self._recorded_early, 0
        return taken

    def _wait(self, seconds: float) -> None:
        """Pause before the next poll; an oracle that can wait on its jobs ends it early."""
        wait = getattr(self.oracle, "wait", None)
        handles = [job.handle for job in self._waiting.values()]
        if self._retry_at:  # a retry falls due: do not sleep past it
            seconds = min(
                seconds, max(0.0, min(d for d, _ in self._retry_at.values()) - time.monotonic())
            )
        if callable(wait) and handles:
            try:
                wait(handles, timeout=seconds)
                return
            except Exception:  # waiting is a courtesy: the next polls say what failed
                pass
        time.sleep(seconds)

    def step(self) -> int:
        """One pass: send due retries, poll every job once; how many jobs finished."""
        now = time.monotonic()
        for job_id, (due, job) in list(self._retry_at.items()):
            if due <= now:
                del self._retry_at[job_id]
                self._submit(job)
        finished = 0
        for job_id, job in list(self._waiting.items()):
            status = self._poll(job)
            if status.state == RUNNING:
                self._started.setdefault(job_id, now)
            if status.state == LOST and self._may_dispatch_again(job_id):
                del self._waiting[job_id]
                self.store.record_attempt(job_id, LOST, status.error, reopen=True)
                self._submit(job)
            elif status.is_finished:
                del self._waiting[job_id]
                finished += self._finish(job, status)
            elif self._is_overdue(job_id, now):
                del self._waiting[job_id]
                self._cancel(job)
                finished += self._finish(
                    job,
                    Status(
                        FAILED,
                        error=f"no result after {self.policy.deadline} s",
                        error_class=TIMEOUT,
                    ),
                )
        return finished

    def _submit(self, job: Job) -> None:
        """Send the job; record its handle, or its failure at submit.

        Raises:
            AccessRefused: the oracle refused the credentials; the job stays as stored.
        """
        candidate = replace(
            self.pool.candidate(self.pool.index_of(job.candidate_id)),
            idempotency_key=job.idempotency_key,
        )
        try:
            handle = check_handle(self.oracle.submit(candidate), type(self.oracle).__name__)
        except AccessRefused:
            raise  # every job would be refused alike: stop, record nothing
        except Exception as error:  # a failed submission is a failed attempt, not a crash
            # counted as finished, as a result recorded at submit is: its slot is free
            self._recorded_early += self._finish(
                job,
                Status(
                    FAILED,
                    error=f"submit: {type(error).__name__}: {error}",
                    error_class=failure_class(error),
                ),
            )
            return
        self.store.record_submission(job.job_id, handle)
        self._waiting[job.job_id] = replace(job, handle=handle, state=SUBMITTED)
        self._started.pop(job.job_id, None)  # a job sent again has not run yet
        if getattr(self.oracle, "finishes_at_submit", False):
            # The experiment ran inside submit: record its result now, before the next one
            # runs, so that a stop in the middle of a batch loses none of those before.
            status = self._poll(self._waiting[job.job_id])
            if status.is_finished:
                del self._waiting[job.job_id]
                self._recorded_early += self._finish(job, status)

    def _poll(self, job: Job) -> Status:
        """The job's status; a poll that raised, as the attempt's failure.

        Raises:
            AccessRefused: the oracle refused the credentials; the job keeps its handle.
        """
        try:
            status = self.oracle.poll(job.handle)
        except AccessRefused:
            raise  # the lab may well finish the job: a resumed run polls it again
        except Exception as error:  # an unreadable poll fails the attempt, not the run
            return Status(
                FAILED,
                error=f"poll: {type(error).__name__}: {error}",
                error_class=failure_class(error),
            )
        if not isinstance(status, Status):
            return Status(
                FAILED,
                error=f"poll: {type(self.oracle).__name__} answered {status!r:.200}, not a Status",
                error_class="instrument",
            )
        return status

    def _cancel(self, job: Job) -> None:
        try:
            self.oracle.cancel(job.handle)
        except Exception as error:  # cancelling is best effort; the timeout is recorded
            self.store.record_attempt(job.job_id, "cancel", f"{type(error).__name__}: {error}")

    def _may_dispatch_again(self, job_id: int) -> bool:
        """Count a loss; whether the job may be sent again (transient retries do not count)."""
        self._losses[job_id] = self._losses.get(job_id, 0) + 1
        return self._losses[job_id] <= MAX_LOSSES_PER_PROCESS

    def _is_overdue(self, job_id: int, now: float) -> bool:
        """Whether the job has run past the deadline; one never found running has not."""
        deadline, started = self.policy.deadline, self._started.get(job_id)
        return deadline is not None and started is not None and now - started > deadline

    def _finish(self, job: Job, status: Status) -> int:
        """Record the outcome, or schedule a retry of a transient failure; 1 if recorded."""
        self._started.pop(job.job_id, None)
        if status.state == FAILED and status.error_class == TRANSIENT:
            failures = self._transient_failures.get(job.job_id, 0) + 1
            self._transient_failures[job.job_id] = failures
            if failures <= self.policy.max_retries:
                self.store.record_attempt(job.job_id, TRANSIENT, status.error, reopen=True)
                delay = self.policy.backoff * 2 ** (failures - 1)
                self._retry_at[job.job_id] = (time.monotonic() + delay, job)
                return 0
            self.store.record_attempt(job.job_id, TRANSIENT, status.error)
        state, error, value = status.state, status.error, None
        error_class = status.error_class or (None if state == SUCCEEDED else state)
        if state == SUCCEEDED:
            value, error = read_result(status.result, self.objective)
            state, error_class = (SUCCEEDED, None) if error is None else (FAILED, "result")
        self.store.record_outcome(
            job.job_id,
            state,
            value=value,
            result=status.result if isinstance(status.result, dict) else None,  # the error says
            error_class=error_class,
            error_message=error,
            measured=state == SUCCEEDED,
        )
        return 1


def read_result(
    result: dict[str, Any], objective: str | Objectives
) -> tuple[float | None, str | None]:
    """The first objective's value from an oracle result (None when a result of several
    properties lacks it), or why the result cannot be used."""
    if not isinstance(result, dict):
        return None, f"result must be a dict of measured properties, got {result!r:.200}"
    if isinstance(objective, str):
        return objective_value(result, objective)
    outputs, error = objective.read(result)
    if error is not None:
        return None, error
    return (None if math.isnan(outputs[0]) else float(outputs[0])), None


def objective_value(result: dict[str, Any], objective: str) -> tuple[float | None, str | None]:
    """The objective's value from an oracle result, or why it cannot be read. A result
    of one unnamed number (``{"value": ...}``) is the objective; one property of another
    name is not (a lab reporting absorbance is not measuring toughness)."""
    if objective in result:
        raw = result[objective]
    elif list(result) == [UNNAMED_OUTPUT]:
        raw = result[UNNAMED_OUTPUT]
    else:
        return None, f"result has no '{objective}' (keys: {sorted(result)})"
    if isinstance(raw, (bool, np.bool_)):  # float() would read True as 1.0
        return None, f"result '{objective}' is {raw}, a boolean, not a number"
    try:
        value = float(raw)
    except (TypeError, ValueError, OverflowError):  # 10**400 overflows a float
        return None, f"result '{objective}' is not a number: {raw!r:.200}"
    if not math.isfinite(value):
        return None, f"result '{objective}' is not finite: {value}"
    return value, None
