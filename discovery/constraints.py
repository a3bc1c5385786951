"""Constraints of a search space, declared as data: linear constraints over real
parameters and exclusions of parameter combinations.

Both are checked against the space's parameters when the space is built, test
a point with ``is_satisfied_by``, and round-trip through a plain dict.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from discovery.checks import is_finite_number
from discovery.exceptions import ConfigurationError

LINEAR_OPERATORS = ("<=", ">=", "==")
COMPARISONS = ("<", "<=", ">", ">=")
#: A linear constraint holds when its sides differ by at most this share of its scale: in
#: a space, the largest span of a term over its parameter's range (the scale its feature
#: rows are divided by): 1e-6 for a mixture's fractions summing to 1, as strict for
#: fractions of 1e-6, and for values near 1e6 that range over 1.
EQUALITY_TOLERANCE = 1e-6
#: Relative precision of a float64 term: a sum of values far from zero cannot be told from
#: its bound more finely than their rounding, however narrow their ranges.
FLOAT_PRECISION = float(np.finfo(np.float64).eps)


@dataclass(frozen=True, eq=False)
class LinearConstraint:
    """sum(coefficient * parameter) <op> bound, over real parameters.

    ``LinearConstraint({"a": 1, "b": 1, "c": 1}, "==", 1)`` makes a, b and c
    fractions of a mixture; ``LinearConstraint({"a": 1, "b": 2}, "<=", 3)`` a budget.

    Raises:
        ConfigurationError: no coefficients, a coefficient or bound that is not a
            finite number, or an operator other than <=, >= or ==.
    """

    coefficients: Mapping[str, float]
    operator: str
    bound: float

    def __post_init__(self) -> None:
        if not isinstance(self.coefficients, Mapping) or not self.coefficients:
            raise ConfigurationError(
                "LinearConstraint: coefficients must be a non-empty {parameter: number} mapping"
            )
        for name, value in self.coefficients.items():
            if not is_finite_number(value):
                raise ConfigurationError(
                    f"LinearConstraint: coefficient of '{name}' must be a finite number, "
                    f"got {value!r}"
                )
        if self.operator not in LINEAR_OPERATORS:
            raise ConfigurationError(
                f"LinearConstraint: operator must be one of {list(LINEAR_OPERATORS)}, "
                f"got {self.operator!r}"
            )
        if not is_finite_number(self.bound):
            raise ConfigurationError(
                f"LinearConstraint: bound must be a finite number, got {self.bound!r}"
            )
        coefficients = {str(k): float(v) for k, v in self.coefficients.items()}
        object.__setattr__(self, "coefficients", coefficients)
        object.__setattr__(self, "bound", float(self.bound))

    @property
    def names(self) -> list[str]:
        return list(self.coefficients)

    def left_side(self, point: Mapping[str, Any]) -> float:
        return sum(c * float(point[name]) for name, c in self.coefficients.items())

    def span_over(self, ranges: Mapping[str, tuple[float, float]]) -> float:
        """The largest span of a term, |coefficient| * (high - low), over its parameter's
        range ``ranges[name] = (low, high)``: the constraint's scale in a space."""
        return max(
            abs(c) * (ranges[name][1] - ranges[name][0]) for name, c in self.coefficients.items()
        )

    def is_satisfied_by(
        self,
        point: Mapping[str, Any],
        tolerance: float = EQUALITY_TOLERANCE,
        scale: float | None = None,
    ) -> bool:
        """Whether a point (parameter name -> value) meets the constraint, within
        ``tolerance`` of its scale (and of the rounding of its terms).

        Args:
            point: parameter name -> value.
            tolerance: the share of the scale the sides may differ by.
            scale: the constraint's size; a space passes :meth:`span_over` its ranges
                (a scale of the values themselves let a - b >= 0 with a, b in
                [1e6, 1e6 + 1] pass at a - b = -0.7). By default the larger of |bound|
                and the terms' sizes at the point (an absolute 1e-6 let a sum of
                fractions of 1e-6 pass at twice its limit).
        """
        terms = [c * float(point[name]) for name, c in self.coefficients.items()]
        left = sum(terms)
        size = sum(abs(t) for t in terms)
        if scale is None:
            scale = max(abs(self.bound), size)
        slack = tolerance * scale + len(terms) * FLOAT_PRECISION * size
        if self.operator == "==":
            return abs(left - self.bound) <= slack
        if self.operator == "<=":
            return left <= self.bound + slack
        return left >= self.bound - slack

    def __str__(self) -> str:
        terms = " + ".join(f"{c:g}*{name}" for name, c in self.coefficients.items())
        return f"{terms} {self.operator} {self.bound:g}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LinearConstraint) and self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(str(self))

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "linear",
            "coefficients": dict(self.coefficients),
            "operator": self.operator,
            "bound": self.bound,
        }


@dataclass(frozen=True, eq=False)
class Exclusion:
    """A combination of parameter values that must never be proposed.

    Each condition names a parameter and either the values it excludes (a list,
    for categorical and integer parameters) or a comparison ``(op, value)`` (for
    real and integer parameters). A point is excluded when *every* condition
    holds: ``Exclusion({"solvent": ["water"], "temperature": (">", 100)})`` means
    "no water above 100 °C". On a finite pool it filters rows
    (:meth:`~discovery.space.CandidatePool.without`).

    Raises:
        ConfigurationError: no conditions, or a condition that is neither a
            non-empty list of values nor an ``(op, number)`` pair.
    """

    conditions: Mapping[str, Any]

    def __post_init__(self) -> None:
        if not isinstance(self.conditions, Mapping) or not self.conditions:
            raise ConfigurationError(
                "Exclusion: conditions must be a non-empty {parameter: condition} mapping"
            )
        conditions = {}
        for name, condition in self.conditions.items():
            conditions[str(name)] = _checked_condition(str(name), condition)
        object.__setattr__(self, "conditions", conditions)

    @property
    def names(self) -> list[str]:
        return list(self.conditions)

    def comparisons(self) -> dict[str, tuple[str, float]]:
        """The conditions that compare a number, by parameter."""
        return {n: c for n, c in self.conditions.items() if isinstance(c, tuple)}

    def memberships(self) -> dict[str, list[Any]]:
        """The conditions that list excluded values, by parameter."""
        return {n: c for n, c in self.conditions.items() if isinstance(c, list)}

    def is_satisfied_by(self, point: Mapping[str, Any]) -> bool:
        """True when the point is allowed (not every condition holds)."""
        return not all(
            _holds(condition, point[name]) for name, condition in self.conditions.items()
        )

    def holds_for(self, values: Mapping[str, Any]) -> bool:
        """Whether every condition on a parameter that ``values`` (name -> value) gives
        holds: the exclusion bites there, whatever the other parameters are."""
        return all(
            _holds(condition, values[name])
            for name, condition in self.conditions.items()
            if name in values
        )

    def excluded_rows(self, frame: Any) -> np.ndarray:
        """(n,) bool: the rows of a DataFrame that the exclusion removes."""
        mask = np.ones(len(frame), dtype=bool)
        for name, condition in self.conditions.items():
            column = frame[name]
            mask &= np.array([_holds(condition, v) for v in column], dtype=bool)
        return mask

    def __str__(self) -> str:
        parts = []
        for name, condition in self.conditions.items():
            if isinstance(condition, tuple):
                parts.append(f"{name} {condition[0]} {condition[1]:g}")
            else:
                parts.append(f"{name} in {condition}")
        return "not (" + " and ".join(parts) + ")"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Exclusion) and self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(str(self))

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "exclusion",
            "conditions": {
                n: list(c) if isinstance(c, tuple) else {"in": list(c)}
                for n, c in self.conditions.items()
            },
        }


Constraint = LinearConstraint | Exclusion


def constraint_from_dict(data: Mapping[str, Any]) -> Constraint:
    """Rebuild a constraint saved with its ``to_dict``."""
    kind = data.get("type")
    if kind == "linear":
        return LinearConstraint(data["coefficients"], data["operator"], data["bound"])
    if kind == "exclusion":
        return Exclusion(
            {n: c["in"] if isinstance(c, dict) else tuple(c) for n, c in data["conditions"].items()}
        )
    raise ConfigurationError(f"space: unknown constraint type {kind!r}")


def _checked_condition(name: str, condition: Any) -> tuple[str, float] | list[Any]:
    if isinstance(condition, tuple):
        if (
            len(condition) != 2
            or condition[0] not in COMPARISONS
            or not is_finite_number(condition[1])
        ):
            raise ConfigurationError(
                f"Exclusion: condition on '{name}' must be (op, number) with op in "
                f"{list(COMPARISONS)}, got {condition!r}"
            )
        return (condition[0], float(condition[1]))
    if isinstance(condition, (set, frozenset)) and condition:
        # a set's order changes with each process's hash seed: sorted, the exclusion is
        # the same space (JSON, fingerprint, store) in every run
        return sorted((_plain(v) for v in condition), key=_listing_order)
    if isinstance(condition, list) and condition:
        return [_plain(v) for v in condition]
    raise ConfigurationError(
        f"Exclusion: condition on '{name}' must be a non-empty list of excluded values or "
        f"an (op, number) comparison, got {condition!r}"
    )


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _listing_order(value: Any) -> tuple[int, float, str, str]:
    """A sort key for values of any types: numbers by value first, then the others by
    their type and text."""
    if is_finite_number(value):
        return (0, float(value), "", repr(value))
    return (1, 0.0, type(value).__name__, str(value))


def _holds(condition: tuple[str, float] | list[Any], value: Any) -> bool:
    if isinstance(condition, list):
        return any(_same(value, v) for v in condition)
    op, threshold = condition
    value = float(value)
    if op == "<":
        return value < threshold
    if op == "<=":
        return value <= threshold
    if op == ">":
        return value > threshold
    return value >= threshold


def _same(value: Any, listed: Any) -> bool:
    """Whether a value is a listed one: numbers by value (2.0 is 2), others by their text
    (a category read back from a file as text is still itself)."""
    if is_finite_number(value) and is_finite_number(listed):
        return float(value) == float(listed)
    return str(value) == str(listed)
