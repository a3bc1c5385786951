"""Surrogate models: fit(X, y) -> self; predict(X) -> Prediction(mean, std[, samples]),
and the registry that builds them by name."""

from __future__ import annotations

from discovery.exceptions import ConfigurationError
from discovery.surrogates.base import Surrogate, predict_rows
from discovery.surrogates.forest import RandomForestSurrogate
from discovery.surrogates.gp import GaussianProcessSurrogate
from discovery.surrogates.neural import NeuralEnsembleSurrogate

SURROGATE_NAMES = ("gp", "forest", "extra_trees", "neural")


def resolve_surrogate(spec: str | Surrogate, seed: int = 0, device: str = "auto") -> Surrogate:
    """A surrogate from a name ("gp", "forest", "extra_trees", "neural") or an object.

    Raises:
        ConfigurationError: unknown name, or an object without fit/predict.
    """
    if isinstance(spec, str):
        name = spec.lower()
        if name == "gp":
            return GaussianProcessSurrogate(seed=seed, device=device)
        if name in ("forest", "rf"):
            return RandomForestSurrogate(seed=seed)
        if name == "extra_trees":
            return RandomForestSurrogate(seed=seed, extra_trees=True)
        if name == "neural":
            return NeuralEnsembleSurrogate(seed=seed, device=device)
        raise ConfigurationError(
            f"surrogate: unknown name '{spec}'; choose one of {list(SURROGATE_NAMES)} "
            "or pass an object with fit(X, y) and predict(X)"
        )
    if not (callable(getattr(spec, "fit", None)) and callable(getattr(spec, "predict", None))):
        raise ConfigurationError(
            f"surrogate: {type(spec).__name__} has no fit(X, y) and predict(X) methods"
        )
    return spec


__all__ = [
    "SURROGATE_NAMES",
    "GaussianProcessSurrogate",
    "NeuralEnsembleSurrogate",
    "RandomForestSurrogate",
    "Surrogate",
    "predict_rows",
    "resolve_surrogate",
]
