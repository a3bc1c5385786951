"""Acquisition functions: pure functions of a Prediction and the incumbent.

Every function returns one score per candidate where *higher is better*, in
both directions: for minimisation the functions score improvement downwards
(so UCB becomes the negated lower confidence bound). No model lives here, so
the same function serves a GP, a forest or a neural ensemble.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.special import erfcx, log_ndtr

from discovery.exceptions import ConfigurationError
from discovery.prediction import Prediction

#: Standard deviations below this are treated as this, so z-scores stay finite.
STD_FLOOR = 1e-12

_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)
_HALF_LOG_PI_OVER_2 = 0.5 * math.log(math.pi / 2)
_ASYMPTOTIC_Z = -1 / math.sqrt(np.finfo(np.float64).eps)


def _improvement_z(
    prediction: Prediction, incumbent: float, maximize: bool, xi: float
) -> tuple[np.ndarray, np.ndarray]:
    std = np.maximum(prediction.std, STD_FLOOR)
    gain = prediction.mean - incumbent if maximize else incumbent - prediction.mean
    return (gain - xi) / std, std


def _log1mexp(x: np.ndarray) -> np.ndarray:
    """log(1 - exp(x)) for x < 0, accurate at both ends."""
    return np.where(x > -math.log(2), np.log(-np.expm1(x)), np.log1p(-np.exp(x)))


def _log_h(z: np.ndarray) -> np.ndarray:
    """log(phi(z) + z * Phi(z)), the log of EI for a unit Gaussian, stable for z << 0.

    Follows Ament et al., "Unexpected improvements to expected improvement" (2023).
    """
    z = np.asarray(z, dtype=np.float64)
    out = np.empty_like(z)
    upper = z > -1
    zu = z[upper]
    out[upper] = np.log(np.exp(-0.5 * zu**2 - _HALF_LOG_2PI) + zu * np.exp(log_ndtr(zu)))
    middle = ~upper & (z > _ASYMPTOTIC_Z)
    zm = z[middle]
    out[middle] = (
        -0.5 * zm**2
        - _HALF_LOG_2PI
        + _log1mexp(np.log(erfcx(-zm / math.sqrt(2)) * np.abs(zm)) + _HALF_LOG_PI_OVER_2)
    )
    tail = ~upper & ~middle
    zt = z[tail]
    out[tail] = -0.5 * zt**2 - _HALF_LOG_2PI - 2 * np.log(np.abs(zt))
    return out


def log_expected_improvement(
    prediction: Prediction, incumbent: float, maximize: bool = True, *, xi: float = 0.0, **_: Any
) -> np.ndarray:
    """log E[max(improvement - xi, 0)]: expected improvement in its stable log form.

    Ranks exactly as expected improvement, but stays finite and informative
    far from the incumbent, where plain EI underflows to zero.
    """
    z, std = _improvement_z(prediction, incumbent, maximize, xi)
    return np.log(std) + _log_h(z)


def expected_improvement(
    prediction: Prediction, incumbent: float, maximize: bool = True, *, xi: float = 0.0, **_: Any
) -> np.ndarray:
    """E[max(improvement - xi, 0)] under a Gaussian predictive distribution."""
    return np.exp(log_expected_improvement(prediction, incumbent, maximize, xi=xi))


def log_probability_of_improvement(
    prediction: Prediction, incumbent: float, maximize: bool = True, *, xi: float = 0.0, **_: Any
) -> np.ndarray:
    """log P(improvement > xi), computed with the stable log of the normal CDF."""
    z, _std = _improvement_z(prediction, incumbent, maximize, xi)
    return log_ndtr(z)


def probability_of_improvement(
    prediction: Prediction, incumbent: float, maximize: bool = True, *, xi: float = 0.0, **_: Any
) -> np.ndarray:
    """P(improvement > xi) under a Gaussian predictive distribution."""
    return np.exp(log_probability_of_improvement(prediction, incumbent, maximize, xi=xi))


def upper_confidence_bound(
    prediction: Prediction,
    incumbent: float | None = None,
    maximize: bool = True,
    *,
    beta: float = 2.0,
    **_: Any,
) -> np.ndarray:
    """mean + beta * std when maximising; -(mean - beta * std) (negated LCB) when minimising."""
    if maximize:
        return prediction.mean + beta * prediction.std
    return -(prediction.mean - beta * prediction.std)


def maximum_uncertainty(
    prediction: Prediction, incumbent: float | None = None, maximize: bool = True, **_: Any
) -> np.ndarray:
    """The predictive std: pure exploration, the classic active-learning query."""
    return prediction.std.copy()


def greedy(
    prediction: Prediction, incumbent: float | None = None, maximize: bool = True, **_: Any
) -> np.ndarray:
    """The predicted mean itself (negated when minimising): pure exploitation."""
    return prediction.mean.copy() if maximize else -prediction.mean


def thompson_sampling(
    prediction: Prediction,
    incumbent: float | None = None,
    maximize: bool = True,
    *,
    rng: np.random.Generator | None = None,
    **_: Any,
) -> np.ndarray:
    """One posterior draw of the objective; candidates the surrogate did not sample score -inf.

    Raises:
        ConfigurationError: the prediction carries no samples.
    """
    if prediction.samples is None:
        raise ConfigurationError(
            "acquisition 'thompson' needs a surrogate that draws samples (supports_samples)"
        )
    row = 0 if rng is None else int(rng.integers(prediction.samples.shape[0]))
    draw = prediction.samples[row] if maximize else -prediction.samples[row]
    return np.where(np.isnan(draw), -np.inf, draw)


def random_scores(
    prediction: Prediction,
    incumbent: float | None = None,
    maximize: bool = True,
    *,
    rng: np.random.Generator | None = None,
    **_: Any,
) -> np.ndarray:
    """Uniform random scores: the random-search baseline."""
    rng = rng if rng is not None else np.random.default_rng()
    return rng.random(len(prediction))


ScoreFunction = Callable[..., np.ndarray]


@dataclass(frozen=True)
class Acquisition:
    """An acquisition function with its parameters and declared needs.

    Attributes:
        name: the registry name, or the callable's name.
        function: ``f(prediction, incumbent, maximize, *, rng, **params) -> (n,) scores``.
        params: keyword parameters passed on every call (``beta``, ``xi``).
        needs_samples: the surrogate must draw posterior samples.
        needs_model: scores depend on the prediction (False only for random search,
            which then skips fitting a surrogate).
    """

    name: str
    function: ScoreFunction
    params: dict = field(default_factory=dict)
    needs_samples: bool = False
    needs_model: bool = True

    def score(
        self,
        prediction: Prediction,
        incumbent: float,
        maximize: bool,
        rng: np.random.Generator | None = None,
    ) -> np.ndarray:
        """(n,) float64 scores, higher is better, for the candidates of ``prediction``."""
        scores = np.asarray(
            self.function(prediction, incumbent, maximize, rng=rng, **self.params),
            dtype=np.float64,
        ).reshape(-1)
        if scores.shape[0] != len(prediction):
            raise ConfigurationError(
                f"acquisition '{self.name}' returned {scores.shape[0]} scores "
                f"for {len(prediction)} candidates"
            )
        return scores

    def to_dict(self) -> dict:
        """The acquisition's configuration as plain JSON-able values."""
        return {"name": self.name, "params": dict(self.params)}


# name: (function, its parameters, declared needs)
_REGISTRY: dict[str, tuple[ScoreFunction, tuple[str, ...], dict]] = {
    "ei": (log_expected_improvement, ("xi",), {}),
    "pi": (log_probability_of_improvement, ("xi",), {}),
    "ucb": (upper_confidence_bound, ("beta",), {}),
    "uncertainty": (maximum_uncertainty, (), {}),
    "greedy": (greedy, (), {}),
    "thompson": (thompson_sampling, (), {"needs_samples": True}),
    "random": (random_scores, (), {"needs_model": False}),
}
_ALIASES = {"lcb": "ucb", "logei": "ei", "max_uncertainty": "uncertainty", "ts": "thompson"}
ACQUISITION_NAMES = tuple(_REGISTRY)


def acquisition_parameters(name: str) -> tuple[str, ...]:
    """The keyword parameters a named acquisition takes (``("beta",)`` for "ucb");
    empty for a name the registry does not know."""
    entry = _REGISTRY.get(_ALIASES.get(name.lower(), name.lower()))
    return entry[1] if entry else ()


def resolve_acquisition(spec: str | Acquisition | ScoreFunction, **params: Any) -> Acquisition:
    """An :class:`Acquisition` from a registry name, an Acquisition, or a callable.

    Raises:
        ConfigurationError: unknown name, a parameter the named acquisition does
            not take, or neither a name nor a callable.
    """
    if isinstance(spec, Acquisition):
        return spec
    if isinstance(spec, str):
        name = _ALIASES.get(spec.lower(), spec.lower())
        if name not in _REGISTRY:
            raise ConfigurationError(
                f"acquisition: unknown name '{spec}'; choose one of {list(ACQUISITION_NAMES)} "
                "or pass a callable"
            )
        function, accepted, needs = _REGISTRY[name]
        unknown = sorted(set(params) - set(accepted))
        if unknown:
            raise ConfigurationError(
                f"acquisition '{name}': unknown parameters {unknown}; it takes {list(accepted)}"
            )
        return Acquisition(name=name, function=function, params=params, **needs)
    if callable(spec):
        return Acquisition(
            name=getattr(spec, "__name__", type(spec).__name__),
            function=spec,
            params=params,
            needs_samples=bool(getattr(spec, "needs_samples", False)),
        )
    raise ConfigurationError(
        f"acquisition: expected a name or a callable, got {type(spec).__name__}"
    )
