"""A benchmark's table and learning curves, from the rows of its results file.

Per dataset and strategy: the median Top%@k over runs with a bootstrap 95 % interval,
the median cycles to a share of the good designs (with its interval), EF@k and AF,
the median seconds per run, and paired win/tie/loss counts against each baseline (run
``r`` of one strategy against run ``r`` of the other: the same initial designs).
"""

from __future__ import annotations

import html
import io
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from discovery.benchmark.datasets import Dataset
from discovery.benchmark.metrics import (
    acceleration_factor,
    cycles_to,
    enhancement_factor,
    found_curve,
    median_interval,
    paired_record,
    random_cycles_to,
    top_fraction,
)
from discovery.benchmark.protocol import resolve_protocol


def per_run(rows: list[dict], dataset_of: Callable[[dict], Dataset], at: int, fraction: float):
    """One line per run: its Top%@``at``, cycles to ``fraction`` and seconds."""
    lines = []
    for row in rows:
        dataset = dataset_of(row)
        good = dataset.good(resolve_protocol(row["protocol"]).good_fraction)
        curve = found_curve(row["trace"], good)
        n_good = int(good.sum())
        lines.append(
            {
                "dataset": row["dataset_name"],
                "strategy": row["strategy"],
                "run": row["run"],
                "pool": len(dataset),
                "good": n_good,
                "top": top_fraction(curve, n_good, at),
                "cycles": cycles_to(curve, n_good, fraction),
                "seconds": row["seconds"],
            }
        )
    return pd.DataFrame(lines)


def summary_table(
    runs: pd.DataFrame, at: int, fraction: float, baselines: list[str]
) -> pd.DataFrame:
    """The benchmark's table: one line per dataset and strategy."""
    lines = []
    for (dataset, strategy), group in runs.groupby(["dataset", "strategy"], sort=False):
        group = group.sort_values("run")
        pool = int(group["pool"].iloc[0])
        top = group["top"].to_numpy()
        cycles = group["cycles"].to_numpy()
        top_low, top_high = median_interval(top)
        cycles_low, cycles_high = median_interval(cycles)
        line = {
            "dataset": dataset,
            "strategy": strategy,
            "runs": len(group),
            "pool": pool,
            "good": int(group["good"].iloc[0]),
            f"top@{at}": float(np.median(top)),
            f"top@{at} low": top_low,
            f"top@{at} high": top_high,
            f"cycles to {fraction:.0%}": float(np.median(cycles)),
            "cycles low": cycles_low,
            "cycles high": cycles_high,
            f"EF@{at}": enhancement_factor(float(np.median(top)), min(at, pool), pool),
            f"AF@{fraction:.0%}": acceleration_factor(float(np.median(cycles)), fraction, pool),
            "random cycles": random_cycles_to(fraction, pool),
            "seconds per run": float(np.median(group["seconds"])),
        }
        for baseline in baselines:
            if baseline == strategy:
                continue
            theirs = runs[(runs["dataset"] == dataset) & (runs["strategy"] == baseline)]
            paired = group.merge(theirs, on="run", suffixes=("", "_b"))
            if paired.empty:
                continue
            record = paired_record(paired["top"], paired["top_b"], higher_is_better=True)
            line[f"top W/T/L vs {baseline}"] = "/".join(map(str, record))
            record = paired_record(paired["cycles"], paired["cycles_b"], higher_is_better=False)
            line[f"cycles W/T/L vs {baseline}"] = "/".join(map(str, record))
        lines.append(line)
    table = pd.DataFrame(lines)
    compared = [
        f"{measure} W/T/L vs {baseline}"
        for baseline in baselines
        for measure in ("top", "cycles")
        if f"{measure} W/T/L vs {baseline}" in table.columns
    ]  # in the order the baselines were named, whichever strategy came first
    return table[[c for c in table.columns if c not in compared] + compared]


def markdown(table: pd.DataFrame, at: int, fraction: float, cycles: int) -> str:
    """The table as Markdown, with intervals in brackets and censored counts as ">C"."""
    columns = [c for c in table.columns if "W/T/L" in c]
    header = [
        "dataset", "strategy", "runs", f"Top%@{at} [95 % CI]",
        f"cycles to {fraction:.0%} [95 % CI] (random)", f"EF@{at}", f"AF@{fraction:.0%}",
        "s / run", *columns,
    ]  # fmt: skip
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for _, line in table.iterrows():
        top = f"{line[f'top@{at}']:.3f} [{line[f'top@{at} low']:.3f}-{line[f'top@{at} high']:.3f}]"
        spent = (
            f"{_cycles(line[f'cycles to {fraction:.0%}'], cycles)} "
            f"[{_cycles(line['cycles low'], cycles)}-{_cycles(line['cycles high'], cycles)}] "
            f"({line['random cycles']})"
        )
        cells = [
            line["dataset"], line["strategy"], str(line["runs"]), top, spent,
            f"{line[f'EF@{at}']:.2f}", _factor(line, fraction, cycles),
            f"{line['seconds per run']:.1f}",
            *(str(line[c]) if isinstance(line[c], str) else "" for c in columns),
        ]  # fmt: skip
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _factor(line: pd.Series, fraction: float, cycles: int) -> str:
    """AF, or its upper bound when the median run never reached the share."""
    if math.isinf(line[f"cycles to {fraction:.0%}"]):
        return f"<{line['random cycles'] / cycles:.2f}"
    return f"{line[f'AF@{fraction:.0%}']:.2f}"


def _cycles(value: float, cycles: int) -> str:
    """A median count of cycles: whole, or half way between two (an even number of runs)."""
    return f">{cycles}" if math.isinf(value) else f"{value:g}"


def learning_curves(
    rows: list[dict], dataset: Dataset, cycles: int, folder: Path, stem: str
) -> tuple[Path, Path]:
    """Median Top% against cycles per strategy (band: runs' 25th–75th percentile), with
    random sampling's expectation; written as ``stem``.png and ``stem``.html."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    protocol = resolve_protocol(rows[0]["protocol"])
    good = dataset.good(protocol.good_fraction)
    length = min(cycles, len(dataset))
    x = np.arange(1, length + 1)
    figure, axis = plt.subplots(figsize=(7, 4.5))
    strategies = list(dict.fromkeys(row["strategy"] for row in rows))
    for strategy in strategies:
        curves = (
            np.array(
                [
                    _padded(found_curve(r["trace"], good), length)
                    for r in rows
                    if r["strategy"] == strategy
                ]
            )
            / good.sum()
        )
        (line,) = axis.plot(x, np.median(curves, axis=0), label=f"{strategy} ({len(curves)} runs)")
        low, high = np.percentile(curves, [25, 75], axis=0)
        axis.fill_between(x, low, high, color=line.get_color(), alpha=0.15, linewidth=0)
    axis.plot(x, np.minimum(x / len(dataset), 1.0), "k--", label="random (expected)")
    axis.set(
        xlabel="experiments (learning cycles, initial designs included)",
        ylabel=f"share of the top {protocol.good_fraction:.0%} designs found",
        title=f"{dataset.name}: {len(dataset)} designs, {int(good.sum())} good",
        ylim=(0, 1.02),
    )
    axis.grid(alpha=0.3)
    axis.legend(loc="lower right", fontsize=8)
    figure.tight_layout()
    folder.mkdir(parents=True, exist_ok=True)
    png, page = folder / f"{stem}.png", folder / f"{stem}.html"
    figure.savefig(png, dpi=120)
    svg = io.StringIO()
    figure.savefig(svg, format="svg")
    plt.close(figure)
    page.write_text(
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(dataset.name)} learning curves</title></head><body>"
        f"<h1>{html.escape(dataset.name)}</h1>{svg.getvalue()[svg.getvalue().find('<svg') :]}"
        "</body></html>"
    )
    return png, page


def _padded(curve: np.ndarray, length: int) -> np.ndarray:
    if curve.shape[0] >= length:
        return curve[:length]
    return np.concatenate([curve, np.full(length - curve.shape[0], curve[-1])])
