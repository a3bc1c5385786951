"""Seconds per ask of the default strategy on a large reaction-like screen.

On a pool with categorical parameters the default averages the GP's predictions over 32
importance-weighted draws of its hyper-parameters (``discovery/defaults.py``), so every
ask fits the GP, weighs the draws and passes a posterior over the pool for each draw (on
a pool this large, for the fewest that hold 99 % of the weight); the plain GP
with the same prior and acquisition (UCB, beta 1) fits and passes once, and between
refits follows new measurements by rank-one steps. This script times both on the same
synthetic screen, in the same run: five categorical parameters of ten levels each
(100,000 combinations, 50 one-hot columns), a value additive in the levels plus one
interaction and noise, the first ``--measured`` combinations of a seeded shuffle
measured, then ``--iterations`` asks, each after telling the last one's result.

    python benchmarks/onehot_default.py [--levels 10] [--parameters 5] [--measured 100]
        [--iterations 5]
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from overhead import time_asks
from rich.console import Console
from rich.table import Table

from discovery import Campaign, CandidatePool
from discovery.surrogates import GaussianProcessSurrogate


def screen(levels: int, parameters: int, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    """Every combination of the levels, as strings, and its value."""
    rng = np.random.default_rng(seed)
    codes = np.array(list(itertools.product(range(levels), repeat=parameters)))
    effects = rng.normal(size=(parameters, levels))
    values = effects[np.arange(parameters), codes].sum(axis=1)
    values += 0.5 * effects[0, codes[:, 0]] * effects[1, codes[:, 1]]
    values += 0.1 * rng.normal(size=len(codes))
    frame = pd.DataFrame({f"p{j}": [f"l{c}" for c in codes[:, j]] for j in range(parameters)})
    return frame, values


def ask_times(
    pool: CandidatePool, values: np.ndarray, surrogate, measured: int, iterations: int
) -> dict:
    """Seconds of the first ask and of each ask after one more result."""
    order = np.random.default_rng(1).permutation(len(values))
    options = {} if surrogate is None else {
        "surrogate": surrogate, "acquisition": "ucb", "acquisition_params": {"beta": 1.0},
    }  # fmt: skip
    with tempfile.TemporaryDirectory() as folder:
        planner = Campaign(
            pool, None, "y", device="cpu", store=Path(folder) / "campaign.sqlite", **options
        )
        rows = order[:measured]
        planner.tell(pd.DataFrame({"candidate_id": pool.ids[rows], "y": values[rows]}))
        first, steps = time_asks(planner, pool, values, iterations)
    return {"first": first, "median": statistics.median(steps), "mean": statistics.mean(steps)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", type=int, default=10)
    parser.add_argument("--parameters", type=int, default=5)
    parser.add_argument("--measured", type=int, default=100)
    parser.add_argument("--iterations", type=int, default=5)
    args = parser.parse_args()
    frame, values = screen(args.levels, args.parameters)
    pool = CandidatePool.from_frame(frame)
    rows = {
        "default (32 hyper-parameter draws)": ask_times(
            pool, values, None, args.measured, args.iterations
        ),
        "plain GP, Gamma prior, UCB beta 1": ask_times(
            pool, values, GaussianProcessSurrogate(lengthscale_prior="gamma"),
            args.measured, args.iterations,
        ),
    }  # fmt: skip
    table = Table(
        title=f"ask on {len(pool):,} candidates, {pool.features.shape[1]} one-hot columns, "
        f"{args.measured} measured (seconds)"
    )
    for column in ("strategy", "first ask", "median ask", "mean ask", "mean / plain"):
        table.add_column(column, justify="right")
    plain = rows["plain GP, Gamma prior, UCB beta 1"]["mean"]
    for name, times in rows.items():
        table.add_row(
            name,
            f"{times['first']:.2f}",
            f"{times['median']:.2f}",
            f"{times['mean']:.2f}",
            f"{times['mean'] / plain:.1f}x",
        )
    Console().print(table)


if __name__ == "__main__":
    main()
