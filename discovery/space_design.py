"""Initial designs in a declared space: Sobol, Latin hypercube, or a pool selector
(k-means, farthest point, random) over a large feasible Sobol sample.

k-means over a dense sample is the training-set selection of a finite pool carried
over to a continuous space: the design's points sit where the space's volume is,
one per cluster.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from discovery.proposal import distinct_new, new_samples
from discovery.search_space import Space
from discovery.selection import INITIAL_DESIGNS, FarthestPointDesign, Selector

#: Feasible Sobol points a selector-based design chooses from.
DESIGN_SAMPLE_SIZE = 2**12


@dataclass(frozen=True)
class SobolDesign:
    """Initial design: the first points of a scrambled Sobol sequence over the feasible space."""

    name: str = "sobol"
    method: str = "sobol"


@dataclass(frozen=True)
class LatinHypercubeDesign:
    """Initial design: a Latin hypercube over the feasible space."""

    name: str = "lhs"
    method: str = "lhs"


#: Names of the designs a declared space accepts.
SPACE_DESIGNS = {"sobol": SobolDesign, "lhs": LatinHypercubeDesign, **INITIAL_DESIGNS}


def space_initial_design(
    space: Space,
    design: Any,
    size: int,
    taken: np.ndarray,
    rng: np.random.Generator,
) -> list[dict[str, Any]]:
    """``size`` feasible points, none within tolerance of the (n, d) ``taken`` features.

    Args:
        design: a :class:`SobolDesign`, :class:`LatinHypercubeDesign`, or any
            selector with ``pick`` (run over a feasible Sobol sample).
    """
    seed = int(rng.integers(2**31 - 1))
    method = getattr(design, "method", None)
    if method is not None and taken.shape[0] == 0:
        points = space.sample(size, method, seed=seed)
        features = space.encode(points)
        fresh = np.flatnonzero(distinct_new(features, taken))[:size]
    else:
        # A Sobol or Latin-hypercube design goes on from the points already taken (asked
        # one at a time, or told before) as the farthest from them: each call's fresh
        # scramble would otherwise start anew, and one point at a time be a random one.
        selector: Selector = design if method is None else FarthestPointDesign()
        sample = space.sample(max(DESIGN_SAMPLE_SIZE, 8 * size), "sobol", seed=seed)
        features = space.encode(sample)
        # Repeats and points already taken leave the sample: a sample of a space of
        # integers and categories repeats its few points thousands of times, and a
        # selector takes what it is told is excluded for measured points (k-means made
        # a cluster of each, the farthest point measured its distances from them).
        new = np.flatnonzero(distinct_new(features, taken))
        points, features = [sample[int(i)] for i in new], features[new]
        wanted = min(size, len(points))
        # the points already taken join the sample, excluded, so that the design spreads
        # away from them too (an initial design asked for one point at a time)
        seen = np.concatenate([np.zeros(len(points), bool), np.ones(taken.shape[0], bool)])
        fresh = np.asarray(
            selector.pick(None, wanted, seen, np.vstack([features, taken]), rng) if wanted else [],
            dtype=int,
        )
    chosen = [points[int(i)] for i in fresh]
    if len(chosen) < size:  # a small space of integers and categories repeats its points
        seen = np.vstack([taken, features[fresh]])
        chosen.extend(new_samples(space, size - len(chosen), seen, rng, "random"))
    return chosen


def resolve_space_design(spec: str | Selector) -> Any:
    """An initial design for a space from "sobol", "lhs", "kmeans", "farthest", "random"
    or an object with ``pick``."""
    from discovery.selection import _resolve

    return _resolve(spec, SPACE_DESIGNS, "initial_design")
