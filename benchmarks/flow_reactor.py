"""The SnAr flow reactor: how close a campaign's best space-time yield comes, within a
budget, to the best of a 10,000-point Sobol scan of the same space.

Runs the campaign of ``campaigns/flow_reactor.py`` (GP + LogEI, 5 Sobol points, then
one experiment per iteration) for several seeds, with random search (the same
space's random points) in the same run, and reports the median best found as a
fraction of the scan's best after each checkpoint budget.

    python benchmarks/flow_reactor.py [--seeds 5] [--budget 40]
"""

from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.progress import track
from rich.table import Table

CAMPAIGN = Path(__file__).resolve().parents[1] / "campaigns" / "flow_reactor.py"
CHECKPOINTS = (10, 20, 30, 40)


def load_campaign_module():
    spec = importlib.util.spec_from_file_location("flow_reactor_campaign", CAMPAIGN)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--budget", type=int, default=40)
    args = parser.parse_args()
    module = load_campaign_module()
    scan = module.sobol_scan_best()
    strategies = {"gp + ei (the campaign's)": {}, "random": {"acquisition": "random"}}
    curves: dict[str, list[np.ndarray]] = {name: [] for name in strategies}
    seconds: dict[str, list[float]] = {name: [] for name in strategies}
    runs = [(name, seed) for seed in range(args.seeds) for name in strategies]
    for name, seed in track(runs, description="flow reactor campaigns"):
        campaign = module.make_campaign().replace(budget=args.budget, seed=seed, **strategies[name])
        result = campaign.run(progress=False)
        curves[name].append(np.maximum.accumulate(result.history["sty"].to_numpy()))
        seconds[name].append(result.summary()["seconds_per_iteration"])
    checkpoints = [c for c in CHECKPOINTS if c <= args.budget]
    table = Table(
        title=f"SnAr flow reactor: median best STY / Sobol-scan best ({scan:.6g}), "
        f"{args.seeds} seeds"
    )
    table.add_column("strategy")
    for checkpoint in checkpoints:
        table.add_column(f"{checkpoint} exp.", justify="right")
    table.add_column("worst seed at end", justify="right")
    table.add_column("s / iteration", justify="right")
    for name, runs_ in curves.items():
        best = np.array(runs_) / scan
        cells = [f"{np.median(best[:, c - 1]):.1%}" for c in checkpoints]
        table.add_row(name, *cells, f"{best[:, -1].min():.1%}", f"{np.median(seconds[name]):.2f}")
    Console().print(table)


if __name__ == "__main__":
    main()
