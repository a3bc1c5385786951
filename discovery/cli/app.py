"""The Typer application and the boundary every command shares: one-line errors."""

from __future__ import annotations

import contextlib
import traceback
from collections.abc import Iterator

import typer
from rich.console import Console

from discovery.exceptions import DiscoveryError

app = typer.Typer(
    help="Closed-loop discovery campaigns: learn from every experiment, choose the next one.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
console = Console()
errors = Console(stderr=True)


@app.callback()
def main() -> None:
    """Closed-loop discovery campaigns."""


@contextlib.contextmanager
def command_boundary(debug: bool) -> Iterator[None]:
    """Turn any error into one line naming the problem (a traceback only with --debug).

    Exit code 2 for bad input or configuration (a DiscoveryError), 1 for anything else.
    """
    try:
        yield
    except typer.Exit:
        raise
    except Exception as error:  # the CLI's boundary: report, never a raw traceback
        if debug:
            errors.print(traceback.format_exc())
        kind = "" if isinstance(error, DiscoveryError) else f"{type(error).__name__}: "
        errors.print(f"[bold red]error:[/] {kind}{error}", highlight=False, soft_wrap=True)
        if not debug and not isinstance(error, DiscoveryError):
            errors.print("(run again with --debug for the traceback)")
        raise typer.Exit(code=2 if isinstance(error, DiscoveryError) else 1) from None
