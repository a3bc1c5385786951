"""Surrogate models: fit(X, y) -> self; predict(X) -> Prediction(mean, std[, samples]),
and the registry that builds them by name."""

from __future__ import annotations

import inspect
import json
from typing import Any

from discovery.checks import plain_number
from discovery.config import NOT_STORED
from discovery.exceptions import ConfigurationError
from discovery.surrogates.base import (
    Surrogate,
    draws_samples,
    predict_rows,
    predict_with_samples,
)
from discovery.surrogates.forest import RandomForestSurrogate
from discovery.surrogates.gp import GaussianProcessSurrogate
from discovery.surrogates.neural import NeuralEnsembleSurrogate

SURROGATE_NAMES = ("gp", "forest", "extra_trees", "neural")
#: The methods a surrogate of the user's own has, as errors name them.
SURROGATE_METHODS = (
    "fit(X, y) -> self and predict(X) -> Prediction(mean, std) (for Thompson sampling, "
    "predict(X, n_samples=0) giving samples when n_samples > 0)"
)


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
            f"or pass an object with {SURROGATE_METHODS}"
        )
    if not (callable(getattr(spec, "fit", None)) and callable(getattr(spec, "predict", None))):
        raise ConfigurationError(
            f"surrogate: {type(spec).__name__} lacks fit or predict; a surrogate has "
            f"{SURROGATE_METHODS}"
        )
    return spec


#: Settings a campaign passes to every surrogate it names, not the user's choice.
CAMPAIGN_SETTINGS = ("seed", "device")


def _settings(surrogate: Any) -> dict[str, Any]:
    """A surrogate's constructor arguments, read back from the attributes it keeps
    them in (the scikit-learn contract), as JSON would give them back."""
    names = inspect.signature(type(surrogate).__init__).parameters
    values = {n: getattr(surrogate, n) for n in names if n != "self" and n not in CAMPAIGN_SETTINGS}
    return json.loads(json.dumps(values, default=plain_number))


def surrogate_options(surrogate: Any, name: str) -> dict[str, Any] | None:
    """What a resumed campaign needs beside the surrogate's ``name`` to build it again:
    None where the name builds it as it is, the settings that differ where the name
    builds its class, ``{NOT_STORED: description}`` where settings cannot (a class of
    the user's own, or a setting JSON cannot hold)."""
    try:
        built = resolve_surrogate(name)
    except ConfigurationError:
        built = None
    if built is None or type(built) is not type(surrogate):
        return None if built is None else {NOT_STORED: type(surrogate).__name__}
    try:
        mine, default = _settings(surrogate), _settings(built)
    except (TypeError, ValueError, AttributeError):
        return {NOT_STORED: repr(surrogate)}
    changed = {k: v for k, v in mine.items() if default.get(k) != v}
    return changed or None


def rebuild_surrogate(
    name: str, options: dict[str, Any], seed: int = 0, device: str = "auto"
) -> Surrogate:
    """The surrogate ``name`` builds, with the stored ``options`` of
    :func:`surrogate_options`.

    Raises:
        ConfigurationError: the options name a surrogate that settings cannot rebuild.
    """
    if NOT_STORED in options:
        raise ConfigurationError(
            f"the campaign's surrogate ({options[NOT_STORED]}) cannot be rebuilt from its name "
            f"'{name}'; pass it again: Campaign.resume(store, surrogate=...)"
        )
    built = resolve_surrogate(name, seed=seed, device=device)
    settings = {**_settings(built), **options}
    settings = {k: tuple(v) if isinstance(v, list) else v for k, v in settings.items()}
    accepted = inspect.signature(type(built).__init__).parameters
    campaign = {k: getattr(built, k) for k in CAMPAIGN_SETTINGS if k in accepted}
    return type(built)(**settings, **campaign)


__all__ = [
    "SURROGATE_NAMES",
    "GaussianProcessSurrogate",
    "NeuralEnsembleSurrogate",
    "RandomForestSurrogate",
    "Surrogate",
    "draws_samples",
    "predict_rows",
    "predict_with_samples",
    "rebuild_surrogate",
    "resolve_surrogate",
    "surrogate_options",
]
