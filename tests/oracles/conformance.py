"""The oracle conformance suite: every oracle, built-in or a user's, must pass it."""

from __future__ import annotations

import json
import time

from discovery.oracles.base import JOB_STATES, Status
from discovery.space import Candidate


def wait_for(oracle, handle, timeout: float = 10.0) -> Status:
    deadline = time.monotonic() + timeout
    while True:
        status = oracle.poll(handle)
        assert isinstance(status, Status) and status.state in JOB_STATES
        if status.is_finished or time.monotonic() > deadline:
            return status
        time.sleep(0.01)


def check_oracle(oracle, candidate: Candidate, objective: str) -> None:
    """Submit returns a JSON handle; polling it ends in success with the objective."""
    handle = oracle.submit(candidate)
    assert json.loads(json.dumps(handle)) == handle
    status = wait_for(oracle, handle)
    assert status.state == "succeeded", status.error
    assert isinstance(float(status.result[objective]), float)
    oracle.cancel(handle)  # cancelling a finished job is harmless
    assert oracle.poll(handle).state == "succeeded"
