"""Choose the default strategy by leave-one-dataset-out, from a benchmark's results file.

For each dataset held out in turn, the candidate configurations are ranked on all the
other datasets (mean over datasets of the median Top%@k, each divided by the best
candidate's on that dataset, so that every dataset weighs the same), the best is picked,
and its score on the held-out dataset is reported next to the best candidate there. A
choice that generalises scores close to the held-out best; one tuned to the data it was
measured on would not. The ablation table gives every candidate on every dataset.

    python benchmarks/default_strategy.py benchmarks/liang2021/screening [--at 50]
    python benchmarks/default_strategy.py benchmarks/liang2021/acceptance \
        benchmarks/liang2021/screening-10

Several folders are read as one benchmark (a run found in two is taken from the first),
so that new candidates can be screened against the reference rows already measured;
only the runs that every strategy finished on a dataset are compared. ``--same
auto=gp-ucb:beta=1:lengthscale_prior=gamma`` reads the second name's runs as the first's
(the same configuration under two names: ``auto`` resolves to that spec); ``--only``
compares the strategies it names and leaves the others' runs out. ``--by-space
rule=gp-ucb:beta=1:lengthscale_prior=gamma,gp-ei:lengthscale_prior=gamma`` adds a
candidate that is a rule: the first strategy's runs on the datasets whose designs are all
numbers, the second's on those with categorical (one-hot) parameters. ``--markdown``
prints the tables as Markdown, as the README quotes them.
"""

from __future__ import annotations

import argparse
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from discovery.benchmark.compare import paired_rows
from discovery.benchmark.datasets import load_dataset
from discovery.benchmark.report import per_run
from discovery.benchmark.runner import ResultsFile

REFERENCES = ("baybe", "botorch", "random")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", type=Path, nargs="+")
    parser.add_argument("--at", type=int, default=50)
    parser.add_argument("--same", action="append", default=[], metavar="NAME=ALIAS")
    parser.add_argument("--only", help="comma-separated strategies to compare (default: all)")
    parser.add_argument("--fraction", type=float, default=0.8)
    parser.add_argument("--by-space", action="append", default=[], metavar="NAME=NUMERIC,ONEHOT")
    parser.add_argument(
        "--markdown", action="store_true", help="print the tables as Markdown (for a README)"
    )
    args = parser.parse_args()
    aliases = {alias: name for name, _, alias in (pair.partition("=") for pair in args.same)}
    dataset = dataset_reader()
    rows = {}
    for folder in args.folders:
        for row in ResultsFile(folder).rows():
            row["strategy"] = aliases.get(row["strategy"], row["strategy"])
            rows.setdefault((row["dataset"], row["strategy"], row["run"]), row)
    rows = list(rows.values())
    rows += by_space_rows(rows, args.by_space, dataset)
    if args.only:
        keep = {*args.only.split(","), *(rule.partition("=")[0] for rule in args.by_space)}
        rows = [row for row in rows if row["strategy"] in keep]
    rows = paired_rows(rows, {row["strategy"] for row in rows})  # runs every strategy finished
    runs = per_run(rows, dataset, args.at, args.fraction)
    medians = runs.pivot_table(index="strategy", columns="dataset", values="top", aggfunc="median")
    cycles = runs.pivot_table(
        index="strategy", columns="dataset", values="cycles", aggfunc="median"
    )
    count = runs.groupby("dataset")["run"].nunique()
    print(f"paired runs per dataset: {count.to_dict()}\n")
    show = markdown if args.markdown else lambda frame: frame.to_string()
    print(f"median Top%@{args.at} (ablation):\n{show(medians.round(3))}\n")
    print(f"median cycles to {args.fraction:.0%}:\n{show(cycles)}\n")
    if medians.shape[1] < 2:
        print("leave-one-dataset-out needs runs on two datasets or more; stopping here.")
        return
    candidates = [s for s in medians.index if s not in REFERENCES]
    share = medians.loc[candidates] / medians.loc[candidates].max(axis=0).replace(0, np.nan)
    lines = []
    for held_out in medians.columns:
        others = share.drop(columns=held_out).mean(axis=1)
        pick = others.idxmax()
        lines.append(
            {
                "held out": held_out,
                "picked on the others": pick,
                f"its Top%@{args.at} there": medians.loc[pick, held_out],
                "best candidate there": medians.loc[candidates, held_out].idxmax(),
                f"best Top%@{args.at}": medians.loc[candidates, held_out].max(),
                **{
                    f"{ref} Top%@{args.at}": medians.loc[ref, held_out]
                    for ref in REFERENCES
                    if ref in medians.index
                },
            }
        )
    print("leave-one-dataset-out:")
    table = pd.DataFrame(lines).round(3)
    print(markdown(table.set_index("held out")) if args.markdown else table.to_string(index=False))
    overall = share.mean(axis=1).sort_values(ascending=False).round(3)
    shares = markdown(overall.to_frame("share")) if args.markdown else overall.to_string()
    print(f"\nmean share of the best, all datasets:\n{shares}")


def markdown(frame: pd.DataFrame) -> str:
    """A table as Markdown, its index as the first column, numbers in their shortest form."""

    def cell(value) -> str:
        return f"{value:g}" if isinstance(value, float) else str(value)

    header = [frame.index.name or "", *map(str, frame.columns)]
    lines = [header, ["---"] * len(header)]
    lines += [[cell(name), *map(cell, row)] for name, row in frame.iterrows()]
    return "\n".join("| " + " | ".join(line) + " |" for line in lines)


def dataset_reader():
    """A reader of a result row's dataset, each read once: a shipped one by its name, a
    CSV file with the objective, direction and design columns its rows recorded."""

    @cache
    def read(name: str, objective, direction, features):
        return load_dataset(name, objective, direction, list(features) if features else None)

    def dataset(row: dict):
        features = tuple(row.get("features") or ())
        return read(row["dataset"], row.get("objective"), row.get("direction"), features)

    return dataset


def by_space_rows(rows: list[dict], rules: list[str], dataset) -> list[dict]:
    """Each rule's runs: copies of its numeric strategy's runs on the all-numeric datasets
    and of its one-hot strategy's on the datasets with categorical parameters."""
    made = []
    for rule in rules:
        name, _, pair = rule.partition("=")
        numeric, _, onehot = pair.partition(",")
        for row in rows:
            has_categorical = bool(dataset(row).pool.categorical_columns)
            if row["strategy"] == (onehot if has_categorical else numeric):
                made.append({**row, "strategy": name})
    return made


if __name__ == "__main__":
    main()
