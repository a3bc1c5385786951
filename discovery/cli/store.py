"""Commands on a campaign store: ``status``, ``export``, ``ask`` and ``tell``."""

from __future__ import annotations

import json
import sys
from datetime import datetime, timezone
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from discovery.cli.app import app, check_output_file, command_boundary, console, key_value_table
from discovery.exceptions import ConfigurationError

if TYPE_CHECKING:  # the library is imported where used: `discovery --help` starts at once
    import pandas as pd

    from discovery.config import CampaignConfig

StoreArgument = Annotated[Path, typer.Argument(help="The campaign's store (.sqlite).")]
DebugOption = Annotated[bool, typer.Option(help="Show tracebacks of errors.")]


class ExportFormat(str, Enum):
    csv = "csv"
    json = "json"


def read_snapshot(path: Path) -> tuple[CampaignConfig, pd.DataFrame]:
    """The configuration and job history of a store, read in one consistent snapshot.

    Opens the file read-only: a campaign running in another process goes on.
    """
    from discovery.history import history_frame
    from discovery.report.load import read_history

    config, jobs, _ = read_history(path)
    return config, history_frame(
        jobs, config.objective, config.maximize, config.closest_to, config.optimum, config.outcomes
    )


def _age(timestamp: str) -> str:
    seconds = (datetime.now(timezone.utc) - datetime.fromisoformat(timestamp)).total_seconds()
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"


@app.command()
def status(store: StoreArgument, debug: DebugOption = False) -> None:
    """Where a stored campaign stands: budget used, best so far, jobs in flight, failures."""
    import pandas as pd

    from discovery.history import budget_spent, outcome_lines, reward_lines, strategy_text
    from discovery.rewards import best_position
    from discovery.store import OPEN_STATES

    with command_boundary(debug):
        config, history = read_snapshot(store)
    objective = config.objective
    measured = history[history["state"] == "succeeded"]
    aim = (
        f"{objective} ({config.direction})"
        if config.outcomes is None
        else ", ".join(config.outcomes.names)
    )
    rows = {"strategy": f"{strategy_text(config)}, seed {config.seed}"}
    if config.policy and "arm" in history:
        experiments = history["arm"].dropna().value_counts()  # one row per experiment
        rows["experiments by arm"] = ", ".join(f"{arm}: {n}" for arm, n in experiments.items())
    rows["budget used"] = f"{budget_spent(history)} of {config.budget} experiments"
    rows["measurements"] = str(len(measured))
    if config.outcomes is not None:
        rows.update(outcome_lines(history, config.outcomes))
    elif len(measured):
        values = measured[objective]
        best = measured.iloc[best_position(values, config.maximize, config.closest_to)]
        found = "told" if pd.isna(best["iteration"]) else f"iteration {best['iteration']}"
        rows[f"best {objective}"] = (
            f"{best[objective]:.6g} (candidate {best['candidate_id']}, {found})"
        )
    if config.outcomes is None:
        rows.update(reward_lines(history, config.optimum))
    in_flight = history[history["state"].isin(OPEN_STATES)]
    rows["in flight"] = (
        ", ".join(
            f"{r.candidate_id} ({r.state}, {_age(r.created_at)})" for r in in_flight.itertuples()
        )
        or "none"
    )
    failures = history[~history["state"].isin([*OPEN_STATES, "succeeded"])]
    by_class = failures["error_class"].fillna(failures["state"]).value_counts()
    rows["failures"] = ", ".join(f"{k}: {v}" for k, v in by_class.items()) or "none"
    console.print(key_value_table(f"{config.name}: {aim}", rows))


def _json_records(history: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows as JSON-able dicts, numbers to their last digit (pandas' own JSON writer
    keeps ten), missing values as null."""
    import numpy as np

    records = history.astype(object).where(history.notna(), None).to_dict("records")
    return [
        {
            key: value.item() if isinstance(value, np.generic) else value
            for key, value in row.items()
        }
        for row in records
    ]


@app.command()
def export(
    store: StoreArgument,
    format: Annotated[ExportFormat, typer.Option("--format", help="csv or json.")] = (
        ExportFormat.csv
    ),
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="File; default stdout.")
    ] = None,
    debug: DebugOption = False,
) -> None:
    """The stored history: every job with its measurement, in the order they were made."""
    with command_boundary(debug):
        if output is not None:
            from discovery.store import check_not_the_store

            check_not_the_store(output, store)
            check_output_file("export", output, f"a {format.value.upper()} file")
        _, history = read_snapshot(store)
        if format is ExportFormat.csv:
            text = history.to_csv(index=False)
        else:
            text = json.dumps(_json_records(history), indent=1, default=str)
        if output is None:
            sys.stdout.write(text)
        else:
            output.write_text(text)
            console.print(Text(f"{len(history)} rows written to {output}"))


@app.command()
def ask(
    store: StoreArgument,
    k: Annotated[int, typer.Option("-k", help="How many new suggestions.")] = 1,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Also write a CSV.")] = None,
    debug: DebugOption = False,
) -> None:
    """Suggest K candidates to measure next; earlier suggestions still pending come first."""
    from discovery.campaign import ASK_COLUMNS, Campaign

    with command_boundary(debug):
        if output is not None:  # before any suggestion is recorded against the budget
            from discovery.store import check_not_the_store

            check_not_the_store(output, store)
            check_output_file("ask", output, "a CSV file")
        suggestions = Campaign.resume(store).ask(k)
        if output is not None:
            suggestions.to_csv(output, index=False)
    shown = _columns_that_fit(suggestions, len(ASK_COLUMNS), console.width)
    hidden = len(suggestions.columns) - len(shown)
    table = Table(title=Text(f"suggestions from {store}"))  # names and values as written
    if hidden:  # a descriptor pool's hundreds of columns squeezed to a letter each
        table.caption = Text(
            f"and {hidden} more parameter columns"
            + (f", all in {output}" if output is not None else "; -o FILE writes every column")
        )
    for column in shown:
        table.add_column(Text(str(column)))
    for row in suggestions[shown].itertuples(index=False):
        table.add_row(*(Text(_cell(v)) for v in row))
    console.print(table)


def _cell(value: Any) -> str:
    """A value as ``discovery ask`` prints it: floats to 6 significant digits (the CSV
    it writes keeps every digit)."""
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def _columns_that_fit(table: pd.DataFrame, fixed: int, width: int) -> list[str]:
    """The first ``fixed`` columns and as many more as a terminal ``width`` shows whole
    (at least one): a descriptor pool's hundreds were squeezed to a letter each."""
    needed = [3 + max(len(str(c)), *(len(_cell(v)) for v in table[c]), 0) for c in table.columns]
    count = fixed + 1
    while count < len(needed) and sum(needed[: count + 1]) + 1 <= width:
        count += 1
    return list(table.columns[: min(count, len(needed))])


@app.command()
def tell(
    store: StoreArgument,
    results: Annotated[Path, typer.Argument(help="CSV with candidate_id and the objective.")],
    debug: DebugOption = False,
) -> None:
    """Record measured results from a CSV file."""
    from discovery.campaign import Campaign

    with command_boundary(debug):
        if not results.is_file():
            raise ConfigurationError(f"tell: results file not found: {results}")
        campaign = Campaign.resume(store)
        frame = _read_results(results)
        try:  # every row is checked before any is recorded
            campaign.tell(frame)
        except ConfigurationError as error:
            raise ConfigurationError(
                f"{error}; nothing in {results.name} was recorded: correct it and tell it again"
            ) from None
    console.print(Text(f"{len(frame)} results recorded in {store}"))


def _read_results(results: Path) -> pd.DataFrame:
    """A results table with its ids as written: pandas reads an id 'NA', 'None', 'null' or
    'N/A' as missing (even as text); the other columns keep its reading of gaps."""
    import pandas as pd

    frame = pd.read_csv(results, dtype={"candidate_id": str})
    if "candidate_id" in frame.columns:
        ids = pd.read_csv(results, usecols=["candidate_id"], dtype=str, keep_default_na=False)
        frame["candidate_id"] = ids["candidate_id"]
    return frame
