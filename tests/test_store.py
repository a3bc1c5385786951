import fcntl
import os
import re
import signal
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from discovery import Campaign, CampaignConfig, CandidatePool, LookupOracle
from discovery.exceptions import StoreError
from discovery.store import SCHEMA_VERSION, CampaignStore

FRAME = pd.DataFrame({"x": np.linspace(0, 1, 40), "y": np.sin(np.linspace(0, 6, 40))})
POOL = CandidatePool.from_frame(FRAME, objective="y")
ORACLE = LookupOracle.from_pool(POOL, "y")


def campaign(store, **options):
    settings_ = dict(surrogate="forest", budget=10, n_initial=3, seed=0, store=store)
    return Campaign(POOL, ORACLE, "y", **(settings_ | options))


def test_a_new_store_uses_wal_and_the_current_schema(tmp_path):
    path = tmp_path / "c.sqlite"
    campaign(path).run(progress=False)
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert db.execute("SELECT count(*) FROM measurements").fetchone()[0] == 10
    row = db.execute("SELECT versions_json, pool_fingerprint FROM campaign").fetchone()
    assert '"botorch"' in row[0] and row[1] == POOL.fingerprint()


@pytest.mark.parametrize("name", ["run #2.sqlite", "what?.sqlite", "100%.sqlite"])
def test_a_store_goes_to_the_file_it_is_named_whatever_the_name_holds(tmp_path, name):
    """A '#' began the URI's fragment: "run #2.sqlite" was written to a file "run "."""
    path = tmp_path / name
    campaign(path).run(progress=False)
    assert [p.name for p in tmp_path.glob("*.sqlite")] == [name]
    assert len(CampaignStore(path, read_only=True).measurements()) == 10


def test_stored_pool_rebuilds_the_same_pool(tmp_path):
    frame = FRAME.assign(solvent=["water", "ethanol"] * 20, name=[f"0{i}" for i in range(40)])
    pool = CandidatePool.from_frame(frame, objective="y", id_column="name")
    store = CampaignStore(tmp_path / "c.sqlite")
    config = CampaignConfig(objective="y")
    store.initialize("c", config.to_dict(), pool)
    rebuilt = store.load_pool()
    assert list(rebuilt.ids) == list(pool.ids) and rebuilt.ids[0] == "00"
    np.testing.assert_array_equal(rebuilt.features, pool.features)


@settings(max_examples=25, deadline=None)
@given(
    budget=st.integers(5, 40),
    seed=st.integers(0, 2**31),
    maximize=st.booleans(),
    acquisition=st.sampled_from(["ei", "ucb", "greedy"]),
    target=st.none() | st.floats(-10, 10),
)
def test_the_stored_configuration_rebuilds_an_equal_config(
    budget, seed, maximize, acquisition, target
):
    config = CampaignConfig(
        objective="y",
        budget=budget,
        seed=seed,
        maximize=maximize,
        acquisition=acquisition,
        target=target,
        acquisition_params={"beta": 1.5} if acquisition == "ucb" else {},
    )
    store = CampaignStore(None)
    store.initialize("c", config.to_dict(), POOL)
    assert CampaignConfig.from_json(store.campaign_row()["config_json"]) == config


def test_a_store_from_a_newer_schema_is_refused(tmp_path):
    path = tmp_path / "c.sqlite"
    sqlite3.connect(path).execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(StoreError, match="written by a newer discovery"):
        campaign(path).run(progress=False)


def test_a_file_that_is_not_sqlite_is_refused_and_left_alone(tmp_path):
    path = tmp_path / "c.sqlite"
    path.write_bytes(b"these are my lab notes, not a database\n" * 100)
    before = path.read_bytes()
    with pytest.raises(StoreError, match="not a readable SQLite file"):
        campaign(path).run(progress=False)
    assert path.read_bytes() == before


def test_a_second_process_on_the_same_store_is_refused(tmp_path):
    path = tmp_path / "c.sqlite"
    with another_run_holds(path):
        with pytest.raises(StoreError, match="in use by another process"):
            campaign(path).run(progress=False)
    assert len(campaign(path).run(progress=False).history) == 10


@contextmanager
def another_run_holds(path: Path) -> Iterator[None]:
    """The store at ``path`` held as a running campaign holds it, until the block ends."""
    holder = CampaignStore(path)
    holder.acquire_lock()
    try:
        yield
    finally:
        holder.close()


def test_a_full_disk_rolls_the_write_back_whole(tmp_path):
    store = CampaignStore(tmp_path / "c.sqlite")
    store.initialize("c", CampaignConfig(objective="y").to_dict(), POOL)
    pages = store._db.execute("PRAGMA page_count").fetchone()[0]
    store._db.execute(f"PRAGMA max_page_count = {pages}")
    chosen = [(f"{i}", 0.0) for i in range(40)]
    with pytest.raises(StoreError, match=r"rolled back.*full"):
        store.record_iteration(0, "initial", chosen, {"state": "x" * 50_000})
    assert store.jobs() == [] and store.last_iteration() is None


def test_a_read_only_store_refuses_writes_and_keeps_its_rows(tmp_path):
    path = tmp_path / "c.sqlite"
    campaign(path).run(progress=False)
    reader = CampaignStore(path, read_only=True)
    with pytest.raises(StoreError, match="read-only"):
        reader.record_told_job("3")
    assert len(reader.jobs()) == 10
    reader.close()


def test_status_reads_a_snapshot_while_a_writer_holds_its_transaction(tmp_path):
    from discovery.cli.store import read_snapshot

    path = tmp_path / "c.sqlite"
    campaign(path).run(progress=False)
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("DELETE FROM measurements")  # uncommitted: readers must not see it
    _, history = read_snapshot(path)
    assert (history["state"] == "succeeded").sum() == 10
    writer.execute("ROLLBACK")


def test_a_corrupt_store_is_refused_before_anything_is_written(tmp_path):
    path = tmp_path / "c.sqlite"
    campaign(path).run(progress=False)
    data = bytearray(path.read_bytes())
    page = 4096
    for offset in range(2 * page, len(data) - page, page):  # damage every page but the first
        data[offset + 8 : offset + 64] = b"\xff" * 56
    path.write_bytes(bytes(data))
    with pytest.raises(StoreError, match="the file is corrupt") as refused:
        campaign(path).run(progress=False)
    assert "\n" not in str(refused.value)  # SQLite's report spans lines
    assert path.read_bytes() == bytes(data)


def test_a_store_of_schema_1_gains_the_oracle_cache_when_opened(tmp_path):
    from discovery.store_cache import OracleCache
    from discovery.store_schema import MIGRATIONS

    path = tmp_path / "old.sqlite"
    db = sqlite3.connect(path)
    db.executescript(MIGRATIONS[0])
    db.execute("PRAGMA user_version = 1")
    db.commit()
    db.close()
    store = CampaignStore(path)
    cache = OracleCache(store)
    cache["references"] = {"Cu": -0.007}
    assert dict(cache) == {"references": {"Cu": -0.007}} and len(cache) == 1
    del cache["references"]
    with pytest.raises(KeyError):
        del cache["references"]
    store.close()
    reopened = sqlite3.connect(path)
    assert reopened.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def back_to_schema(path, version):
    """Take a store's file back to schema 2 or 3, as an older version of discovery wrote it."""
    db = sqlite3.connect(path)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.execute("ALTER TABLE campaign DROP COLUMN space_json")
    db.execute("ALTER TABLE jobs DROP COLUMN parameters_json")
    if version < 3:
        db.execute("ALTER TABLE iterations DROP COLUMN policy_json")
    db.execute(f"PRAGMA user_version = {version}")
    db.commit()
    db.close()


def schema_of(path):
    return sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0]


def test_a_pool_store_of_schema_3_opens_and_resumes(tmp_path):
    path = tmp_path / "v3.sqlite"
    campaign(path, budget=6).run(progress=False)
    back_to_schema(path, 3)
    result = campaign(path, budget=10).run(progress=False)
    assert len(result.history) == 10 and result.history["candidate_id"].is_unique
    assert schema_of(path) == SCHEMA_VERSION


@pytest.mark.parametrize("version", [2, 3])
def test_a_store_of_an_older_schema_is_read_read_only_and_left_as_it_was(tmp_path, version):
    """status, export and report read a store read-only, which cannot migrate it: a store
    of schema 3 failed with "cannot commit - no transaction is active"."""
    from discovery.cli.store import read_snapshot

    path = tmp_path / "old.sqlite"
    campaign(path, budget=6).run(progress=False)
    back_to_schema(path, version)
    _, history = read_snapshot(path)
    assert len(history) == 6 and (history["state"] == "succeeded").all()
    reader = CampaignStore(path, read_only=True)
    assert [job.parameters for job in reader.jobs()] == [None] * 6
    assert reader.policy_records() == []
    reader.close()
    assert schema_of(path) == version


def test_a_failed_read_in_a_snapshot_raises_its_own_error(tmp_path):
    """The snapshot's end committed a transaction the failed read had already ended (pandas
    rolls back), and "cannot commit - no transaction is active" hid what went wrong."""
    store = CampaignStore(tmp_path / "c.sqlite")
    store.initialize("c", CampaignConfig(objective="y").to_dict(), POOL)
    with pytest.raises(pd.errors.DatabaseError, match="no such column: colour"):
        with store.snapshot() as db:
            pd.read_sql_query("SELECT colour FROM jobs", db)
    assert store.jobs() == [] and store.campaign_row()["name"] == "c"


def test_a_folder_is_refused_as_a_store_by_name(tmp_path):
    for read_only in (True, False):
        with pytest.raises(StoreError, match="is a folder, not a store file"):
            CampaignStore(tmp_path, read_only=read_only)


def test_a_space_campaign_is_stored_with_its_space_and_points(tmp_path):
    from discovery import Real, Space

    space = Space([Real("x", 0, 1)])
    oracle_campaign = Campaign(
        space, None, "y", surrogate="forest", budget=5, n_initial=2, store=tmp_path / "s.sqlite"
    )
    asked = oracle_campaign.ask(2)
    store = CampaignStore(tmp_path / "s.sqlite", read_only=True)
    assert store.load_pool() == space
    assert [job.parameters["x"] for job in store.jobs()] == asked["x"].tolist()


def test_a_store_opened_through_a_symbolic_link_shares_its_run_lock(tmp_path):
    """The lock was named from the path as given, the database from the file it leads to:
    a run through a link ran the campaign beside the run of the file, twice over."""
    from discovery.store import run_lock_held

    path, link = tmp_path / "c.sqlite", tmp_path / "link.sqlite"
    link.symlink_to(path.name)
    with another_run_holds(path):
        assert run_lock_held(link)
        with pytest.raises(StoreError, match="in use by another process"):
            campaign(link).run(progress=False)
    assert len(campaign(link).run(progress=False).history) == 10


def test_a_process_forked_from_a_campaign_leaves_its_run_lock_to_it(tmp_path):
    """A process pool's forked worker inherited the run lock: once the campaign was
    killed, the orphaned worker kept the store "in use" for ever. The worker closes its
    copy of the lock file at the fork, which leaves the campaign's lock held."""
    import subprocess
    import sys

    from discovery.store import run_lock_held

    path = tmp_path / "c.sqlite"
    holder = (
        "import os, sys, time\n"
        "from discovery.store import CampaignStore\n"
        "store = CampaignStore(sys.argv[1])\n"
        "store.acquire_lock()\n"
        "worker = os.fork()\n"
        "if worker == 0:\n"
        "    time.sleep(30)\n"
        "    os._exit(0)\n"
        "print(worker, flush=True)\n"
        "time.sleep(30)\n"
    )
    campaign_process = subprocess.Popen(
        [sys.executable, "-c", holder, str(path)],
        cwd=Path(__file__).resolve().parents[1],
        stdout=subprocess.PIPE,
        text=True,
    )
    worker = int(campaign_process.stdout.readline())
    try:
        assert run_lock_held(path)  # the campaign's process holds it, its worker forked
        campaign_process.kill()
        campaign_process.wait()
        os.kill(worker, 0)  # the orphaned worker lives on
        assert not run_lock_held(path)
        resumed = CampaignStore(path)
        resumed.acquire_lock()
        resumed.close()
    finally:
        campaign_process.kill()
        os.kill(worker, signal.SIGKILL)
        campaign_process.stdout.close()


def test_a_store_in_a_folder_that_does_not_exist_is_named(tmp_path):
    missing = tmp_path / "runs"
    with pytest.raises(StoreError) as refused:
        campaign(missing / "a.sqlite").run(progress=False)
    assert (
        str(refused.value) == f"store {missing / 'a.sqlite'}: the folder {missing} does not exist"
    )
    assert not missing.exists()


def make_unwritable(folder, monkeypatch):
    """Make ``folder`` one SQLite cannot create files in, as a read-only mount is. Root
    writes in a folder of mode 0o555 all the same: for root, the folder is said to be
    read-only and SQLite's failure to create a WAL store's index there is played."""
    import discovery.store

    folder.chmod(0o555)
    if os.geteuid() != 0:
        return
    monkeypatch.setattr(discovery.store, "_can_write", lambda place: False, raising=False)
    connect = sqlite3.connect

    def without_an_index(target, *args, **kwargs):
        if "mode=ro" in str(target) and "immutable=1" not in str(target):
            raise sqlite3.OperationalError("unable to open database file")
        return connect(target, *args, **kwargs)

    monkeypatch.setattr(sqlite3, "connect", without_an_index)


def test_a_store_in_a_folder_nobody_can_write_is_read_where_it_is(tmp_path, monkeypatch):
    """status, export and report of a finished store on a read-only mount said "not a
    readable SQLite file": reading a WAL store creates an index file beside it."""
    from discovery.cli.store import read_snapshot

    folder = tmp_path / "archive"
    folder.mkdir()
    path = folder / "c.sqlite"
    campaign(path).run(progress=False)
    make_unwritable(folder, monkeypatch)
    try:
        _, history = read_snapshot(path)
        assert (history["state"] == "succeeded").sum() == 10
        assert len(CampaignStore(path, read_only=True).measurements()) == 10
        with pytest.raises(StoreError, match=re.escape(f"the folder {folder} cannot be written")):
            campaign(path, budget=12).run(progress=False)
        assert sorted(p.name for p in folder.iterdir()) == ["c.sqlite", "c.sqlite.lock"]
    finally:
        folder.chmod(0o755)


def test_a_store_whose_journal_cannot_be_read_where_it_is_says_why(tmp_path, monkeypatch):
    """Read as immutable, a store would lose the rows its journal holds: the error names
    the journal and what to do."""
    folder = tmp_path / "archive"
    folder.mkdir()
    path = folder / "c.sqlite"
    campaign(path).run(progress=False)
    (folder / "c.sqlite-wal").write_bytes(b"\x37\x7f\x06\x82" + bytes(60))
    make_unwritable(folder, monkeypatch)
    try:
        with pytest.raises(StoreError, match=r"journal c\.sqlite-wal") as refused:
            CampaignStore(path, read_only=True)
        assert "copy the store with its journal" in str(refused.value)
    finally:
        folder.chmod(0o755)


@pytest.mark.parametrize(
    "table", ["samples (id TEXT, mass REAL)", "jobs (id INTEGER PRIMARY KEY, cmd TEXT)"]
)
def test_another_applications_database_is_refused_and_left_as_it_was(tmp_path, table):
    """Its tables were joined by a campaign's and it was switched to WAL; a clashing
    table ('jobs') was refused only after the switch."""
    path = tmp_path / "lab.db"
    db = sqlite3.connect(path)
    db.execute(f"CREATE TABLE {table}")
    db.commit()
    db.close()
    before = path.read_bytes()
    name = table.split()[0]
    for read_only in (False, True):
        with pytest.raises(
            StoreError, match=rf"not a campaign store: it holds tables \['{name}'\]"
        ):
            if read_only:
                CampaignStore(path, read_only=True)
            else:
                campaign(path).run(progress=False)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lab.db"]


def test_a_run_refused_as_in_use_leaves_an_older_store_unmigrated(tmp_path):
    """The second run migrated the store the first held, then said it was in use."""
    path = tmp_path / "c.sqlite"
    campaign(path, budget=6).run(progress=False)
    back_to_schema(path, 3)
    before = path.read_bytes()
    with open(tmp_path / "c.sqlite.lock", "a+") as lock:  # a campaign runs it elsewhere
        fcntl.flock(lock, fcntl.LOCK_EX)
        for new in (False, True):  # nor is it moved aside to start afresh
            with pytest.raises(StoreError, match="in use by another process"):
                campaign(path).run(progress=False, new=new)
        fcntl.flock(lock, fcntl.LOCK_UN)
    assert schema_of(path) == 3 and path.read_bytes() == before
    assert not list(tmp_path.glob("c-*"))  # not moved aside
    assert len(campaign(path).run(progress=False).history) == 10
    assert schema_of(path) == SCHEMA_VERSION


def test_a_tell_that_fails_part_way_records_nothing_and_is_then_told_whole(tmp_path):
    """Each row was its own transaction: a tell stopped part-way (a full disk, Ctrl-C)
    kept its first rows, and the same table was then refused as told already."""
    path = tmp_path / "c.sqlite"
    manual = campaign(path)
    manual.tell("0", FRAME.y[0])
    db = sqlite3.connect(path)  # the third row of the table finds the disk full
    db.execute(
        "CREATE TRIGGER full_disk BEFORE INSERT ON measurements "
        "WHEN (SELECT count(*) FROM measurements) >= 3 BEGIN SELECT RAISE(ABORT, 'full'); END"
    )
    db.commit()
    db.close()
    table = pd.DataFrame({"candidate_id": list("12345"), "y": FRAME.y[1:6].to_numpy()})
    with pytest.raises(StoreError, match="rolled back"):
        manual.tell(table)
    reader = CampaignStore(path, read_only=True)
    assert len(reader.measurements()) == 1 and len(reader.jobs()) == 1
    reader.close()
    db = sqlite3.connect(path)
    db.execute("DROP TRIGGER full_disk")
    db.commit()
    db.close()
    manual.tell(table)
    reader = CampaignStore(path, read_only=True)
    assert [c for c, _, _ in reader.measurements()] == [str(i) for i in range(6)]
    reader.close()


def test_a_tell_reads_the_jobs_once_however_long_its_table(tmp_path, monkeypatch):
    """Each told row read every job again: 2000 rows took 49 s."""
    reads = []
    jobs = CampaignStore.jobs
    monkeypatch.setattr(CampaignStore, "jobs", lambda store: reads.append(1) or jobs(store))
    manual = campaign(tmp_path / "c.sqlite", budget=40)
    for rows in (range(0, 3), range(3, 33)):
        reads.clear()
        told = {"candidate_id": [str(i) for i in rows], "y": FRAME.y.iloc[rows].to_numpy()}
        manual.tell(pd.DataFrame(told))
        assert len(reads) <= 2
