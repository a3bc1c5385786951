"""The tables a benchmark replays: shipped real datasets, or any CSV of designs and values.

A dataset is a finite pool of designs whose objective was measured for every one of
them, so a strategy's search can be replayed: "measuring" a design returns the value
recorded for it. The shipped tables live in ``discovery/data`` with their provenance
(README and citation in each folder), so a benchmark needs nothing outside the package.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from discovery.benchmark.catalogue import DATA, DATASETS, DIRECTIONS, shipped_name
from discovery.checks import data_row, unusable_feature
from discovery.exceptions import ConfigurationError
from discovery.space import CandidatePool, without_unnamed


@dataclass(frozen=True, eq=False)
class Dataset:
    """A pool of designs with the objective measured for each.

    Attributes:
        name: how tables and files call it.
        frame: one row per design: the feature columns and the objective.
        features: the design columns (numeric used as they are, text one-hot encoded).
        objective: the measured column.
        maximize: True when larger values are better.
        id_column: the column of design ids; None numbers the rows.
    """

    name: str
    frame: pd.DataFrame
    features: tuple[str, ...]
    objective: str
    maximize: bool
    id_column: str | None = None

    def __len__(self) -> int:
        return len(self.frame)

    @cached_property
    def pool(self) -> CandidatePool:
        """The designs as a campaign's candidate pool (ids, unit-cube features, the truth)."""
        keep = [*self.features, self.objective, *([self.id_column] if self.id_column else [])]
        frame = self.frame[keep]
        if self.id_column:
            frame = frame.astype({self.id_column: str})
        return CandidatePool.from_frame(
            frame,
            features=list(self.features),
            id_column=self.id_column,
            objective=self.objective,
        )

    @cached_property
    def values(self) -> np.ndarray:
        """(N,) float64 measured objective, in pool order."""
        return self.frame[self.objective].to_numpy(dtype=float)

    def good(self, fraction: float) -> np.ndarray:
        """(N,) bool: the best ``ceil(fraction * N)`` designs, and any tied with the last.

        With ``fraction=0.05`` this is the "good" set of Liang et al. (2021).
        """
        count = math.ceil(fraction * len(self))
        oriented = self.values if self.maximize else -self.values
        threshold = np.sort(oriented)[::-1][count - 1]
        return oriented >= threshold


def load_dataset(
    name: str,
    objective: str | None = None,
    direction: str | None = None,
    features: list[str] | None = None,
) -> Dataset:
    """A shipped dataset by name, or a CSV file of designs by path.

    Args:
        name: a name from :data:`DATASETS` (or its Liang et al. folder name), or the
            path of a CSV file with one row per design.
        objective: the CSV's measured column (a shipped dataset's own by default).
        direction: "max" or "min" for a CSV.
        features: the CSV's design columns; by default every other column.

    Raises:
        ConfigurationError: an unknown name, a missing file or column, a missing or
            unknown direction, values that are not numbers, or a shipped dataset given
            an objective, direction or columns other than its own.
    """
    key = shipped_name(name)
    if key is not None:
        entry = DATASETS[key]
        if objective not in (None, entry.objective):
            raise ConfigurationError(
                f"dataset '{key}': its objective is '{entry.objective}', not '{objective}'"
            )
        if direction not in (None, entry.direction):
            raise ConfigurationError(
                f"dataset '{key}': its direction is '{entry.direction}', not '{direction}' "
                f"(--direction is for a CSV file)"
            )
        frame = pd.read_csv(DATA / entry.file)
        columns = list(entry.features)
        if entry.composition is not None:
            frame, columns = _with_composition_features(frame, entry.composition)
        if features and list(features) != columns:
            raise ConfigurationError(
                f"dataset '{key}': its design columns are {columns}, not "
                f"{list(features)} (--features is for a CSV file)"
            )
        return _checked(key, frame, columns, entry.objective, entry.direction, entry.id_column)
    path = Path(name)
    if objective is None or direction is None:
        raise ConfigurationError(
            f"dataset {path}: a CSV needs --objective COLUMN and --direction max|min"
        )
    try:
        frame = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        problem = str(error).strip().splitlines()[0] if str(error).strip() else "no columns"
        raise ConfigurationError(f"dataset {path}: not a readable CSV table ({problem})") from None
    if objective not in frame.columns:
        raise ConfigurationError(
            f"dataset {path}: objective column '{objective}' not in its columns "
            f"{list(frame.columns)}"
        )
    columns = features or without_unnamed([c for c in frame.columns if c != objective])
    return _checked(path.stem, frame, columns, objective, direction, None)


def _with_composition_features(frame: pd.DataFrame, column: str) -> tuple[pd.DataFrame, list[str]]:
    """``frame`` with the composition features of its formulas added, and their names."""
    from discovery.features import composition_features  # pymatgen: only where needed

    features = composition_features(frame[column].tolist())
    return pd.concat([frame, features], axis=1), list(features.columns)


def _checked(
    name: str,
    frame: pd.DataFrame,
    features: list[str],
    objective: str,
    direction: str,
    id_column: str | None,
) -> Dataset:
    if direction not in DIRECTIONS:
        raise ConfigurationError(
            f"dataset '{name}': direction must be one of {list(DIRECTIONS)}, got '{direction}'"
        )
    missing = [c for c in [*features, objective] if c not in frame.columns]
    if missing:
        raise ConfigurationError(
            f"dataset '{name}': columns {missing} not in its columns {list(frame.columns)}"
        )
    values = pd.to_numeric(frame[objective], errors="coerce")
    unusable = values.isna().to_numpy() | np.isinf(values.to_numpy(dtype=float))
    if unusable.any():
        row = int(np.flatnonzero(unusable)[0])
        recorded = frame[objective].iloc[row]
        if pd.isna(recorded):
            problem, advice = "has no value", "a benchmark replays recorded values: delete the row"
        elif np.isinf(values.iloc[row]):
            problem, advice = f"is infinite ({recorded})", "correct it or delete the row"
        else:
            problem = f"is not a number ({recorded!r})"
            advice = "write plain numbers (12.5, not '12,5' or '12.5 %')"
        raise ConfigurationError(
            f"dataset '{name}': objective '{objective}' {problem} in {data_row(row)}; {advice}"
        )
    unusable = unusable_feature(frame, features)
    if unusable is not None:  # said here: the pool's own advice (impute=...) is for the library
        raise ConfigurationError(f"dataset '{name}': {unusable}")
    if len(frame) < 2:
        raise ConfigurationError(f"dataset '{name}': needs at least 2 designs, has {len(frame)}")
    frame = frame.assign(**{objective: values.astype(float)}).reset_index(drop=True)
    return Dataset(name, frame, tuple(features), objective, direction == "max", id_column)
