"""``discovery benchmark DATASET...``: compare strategies on real datasets, paired and resumable."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from discovery.benchmark.catalogue import DEFAULT_OUT, dataset_names, shipped_name
from discovery.cli.app import app, command_boundary, console


def _names(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


@app.command()
def benchmark(
    datasets: Annotated[
        list[str],
        typer.Argument(help=f"Shipped datasets ({', '.join(dataset_names())}) or CSV files."),
    ],
    strategies: Annotated[
        str,
        typer.Option(help="Comma-separated strategy specs, e.g. auto,gp-ucb:beta=2,baybe,random."),
    ] = "auto,random",
    runs: Annotated[int, typer.Option(help="Runs per strategy and dataset.")] = 50,
    cycles: Annotated[
        int, typer.Option(help="Experiments per run, the initial designs included.")
    ] = 100,
    protocol: Annotated[
        str, typer.Option(help="liang2021 (2 random initial designs, 1 per cycle) or batchK.")
    ] = "liang2021",
    at: Annotated[
        int | None,
        typer.Option(help="Report Top% at this cycle (default: 50, or --cycles if fewer)."),
    ] = None,
    fraction: Annotated[
        float, typer.Option(help="Report the cycles to find this share of the good designs.")
    ] = 0.8,
    baseline: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated strategies (among --strategies) to count paired wins "
            "against; default random, where it is run."
        ),
    ] = None,
    workers: Annotated[int, typer.Option(help="Worker processes on this machine.")] = 1,
    scheduler: Annotated[
        str | None, typer.Option(help="Dask scheduler address: runs go to its workers.")
    ] = None,
    out: Annotated[
        Path, typer.Option(help="Folder of results.jsonl, the table and the figures.")
    ] = DEFAULT_OUT,
    objective: Annotated[str | None, typer.Option(help="A CSV's objective column.")] = None,
    direction: Annotated[str | None, typer.Option(help="A CSV's direction: max or min.")] = None,
    features: Annotated[
        str | None, typer.Option(help="A CSV's design columns, comma-separated (default: all).")
    ] = None,
    report_only: Annotated[
        bool,
        typer.Option(
            help="Run nothing: the table and figures of the runs OUT already holds "
            "(those every strategy finished), e.g. while the benchmark still runs."
        ),
    ] = False,
    progress: Annotated[bool, typer.Option(help="Show the progress bar.")] = True,
    debug: Annotated[bool, typer.Option(help="Show tracebacks of errors.")] = False,
) -> None:
    """Replay strategies on datasets under a protocol and compare them run by run.

    Every run is appended to OUT/results.jsonl as it finishes; the same command again
    skips the runs already there, so a stopped benchmark resumes where it was.
    """
    with command_boundary(debug):  # a mistyped name answers before the library loads
        for name in datasets:
            shipped_name(name)
    from discovery.benchmark import run_benchmark  # here: `--help` starts at once

    bar = Progress(  # a dataset's file name is shown as written, not read as markup
        TextColumn("{task.description}", markup=False), BarColumn(), MofNCompleteColumn(),
        TimeElapsedColumn(), console=console, disable=not progress,
    )  # fmt: skip
    task = bar.add_task("runs", total=None)

    def planned(todo: int, done: int) -> None:  # inputs checked: show the bar from now on
        bar.update(task, total=todo, description=f"runs ({done} already done)")
        bar.start()

    with command_boundary(debug):

        def finished(row: dict) -> None:
            bar.update(task, advance=1, description=f"{row['dataset']} {row['strategy']}")

        try:
            result = run_benchmark(
                datasets,
                _names(strategies),
                runs=runs,
                cycles=cycles,
                protocol=protocol,
                at=at,
                fraction=fraction,
                baselines=_names(baseline) if baseline else None,
                workers=workers,
                scheduler=scheduler,
                out=out,
                objective=objective,
                direction=direction,
                features=_names(features) if features else None,
                on_planned=planned,
                on_finished=finished,
                report_only=report_only,
            )
        finally:
            bar.stop()
    console.print(Text((out / "summary.md").read_text()), soft_wrap=True)
    if report_only:
        paired = result.runs.groupby("dataset")["run"].nunique()
        console.print(
            Text(
                "runs every strategy finished: "
                + ", ".join(f"{name} {count}" for name, count in paired.items())
            ),
            soft_wrap=True,
        )
    console.print(Text(f"results, table and figures in {out}: {len(result.files)} files"))
