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
    # The dead worker takes down its running job (and any queued behind it): each is a
    # transient failure, sent again and recorded once.
    assert 1 <= len(attempts) <= 2 and set(attempts["error_class"]) == {"transient"}
    assert attempts["error_message"].str.contains("KilledWorker").all()
    retried = set(attempts["job_id"])
    jobs = campaign._memory_store.jobs()
    assert all(j.attempts == 2 and j.state == "succeeded" for j in jobs if j.job_id in retried)


def test_an_unreachable_scheduler_is_one_clear_error_before_any_experiment(monkeypatch):
    # The client retries until its timeout (5 s); one second proves the same error.
    monkeypatch.setattr("discovery.executors.SCHEDULER_TIMEOUT_SECONDS", 1.0)
    with pytest.raises(
        ConfigurationError, match=r"cannot reach Dask scheduler at tcp://127\.0\.0\.1:9"
    ):
        resolve_executor("dask", scheduler="tcp://127.0.0.1:9")


def test_slurm_recipe_writes_the_job_script_it_promises():
    pytest.importorskip("dask_jobqueue")
    from tests.test_campaigns import load

    cluster = load("lennard_jones_dask").slurm_cluster(queue="chem", account="lab42")
    try:
        script = cluster.job_script()
    finally:
        cluster.close()
    for line in (
        "#SBATCH -p chem",
        "#SBATCH -A lab42",
        "#SBATCH --cpus-per-task=4",
        "#SBATCH -t 02:00:00",
        "#SBATCH --exclusive",
    ):
        assert line in script, script
    assert "distributed.cli.dask_worker" in script or "dask-worker" in script


def test_dask_campaign_example_runs_on_a_local_cluster():
    from tests.test_campaigns import load

    module = load("lennard_jones_dask")
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        result = module.make_campaign(client).run(progress=False)
    assert len(result.history) == 16 and result.history["candidate_id"].is_unique
    assert (result.history["state"] == "succeeded").all()
