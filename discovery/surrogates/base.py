"""The Surrogate protocol and the input checks every surrogate shares."""

from __future__ import annotations

import inspect
from typing import Any, Protocol, runtime_checkable

import numpy as np

from discovery.exceptions import ConfigurationError, NotFittedError
from discovery.prediction import Prediction


@runtime_checkable
class Surrogate(Protocol):
    """A regression model with uncertainty, following the scikit-learn contract.

    The constructor stores configuration only; ``fit`` learns and returns self;
    ``predict`` on an unfitted model raises :class:`NotFittedError`.
    ``supports_samples`` declares whether ``predict(X, n_samples=s)`` draws
    posterior samples (needed by Thompson sampling). A surrogate that draws none
    may define ``predict(X)`` alone: it is called so whenever no samples are wanted.
    """

    supports_samples: bool

    def fit(self, X: np.ndarray, y: np.ndarray) -> Surrogate: ...

    def predict(self, X: np.ndarray, n_samples: int = 0) -> Prediction: ...


def check_training_data(X: Any, y: Any, name: str) -> tuple[np.ndarray, np.ndarray]:
    """(n, d) and (n,) float64 arrays from training data, or a clear error."""
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    if X.ndim != 2:
        raise ConfigurationError(f"{name}: X must be 2-D (n, d), got shape {X.shape}")
    if X.shape[0] != y.shape[0]:
        raise ConfigurationError(f"{name}: X has {X.shape[0]} rows but y has {y.shape[0]}")
    if X.shape[0] == 0:
        raise ConfigurationError(f"{name}: cannot fit on zero measurements")
    if not (np.all(np.isfinite(X)) and np.all(np.isfinite(y))):
        raise ConfigurationError(f"{name}: training data contain NaN or infinite values")
    return X, y


def check_prediction_input(X: Any, n_features: int, name: str) -> np.ndarray:
    """(m, d) float64 candidates matching the training width, or a clear error."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] != n_features:
        raise ConfigurationError(f"{name}: expected X of shape (m, {n_features}), got {X.shape}")
    if not np.all(np.isfinite(X)):
        rows = np.flatnonzero(~np.isfinite(X).all(axis=1))
        raise ConfigurationError(
            f"{name}: candidates contain NaN or infinite values (rows {rows[:5].tolist()}"
            f"{', ...' if rows.size > 5 else ''}); fill or drop them before predicting"
        )
    return X


def check_pool_input(X: Any, n_features: int, name: str) -> np.ndarray:
    """A pool's (N, d) features as they are when already float32 or float64 (no copy of
    a large pool, and the same array object from call to call); others as float64."""
    if isinstance(X, np.ndarray) and X.dtype in (np.float32, np.float64):
        if X.ndim != 2 or X.shape[1] != n_features:
            raise ConfigurationError(
                f"{name}: expected X of shape (m, {n_features}), got {X.shape}"
            )
        return X
    return check_prediction_input(X, n_features, name)


def require_fitted(model: Any, attribute: str) -> None:
    """Raise NotFittedError unless ``model`` has the fitted ``attribute``."""
    if getattr(model, attribute, None) is None:
        raise NotFittedError(
            f"{type(model).__name__} is not fitted yet: call fit(X, y) before predict(X)"
        )


def predict_rows(
    surrogate: Surrogate, features: np.ndarray, rows: np.ndarray, n_samples: int = 0
) -> Prediction:
    """The surrogate's prediction for ``features[rows]``.

    A surrogate with a ``predict_rows`` method (the GP) keeps a posterior over
    the whole of ``features`` between calls and answers from it; any other is
    asked to ``predict`` the selected rows.
    """
    method = getattr(surrogate, "predict_rows", None)
    if callable(method):
        return method(features, rows, n_samples=n_samples)
    return predict_with_samples(surrogate, features[rows], n_samples)


def predict_with_samples(surrogate: Surrogate, X: np.ndarray, n_samples: int = 0) -> Prediction:
    """``surrogate.predict(X, n_samples=n_samples)``, or ``predict(X)`` when no samples
    are wanted, so that a surrogate of ``predict(X)`` alone (as the README writes one)
    serves every acquisition but Thompson sampling."""
    if n_samples:
        return surrogate.predict(X, n_samples=n_samples)
    return surrogate.predict(X)


def draws_samples(surrogate: Any) -> bool:
    """Whether ``surrogate.predict`` can be asked for posterior samples: it takes
    ``n_samples`` and does not declare ``supports_samples = False``."""
    if getattr(surrogate, "supports_samples", True) is False:
        return False
    try:
        signature = inspect.signature(surrogate.predict)
    except (TypeError, ValueError):  # a callable that does not describe itself
        return True
    try:
        signature.bind(np.zeros((1, 1)), n_samples=1)
    except TypeError:
        return False
    return True
