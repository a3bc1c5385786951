"""How far each strategy's steps go, from a benchmark's results files.

For every run of one dataset, the picks between two experiments (10 and 50 by default)
are described by two numbers: the mean distance from each pick to the nearest design
measured before it (design columns scaled to the unit cube over the pool), and the mean
percentile of the picks' measured values (1 is the best design of the pool). The table
gives their medians over the runs, next to the median number of good designs (top 5 %)
found by the later experiment. A strategy that stays near what it measured, and picks
well on average, can still find fewer of the good designs when they sit in many
separate corners of the pool.

    python benchmarks/search_steps.py benchmarks/liang2021/acceptance \
        benchmarks/liang2021/ei-crossed-barrel [--dataset crossed_barrel] [--start 10] [--stop 50]

Several folders are read as one (a run found in two is taken from the first).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from discovery.benchmark.datasets import load_dataset
from discovery.benchmark.runner import ResultsFile


def describe(trace: list[int], unit: np.ndarray, percentile: np.ndarray, start: int, stop: int):
    """Mean step to the nearest earlier design and mean percentile of picks start..stop-1."""
    steps = [
        np.linalg.norm(unit[trace[:i]] - unit[trace[i]], axis=1).min() for i in range(start, stop)
    ]
    return float(np.mean(steps)), float(percentile[trace[start:stop]].mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--dataset", default="crossed_barrel")
    parser.add_argument("--start", type=int, default=10)
    parser.add_argument("--stop", type=int, default=50)
    args = parser.parse_args()
    dataset = load_dataset(args.dataset)
    features = dataset.pool.features.astype(float)
    span = np.ptp(features, axis=0)
    unit = (features - features.min(axis=0)) / np.where(span > 0, span, 1.0)
    oriented = dataset.values if dataset.maximize else -dataset.values
    percentile = rankdata(oriented) / len(oriented)
    good = dataset.good(0.05)
    runs = {}
    for folder in args.folders:
        for row in ResultsFile(folder).rows():
            if row["dataset"] == dataset.name:
                runs.setdefault((row["strategy"], row["run"]), row["trace"])
    lines = []
    for (strategy, _), trace in runs.items():
        step, quality = describe(trace, unit, percentile, args.start, args.stop)
        found = int(good[trace[: args.stop]].sum())
        lines.append((strategy, step, quality, found))
    frame = pd.DataFrame(lines, columns=["strategy", "step", "percentile", "good"])
    table = frame.groupby("strategy").agg(
        runs=("step", "size"),
        step=("step", "median"),
        percentile=("percentile", "median"),
        good=("good", "median"),
    )
    table.columns = [
        "runs",
        f"step to nearest measured ({args.start}-{args.stop})",
        "mean percentile of picks",
        f"good designs by {args.stop}",
    ]
    print(f"{dataset.name}: medians over runs")
    print(table.sort_values(table.columns[1]).round(3).to_string())


if __name__ == "__main__":
    main()
