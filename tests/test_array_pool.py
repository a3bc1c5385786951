"""Array pools: a large numeric pool from .npy or Parquet that behaves as a table pool does."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from discovery import ArrayPool, Campaign, CampaignStore, CandidatePool, FunctionOracle
from discovery.exceptions import PoolError, StoreError

NAMES = ["temperature", "time", "ratio"]


def designs(n: int = 400, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.column_stack([rng.uniform(20, 120, n), rng.integers(1, 48, n), rng.random(n)])


def experiment(candidate) -> float:
    p = candidate.parameters
    return -(((p["temperature"] - 80) / 50) ** 2) - (p["ratio"] - 0.3) ** 2 + p["time"] / 100


def test_npy_pool_matches_the_table_pool(tmp_path):
    values = designs()
    np.save(tmp_path / "pool.npy", values)
    pool = ArrayPool.from_npy(tmp_path / "pool.npy", NAMES)
    table = CandidatePool.from_frame(pd.DataFrame(values, columns=NAMES))
    assert len(pool) == 400 and pool.features.dtype == np.float32
    np.testing.assert_allclose(pool.features, table.features, atol=1e-6)
    assert pool.features.min() == 0 and pool.features.max() == 1
    assert pool.candidate(7) == table.candidate(7)
    assert pool.ids[7] == "7" and pool.index_of("7") == 7 and "399" in pool and "400" not in pool
    outside = pd.DataFrame({"temperature": [70.0], "time": [3], "ratio": [0.5]})
    np.testing.assert_allclose(pool.encode(outside), table.encode(outside))


def test_parquet_pool_reads_in_batches_with_given_ids(tmp_path):
    values = designs(53)
    frame = pd.DataFrame(values, columns=NAMES).assign(code=[f"r{i:03d}" for i in range(53)])
    frame.to_parquet(tmp_path / "pool.parquet")
    whole = ArrayPool.from_parquet(tmp_path / "pool.parquet", id_column="code")
    batched = ArrayPool.from_parquet(tmp_path / "pool.parquet", id_column="code", batch_rows=7)
    np.testing.assert_array_equal(whole.features, batched.features)
    assert whole.fingerprint() == batched.fingerprint()
    assert whole.feature_names == NAMES
    assert whole.index_of("r042") == 42 and whole.ids[42] == "r042"
    assert list(whole.ids[[3, 5]]) == ["r003", "r005"]
    with pytest.raises(PoolError, match="unknown candidate id '42'"):
        whole.index_of("42")


@pytest.mark.parametrize(
    "codes", [[1, 2, None, 4, 5], ["r1", "r2", None, "r4", "r5"]], ids=["integer", "text"]
)
def test_a_missing_id_is_refused_naming_its_row(tmp_path, codes):
    """An integer id column with a gap came back as ids '1.0', 'nan' ('1' was unknown);
    a text one gave the id 'None'."""
    table = pa.table({"x": [0.1, 0.2, 0.3, 0.4, 0.5], "code": codes})
    pq.write_table(table, tmp_path / "pool.parquet")
    with pytest.raises(PoolError, match=r"'code' of pool.parquet has no id in rows \[2\]"):
        ArrayPool.from_parquet(tmp_path / "pool.parquet", id_column="code", batch_rows=2)
    with pytest.raises(PoolError, match=r"ids missing in rows \[2\]"):
        ArrayPool.from_array(np.eye(5), ids=codes)


def test_float32_parameters_read_back_as_the_decimals_written(tmp_path):
    table = pa.table({"x": pa.array([0.1, 0.25, 3.3], pa.float32()), "n": [1, 2, 3]})
    pq.write_table(table, tmp_path / "pool.parquet")
    pool = ArrayPool.from_parquet(tmp_path / "pool.parquet")
    assert pool.candidate(0).parameters == {"x": 0.1, "n": 1.0}
    assert pool.candidate(2).parameters["x"] == 3.3


def test_bad_array_pools_are_refused_with_the_reason(tmp_path):
    frame = pd.DataFrame({"x": [1.0, 2.0, None], "label": ["a", "b", "c"], "id": [1, 1, 2]})
    frame.to_parquet(tmp_path / "pool.parquet")
    with pytest.raises(PoolError, match=r"'label' .* not a number"):
        ArrayPool.from_parquet(tmp_path / "pool.parquet")
    with pytest.raises(PoolError, match=r"'x' .* missing values"):
        ArrayPool.from_parquet(tmp_path / "pool.parquet", features=["x"])
    with pytest.raises(PoolError, match=r"\['y'\] not in"):
        ArrayPool.from_parquet(tmp_path / "pool.parquet", features=["y"])
    frame.assign(x=[1.0, 2, 3]).to_parquet(tmp_path / "ids.parquet")
    with pytest.raises(PoolError, match=r"duplicate candidate ids: \[1\]"):
        ArrayPool.from_parquet(tmp_path / "ids.parquet", features=["x"], id_column="id")
    with pytest.raises(PoolError, match="file not found"):
        ArrayPool.from_npy(tmp_path / "absent.npy")
    with pytest.raises(PoolError, match="infinite"):
        ArrayPool.from_array(np.array([[1.0], [np.inf]]))
    with pytest.raises(PoolError, match="cannot apply exclusions"):
        ArrayPool.from_array(designs()).without()


def test_campaign_on_an_array_pool_chooses_as_on_the_table_pool():
    values = designs()
    settings = {"surrogate": "forest", "acquisition": "ucb", "budget": 14, "seed": 3}
    array_run = Campaign(
        ArrayPool.from_array(values, NAMES), FunctionOracle(experiment, output="y"), "y", **settings
    ).run(progress=False)
    table_run = Campaign(
        CandidatePool.from_frame(pd.DataFrame(values, columns=NAMES)),
        FunctionOracle(experiment, output="y"),
        "y",
        **settings,
    ).run(progress=False)
    assert list(array_run.history["candidate_id"]) == list(table_run.history["candidate_id"])


def test_store_reopens_the_pool_file_and_notices_a_changed_one(tmp_path):
    values = designs()
    np.save(tmp_path / "pool.npy", values)
    pool = ArrayPool.from_npy(tmp_path / "pool.npy", NAMES)
    store = tmp_path / "campaign.sqlite"
    oracle = FunctionOracle(experiment, output="y")
    Campaign(pool, oracle, "y", surrogate="gp", budget=8, store=store).run(progress=False)
    reopened = CampaignStore(store).load_pool()
    assert isinstance(reopened, ArrayPool) and reopened.fingerprint() == pool.fingerprint()
    resumed = Campaign(reopened, oracle, "y", surrogate="gp", budget=10, store=store)
    assert len(resumed.run(progress=False).history) == 10

    values[0, 0] += 1
    np.save(tmp_path / "pool.npy", values)
    with pytest.raises(StoreError, match="changed since the campaign began"):
        CampaignStore(store).load_pool()
    (tmp_path / "pool.npy").unlink()
    with pytest.raises(StoreError, match="file not found"):
        CampaignStore(store).load_pool()


def test_a_pool_in_memory_cannot_be_reopened_from_its_store(tmp_path):
    store = tmp_path / "campaign.sqlite"
    pool = ArrayPool.from_array(designs(), NAMES)
    Campaign(pool, None, "y", store=store).tell(pd.DataFrame({"candidate_id": ["1"], "y": [0.5]}))
    with pytest.raises(StoreError, match=r"array in memory .* np\.save"):
        CampaignStore(store).load_pool()


def test_an_unknown_id_of_digits_that_are_no_row_number_is_simply_unknown(tmp_path):
    np.save(tmp_path / "rows.npy", np.random.default_rng(0).random((10, 2)))
    pool = ArrayPool.from_npy(tmp_path / "rows.npy", ["a", "b"])
    assert "²" not in pool and "3" in pool and "10" not in pool


def test_a_design_outside_the_pool_told_with_a_value_no_model_can_use_is_refused():
    pool = ArrayPool.from_array(designs(40), NAMES)
    campaign = Campaign(pool, None, "y", surrogate="forest", n_initial=2, budget=10, seed=0)
    campaign.tell(pd.DataFrame({"candidate_id": ["1", "2", "3"], "y": [1.0, 2.0, 3.0]}))
    for bad in (np.inf, "0,5", True):
        parameters = {"temperature": bad, "time": 3, "ratio": 0.5}
        with pytest.raises(PoolError, match=r"'temperature' .* must be a finite number, got \["):
            campaign.tell("legacy-1", 5.0, parameters=parameters)
    assert len(campaign.ask(1)) == 1  # nothing unusable was recorded


def test_a_feature_wider_than_a_float_holds_is_refused():
    """A column from -1e308 to 1e308 was scaled by a range of inf: every candidate's
    value became 0."""
    raw = np.column_stack([np.linspace(0.0, 1.0, 4), [-1e308, 0.0, 1e308, 5.0]])
    with pytest.raises(PoolError, match=r"\['x1'\] span a range wider than a float holds"):
        ArrayPool.from_array(raw)
