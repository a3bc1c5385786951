"""Cost of durability: the same campaign with its store in a file and in memory.

A file store commits every step with synchronous=FULL (an fsync per
transaction); the in-memory store runs the same code without a disk. The
difference is the price of never losing a measurement.

    python benchmarks/store_overhead.py [--budget 60] [--repeats 3]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table

from discovery import Campaign, CandidatePool, LookupOracle


def make_campaign(budget: int, store: Path | None, surrogate: str) -> Campaign:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.random((2000, 4)), columns=["a", "b", "c", "d"])
    frame["y"] = np.sin(3 * frame["a"]) + frame["b"] * frame["c"] - frame["d"] ** 2
    pool = CandidatePool.from_frame(frame, objective="y")
    return Campaign(
        pool,
        LookupOracle.from_pool(pool, "y"),
        "y",
        surrogate=surrogate,
        budget=budget,
        n_initial=5,
        seed=0,
        store=store,
    )


def timed(budget: int, store: Path | None, surrogate: str) -> float:
    campaign = make_campaign(budget, store, surrogate)
    started = time.perf_counter()
    campaign.run(progress=False)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=int, default=60)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    table = Table(title=f"store overhead, {args.budget} experiments, best of {args.repeats}")
    for column in ("surrogate", "memory (s)", "file (s)", "file / memory", "ms per experiment"):
        table.add_column(column, justify="right")
    for surrogate in ("forest", "gp"):
        memory = min(timed(args.budget, None, surrogate) for _ in range(args.repeats))
        with tempfile.TemporaryDirectory() as folder:
            files = [Path(folder) / f"run{i}.sqlite" for i in range(args.repeats)]
            on_disk = min(timed(args.budget, path, surrogate) for path in files)
        extra = (on_disk - memory) / args.budget * 1000
        table.add_row(
            surrogate, f"{memory:.2f}", f"{on_disk:.2f}", f"{on_disk / memory:.3f}", f"{extra:+.1f}"
        )
    Console().print(table)


if __name__ == "__main__":
    main()
