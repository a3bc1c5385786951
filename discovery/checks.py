"""Checks of user input shared across the library."""

from __future__ import annotations

import math
import numbers
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


def is_whole_number(value: Any) -> bool:
    """A whole number, Python's or numpy's (a count read off an array or a search grid);
    not a bool, which would count as 0 or 1."""
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def plain_number(value: Any) -> Any:
    """A numpy number (``np.int64(4)`` from an array or a search grid) as Python's: the
    ``default`` of ``json.dumps`` for settings that may hold one."""
    if isinstance(value, np.generic) and np.ndim(value) == 0:
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON")


#: The largest seed numpy's and scikit-learn's generators all take (2**32 - 1).
MAX_SEED = 2**32 - 1


def data_row(position: int) -> str:
    """Row ``position`` (0-based, as pandas numbers them) of a table read from a CSV file
    with a header line, as its reader finds it in an editor."""
    return f"data row {position + 1} (CSV line {position + 2})"


def unusable_feature(frame: Any, columns: Sequence[str]) -> str | None:
    """Why the first cell of ``columns`` no model can use (empty, or an infinite number)
    stops a command that reads a CSV, and what to do; None when every cell is usable.

    Args:
        frame: a DataFrame whose index holds row positions (as read from a CSV).
        columns: the feature columns to look through, in order.
    """
    for column in columns:
        values = frame[column]
        empty = values.isna().to_numpy()
        bad = empty | np.isinf(values.to_numpy()) if values.dtype.kind in "fc" else empty
        if bad.any():
            first = int(np.flatnonzero(bad)[0])
            value, count = values.iloc[first], int(bad.sum())
            problem = "is empty" if empty[first] else f"is infinite ({value})"
            more = f" (and {count - 1} more rows)" if count > 1 else ""
            return (
                f"feature '{column}' {problem} in {data_row(int(frame.index[first]))}{more}; "
                "fill it in, delete the row, or leave the column out with --features"
            )
    return None
