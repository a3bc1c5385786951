"""The figures of a benchmark, from the order in which each run measured the pool.

Liang et al. (2021) define, per learning cycle i (the initial designs are cycles 1..n0):
- Top%(i): the fraction of the good designs measured by cycle i;
- the random baseline Top%_rand(i) = i / N (uniform sampling without replacement);
- the enhancement factor EF(i) = Top%(i) / Top%_rand(i);
- the acceleration factor AF(a) = i_rand(a) / i(a), where i(a) is the first cycle at
  which Top% reaches a, and i_rand(a) = ceil(a N).
A run that never reaches ``a`` within its cycles is censored: its cycle count is
``inf``, which sorts after every finite count, so medians stay honest.
"""

from __future__ import annotations

import math

import numpy as np


def found_curve(trace: list[int] | np.ndarray, good: np.ndarray) -> np.ndarray:
    """(len(trace),) int: good designs measured by each cycle (cycle i at index i-1)."""
    return np.cumsum(good[np.asarray(trace, dtype=int)]).astype(int)


def top_fraction(curve: np.ndarray, n_good: int, cycle: int) -> float:
    """Top% at ``cycle`` (1-based): the share of good designs found by then.

    A run shorter than ``cycle`` (the pool ran out) counts at its last cycle.
    """
    return float(curve[min(cycle, curve.shape[0]) - 1]) / n_good


def cycles_to(curve: np.ndarray, n_good: int, fraction: float) -> float:
    """The first cycle whose Top% reaches ``fraction``; ``inf`` if the run never did."""
    needed = math.ceil(fraction * n_good - 1e-9)
    reached = np.flatnonzero(curve >= needed)
    return float(reached[0] + 1) if reached.size else math.inf


def random_cycles_to(fraction: float, pool_size: int) -> int:
    """i_rand(a): the cycle at which random sampling's expected Top% reaches ``fraction``."""
    return math.ceil(fraction * pool_size - 1e-9)


def enhancement_factor(top: float, cycle: int, pool_size: int) -> float:
    """EF: Top% at ``cycle`` over random sampling's ``cycle / N``."""
    return top / (cycle / pool_size)


def acceleration_factor(cycles: float, fraction: float, pool_size: int) -> float:
    """AF: random sampling's cycles to ``fraction`` over the strategy's (0 if never)."""
    return random_cycles_to(fraction, pool_size) / cycles


def median_interval(
    values: np.ndarray, seed: int = 0, resamples: int = 2000, level: float = 0.95
) -> tuple[float, float]:
    """Percentile-bootstrap interval of the median of ``values`` (runs resampled)."""
    values = np.asarray(values, dtype=float)
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, values.shape[0], size=(resamples, values.shape[0]))
    medians = np.median(values[picks], axis=1)
    tail = (1.0 - level) / 2.0
    # No interpolation: a censored run's inf must not turn a quantile into inf - inf.
    low = np.quantile(medians, tail, method="inverted_cdf")
    high = np.quantile(medians, 1.0 - tail, method="inverted_cdf")
    return float(low), float(high)


def paired_record(
    ours: np.ndarray, theirs: np.ndarray, higher_is_better: bool
) -> tuple[int, int, int]:
    """(wins, ties, losses) of ``ours`` against ``theirs``, run by run (same initial designs).

    Two censored runs (both ``inf``) tie.
    """
    ours, theirs = np.asarray(ours, dtype=float), np.asarray(theirs, dtype=float)
    sign = 1.0 if higher_is_better else -1.0
    both_inf = np.isinf(ours) & np.isinf(theirs) & (ours == theirs)
    with np.errstate(invalid="ignore"):
        difference = np.where(both_inf, 0.0, sign * (ours - theirs))
    return int((difference > 0).sum()), int((difference == 0).sum()), int((difference < 0).sum())
