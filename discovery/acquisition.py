"""Acquisition functions: pure functions of a Prediction and the incumbent.

Every function returns one score per candidate where *higher is better*, in
both directions: for minimisation the functions score improvement downwards
(so UCB becomes the negated lower confidence bound). No model lives here, so
the same function serves a GP, a forest or a neural ensemble.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from scipy.optimize import brentq
from scipy.special import erfcx, log_ndtr

from discovery.checks import is_finite_number
from discovery.exceptions import ConfigurationError
from discovery.prediction import Prediction, floored_std

#: Standard deviations below this share of the largest one scored are treated as that
#: share, so z-scores stay finite (:func:`discovery.prediction.floored_std`).
STD_FLOOR = 1e-12
#: The same for max-value entropy search, whose bisection needs spread to work with.
MES_STD_FLOOR = 1e-9

_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)
_HALF_LOG_PI_OVER_2 = 0.5 * math.log(math.pi / 2)
_ASYMPTOTIC_Z = -1 / math.sqrt(np.finfo(np.float64).eps)


def _improvement_z(
    prediction: Prediction, incumbent: float, maximize: bool, xi: float
) -> tuple[np.ndarray, np.ndarray]:
    std = floored_std(prediction.std, STD_FLOOR)
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


#: A candidate whose mean + this many standard deviations lies below the lowest value the
#: best one can take changes P(best < z) by a factor above 1 - 1e-15: left out of the search.
_NEGLIGIBLE_Z = 8.0


def _log_probability_max_below(z: float, mean: np.ndarray, std: np.ndarray) -> float:
    """log P(every candidate's value < z) for independent Gaussian predictions."""
    return float(log_ndtr((z - mean) / std).sum())


def _max_value_quantile(
    level: float, mean: np.ndarray, std: np.ndarray, lower: float, upper: float
) -> float:
    """The ``level`` quantile of the best value, bounded below by ``lower``: Brent's method
    on log P(best < z) - log(level), which rises monotonically in z and is >= 0 at
    ``upper`` (every candidate's mean + ``_NEGLIGIBLE_Z`` std at most) unless rounding
    took those std off again."""
    target = math.log(level)
    if (
        mean.shape[0] == 0
        or not upper > lower  # no spread the floats can tell apart (std 0, or below an ulp)
        or _log_probability_max_below(lower, mean, std) >= target
    ):
        return lower
    if _log_probability_max_below(upper, mean, std) < target:
        # mean + 8 std rounded back onto a mean: the spread is below what the floats
        # hold at this magnitude, and the quantile lies within an ulp of ``upper``
        return upper
    return brentq(
        lambda z: _log_probability_max_below(z, mean, std) - target,
        lower,
        upper,
        xtol=max(1e-12 * (upper - lower), np.spacing(abs(upper))),
    )


def max_value_entropy(
    prediction: Prediction,
    incumbent: float,
    maximize: bool = True,
    *,
    n_max_values: int = 10,
    **_: Any,
) -> np.ndarray:
    """Max-value entropy search: how much measuring each candidate would tell about the
    best value there is (Wang & Jegelka, "Max-value entropy search for efficient Bayesian
    optimization", ICML 2017).

    The best value y* is given the paper's Gumbel approximation over the candidates
    scored together: P(y* < z) ~ prod_i Phi((z - mean_i) / std_i), no lower than the
    incumbent, fitted through its quartiles and read at ``n_max_values`` evenly spaced
    quantiles. A candidate scores the mean over those y* of
    gamma phi(gamma) / (2 Phi(gamma)) - log Phi(gamma), gamma = (y* - mean) / std.

    Scores are relative to the candidates scored in the same call, so score a whole
    pool at once (a campaign over a pool does).
    """
    mean = np.asarray(prediction.mean if maximize else -prediction.mean, dtype=np.float64)
    std = floored_std(prediction.std, MES_STD_FLOOR)
    if mean.shape[0] == 0:
        return mean.copy()
    max_values = max_value_draws(mean, std, incumbent if maximize else -incumbent, n_max_values)
    gamma = (max_values[:, None] - mean[None, :]) / std[None, :]
    log_cdf = log_ndtr(gamma)
    log_pdf = -0.5 * gamma**2 - _HALF_LOG_2PI
    return (gamma * np.exp(log_pdf - log_cdf) / 2 - log_cdf).mean(axis=0)


def max_value_draws(
    mean: np.ndarray, std: np.ndarray, incumbent: float, n_max_values: int
) -> np.ndarray:
    """(n_max_values,) values of the best value y* (larger is better), at evenly spaced
    quantiles of the Gumbel distribution fitted through the quartiles of
    P(y* < z) = prod_i Phi((z - mean_i) / std_i), none below the incumbent.

    Args:
        mean, std: (n,) predictions of the candidates, oriented so that larger is better.
        incumbent: the best measured value, in the same orientation (-inf if none).
        n_max_values: how many quantiles to read.
    """
    best = incumbent if np.isfinite(incumbent) else float((mean - 8 * std).min())
    spread = float(std.max()) if std.size else 0.0  # the units' own scale
    # only candidates that could plausibly exceed the incumbent take part (_NEGLIGIBLE_Z)
    reach = mean + _NEGLIGIBLE_Z * std
    contenders = reach >= best
    mean, std = mean[contenders], std[contenders]
    upper = float(reach[contenders].max()) if mean.shape[0] else best
    first, median, third = (
        _max_value_quantile(q, mean, std, best, upper) for q in (0.25, 0.5, 0.75)
    )
    scale = (third - first) / (math.log(math.log(4)) - math.log(math.log(4 / 3)))
    location = median + scale * math.log(math.log(2))
    levels = (np.arange(n_max_values) + 0.5) / n_max_values
    return np.maximum(
        location - scale * np.log(-np.log(levels)), best + 1e-9 * (abs(best) + spread)
    )


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


#: The rows Thompson sampling keeps while one proposal is searched for
#: (:func:`one_posterior_draw`), by the number of draws they were drawn among (a row of
#: 100 trees names no draw of a 16-member ensemble); None outside one: each call draws.
_KEPT_DRAW: ContextVar[dict[int, int] | None] = ContextVar("kept_draw", default=None)


@contextmanager
def one_posterior_draw() -> Iterator[None]:
    """Within it, Thompson sampling scores every call with the row of the samples it drew
    on the first: one tree of a forest, one member of an ensemble.

    A search that scores a space in chunks and then step by step must climb one sampled
    function; a fresh draw per call climbed the most optimistic tree at every point.
    """
    token = _KEPT_DRAW.set({})
    try:
        yield
    finally:
        _KEPT_DRAW.reset(token)


def thompson_sampling(
    prediction: Prediction,
    incumbent: float | None = None,
    maximize: bool = True,
    *,
    rng: np.random.Generator | None = None,
    **_: Any,
) -> np.ndarray:
    """One posterior draw of the objective; candidates the surrogate did not sample score -inf.

    Each call draws its row of the samples, except within :func:`one_posterior_draw`.

    Raises:
        ConfigurationError: the prediction carries no samples.
    """
    if prediction.samples is None:
        raise ConfigurationError(
            "acquisition 'thompson' needs a surrogate that draws samples (supports_samples)"
        )
    n_draws = prediction.samples.shape[0]
    kept = _KEPT_DRAW.get()
    if kept is not None and n_draws in kept:
        row = kept[n_draws]
    else:
        row = 0 if rng is None else int(rng.integers(n_draws))
        if kept is not None:
            kept[n_draws] = row
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

    @property
    def is_builtin(self) -> bool:
        """Whether this is the library's acquisition of its name, not a function of the
        user's own that happens to share the name (``def ucb(...)``): only the library's
        may be replaced by BoTorch's equivalent, or be known to explore."""
        return _REGISTRY.get(self.name, (None,))[0] is self.function

    def to_dict(self) -> dict:
        """The acquisition's configuration as plain JSON-able values."""
        return {"name": self.name, "params": dict(self.params)}


# name: (function, its parameters, declared needs)
_REGISTRY: dict[str, tuple[ScoreFunction, tuple[str, ...], dict]] = {
    "ei": (log_expected_improvement, ("xi",), {}),
    "pi": (log_probability_of_improvement, ("xi",), {}),
    "ucb": (upper_confidence_bound, ("beta",), {}),
    "mes": (max_value_entropy, ("n_max_values",), {}),
    "uncertainty": (maximum_uncertainty, (), {}),
    "greedy": (greedy, (), {}),
    "thompson": (thompson_sampling, (), {"needs_samples": True}),
    "random": (random_scores, (), {"needs_model": False}),
}
_ALIASES = {
    "lcb": "ucb",
    "logei": "ei",
    "max_value_entropy": "mes",
    "max_uncertainty": "uncertainty",
    "ts": "thompson",
}
ACQUISITION_NAMES = tuple(_REGISTRY)
#: Acquisitions whose scores are relative to the candidates scored together: they need a
#: finite pool scored at once, not a declared space searched by sampling.
POOL_ONLY = ("mes",)


def canonical_name(name: str) -> str:
    """The registry name ``name`` stands for ("logei" -> "ei"); other names unchanged."""
    return _ALIASES.get(name.lower(), name.lower())


def acquisition_parameters(name: str) -> tuple[str, ...]:
    """The keyword parameters a named acquisition takes (``("beta",)`` for "ucb");
    empty for a name the registry does not know."""
    entry = _REGISTRY.get(canonical_name(name))
    return entry[1] if entry else ()


def resolve_acquisition(spec: str | Acquisition | ScoreFunction, **params: Any) -> Acquisition:
    """An :class:`Acquisition` from a registry name, an Acquisition, or a callable.

    ``params`` are checked as the acquisition will be called with them; for an
    Acquisition they are laid over its own (``params`` win).

    Raises:
        ConfigurationError: unknown name, a parameter the named acquisition does
            not take, a callable that cannot be called as
            ``f(prediction, incumbent, maximize, *, rng, **params)``, or neither a name
            nor a callable.
    """
    if isinstance(spec, Acquisition):
        params = {**spec.params, **params}
        # a library function takes any keyword (**_): its own list says which it uses
        accepted = [taken for function, taken, _ in _REGISTRY.values() if function is spec.function]
        if accepted:
            _check_parameters(spec.name, accepted[0], params)
        else:
            _check_signature(spec.name, spec.function, params)
        return replace(spec, params=params)
    if isinstance(spec, str):
        name = canonical_name(spec)
        if name not in _REGISTRY:
            raise ConfigurationError(
                f"acquisition: unknown name '{spec}'; choose one of {list(ACQUISITION_NAMES)} "
                "or pass a callable"
            )
        function, accepted, needs = _REGISTRY[name]
        _check_parameters(name, accepted, params)
        return Acquisition(name=name, function=function, params=params, **needs)
    if callable(spec):
        name = getattr(spec, "__name__", type(spec).__name__)
        _check_signature(name, spec, params)
        return Acquisition(
            name=name,
            function=spec,
            params=params,
            needs_samples=bool(getattr(spec, "needs_samples", False)),
        )
    raise ConfigurationError(
        f"acquisition: expected a name or a callable, got {type(spec).__name__}"
    )


def _check_parameters(name: str, accepted: tuple[str, ...], params: dict[str, Any]) -> None:
    """A named acquisition's parameters: none it does not take, each in its range."""
    unknown = sorted(set(params) - set(accepted))
    if unknown:
        raise ConfigurationError(
            f"acquisition '{name}': unknown parameters {unknown}; it takes {list(accepted)}"
        )
    for key in ("beta", "xi"):
        value = params.get(key, 0.0)
        if not is_finite_number(value) or value < 0:
            raise ConfigurationError(
                f"acquisition '{name}': {key} must be a finite number >= 0, got {value!r}"
            )
    count = params.get("n_max_values", 1)
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ConfigurationError(
            f"acquisition '{name}': n_max_values must be an integer >= 1, got {count!r}"
        )


def _check_signature(name: str, function: ScoreFunction, params: dict[str, Any]) -> None:
    """A callable acquisition takes the arguments every score passes it (see
    :meth:`Acquisition.score`), so a wrong signature is named now, not after the
    initial design has been measured."""
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):
        return  # a built-in that does not describe itself: nothing to check against
    try:
        signature.bind(None, None, True, rng=None, **params)
    except TypeError as error:
        given = "".join(f", {key}=..." for key in params)
        called = name if name.isidentifier() else "f"  # a lambda
        raise ConfigurationError(
            f"acquisition '{name}': it is called as {called}(prediction, incumbent, maximize, "
            f"rng=...{given}), which {called}{signature} cannot take ({error}); define it as "
            f"def {called}(prediction, incumbent, maximize, *, rng=None, **params)"
        ) from None
