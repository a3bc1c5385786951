"""Run a benchmark's independent runs in order or over worker processes, with a progress bar."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.progress import Progress


def run_all(
    console: Console,
    run_one: Callable[..., dict],
    tasks: Sequence[tuple],
    workers: int,
    partial: Path | None = None,
) -> list[dict]:
    """``run_one(*task)`` for every task, one row each (in order of completion when
    ``workers`` > 1); a task's first three items name it on the bar. With ``partial``,
    the rows so far are rewritten there as CSV after every run, so a long benchmark
    stopped early keeps what it measured."""
    rows: list[dict] = []

    def finished(row: dict) -> None:
        rows.append(row)
        if partial is not None:
            partial.parent.mkdir(parents=True, exist_ok=True)
            pd.DataFrame(rows).to_csv(partial, index=False)

    with Progress(console=console) as progress:
        bar = progress.add_task("runs", total=len(tasks))
        if workers == 1:
            for task in tasks:
                progress.update(bar, description=f"{task[0]} {task[1]} seed {task[2]}")
                finished(run_one(*task))
                progress.advance(bar)
        else:
            with ProcessPoolExecutor(workers) as pool:
                futures = [pool.submit(run_one, *task) for task in tasks]
                for future in as_completed(futures):
                    finished(future.result())
                    progress.advance(bar)
    return rows
