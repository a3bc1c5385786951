"""What a measured value is worth: the best of several, and its reward (larger is
better whatever the objective's direction)."""

from __future__ import annotations

from typing import Any

import numpy as np


def best_position(values: Any, maximize: bool, closest_to: float | None = None) -> int:
    """Position of the best value (the first on ties): the largest, the smallest, or
    the one closest to ``closest_to``; a missing value (NaN) is never the best unless
    every value is missing."""
    values = np.asarray(values, dtype=np.float64)
    if np.isnan(values).all():
        return 0
    if closest_to is not None:
        return int(np.nanargmin(np.abs(values - closest_to)))
    return int(np.nanargmax(values) if maximize else np.nanargmin(values))


def reward_of(values: Any, maximize: bool, closest_to: float | None = None) -> np.ndarray:
    """The reward of measured values: the value when maximising, its negative when
    minimising, -|value - closest_to| for a target; larger is always better."""
    values = np.asarray(values, dtype=np.float64)
    if closest_to is not None:
        return -np.abs(values - closest_to)
    return values if maximize else -values
