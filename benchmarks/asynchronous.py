"""Asynchronous campaigns: worker utilisation and sample efficiency.

1. Utilisation: experiments with log-normal durations on K = 4 workers. The
   asynchronous campaign (K in flight, the next chosen as soon as one
   finishes) against synchronous batches of 4 (wait for the slowest).
   Utilisation = busy worker-seconds / (K x wall seconds of the campaign).
2. Sample efficiency on crossed barrel: top-5 % designs found within 50
   experiments, asynchronous (K = 4, kriging believer, log-normal durations)
   against the synchronous one-at-a-time campaign, 5 seeds.

    python benchmarks/asynchronous.py [--seeds 5] [--budget 60] [--median 2.0]
"""

from __future__ import annotations

import argparse
import importlib.util
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table

from discovery import Campaign, CandidatePool, FunctionOracle

K = 4
CAMPAIGN = Path(__file__).resolve().parents[1] / "campaigns" / "crossed_barrel.py"


class TimedLookup:
    """Returns a recorded value after a log-normal pause, adding up the busy time."""

    def __init__(self, values: dict[str, float], median: float, seed: int) -> None:
        self.values, self.median = values, median
        self.rng = np.random.default_rng(seed)
        self.busy, self.lock = 0.0, threading.Lock()

    def __call__(self, candidate) -> float:
        with self.lock:
            pause = float(self.median * self.rng.lognormal(0.0, 0.6))
        time.sleep(pause)
        with self.lock:
            self.busy += pause
        return self.values[candidate.id]


def utilisation(asynchronous: bool, budget: int, median: float) -> tuple[float, float]:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.random((500, 3)), columns=["a", "b", "c"])
    frame["y"] = np.sin(4 * frame["a"]) - (frame["b"] - 0.4) ** 2 + frame["c"]
    pool = CandidatePool.from_frame(frame, objective="y")
    experiment = TimedLookup(dict(zip(pool.ids, frame["y"], strict=True)), median, seed=1)
    options = {"max_in_flight": K} if asynchronous else {"batch_size": K}
    with ThreadPoolExecutor(K) as executor:
        campaign = Campaign(
            pool,
            FunctionOracle(experiment, output="y", executor=executor),
            "y",
            surrogate="forest",
            budget=budget,
            n_initial=K,
            seed=0,
            **options,
        )
        started = time.perf_counter()
        campaign.run(progress=False)
        wall = time.perf_counter() - started
    return experiment.busy / (K * wall), wall


def top_found(asynchronous: bool, seed: int) -> float:
    spec = importlib.util.spec_from_file_location("crossed_barrel_campaign", CAMPAIGN)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    base = module.make_campaign()
    pool = base.pool
    values = dict(zip(pool.ids, pool.frame["toughness"], strict=True))
    experiment = TimedLookup(values, 0.02, seed=seed)
    with ThreadPoolExecutor(K) as executor:
        oracle = FunctionOracle(experiment, output="toughness", executor=executor)
        options = {"max_in_flight": K} if asynchronous else {}
        result = base.replace(oracle=oracle, seed=seed, **options).run(progress=False)
    good = module.top_designs(pool)
    return len(good & set(result.measured["candidate_id"])) / len(good)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--budget", type=int, default=60, help="experiments, utilisation run")
    parser.add_argument("--median", type=float, default=2.0, help="median duration (s)")
    parser.add_argument("--utilisation-only", action="store_true")
    args = parser.parse_args()
    console = Console()

    table = Table(
        title=f"utilisation of {K} workers, {args.budget} experiments, "
        f"log-normal durations (median {args.median} s, sigma 0.6)"
    )
    for column in ("campaign", "wall (s)", "utilisation"):
        table.add_column(column, justify="right")
    for name, is_async in (("synchronous batches of 4", False), ("asynchronous, K = 4", True)):
        share, wall = utilisation(is_async, args.budget, args.median)
        table.add_row(name, f"{wall:.1f}", f"{share:.1%}")
    console.print(table)
    if args.utilisation_only:
        return

    table = Table(title="crossed barrel: top-5 % found within 50 experiments")
    for column in ("campaign", "per seed", "median"):
        table.add_column(column, justify="right")
    for name, is_async in (("synchronous, one at a time", False), ("asynchronous, K = 4", True)):
        found = [top_found(is_async, seed) for seed in range(args.seeds)]
        table.add_row(name, " ".join(f"{f:.2f}" for f in found), f"{np.median(found):.3f}")
    console.print(table)


if __name__ == "__main__":
    main()
