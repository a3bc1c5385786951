"""The Oracle protocol: submit a candidate, poll its job through a JSON handle, cancel it.

A handle is plain JSON (a dict of strings and numbers) so that it can be stored
before anything else happens and used again after a restart to find the job.
"""

from __future__ import annotations

import json
from concurrent.futures import BrokenExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from discovery.exceptions import ConfigurationError, ExperimentError
from discovery.space import Candidate

Handle = dict[str, Any]

QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED, LOST = (
    "queued",
    "running",
    "succeeded",
    "failed",
    "cancelled",
    "lost",
)
JOB_STATES = (QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED, LOST)
#: The name a plain number is reported under when nobody named it (FunctionOracle's
#: default ``output``): such a result is the campaign's objective, whatever it is called.
UNNAMED_OUTPUT = "value"
FINISHED_STATES = (SUCCEEDED, FAILED, CANCELLED, LOST)


@dataclass(frozen=True)
class Status:
    """Where a job stands.

    Attributes:
        state: one of queued, running, succeeded, failed, cancelled, lost.
        result: measured properties by name, once succeeded.
        error: what went wrong, once failed or lost.
        error_class: the kind of failure: "transient" (retried), "instrument",
            "configuration", "timeout" or "failed" (anything else).
        progress: the fraction done while running, when the oracle knows it.
    """

    state: str
    result: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    error_class: str | None = None
    progress: float | None = None

    def __post_init__(self) -> None:
        if self.state not in JOB_STATES:
            raise ConfigurationError(f"status: unknown state '{self.state}'; one of {JOB_STATES}")

    @property
    def is_finished(self) -> bool:
        """Whether the job will not change state any more."""
        return self.state in FINISHED_STATES


#: Exceptions that mean the machinery, not the experiment, failed: worth another attempt.
TRANSIENT_EXCEPTIONS: tuple[type[BaseException], ...] = (
    BrokenExecutor,
    ConnectionError,
    TimeoutError,
)


def failure_class(error: BaseException) -> str:
    """The kind of failure an exception raised by (or around) an oracle stands for."""
    if isinstance(error, ExperimentError):
        return error.failure_class
    if isinstance(error, ConfigurationError):
        return "configuration"
    if isinstance(error, TRANSIENT_EXCEPTIONS) or type(error).__name__ in (
        "KilledWorker",
        "CommClosedError",
    ):
        return "transient"
    return "failed"


@runtime_checkable
class Oracle(Protocol):
    """Anything that runs experiments on candidates.

    ``submit`` must return quickly with a JSON handle; ``poll`` reports the job's
    state and, once it succeeded, its result; ``cancel`` asks it to stop.
    """

    def submit(self, candidate: Candidate) -> Handle: ...

    def poll(self, handle: Handle) -> Status: ...

    def cancel(self, handle: Handle) -> None: ...


def check_handle(handle: Any, oracle_name: str) -> Handle:
    """The handle itself if it is a JSON-able dict; a clear error otherwise."""
    if not isinstance(handle, dict):
        raise ConfigurationError(
            f"oracle {oracle_name}: submit must return a dict handle, got {type(handle).__name__}"
        )
    try:
        json.dumps(handle)
    except (TypeError, ValueError) as error:
        raise ConfigurationError(
            f"oracle {oracle_name}: handle {handle!r} is not JSON-serialisable ({error})"
        ) from None
    return handle
