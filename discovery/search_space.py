"""A declared search space: parameters, constraints, encoding and feasible samples.

The model sees a point as features in the unit cube: one column per real or
integer parameter (on its linear or log scale), one-hot or descriptor columns
per categorical one. ``encode`` and ``decode`` move between points (dicts of
parameter values) and features; ``sample`` draws feasible points by Sobol, Latin
hypercube or plain random sampling.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.linalg import null_space
from scipy.optimize import linprog
from scipy.stats import qmc

from discovery.constraints import (
    EQUALITY_TOLERANCE,
    Constraint,
    Exclusion,
    LinearConstraint,
    constraint_from_dict,
)
from discovery.exceptions import ConfigurationError
from discovery.parameters import Categorical, Integer, Parameter, Real, parameter_from_dict

SAMPLING_METHODS = ("sobol", "lhs", "random")
#: Draws per wanted point before sampling gives up on constraints that leave almost nothing.
MAX_DRAWS_PER_POINT = 64
#: Below this share of feasible points in the null-space box, hit-and-run takes over
#: (a mixture of many components fills a vanishing part of its box).
MIN_BOX_ACCEPTANCE = 0.05
#: Steps of each of the side-by-side hit-and-run chains that sample a polytope a box
#: sample would miss: enough, from starts spread over it, in the dimensions mixtures have.
HIT_AND_RUN_CHAIN_STEPS = 100
#: Dirichlet concentration of the mixtures of extreme points the chains start from: below
#: 1 the starts lean towards the ends (at 1 they crowd the middle; on a mixture whose two
#: parts hold 90 % or more, the draws' spread along it was 0.21 at 1, 0.26 at 0.25,
#: uniform 0.27).
START_CONCENTRATION = 0.25
#: Below this share of the box meeting the linear inequalities (five fractions summing to
#: at most 1 fill 1/120 of it), rejection finds too few points in its draws: hit-and-run
#: takes over.
MIN_REJECTION_ACCEPTANCE = 1 / MAX_DRAWS_PER_POINT
#: Uniform draws that estimate how much of the null-space box is feasible.
ACCEPTANCE_TRIALS = 1024
#: Most combinations a space of integers and categories is listed in full: such a space
#: can run out of new points, and its last ones are found in the list, not by sampling.
MAX_LISTED_POINTS = 100_000
#: Most combinations of the discrete values its exclusions name that a space tries, when it
#: is built, for one they leave open; beyond them an empty space is found when sampled.
MAX_CHECKED_COMBINATIONS = MAX_LISTED_POINTS


@dataclass(frozen=True)
class FeatureConstraint:
    """A linear constraint on the model's features: sum(coefficients * x[indices]) >= rhs
    (or == rhs), the form BoTorch's optimisers take."""

    indices: tuple[int, ...]
    coefficients: tuple[float, ...]
    rhs: float
    is_equality: bool


class Space:
    """The parameters a campaign may set, and the constraints they must meet.

    Args:
        parameters: :class:`~discovery.parameters.Real`, ``Integer`` and
            ``Categorical`` parameters, distinct names.
        constraints: :class:`~discovery.constraints.LinearConstraint` over real
            parameters on a linear scale, and ``Exclusion`` of value combinations.

    Raises:
        ConfigurationError: parameters or constraints not given as lists, no
            parameters, a duplicated name, a constraint that names an unknown
            parameter or one it cannot apply to, or constraints that no point of
            the space meets (where that can be decided: linear constraints always,
            exclusions over few enough discrete values).
    """

    def __init__(
        self, parameters: Sequence[Parameter], constraints: Sequence[Constraint] = ()
    ) -> None:
        parameters = _as_list(parameters, "parameters", "Real, Integer or Categorical")
        constraints = _as_list(constraints, "constraints", "LinearConstraint or Exclusion")
        if not parameters:
            raise ConfigurationError("space: needs at least one parameter")
        for parameter in parameters:
            if not isinstance(parameter, (Real, Integer, Categorical)):
                raise ConfigurationError(
                    f"space: parameters must be Real, Integer or Categorical, got "
                    f"{type(parameter).__name__}"
                )
        names = [p.name for p in parameters]
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise ConfigurationError(f"space: duplicated parameter names {duplicated}")
        self.parameters: list[Parameter] = parameters
        self.constraints: list[Constraint] = constraints
        self._by_name = {p.name: p for p in parameters}
        self._box: tuple | None = None  # the null-space sampling box, made when first needed
        self._polytope: tuple | None = None  # the walks' polytope and starts, made likewise
        self._listed: tuple[list[dict[str, Any]], np.ndarray] | None = None
        self._box_acceptance = 1.0
        self._inequality_acceptance: float | None = None  # estimated when first needed
        self._check_constraints()
        offsets = np.cumsum([0] + [p.width for p in parameters])
        self._slices = {
            p.name: slice(int(a), int(b))
            for p, a, b in zip(parameters, offsets, offsets[1:], strict=False)
        }

    # -- validation ---------------------------------------------------------------------

    def _check_constraints(self) -> None:
        for constraint in self.constraints:
            if not isinstance(constraint, (LinearConstraint, Exclusion)):
                raise ConfigurationError(
                    f"space: constraints must be LinearConstraint or Exclusion, got "
                    f"{type(constraint).__name__}"
                )
            unknown = [n for n in constraint.names if n not in self._by_name]
            if unknown:
                raise ConfigurationError(
                    f"space: constraint '{constraint}' names unknown parameter(s) {unknown}; "
                    f"the space has {self.names}"
                )
            if isinstance(constraint, LinearConstraint):
                self._check_linear(constraint)
            else:
                self._check_exclusion(constraint)
        if self.linear_constraints:
            self._check_feasible()
        if self.exclusions:
            self._check_some_point_left()

    def _check_linear(self, constraint: LinearConstraint) -> None:
        for name in constraint.names:
            parameter = self._by_name[name]
            if not isinstance(parameter, Real) or parameter.log:
                raise ConfigurationError(
                    f"space: constraint '{constraint}' names '{name}', which is not a real "
                    "parameter on a linear scale; linear constraints apply to those only"
                )

    def _check_exclusion(self, exclusion: Exclusion) -> None:
        for name, condition in exclusion.conditions.items():
            parameter = self._by_name[name]
            if isinstance(condition, tuple) and isinstance(parameter, Categorical):
                raise ConfigurationError(
                    f"space: exclusion '{exclusion}' compares categorical '{name}' with a "
                    "number; list its excluded categories instead"
                )
            if isinstance(condition, list):
                if isinstance(parameter, Real):
                    raise ConfigurationError(
                        f"space: exclusion '{exclusion}' lists values of real '{name}'; "
                        "use a comparison such as ('>', 100)"
                    )
                foreign = [v for v in condition if not parameter.contains(v)]
                if foreign:
                    raise ConfigurationError(
                        f"space: exclusion '{exclusion}' lists {foreign}, not values of '{name}'"
                    )
        reals = [n for n in exclusion.comparisons() if isinstance(self._by_name[n], Real)]
        if len(reals) > 1:
            raise ConfigurationError(
                f"space: exclusion '{exclusion}' compares {len(reals)} real parameters "
                f"{reals}; an exclusion may compare at most one (split it, or use a "
                "LinearConstraint)"
            )

    def _check_feasible(self) -> None:
        """Linear constraints must leave some point within the bounds (a linear program)."""
        bounds = {n: (self._by_name[n].low, self._by_name[n].high) for n in self.constrained_reals}
        if not self._meets_linear_constraints_within(bounds):
            described = "; ".join(str(c) for c in self.linear_constraints)
            raise ConfigurationError(
                f"space: the linear constraints are infeasible: no point within the bounds "
                f"satisfies {described}"
            )

    def _meets_linear_constraints_within(self, bounds: Mapping[str, tuple[float, float]]) -> bool:
        """Whether some values of the constrained reals within ``bounds`` (name -> (low,
        high)) meet every linear constraint (a linear program)."""
        reals = self.constrained_reals
        index = {name: i for i, name in enumerate(reals)}
        rows_ub, rhs_ub, rows_eq, rhs_eq = [], [], [], []
        for constraint in self.linear_constraints:
            row = np.zeros(len(reals))
            for name, c in constraint.coefficients.items():
                row[index[name]] = c
            if constraint.operator == "==":
                rows_eq.append(row)
                rhs_eq.append(constraint.bound)
            else:
                sign = 1.0 if constraint.operator == "<=" else -1.0
                rows_ub.append(sign * row)
                rhs_ub.append(sign * constraint.bound)
        result = linprog(
            np.zeros(len(reals)),
            A_ub=np.array(rows_ub) if rows_ub else None,
            b_ub=np.array(rhs_ub) if rhs_ub else None,
            A_eq=np.array(rows_eq) if rows_eq else None,
            b_eq=np.array(rhs_eq) if rhs_eq else None,
            bounds=[bounds[n] for n in reals],
            method="highs",
        )
        return result.status != 2

    def _check_some_point_left(self) -> None:
        """Exclusions (with the linear constraints) must leave some point: each combination
        of the discrete values they name is tried until one is left open, where there
        are at most :data:`MAX_CHECKED_COMBINATIONS` of them."""
        named = {n for exclusion in self.exclusions for n in exclusion.names}
        discrete = [p for p in self.parameters if p.name in named and not isinstance(p, Real)]
        if math.prod(_count(p) for p in discrete) > MAX_CHECKED_COMBINATIONS:
            return
        names = [p.name for p in discrete]
        solved: dict[tuple, bool] = {}  # linear programs by the reals' ranges
        for values in itertools.product(*(p.values for p in discrete)):
            ranges = self._real_ranges_left(dict(zip(names, values, strict=True)))
            if ranges is not None and self._meets_linear_constraints_given(ranges, solved):
                return
        involved = self.constraints if self.linear_constraints else self.exclusions
        kinds = "constraints" if self.linear_constraints else "exclusions"
        raise ConfigurationError(
            f"space: no point of the space meets its {kinds}: "
            + "; ".join(str(c) for c in involved)
        )

    def _real_ranges_left(self, fixed: Mapping[str, Any]) -> dict[str, tuple[float, float]] | None:
        """The range (low, high) of each real parameter, in its own units, that the
        exclusions leave once the discrete values ``fixed`` are set; None when they leave
        nothing (a range closed at an excluded value, ``x >= 1`` on [0, 1], is empty)."""
        lowest = {p.name: (p.low, False) for p in self.parameters if isinstance(p, Real)}
        highest = {name: (self._by_name[name].high, False) for name in lowest}
        for exclusion in self.exclusions:
            if not exclusion.holds_for(fixed):
                continue  # some discrete condition fails: the exclusion does not bite here
            reals = {n: c for n, c in exclusion.comparisons().items() if n not in fixed}
            if not reals:
                return None
            ((name, (op, threshold)),) = reals.items()
            # "excluded when x > t" leaves x <= t, "when x >= t" leaves x < t (open);
            # of two ends at one value, the open one is the tighter
            if op in (">", ">="):
                end = (threshold, op == ">=")
                highest[name] = min(highest[name], end, key=lambda e: (e[0], not e[1]))
            else:
                end = (threshold, op == "<=")
                lowest[name] = max(lowest[name], end)
        ranges = {}
        for name, (low, is_low_open) in lowest.items():
            high, is_high_open = highest[name]
            if low > high or (low == high and (is_low_open or is_high_open)):
                return None
            ranges[name] = (low, high)
        return ranges

    def _meets_linear_constraints_given(
        self, ranges: Mapping[str, tuple[float, float]], solved: dict[tuple, bool]
    ) -> bool:
        """Whether the linear constraints hold somewhere in the reals' ``ranges`` (their
        closures), each distinct set of ranges solved once and kept in ``solved``."""
        if not self.linear_constraints:
            return True
        bounds = {n: ranges[n] for n in self.constrained_reals}
        key = tuple(bounds.values())
        if key not in solved:
            solved[key] = self._meets_linear_constraints_within(bounds)
        return solved[key]

    # -- description --------------------------------------------------------------------

    @property
    def names(self) -> list[str]:
        return [p.name for p in self.parameters]

    @property
    def parameter_columns(self) -> list[str]:
        """The parameter names, as a pool's parameter columns are named."""
        return self.names

    @property
    def linear_constraints(self) -> list[LinearConstraint]:
        return [c for c in self.constraints if isinstance(c, LinearConstraint)]

    @property
    def exclusions(self) -> list[Exclusion]:
        return [c for c in self.constraints if isinstance(c, Exclusion)]

    @property
    def constrained_reals(self) -> list[str]:
        """Real parameters that appear in a linear constraint, in the space's order."""
        named = {n for c in self.linear_constraints for n in c.names}
        return [n for n in self.names if n in named]

    @property
    def feature_names(self) -> list[str]:
        names: list[str] = []
        for p in self.parameters:
            names.extend(p.feature_names if isinstance(p, Categorical) else [p.name])
        return names

    @property
    def n_features(self) -> int:
        return len(self.feature_names)

    def parameter(self, name: str) -> Parameter:
        """The parameter called ``name``."""
        try:
            return self._by_name[name]
        except KeyError:
            raise ConfigurationError(
                f"space: no parameter '{name}'; the space has {self.names}"
            ) from None

    def feature_slice(self, name: str) -> slice:
        """The columns of a parameter in the feature matrix."""
        return self._slices[name]

    @property
    def is_continuous(self) -> bool:
        """True when every parameter is real."""
        return all(isinstance(p, Real) for p in self.parameters)

    def __repr__(self) -> str:
        return f"Space({len(self.parameters)} parameters, {len(self.constraints)} constraints)"

    def __len__(self) -> int:
        return len(self.parameters)

    # -- points and features --------------------------------------------------------------

    def encode(self, points: Iterable[Mapping[str, Any]] | pd.DataFrame) -> np.ndarray:
        """(n, d) features of points given as dicts or as a DataFrame's rows.

        Raises:
            ConfigurationError: a parameter missing from a point, or a category
                the space does not have.
        """
        frame = points if isinstance(points, pd.DataFrame) else pd.DataFrame(list(points))
        missing = [n for n in self.names if n not in frame.columns]
        if missing:
            raise ConfigurationError(f"space: points lack the parameter(s) {missing}")
        if len(frame) == 0:
            return np.empty((0, self.n_features))
        columns = [p.encode(frame[p.name].tolist()) for p in self.parameters]
        return np.hstack(columns)

    def decode(self, features: np.ndarray) -> list[dict[str, Any]]:
        """Points nearest to (n, d) features: reals clipped to their bounds, integers
        rounded, categories the nearest."""
        features = np.atleast_2d(np.asarray(features, dtype=np.float64))
        columns = {p.name: p.decode(features[:, self._slices[p.name]]) for p in self.parameters}
        return [{n: columns[n][i] for n in self.names} for i in range(features.shape[0])]

    def violation(self, point: Mapping[str, Any]) -> str | None:
        """Why a point is outside the space (the first reason found), or None."""
        if not isinstance(point, Mapping):
            return f"a point must be a {{parameter: value}} mapping, got {type(point).__name__}"
        unknown = sorted(set(point) - set(self.names))
        if unknown:
            return f"unknown parameter(s) {unknown}; the space has {self.names}"
        for p in self.parameters:
            if p.name not in point:
                return f"parameter '{p.name}' is missing"
            if not p.contains(point[p.name]):
                allowed = (
                    f"one of {list(p.values)}"
                    if isinstance(p, Categorical)
                    else f"{'an integer' if isinstance(p, Integer) else 'a number'} in "
                    f"[{p.low:g}, {p.high:g}]"
                )
                return f"'{p.name}' = {point[p.name]!r} is not {allowed}"
        for constraint in self.constraints:
            if not self._meets(constraint, point):
                return f"the point violates the constraint {constraint}"
        return None

    def _meets(self, constraint: Constraint, point: Mapping[str, Any]) -> bool:
        """Whether a point meets a constraint; a linear one within the tolerance of its
        terms' spans over their parameters' ranges."""
        if isinstance(constraint, Exclusion):
            return constraint.is_satisfied_by(point)
        ranges = {n: (self._by_name[n].low, self._by_name[n].high) for n in constraint.names}
        return constraint.is_satisfied_by(point, scale=constraint.span_over(ranges))

    def contains(self, point: Mapping[str, Any]) -> bool:
        """Whether a point lies in the space and meets every constraint."""
        return self.violation(point) is None

    @property
    def is_listed(self) -> bool:
        """Whether the space is finite and small enough to list: integers and categories
        only, at most :data:`MAX_LISTED_POINTS` combinations."""
        if any(isinstance(p, Real) for p in self.parameters):
            return False
        return math.prod(_count(p) for p in self.parameters) <= MAX_LISTED_POINTS

    def listed(self) -> tuple[list[dict[str, Any]], np.ndarray]:
        """Every feasible point of a listed space (:attr:`is_listed`) and its features.

        Raises:
            ConfigurationError: the space has a real parameter or too many combinations.
        """
        if not self.is_listed:
            raise ConfigurationError(
                f"space: only a space of integers and categories with at most "
                f"{MAX_LISTED_POINTS:,} combinations is listed"
            )
        if self._listed is None:
            names = self.names
            values = [p.values for p in self.parameters]
            combinations = (dict(zip(names, c, strict=True)) for c in itertools.product(*values))
            points = [point for point in combinations if self.contains(point)]
            features = self.encode(points) if points else np.empty((0, self.n_features))
            self._listed = (points, features)
        return self._listed

    def canonical(self, point: Mapping[str, Any]) -> dict[str, Any]:
        """A point with plain Python values of each parameter's type, in the space's order."""
        values = {}
        for p in self.parameters:
            value = point[p.name]
            if isinstance(p, Real):
                values[p.name] = float(value) + 0.0  # -0.0 is 0.0: one point, one id
            elif isinstance(p, Integer):
                values[p.name] = int(value)
            else:
                values[p.name] = p.values[p.index_of(value)]
        return values

    def candidate_id(self, point: Mapping[str, Any]) -> str:
        """A stable id derived from a point's values (the same point, the same id)."""
        text = json.dumps(self.canonical(point), sort_keys=True)
        return "p-" + hashlib.sha256(text.encode()).hexdigest()[:16]

    # -- sampling -----------------------------------------------------------------------

    def sample(self, n: int, method: str = "sobol", seed: int = 0) -> list[dict[str, Any]]:
        """``n`` feasible points, by scrambled Sobol, Latin hypercube or plain random draws.

        Discrete parameters take the value of their stratum of the unit interval;
        points that an exclusion or a linear inequality removes are dropped and
        more are drawn. Real parameters tied by a linear *equality* (a mixture)
        cannot be hit by a box sample: they are drawn in the coordinates of the
        equalities' null space, over the box that bounds the feasible polytope there
        (found by linear programs), so that the draws stay low-discrepancy and only
        the corners of that box are rejected. Constrained reals whose polytope fills
        too little of its box for rejection (five fractions summing to at most 1) are
        drawn by hit-and-run inside it instead, as are those of a space whose
        rejection sampling finds too few points.

        Raises:
            ConfigurationError: an unknown method, or constraints that leave so
                little of the space that ``n`` points are not found.
        """
        if method not in SAMPLING_METHODS:
            raise ConfigurationError(
                f"space: sampling method must be one of {list(SAMPLING_METHODS)}, got '{method}'"
            )
        if n < 1:
            return []
        rng = np.random.default_rng(seed)
        kept, draws = self._feasible_draws(n, method, rng, walk=False)
        if len(kept) < n and self.constrained_reals:
            # rejection found too few: walk inside the constrained reals' polytope instead
            more, extra = self._feasible_draws(n - len(kept), method, rng, walk=True)
            kept, draws = kept + more, draws + extra
        if len(kept) < n:
            raise ConfigurationError(
                f"space: the constraints leave too little of the space: {len(kept)} feasible "
                f"points in {draws} draws, {n} wanted"
            )
        return kept

    def _feasible_draws(
        self, n: int, method: str, rng: np.random.Generator, walk: bool
    ) -> tuple[list[dict[str, Any]], int]:
        """Up to ``n`` feasible points, drawn in batches until ``n`` are found or
        :data:`MAX_DRAWS_PER_POINT` draws per point are spent; the points and the draws."""
        kept: list[dict[str, Any]] = []
        draws, batch = 0, n
        while len(kept) < n and draws < MAX_DRAWS_PER_POINT * n:
            points = self._draw(batch, method, rng, walk)
            draws += batch
            if self.constraints:  # a draw is in the box by construction: only these reject
                points = [p for p in points if self.contains(p)]
            kept.extend(points)
            rate = max(len(kept) / draws, 1 / MAX_DRAWS_PER_POINT)
            batch = min(MAX_DRAWS_PER_POINT * n, math.ceil(1.25 * (n - len(kept)) / rate) + 1)
        return kept[:n], draws

    def _draw(
        self, n: int, method: str, rng: np.random.Generator, walk: bool = False
    ) -> list[dict[str, Any]]:
        """``n`` points in the box, the constrained reals drawn together on their polytope
        where a box sample would miss it: in the null space of their equalities, or by
        parallel hit-and-run (:meth:`_walk`; always with ``walk``) where their
        inequalities leave too little of their box."""
        tied = self._equality_tied_reals()
        if not walk and not tied and self.constrained_reals:
            walk = self._share_meeting_inequalities() < MIN_REJECTION_ACCEPTANCE
        together = self.constrained_reals if tied or walk else []
        free = [p for p in self.parameters if p.name not in together]
        reduced = self._null_space_box()[1].shape[1] if tied else 0
        unit = _unit_sample(len(free) + reduced, n, method, rng)
        columns: dict[str, list[Any]] = {}
        for j, p in enumerate(free):
            columns[p.name] = _from_unit(p, unit[:, j])
        if together:
            if walk:
                together_unit = self._walk(n, rng)
            else:
                together_unit = self._tied_features(unit[:, len(free) :], rng)
            for j, name in enumerate(together):
                columns[name] = self._by_name[name].decode(together_unit[:, [j]])
        return [{name: columns[name][i] for name in self.names} for i in range(n)]

    def _tied_features(self, unit: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """(n, k) unit features of the equality-tied reals for (n, r) draws in the unit
        cube of their null space: scaled to the box bounding their polytope, or, where
        that box is mostly infeasible, replaced by hit-and-run."""
        origin, directions, low, high = self._null_space_box()
        if self._box_acceptance < MIN_BOX_ACCEPTANCE:
            return self._walk(len(unit), rng)
        return origin + (low + unit * (high - low)) @ directions.T

    def _walk(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """(n, k) unit features of the constrained reals, spread uniformly over their
        polytope by ``n`` hit-and-run chains run side by side (one chain's draws are
        correlated, and many of them slow to make)."""
        origin, directions, M, c, corners = self._walk_polytope()
        return origin + _hit_and_run_chains(n, M, c, corners, rng) @ directions.T

    def _walk_polytope(self) -> tuple:
        """(origin, directions, M, c, corners): the constrained reals' unit features are
        origin + directions z for z in the polytope M z <= c, whose Chebyshev centre and
        extreme points along each axis (``corners``) the chains start from; solved once."""
        if self._polytope is not None:
            return self._polytope
        _, b, G, h = self._dense_feature_constraints()
        k = G.shape[1]
        if len(b):
            origin, directions, _, _ = self._null_space_box()
        else:
            origin, directions = np.zeros(k), np.eye(k)
        # 0 <= origin + D z <= 1 and G (origin + D z) >= h, as M z <= c; an origin met
        # only within the tolerance relaxes its rows to hold at z = 0, and one that misses
        # a row by more (a + b >= 1.9 at the origin 0) keeps it: the chains start inside
        M = np.vstack([directions, -directions, -G @ directions])
        c = np.concatenate([1 - origin, origin, G @ origin - h])
        c = np.where(c > -EQUALITY_TOLERANCE, np.maximum(c, 0.0), c)
        self._polytope = (origin, directions, M, c, _polytope_corners(M, c))
        return self._polytope

    def _share_meeting_inequalities(self) -> float:
        """Estimated share of the constrained reals' unit box that meets every linear
        inequality (equalities are met by sampling their null space instead)."""
        if self._inequality_acceptance is None:
            _, _, G, h = self._dense_feature_constraints()
            uniform = np.random.default_rng(0).random((ACCEPTANCE_TRIALS, G.shape[1]))
            inside = np.all(uniform @ G.T >= h - EQUALITY_TOLERANCE, axis=1)
            self._inequality_acceptance = float(inside.mean())
        return self._inequality_acceptance

    def _dense_feature_constraints(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(A, b, G, h): the linear constraints on the constrained reals' unit features as
        A x == b and G x >= h, one column per constrained real."""
        rows = self.feature_constraints(order=self.constrained_reals)
        k = len(self.constrained_reals)

        def matrix(selected):
            table = np.zeros((len(selected), k))
            for r, c in enumerate(selected):
                table[r, list(c.indices)] = c.coefficients
            return table, np.array([c.rhs for c in selected])

        A, b = matrix([c for c in rows if c.is_equality])
        G, h = matrix([c for c in rows if not c.is_equality])
        return A, b, G, h

    def _equality_tied_reals(self) -> list[str]:
        if not any(c.operator == "==" for c in self.linear_constraints):
            return []
        return self.constrained_reals

    def _null_space_box(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(origin, directions, low, high): unit features of the equality-tied reals are
        origin + directions @ z, with z in [low, high] covering the feasible polytope."""
        if self._box is not None:
            return self._box
        A, b, G, h = self._dense_feature_constraints()
        k = len(self.constrained_reals)
        start = linprog(
            np.zeros(k),
            A_ub=-G if len(h) else None,
            b_ub=-h if len(h) else None,
            A_eq=A,
            b_eq=b,
            bounds=[(0, 1)] * k,
            method="highs",
        )
        if start.status != 0:  # met only within the tolerance the space accepts points by
            start = linprog(
                np.zeros(k),
                A_ub=np.vstack([-G, A, -A]),
                b_ub=np.concatenate([-h, b + EQUALITY_TOLERANCE, -b + EQUALITY_TOLERANCE]),
                bounds=[(0, 1)] * k,
                method="highs",
            )
        origin = start.x
        # The solver meets bounds to its own tolerance: the box below starts from the
        # origin, so it allows what the origin oversteps (nothing, as a rule).
        slack = max(0.0, -origin.min(), (origin - 1).max(), *(h - G @ origin))
        directions = null_space(A)
        # 0 <= origin + D z <= 1 and G (origin + D z) >= h, as A_ub z <= b_ub
        A_ub = np.vstack([directions, -directions, -G @ directions])
        b_ub = np.concatenate([1 - origin, origin, G @ origin - h]) + slack
        low, high = np.zeros(directions.shape[1]), np.zeros(directions.shape[1])
        for j in range(directions.shape[1]):
            objective = np.eye(directions.shape[1])[j]
            for sign, out in ((1.0, low), (-1.0, high)):
                result = linprog(
                    sign * objective,
                    A_ub=A_ub,
                    b_ub=b_ub,
                    bounds=[(None, None)] * len(objective),
                    method="highs",
                )
                out[j] = result.x[j]
        self._box = (origin, directions, low, high)
        uniform = np.random.default_rng(0).random((ACCEPTANCE_TRIALS, len(low)))
        trial = origin + (low + uniform * (high - low)) @ directions.T
        inside = np.all((trial >= -EQUALITY_TOLERANCE) & (trial <= 1 + EQUALITY_TOLERANCE), axis=1)
        if len(h):
            inside &= np.all(trial @ G.T >= h - EQUALITY_TOLERANCE, axis=1)
        self._box_acceptance = float(inside.mean())
        return self._box

    def feature_constraints(self, order: Sequence[str] | None = None) -> list[FeatureConstraint]:
        """The linear constraints on the unit-scaled features, as ``>=`` or ``==`` rows,
        each divided by its largest coefficient's size (so its coefficients are at most 1).

        Args:
            order: index the features of these real parameters 0, 1, ...; by
                default the full feature matrix's columns.
        """
        if order is None:
            position = {name: self._slices[name].start for name in self.names}
        else:
            position = {name: i for i, name in enumerate(order)}
        rows = []
        for constraint in self.linear_constraints:
            indices, coefficients, rhs = [], [], constraint.bound
            for name, c in constraint.coefficients.items():
                p = self._by_name[name]
                indices.append(position[name])
                coefficients.append(c * (p.high - p.low))
                rhs -= c * p.low
            # rows of order one: an optimiser's tolerances are absolute, and a row of
            # 1e8 * x (a budget over wide bounds) is never met to them
            scale = max(abs(c) for c in coefficients) or 1.0
            sign = (-1.0 if constraint.operator == "<=" else 1.0) / scale
            rows.append(
                FeatureConstraint(
                    tuple(indices),
                    tuple(sign * c for c in coefficients),
                    sign * rhs,
                    constraint.operator == "==",
                )
            )
        return rows

    def discrete_combinations(self, limit: int) -> list[dict[str, Any]] | None:
        """Every allowed combination of categorical and integer values, or None when
        there are more than ``limit`` of them (or no discrete parameter)."""
        discrete = [p for p in self.parameters if not isinstance(p, Real)]
        if not discrete:
            return None
        if math.prod(_count(p) for p in discrete) > limit:
            return None
        names = [p.name for p in discrete]
        return [
            dict(zip(names, values, strict=False))
            for values in itertools.product(*(p.values for p in discrete))
        ]

    def real_bounds_given(self, fixed: Mapping[str, Any]) -> dict[str, tuple[float, float]] | None:
        """Bounds of the real parameters (unit-scaled) once the discrete values ``fixed``
        are set: exclusions that hold for them narrow a real's range, or, when they
        compare no real parameter, rule the combination out (None)."""
        bounds = {p.name: (0.0, 1.0) for p in self.parameters if isinstance(p, Real)}
        for exclusion in self.exclusions:
            discrete = {n: c for n, c in exclusion.conditions.items() if n in fixed}
            if not all(
                not Exclusion({n: c}).is_satisfied_by({n: fixed[n]}) for n, c in discrete.items()
            ):
                continue  # some discrete condition fails: the exclusion does not bite here
            reals = {n: c for n, c in exclusion.comparisons().items() if n not in fixed}
            if not reals:
                return None
            ((name, (op, threshold)),) = reals.items()
            p = self._by_name[name]
            edge = float(p.encode(np.array([threshold]))[0, 0])
            low, high = bounds[name]
            # "excluded when x > t" leaves x <= t; the open side's boundary is allowed
            # within the equality tolerance
            if op in (">", ">="):
                high = min(high, edge - (EQUALITY_TOLERANCE if op == ">=" else 0.0))
            else:
                low = max(low, edge + (EQUALITY_TOLERANCE if op == "<=" else 0.0))
            if low > high:
                return None
            bounds[name] = (low, high)
        return bounds

    def around(self, point: Mapping[str, Any], length: float) -> Space:
        """The part of the space inside a box of side ``length`` (in unit features, so 1
        spans a whole range) centred on ``point``: real and integer ranges narrowed to
        the box, categories and constraints kept. An integer keeps at least its point's
        value and one neighbour; an exclusion listing integers keeps those inside the
        narrowed range, and is dropped if none is (it cannot apply there). ``point`` must
        lie in the space, so the part is never empty."""
        narrowed: list[Parameter] = []
        for p in self.parameters:
            if isinstance(p, Categorical):
                narrowed.append(p)
                continue
            centre = float(p.encode(np.array([point[p.name]], dtype=np.float64))[0, 0])
            low, high = max(0.0, centre - length / 2), min(1.0, centre + length / 2)
            if isinstance(p, Real):
                a, b = Real(p.name, p.low, p.high, p.log).decode(np.array([[low], [high]]))
                narrowed.append(Real(p.name, a, b, p.log) if a < b else p)
                continue
            inside = p.values_within(low, high)
            value = int(point[p.name])
            first = min(inside[0], value) if inside else value
            last = max(inside[-1], value) if inside else value
            if first == last:  # a single value: add its neighbours, on both sides
                first, last = max(p.low, value - 1), min(p.high, value + 1)
            narrowed.append(Integer(p.name, first, last, p.log))
        by_name = {p.name: p for p in narrowed}
        kept = [
            _exclusion_within(c, by_name) if isinstance(c, Exclusion) else c
            for c in self.constraints
        ]
        return Space(narrowed, [c for c in kept if c is not None])

    # -- storage ------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {
            "parameters": [p.to_dict() for p in self.parameters],
            "constraints": [c.to_dict() for c in self.constraints],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Space:
        return cls(
            [parameter_from_dict(p) for p in data["parameters"]],
            [constraint_from_dict(c) for c in data.get("constraints", [])],
        )

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Space:
        return cls.from_dict(json.loads(text))

    def fingerprint(self) -> str:
        """sha256 of the space's JSON: identifies the space a campaign ran on."""
        return hashlib.sha256(self.to_json().encode()).hexdigest()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Space) and self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(self.fingerprint())


def _as_list(items: Any, what: str, kinds: str) -> list[Any]:
    """``items`` as a list; a single item or a mapping is refused (``Space([...],
    LinearConstraint(...))`` would fail to iterate it)."""
    if isinstance(items, (str, bytes, Mapping)) or not isinstance(items, Iterable):
        raise ConfigurationError(
            f"space: {what} must be a list of {kinds}, got {type(items).__name__} "
            f"(wrap a single one in a list)"
        )
    return list(items)


def _count(parameter: Parameter) -> int:
    """How many values a discrete parameter takes (counted, not listed)."""
    if isinstance(parameter, Integer):
        return parameter.high - parameter.low + 1
    return len(parameter.values)


def _unit_sample(d: int, n: int, method: str, rng: np.random.Generator) -> np.ndarray:
    if d == 0:
        return np.empty((n, 0))
    if method == "random":
        return rng.random((n, d))
    if method == "lhs":
        return qmc.LatinHypercube(d, seed=rng).random(n)
    # a prefix of a scrambled Sobol sequence of 2^m points keeps its balance best
    m = max(0, math.ceil(math.log2(n)))
    return qmc.Sobol(d, scramble=True, seed=rng).random_base2(m)[:n]


def _from_unit(parameter: Parameter, unit: np.ndarray) -> list[Any]:
    """Values of a parameter for (n,) uniform draws in [0, 1]."""
    if isinstance(parameter, Real):
        return parameter.decode(unit[:, None])
    if isinstance(parameter, Integer):
        return _integers_from_unit(parameter, unit)
    values = parameter.values
    strata = np.minimum((unit * len(values)).astype(int), len(values) - 1)
    return [values[i] for i in strata]


def _polytope_corners(M: np.ndarray, c: np.ndarray) -> np.ndarray:
    """(k, r) points of the polytope M z <= c (bounded, holding z = 0): its Chebyshev
    centre (the origin where that linear program fails) and its extreme points along each
    axis, by linear programs."""
    r = M.shape[1]
    centre = linprog(
        np.r_[np.zeros(r), -1.0],  # the centre of the largest ball inside
        A_ub=np.c_[M, np.linalg.norm(M, axis=1)],
        b_ub=c,
        bounds=[(None, None)] * r + [(0, None)],
        method="highs",
    )
    corners = [centre.x[:r] if centre.status == 0 else np.zeros(r)]
    for axis in np.vstack([np.eye(r), -np.eye(r)]):
        end = linprog(axis, A_ub=M, b_ub=c, bounds=[(None, None)] * r, method="highs")
        if end.status == 0:
            corners.append(end.x)
    return np.array(corners)


def _hit_and_run_chains(
    n: int, M: np.ndarray, c: np.ndarray, corners: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """(n, r) points near-uniform in the polytope M z <= c: the ends of ``n`` hit-and-run
    chains stepped together, each from a random mixture of its ``corners``
    (:func:`_polytope_corners`). Chains that all start at the centre of a long thin
    polytope (two parts of a mixture holding 90 % or more) stay near it: 100 steps left
    them a third of the spread along its length."""
    weights = rng.dirichlet(np.full(len(corners), START_CONCENTRATION), n)
    z = weights @ corners  # inside: the polytope is convex
    for _ in range(HIT_AND_RUN_CHAIN_STEPS):
        direction = rng.standard_normal(z.shape)
        direction /= np.linalg.norm(direction, axis=1, keepdims=True)
        rate = direction @ M.T
        slack = np.maximum(c - z @ M.T, 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            reach = slack / rate
        longest = np.where(rate > 0, reach, np.inf).min(axis=1)
        shortest = np.where(rate < 0, reach, -np.inf).max(axis=1)
        z += (shortest + rng.random(n) * (longest - shortest))[:, None] * direction
    return z


def _integers_from_unit(parameter: Integer, unit: np.ndarray) -> list[int]:
    """Integers for (n,) uniform draws: on a log scale the draws are the parameter's
    features, decoded as the model's are (so as many draws fall in each decade as a
    log Real's); on a linear scale each value takes an equal stratum, computed rather
    than looked up in a list, which a range of 10^12 values could not hold."""
    if parameter.log:
        return parameter.decode(unit[:, None])
    count = parameter.high - parameter.low + 1
    offsets = np.minimum(np.floor(unit * count), count - 1)
    return [parameter.low + int(offset) for offset in offsets]


def _exclusion_within(
    exclusion: Exclusion, parameters: Mapping[str, Parameter]
) -> Exclusion | None:
    """``exclusion`` on narrowed parameters: each listed value the parameter no longer
    holds left out, and None when a list is left empty (no point there is excluded)."""
    conditions = {}
    for name, condition in exclusion.conditions.items():
        if isinstance(condition, list):
            condition = [v for v in condition if parameters[name].contains(v)]
            if not condition:
                return None
        conditions[name] = condition
    return Exclusion(conditions)
