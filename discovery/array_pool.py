"""Large candidate pools: numeric designs held as one float32 array, ids made on demand.

A :class:`~discovery.space.CandidatePool` keeps a DataFrame row and a Python string per
candidate, which is right for thousands of designs and too heavy for millions. An
:class:`ArrayPool` keeps the designs as an array (a read-only memory map of a ``.npy``
file, or read from Parquet in row batches), the model's features as one float32 array
scaled to the unit cube, and makes a candidate's id and parameters only when that
candidate is chosen. A campaign takes either; its store records where the file is and a
checksum, instead of copying the table.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from discovery.exceptions import PoolError
from discovery.space import Candidate

#: Rows read, scaled or hashed at once: no pass over the pool holds a second full copy.
CHUNK_ROWS = 1 << 20


class PoolIds:
    """The ids of an :class:`ArrayPool`, as strings made on demand.

    Without a given id column the ids are the row numbers ("0", "1", ...); with one,
    its values (integers or text), looked up by binary search over a sorted copy
    rather than a dict of millions of strings.
    """

    def __init__(self, n: int, values: np.ndarray | None = None) -> None:
        self._n = int(n)
        self._values = values
        self._sorted: np.ndarray | None = None
        self._order: np.ndarray | None = None
        if values is not None:
            self._order = np.argsort(values, kind="stable")
            self._sorted = values[self._order]
            repeated = self._sorted[1:][self._sorted[1:] == self._sorted[:-1]]
            if len(repeated):
                raise PoolError(
                    f"pool: duplicate candidate ids: {np.unique(repeated)[:5].tolist()}"
                )

    def __len__(self) -> int:
        return self._n

    def __iter__(self) -> Iterator[str]:
        for start in range(0, self._n, CHUNK_ROWS):
            yield from self[start : start + CHUNK_ROWS]

    def __contains__(self, candidate_id: object) -> bool:
        return self.position(str(candidate_id)) is not None

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, (int, np.integer)):
            row = range(self._n)[int(index)]  # negative rows and bounds as a list has them
            return str(row) if self._values is None else str(self._values[row])
        if isinstance(index, slice):
            rows = np.arange(*index.indices(self._n))
        else:
            rows = np.asarray(index)
            rows = np.flatnonzero(rows) if rows.dtype == bool else rows.astype(np.int64)
        values = rows if self._values is None else self._values[rows]
        return np.asarray([str(v) for v in values.tolist()], dtype=object)

    def tolist(self) -> list[str]:
        """Every id, in pool order."""
        return list(self)

    def position(self, candidate_id: str) -> int | None:
        """The row of ``candidate_id``, or None when the pool has no such id."""
        if self._values is None:
            is_row = (
                candidate_id.isascii()
                and candidate_id.isdigit()
                and str(int(candidate_id)) == candidate_id
            )
            return int(candidate_id) if is_row and int(candidate_id) < self._n else None
        if self._values.dtype.kind in "iu":
            try:
                key: Any = int(candidate_id)
            except ValueError:
                return None
            if str(key) != candidate_id:
                return None
        else:
            key = candidate_id
        at = int(np.searchsorted(self._sorted, key))
        if at < self._n and self._sorted[at] == key:
            return int(self._order[at])
        return None


class ArrayPool:
    """A pool of up to tens of millions of numeric designs, held as arrays.

    Every column is a numeric parameter and a feature (encode text columns before, or
    use :class:`~discovery.space.CandidatePool`). Build one with :meth:`from_npy`,
    :meth:`from_parquet` or :meth:`from_array`.

    Attributes:
        ids: the candidate ids (:class:`PoolIds`), made as strings on demand.
        raw_features: (n, d) the designs' values as given (a read-only memory map for
            a ``.npy`` file; float32 when read from Parquet).
        features: (n, d) float32 features scaled to [0, 1] over the whole pool.
        feature_names: d parameter names, which are also the feature names.
        options: where the pool comes from, so that a store can reopen it.
    """

    def __init__(
        self,
        raw_features: np.ndarray,
        feature_names: Sequence[str] | None = None,
        *,
        ids: np.ndarray | None = None,
        options: dict | None = None,
    ) -> None:
        if raw_features.ndim != 2 or raw_features.shape[0] == 0 or raw_features.shape[1] == 0:
            raise PoolError(
                f"pool: expected a non-empty (candidates, features) array, got shape "
                f"{raw_features.shape}"
            )
        if raw_features.dtype.kind not in "iuf":
            raise PoolError(f"pool: features must be numbers, got dtype {raw_features.dtype}")
        n, d = raw_features.shape
        names = [f"x{j}" for j in range(d)] if feature_names is None else list(feature_names)
        if len(names) != d or len(set(names)) != d:
            raise PoolError(f"pool: {d} unique feature names needed, got {names}")
        if ids is not None and len(ids) != n:
            raise PoolError(f"pool: {len(ids)} ids for {n} candidates")
        self.raw_features = raw_features
        self.feature_names = [str(name) for name in names]
        self.ids = PoolIds(n, ids)
        self.options = dict(options or {"kind": "array", "format": "memory"})
        self.options["features"] = self.feature_names
        self._low, self._span = _bounds(raw_features, self.feature_names)
        self.features = np.empty((n, d), dtype=np.float32)
        for start, chunk in _chunks(raw_features):
            scaled = (chunk - self._low) / self._span
            self.features[start : start + len(chunk)] = scaled
        self._fingerprint: str | None = None

    @classmethod
    def from_array(
        cls,
        features: np.ndarray,
        feature_names: Sequence[str] | None = None,
        ids: Sequence[Any] | None = None,
    ) -> ArrayPool:
        """A pool over an array in memory (ids default to row numbers).

        A store can record such a campaign but not reopen its pool from the file
        alone: save the array with ``np.save`` and use :meth:`from_npy` for that.
        """
        return cls(np.asarray(features), feature_names, ids=_id_array(ids))

    @classmethod
    def from_npy(cls, path: str | Path, feature_names: Sequence[str] | None = None) -> ArrayPool:
        """A pool over a ``.npy`` file of shape (candidates, features), memory-mapped
        read-only: the designs stay on disk and the model's float32 features in memory.
        Ids are the row numbers.

        Raises:
            PoolError: the file is missing, not a .npy array, or not 2-d numeric.
        """
        path = Path(path)
        if not path.is_file():
            raise PoolError(f"pool: file not found: {path}")
        try:
            raw = np.load(path, mmap_mode="r", allow_pickle=False)
        except ValueError as error:
            raise PoolError(f"pool: {path} is not a .npy array file ({error})") from None
        options = {"kind": "array", "format": "npy", "path": str(path.resolve())}
        return cls(raw, feature_names, options=options)

    @classmethod
    def from_parquet(
        cls,
        path: str | Path,
        *,
        features: Sequence[str] | None = None,
        id_column: str | None = None,
        batch_rows: int = CHUNK_ROWS,
    ) -> ArrayPool:
        """A pool read from a Parquet file in row batches into one float32 array.

        Args:
            path: the file.
            features: the numeric parameter columns; by default every column but the id.
            id_column: column of unique ids (integers or text); by default row numbers.
            batch_rows: rows read at once.

        Raises:
            PoolError: the file is missing or unreadable, a named column is missing, a
                feature column is not numeric or has missing values, or ids repeat.
        """
        import pyarrow as pa
        import pyarrow.parquet as pq

        path = Path(path)
        if not path.is_file():
            raise PoolError(f"pool: file not found: {path}")
        try:
            parquet = pq.ParquetFile(path)
        except (pa.ArrowException, OSError) as error:
            raise PoolError(f"pool: cannot read {path} as Parquet ({error})") from None
        schema = parquet.schema_arrow
        columns = list(schema.names)
        named = list(features or []) + ([id_column] if id_column else [])
        missing = [c for c in named if c not in columns]
        if missing:
            raise PoolError(f"pool: columns {missing} not in {path.name}'s columns {columns}")
        names = list(features) if features else [c for c in columns if c != id_column]
        for name in names:
            kind = schema.field(name).type
            if not (pa.types.is_integer(kind) or pa.types.is_floating(kind)):
                raise PoolError(
                    f"pool: column '{name}' of {path.name} is {kind}, not a number; an "
                    "ArrayPool takes numeric columns (encode it first, or use a CandidatePool)"
                )
        n = parquet.metadata.num_rows
        raw = np.empty((n, len(names)), dtype=np.float32)
        ids: list[np.ndarray] = []
        start = 0
        read = names + ([id_column] if id_column else [])
        for batch in parquet.iter_batches(batch_size=batch_rows, columns=read):
            for j, name in enumerate(names):
                column = batch.column(name)
                if column.null_count:
                    raise PoolError(f"pool: column '{name}' of {path.name} has missing values")
                raw[start : start + batch.num_rows, j] = column.to_numpy(zero_copy_only=False)
            if id_column:
                column = batch.column(id_column)
                if column.null_count:  # pyarrow gives them as NaN or None, ids 'nan', 'None'
                    rows = start + np.flatnonzero(column.is_null().to_numpy(zero_copy_only=False))
                    raise PoolError(
                        f"pool: id column '{id_column}' of {path.name} has no id in rows "
                        f"{rows[:5].tolist()} (counting the first as 0); every candidate needs one"
                    )
                ids.append(column.to_numpy(zero_copy_only=False))
            start += batch.num_rows
        id_values = _id_array(np.concatenate(ids)) if id_column else None
        options = {
            "kind": "array",
            "format": "parquet",
            "path": str(path.resolve()),
            "id_column": id_column,
        }
        return cls(raw, names, ids=id_values, options=options)

    @classmethod
    def reopen(cls, options: dict) -> ArrayPool:
        """The pool that ``options`` (as a store recorded them) describe, read again.

        Raises:
            PoolError: the pool was an array in memory, or its file is gone.
        """
        kind = options.get("format")
        if kind == "npy":
            return cls.from_npy(options["path"], options["features"])
        if kind == "parquet":
            return cls.from_parquet(
                options["path"], features=options["features"], id_column=options.get("id_column")
            )
        raise PoolError(
            "pool: this campaign's pool was an array in memory and cannot be reopened from "
            "the store; pass the same pool again (or save it with np.save and use "
            "ArrayPool.from_npy)"
        )

    def __len__(self) -> int:
        return len(self.ids)

    def __repr__(self) -> str:
        return f"ArrayPool({len(self)} candidates, {len(self.feature_names)} features)"

    def __contains__(self, candidate_id: object) -> bool:
        return candidate_id in self.ids

    @property
    def parameter_columns(self) -> list[str]:
        """The parameter names (each one also a feature)."""
        return self.feature_names

    @property
    def categorical_columns(self) -> list[str]:
        """No columns: every parameter of an array pool is a number."""
        return []

    def index_of(self, candidate_id: str) -> int:
        """Row index of a candidate id."""
        row = self.ids.position(str(candidate_id))
        if row is None:
            raise PoolError(f"pool: unknown candidate id '{candidate_id}'")
        return row

    def candidate(self, index: int) -> Candidate:
        """The candidate at row ``index`` with its parameter values."""
        values = self.raw_features[int(index)]
        parameters = {n: _plain(v) for n, v in zip(self.feature_names, values, strict=True)}
        return Candidate(id=self.ids[int(index)], parameters=parameters)

    def encode(self, parameters: pd.DataFrame) -> np.ndarray:
        """Features of designs outside the pool, scaled as the pool's are.

        Raises:
            PoolError: a parameter column is missing, has missing values, or holds a
                value that is not a finite number (text, a bool, inf).
        """
        missing = [c for c in self.feature_names if c not in parameters.columns]
        if missing:
            raise PoolError(f"pool: parameters {missing} missing for a design outside the pool")
        if parameters[self.feature_names].isna().any().any():
            raise PoolError("pool: a design outside the pool has missing parameter values")
        columns = []
        for name in self.feature_names:
            values = parameters[name]
            numbers = pd.to_numeric(values, errors="coerce").to_numpy(np.float64)
            is_bool = values.map(lambda v: isinstance(v, (bool, np.bool_))).to_numpy(bool)
            bad = values[~np.isfinite(numbers) | is_bool].tolist()
            if bad:
                raise PoolError(
                    f"pool: '{name}' of a design outside the pool must be a finite number, "
                    f"got {bad[:3]}"
                )
            columns.append(numbers)
        values = np.column_stack(columns) if columns else np.empty((len(parameters), 0))
        return (values - self._low) / self._span

    def without(self, *exclusions: Any) -> ArrayPool:
        """Exclusions need the pool's table; an array pool has none.

        Raises:
            PoolError: always, naming the way round.
        """
        raise PoolError(
            "pool: an ArrayPool cannot apply exclusions; remove those designs from its file "
            "first, or use a CandidatePool"
        )

    def fingerprint(self) -> str:
        """sha256 of the names, ids and values: identifies the pool a campaign ran on
        (computed once, in chunks)."""
        if self._fingerprint is None:
            digest = hashlib.sha256(json.dumps(self.feature_names).encode())
            digest.update(str(self.raw_features.dtype).encode())
            if self.ids._values is not None:
                digest.update(np.ascontiguousarray(self.ids._values).tobytes())
            for _, chunk in _chunks(self.raw_features):
                digest.update(np.ascontiguousarray(chunk).tobytes())
            self._fingerprint = digest.hexdigest()
        return self._fingerprint


def _chunks(array: np.ndarray) -> Iterator[tuple[int, np.ndarray]]:
    for start in range(0, array.shape[0], CHUNK_ROWS):
        yield start, np.asarray(array[start : start + CHUNK_ROWS])


def _bounds(raw: np.ndarray, names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Each column's minimum and range (1 where constant, so it scales to 0)."""
    low = np.full(raw.shape[1], np.inf)
    high = np.full(raw.shape[1], -np.inf)
    for _, chunk in _chunks(raw):
        finite = np.isfinite(chunk)
        if not finite.all():
            bad = names[int(np.flatnonzero(~finite.all(axis=0))[0])]
            raise PoolError(f"pool: feature '{bad}' has missing or infinite values")
        low = np.minimum(low, chunk.min(axis=0))
        high = np.maximum(high, chunk.max(axis=0))
    with np.errstate(over="ignore"):
        span = high - low
    if not np.isfinite(span).all():  # scaled by a range of inf, every value became 0
        bad = [names[i] for i in np.flatnonzero(~np.isfinite(span))]
        raise PoolError(
            f"pool: feature(s) {bad} span a range wider than a float holds; rescale them "
            "(e.g. to other units or a logarithm)"
        )
    return low, np.where(span > 0, span, 1.0)


def _id_array(ids: Any) -> np.ndarray | None:
    """Given ids as an integer array, or as fixed-width text (no Python object per id)."""
    if ids is None:
        return None
    values = np.asarray(ids)
    if values.dtype.kind in "iu":
        return values.astype(np.int64)
    absent = np.flatnonzero(pd.isna(values))
    if len(absent):
        raise PoolError(
            f"pool: ids missing in rows {absent[:5].tolist()} (counting the first as 0); "
            "every candidate needs one"
        )
    return values.astype(str)


def _plain(value: np.generic) -> float | int:
    """A stored number as the Python value JSON understands; float32 values become the
    shortest decimal that reads back to them (0.1, not 0.10000000149)."""
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.float32):
        return float(str(value))
    return float(value)
