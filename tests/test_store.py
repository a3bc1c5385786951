import sqlite3

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
    holder = CampaignStore(path)
    holder.acquire_lock()
    try:
        with pytest.raises(StoreError, match="in use by another process"):
            campaign(path).run(progress=False)
    finally:
        holder.close()
    assert len(campaign(path).run(progress=False).history) == 10


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
    with pytest.raises(StoreError, match="the file is corrupt"):
        campaign(path).run(progress=False)
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
