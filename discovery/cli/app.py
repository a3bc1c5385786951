"""The Typer application and the boundary every command shares: one-line errors, output
files checked before any work, and user text printed as written."""

from __future__ import annotations

import contextlib
import traceback
from collections.abc import Iterator
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from discovery.exceptions import ConfigurationError, DiscoveryError

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
            errors.print(Text(traceback.format_exc()))
        kind = "" if isinstance(error, DiscoveryError) else f"{type(error).__name__}: "
        errors.print(Text.assemble(("error:", "bold red"), f" {kind}{error}"), soft_wrap=True)
        if not debug and not isinstance(error, DiscoveryError):
            errors.print("(run again with --debug for the traceback)")
        raise typer.Exit(code=2 if isinstance(error, DiscoveryError) else 1) from None


def check_output_file(command: str, output: Path, kind: str) -> None:
    """Refuse, before any work is done, an output file that cannot be written: a folder,
    or one in a folder that does not exist.

    Raises:
        ConfigurationError: naming ``output`` as the user gave it.
    """
    if output.is_dir():
        raise ConfigurationError(f"{command}: -o {output} is a folder; name {kind}")
    if not output.parent.is_dir():
        raise ConfigurationError(f"{command}: -o {output}: folder {output.parent} does not exist")


def key_value_table(title: str, rows: dict[str, str]) -> Table:
    """A table of names (bold) and their values, as status and run print a campaign.

    Every piece is shown as written: a name such as 'rate [/s]' or 'conc [mol/L]' is the
    user's text, not Rich markup (which dropped it, or failed on it)."""
    table = Table(title=Text(title), show_header=False)
    table.add_column("", style="bold")
    table.add_column("")
    for key, value in rows.items():
        table.add_row(Text(key), Text(value))
    return table
