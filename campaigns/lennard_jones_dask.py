"""The Lennard-Jones campaign with its experiments on a Dask cluster, K = 4 in flight.

Locally (a LocalCluster of worker processes on this machine):

    python campaigns/lennard_jones_dask.py

On a SLURM cluster, start the workers as batch jobs with dask-jobqueue
(``pip install 'discovery[dask]'``) and hand the client to the campaign:
``slurm_cluster()`` below is the recipe; check its job script with
``print(slurm_cluster().job_script())`` before submitting anything. The same
campaign also runs from the command line against a running scheduler:

    discovery run campaigns/lennard_jones.py --workers 4 --executor dask --scheduler tcp://HOST:8786
"""

from __future__ import annotations

from discovery import Campaign, CandidatePool, FunctionOracle
from discovery.executors import dask_executor
from simulators.lennard_jones import LennardJonesWorld

IN_FLIGHT = 4


def slurm_cluster(queue: str = "normal", account: str | None = None, jobs: int = 2):
    """A dask-jobqueue SLURMCluster: each batch job is one worker process with 4 cores.

    Nothing is submitted until the cluster is scaled (``cluster.scale(jobs=jobs)``).
    """
    from dask_jobqueue import SLURMCluster

    return SLURMCluster(
        queue=queue,
        account=account,
        cores=4,
        processes=1,
        memory="8GB",
        walltime="02:00:00",
        job_extra_directives=["--exclusive"],
        scheduler_options={"dashboard_address": None},
    )


def make_campaign(client) -> Campaign:
    """The Lennard-Jones active-learning campaign, its oracle calls on ``client``'s workers."""
    world = LennardJonesWorld()
    pool = CandidatePool.from_frame(world.grid(), features=["r"], objective="energy")
    return Campaign(
        pool,
        FunctionOracle(world, output="energy", executor=dask_executor(client)),
        objective="energy",
        maximize=False,
        acquisition="uncertainty",
        n_initial=2,
        budget=16,
        max_in_flight=IN_FLIGHT,
        name="lennard-jones on dask",
    )


def main() -> None:
    from distributed import Client, LocalCluster

    with (
        LocalCluster(n_workers=2, threads_per_worker=2, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        result = make_campaign(client).run()
    print(result.history[["iteration", "candidate_id", "energy", "state"]].to_string(index=False))


if __name__ == "__main__":
    main()
