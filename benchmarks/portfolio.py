"""Does a portfolio that learns which strategy to use keep up with the best fixed one?

On crossed barrel (600 designs, toughness) and the Suzuki–Miyaura screen (3696
conditions, yield), each seed runs every single arm as a fixed strategy, the GP-Hedge
portfolio over all of them, and random search, with the same budget and initial design.
Reported per strategy: the median over seeds of the best value found and of the
cumulative reward (the sum of every measured value), after the budget and after each
earlier checkpoint (a campaign's first n choices do not depend on its budget, so one run
gives every smaller budget). For scale, each table ends with the clairvoyant: the sum of
the pool's n best values, the most any strategy could earn in n experiments.

    python benchmarks/portfolio.py [--seeds 10] [--budget 50] [--checkpoints 25 ...]
                                   [--workers 2]
"""

from __future__ import annotations

import argparse
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import pandas as pd
from rich.console import Console
from rich.progress import track
from rich.table import Table

ARMS = ["gp-ei", "gp-ucb", "forest-ei", "exploration", "random"]
DATASETS = ("crossed_barrel", "reaction_yield")


def load(dataset: str):
    """(pool, objective) of a dataset, from its campaign file."""
    if dataset == "crossed_barrel":
        from campaigns.crossed_barrel import load_pool

        return load_pool(), "toughness"
    from campaigns.reaction_yield import load_pool

    return load_pool(), "yield"


def run_one(dataset: str, strategy: str, seed: int, budget: int) -> dict:
    """One campaign; its best value and cumulative reward after each experiment."""
    import torch

    torch.set_num_threads(1)  # one campaign per worker process
    from discovery import Campaign, LookupOracle
    from discovery.policy import ARMS as KNOWN_ARMS
    from discovery.policy import Portfolio

    pool, objective = load(dataset)
    options: dict = {}
    if strategy == "portfolio":
        options["policy"] = Portfolio(ARMS, algorithm="hedge", reward="objective")
    else:
        arm = KNOWN_ARMS[strategy]
        options.update(surrogate=arm.surrogate or "forest", acquisition=arm.acquisition)
    result = Campaign(
        pool,
        LookupOracle.from_pool(pool, objective),
        objective,
        budget=budget,
        n_initial=5,
        seed=seed,
        **options,
    ).run(progress=False)
    return {
        "dataset": dataset,
        "strategy": strategy,
        "seed": seed,
        "best": result.history["best_so_far"].to_numpy(),
        "cumulative": result.history["cumulative_reward"].to_numpy(),
        "arms": result.arms().set_index("arm")["picks"].to_dict() if result.policy else {},
    }


def report(
    console: Console,
    frame: pd.DataFrame,
    dataset: str,
    ranked: np.ndarray,
    seeds: int,
    budget: int,
) -> None:
    """The table of one dataset after ``budget`` experiments, and the portfolio's figures;
    ``ranked``: the pool's values, best first."""
    mine = frame[frame["dataset"] == dataset].copy()
    for column in ("best", "cumulative"):
        mine[column] = [values[budget - 1] for values in mine[column]]
    medians = mine.groupby("strategy")[["best", "cumulative"]].median()
    strategies = [*ARMS, "portfolio"]
    singles = medians.drop(index="portfolio")
    random_reward = medians.loc["random", "cumulative"]
    table = Table(title=f"{dataset}: median of {seeds} seeds, budget {budget}")
    for column in ("strategy", "best found", "cumulative reward", "reward / random"):
        table.add_column(column)
    for strategy in strategies:
        best, cumulative = medians.loc[strategy]
        table.add_row(
            strategy, f"{best:.4g}", f"{cumulative:.5g}", f"{cumulative / random_reward:.2f}"
        )
    perfect = ranked[:budget].sum()
    table.add_row(
        "clairvoyant", f"{ranked[0]:.4g}", f"{perfect:.5g}", f"{perfect / random_reward:.2f}"
    )
    console.print(table)
    portfolio = medians.loc["portfolio"]
    console.print(
        f"portfolio best {portfolio['best']:.4g}: median single arm "
        f"{np.median(singles['best']):.4g}, best single arm in hindsight "
        f"{singles['best'].max():.4g} ({singles['best'].idxmax()}); "
        f"cumulative reward {portfolio['cumulative'] / random_reward:.2f}x random, "
        f"{portfolio['cumulative'] / perfect:.0%} of the clairvoyant's"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--budget", type=int, default=50)
    parser.add_argument(
        "--checkpoints", type=int, nargs="*", default=[], help="smaller budgets to report too"
    )
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    arguments = parser.parse_args()
    if not all(0 < n <= arguments.budget for n in arguments.checkpoints):
        parser.error(f"checkpoints must lie between 1 and the budget ({arguments.budget})")
    strategies = [*ARMS, "portfolio"]
    tasks = [
        (dataset, strategy, seed, arguments.budget)
        for dataset in DATASETS
        for strategy in strategies
        for seed in range(arguments.seeds)
    ]
    with ProcessPoolExecutor(arguments.workers) as pool:
        runs = pool.map(run_one, *zip(*tasks, strict=True))
        rows = list(track(runs, total=len(tasks), description="campaigns"))
    frame = pd.DataFrame(rows)
    console = Console()
    for dataset in DATASETS:
        pool, objective = load(dataset)
        ranked = np.sort(pool.frame[objective].to_numpy(float))[::-1]
        for budget in sorted({*arguments.checkpoints, arguments.budget}):
            report(console, frame, dataset, ranked, arguments.seeds, budget)
        mine = frame[(frame["dataset"] == dataset) & (frame["strategy"] == "portfolio")]
        picks = pd.DataFrame(list(mine["arms"])).sum().astype(int).to_dict()
        console.print(f"{dataset}: portfolio picks by arm over all seeds: {picks}")


if __name__ == "__main__":
    main()
