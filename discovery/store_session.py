"""Opening a campaign's store for one call: lock it, check it holds this campaign, release it."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from discovery.checks import is_finite_number
from discovery.config import CampaignConfig
from discovery.exceptions import ConfigurationError, StoreError
from discovery.objectives import Objectives
from discovery.search_space import Space
from discovery.space import UNNAMED_COLUMN, CandidatePool
from discovery.store import (
    OPEN_STATES,
    CampaignStore,
    ToldMeasurement,
    journal_files,
    run_lock_held,
)

#: Configuration keys that may change between runs of one stored campaign.
#: Settings a stored campaign takes from the code that reopens it. ``auto_strategy`` is
#: among them because stores written before it was recorded lack it.
# How jobs are seen through (deadline, retries) changes no choice: a campaign stuck on a
# hung job, begun without a deadline, can be given one and resumed.
CHANGEABLE_ON_RESUME = (
    "budget",
    "target",
    "optimum",
    "auto_strategy",
    "deadline",
    "max_retries",
    "retry_backoff",
)
WAY_OUT = "use --store elsewhere (store=...) or --new to start afresh, keeping the old file"
#: Stored settings that ``discovery run`` takes as options.
COMMAND_LINE_OPTIONS = {
    "max_in_flight": "--workers",
    "batch_size": "--batch-size",
    "seed": "--seed",
}


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
            f"store {where} holds a campaign on another "
            f"{'space' if isinstance(pool, Space) else 'pool'} ({_pool_difference(store, pool)}); "
            f"{WAY_OUT}"
        )
    written = json.loads(row["config_json"])
    stored = CampaignConfig.from_dict(written).to_dict()
    if isinstance(config["policy"], dict) and "custom_arms" not in (written.get("policy") or {}):
        config = config | {"policy": {**config["policy"]}}  # not known when it was begun
        config["policy"].pop("custom_arms", None)
    differing = [
        k
        for k in config
        if k not in CHANGEABLE_ON_RESUME
        and k in written  # a setting added since the store was begun: not known then
        and stored[k] != config[k]
    ]
    if differing:
        was = ", ".join(f"{k}={stored[k]!r}{_as_option(k, stored[k])}" for k in differing)
        now = ", ".join(f"{k}={config[k]!r}" for k in differing)
        raise StoreError(f"store {where} holds this campaign with {was}, not {now}; {WAY_OUT}")
    if config["budget"] < len(store.jobs()):
        # a campaign file's own budget, run again after a larger --budget: the store
        # keeps the budget it was spent under, not one it is already past
        config["budget"] = stored["budget"]
    if any(stored[k] != config[k] for k in CHANGEABLE_ON_RESUME):
        store.update_config(config)


def _as_option(key: str, value: Any) -> str:
    """How ``discovery run`` sets a stored setting, where it has an option for it."""
    option = COMMAND_LINE_OPTIONS.get(key)
    return "" if option is None or value is None else f" ({option} {value})"


def _pool_difference(store: CampaignStore, pool: CandidatePool | Space) -> str:
    """What differs between the stored pool or space and ``pool``, in a few words."""
    try:
        stored = store.load_pool()
    except StoreError:
        return "ids or features differ"
    if isinstance(stored, Space) != isinstance(pool, Space):
        kinds = ("a declared space", "a candidate pool")
        was, now = kinds if isinstance(stored, Space) else kinds[::-1]
        return f"it holds {was}, this campaign has {now}"
    if isinstance(pool, Space):
        held = {p.name: p.to_dict() for p in stored.parameters}
        given = {p.name: p.to_dict() for p in pool.parameters}
        changes = [
            f"'{name}' {held.get(name, 'absent')} there, {given.get(name, 'absent')} here"
            for name in sorted(held.keys() | given.keys())
            if held.get(name) != given.get(name)
        ]
        if stored.to_dict()["constraints"] != pool.to_dict()["constraints"]:
            changes.append("the constraints differ")
        return "; ".join(changes) or "the spaces differ"
    if list(stored.ids) != list(pool.ids):
        return f"{len(stored.ids)} candidates there, {len(pool.ids)} here, or other ids"
    if list(stored.feature_names) != list(pool.feature_names):
        headless = [n for n in stored.feature_names if UNNAMED_COLUMN.fullmatch(n)]
        if headless and [n for n in stored.feature_names if n not in headless] == list(
            pool.feature_names
        ):  # a store begun before such columns were left out of the default features
            return (
                f"its features include {headless}, a column without a header the pool now "
                f"leaves out; to go on with this store, name them: "
                f"features={list(stored.parameter_columns)}"
            )
        return (
            f"features {list(stored.feature_names)[:8]} there, {list(pool.feature_names)[:8]} here"
        )
    return "the same ids, other feature values"


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
        if run_lock_held(path):  # refused as in use (an older store it would migrate)
            raise
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
    """Record user-reported results (id, value, parameters), in order and in one
    transaction, once every row has been checked: a refused row, or a tell stopped
    part-way, leaves the store as it was, so the corrected results can be told whole.

    A row whose id is not in the pool is a design outside the pool: it needs its
    parameters, which must encode on the pool's features. With several objectives
    (``objective`` an :class:`Objectives`) a value is a dict of the measured
    properties; a property may be None (not measured).

    Raises:
        ConfigurationError: an unknown id without parameters, a value that is not a
            finite number (or a dict that lacks a declared property), a candidate that
            already has an outcome, or one told twice in ``rows``.
    """
    jobs = {job.candidate_id: job for job in store.jobs()}
    measured = {candidate_id for candidate_id, _, _ in store.measurements()}
    numbered = _NumberedIds(pool)
    measured_names = set(objective.outputs) if isinstance(objective, Objectives) else {objective}
    checked: list[ToldMeasurement] = []
    told_here: set[str] = set()
    for candidate_id, raw, parameters in rows:
        is_external = candidate_id not in pool
        if is_external and not parameters:
            raise ConfigurationError(
                f"tell: unknown candidate id '{candidate_id}'; a design outside the pool "
                f"needs its parameters {pool.parameter_columns}"
            )
        if parameters:
            _check_told_parameters(
                pool, candidate_id, parameters, is_external, numbered, measured_names
            )
        value, result = _told_result(objective, candidate_id, raw)
        if candidate_id in told_here:
            raise ConfigurationError(f"tell: candidate '{candidate_id}' is told twice")
        told_here.add(candidate_id)
        job = None if is_external else jobs.get(candidate_id)
        if is_external:
            if candidate_id in measured:
                raise ConfigurationError(f"tell: '{candidate_id}' already has a measurement")
            pool.encode(pd.DataFrame([parameters]))  # refuse what the models cannot use
        elif job is not None and job.state not in OPEN_STATES:
            raise ConfigurationError(
                f"tell: candidate '{candidate_id}' already has an outcome ({job.state})"
            )
        checked.append(
            ToldMeasurement(
                candidate_id,
                value,
                result,
                job_id=None if job is None else job.job_id,
                parameters=parameters if is_external else None,
            )
        )
    store.record_told(checked)


def _check_told_parameters(
    pool: CandidatePool,
    candidate_id: str,
    parameters: Mapping[str, Any],
    is_external: bool,
    numbered: _NumberedIds,
    measured_names: set[str],
) -> None:
    """Refuse a told row whose id and parameters disagree: a pool candidate's row with
    other parameters than the candidate's (a results table shifted against its ids), or a
    new id that is a pool id written as another number ('10' for '0010', read back as an
    integer), which would record the result as a design outside the pool and leave the
    asked one open for ever.

    Each given value must be its candidate's as a CSV or a lab notebook gives it back: a
    code '007' as 7, a number rounded to the digits written (0.81 for 0.8136, not 0.83). A
    feature that shares its name with a measured property holds the measurement, and a
    value the pool imputed has none to compare: both are left alone.
    """
    if is_external:
        same = numbered.id_of(candidate_id)
        if same is not None:
            raise ConfigurationError(
                f"tell: '{candidate_id}' is no candidate id, but it is the number of "
                f"candidate '{same}'; tell it by that id (read ids as text: "
                f"pd.read_csv(..., dtype={{'candidate_id': str}}))"
            )
        return
    held = pool.candidate(pool.index_of(candidate_id)).parameters
    differing = {
        name: (held[name], value)
        for name, value in parameters.items()
        if name in held
        and name not in measured_names
        and not pd.isna(held[name])
        and not pd.isna(value)
        and not same_told_value(held[name], value)
    }
    if differing:
        raise ConfigurationError(
            f"tell: the row for candidate '{candidate_id}' gives other parameters than the "
            f"candidate's (held, given: {differing}); is the table shifted against its ids?"
        )


def same_told_value(held: Any, given: Any) -> bool:
    """Whether a told value is the held one as a CSV or a notebook gives it back: the same
    text or number ('007' as 7), or the number rounded to the digits the value shows."""
    if held == given or str(held) == str(given):
        return True
    number, told = _as_number(str(held)), _as_number(str(given))
    if number is None or told is None:
        return False
    exponent = Decimal(str(given).strip()).as_tuple().exponent
    half_step = 0.5 * 10.0**exponent if isinstance(exponent, int) else 0.0
    return abs(number - told) <= half_step * (1 + 1e-9) + 1e-12 * abs(number)


class _NumberedIds:
    """Pool ids by the number they write, made once per tell and only when needed."""

    def __init__(self, pool: CandidatePool) -> None:
        self.pool = pool
        self._by_number: dict[float, str] | None = None

    def id_of(self, candidate_id: str) -> str | None:
        """The pool id that is the same number as ``candidate_id`` written otherwise."""
        number = _as_number(candidate_id)
        if number is None:
            return None
        if self._by_number is None:
            self._by_number = {}
            for pool_id in map(str, self.pool.ids):
                value = _as_number(pool_id)
                if value is not None:
                    self._by_number.setdefault(value, pool_id)
        return self._by_number.get(number)


def _as_number(text: str) -> float | None:
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _told_result(
    objective: str | Objectives, candidate_id: str, raw: Any
) -> tuple[float | None, dict[str, Any]]:
    """The stored value (the first objective's, None when not measured) and result of
    a told measurement.

    Raises:
        ConfigurationError: a value that is missing (an empty cell), a boolean, text or
            not finite; with several objectives, not a dict of the declared properties.
    """
    if isinstance(objective, Objectives):
        if not isinstance(raw, Mapping):
            raise ConfigurationError(
                f"tell: value for '{candidate_id}' must be a dict of the measured properties "
                f"{list(objective.outputs)}, got {raw!r}"
            )
        booleans = [name for name in objective.outputs if _is_boolean(raw.get(name))]
        if booleans:
            name = booleans[0]
            raise ConfigurationError(
                f"tell: '{candidate_id}': result '{name}' is {raw[name]}, a boolean, not a "
                "number; tell the measured value"
            )
        row, error = objective.read(raw)
        if error is not None:
            raise ConfigurationError(f"tell: '{candidate_id}': {error}")
        result = {
            name: None if math.isnan(v) else float(v)
            for name, v in zip(objective.outputs, row, strict=True)
        }
        return (None if math.isnan(row[0]) else float(row[0])), result
    value = _told_number(candidate_id, raw)
    return value, {objective: value}


def _is_boolean(value: Any) -> bool:
    return isinstance(value, (bool, np.bool_))


def _told_number(candidate_id: str, raw: Any) -> float:
    """A told value as a finite float; text is read as a number where it is one ('12.5').

    Raises:
        ConfigurationError: missing (None, NaN: an empty cell), a boolean, other text,
            or not finite; naming the candidate and the value.
    """
    where = f"tell: value for '{candidate_id}'"
    if raw is None or (pd.api.types.is_scalar(raw) and not isinstance(raw, str) and pd.isna(raw)):
        raise ConfigurationError(
            f"{where} is missing (an empty cell?); tell a candidate once it has been measured"
        )
    if _is_boolean(raw):
        raise ConfigurationError(f"{where} is {raw}, a boolean, not a number")
    number = raw
    if isinstance(raw, str):
        try:
            number = float(raw)
        except ValueError:
            raise ConfigurationError(f"{where} is not a number: {raw!r}") from None
    if not is_finite_number(number):
        shown = repr(raw) if isinstance(raw, str) else str(raw)
        if isinstance(number, (int, float, np.integer, np.floating)):
            raise ConfigurationError(f"{where} is not finite: {shown}")
        raise ConfigurationError(f"{where} is not a number: {shown}")
    return float(number)
