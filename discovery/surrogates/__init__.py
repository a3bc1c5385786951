"""Surrogate models: fit(X, y) -> self; predict(X) -> Prediction(mean, std[, samples])."""

from discovery.surrogates.base import SURROGATE_NAMES, Surrogate, resolve_surrogate
from discovery.surrogates.forest import RandomForestSurrogate
from discovery.surrogates.gp import GaussianProcessSurrogate
from discovery.surrogates.neural import NeuralEnsembleSurrogate

__all__ = [
    "SURROGATE_NAMES",
    "GaussianProcessSurrogate",
    "NeuralEnsembleSurrogate",
    "RandomForestSurrogate",
    "Surrogate",
    "resolve_surrogate",
]
