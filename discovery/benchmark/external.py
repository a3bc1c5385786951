"""Strategies from outside the campaign engine, driven one cycle at a time and checked.

A reference strategy (BayBE, a plain BoTorch loop, your own) sees only what a real
campaign would see: the designs measured so far and their values. It proposes pool
indices; the harness refuses, loudly, a proposal that is not a new design of the pool,
because a strategy that measures a design twice would be credited for nothing.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from discovery.benchmark.datasets import Dataset
from discovery.exceptions import DiscoveryError


class StrategyError(DiscoveryError, RuntimeError):
    """A benchmarked strategy broke the rules: it proposed a measured or unknown design."""


class Proposer(Protocol):
    """One run of an external strategy over one dataset.

    ``propose(measured, values, k)`` gets the (n,) pool indices measured so far and their
    (n,) measured values, and returns ``k`` pool indices to measure next.
    """

    def propose(self, measured: np.ndarray, values: np.ndarray, k: int) -> list[int]: ...


class ExternalStrategy(Protocol):
    """Makes a :class:`Proposer` for one run: ``start(dataset, seed)``."""

    name: str

    def start(self, dataset: Dataset, seed: int) -> Proposer: ...


def replay_proposer(
    name: str,
    proposer: Proposer,
    dataset: Dataset,
    initial: list[int],
    cycles: int,
    batch_size: int,
) -> list[int]:
    """Measure ``initial``, then ask ``proposer`` for ``batch_size`` designs per cycle.

    Returns:
        The pool indices in the order they were measured, ``cycles`` of them (fewer
        if the pool runs out first).

    Raises:
        StrategyError: a proposal of the wrong size, outside the pool, repeated within
            the batch, or of a design already measured.
    """
    trace = list(initial)
    measured = np.zeros(len(dataset), dtype=bool)
    measured[trace] = True
    budget = min(cycles, len(dataset))
    while len(trace) < budget:
        k = min(batch_size, budget - len(trace))
        picks = proposer.propose(np.asarray(trace), dataset.values[trace], k)
        picks = _checked_picks(name, picks, k, measured, trace, dataset)
        measured[picks] = True
        trace.extend(picks)
    return trace


def _checked_picks(
    name: str, picks: list[int], k: int, measured: np.ndarray, trace: list[int], dataset: Dataset
) -> list[int]:
    picks = [int(p) for p in picks]
    cycle = len(trace) + 1
    if len(picks) != k:
        raise StrategyError(
            f"strategy '{name}' proposed {len(picks)} designs at cycle {cycle}, asked for {k}"
        )
    for pick in picks:
        if not 0 <= pick < len(dataset):
            raise StrategyError(
                f"strategy '{name}' proposed design {pick} at cycle {cycle}, which is not in "
                f"the pool of {dataset.name} (0..{len(dataset) - 1})"
            )
        if measured[pick]:
            raise StrategyError(
                f"strategy '{name}' re-proposed design {pick} of {dataset.name} at cycle "
                f"{cycle}; it was already measured at cycle {trace.index(pick) + 1}"
            )
    if len(set(picks)) != len(picks):
        raise StrategyError(
            f"strategy '{name}' proposed the same design twice in one batch at cycle {cycle}"
        )
    return picks
