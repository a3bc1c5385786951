"""The campaign store: one SQLite file per campaign, written ahead of every action.

Rules the campaign relies on:
- a job row, with its idempotency key, is committed before the oracle is called;
- the oracle's handle is committed as soon as submit returns;
- a measurement is committed before any model sees it;
- every state change is one transaction (WAL journal, ``synchronous=FULL``).

``path=None`` keeps the same tables in memory, so a campaign without a file
runs exactly the same code.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import io
import json
import os
import sqlite3
import time
import uuid
import weakref
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from discovery.array_pool import ArrayPool
from discovery.exceptions import PoolError, StoreError
from discovery.oracles.base import SUCCEEDED
from discovery.search_space import Space
from discovery.space import CandidatePool
from discovery.store_schema import MIGRATIONS, SCHEMA_VERSION, package_versions

#: How long a writer waits for a reader's lock before giving up, in seconds.
BUSY_TIMEOUT_SECONDS = 10.0
#: pandas before 3.0 reads floats with a fast converter that can change the last digit
#: (a third of uniform random floats); its round-trip converter gives back exactly what
#: ``to_csv`` wrote, as pandas 3 always does (and warns of the option).
EXACT_FLOATS = {"float_precision": "round_trip"} if int(pd.__version__.split(".")[0]) < 3 else {}
CREATED, SUBMITTED, ASKED = "created", "submitted", "asked"
#: Job states that still wait for an outcome.
OPEN_STATES = (CREATED, SUBMITTED, ASKED)


#: How a gap in a pool's text column is written to the store: an empty field would read
#: back as the category "" or, read as missing, turn a category "None" or "NA" into a gap.
MISSING_TEXT = "\x1fmissing\x1f"


def _stored_pool(
    row: dict[str, Any], options: dict[str, Any], text_as_written: bool
) -> CandidatePool | PoolError:
    """The pool from its stored table, or why that table does not make one (a pool
    stored before a refusal was added).

    ``text_as_written`` reads text columns as they were written: a category called "None",
    "NA" or "" is itself, not a missing value, and a gap is the :data:`MISSING_TEXT` mark
    it was stored as. Otherwise an empty text field is missing, as it was in a pool stored
    before gaps were marked (CSV writes a gap and "" alike as an empty field).
    """
    dtypes = json.loads(row["pool_dtypes_json"])
    missing = {}
    if text_as_written:  # a number column's empty field is missing, and a text gap's mark
        marks = {c: [""] if c not in dtypes else [MISSING_TEXT] for c in _header(row)}
        missing = {"keep_default_na": False, "na_values": marks}
    try:
        frame = pd.read_csv(io.StringIO(row["pool_csv"]), dtype=dtypes, **missing, **EXACT_FLOATS)
        return CandidatePool.from_frame(frame, **options)
    except PoolError as error:
        return error


#: Tries, a millisecond apart, to take a run lock that a report's probe may hold for an
#: instant (a campaign holds it for its whole run).
LOCK_TRIES = 20


def _flock_soon(handle: Any, kind: int) -> None:
    """flock ``kind`` without waiting for a holder, a few tries over milliseconds.

    Raises:
        BlockingIOError: another holder keeps it.
    """
    for attempt in range(LOCK_TRIES):
        try:
            fcntl.flock(handle, kind | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if attempt == LOCK_TRIES - 1:
                raise
            time.sleep(1e-3)


def lock_file_of(path: str | Path) -> Path:
    """The run lock's file of the store at ``path``, named from the file the path leads to:
    a store opened through a symbolic link shares the lock of the runs that name it."""
    store = Path(path).resolve()
    return store.with_name(store.name + ".lock")


#: The stores whose run lock this process holds (see :func:`_leave_locks_to_the_parent`).
_LOCKING_STORES: weakref.WeakSet[CampaignStore] = weakref.WeakSet()


def _leave_locks_to_the_parent() -> None:
    """In a forked child (a worker of a process pool): close its copies of the parent's
    run-lock files. A flock belongs to the open file, which fork shares: a worker left
    orphaned by a killed campaign kept its store locked for ever. Closing the child's copy
    leaves the parent's lock held; unlocking it would release the parent's too."""
    for store in list(_LOCKING_STORES):
        handle, store._lock_file = store._lock_file, None
        if handle is not None:
            handle.close()
    _LOCKING_STORES.clear()


os.register_at_fork(after_in_child=_leave_locks_to_the_parent)


def _connect(target: str) -> sqlite3.Connection:
    """A connection to a store's file (a URI) or ``:memory:``, having read its schema: SQLite
    opens the file, and a WAL store's index, at the first read.

    Raises:
        sqlite3.DatabaseError: the file cannot be opened or read.
    """
    db = sqlite3.connect(target, uri=True, isolation_level=None, timeout=BUSY_TIMEOUT_SECONDS)
    db.row_factory = sqlite3.Row
    try:
        db.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError:
        db.close()
        raise
    return db


def _one_line(message: Any) -> str:
    """A message of SQLite's (a quick_check report spans lines) on one line."""
    return " ".join(str(message).split())


def _can_write(folder: Path) -> bool:
    """Whether this process may create files in ``folder`` (not on a read-only mount)."""
    return os.access(folder, os.W_OK)


def run_lock_held(path: str | Path) -> bool:
    """Whether a process holds the run lock of the store at ``path``: runs its campaign,
    or is asking or telling. The probe holds a shared lock for an instant only."""
    try:
        handle = open(lock_file_of(path))
    except FileNotFoundError:
        return False
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
        return False


def journal_files(path: Path) -> tuple[Path, Path]:
    """The write-ahead journal and shared-memory index files beside a store."""
    return path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")


def check_not_the_store(output: str | Path, store: str | Path) -> None:
    """Refuse an output file that is the store itself or one of its journal files.

    Raises:
        StoreError: writing ``output`` would replace the campaign's data.
    """
    store = Path(store).resolve()
    if Path(output).resolve() in (store, *journal_files(store)):
        raise StoreError(
            f"output {output} is the campaign's store (or its journal); writing it would "
            f"replace every measurement: name another file"
        )


def _header(row: dict[str, Any]) -> list[str]:
    if not row["pool_csv"]:
        return []
    return list(pd.read_csv(io.StringIO(row["pool_csv"]), nrows=0).columns)


@functools.cache
def _current_columns() -> dict[str, list[str]]:
    """Each table of the current schema with its columns, in order."""
    db = sqlite3.connect(":memory:")
    for version in range(SCHEMA_VERSION):
        db.executescript(MIGRATIONS[version])
    query = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    tables = [row[0] for row in db.execute(query)]
    columns = {t: [row[1] for row in db.execute(f"PRAGMA table_info({t})")] for t in tables}
    db.close()
    return columns


def _json_value(value: Any) -> Any:
    """What JSON keeps of a value an oracle returned: a number of numpy's or torch's (0-d
    arrays and tensors) as a number, an array as a list, anything else as its text. A
    number kept as text ("tensor(0.33)") would be read back as no measurement."""
    if isinstance(value, np.generic) or getattr(value, "ndim", None) == 0:
        try:
            return value.item()
        except (AttributeError, TypeError, ValueError):
            return str(value)
    tolist = getattr(value, "tolist", None)
    if callable(tolist):
        try:
            return tolist()
        except (TypeError, ValueError):
            pass
    return str(value)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


@dataclass(frozen=True)
class Job:
    """One row of the jobs table."""

    job_id: int
    iteration: int | None
    candidate_id: str
    idempotency_key: str
    score: float | None
    handle: dict | None
    state: str
    attempts: int
    parameters: dict | None = None


@dataclass(frozen=True)
class ToldMeasurement:
    """A measurement the user reports: of a pool candidate (under ``job_id``, the job that
    asked for it, or a new one) or, with its ``parameters``, of a design outside the pool."""

    candidate_id: str
    value: float | None
    result: dict[str, Any]
    job_id: int | None = None
    parameters: dict | None = None


def _job(row: sqlite3.Row) -> Job:
    return Job(
        job_id=row["job_id"],
        iteration=row["iteration"],
        candidate_id=row["candidate_id"],
        idempotency_key=row["idempotency_key"],
        score=row["score"],
        handle=None if row["handle_json"] is None else json.loads(row["handle_json"]),
        state=row["state"],
        attempts=row["attempts"],
        parameters=None if row["parameters_json"] is None else json.loads(row["parameters_json"]),
    )


def _finish_job(
    db: sqlite3.Connection,
    job_id: int,
    state: str,
    error_class: str | None,
    error_message: str | None,
    now: str,
) -> None:
    db.execute(
        "UPDATE jobs SET state = ?, error_class = ?, error_message = ?, updated_at = ? "
        "WHERE job_id = ?",
        (state, error_class, error_message, now, job_id),
    )


def _insert_measurement(
    db: sqlite3.Connection,
    job_id: int,
    candidate_id: str,
    value: float | None,
    result: dict | None,
    source: str,
    now: str,
) -> None:
    db.execute(
        "INSERT INTO measurements (job_id, candidate_id, value, result_json, source, "
        "created_at) VALUES (?, ?, ?, ?, ?, ?)",
        (
            job_id,
            candidate_id,
            value,
            json.dumps(result or {}, default=_json_value),
            source,
            now,
        ),
    )


def _insert_told_job(db: sqlite3.Connection, candidate_id: str, now: str) -> int:
    """A job for a measurement the user reports without having asked for it; its id."""
    cursor = db.execute(
        "INSERT INTO jobs (iteration, candidate_id, idempotency_key, state, created_at, "
        "updated_at) VALUES (NULL, ?, ?, ?, ?, ?)",
        (candidate_id, uuid.uuid4().hex, ASKED, now, now),
    )
    return cursor.lastrowid


def _insert_external(
    db: sqlite3.Connection,
    candidate_id: str,
    value: float | None,
    parameters: dict,
    result: dict[str, Any] | None,
    now: str,
) -> None:
    db.execute(
        "INSERT INTO measurements (job_id, candidate_id, value, result_json, "
        "parameters_json, source, created_at) VALUES (NULL, ?, ?, ?, ?, 'external', ?)",
        (candidate_id, value, json.dumps(result or {}), json.dumps(parameters, default=str), now),
    )


class CampaignStore:
    """A campaign's durable record in one SQLite file (or in memory with ``path=None``).

    Args:
        path: the file; created with the current schema when missing.
        read_only: open without writing (for status and export while another
            process runs the campaign).

    Opening to write takes the run lock before it changes the file (creates, migrates).

    Raises:
        StoreError: a folder, a missing folder, not an SQLite file, corrupt, another
            application's database, written by a newer schema, or (opening to write a
            store that must change) in use by another process.
    """

    def __init__(self, path: str | Path | None, read_only: bool = False) -> None:
        self.path = None if path is None else Path(path)
        self.read_only = read_only
        self._lock_file = None
        self._db = self._open()
        try:
            version = self._checked_version()
            if not read_only:
                self._configure_and_migrate(self._lock_before_writing(version))
            elif 0 < version < SCHEMA_VERSION:
                self._read_as_current_schema()
        except BaseException:
            self.close()
            raise

    def _open(self) -> sqlite3.Connection:
        """The connection, its first read done (SQLite opens a WAL store's index only then).

        A read-only open of a store whose folder nobody can write (a read-only mount, an
        archive) reads it as immutable: SQLite cannot create the index a WAL store's
        readers share, and nobody can be changing the store there.

        Raises:
            StoreError: a folder, a missing folder or file, a folder a campaign cannot
                write, or not a readable SQLite file.
        """
        if self.path is None:
            return _connect(":memory:")
        where = self.path
        if self.path.is_dir():
            raise StoreError(f"store {where} is a folder, not a store file")
        if self.read_only and not self.path.is_file():
            raise StoreError(f"store {where}: no such file")
        folder = self.path.resolve().parent
        if not folder.is_dir():
            raise StoreError(f"store {where}: the folder {folder} does not exist")
        writable = _can_write(folder)
        if not self.read_only and not writable:
            raise StoreError(
                f"store {where}: the folder {folder} cannot be written (a read-only place?), "
                "and a campaign that runs, asks or tells writes its store and journal there: "
                "use a folder you can write"
            )
        # a URI quotes the name: a '#' or '?' in it ("run #2.sqlite") began the URI's
        # fragment or query, and the store went to a file named "run "
        uri = f"{self.path.resolve().as_uri()}?mode={'ro' if self.read_only else 'rwc'}"
        try:
            return _connect(uri)
        except sqlite3.DatabaseError as error:
            if not self.read_only or writable:
                raise StoreError(
                    f"store {where}: not a readable SQLite file ({_one_line(error)})"
                ) from None
            failure = error
        wal, _ = journal_files(self.path.resolve())
        if wal.is_file() and wal.stat().st_size:  # immutable would read past its rows
            raise StoreError(
                f"store {where}: cannot be read in its folder {folder}, which cannot be "
                f"written: its journal {wal.name} holds rows SQLite reads only with an index "
                f"it creates beside the store ({_one_line(failure)}); copy the store with its "
                "journal to a folder you can write"
            )
        try:
            return _connect(f"{uri}&immutable=1")
        except sqlite3.DatabaseError as error:
            raise StoreError(
                f"store {where}: not a readable SQLite file ({_one_line(error)})"
            ) from None

    def _checked_version(self) -> int:
        """The file's schema version, once it is known to be an intact store (or empty).

        Raises:
            StoreError: not a readable SQLite file, corrupt, another application's
                database, or written by a newer schema. Nothing has been changed.
        """
        where = self.path or "memory"
        try:
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            problems = [_one_line(row[0]) for row in self._db.execute("PRAGMA quick_check(3)")]
            tables = [
                row[0]
                for row in self._db.execute(
                    "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') "
                    "AND name NOT LIKE 'sqlite_%' ORDER BY name"
                )
            ]
        except sqlite3.DatabaseError as error:
            raise StoreError(
                f"store {where}: not a readable SQLite file ({_one_line(error)})"
            ) from None
        if problems != ["ok"]:
            raise StoreError(f"store {where}: the file is corrupt ({'; '.join(problems)})")
        if tables and (version == 0 or "campaign" not in tables):
            raise StoreError(
                f"store {where}: not a campaign store: it holds tables {tables} (another "
                "application's database?); name a new file for the store"
            )
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"store {where} was written by a newer discovery (schema {version}, this "
                f"version reads up to {SCHEMA_VERSION}); upgrade discovery to open it"
            )
        return version

    def _lock_before_writing(self, version: int) -> int:
        """Take the run lock before the file changes (a new store's tables, a migration,
        the switch to WAL): a run refused as in use must leave the store as it was.

        Returns:
            the schema version read under the lock (another run may have migrated it).
        """
        journal = self._db.execute("PRAGMA journal_mode").fetchone()[0]
        if self.path is None or (version == SCHEMA_VERSION and journal == "wal"):
            return version
        self.acquire_lock()
        return self._db.execute("PRAGMA user_version").fetchone()[0]

    def _configure_and_migrate(self, version: int) -> None:
        if self.path is not None:
            self._execute_pragma("PRAGMA journal_mode=WAL")
        self._execute_pragma("PRAGMA synchronous=FULL")
        self._execute_pragma("PRAGMA foreign_keys=ON")
        while version < SCHEMA_VERSION:
            with self.transaction() as db:
                # statement by statement: executescript would commit on its own
                for statement in MIGRATIONS[version].split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute(f"PRAGMA user_version = {version + 1}")
            version += 1

    def _read_as_current_schema(self) -> None:
        """Read an older store, which a read-only open cannot migrate, as the current
        schema: each table that lacks columns added since (or is missing) is shadowed by a
        temporary view that gives them as NULL. The file is left as it is; the next
        campaign that writes it migrates it."""
        for table, columns in _current_columns().items():
            present = {row[1] for row in self._db.execute(f"PRAGMA main.table_info({table})")}
            if present.issuperset(columns):
                continue
            select = ", ".join(c if c in present else f"NULL AS {c}" for c in columns)
            source = f"FROM main.{table}" if present else "WHERE 0"
            self._db.execute(f"CREATE TEMP VIEW {table} AS SELECT {select} {source}")

    def _execute_pragma(self, pragma: str) -> None:
        try:
            self._db.execute(pragma)
        except sqlite3.DatabaseError as error:
            raise StoreError(f"store {self.path}: {error}") from None

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic change: committed whole, or rolled back whole on any error."""
        if self.read_only:
            raise StoreError(f"store {self.path}: opened read-only")
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.DatabaseError as error:
            raise StoreError(f"store {self.path}: cannot start a write ({error})") from None
        try:
            yield self._db
            self._db.execute("COMMIT")
        except BaseException as error:
            if self._db.in_transaction:  # SQLite may have rolled back already (disk full)
                self._db.execute("ROLLBACK")
            if isinstance(error, sqlite3.DatabaseError):
                raise StoreError(
                    f"store {self.path or 'memory'}: write failed and was rolled back ({error})"
                ) from None
            raise

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[sqlite3.Connection]:
        """A consistent read of several tables, without blocking a writer (WAL)."""
        self._db.execute("BEGIN")
        try:
            yield self._db
        finally:
            if self._db.in_transaction:  # a failed read may have ended it (pandas rolls back)
                self._db.execute("COMMIT")

    def acquire_lock(self) -> None:
        """Take the campaign's run lock, or refuse if another process holds it."""
        if self.path is None or self._lock_file is not None:
            return
        handle = open(lock_file_of(self.path), "a+")  # held open as long as the lock is held
        try:
            _flock_soon(handle, fcntl.LOCK_EX)
        except BlockingIOError:
            handle.seek(0)
            owner = handle.read().strip() or "unknown"
            handle.close()
            raise StoreError(
                f"store {self.path} is in use by another process (pid {owner}); "
                "wait for it to finish or stop it first"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._lock_file = handle
        _LOCKING_STORES.add(self)

    def checkpoint(self) -> bool:
        """Fold the write-ahead journal into the file; False where another connection
        (a reader left open) keeps part of it from being folded."""
        busy, _, _ = self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        return not busy

    def close(self) -> None:
        """Release the lock and close the file."""
        if self._lock_file is not None:
            fcntl.flock(self._lock_file, fcntl.LOCK_UN)
            self._lock_file.close()
            self._lock_file = None
        _LOCKING_STORES.discard(self)
        self._db.close()

    # -- the campaign ---------------------------------------------------------------

    def campaign_row(self) -> dict[str, Any] | None:
        """The stored campaign, or None for a new store."""
        if not self._has_tables():
            return None
        row = self._db.execute("SELECT * FROM campaign WHERE id = 1").fetchone()
        return None if row is None else dict(row)

    def _has_tables(self) -> bool:
        query = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'campaign'"
        return self._db.execute(query).fetchone() is not None

    def initialize(
        self, name: str, config: dict[str, Any], pool: CandidatePool | ArrayPool | Space
    ) -> None:
        """Record a new campaign: its configuration, pool (as a table; an array pool as
        its file's place and checksum) or declared space (as JSON), and the software
        that runs it."""
        if isinstance(pool, Space):
            table, options, dtypes, space_json = pd.DataFrame(), {}, {}, pool.to_json()
        elif isinstance(pool, ArrayPool):
            table, options, dtypes, space_json = pd.DataFrame(), pool.options, {}, None
        else:
            table, options, space_json = pool.frame.reset_index(drop=True), pool.options, None
            # Text columns stay text on reload ("007" must not come back as 7), and so do
            # categorical ones (categories 1, 2, 3 must not come back as one number).
            dtypes = {
                c: "str"
                for c in table.columns
                if pd.api.types.is_string_dtype(table[c])
                or pd.api.types.is_object_dtype(table[c])
                or isinstance(table[c].dtype, pd.CategoricalDtype)
            }
            for c in dtypes:
                if table[c].isna().any():
                    table[c] = table[c].astype(object).where(table[c].notna(), MISSING_TEXT)
        with self.transaction() as db:
            db.execute(
                "INSERT INTO campaign VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    name,
                    json.dumps(config, sort_keys=True),
                    config["objective"],
                    int(config["maximize"]),
                    config["seed"],
                    pool.fingerprint(),
                    json.dumps(options),
                    table.to_csv(index=False) if len(table.columns) else "",
                    json.dumps(dtypes),
                    json.dumps(package_versions()),
                    _now(),
                    space_json,
                ),
            )
            if isinstance(pool, CandidatePool):  # an array pool's ids come from its file
                db.executemany("INSERT INTO candidates VALUES (?, ?)", enumerate(pool.ids.tolist()))

    def update_config(self, config: dict[str, Any]) -> None:
        """Store a changed configuration (a raised budget)."""
        with self.transaction() as db:
            db.execute(
                "UPDATE campaign SET config_json = ? WHERE id = 1",
                (json.dumps(config, sort_keys=True),),
            )

    def load_pool(self) -> CandidatePool | ArrayPool | Space:
        """Rebuild the campaign's pool from its stored table, its file, or its declared space.

        Raises:
            StoreError: no campaign, or a pool that no longer matches its fingerprint
                (an array pool's file changed since the campaign began).
        """
        row = self.campaign_row()
        if row is None:
            raise StoreError(f"store {self.path}: holds no campaign")
        if row.get("space_json"):
            space = Space.from_json(row["space_json"])
            if space.fingerprint() != row["pool_fingerprint"]:
                raise StoreError(
                    f"store {self.path}: the stored space does not match its fingerprint"
                )
            return space
        options = json.loads(row["pool_options_json"])
        if options.get("kind") == "array":
            try:
                pool = ArrayPool.reopen(options)
            except PoolError as error:
                raise StoreError(f"store {self.path}: {error}") from None
            if pool.fingerprint() != row["pool_fingerprint"]:
                raise StoreError(
                    f"store {self.path}: the pool file {options['path']} changed since the "
                    "campaign began (its checksum differs)"
                )
            return pool
        pools = [_stored_pool(row, options, as_written) for as_written in (True, False)]
        for pool in pools:
            if isinstance(pool, CandidatePool) and pool.fingerprint() == row["pool_fingerprint"]:
                return pool
        if all(isinstance(pool, PoolError) for pool in pools):
            raise StoreError(f"store {self.path}: the stored pool no longer builds: {pools[0]}")
        raise StoreError(f"store {self.path}: the stored pool does not match its fingerprint")

    # -- iterations and jobs -----------------------------------------------------------

    def record_iteration(
        self,
        iteration: int,
        kind: str,
        chosen: list[tuple[str, float]],
        rng_state: dict,
        *,
        job_state: str = CREATED,
        surrogate: str | None = None,
        acquisition: str | None = None,
        timing: dict[str, float] | None = None,
        surrogate_state: dict | None = None,
        diagnostics: dict | None = None,
        policy: dict | None = None,
        parameters: list[dict] | None = None,
    ) -> list[Job]:
        """One transaction: the iteration's record and a job row per chosen candidate
        (with its parameter values, for a declared space's points)."""
        parameters = parameters or [None] * len(chosen)
        timing = timing or {}
        now = _now()
        with self.transaction() as db:
            db.execute(
                "INSERT INTO iterations (iteration, kind, surrogate, acquisition, fit_seconds, "
                "selection_seconds, chosen_json, rng_state_json, surrogate_state_json, "
                "diagnostics_json, created_at, policy_json) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    iteration,
                    kind,
                    surrogate,
                    acquisition,
                    timing.get("fit_seconds"),
                    timing.get("selection_seconds"),
                    json.dumps([{"candidate_id": c, "score": s} for c, s in chosen]),
                    json.dumps(rng_state),
                    None if surrogate_state is None else json.dumps(surrogate_state),
                    None if diagnostics is None else json.dumps(diagnostics),
                    now,
                    None if policy is None else json.dumps(policy),
                ),
            )
            for (candidate_id, score), point in zip(chosen, parameters, strict=True):
                db.execute(
                    "INSERT INTO jobs (iteration, candidate_id, idempotency_key, score, state, "
                    "created_at, updated_at, parameters_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        iteration,
                        candidate_id,
                        uuid.uuid4().hex,
                        score,
                        job_state,
                        now,
                        now,
                        None if point is None else json.dumps(point),
                    ),
                )
        rows = self._db.execute(
            "SELECT * FROM jobs WHERE iteration = ? ORDER BY job_id", (iteration,)
        )
        return [_job(r) for r in rows]

    def record_submission(self, job_id: int, handle: dict) -> None:
        """The oracle accepted the job: keep its handle, count the attempt."""
        with self.transaction() as db:
            db.execute(
                "UPDATE jobs SET handle_json = ?, state = ?, attempts = attempts + 1, "
                "updated_at = ? WHERE job_id = ?",
                (json.dumps(handle, default=_json_value), SUBMITTED, _now(), job_id),
            )

    def record_attempt(
        self, job_id: int, error_class: str, error: str | None, reopen: bool = False
    ) -> None:
        """One failed attempt of a job, kept for the record; with ``reopen`` the job goes
        back to ``created`` in the same transaction, to be sent again under its key (so a
        stop right after this still sends it again on resume)."""
        now = _now()
        with self.transaction() as db:
            db.execute(
                "INSERT INTO attempts (job_id, error_class, error_message, created_at) "
                "VALUES (?, ?, ?, ?)",
                (job_id, error_class, error, now),
            )
            if reopen:
                db.execute(
                    "UPDATE jobs SET state = ?, handle_json = NULL, error_class = ?, "
                    "error_message = ?, updated_at = ? WHERE job_id = ?",
                    (
                        CREATED,
                        error_class,
                        f"{error_class}, to be sent again: {error}",
                        now,
                        job_id,
                    ),
                )

    def attempts(self) -> pd.DataFrame:
        """Every failed attempt, in order."""
        return pd.read_sql_query("SELECT * FROM attempts ORDER BY attempt_id", self._db)

    def failed_attempts(self, error_class: str) -> dict[int, int]:
        """How many attempts of each job failed with ``error_class`` (over every run of
        the campaign: a resume does not grant a job its retries again)."""
        rows = self._db.execute(
            "SELECT job_id, COUNT(*) FROM attempts WHERE error_class = ? GROUP BY job_id",
            (error_class,),
        )
        return {int(job_id): int(count) for job_id, count in rows}

    def record_outcome(
        self,
        job_id: int,
        state: str,
        *,
        value: float | None = None,
        result: dict | None = None,
        error_class: str | None = None,
        error_message: str | None = None,
        source: str = "oracle",
        measured: bool | None = None,
    ) -> None:
        """One transaction: the job's final state and, when it succeeded, its measurement.

        ``measured``: whether to record a measurement (by default, when ``value`` is
        given); a measurement of several properties may lack the first objective, so
        its ``value`` is None while its ``result`` holds what was measured."""
        now = _now()
        if measured is None:
            measured = value is not None
        with self.transaction() as db:
            _finish_job(db, job_id, state, error_class, error_message, now)
            if measured:
                candidate_id = db.execute(
                    "SELECT candidate_id FROM jobs WHERE job_id = ?", (job_id,)
                ).fetchone()[0]
                _insert_measurement(db, job_id, candidate_id, value, result, source, now)

    def record_told_job(self, candidate_id: str) -> Job:
        """A job for a measurement the user reports without having asked for it."""
        with self.transaction() as db:
            job_id = _insert_told_job(db, candidate_id, _now())
        return _job(self._db.execute("SELECT * FROM jobs WHERE job_id = ?", (job_id,)).fetchone())

    def record_external(
        self,
        candidate_id: str,
        value: float | None,
        parameters: dict,
        result: dict[str, Any] | None = None,
    ) -> None:
        """A measurement of a design outside the pool (legacy data, a user's own idea)."""
        with self.transaction() as db:
            _insert_external(db, candidate_id, value, parameters, result, _now())

    def record_told(self, told: Sequence[ToldMeasurement]) -> None:
        """One transaction: every measurement of a tell, or none. A tell stopped or failed
        part-way leaves the store as it was, so the same table can be told again whole."""
        with self.transaction() as db:
            for measurement in told:
                now = _now()  # each its own time: history places a design outside the pool
                candidate_id, value = measurement.candidate_id, measurement.value
                if measurement.parameters is not None:
                    _insert_external(
                        db, candidate_id, value, measurement.parameters, measurement.result, now
                    )
                    continue
                job_id = measurement.job_id
                if job_id is None:
                    job_id = _insert_told_job(db, candidate_id, now)
                _finish_job(db, job_id, SUCCEEDED, None, None, now)
                _insert_measurement(
                    db, job_id, candidate_id, value, measurement.result, "told", now
                )

    def jobs(self) -> list[Job]:
        """Every job, in the order it was created."""
        return [_job(r) for r in self._db.execute("SELECT * FROM jobs ORDER BY job_id")]

    def measurements(self) -> list[tuple[str, float, dict | None]]:
        """(candidate id, value, parameters) of every measurement: those of designs outside
        the pool first (with their parameters), then the pool's in the order of their jobs.
        """
        rows = self._db.execute(
            "SELECT candidate_id, value, parameters_json FROM measurements "
            "ORDER BY job_id IS NOT NULL, job_id, measurement_id"
        ).fetchall()
        return [(r[0], r[1], None if r[2] is None else json.loads(r[2])) for r in rows]

    def measurements_chosen_by_model(self) -> list[bool]:
        """Per measurement, in :meth:`measurements`' order: whether a model chose its
        design (not the initial design, not a measurement told to the campaign)."""
        rows = self._db.execute(
            "SELECT iterations.kind FROM measurements "
            "LEFT JOIN jobs ON jobs.job_id = measurements.job_id "
            "LEFT JOIN iterations ON iterations.iteration = jobs.iteration "
            "ORDER BY measurements.job_id IS NOT NULL, measurements.job_id, measurement_id"
        ).fetchall()
        return [row[0] == "model" for row in rows]

    def measurement_results(self) -> list[dict[str, Any]]:
        """The oracle's whole result of every measurement, in :meth:`measurements`' order."""
        rows = self._db.execute(
            "SELECT result_json FROM measurements ORDER BY job_id IS NOT NULL, job_id, "
            "measurement_id"
        ).fetchall()
        return [json.loads(r[0]) for r in rows]

    def last_iteration(self) -> dict[str, Any] | None:
        """The newest iteration record, or None before the first."""
        if not self._has_tables():
            return None
        row = self._db.execute(
            "SELECT * FROM iterations ORDER BY iteration DESC LIMIT 1"
        ).fetchone()
        return None if row is None else dict(row)

    def policy_records(self) -> list[dict[str, Any]]:
        """What a portfolio policy did, one record per iteration it chose in, in order."""
        if not self._has_tables():
            return []
        rows = self._db.execute(
            "SELECT iteration, policy_json FROM iterations WHERE policy_json IS NOT NULL "
            "ORDER BY iteration"
        ).fetchall()
        return [{"iteration": row[0], **json.loads(row[1])} for row in rows]

    def history(self, objective: str) -> pd.DataFrame:
        """Every job with its outcome, in the order the jobs were created, and every
        measurement told for a design outside the pool (kind "external", no job), placed
        after the jobs created before it was told."""
        return self.history_from(self._db, objective)

    @staticmethod
    def history_from(db: sqlite3.Connection, objective: str) -> pd.DataFrame:
        query = """
            SELECT j.iteration, j.candidate_id, m.value AS value, j.state, j.score,
                   i.surrogate, i.acquisition, i.kind, i.fit_seconds, i.selection_seconds,
                   i.diagnostics_json, json_extract(i.policy_json, '$.arm') AS arm,
                   j.error_class, j.error_message, j.attempts, j.idempotency_key,
                   j.handle_json, j.created_at, j.updated_at, m.result_json,
                   m.created_at AS measured_at, j.parameters_json
                   , j.job_id AS place
            FROM jobs j
            LEFT JOIN measurements m ON m.job_id = j.job_id
            LEFT JOIN iterations i ON i.iteration = j.iteration
            UNION ALL
            SELECT NULL, m.candidate_id, m.value, 'succeeded', NULL, NULL, NULL, 'external',
                   NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL, m.created_at,
                   m.created_at, m.result_json, m.created_at, m.parameters_json,
                   (SELECT COALESCE(MAX(job_id), 0) FROM jobs WHERE created_at <= m.created_at)
                   + 0.5
            FROM measurements m
            WHERE m.job_id IS NULL
            ORDER BY place, measured_at
        """
        frame = pd.read_sql_query(query, db).drop(columns="place")
        return frame.rename(columns={"value": objective})
