"""``run_benchmark``: plan, run (or resume), and write the table and the learning curves."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from discovery.benchmark.catalogue import DEFAULT_OUT
from discovery.benchmark.report import learning_curves, markdown, per_run, summary_table
from discovery.benchmark.runner import _dataset, execute, finished_rows, plan
from discovery.exceptions import ConfigurationError

#: The cycle Top% is reported at when none is named (or the last, in shorter runs): the
#: Liang et al. (2021) protocol's.
DEFAULT_AT = 50


@dataclass(frozen=True)
class BenchmarkResult:
    """What a benchmark produced.

    Attributes:
        table: one line per dataset and strategy (see :func:`~discovery.benchmark.report.summary_table`).
        runs: one line per run: Top%@k, cycles to the share, seconds.
        rows: the raw rows of the results file (each run's initial designs and trace).
        files: the files written (results, table, figures).
    """

    table: pd.DataFrame
    runs: pd.DataFrame
    rows: list[dict]
    files: list[Path]


def run_benchmark(
    datasets: Sequence[str],
    strategies: Sequence[str] = ("auto", "random"),
    *,
    runs: int = 50,
    cycles: int = 100,
    protocol: str = "liang2021",
    at: int | None = None,
    fraction: float = 0.8,
    baselines: Sequence[str] | None = None,
    workers: int = 1,
    scheduler: str | None = None,
    out: str | Path = DEFAULT_OUT,
    objective: str | None = None,
    direction: str | None = None,
    features: Sequence[str] | None = None,
    on_planned: Callable[[int, int], None] | None = None,
    on_finished: Callable[[dict], None] | None = None,
    report_only: bool = False,
) -> BenchmarkResult:
    """Compare strategies on datasets under a protocol, paired run by run.

    Args:
        datasets: shipped dataset names or CSV paths.
        strategies: strategy specs (``"auto"``, ``"gp-ucb:beta=2"``, ``"baybe"``, ...).
        runs: runs per strategy and dataset.
        cycles: experiments per run, the initial designs included.
        protocol: "liang2021" or "batchK".
        at: the cycle at which Top% is reported (None: 50, or ``cycles`` if fewer).
        fraction: the share of the good designs whose cycle count is reported.
        baselines: strategies the others are compared with, run by run, each among
            ``strategies`` (None: "random" where it is run).
        workers, scheduler: processes here, or a Dask scheduler's address.
        out: folder of ``results.jsonl``, ``summary.csv``, ``summary.md`` and the figures;
            a folder that already holds some of the runs is resumed.
        objective, direction, features: for a CSV dataset.
        on_planned: called with (runs to do, runs already done) before running.
        on_finished: called with each finished run's row.
        report_only: run nothing: write the table and the figures of the runs that
            ``out`` already holds (a benchmark still running, or stopped), comparing on
            each dataset only the runs that every strategy finished.

    Raises:
        ConfigurationError: any bad input, before any run starts; with ``report_only``,
            a results file that holds no finished run of this benchmark.
    """
    out = Path(out)
    if not 0 < fraction <= 1:
        raise ConfigurationError(f"benchmark: --fraction must be in (0, 1], got {fraction}")
    if cycles < 1:
        raise ConfigurationError(f"benchmark: --cycles must be at least 1, got {cycles}")
    at = min(DEFAULT_AT, cycles) if at is None else at
    if not 1 <= at <= cycles:
        raise ConfigurationError(
            f"benchmark: --at ({at}) must be between 1 and --cycles ({cycles})"
        )
    if baselines is None:
        baselines = [name for name in ("random",) if name in strategies]
    missing = [name for name in baselines if name not in strategies]
    if missing:
        raise ConfigurationError(
            f"benchmark: baseline {missing} is not among the strategies {list(strategies)}; "
            f"add it to --strategies to count paired wins against it"
        )
    tasks = plan(datasets, strategies, runs, cycles, protocol, objective, direction, features)
    if report_only:
        rows = paired_rows(finished_rows(tasks, out), {task.strategy for task in tasks})
        if not rows:
            raise ConfigurationError(
                f"benchmark: {out / 'results.jsonl'} holds no run that every strategy "
                f"finished; run the benchmark first"
            )
    else:
        rows = execute(tasks, out, workers, scheduler, on_planned, on_finished)

    def dataset_of(row: dict):  # as the run saw it (a shipped dataset's options are None)
        given = row["features"]
        return _dataset(
            row["dataset"], row["objective"], row["direction"], tuple(given) if given else None
        )

    table_runs = per_run(rows, dataset_of, at, fraction)
    table = summary_table(table_runs, at, fraction, list(baselines))
    files = [out / "results.jsonl", out / "summary.csv", out / "summary.md"]
    table.to_csv(files[1], index=False)
    files[2].write_text(markdown(table, at, fraction, cycles))
    for name in dict.fromkeys(datasets):
        subset = [row for row in rows if row["dataset"] == name]
        if not subset:  # reported before any run on this dataset was finished
            continue
        dataset = dataset_of(subset[0])
        files.extend(learning_curves(subset, dataset, cycles, out, f"curves_{dataset.name}"))
    return BenchmarkResult(table, table_runs, rows, files)


def paired_rows(rows: list[dict], strategies: set[str]) -> list[dict]:
    """The rows of the runs that every one of ``strategies`` finished on their dataset."""
    finished: dict[tuple, set] = {}
    for row in rows:
        finished.setdefault((row["dataset"], row["run"]), set()).add(row["strategy"])
    return [row for row in rows if finished[row["dataset"], row["run"]] == strategies]
