"""What a campaign against a misbehaving simulated lab must show, whatever the protocol."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from discovery import CampaignStore
from simulators.lab import Lab


def restart_when_busy(lab: Lab, experiments: int, restart: Callable[[], None]) -> threading.Thread:
    """A started thread that restarts the lab once it ran ``experiments`` and is busy."""

    def wait_and_restart() -> None:
        lab.wait_until_busy(experiments)
        restart()

    thread = threading.Thread(target=wait_and_restart, daemon=True)
    thread.start()
    return thread


def check_nothing_lost_or_run_twice(store_path: Path, lab: Lab, objective: str) -> None:
    """Every experiment the lab ran is in the store once (same value) or failed as an
    instrument failure; no key ran twice; the restart's lost jobs were each sent again
    once and then finished."""
    store = CampaignStore(store_path, read_only=True)
    jobs = store.history(objective).set_index("idempotency_key")
    attempts = store.attempts()
    state_of = {job.job_id: job.state for job in store.jobs()}
    store.close()
    log = pd.DataFrame(lab.log)
    ran = log[log["outcome"].isin(["succeeded", "failed"])]
    assert not ran["idempotency_key"].duplicated().any()  # nothing ran twice for one key
    lost = attempts[attempts["error_class"] == "lost"]
    assert len(lost) >= 1  # the restart lost jobs in flight, and the campaign noticed
    for _, entry in ran.iterrows():
        job = jobs.loc[entry["idempotency_key"]]
        if entry["outcome"] == "succeeded" and job["state"] == "succeeded":
            assert job[objective] == entry["result"][objective]
        else:
            assert job["state"] == "failed" and job["error_class"] == "instrument"
    assert not lost["job_id"].duplicated().any()  # each lost job re-dispatched once
    assert {state_of[i] for i in lost["job_id"]} <= {"succeeded", "failed"}
