"""What a campaign is after when it measures several properties: objectives (to maximise,
minimise or bring to a target), outcome constraints (a property that must stay under or
over a bound), and how the objectives combine: a Pareto front, or one desirability.

Every quantity here is computed from a matrix of measured outputs ``Y: (n, k)`` whose
columns are :attr:`Objectives.outputs` (the objectives, then any property only a
constraint names); a property a measurement lacks is NaN. Utilities are the objectives
turned so that larger is better: a value to maximise as it is, one to minimise negated,
one to match as minus its distance from the target. Pareto fronts and hypervolumes are
BoTorch's (``is_non_dominated``, ``DominatedPartitioning``, ``infer_reference_point``).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from botorch.utils.multi_objective.box_decompositions.dominated import DominatedPartitioning
from botorch.utils.multi_objective.hypervolume import MIN_Y_RANGE, infer_reference_point
from botorch.utils.multi_objective.pareto import is_non_dominated
from botorch.utils.multi_objective.scalarization import get_chebyshev_scalarization

from discovery.checks import is_finite_number
from discovery.exceptions import ConfigurationError

DIRECTIONS = ("max", "min", "match")
MODES = ("pareto", "desirability")
CONSTRAINT_OPERATORS = ("<=", ">=")
#: From this many objectives on, a Pareto campaign scalarises (ParEGO) by default: the
#: box decompositions behind hypervolume improvement grow too fast, as Ax also finds.
PAREGO_FROM = 5
#: How far an inferred reference point stands back from the front's worst corner, as a
#: share of each objective's range: ``infer_reference_point``'s ``scale`` (Ishibuchi's).
REFERENCE_SHARE = 0.1


def measured_spread(values: np.ndarray) -> np.ndarray:
    """(k,) the standard deviation of each column of ``values: (n, k)`` over its measured
    (not NaN) rows: the unit a property's differences are judged in, whatever units it
    is measured in. A column with no spread falls back on its largest magnitude, and
    one with nothing else (all zero or unmeasured) on 1."""
    values = np.asarray(values, dtype=np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a column with nothing measured
        spreads = np.nanstd(values, axis=0)
    largest = np.abs(np.nan_to_num(values, nan=0.0)).max(axis=0, initial=0.0)
    spreads = np.where(spreads > 0, spreads, largest)
    return np.where(spreads > 0, spreads, 1.0)


def spread_units(spread: np.ndarray) -> np.ndarray:
    """(m,) the power of two nearest each ``spread: (m,)``: the units that BoTorch, whose
    floors and smoothing constants are absolute (made for values of order one), is given
    the objectives in. Dividing by a power of two and multiplying back are exact, so
    wherever those constants do not bind the results are the same, to the last bit, as
    without the units."""
    return np.exp2(np.round(np.log2(spread)))


def inferred_reference(front: np.ndarray, spread: np.ndarray) -> np.ndarray:
    """(m,) BoTorch's ``infer_reference_point`` for the utilities ``front: (p, m)``,
    inferred in :func:`spread_units` of each objective's ``spread: (m,)``
    (:func:`measured_spread` of its measured utilities) and scaled back; where the
    front gives an objective no range to stand back by, a share of its spread.

    BoTorch floors each objective's range at an absolute 1e-8: a front spanning 1e-12
    got a reference point 1e-9 below it, and hypervolumes 1e8 times the front's own;
    and a front tied on one objective (replicates, a capped yield) a reference point
    a hair below the tie, and a hypervolume near 0.
    """
    unit = spread_units(spread)
    scaled = torch.as_tensor(front / unit)
    reference = infer_reference_point(scaled, scale=REFERENCE_SHARE).numpy() * unit
    rangeless = _inferred_range(front / unit) <= MIN_Y_RANGE
    reference[rangeless] = front.min(axis=0)[rangeless] - REFERENCE_SHARE * spread[rangeless]
    return reference


def _inferred_range(front: np.ndarray) -> np.ndarray:
    """(m,) what ``infer_reference_point`` stands back a share of from ``front: (p, m)``:
    each objective's range over the front, or for a single point its magnitude."""
    if front.shape[0] == 1:
        return np.abs(front[0])
    return front.max(axis=0) - front.min(axis=0)


def _several_values(given: Any, problem: str) -> tuple[Any, ...]:
    """``given`` as a tuple, for a setting that takes several values.

    Raises:
        ConfigurationError: ``problem``, with what was given, for a single value or text.
    """
    if isinstance(given, (str, bytes)) or not np.iterable(given):
        raise ConfigurationError(f"{problem}, got {given!r}")
    return tuple(given)


@dataclass(frozen=True)
class Objective:
    """A measured property to maximise, minimise, or bring to a target.

    Args:
        name: the property, as the oracle's result names it.
        direction: "max", "min", or "match" (as close to ``target`` as possible).
        target: the value a "match" objective aims for (a band gap of 1.4 eV).
        bounds: (low, high) in the property's units, for mode "desirability" only (a
            Pareto front refuses them): a value to maximise has desirability 0 at
            ``low`` and 1 at ``high``, one to minimise the reverse, one to match 1 at
            the target falling to 0 at either bound.
        weight: its weight in the desirability's geometric mean.

    Raises:
        ConfigurationError: an unknown direction, "match" without a target, bounds
            that are not two increasing finite numbers, or a weight that is not > 0.
    """

    name: str
    direction: str = "max"
    target: float | None = None
    bounds: tuple[float, float] | None = None
    weight: float = 1.0

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ConfigurationError(
                f"Objective: name must be a non-empty string, got {self.name!r}"
            )
        prefix = f"objective '{self.name}'"
        if self.direction not in DIRECTIONS:
            raise ConfigurationError(
                f"{prefix}: direction must be one of {list(DIRECTIONS)}, got {self.direction!r}"
            )
        if self.direction == "match" and not is_finite_number(self.target):
            raise ConfigurationError(f"{prefix}: direction 'match' needs a finite target value")
        if self.direction != "match" and self.target is not None:
            raise ConfigurationError(
                f"{prefix}: a target value is for direction 'match', not '{self.direction}'"
            )
        if self.bounds is not None:
            problem = f"{prefix}: bounds must be (low, high), two finite numbers"
            bounds = _several_values(self.bounds, problem)
            if len(bounds) != 2 or not all(is_finite_number(b) for b in bounds):
                raise ConfigurationError(f"{problem}, got {self.bounds!r}")
            if not bounds[0] < bounds[1]:
                raise ConfigurationError(f"{prefix}: bounds {bounds} must have low < high")
            if self.direction == "match" and not bounds[0] < self.target < bounds[1]:
                raise ConfigurationError(
                    f"{prefix}: the target {self.target} must lie inside the bounds {bounds}"
                )
            object.__setattr__(self, "bounds", (float(bounds[0]), float(bounds[1])))
        if not is_finite_number(self.weight) or not self.weight > 0:
            raise ConfigurationError(f"{prefix}: weight must be a number > 0, got {self.weight!r}")
        object.__setattr__(self, "weight", float(self.weight))
        if self.target is not None:
            object.__setattr__(self, "target", float(self.target))

    def utility(self, values: np.ndarray) -> np.ndarray:
        """Measured values turned so that larger is better."""
        values = np.asarray(values, dtype=np.float64)
        if self.direction == "max":
            return values
        if self.direction == "min":
            return -values
        return -np.abs(values - self.target)

    def desirability(self, values: np.ndarray) -> np.ndarray:
        """Measured values mapped linearly onto [0, 1] by the bounds (1 is best)."""
        low, high = self.bounds
        values = np.asarray(values, dtype=np.float64)
        if self.direction == "max":
            share = (values - low) / (high - low)
        elif self.direction == "min":
            share = (high - values) / (high - low)
        else:
            side = np.where(values < self.target, self.target - low, high - self.target)
            share = 1 - np.abs(values - self.target) / side
        return np.clip(share, 0.0, 1.0)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "direction": self.direction, "target": self.target,
                "bounds": None if self.bounds is None else list(self.bounds),
                "weight": self.weight}  # fmt: skip


@dataclass(frozen=True)
class OutcomeConstraint:
    """A measured property that must meet a bound: ``OutcomeConstraint("impurity", "<=",
    0.05)``. A measurement that lacks the property counts as infeasible.

    Raises:
        ConfigurationError: an operator other than <= or >=, or a bound that is not a
            finite number.
    """

    name: str
    operator: str
    bound: float

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ConfigurationError(
                f"OutcomeConstraint: name must be a non-empty string, got {self.name!r}"
            )
        checks = [
            (
                self.operator in CONSTRAINT_OPERATORS,
                f"operator must be one of {list(CONSTRAINT_OPERATORS)}, got {self.operator!r}",
            ),
            (is_finite_number(self.bound), f"bound must be a finite number, got {self.bound!r}"),
        ]
        for holds, problem in checks:
            if not holds:
                raise ConfigurationError(f"outcome constraint on '{self.name}': {problem}")
        object.__setattr__(self, "bound", float(self.bound))

    def slack(self, values: np.ndarray) -> np.ndarray:
        """How far values are inside the bound (negative: outside; NaN: unmeasured)."""
        values = np.asarray(values, dtype=np.float64)
        return self.bound - values if self.operator == "<=" else values - self.bound

    def __str__(self) -> str:
        return f"{self.name} {self.operator} {self.bound:g}"

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "operator": self.operator, "bound": self.bound}


@dataclass(frozen=True)
class Objectives:
    """A campaign's objectives, outcome constraints and how the objectives combine.

    Args:
        objectives: one or more :class:`Objective`, distinct names.
        constraints: :class:`OutcomeConstraint` on properties that are not objectives.
        mode: "pareto" (the front of the objectives' trade-offs) or "desirability"
            (one number: the weighted geometric mean of the objectives'
            desirabilities; every objective needs bounds, which only this mode takes).
        reference_point: the worst value of each objective that still counts, in the
            objectives' units and order (for "match", the largest distance from the
            target); hypervolumes are measured from it. None: inferred as BoTorch's
            ``infer_reference_point`` does (in units of each objective's spread,
            :func:`inferred_reference`), from the measured front while choosing,
            from every feasible measurement for the hypervolumes reported (which
            then never fall as measurements are added).

    Raises:
        ConfigurationError: as the messages say, before any experiment is spent.
    """

    objectives: tuple[Objective, ...]
    constraints: tuple[OutcomeConstraint, ...] = ()
    mode: str = "pareto"
    reference_point: tuple[float, ...] | None = None
    outputs: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        objectives, constraints = tuple(self.objectives), tuple(self.constraints)
        object.__setattr__(self, "objectives", objectives)
        object.__setattr__(self, "constraints", constraints)
        if not objectives:
            raise ConfigurationError("objectives: give at least one Objective")
        for item, kind in [(o, Objective) for o in objectives] + [
            (c, OutcomeConstraint) for c in constraints
        ]:
            if not isinstance(item, kind):
                raise ConfigurationError(f"objectives: expected {kind.__name__}, got {item!r}")
        names = [o.name for o in objectives]
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise ConfigurationError(f"objectives: duplicated objective names {duplicated}")
        if self.mode not in MODES:
            raise ConfigurationError(
                f"objectives: mode must be one of {list(MODES)}, got {self.mode!r}"
            )
        both = sorted({c.name for c in constraints} & set(names))
        if both:
            raise ConfigurationError(
                f"objectives: {both} are objectives and outcome constraints at once; "
                f"constrain a property that is not optimised{self._limit_advice()}"
            )
        self._check_bounds_and_weights()
        if self.reference_point is not None:
            object.__setattr__(self, "reference_point", self._checked_reference_point())
        extra = [c.name for c in constraints if c.name not in names]
        object.__setattr__(self, "outputs", tuple(names + list(dict.fromkeys(extra))))

    def _limit_advice(self) -> str:
        """How this mode lets a user set the worst value of an objective that counts
        (empty where it has no way)."""
        if self.mode == "desirability":
            return ", or set the objective's bounds (desirability 0 past them)"
        if len(self.objectives) > 1:
            return ", or set reference_point (the worst value of each objective that counts)"
        return ""

    def _check_bounds_and_weights(self) -> None:
        """Refuse bounds and weights that this mode would ignore, and an objective that
        mode 'desirability' cannot map onto [0, 1]."""
        if self.mode == "desirability":
            unbounded = [o.name for o in self.objectives if o.bounds is None]
            if unbounded:
                raise ConfigurationError(
                    f"objectives: mode 'desirability' needs bounds=(low, high) on every "
                    f"objective; {unbounded} have none"
                )
            return
        bounded = [o.name for o in self.objectives if o.bounds is not None]
        if bounded:
            raise ConfigurationError(
                f"objectives: bounds on {bounded} act only in mode 'desirability' (mapping "
                f"each objective onto [0, 1]); mode 'pareto' ignores them"
            )
        weighted = [o.name for o in self.objectives if o.weight != 1.0]
        if weighted and len(self.objectives) > 1:
            raise ConfigurationError(
                f"objectives: weights on {weighted} are for mode 'desirability'; a Pareto "
                f"front weighs no objective against another"
            )

    def _checked_reference_point(self) -> tuple[float, ...]:
        """The reference point as floats, one per objective.

        Raises:
            ConfigurationError: the campaign seeks no Pareto front, or the point is not
                one finite number per objective.
        """
        if not self.is_pareto:
            raise ConfigurationError(
                "objectives: a reference point measures the hypervolume of a Pareto "
                "front of two or more objectives; this campaign seeks none"
            )
        count = len(self.objectives)
        point = _several_values(
            self.reference_point,
            f"objectives: the reference point must be {count} numbers, one per objective "
            f"{self.names}",
        )
        if len(point) != count:
            raise ConfigurationError(
                f"objectives: the reference point has {len(point)} values for "
                f"{count} objectives {self.names}"
            )
        if not all(is_finite_number(v) for v in point):
            raise ConfigurationError(
                f"objectives: the reference point must be finite numbers, got {point}"
            )
        return tuple(float(v) for v in point)

    @property
    def names(self) -> list[str]:
        """The objectives' names, in order."""
        return [o.name for o in self.objectives]

    @property
    def is_pareto(self) -> bool:
        """Whether the campaign seeks a front of several objectives."""
        return self.mode == "pareto" and len(self.objectives) > 1

    @property
    def ranks_by_desirability(self) -> bool:
        """Whether the best measurement is the most desirable one: only where several
        objectives are combined into one desirability. One objective's desirability is its
        value clipped to its bounds, which ties every value past a bound, so one objective
        is ranked by its value, in its direction."""
        return self.mode == "desirability" and len(self.objectives) > 1

    def describe(self) -> str:
        """The objectives and constraints in words, for tables and messages."""
        parts = [
            f"{o.name} (match {o.target:g})"
            if o.direction == "match"
            else f"{o.name} ({o.direction})"
            for o in self.objectives
        ]
        text = ", ".join(parts)
        if self.constraints:
            text += "; subject to " + ", ".join(str(c) for c in self.constraints)
        return f"{text}; {self.mode}" if len(self.objectives) > 1 else text

    # -- reading results --------------------------------------------------------------

    def read(self, result: Mapping[str, Any]) -> tuple[np.ndarray, str | None]:
        """(k,) outputs of one oracle result, NaN for a property measured as None or
        NaN; or why the result cannot be used (a declared property missing, or not a
        number)."""
        row = np.full(len(self.outputs), np.nan)
        for j, name in enumerate(self.outputs):
            if name not in result:
                return row, f"result has no '{name}' (keys: {sorted(result)})"
            raw = result[name]
            if raw is None:
                continue
            if isinstance(raw, (bool, np.bool_)):  # float() would read True as 1.0
                return row, f"result '{name}' is {raw}, a boolean, not a number"
            try:
                value = float(raw)
            except (TypeError, ValueError, OverflowError):  # 10**400 overflows a float
                return row, f"result '{name}' is not a number: {raw!r:.200}"
            if math.isinf(value):
                return row, f"result '{name}' is not finite: {value}"
            row[j] = value
        if np.isnan(row[: len(self.objectives)]).all():
            return row, f"result has no value for any objective {self.names}"
        return row, None

    # -- what the measurements say ----------------------------------------------------

    def utilities(self, Y: np.ndarray) -> np.ndarray:
        """(n, m) the objectives' utilities (larger is better; NaN where unmeasured)."""
        Y = np.atleast_2d(np.asarray(Y, dtype=np.float64))
        return np.column_stack([o.utility(Y[:, j]) for j, o in enumerate(self.objectives)])

    def constraint_slacks(self, Y: np.ndarray) -> np.ndarray:
        """(n, c) how far each measurement lies inside each constraint's bound."""
        Y = np.atleast_2d(np.asarray(Y, dtype=np.float64))
        column = {name: j for j, name in enumerate(self.outputs)}
        return np.column_stack(
            [c.slack(Y[:, column[c.name]]) for c in self.constraints] or [np.zeros((Y.shape[0], 0))]
        )

    def feasible(self, Y: np.ndarray) -> np.ndarray:
        """(n,) bool: measurements that meet every outcome constraint."""
        slacks = self.constraint_slacks(Y)
        return np.all(np.nan_to_num(slacks, nan=-1.0) >= 0, axis=1)

    def desirability(self, Y: np.ndarray) -> np.ndarray:
        """(n,) weighted geometric mean of the objectives' desirabilities (NaN where an
        objective is unmeasured)."""
        Y = np.atleast_2d(np.asarray(Y, dtype=np.float64))
        weights = np.array([o.weight for o in self.objectives])
        shares = np.column_stack([o.desirability(Y[:, j]) for j, o in enumerate(self.objectives)])
        with np.errstate(divide="ignore"):
            logs = np.log(shares)
        return np.exp((logs * weights).sum(axis=1) / weights.sum())

    def chebyshev(self, Y: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """(n,) ParEGO's augmented Chebyshev scalarisation of the utilities (larger is
        better), normalised over the measured rows, as BoTorch computes it."""
        U = self.utilities(Y)
        known = ~np.isnan(U).any(axis=1)
        values = np.full(U.shape[0], np.nan)
        if known.any():
            measured = torch.as_tensor(U[known])
            scalarize = get_chebyshev_scalarization(torch.as_tensor(weights), measured)
            values[known] = scalarize(measured).numpy()
        return values

    def pareto_mask(self, Y: np.ndarray) -> np.ndarray:
        """(n,) bool: feasible measurements that no other feasible one dominates."""
        U = self.utilities(Y)
        usable = self.feasible(Y) & ~np.isnan(U).any(axis=1)
        mask = np.zeros(U.shape[0], dtype=bool)
        if usable.any():
            rows = np.flatnonzero(usable)
            front = is_non_dominated(torch.as_tensor(U[rows]), deduplicate=False).numpy()
            mask[rows[front]] = True
        return mask

    def reference_utilities(self, Y: np.ndarray) -> np.ndarray | None:
        """(m,) the reference point as utilities: the user's, or inferred from the
        feasible front of ``Y`` (None while nothing feasible is measured)."""
        if self.reference_point is not None:
            point = np.array(self.reference_point)
            return np.array(
                [-abs(v) if o.direction == "match" else o.utility(np.array([v]))[0]
                 for v, o in zip(point, self.objectives, strict=True)]
            )  # fmt: skip
        U = self.utilities(Y)
        front = U[self.pareto_mask(Y)]
        if front.shape[0] == 0:
            return None
        return inferred_reference(front, measured_spread(U))

    def hypervolume(self, Y: np.ndarray, reference: np.ndarray) -> float:
        """Hypervolume (in utilities) that the feasible measurements dominate above the
        reference point."""
        U = self.utilities(Y)[self.pareto_mask(Y)]
        if U.shape[0] == 0:
            return 0.0
        partitioning = DominatedPartitioning(
            ref_point=torch.as_tensor(reference, dtype=torch.float64),
            Y=torch.as_tensor(U, dtype=torch.float64),
        )
        return float(partitioning.compute_hypervolume())

    def contributions(self, Y: np.ndarray, reference: np.ndarray) -> np.ndarray:
        """(n,) the hypervolume each measurement alone adds: how much smaller that of
        all of ``Y`` is without it (0 off the feasible front)."""
        Y = np.atleast_2d(np.asarray(Y, dtype=np.float64))
        whole = self.hypervolume(Y, reference)
        gains = np.zeros(Y.shape[0])
        for row in np.flatnonzero(self.pareto_mask(Y)):
            gains[row] = whole - self.hypervolume(np.delete(Y, row, axis=0), reference)
        return gains

    def search_reference(self, Y: np.ndarray) -> np.ndarray | None:
        """The reference point to measure improvements from while choosing: the usual
        one, loosened (as ``infer_reference_point`` does) while no feasible measurement
        beats it, so that improvements can be told apart; None while nothing is
        feasible."""
        reference = self.reference_utilities(Y)
        U = self.utilities(Y)
        front = U[self.pareto_mask(Y)]
        if reference is None or front.shape[0] == 0 or (front > reference).all(axis=1).any():
            return reference
        return np.minimum(reference, inferred_reference(front, measured_spread(U)))

    def _measured_reference(self, Y: np.ndarray) -> np.ndarray | None:
        """The user's reference point, or BoTorch's inference from every feasible
        measurement that has all objectives (None while there is none)."""
        if self.reference_point is not None:
            return self.reference_utilities(Y)
        U = self.utilities(Y)
        kept = self.feasible(Y) & ~np.isnan(U).any(axis=1)
        if not kept.any():
            return None
        return inferred_reference(U[kept], measured_spread(U))

    def hypervolume_history(self, Y: np.ndarray, reference: np.ndarray | None = None) -> np.ndarray:
        """(n,) the hypervolume of the feasible front after each measurement in order,
        from one reference point: the given one, the user's, or one inferred from every
        feasible measurement of ``Y`` (not only the front, whose worst corner moves in
        when a new measurement dominates it), so that the last value never falls as
        measurements are added."""
        Y = np.atleast_2d(np.asarray(Y, dtype=np.float64))
        if reference is None:
            reference = self._measured_reference(Y)
        if reference is None:
            return np.zeros(Y.shape[0])
        U = self.utilities(Y)
        usable = self.feasible(Y) & ~np.isnan(U).any(axis=1)
        values, volume, front = np.zeros(Y.shape[0]), 0.0, np.zeros(0, dtype=int)
        for i in np.flatnonzero(usable):
            if (U[front] >= U[i]).all(axis=1).any():
                values[i:] = volume  # weakly dominated: the front and its volume stay
                continue
            front = np.append(front[~(U[i] >= U[front]).all(axis=1)], i)
            volume = self.hypervolume(Y[front], reference)
            values[i:] = volume
        return values

    # -- storage ----------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {
            "objectives": [o.to_dict() for o in self.objectives],
            "constraints": [c.to_dict() for c in self.constraints],
            "mode": self.mode,
            "reference_point": None if self.reference_point is None else list(self.reference_point),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Objectives:
        """The objectives :meth:`to_dict` wrote. Bounds a Pareto front was stored with
        are left out: they never acted there, and a store written before they were
        refused still opens."""
        objectives = []
        for o in data["objectives"]:
            bounds = o.get("bounds") if data.get("mode", "pareto") == "desirability" else None
            objectives.append(
                Objective(**{**o, "bounds": None if bounds is None else tuple(bounds)})
            )
        return cls(
            tuple(objectives),
            tuple(OutcomeConstraint(**c) for c in data.get("constraints", [])),
            data.get("mode", "pareto"),
            None if data.get("reference_point") is None else tuple(data["reference_point"]),
        )


def as_objectives(
    objectives: Sequence[Objective] | Objectives,
    constraints: Sequence[OutcomeConstraint] | None = None,
    mode: str | None = None,
    reference_point: Sequence[float] | None = None,
) -> Objectives:
    """An :class:`Objectives` from a campaign's arguments.

    Raises:
        ConfigurationError: as :class:`Objectives` does; or, beside an
            :class:`Objectives`, outcome constraints, a reference point or a mode, all
            of which belong inside it.
    """
    if not isinstance(objectives, Objectives):
        return Objectives(
            tuple(objectives), tuple(constraints or ()), mode or "pareto", reference_point
        )
    is_given = {
        "outcome_constraints": bool(constraints),
        "mode": mode is not None,
        "reference_point": reference_point is not None,
    }
    beside = [name for name, given in is_given.items() if given]
    if beside:
        raise ConfigurationError(
            f"objectives: {beside} given beside an Objectives would be ignored; give them "
            f"inside it: Objectives(objectives, constraints, mode, reference_point)"
        )
    return objectives
