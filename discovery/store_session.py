"""Opening a campaign's store for one call: lock it, check it holds this campaign, release it."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from discovery.config import CampaignConfig
from discovery.exceptions import ConfigurationError, StoreError
from discovery.objectives import Objectives
from discovery.oracles.base import SUCCEEDED
from discovery.search_space import Space
from discovery.space import CandidatePool
from discovery.store import OPEN_STATES, CampaignStore, journal_files

#: Configuration keys that may change between runs of one stored campaign.
#: Settings a stored campaign takes from the code that reopens it. ``auto_strategy`` is
#: among them because stores written before it was recorded lack it.
CHANGEABLE_ON_RESUME = ("budget", "target", "optimum", "auto_strategy")
WAY_OUT = "use --store elsewhere (store=...) or --new to start afresh, keeping the old file"


class StoreSession:
    """Context manager: the locked, checked store of a campaign for one run, ask or tell."""

    def __init__(
        self,
        config: CampaignConfig,
        pool: CandidatePool | Space,
        store: CampaignStore,
        owned: bool,
    ) -> None:
        self.config, self.pool, self.store, self.owned = config, pool, store, owned

    def __enter__(self) -> CampaignStore:
        try:
            self.store.acquire_lock()
            attach(self.config, self.pool, self.store)
        except BaseException:
            if self.owned:
                self.store.close()
            raise
        return self.store

    def __exit__(self, *exc_info: Any) -> None:
        if self.owned:
            self.store.close()


def attach(
    campaign_config: CampaignConfig, pool: CandidatePool | Space, store: CampaignStore
) -> None:
    """Initialise a new store, or check that an existing one holds this campaign.

    Raises:
        StoreError: the store holds another pool or a differently configured
            campaign; the message names what differs. The file is not changed.
    """
    config = campaign_config.to_dict()
    row = store.campaign_row()
    if row is None:
        store.initialize(campaign_config.name, config, pool)
        return
    where = store.path
    if row["pool_fingerprint"] != pool.fingerprint():
        raise StoreError(
            f"store {where} holds a campaign on another pool (ids or features differ); {WAY_OUT}"
        )
    stored = CampaignConfig.from_json(row["config_json"]).to_dict()
    differing = [k for k in config if k not in CHANGEABLE_ON_RESUME and stored[k] != config[k]]
    if differing:
        was = ", ".join(f"{k}={stored[k]!r}" for k in differing)
        now = ", ".join(f"{k}={config[k]!r}" for k in differing)
        raise StoreError(f"store {where} holds this campaign with {was}, not {now}; {WAY_OUT}")
    if any(stored[k] != config[k] for k in CHANGEABLE_ON_RESUME):
        store.update_config(config)


def move_aside(path: Path) -> Path:
    """Rename an existing store so a new one can start; the old one is kept whole.

    Its write-ahead journal is folded in first; where a reader left open keeps part of
    it from being folded, the journal files are renamed with the store, so that the
    renamed store still opens with every committed row. The new name carries the time
    and, when that name is taken, a counter: no earlier file is ever replaced.

    Raises:
        StoreError: another process is running the campaign in that store.
    """
    try:
        old = CampaignStore(path)
    except StoreError:
        old = None  # not a readable store: keep the file as it is
    folded = True
    if old is not None:
        try:
            old.acquire_lock()
            folded = old.checkpoint()
        finally:
            old.close()
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    aside = path.with_name(f"{path.stem}-{stamp}{path.suffix}")
    copies = 1
    while any(p.exists() for p in (aside, *journal_files(aside))):
        copies += 1
        aside = path.with_name(f"{path.stem}-{stamp}-{copies}{path.suffix}")
    path.rename(aside)
    for journal, renamed in zip(journal_files(path), journal_files(aside), strict=True):
        if journal.exists():
            if folded:
                journal.unlink()
            else:
                journal.rename(renamed)
    return aside


def record_told(
    store: CampaignStore,
    pool: CandidatePool,
    objective: str | Objectives,
    rows: list[tuple[str, Any, dict | None]],
) -> None:
    """Record user-reported results (id, value, parameters), one transaction each, in order.

    A row whose id is not in the pool is a design outside the pool: it needs its
    parameters, which must encode on the pool's features. With several objectives
    (``objective`` an :class:`Objectives`) a value is a dict of the measured
    properties; a property may be None (not measured).

    Raises:
        ConfigurationError: an unknown id without parameters, a value that is not a
            finite number (or a dict that lacks a declared property), or a candidate
            that already has an outcome.
    """
    jobs = {job.candidate_id: job for job in store.jobs()}
    measured = {candidate_id for candidate_id, _, _ in store.measurements()}
    for candidate_id, raw, parameters in rows:
        is_external = candidate_id not in pool
        if is_external and not parameters:
            raise ConfigurationError(
                f"tell: unknown candidate id '{candidate_id}'; a design outside the pool "
                f"needs its parameters {pool.parameter_columns}"
            )
        value, result = _told_result(objective, candidate_id, raw)
        if is_external:
            if candidate_id in measured:
                raise ConfigurationError(f"tell: '{candidate_id}' already has a measurement")
            pool.encode(pd.DataFrame([parameters]))  # refuse what the models cannot use
            store.record_external(candidate_id, value, parameters, result)
            measured.add(candidate_id)
            continue
        job = jobs.get(candidate_id)
        if job is not None and job.state not in OPEN_STATES:
            raise ConfigurationError(
                f"tell: candidate '{candidate_id}' already has an outcome ({job.state})"
            )
        job = job or store.record_told_job(candidate_id)
        store.record_outcome(
            job.job_id, SUCCEEDED, value=value, result=result, source="told", measured=True
        )
        jobs[candidate_id] = replace(job, state=SUCCEEDED)


def _told_result(
    objective: str | Objectives, candidate_id: str, raw: Any
) -> tuple[float | None, dict[str, Any]]:
    """The stored value (the first objective's, None when not measured) and result of
    a told measurement."""
    if isinstance(objective, Objectives):
        if not isinstance(raw, Mapping):
            raise ConfigurationError(
                f"tell: value for '{candidate_id}' must be a dict of the measured properties "
                f"{list(objective.outputs)}, got {raw!r}"
            )
        row, error = objective.read(raw)
        if error is not None:
            raise ConfigurationError(f"tell: '{candidate_id}': {error}")
        result = {
            name: None if math.isnan(v) else float(v)
            for name, v in zip(objective.outputs, row, strict=True)
        }
        return (None if math.isnan(row[0]) else float(row[0])), result
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise ConfigurationError(
            f"tell: value for '{candidate_id}' is not a number: {raw!r}"
        ) from None
    if not math.isfinite(value):
        raise ConfigurationError(f"tell: value for '{candidate_id}' is not finite: {value}")
    return value, {objective: value}
