"""The surrogate conformance suite: every surrogate, built-in or a user's, must pass it.

Use it for your own model::

    from tests.surrogates.conformance import check_surrogate
    check_surrogate(lambda: MyModel(seed=0))
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from discovery import NotFittedError, Prediction


def training_data(n: int = 30, d: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.random((n, d))
    y = np.sin(3 * X[:, 0]) + X[:, 1] ** 2 - 0.5 * X[:, 2]
    return X, y


def check_unfitted_predict_raises(make: Callable) -> None:
    with pytest.raises(NotFittedError, match="fit"):
        make().predict(np.zeros((2, 3)))


def check_fit_returns_self_and_sets_fitted_state(make: Callable) -> None:
    X, y = training_data()
    model = make()
    assert model.fit(X, y) is model
    assert model.n_features_in_ == 3


def check_prediction_shapes(make: Callable) -> None:
    X, y = training_data()
    prediction = make().fit(X, y).predict(np.random.default_rng(1).random((17, 3)))
    assert isinstance(prediction, Prediction)
    assert prediction.mean.shape == prediction.std.shape == (17,)
    assert np.all(np.isfinite(prediction.mean)) and np.all(prediction.std >= 0)


def check_samples_when_supported(make: Callable) -> None:
    model = make()
    if not model.supports_samples:
        return
    X, y = training_data()
    prediction = model.fit(X, y).predict(np.random.default_rng(1).random((9, 3)), n_samples=4)
    assert prediction.samples is not None and prediction.samples.shape[1] == 9
    assert np.any(np.isfinite(prediction.samples))


def check_same_seed_same_predictions(make: Callable) -> None:
    X, y = training_data()
    grid = np.random.default_rng(2).random((11, 3))
    first = make().fit(X, y).predict(grid)
    second = make().fit(X, y).predict(grid)
    np.testing.assert_allclose(first.mean, second.mean)
    np.testing.assert_allclose(first.std, second.std)


def check_learns_the_signal(make: Callable) -> None:
    X, y = training_data(n=60)
    test_X, test_y = training_data(n=40, seed=5)
    prediction = make().fit(X, y).predict(test_X)
    error = np.sqrt(np.mean((prediction.mean - test_y) ** 2))
    assert error < 0.5 * test_y.std()


def check_learns_values_in_small_units(make: Callable) -> None:
    """A diffusion coefficient in m^2/s or a rate in mol/s: values near 1e-9 are learned
    as well as the same values in units that make them near 1."""
    X, y = training_data(n=60)
    test_X, test_y = training_data(n=40, seed=5)
    prediction = make().fit(X, y * 1e-9).predict(test_X)
    error = np.sqrt(np.mean((prediction.mean - test_y * 1e-9) ** 2))
    assert error < 0.5 * test_y.std() * 1e-9
    assert np.median(prediction.std) < test_y.std() * 1e-9


def check_wrong_width_is_named(make: Callable) -> None:
    X, y = training_data()
    with pytest.raises(ValueError, match=r"expected X of shape \(m, 3\)"):
        make().fit(X, y).predict(np.zeros((2, 4)))


CHECKS = [
    check_unfitted_predict_raises,
    check_fit_returns_self_and_sets_fitted_state,
    check_prediction_shapes,
    check_samples_when_supported,
    check_same_seed_same_predictions,
    check_learns_the_signal,
    check_learns_values_in_small_units,
    check_wrong_width_is_named,
]


def check_surrogate(make: Callable) -> None:
    """Run every check on fresh models from ``make``."""
    for check in CHECKS:
        check(make)
