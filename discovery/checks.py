"""Checks of user input shared across the library."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np


def is_finite_number(value: Any) -> bool:
    """A finite real number, numpy's included (a bound read off a table); not a bool."""
    return (
        not isinstance(value, (bool, np.bool_))
        and isinstance(value, (int, float, np.integer, np.floating))
        and math.isfinite(float(value))
    )


def data_row(position: int) -> str:
    """Row ``position`` (0-based, as pandas numbers them) of a table read from a CSV file
    with a header line, as its reader finds it in an editor."""
    return f"data row {position + 1} (CSV line {position + 2})"


def unusable_cell(frame: Any, columns: Sequence[str]) -> tuple[str, int, Any, int] | None:
    """The first cell of ``columns`` no model can use: empty, or an infinite number.

    Args:
        frame: a DataFrame whose index holds row positions (as read from a CSV).
        columns: the feature columns to look through, in order.

    Returns:
        (column, row position, value, how many of that column's rows are unusable), or
        None when every cell is usable.
    """
    for column in columns:
        values = frame[column]
        bad = values.isna().to_numpy()
        if values.dtype.kind in "fc":
            bad = bad | np.isinf(values.to_numpy())
        if bad.any():
            first = int(np.flatnonzero(bad)[0])
            return column, int(frame.index[first]), values.iloc[first], int(bad.sum())
    return None
