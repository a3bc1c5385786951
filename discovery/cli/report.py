"""``discovery report STORE [-o report.html] [--watch]``: a campaign as one HTML page."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.text import Text

from discovery.cli.app import app, check_output_file, command_boundary, console
from discovery.exceptions import ConfigurationError

if TYPE_CHECKING:  # the library is imported where used: `discovery --help` starts at once
    from discovery.report import ReportInfo


@app.command()
def report(
    store: Annotated[Path, typer.Argument(help="The campaign's store (.sqlite).")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="HTML file; default STORE.html.")
    ] = None,
    watch: Annotated[
        bool,
        typer.Option(help="Rewrite the report while the campaign runs; the page reloads itself."),
    ] = False,
    every: Annotated[float, typer.Option(help="Seconds between rewrites with --watch.")] = 10.0,
    debug: Annotated[bool, typer.Option(help="Show tracebacks of errors.")] = False,
) -> None:
    """Write a self-contained HTML report of a stored campaign (no network needed to
    open it); the store is only read, so a running campaign goes on undisturbed."""
    from discovery.report import write_report

    with command_boundary(debug):
        if every <= 0:
            raise ConfigurationError(f"--every must be positive, got {every}")
        if output is not None:
            check_output_file("report", output, "an HTML file")
        info = write_report(store, output, every if watch else None)
        _said(info)
        try:
            while watch and info.is_running:  # the last page, once ended, stops reloading
                time.sleep(every)
                info = write_report(store, output, every)
                _said(info)
        except KeyboardInterrupt:  # the watch stops: so does the page's reloading
            _said(write_report(store, output, None))
            raise


def _said(info: ReportInfo) -> None:
    state = info.state if info.state != "stopped" else "stopped before its end (run it to resume)"
    console.print(
        Text(
            f"wrote {info.path} ({info.bytes / 1e3:.0f} kB, {len(info.figures)} figures, "
            f"{info.seconds:.1f} s; campaign {state})"
        ),
        soft_wrap=True,  # one line per report, however narrow the terminal
    )
