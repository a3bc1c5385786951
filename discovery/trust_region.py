"""A trust region for proposals without gradients: the box the next points are sought in.

A surrogate that is not a GP (a forest, a neural ensemble) is searched over a scored
Sobol sample. Over the whole space that search is drawn to where the model knows
least: a neural network fitted to a few dozen points extrapolates linearly past them
and its members disagree most there, so expected improvement piles up at the edges
and corners of the box; a forest's spread is widest in empty regions too. A trust
region (TuRBO:
Eriksson et al., "Scalable Global Optimization via Local Bayesian Optimization",
NeurIPS 2019) keeps the search in a box centred on the best measurement: the box
doubles after ``SUCCESS_TOLERANCE`` improvements in a row, halves after
``failure_tolerance`` experiments without one, and starts again at
``LENGTH_INITIAL`` once it has shrunk below ``LENGTH_MIN``. Its side is replayed from
the measurements in the store's order each time, so a resumed campaign finds the
same region. Only the experiments the campaign's model chose are trials; the initial
design and measurements told to the campaign (legacy data, in whatever order they were
told) set the best to beat, not the box. The constants are the paper's; an experiment counts as one trial
(the paper's per-batch tolerances divided by the batch size come to the same).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

#: Side of the box, in unit features (1 spans a parameter's whole range).
LENGTH_INITIAL = 0.8
LENGTH_MIN = 0.5**7
LENGTH_MAX = 1.6
#: Improvements in a row that double the box.
SUCCESS_TOLERANCE = 3
#: An improvement must beat the best by this fraction of its magnitude.
IMPROVEMENT = 1e-3
#: Acquisitions that explore for their own sake: a trust region would defeat them.
EXPLORING = ("uncertainty", "random")


def seeks_optimum(acquisition: Any) -> bool:
    """Whether an acquisition looks for the best point (so a trust region serves it): the
    library's exploring ones do not; a function of the user's own is taken to seek it,
    whatever its name."""
    exploring = acquisition.name in EXPLORING and getattr(acquisition, "is_builtin", True)
    return bool(acquisition.needs_model) and not exploring


def failure_tolerance(dimension: int) -> int:
    """Experiments in a row without improvement that halve the box: max(4, d)."""
    return max(4, dimension)


def trust_region_length(
    utilities: Sequence[float],
    n_initial: int,
    dimension: int,
    maximize: bool = True,
    trials: Sequence[bool] | None = None,
) -> float:
    """The box's side after the measurements ``utilities`` (in the store's order).

    Args:
        utilities: measured values on the scale the model learns.
        n_initial: how many of the first values are the initial design (they set the
            starting best, not the box); ignored where ``trials`` is given.
        dimension: the number of model features.
        maximize: whether larger utilities are better.
        trials: per value, whether the campaign's model chose it; the others (initial
            design, told measurements) only raise the best to beat.
    """
    values = np.asarray(utilities, dtype=np.float64) * (1.0 if maximize else -1.0)
    if trials is None:
        trials = np.arange(values.shape[0]) >= n_initial
    length, successes, failures = LENGTH_INITIAL, 0, 0
    best = -math.inf
    tolerance = failure_tolerance(dimension)
    for value, is_trial in zip(values, trials, strict=True):
        if not is_trial:
            best = max(best, float(value))
            continue
        if not math.isfinite(best) or value > best + IMPROVEMENT * abs(best):
            successes, failures = successes + 1, 0
        else:
            successes, failures = 0, failures + 1
        best = max(best, float(value))
        if successes == SUCCESS_TOLERANCE:
            length, successes = min(2 * length, LENGTH_MAX), 0
        elif failures == tolerance:
            length, failures = length / 2, 0
        if length < LENGTH_MIN:
            length = LENGTH_INITIAL
    return length
