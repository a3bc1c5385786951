"""Candidate pools: the designs a campaign may choose from, as ids and a feature matrix."""

from __future__ import annotations

import hashlib
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.impute import SimpleImputer
from sklearn.preprocessing import MinMaxScaler

from discovery.exceptions import PoolError

IMPUTE_STRATEGIES = ("mean", "median", "most_frequent")
#: How pandas names a column without a header, such as the row index that
#: ``DataFrame.to_csv`` writes unless told ``index=False``.
UNNAMED_COLUMN = re.compile(r"Unnamed: \d+")
#: A number written as text: a decimal comma, a unit or percent sign, digits run
#: together by the wrong CSV separator ("1,5", "12 %", "1;2;3").
NUMBER_AS_TEXT = re.compile(r"[+\-]?[.,]?\d[\d\s.,;%eE+\-]*")
#: A text column with a distinct value in this share of its rows (or more) is a name,
#: a SMILES or an id, not a category...
DISTINCT_SHARE = 0.9
#: ...once the pool has this many rows (a handful of candidates may all differ).
DISTINCT_MIN_ROWS = 20


class DuplicateCandidatesWarning(UserWarning):
    """Candidates of a pool share their feature values (replicates, or too few features)."""


@dataclass(frozen=True)
class Candidate:
    """One design handed to an oracle.

    Attributes:
        id: the candidate's id in its pool.
        parameters: the design's original column values (before encoding).
        idempotency_key: the key of the job this candidate is sent under; an oracle
            that receives the same key twice must run the experiment only once.
    """

    id: str
    parameters: dict = field(default_factory=dict)
    idempotency_key: str | None = None


class CandidatePool:
    """A discrete set of candidate designs, known before any experiment.

    Features are one-hot encoded where categorical and scaled to the unit cube
    over the whole pool (the features of every candidate are known up front,
    so this leaks no measurement). Build one with :meth:`from_frame` or
    :meth:`from_csv`.

    Attributes:
        ids: (n,) str candidate ids, unique.
        options: the keyword arguments of :meth:`from_frame` that built the pool,
            so that a stored campaign can rebuild it from its table.
        features: (n, d) float64 features scaled to [0, 1].
        feature_names: d names of the encoded feature columns.
        frame: the original rows, one per candidate, indexed by id.
    """

    def __init__(
        self,
        ids: Sequence[str],
        features: np.ndarray,
        feature_names: Sequence[str],
        frame: pd.DataFrame,
        parameter_columns: Sequence[str],
    ) -> None:
        self.ids = np.asarray([str(i) for i in ids], dtype=object)
        self.raw_features = np.asarray(features, dtype=np.float64)
        # Constant columns map to 0 (MinMaxScaler handles a zero range).
        self._scaler = MinMaxScaler().fit(self.raw_features)
        self.features = self._scaler.transform(self.raw_features)
        self.feature_names = list(feature_names)
        self.frame = frame
        self.parameter_columns = list(parameter_columns)
        self.options: dict = {}
        self._index = {candidate_id: i for i, candidate_id in enumerate(self.ids)}

    @classmethod
    def from_frame(
        cls,
        frame: pd.DataFrame,
        *,
        features: Sequence[str] | None = None,
        id_column: str | None = None,
        objective: str | None = None,
        exclude: Sequence[str] = (),
        impute: str | None = None,
    ) -> CandidatePool:
        """Build a pool from a DataFrame, one row per candidate.

        Args:
            frame: the candidates.
            features: the design columns; by default every column except the id,
                the objective and ``exclude``, and except columns without a header
                (``Unnamed: 0``), which are left out with a warning: nearly always the
                row index that ``to_csv`` wrote, which as a feature hands the model the
                table's row order (a table sorted by its objective then looks perfectly
                predictable). They are left out rather than refused because the file is
                otherwise fine and the commonest way to write one; name such a column in
                ``features`` to use it. Numeric columns are used as they are, text,
                boolean and categorical columns are one-hot encoded; a text column with
                a distinct value in nearly every row, or holding numbers written as text
                ("1,5", "12 %"), is encoded all the same, with a warning.
            id_column: column of unique candidate ids, none missing; by default the
                row number. Integers give ids as written ("7", not "7.0").
            objective: the objective's column, if the frame has one (a dataset
                emulator's truth, or prior measurements): checked to exist and
                never used as a feature.
            exclude: further columns that are not features.
            impute: fill missing feature values with scikit-learn's SimpleImputer
                using this strategy ("mean", "median", "most_frequent"); without
                it a missing value is an error.

        Raises:
            PoolError: empty frame, a named column missing, a column or feature named
                twice, missing or duplicate ids, missing feature values without
                ``impute``, a text feature with no value at all, infinite feature values
                or a range wider than a float holds (-1e308 to 1e308), two features of the same name (a text column "a" holding "b=c" and a
                column "a=b" holding "c" both give "a=b=c"), or no feature columns.
        """
        if not isinstance(frame, pd.DataFrame):
            raise PoolError(f"pool: expected a pandas DataFrame, got {type(frame).__name__}")
        if len(frame) == 0:
            raise PoolError("pool: the candidate table is empty (no rows)")
        columns = [str(c) for c in frame.columns]
        repeated = sorted({c for c in columns if columns.count(c) > 1})
        if repeated:
            raise PoolError(f"pool: column names appear more than once: {repeated}")
        frame = frame.copy()
        frame.columns = columns
        _require_columns(columns, [id_column] if id_column else [], "id_column")
        _require_columns(columns, [objective] if objective else [], "objective")
        _require_columns(columns, list(exclude), "exclude")
        if features is None:
            skipped = {id_column, objective, *exclude}
            features = without_unnamed([c for c in columns if c not in skipped])
        else:
            features = [str(f) for f in features]
            repeated = sorted({f for f in features if features.count(f) > 1})
            if repeated:
                raise PoolError(f"pool: features named more than once: {repeated}")
            _require_columns(columns, features, "features")
            if objective in features:
                raise PoolError(f"pool: objective '{objective}' cannot also be a feature")
        if not features:
            raise PoolError(
                "pool: no feature columns left after removing id, objective and columns "
                "without a header"
            )

        if id_column is None:
            ids = [str(i) for i in range(len(frame))]
        else:
            absent = np.flatnonzero(frame[id_column].isna().to_numpy())
            if len(absent):
                raise PoolError(
                    f"pool: id_column '{id_column}' has no id in rows {absent[:5].tolist()} "
                    "(counting the first row as 0; an empty CSV field, NA or None is missing); "
                    "every candidate needs one"
                )
            ids = [str(i) for i in frame[id_column]]
            duplicated = pd.Series(ids)[pd.Series(ids).duplicated()].unique()
            if len(duplicated):
                raise PoolError(
                    f"pool: id_column '{id_column}' has duplicate ids: {list(duplicated[:5])}"
                )

        _warn_text_features(frame[features])
        encoded = _encode(frame[features], impute)
        _warn_duplicate_rows(encoded, ids)
        frame.index = pd.Index(ids, name="candidate_id")
        pool = cls(ids, encoded.to_numpy(np.float64), encoded.columns, frame, features)
        pool.options = {
            "features": list(features),
            "id_column": id_column,
            "objective": objective,
            "exclude": list(exclude),
            "impute": impute,
        }
        return pool

    @classmethod
    def from_csv(cls, path: str | Path, **options) -> CandidatePool:
        """Read a CSV file and build a pool; options as in :meth:`from_frame`."""
        path = Path(path)
        if not path.is_file():
            raise PoolError(f"pool: file not found: {path}")
        id_column = options.get("id_column")  # ids as written: "007" stays "007"
        dtype = {id_column: str} if id_column else None
        return cls.from_frame(pd.read_csv(path, dtype=dtype), **options)

    def __len__(self) -> int:
        return int(self.ids.shape[0])

    def __repr__(self) -> str:
        return f"CandidatePool({len(self)} candidates, {len(self.feature_names)} features)"

    def __contains__(self, candidate_id: object) -> bool:
        return str(candidate_id) in self._index

    @property
    def categorical_columns(self) -> list[str]:
        """The parameter columns encoded one-hot (text, booleans, categories)."""
        return [c for c in self.parameter_columns if c not in self.feature_names]

    def index_of(self, candidate_id: str) -> int:
        """Row index of a candidate id."""
        try:
            return self._index[str(candidate_id)]
        except KeyError:
            raise PoolError(f"pool: unknown candidate id '{candidate_id}'") from None

    def candidate(self, index: int) -> Candidate:
        """The candidate at row ``index`` with its original parameter values."""
        row = self.frame.iloc[index]
        parameters = {c: _plain(row[c]) for c in self.parameter_columns}
        return Candidate(id=str(self.ids[index]), parameters=parameters)

    def encode(self, parameters: pd.DataFrame) -> np.ndarray:
        """Features of designs outside the pool, encoded and scaled as the pool's are.

        Args:
            parameters: one row per design, with every parameter column of the pool.

        Returns:
            (m, d) float64 features on the pool's scale (values beyond the pool's
            range fall outside [0, 1]).

        Raises:
            PoolError: a missing column, a missing value, a numeric parameter that is
                not a finite number, or a category the pool does not have.
        """
        missing = [c for c in self.parameter_columns if c not in parameters.columns]
        if missing:
            raise PoolError(f"pool: parameters {missing} missing for a design outside the pool")
        if parameters[self.parameter_columns].isna().any().any():
            raise PoolError("pool: a design outside the pool has missing parameter values")
        by_feature: dict[str, np.ndarray] = {}
        for column in self.parameter_columns:
            values = parameters[column]
            prefix = f"{column}="
            categories = [  # a number column "k=z" is no category of a text column "k"
                n[len(prefix) :]
                for n in self.feature_names
                if n.startswith(prefix) and n not in self.parameter_columns
            ]
            if column in self.feature_names:
                numbers = pd.to_numeric(values, errors="coerce").to_numpy(np.float64)
                if not np.isfinite(numbers).all():
                    bad = values[~np.isfinite(numbers)].tolist()
                    raise PoolError(
                        f"pool: '{column}' of a design outside the pool must be a finite "
                        f"number, got {bad[:3]}"
                    )
                by_feature[column] = numbers
                continue
            unknown = sorted(set(values.astype(str)) - set(categories))
            if unknown:
                raise PoolError(
                    f"pool: '{column}' value(s) {unknown} are not among the pool's {categories}"
                )
            for c in categories:
                by_feature[prefix + c] = (values.astype(str) == c).to_numpy(np.float64)
        # In the pool's feature order (numbers first, then the one-hot columns), not the
        # parameters': a text column before a number put each value in another's place.
        columns = [by_feature[name] for name in self.feature_names]
        raw = np.column_stack(columns) if columns else np.empty((len(parameters), 0))
        return self._scaler.transform(raw)

    def without(self, *exclusions: Any) -> CandidatePool:
        """A pool without the candidates that any :class:`~discovery.constraints.Exclusion`
        removes (e.g. "no water above 100 °C"); ids are kept.

        Raises:
            PoolError: an exclusion names a column the pool does not have, or removes
                every candidate.
        """
        mask = np.zeros(len(self), dtype=bool)
        for exclusion in exclusions:
            missing = [n for n in exclusion.names if n not in self.frame.columns]
            if missing:
                raise PoolError(f"pool: exclusion '{exclusion}' names unknown columns {missing}")
            for name in exclusion.comparisons():
                if not pd.api.types.is_numeric_dtype(self.frame[name]):
                    raise PoolError(
                        f"pool: exclusion '{exclusion}' compares '{name}' with a number, but "
                        f"the column holds text (such as {self.frame[name].iloc[0]!r}); "
                        f"list the excluded values instead, e.g. {{'{name}': [...]}}"
                    )
            mask |= exclusion.excluded_rows(self.frame)
        if mask.all():
            raise PoolError("pool: the exclusions remove every candidate")
        frame = self.frame[~mask].reset_index(drop=True)
        options = dict(self.options)
        if options.get("id_column") is None:  # row numbers as ids: keep them as a column
            options["id_column"] = "candidate_id"
            options["features"] = options.get("features") or self.parameter_columns
            frame.insert(0, "candidate_id", self.ids[~mask])
        return CandidatePool.from_frame(frame, **options)

    def fingerprint(self) -> str:
        """sha256 of the ids and raw features: identifies the pool a campaign ran on."""
        digest = hashlib.sha256()
        digest.update("\x1f".join(self.ids).encode())
        digest.update(np.ascontiguousarray(self.raw_features).tobytes())
        return digest.hexdigest()


def _require_columns(columns: list[str], wanted: list[str], field_name: str) -> None:
    missing = [w for w in wanted if w not in columns]
    if missing:
        raise PoolError(
            f"pool: {field_name} {missing} not in the columns {columns}"
            if len(missing) > 1
            else f"pool: {field_name} '{missing[0]}' not in the columns {columns}"
        )


def _encode(table: pd.DataFrame, impute: str | None) -> pd.DataFrame:
    numeric = [c for c in table.columns if pd.api.types.is_numeric_dtype(table[c])]
    numeric = [c for c in numeric if not pd.api.types.is_bool_dtype(table[c])]
    categorical = [c for c in table.columns if c not in numeric]
    if impute is not None and impute not in IMPUTE_STRATEGIES:
        raise PoolError(f"pool: impute must be one of {IMPUTE_STRATEGIES}, got '{impute}'")
    missing = table.isna().sum()
    missing = missing[missing > 0]
    if len(missing) and impute is None:
        where = ", ".join(f"'{c}' ({n} rows)" for c, n in missing.items())
        raise PoolError(
            f"pool: missing feature values (NaN) in {where}; "
            "pass impute='mean', 'median' or 'most_frequent' to fill them"
        )
    infinite = [c for c in numeric if np.isinf(table[c].to_numpy(np.float64)).any()]
    if infinite:
        raise PoolError(f"pool: infinite feature values in {infinite}; a model cannot use them")
    too_wide = [c for c in numeric if not _fits_a_float(table[c].dropna().to_numpy(np.float64))]
    if too_wide:  # scaled to [0, 1] by a range of inf, every value became 0
        raise PoolError(
            f"pool: feature column(s) {too_wide} span a range wider than a float holds; "
            "rescale them (e.g. to other units or a logarithm)"
        )
    parts = []
    if numeric:
        values = table[numeric].to_numpy(np.float64)
        if len(missing):
            values = SimpleImputer(strategy=impute, keep_empty_features=True).fit_transform(values)
        parts.append(pd.DataFrame(values, columns=numeric, index=table.index))
    if categorical:
        text = table[categorical].astype("object")
        text = text.where(text.notna(), np.nan)  # None too: older scikit-learn sorts the values
        if len(missing):
            empty = [c for c in categorical if table[c].isna().all()]
            if empty:  # SimpleImputer would drop them: nothing to fill them from
                raise PoolError(
                    f"pool: text feature column(s) {empty} have no value in any row, so "
                    f"there is nothing to impute from; leave them out (exclude={empty})"
                )
            filled = SimpleImputer(strategy="most_frequent").fit_transform(text)
            text = pd.DataFrame(filled, columns=categorical, index=table.index)
        parts.append(pd.get_dummies(text.astype(str), prefix_sep="=", dtype=np.float64))
    encoded = pd.concat(parts, axis=1)
    clashes = sorted(set(encoded.columns[encoded.columns.duplicated()]))
    if clashes:  # a design told later could not be placed: both features take one name
        raise PoolError(
            f"pool: two features would both be named {clashes[:3]}: a text column's one-hot "
            "features are named column=value, and another column or value gives the same "
            "name; rename one of the columns"
        )
    return encoded


def _fits_a_float(values: np.ndarray) -> bool:
    """Whether the range of ``values`` (no NaN among them) is a finite float."""
    with np.errstate(over="ignore"):
        return values.size == 0 or bool(np.isfinite(values.max() - values.min()))


def without_unnamed(features: list[str]) -> list[str]:
    """Default features less the columns pandas named for want of a header (the row
    index ``to_csv`` writes), each left out with a warning."""
    unnamed = [c for c in features if UNNAMED_COLUMN.fullmatch(c)]
    for column in unnamed:
        warnings.warn(
            f"pool: column '{column}' has no header (the row index DataFrame.to_csv writes "
            f"by default?) and is left out of the features; name it in features= to use it",
            stacklevel=3,
        )
    return [c for c in features if c not in unnamed]


def _warn_text_features(table: pd.DataFrame) -> None:
    """Warn of text columns that one-hot encoding turns into noise: numbers written as
    text (each value its own category, order lost) and names or ids (one per row)."""
    for column in table.columns:
        dtype = table[column].dtype
        if not (pd.api.types.is_object_dtype(dtype) or isinstance(dtype, pd.StringDtype)):
            continue
        values = table[column].dropna().astype(str).str.strip()
        if values.empty:
            continue
        is_number = values.str.fullmatch(NUMBER_AS_TEXT).to_numpy(bool)
        distinct = values.nunique()
        if is_number.sum() > len(values) / 2:
            example = repr(values[is_number].iloc[0])
            if not is_number.all():
                example += f"; not a number: {values[~is_number].iloc[0]!r}"
            warnings.warn(
                f"pool: text column '{column}' holds numbers written as text (e.g. {example}), "
                f"one-hot encoded as {distinct} unordered categories; "
                "convert it to numbers (for a CSV check its sep= and decimal=), or make it "
                "a pandas Categorical if the values are labels",
                stacklevel=3,
            )
        elif len(table) >= DISTINCT_MIN_ROWS and distinct >= DISTINCT_SHARE * len(table):
            warnings.warn(
                f"pool: text column '{column}' has {distinct} distinct values in "
                f"{len(table)} rows (names, SMILES, ids?): one-hot encoded they are "
                f"{distinct} features that tell a model nothing about unmeasured "
                f"candidates; leave it out (exclude=['{column}']) or make it the id_column",
                stacklevel=3,
            )


def _warn_duplicate_rows(encoded: pd.DataFrame, ids: list[str]) -> None:
    duplicated = encoded.duplicated(keep=False).to_numpy()
    if duplicated.any():
        examples = [ids[i] for i in np.flatnonzero(duplicated)[:6]]
        warnings.warn(
            f"pool: {int(duplicated.sum())} candidates share their feature values with "
            f"another candidate (e.g. ids {examples}); a surrogate cannot tell them apart",
            DuplicateCandidatesWarning,
            stacklevel=3,
        )


def _plain(value):
    """A numpy scalar as the Python value JSON understands."""
    return value.item() if isinstance(value, np.generic) else value
