"""Failures are classified, transient ones retried with backoff, overdue jobs timed out."""

import time
import zlib
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from discovery import Campaign, ConfigurationError, FunctionOracle
from discovery.exceptions import InstrumentError, TransientError
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
