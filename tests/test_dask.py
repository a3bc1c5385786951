"""The Dask engine: a local cluster of worker processes, one of which dies mid-job."""

import pytest

from discovery import ConfigurationError
from discovery.executors import dask_executor, resolve_executor
from tests.test_async import DieOnce, asynchronous

distributed = pytest.importorskip("distributed")
dask = pytest.importorskip("dask")


def test_campaign_on_a_local_cluster_survives_a_killed_worker(tmp_path):
    # allowed-failures 0: Dask reports the dead worker instead of silently rerunning the
    # task, so the campaign sees (and records) it as a transient failure and retries it.
    with (
        dask.config.set({"distributed.scheduler.allowed-failures": 0}),
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        campaign = asynchronous(
            DieOnce(str(tmp_path / "killed")),
            dask_executor(client),
            k=2,
            budget=30,
            retry_backoff=0.0,
        )
        result = campaign.run(progress=False)
    history = result.history
    assert len(history) == 30 and history["candidate_id"].is_unique
    assert (history["state"] == "succeeded").all()
    attempts = campaign._memory_store.attempts()
    assert len(attempts) == 1 and attempts["error_class"].iloc[0] == "transient"
    assert "KilledWorker" in attempts["error_message"].iloc[0]
    killed = attempts["job_id"].iloc[0]
    assert [j.attempts for j in campaign._memory_store.jobs() if j.job_id == killed] == [2]


def test_an_unreachable_scheduler_is_one_clear_error_before_any_experiment():
    with pytest.raises(
        ConfigurationError, match=r"cannot reach Dask scheduler at tcp://127\.0\.0\.1:9"
    ):
        resolve_executor("dask", scheduler="tcp://127.0.0.1:9")
