"""``discovery diagnose DATA.csv --target COL``: cross-validate surrogates against baselines."""

from __future__ import annotations

import warnings
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import numpy as np
import typer
from rich.table import Table
from rich.text import Text

from discovery.checks import data_row, unusable_feature
from discovery.cli.app import app, command_boundary, console, errors
from discovery.exceptions import ConfigurationError

if TYPE_CHECKING:  # the library is imported where used: `discovery --help` starts at once
    from discovery.diagnostics import Diagnosis
    from discovery.space import CandidatePool

COLUMNS = {
    "fit_seconds": "fit s",
    "mae": "MAE",
    "rmse": "RMSE",
    "r2": "R²",
    "pearson": "Pearson",
    "spearman": "Spearman",
    "coverage_68": "68 % cover",
    "coverage_95": "95 % cover",
    "miscalibration_area": "miscal. area",
    "nll": "NLL",
    "error_std_spearman": "|err|~std",
}


class Scheme(str, Enum):
    kfold = "kfold"
    group = "group"
    cluster = "cluster"


def load_dataset(
    path: Path, target: str, features: list[str] | None, group: str | None
) -> tuple[CandidatePool, np.ndarray, np.ndarray | None, list[str]]:
    """Features, target and groups from a CSV, with a clear error for each bad input."""
    import pandas as pd

    from discovery.space import UNNAMED_COLUMN, CandidatePool, DuplicateCandidatesWarning

    if not path.is_file():
        raise ConfigurationError(f"data file not found: {path}")
    try:
        frame = pd.read_csv(path)
    except pd.errors.EmptyDataError:
        raise ConfigurationError(f"data file {path} is empty: no header, no rows") from None
    columns = list(frame.columns)
    if target not in columns:
        raise ConfigurationError(f"target '{target}' not in the columns {columns}")
    if group is not None and group not in columns:
        raise ConfigurationError(f"group '{group}' not in the columns {columns}")
    values = pd.to_numeric(frame[target], errors="coerce")
    text = np.flatnonzero((values.isna() & frame[target].notna()).to_numpy())
    if len(text):
        row = int(text[0])
        raise ConfigurationError(
            f"target '{target}' is not a number in {data_row(row)}: {frame[target].iloc[row]!r}; "
            "write plain numbers (12.5, not '12,5' or '12.5 %')"
        )
    infinite = np.flatnonzero(np.isinf(values.to_numpy(np.float64)))
    if len(infinite):
        row = int(infinite[0])
        raise ConfigurationError(
            f"target '{target}' is infinite in {data_row(row)}: {values.iloc[row]}; no model "
            "learns from it: correct it, or empty the cell to leave the row out"
        )
    if values.isna().all():
        raise ConfigurationError(f"target '{target}' has no values: every row is empty")
    chosen = features or [  # as the pool chooses: a column without a header is left out
        c for c in columns if c not in (target, group) and not UNNAMED_COLUMN.fullmatch(c)
    ]
    unusable = unusable_feature(frame[values.notna()], [c for c in chosen if c in columns])
    if unusable is not None:  # said here: the pool's own advice (impute=...) is for the library
        raise ConfigurationError(unusable)
    notes = []
    if values.isna().any():
        notes.append(f"{int(values.isna().sum())} rows without a target value were left out")
        frame, values = frame[values.notna()].reset_index(drop=True), values.dropna()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        pool = CandidatePool.from_frame(
            frame, features=features, objective=target, exclude=[group] if group else []
        )
    # Replicates are the leakage check's to report; what the pool left out or warns of
    # (a saved row index, numbers written as text) is the user's to read.
    notes += [
        str(w.message)
        for w in caught
        if issubclass(w.category, UserWarning)
        and not issubclass(w.category, DuplicateCandidatesWarning)
    ]
    groups = None if group is None else pd.factorize(frame[group])[0]
    return pool, values.to_numpy(np.float64), groups, notes


def diagnosis_table(diagnosis: Diagnosis, title: str) -> Table:
    """The diagnosis as a rich table, one column per model and one row per metric: a
    handful of models fit an 80-column terminal (or a log) where eleven metrics did not."""
    import pandas as pd

    table = Table(title=Text(title))  # a file's, a column's and a model's names as written
    table.add_column("metric", style="bold", no_wrap=True)
    models = [str(model) for model in diagnosis.table.index]
    for model in models:
        table.add_column(Text(model), justify="right", overflow="fold")
    for column in (c for c in COLUMNS if c in diagnosis.table.columns):
        values = diagnosis.table[column]
        table.add_row(COLUMNS[column], *("-" if pd.isna(v) else f"{v:.3g}" for v in values))
    return table


def write_plot(diagnosis: Diagnosis, path: Path) -> None:
    """Parity plots with error bars for each model with uncertainty, and calibration curves."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from discovery.diagnostics import coverage_curve

    uncertain = {k: v for k, v in diagnosis.predictions.items() if v[2] is not None}
    figure, axes = plt.subplots(1, len(uncertain) + 1, figsize=(4.2 * (len(uncertain) + 1), 4))
    axes = np.atleast_1d(axes)
    levels = np.linspace(0.01, 0.99, 50)
    for axis, (name, (y, mean, std)) in zip(axes, uncertain.items(), strict=False):
        axis.errorbar(y, mean, yerr=1.96 * std, fmt="o", ms=2, alpha=0.4, elinewidth=0.5)
        low, high = min(y.min(), mean.min()), max(y.max(), mean.max())
        axis.plot([low, high], [low, high], "k--", lw=1)
        axis.set(title=f"{name}: parity (95 % bars)", xlabel="measured", ylabel="predicted")
        axes[-1].plot(levels, coverage_curve(y, mean, std, levels), label=name)
    axes[-1].plot([0, 1], [0, 1], "k--", lw=1)
    axes[-1].set(title="calibration", xlabel="expected coverage", ylabel="observed coverage")
    axes[-1].legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


@app.command()
def diagnose(
    data: Annotated[Path, typer.Argument(help="CSV file, one row per measurement.")],
    target: Annotated[str, typer.Option(help="The column to predict.")],
    features: Annotated[
        str | None, typer.Option(help="Comma-separated feature columns; default all others.")
    ] = None,
    group: Annotated[
        str | None, typer.Option(help="Column naming the design of each row (for --cv group).")
    ] = None,
    surrogates: Annotated[str, typer.Option(help="Comma-separated surrogates.")] = (
        "gp,forest,neural"
    ),
    cv: Annotated[Scheme, typer.Option(help="kfold, group (replicates together) or cluster.")] = (
        Scheme.kfold
    ),
    folds: Annotated[int, typer.Option(help="Number of folds.")] = 5,
    seed: Annotated[int, typer.Option(help="Seed of folds and models.")] = 0,
    plot: Annotated[Path | None, typer.Option(help="Write parity and calibration plots (PNG).")] = (
        None
    ),
    debug: Annotated[bool, typer.Option(help="Show tracebacks of errors.")] = False,
) -> None:
    """Cross-validate surrogates next to a mean and a ridge baseline, with calibration."""
    from discovery.diagnostics import cross_validate

    with command_boundary(debug):
        if plot is not None and not plot.parent.is_dir():  # before the cross-validation
            raise ConfigurationError(f"--plot: folder {plot.parent} does not exist")
        names = [s.strip() for s in surrogates.split(",") if s.strip()]
        chosen = [f.strip() for f in features.split(",")] if features else None
        pool, y, groups, notes = load_dataset(data, target, chosen, group)
        with console.status("cross-validating") as status:
            diagnosis = cross_validate(
                pool.features,
                y,
                {name: name for name in names},
                cv=cv.value,
                folds=folds,
                groups=groups,
                seed=seed,
                feature_names=pool.feature_names,
                progress=lambda model: status.update(Text(f"cross-validating {model}")),
            )
        if plot is not None:
            write_plot(diagnosis, plot)
    title = f"{data.name}: {target}, {len(y)} rows, {cv.value} CV with {folds} folds"
    console.print(diagnosis_table(diagnosis, title))
    for note in notes + diagnosis.warnings:
        errors.print(Text.assemble(("warning:", "yellow"), f" {note}"), soft_wrap=True)
    if plot is not None:
        console.print(Text(f"plots written to {plot}"))
