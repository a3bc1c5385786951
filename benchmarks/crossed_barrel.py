"""Sample efficiency on the crossed-barrel pool: top-5 % designs found within a budget.

Runs each strategy for several seeds with the campaign of
``campaigns/crossed_barrel.py`` (k-means initial design of 5, one experiment per
iteration) and reports the median and mean fraction of the 30 top-5 % designs
found, next to random search measured in the same run.

    python benchmarks/crossed_barrel.py [--seeds 10] [--budget 50]
"""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

CAMPAIGN = Path(__file__).resolve().parents[1] / "campaigns" / "crossed_barrel.py"

STRATEGIES = {
    "gp + ucb (beta 1), the campaign's": {},
    "gp + ei": {"acquisition": "ei", "acquisition_params": {}},
    "forest + ei": {"surrogate": "forest", "acquisition": "ei", "acquisition_params": {}},
    "forest + ucb (beta 1)": {"surrogate": "forest"},
    "neural + ei": {"surrogate": "neural", "acquisition": "ei", "acquisition_params": {}},
    "random": {"acquisition": "random", "acquisition_params": {}},
}


def load_campaign_module():
    spec = importlib.util.spec_from_file_location("crossed_barrel_campaign", CAMPAIGN)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--budget", type=int, default=50)
    args = parser.parse_args()

    module = load_campaign_module()
    base = module.make_campaign().replace(budget=args.budget)
    good = module.top_designs(base.pool)
    fractions: dict[str, list[float]] = {}
    for name, options in STRATEGIES.items():
        for seed in range(args.seeds):
            result = base.replace(seed=seed, **options).run(progress=False)
            found = len(good & set(result.measured["candidate_id"]))
            fractions.setdefault(name, []).append(found / len(good))
            print(f"{name:38s} seed {seed}: {found:2d} / {len(good)}", flush=True)

    random_median = float(np.median(fractions["random"]))
    table = Table(title=f"crossed barrel: top-5 % found within {args.budget} experiments")
    for column in ("strategy", "per seed", "median", "mean", "median / random"):
        table.add_column(column, justify="right")
    for name, values in fractions.items():
        ratio = np.median(values) / random_median if random_median else float("inf")
        table.add_row(
            name,
            " ".join(f"{v:.2f}" for v in values),
            f"{np.median(values):.3f}",
            f"{np.mean(values):.3f}",
            f"{ratio:.1f}x",
        )
    Console().print(table)


if __name__ == "__main__":
    main()
