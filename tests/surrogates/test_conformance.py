import numpy as np
import pytest

from discovery.surrogates import (
    GaussianProcessSurrogate,
    NeuralEnsembleSurrogate,
    RandomForestSurrogate,
)
from tests.surrogates.conformance import CHECKS

SURROGATES = {
    "gp": lambda: GaussianProcessSurrogate(seed=0, device="cpu"),
    "gp_hyperparameter_draws": lambda: GaussianProcessSurrogate(
        seed=0, device="cpu", hyperparameter_draws=8
    ),
    "forest": lambda: RandomForestSurrogate(seed=0),
    "extra_trees": lambda: RandomForestSurrogate(seed=0, extra_trees=True),
    "neural": lambda: NeuralEnsembleSurrogate(seed=0, device="cpu"),
    "neural_gaussian_heads": lambda: NeuralEnsembleSurrogate(
        seed=0, device="cpu", gaussian_heads=True
    ),
}


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("name", SURROGATES)
def test_surrogate_conformance(name, check):
    check(SURROGATES[name])


@pytest.mark.parametrize("name", SURROGATES)
def test_candidates_with_nan_or_inf_are_named_not_predicted_as_nan(name):
    """The GP and the neural ensemble predicted NaN means and NaN std for them; the forest
    raised scikit-learn's error about float32."""
    from discovery import ConfigurationError

    X = np.random.default_rng(0).random((12, 2))
    model = SURROGATES[name]().fit(X, X.sum(axis=1))
    with pytest.raises(ConfigurationError, match=r"NaN or infinite values \(rows \[0, 2\]\)"):
        model.predict(np.array([[np.nan, 0.5], [0.5, 0.5], [0.2, np.inf]]))
