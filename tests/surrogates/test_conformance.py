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
