"""Active learning of the Lennard-Jones curve: uncertainty sampling against random.

The campaign measures the pair energy at separations r in [1, 2] and fits a GP
to them. Uncertainty sampling asks, each time, for the separation where the GP
is least sure; random sampling asks anywhere. Run it as a script to see the
learned curve's RMSE against the number of measured points for both:

    python campaigns/lennard_jones.py

or run the uncertainty-sampling campaign with ``discovery run campaigns/lennard_jones.py``.
"""

from __future__ import annotations

import numpy as np

from discovery import Campaign, CampaignResult, CandidatePool, FunctionOracle
from discovery.surrogates import GaussianProcessSurrogate
from simulators.lennard_jones import LennardJonesWorld, equilibrium_distance

COUNTS = (3, 5, 7, 10, 15)


def make_campaign(acquisition: str = "uncertainty", seed: int = 0) -> Campaign:
    """Learn the curve with ``acquisition``: "uncertainty" (active learning) or "random"."""
    world = LennardJonesWorld()
    pool = CandidatePool.from_frame(world.grid(), features=["r"], objective="energy")
    return Campaign(
        pool,
        FunctionOracle(world, output="energy"),
        objective="energy",
        maximize=False,
        surrogate="gp",
        acquisition=acquisition,
        initial_design="random",
        n_initial=2,
        budget=max(COUNTS),
        seed=seed,
        name=f"lennard-jones ({acquisition})",
    )


def learning_curve(campaign: Campaign, result: CampaignResult) -> dict[int, float]:
    """RMSE of a GP fitted to the first n measurements, over the whole grid, for each n."""
    pool, objective = campaign.pool, campaign.config.objective
    truth = pool.frame[objective].to_numpy()
    measured = result.measured
    curve = {}
    for n in COUNTS:
        first = measured.iloc[:n]
        rows = [pool.index_of(i) for i in first["candidate_id"]]
        model = GaussianProcessSurrogate().fit(pool.features[rows], first[objective].to_numpy())
        error = model.predict(pool.features).mean - truth
        curve[n] = float(np.sqrt(np.mean(error**2)))
    return curve


def summarize(result: CampaignResult) -> dict[str, str]:
    """Extra lines for the command line's summary table: the best candidate's separation."""
    best, pool = result.best, result.pool
    closest = "-"
    if best is not None:
        closest = f"{pool.candidate(pool.index_of(best['candidate_id'])).parameters['r']:.4f}"
    return {
        "closest r to the minimum": f"{closest} (true minimum at r = {equilibrium_distance():.4f})"
    }


def main() -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Lennard-Jones curve: RMSE of the learned curve over r in [1, 2]")
    table.add_column("points")
    curves = {}
    for acquisition in ("uncertainty", "random"):
        campaign = make_campaign(acquisition)
        curves[acquisition] = learning_curve(campaign, campaign.run(progress=False))
        table.add_column(f"{acquisition} sampling", justify="right")
    for n in COUNTS:
        table.add_row(str(n), *(f"{curves[a][n]:.4f}" for a in curves))
    Console().print(table)


if __name__ == "__main__":
    main()
