"""Is the surrogate any good, and do its error bars mean anything? Check before spending.

Cross-validation (k-fold, group k-fold so replicates of one design never
straddle folds, cluster k-fold to test extrapolation into unseen regions),
accuracy metrics next to trivial baselines measured in the same folds,
uncertainty calibration, learning curves, a leakage check and
hyper-parameter search through scikit-learn's search tools.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm, pearsonr, spearmanr
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.cluster import KMeans
from sklearn.dummy import DummyRegressor
from sklearn.linear_model import RidgeCV
from sklearn.model_selection import GroupKFold, KFold, RandomizedSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from discovery.checks import MAX_SEED, is_whole_number
from discovery.exceptions import ConfigurationError
from discovery.prediction import Prediction, floored_std
from discovery.surrogates import Surrogate, resolve_surrogate

CV_SCHEMES = ("kfold", "group", "cluster")
#: Central interval probabilities at which calibration is summarised.
COVERAGE_LEVELS = (0.68, 0.95)
#: Probabilities over which the miscalibration area is integrated.
_CALIBRATION_GRID = np.linspace(0.01, 0.99, 99)
#: Standard deviations below this share of the largest are floored when scoring
#: likelihoods (:func:`discovery.prediction.floored_std`).
STD_FLOOR = 1e-9


def regression_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """MAE, RMSE, R², Pearson and Spearman correlation of predictions with the truth."""
    y_true, y_pred = np.asarray(y_true, float), np.asarray(y_pred, float)
    error = y_pred - y_true
    total = np.sum((y_true - y_true.mean()) ** 2)
    is_constant = np.ptp(y_pred) == 0 or np.ptp(y_true) == 0
    return {
        "mae": float(np.mean(np.abs(error))),
        "rmse": float(np.sqrt(np.mean(error**2))),
        "r2": float(1 - np.sum(error**2) / total) if total > 0 else float("nan"),
        "pearson": float("nan") if is_constant else float(pearsonr(y_true, y_pred)[0]),
        "spearman": float("nan") if is_constant else float(spearmanr(y_true, y_pred)[0]),
    }


def coverage_curve(
    y_true: np.ndarray, mean: np.ndarray, std: np.ndarray, levels: np.ndarray
) -> np.ndarray:
    """Observed coverage of the central Gaussian intervals mean ± z·std for each
    expected coverage in ``levels`` (perfect calibration: equal to ``levels``)."""
    z = np.abs(np.asarray(y_true, float) - mean) / floored_std(std, STD_FLOOR)
    return np.array([np.mean(z <= norm.ppf(0.5 + p / 2)) for p in levels])


def calibration_metrics(y_true: np.ndarray, mean: np.ndarray, std: np.ndarray) -> dict[str, float]:
    """How well Gaussian error bars (mean ± z·std) describe the actual errors.

    Returns the observed coverage of the central 68 % and 95 % intervals, the
    miscalibration area (mean |observed - expected| coverage over all central
    intervals; 0 is perfect), the mean Gaussian negative log-likelihood, and the
    Spearman correlation of |error| with std (do larger error bars go with
    larger errors?).
    """
    y_true, mean = np.asarray(y_true, float), np.asarray(mean, float)
    std = floored_std(std, STD_FLOOR)
    coverage = coverage_curve(y_true, mean, std, np.array(COVERAGE_LEVELS))
    result = {
        f"coverage_{round(p * 100)}": float(c)
        for p, c in zip(COVERAGE_LEVELS, coverage, strict=True)
    }
    observed = coverage_curve(y_true, mean, std, _CALIBRATION_GRID)
    result["miscalibration_area"] = float(np.mean(np.abs(observed - _CALIBRATION_GRID)))
    result["nll"] = float(np.mean(-norm.logpdf(y_true, mean, std)))
    errors = np.abs(y_true - mean)
    varies = np.ptp(std) > 0 and np.ptp(errors) > 0
    result["error_std_spearman"] = float(spearmanr(errors, std)[0]) if varies else float("nan")
    return result


def design_groups(X: np.ndarray) -> np.ndarray:
    """One group per distinct feature row: replicates of a design share a group."""
    _, groups = np.unique(np.asarray(X), axis=0, return_inverse=True)
    return groups.reshape(-1)


def make_folds(
    X: np.ndarray,
    cv: str = "kfold",
    folds: int = 5,
    groups: np.ndarray | None = None,
    seed: int = 0,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """(train, test) index pairs for a cross-validation scheme.

    Args:
        cv: "kfold" (shuffled rows), "group" (``groups``, or identical feature rows
            when none are given, never straddle folds) or "cluster" (k-means
            clusters of the features are the groups: every test fold is a region
            the model has not seen).

    Raises:
        ConfigurationError: unknown scheme, or fewer rows or groups than folds.
    """
    n = len(X)
    if cv not in CV_SCHEMES:
        raise ConfigurationError(f"cv: unknown scheme '{cv}'; choose one of {list(CV_SCHEMES)}")
    if folds < 2:
        raise ConfigurationError(f"folds: need at least 2, got {folds}")
    if not (is_whole_number(seed) and 0 <= seed <= MAX_SEED):
        raise ConfigurationError(f"seed: must be a whole number in [0, 2**32 - 1], got {seed!r}")
    if n < folds:
        raise ConfigurationError(f"folds: {folds} folds need at least {folds} rows, got {n}")
    if cv == "kfold":
        splitter = KFold(n_splits=folds, shuffle=True, random_state=seed)
        return list(splitter.split(X))
    if cv == "cluster":
        groups = KMeans(n_clusters=folds, n_init=10, random_state=seed).fit_predict(X)
    elif groups is None:
        groups = design_groups(X)
    n_groups = len(np.unique(groups))
    if n_groups < folds:
        raise ConfigurationError(
            f"folds: {folds} folds need at least {folds} groups, got {n_groups}"
        )
    return list(GroupKFold(n_splits=folds).split(X, groups=groups))


def leaked_rows(X: np.ndarray, folds: list[tuple[np.ndarray, np.ndarray]]) -> int:
    """Test rows whose exact features also appear in their training fold."""
    count = 0
    for train, test in folds:
        seen = {row.tobytes() for row in np.ascontiguousarray(X[train])}
        count += sum(row.tobytes() in seen for row in np.ascontiguousarray(X[test]))
    return int(count)


def data_warnings(X: np.ndarray, y: np.ndarray, feature_names: list[str]) -> list[str]:
    """Problems that make a cross-validation misleading, in words."""
    found = []
    if np.ptp(y) == 0:
        found.append("the target is constant: every model scores like the mean baseline")
    constant = [
        name for name, column in zip(feature_names, X.T, strict=True) if np.ptp(column) == 0
    ]
    if constant:
        found.append(f"features with no variance (they carry no information): {constant}")
    return found


def copy_surrogate(surrogate: Any) -> Any:
    """An unfitted copy: scikit-learn's clone where it applies, a deep copy otherwise."""
    return clone(surrogate) if isinstance(surrogate, BaseEstimator) else copy.deepcopy(surrogate)


@dataclass
class Diagnosis:
    """Cross-validated scores of surrogates and baselines on one dataset.

    Attributes:
        table: one row per model: fit seconds, accuracy and (for models with
            uncertainty) calibration metrics.
        predictions: out-of-fold (y, mean, predictive std) per model.
        leaked: test rows whose features also appear in their training fold.
        warnings: problems with the data or the scheme, in words.
    """

    table: pd.DataFrame
    predictions: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray | None]]
    leaked: int
    warnings: list[str] = field(default_factory=list)


def _baselines() -> dict[str, Any]:
    return {
        "mean (baseline)": DummyRegressor(strategy="mean"),
        "ridge (baseline)": make_pipeline(StandardScaler(), RidgeCV(alphas=np.logspace(-3, 3, 13))),
    }


def cross_validate(
    X: np.ndarray,
    y: np.ndarray,
    surrogates: Mapping[str, Surrogate | str],
    cv: str = "kfold",
    folds: int = 5,
    groups: np.ndarray | None = None,
    seed: int = 0,
    feature_names: list[str] | None = None,
    progress: Callable[[str], None] | None = None,
) -> Diagnosis:
    """Out-of-fold predictions and scores of every surrogate and of two baselines.

    Args:
        X: (n, d) float64 features.
        y: (n,) float64 targets.
        surrogates: models by display name (objects, or registry names such as "gp").
        cv, folds, groups, seed: the scheme, as in :func:`make_folds`.
        feature_names: for the warnings.
        progress: called with each model's name before it is evaluated.
    """
    X, y = np.asarray(X, float), np.asarray(y, float)
    split = make_folds(X, cv, folds, groups, seed)
    leaked = leaked_rows(X, split)
    warnings = data_warnings(X, y, feature_names or [f"x{i}" for i in range(X.shape[1])])
    if leaked:
        warnings.append(
            f"leakage: {leaked} test rows have identical features in their training fold "
            + (
                "(replicates?); use --cv group so the same design never straddles folds"
                if cv != "group" or groups is None
                else "(replicates in different groups?); give replicates one group, or leave "
                "the groups out so that identical designs form one"
            )
        )
    models: dict[str, Any] = {
        name: resolve_surrogate(model, seed=seed) for name, model in surrogates.items()
    }
    models.update(_baselines())
    rows, predictions = [], {}
    for name, model in models.items():
        if progress is not None:
            progress(name)
        mean, std, seconds = np.empty_like(y), np.full_like(y, np.nan), 0.0
        for train, test in split:
            fitted = copy_surrogate(model)
            started = time.perf_counter()
            fitted.fit(X[train], y[train])
            seconds += time.perf_counter() - started
            prediction = fitted.predict(X[test])
            if isinstance(prediction, Prediction):
                mean[test], std[test] = prediction.mean, prediction.predictive_std
            else:
                mean[test] = prediction
        has_std = bool(np.all(np.isfinite(std)))
        row = {"model": name, "fit_seconds": seconds, **regression_metrics(y, mean)}
        if has_std:
            row.update(calibration_metrics(y, mean, std))
        rows.append(row)
        predictions[name] = (y, mean, std if has_std else None)
    return Diagnosis(pd.DataFrame(rows).set_index("model"), predictions, leaked, warnings)


def surrogate_cv_score(
    surrogate: Any, X: np.ndarray, y: np.ndarray, folds: int = 5, seed: int = 0
) -> dict[str, float] | None:
    """A quick k-fold check of a surrogate on a campaign's data: MAE, RMSE, R² and
    95 % coverage of its out-of-fold predictions; None below 4 measurements.
    """
    X, y = np.asarray(X, float), np.asarray(y, float)
    if len(y) < 4:
        return None
    mean, std = np.empty_like(y), np.empty_like(y)
    for train, test in make_folds(X, "kfold", min(folds, len(y)), seed=seed):
        prediction = copy_surrogate(surrogate).fit(X[train], y[train]).predict(X[test])
        mean[test], std[test] = prediction.mean, prediction.predictive_std
    metrics = regression_metrics(y, mean)
    return {
        "folds": min(folds, len(y)),
        "mae": metrics["mae"],
        "rmse": metrics["rmse"],
        "r2": metrics["r2"],
        "coverage_95": calibration_metrics(y, mean, std)["coverage_95"],
    }


def learning_curve(
    X: np.ndarray,
    y: np.ndarray,
    surrogate: Surrogate | str,
    sizes: tuple[float, ...] = (0.1, 0.25, 0.5, 0.75, 1.0),
    cv: str = "kfold",
    folds: int = 5,
    groups: np.ndarray | None = None,
    seed: int = 0,
) -> pd.DataFrame:
    """Cross-validated MAE and RMSE against the number of training rows.

    Each fold's training set is subsampled to each fraction of ``sizes``; the
    test fold stays whole, so the scores are comparable across sizes.
    """
    X, y = np.asarray(X, float), np.asarray(y, float)
    model = resolve_surrogate(surrogate, seed=seed)
    rng = np.random.default_rng(seed)
    split = make_folds(X, cv, folds, groups, seed)
    smallest = min(len(train) for train, _ in split)
    if smallest < 2:
        raise ConfigurationError(
            f"learning curve: a training fold of {cv} CV with {folds} folds holds "
            f"{smallest} row; a model needs at least 2 (use fewer folds or more rows)"
        )
    rows = []
    for fraction in sizes:
        errors, n_train = [], []
        for train, test in split:
            count = max(2, round(fraction * len(train)))
            subset = rng.choice(train, size=count, replace=False)
            fitted = copy_surrogate(model).fit(X[subset], y[subset])
            errors.append(fitted.predict(X[test]).mean - y[test])
            n_train.append(count)
        error = np.concatenate(errors)
        rows.append(
            {
                "training_rows": int(np.mean(n_train)),
                "mae": float(np.mean(np.abs(error))),
                "rmse": float(np.sqrt(np.mean(error**2))),
            }
        )
    return pd.DataFrame(rows)


class MeanRegressor(BaseEstimator, RegressorMixin):
    """A surrogate seen as a plain scikit-learn regressor (its predicted mean), so
    scikit-learn's model-selection tools can search its hyper-parameters.

    Args:
        surrogate: the surrogate; its parameters are searched as ``surrogate__<name>``.
    """

    def __init__(self, surrogate: Any = None) -> None:
        self.surrogate = surrogate

    def fit(self, X: np.ndarray, y: np.ndarray) -> MeanRegressor:
        self.surrogate_ = copy_surrogate(self.surrogate).fit(X, y)
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.surrogate_.predict(X).mean


def search_hyperparameters(
    X: np.ndarray,
    y: np.ndarray,
    surrogate: Surrogate | str,
    distributions: Mapping[str, Any],
    n_iter: int = 10,
    cv: str = "kfold",
    folds: int = 5,
    groups: np.ndarray | None = None,
    seed: int = 0,
) -> RandomizedSearchCV:
    """Randomised search of a surrogate's parameters by cross-validated MAE.

    Args:
        distributions: parameter name (as the surrogate's constructor names it) to
            a list of values or a scipy distribution.

    Returns:
        The fitted ``RandomizedSearchCV``: ``best_params_`` are the surrogate's
        names with a ``surrogate__`` prefix, ``cv_results_`` every candidate.
    """
    model = resolve_surrogate(surrogate, seed=seed)
    search = RandomizedSearchCV(
        MeanRegressor(model),
        {f"surrogate__{name}": values for name, values in distributions.items()},
        n_iter=n_iter,
        scoring="neg_mean_absolute_error",
        cv=make_folds(np.asarray(X, float), cv, folds, groups, seed),
        random_state=seed,
    )
    return search.fit(np.asarray(X, float), np.asarray(y, float))
