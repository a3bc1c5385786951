"""A stored campaign read for its report: one consistent, read-only snapshot of the store."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from discovery.config import CampaignConfig
from discovery.exceptions import StoreError
from discovery.history import CampaignResult, budget_spent, history_frame
from discovery.search_space import Space
from discovery.store import OPEN_STATES, CampaignStore, run_lock_held


@dataclass
class StoredCampaign:
    """What a report shows: the configuration, the result rebuilt from the store, and
    whether the campaign is still running (a process runs it and it has not ended)."""

    path: Path
    config: CampaignConfig
    result: CampaignResult
    is_running: bool
    pool_note: str

    @property
    def state(self) -> str:
        """Where it stands: "running", "finished", or "stopped" (before its end, with no
        process running it: killed or interrupted; running it again resumes it)."""
        if self.is_running:
            return "running"
        return "stopped" if self.result.stopped_because == "stopped" else "finished"


def load_campaign(path: str | Path) -> StoredCampaign:
    """Read a campaign's store without writing to it or blocking a campaign that runs
    in another process (the read is one snapshot of the write-ahead log).

    Raises:
        StoreError: the file is missing, not a store, written by a newer version, or
            holds no campaign.
    """
    path = Path(path)
    store = CampaignStore(path, read_only=True)
    try:
        config, jobs, policy = _read_snapshot(store, path)
        pool, pool_note = _pool(store)
    finally:
        store.close()
    history = history_frame(
        jobs, config.objective, config.maximize, config.closest_to, config.optimum, config.outcomes
    )
    result = CampaignResult(
        history=history,
        objective=config.objective,
        maximize=config.maximize,
        closest_to=config.closest_to,
        goal=config.goal,
        optimum=config.optimum,
        policy=policy,
        outcomes=config.outcomes,
        wall_seconds=_wall_seconds(jobs),
        stopped_because="running",
        pool=pool,
        surrogate=None if config.policy else config.surrogate,
    )
    result.stopped_because = _stopped_because(config, result, pool, run_lock_held(path))
    return StoredCampaign(path, config, result, result.stopped_because == "running", pool_note)


def _stopped_because(config: CampaignConfig, result: CampaignResult, pool: Any, held: bool) -> str:
    """Why the stored campaign stopped, as its loop would say; "running" while a process
    runs it and its last experiments are still out (or no reason to stop holds yet);
    "stopped" when no reason holds and no process runs it."""
    reason = _end_reached(config, result, pool)
    if held and (reason is None or result.history["state"].isin(OPEN_STATES).any()):
        return "running"
    return reason or "stopped"


def _end_reached(config: CampaignConfig, result: CampaignResult, pool: Any) -> str | None:
    """The loop's reason to stop that holds (budget, target, nothing left), or None."""
    spent = budget_spent(result.history)
    if spent >= config.budget:
        return "budget"
    measured = result.measured
    if config.outcomes is not None:
        measured = measured[measured["feasible"]]
    values = measured[config.objective] if config.objective in measured else []
    if config.target_reached(config.best_utility(values)):
        return "target"
    if isinstance(pool, Space):
        if pool.is_listed and spent >= len(pool.listed()[0]):
            return "space exhausted"
    elif pool is not None and spent >= len(pool):
        return "pool exhausted"
    return None


def read_history(path: Path) -> tuple[CampaignConfig, pd.DataFrame, list[dict[str, Any]]]:
    """The configuration, job rows and portfolio records of a store, read in one
    consistent snapshot, read-only: a campaign running in another process goes on.

    Raises:
        StoreError: the file is missing, not a store, from a newer version, or empty.
    """
    store = CampaignStore(path, read_only=True)
    try:
        return _read_snapshot(store, path)
    finally:
        store.close()


def _read_snapshot(
    store: CampaignStore, path: Path
) -> tuple[CampaignConfig, pd.DataFrame, list[dict[str, Any]]]:
    with store.snapshot() as db:
        row = store.campaign_row()
        if row is None:
            raise StoreError(f"store {path}: holds no campaign")
        config = CampaignConfig.from_json(row["config_json"])
        jobs = CampaignStore.history_from(db, config.objective)
        policy = store.policy_records()
    return config, jobs, policy


def _pool(store: CampaignStore) -> tuple[Any, str]:
    """The campaign's pool or space; None (with the reason) when it cannot be rebuilt,
    e.g. an array pool whose file has moved: the report then leaves out the figures
    that need the designs' features."""
    try:
        return store.load_pool(), ""
    except StoreError as error:
        return None, str(error)


def _wall_seconds(jobs: Any) -> float:
    if jobs.empty:
        return 0.0
    started = datetime.fromisoformat(jobs["created_at"].min())
    last = datetime.fromisoformat(jobs["updated_at"].max())
    return max((last - started).total_seconds(), 0.0)
