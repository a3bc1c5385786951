"""Declared parameters of a search space: real, integer and categorical.

Each parameter validates itself at construction, encodes its values to model
features in the unit interval and decodes them back, and round-trips through a
plain dict (and so JSON).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from discovery.checks import is_finite_number
from discovery.exceptions import ConfigurationError

#: The largest integer size a float64 feature holds exactly (and every integer below it).
MAX_EXACT_INTEGER = 2**53


def _check_name(name: Any, kind: str) -> None:
    if not isinstance(name, str) or not name:
        raise ConfigurationError(f"{kind}: name must be a non-empty string, got {name!r}")


def _check_bounds(name: str, low: Any, high: Any, log: bool) -> None:
    for label, value in (("low", low), ("high", high)):
        numeric = isinstance(value, (int, float, np.integer, np.floating))
        if isinstance(value, (bool, np.bool_)) or not numeric:  # numpy's too: off a DataFrame
            raise ConfigurationError(f"parameter '{name}': {label} must be a number, got {value!r}")
        if not math.isfinite(value):
            raise ConfigurationError(f"parameter '{name}': {label} must be finite, got {value}")
    if not low < high:
        raise ConfigurationError(f"parameter '{name}': low ({low}) must be below high ({high})")
    if not math.isfinite(float(high) - float(low)):
        raise ConfigurationError(
            f"parameter '{name}': the range from {low} to {high} is wider than a float holds"
        )
    if log and low <= 0:
        raise ConfigurationError(
            f"parameter '{name}': log=True needs low > 0 (a log scale has no zero), got low={low}"
        )


@dataclass(frozen=True)
class Real:
    """A continuous parameter in [low, high], searched on a linear or a log scale.

    Args:
        name: the parameter's name, as the oracle receives it.
        low: the smallest value allowed.
        high: the largest value allowed.
        log: search and model on log(value) (rates, times, concentrations
            spanning decades); needs ``low > 0``.

    Raises:
        ConfigurationError: ``low >= high``, a bound that is not a finite number,
            or ``log=True`` with ``low <= 0``.
    """

    name: str
    low: float
    high: float
    log: bool = False

    def __post_init__(self) -> None:
        _check_name(self.name, "Real")
        _check_bounds(self.name, self.low, self.high, self.log)
        object.__setattr__(self, "low", float(self.low))
        object.__setattr__(self, "high", float(self.high))

    @property
    def width(self) -> int:
        """Features this parameter takes in the model's input."""
        return 1

    def encode(self, values: np.ndarray) -> np.ndarray:
        """(n,) values to (n, 1) features in [0, 1] (outside for values out of range)."""
        values = np.asarray(values, dtype=np.float64)
        if self.log:
            low, high = math.log(self.low), math.log(self.high)
            return ((np.log(values) - low) / (high - low))[:, None]
        return ((values - self.low) / (self.high - self.low))[:, None]

    def decode(self, features: np.ndarray) -> list[float]:
        """(n, 1) features to n values, clipped into [low, high]."""
        unit = np.clip(np.asarray(features, dtype=np.float64)[:, 0], 0.0, 1.0)
        if self.log:
            low, high = math.log(self.low), math.log(self.high)
            values = np.exp(low + unit * (high - low))
        else:
            values = self.low + unit * (self.high - self.low)
        return np.clip(values, self.low, self.high).tolist()

    def contains(self, value: Any) -> bool:
        """Whether ``value`` is a number within the bounds."""
        return is_finite_number(value) and self.low <= float(value) <= self.high

    def to_dict(self) -> dict[str, Any]:
        return {"type": "real", "name": self.name, "low": self.low, "high": self.high,
                "log": self.log}  # fmt: skip


@dataclass(frozen=True)
class Integer:
    """An integer parameter in [low, high] (equivalents, cycles, a count of layers).

    Modelled as one feature scaled to [0, 1] (log scale with ``log=True``);
    every proposed value is integral.

    Raises:
        ConfigurationError: bounds that are not integers, beyond +-2**53 (where
            float64 features, and so the model, cannot tell neighbours apart),
            ``low >= high``, or ``log=True`` with ``low <= 0``.
    """

    name: str
    low: int
    high: int
    log: bool = False

    def __post_init__(self) -> None:
        _check_name(self.name, "Integer")
        for label, value in (("low", self.low), ("high", self.high)):
            if not is_finite_number(value) or not float(value).is_integer():
                raise ConfigurationError(
                    f"parameter '{self.name}': {label} must be an integer, got {value!r}"
                )
            if abs(int(value)) > MAX_EXACT_INTEGER:
                raise ConfigurationError(
                    f"parameter '{self.name}': {label} must lie within +-2**53 "
                    f"({MAX_EXACT_INTEGER}), the integers float64 features hold exactly, "
                    f"got {int(value)}"
                )
        _check_bounds(self.name, self.low, self.high, self.log)
        object.__setattr__(self, "low", int(self.low))
        object.__setattr__(self, "high", int(self.high))

    @property
    def width(self) -> int:
        return 1

    @property
    def values(self) -> range:
        """Every allowed value, in order (a range: a wide one is never listed in memory)."""
        return range(self.low, self.high + 1)

    def values_within(self, low: float, high: float) -> range:
        """The allowed values whose features lie in [low, high].

        Found by bisection on the monotone encoding, so that a range of 10^12 values
        costs a few dozen encodings, not a list of them.
        """

        def feature(value: int) -> float:
            return float(self.encode(np.array([value], dtype=np.float64))[0, 0])

        values = self.values
        first = bisect.bisect_left(values, low, key=feature)
        last = bisect.bisect_right(values, high, key=feature)
        return values[first:last]

    def encode(self, values: np.ndarray) -> np.ndarray:
        return Real(self.name, self.low, self.high, self.log).encode(values)

    def decode(self, features: np.ndarray) -> list[int]:
        """(n, 1) features to the nearest allowed integers (nearest on the model's scale)."""
        continuous = np.asarray(Real(self.name, self.low, self.high, self.log).decode(features))
        below = np.floor(continuous)  # on a monotone scale the nearest is one of the two
        above = np.minimum(below + 1.0, self.high)
        unit = self.encode(continuous)[:, 0]
        up = np.abs(self.encode(above)[:, 0] - unit) < np.abs(self.encode(below)[:, 0] - unit)
        return [int(v) for v in np.where(up, above, below)]

    def contains(self, value: Any) -> bool:
        return (
            is_finite_number(value)
            and float(value).is_integer()
            and self.low <= int(value) <= self.high
        )

    def to_dict(self) -> dict[str, Any]:
        return {"type": "integer", "name": self.name, "low": self.low, "high": self.high,
                "log": self.log}  # fmt: skip


@dataclass(frozen=True, eq=False)
class Categorical:
    """A choice among named values (a solvent, a catalyst, a base).

    Encoded one-hot by default, or by a descriptor table: one row of numbers
    per category (e.g. a solvent's dielectric constant and boiling point), so
    the model can learn that similar solvents behave alike. Descriptors are
    scaled to [0, 1] over the categories.

    Args:
        name: the parameter's name.
        values: the categories (strings or numbers), distinct, at least one.
        descriptors: a DataFrame indexed by category with numeric columns, or None
            for one-hot.

    Raises:
        ConfigurationError: no categories, duplicates, or descriptors that miss a
            category, list one twice, are not numeric or hold NaN or inf.
    """

    name: str
    values: Sequence[Any]
    descriptors: pd.DataFrame | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        _check_name(self.name, "Categorical")
        if isinstance(self.values, (str, bytes)) or not isinstance(self.values, Sequence):
            raise ConfigurationError(
                f"parameter '{self.name}': values must be a list of categories, got {self.values!r}"
            )
        values = tuple(_plain(v) for v in self.values)
        if not values:
            raise ConfigurationError(f"parameter '{self.name}': needs at least one category")
        seen = [str(v) for v in values]
        duplicated = sorted({v for v in seen if seen.count(v) > 1})
        if duplicated:
            raise ConfigurationError(f"parameter '{self.name}': duplicated categories {duplicated}")
        object.__setattr__(self, "values", values)
        if self.descriptors is not None:
            object.__setattr__(self, "descriptors", self._checked_descriptors(self.descriptors))

    def _checked_descriptors(self, table: Any) -> pd.DataFrame:
        if not isinstance(table, pd.DataFrame):
            raise ConfigurationError(
                f"parameter '{self.name}': descriptors must be a DataFrame indexed by category"
            )
        table = table.copy()
        table.index = [str(i) for i in table.index]
        wanted = [str(v) for v in self.values]
        missing = [v for v in wanted if v not in table.index]
        if missing:
            raise ConfigurationError(
                f"parameter '{self.name}': descriptors lack the categories {missing}"
            )
        # A category's second row would shift every later category's features.
        listed = table.index[table.index.isin(wanted)]
        repeated = sorted(set(listed[listed.duplicated()]))
        if repeated:
            raise ConfigurationError(
                f"parameter '{self.name}': descriptors list the categories {repeated} more "
                "than once; keep one row per category"
            )
        table = table.loc[wanted]
        numeric = table.select_dtypes("number")
        if numeric.shape[1] != table.shape[1] or table.shape[1] == 0:
            raise ConfigurationError(
                f"parameter '{self.name}': descriptors must be numeric columns, got "
                f"{list(table.columns)}"
            )
        finite = np.isfinite(table.to_numpy(np.float64))
        if not finite.all():
            rows, columns = np.nonzero(~finite)
            where = ", ".join(
                f"'{table.index[r]}' in '{table.columns[c]}' ({table.iat[r, c]})"
                for r, c in zip(rows[:3], columns[:3], strict=True)
            )
            raise ConfigurationError(
                f"parameter '{self.name}': descriptors must be finite numbers (no NaN or "
                f"inf), got {where}"
            )
        same = table.index[table.duplicated(keep=False)].tolist()
        if same:
            raise ConfigurationError(
                f"parameter '{self.name}': categories {same} have the same descriptors; "
                "the model could not tell them apart"
            )
        return table.astype(np.float64)

    @classmethod
    def from_pool(cls, name: str, pool: Any) -> Categorical:
        """The candidates of a :class:`~discovery.space.CandidatePool` as one categorical
        parameter, described by the pool's features (50 catalysts from a table, say, to
        combine with a continuous temperature)."""
        table = pd.DataFrame(pool.features, index=list(pool.ids), columns=pool.feature_names)
        return cls(name, list(pool.ids), descriptors=table)

    @property
    def width(self) -> int:
        return len(self.values) if self.descriptors is None else self.descriptors.shape[1]

    @property
    def feature_names(self) -> list[str]:
        if self.descriptors is None:
            return [f"{self.name}={v}" for v in self.values]
        return [f"{self.name}:{c}" for c in self.descriptors.columns]

    def category_features(self) -> np.ndarray:
        """(k, width) features of every category, in the order of ``values``."""
        if self.descriptors is None:
            return np.eye(len(self.values))
        table = self.descriptors.to_numpy()
        low, span = table.min(axis=0), np.ptp(table, axis=0)
        return (table - low) / np.where(span > 0, span, 1.0)

    def index_of(self, value: Any) -> int:
        """Position of a category in ``values``."""
        for position, category in enumerate(self.values):
            if str(category) == str(value):
                return position
        raise ConfigurationError(
            f"parameter '{self.name}': {value!r} is not one of {list(self.values)}"
        )

    def encode(self, values: Sequence[Any]) -> np.ndarray:
        rows = [self.index_of(v) for v in values]
        return self.category_features()[rows]

    def decode(self, features: np.ndarray) -> list[Any]:
        """(n, width) features to the nearest categories."""
        table = self.category_features()
        features = np.asarray(features, dtype=np.float64)
        distance = ((features[:, None, :] - table[None, :, :]) ** 2).sum(axis=-1)
        return [self.values[i] for i in distance.argmin(axis=1)]

    def contains(self, value: Any) -> bool:
        return any(str(value) == str(v) for v in self.values)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Categorical) and self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash((self.name, tuple(str(v) for v in self.values)))

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"type": "categorical", "name": self.name,
                                "values": list(self.values)}  # fmt: skip
        if self.descriptors is not None:
            data["descriptors"] = {
                "columns": [str(c) for c in self.descriptors.columns],
                "rows": self.descriptors.to_numpy().tolist(),
            }
        return data


Parameter = Real | Integer | Categorical


def parameter_from_dict(data: dict[str, Any]) -> Parameter:
    """Rebuild a parameter saved with its ``to_dict``."""
    data = dict(data)
    kind = data.pop("type", None)
    if kind == "real":
        return Real(**data)
    if kind == "integer":
        return Integer(**data)
    if kind == "categorical":
        table = data.pop("descriptors", None)
        if table is not None:
            index = [str(v) for v in data["values"]]
            table = pd.DataFrame(table["rows"], index=index, columns=table["columns"])
        return Categorical(data["name"], data["values"], descriptors=table)
    raise ConfigurationError(f"space: unknown parameter type {kind!r}")


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value
