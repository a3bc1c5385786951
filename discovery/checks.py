"""Checks of user input shared across the library."""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def is_finite_number(value: Any) -> bool:
    """A finite real number, numpy's included (a bound read off a table); not a bool."""
    return (
        not isinstance(value, (bool, np.bool_))
        and isinstance(value, (int, float, np.integer, np.floating))
        and math.isfinite(float(value))
    )
