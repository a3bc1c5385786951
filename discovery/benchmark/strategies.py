"""What a benchmark compares: strategy specs, written as a campaign takes them.

A spec is a name, optionally followed by options, each ``:key=value``:

- ``auto``: a :class:`~discovery.campaign.Campaign` with no strategy given, i.e. the
  library's default;
- a portfolio arm (``gp-ei``, ``gp-ucb``, ``forest-ei``, ``neural-ei``, ``exploration``,
  ...), i.e. that surrogate and acquisition;
- ``portfolio``: GP-Hedge over the default arms, or others
  (``portfolio:arms=gp-ei+gp-ucb+random:algorithm=exp3``); GP options given to a
  portfolio go to the one GP its arms share, acquisition parameters to every arm whose
  acquisition takes them (``portfolio:arms=gp-ucb+gp-ei:lengthscale_prior=gamma:beta=1``);
- ``random``: uniform picks among the unmeasured designs;
- ``botorch`` and ``baybe``: the reference strategies of :mod:`~discovery.benchmark.references`.

Options (``gp-ei:output_warping=copula:lengthscale_prior=gamma``) are campaign arguments (``forest-ei:selector=kmeans``, ``auto:surrogate=forest``),
the surrogate's own (``gp-ei:output_warping=copula``), or acquisition parameters
(``gp-ucb:beta=2``); values are read as JSON when they parse (numbers, true/false), as
text otherwise.
"""

from __future__ import annotations

import inspect
import json
import warnings
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from discovery.acquisition import acquisition_parameters
from discovery.benchmark.datasets import Dataset
from discovery.benchmark.external import StrategyError, replay_proposer
from discovery.benchmark.references import REFERENCES
from discovery.campaign import Campaign
from discovery.exceptions import ConfigurationError
from discovery.oracles import LookupOracle
from discovery.outcome_models import PARETO_STRATEGIES
from discovery.policy import ARMS, Arm, Portfolio
from discovery.surrogates import (
    GaussianProcessSurrogate,
    NeuralEnsembleSurrogate,
    RandomForestSurrogate,
)

CAMPAIGN_ARGUMENTS = set(inspect.signature(Campaign.__init__).parameters) - {
    "self", "pool", "oracle", "objective", "maximize", "budget", "n_initial", "batch_size",
    "seed", "initial_design", "store", "name",
}  # fmt: skip
NAMED = ("auto", "portfolio", "random", *REFERENCES)
SURROGATES = {
    "gp": GaussianProcessSurrogate,
    "forest": RandomForestSurrogate,
    "neural": NeuralEnsembleSurrogate,
}


@dataclass(frozen=True)
class GivenDesign:
    """An initial design fixed in advance: the protocol's draw for this run."""

    indices: tuple[int, ...]
    name: str = "given"

    def pick(self, scores, k, excluded, features, rng):
        return np.asarray(self.indices[:k], dtype=int)


@dataclass(frozen=True)
class Strategy:
    """A parsed strategy spec: its text, and the campaign options (or the reference)."""

    spec: str
    options: dict[str, Any] = field(default_factory=dict)
    surrogate_options: dict[str, Any] = field(default_factory=dict)

    @property
    def is_reference(self) -> bool:
        return self.spec.split(":")[0] in REFERENCES

    def check(self, dataset: Dataset, n_initial: int, batch_size: int, cycles: int) -> None:
        """Build the strategy's campaign for ``dataset`` without running it, so that a
        bad option fails before any run starts.

        Raises:
            ConfigurationError: an option the campaign refuses.
        """
        if self.is_reference:
            return
        self._campaign(dataset, list(range(n_initial)), cycles, batch_size, seed=0)
        if self.surrogate_options:  # a surrogate checks its options when it first fits
            rows = list(range(min(3, len(dataset))))
            surrogate = self._surrogate(seed=0)
            surrogate.fit(dataset.pool.features[rows], dataset.values[rows])

    def run(
        self, dataset: Dataset, initial: list[int], cycles: int, batch_size: int, seed: int
    ) -> list[int]:
        """Replay one run: the pool indices in the order they were measured.

        Raises:
            StrategyError: the strategy proposed a design it had measured, or its
                campaign measured a design twice or skipped the initial design.
        """
        if self.is_reference:
            reference = REFERENCES[self.spec.split(":")[0]]
            proposer = reference.start(dataset, seed)
            return replay_proposer(self.spec, proposer, dataset, initial, cycles, batch_size)
        pool = dataset.pool
        campaign = self._campaign(dataset, initial, cycles, batch_size, seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # duplicate-feature notices
            history = campaign.run(progress=False).history
        ids = history.loc[history["state"] == "succeeded", "candidate_id"].astype(str)
        trace = [pool.index_of(i) for i in ids]
        _check_campaign_trace(self.spec, trace, initial)
        return trace

    def _campaign(
        self, dataset: Dataset, initial: list[int], cycles: int, batch_size: int, seed: int
    ) -> Campaign:
        pool = dataset.pool
        options = dict(self.options)
        if self.surrogate_options and isinstance(options.get("policy"), Portfolio):
            options["policy"] = _with_surrogate(options["policy"], self._surrogate(seed))
        elif self.surrogate_options:
            options["surrogate"] = self._surrogate(seed)
        return Campaign(
            pool,
            LookupOracle.from_pool(pool, dataset.objective),
            dataset.objective,
            maximize=dataset.maximize,
            initial_design=GivenDesign(tuple(initial)),
            n_initial=len(initial),
            batch_size=batch_size,
            budget=min(cycles, len(dataset)),
            seed=seed,
            name=f"{self.spec} on {dataset.name}",
            **options,
        )

    def _surrogate(self, seed: int):
        """The surrogate the options describe (a portfolio's options are its GP's)."""
        kind = "gp" if "policy" in self.options else self.options.get("surrogate", "gp")
        return SURROGATES[kind](seed=seed, **self.surrogate_options)


def _with_surrogate(portfolio: Portfolio, surrogate: Any) -> Portfolio:
    """The portfolio with ``surrogate``, one object its GP arms share, in place of "gp"."""
    arms = [
        replace(arm, surrogate=surrogate) if arm.surrogate == "gp" else arm
        for arm in portfolio.arms
    ]
    return _with_arms(portfolio, arms)


def _with_arms(portfolio: Portfolio, arms: list[Arm]) -> Portfolio:
    """The portfolio with other arms, its bandit and reward kept."""
    return Portfolio(arms, portfolio.algorithm, portfolio.reward, **portfolio.options)


def _check_campaign_trace(spec: str, trace: list[int], initial: list[int]) -> None:
    if sorted(trace[: len(initial)]) != sorted(initial):
        raise StrategyError(f"strategy '{spec}' did not start from the protocol's designs")
    if len(set(trace)) != len(trace):
        raise StrategyError(f"strategy '{spec}' measured a design twice")


#: The portfolio's arms a benchmark of one objective can run (not "gp-ehvi", "forest-parego").
SINGLE_OBJECTIVE_ARMS = {
    name: arm for name, arm in ARMS.items() if arm.acquisition not in PARETO_STRATEGIES
}


def resolve_strategy(spec: str) -> Strategy:
    """Parse a strategy spec (see the module's docstring).

    Raises:
        ConfigurationError: an unknown name or option, or an option without ``=``.
    """
    name, _, text = spec.strip().partition(":")
    if name not in NAMED and name not in SINGLE_OBJECTIVE_ARMS:
        several = " (a strategy for several objectives; the datasets have one)" * (name in ARMS)
        raise ConfigurationError(
            f"unknown strategy '{name}'{several}: expected one of "
            f"{sorted({*NAMED, *SINGLE_OBJECTIVE_ARMS})}, optionally with :key=value options"
        )
    options = _parse_options(spec, text)
    if name in REFERENCES:
        if options:
            raise ConfigurationError(f"strategy '{name}' takes no options, got {sorted(options)}")
        return Strategy(spec.strip())
    campaign_options = {k: v for k, v in options.items() if k in CAMPAIGN_ARGUMENTS}
    rest = {k: v for k, v in options.items() if k not in CAMPAIGN_ARGUMENTS}
    if name == "portfolio":
        portfolio, gp_options = _portfolio(spec, rest)
        campaign_options.setdefault("policy", portfolio)
        return Strategy(spec.strip(), campaign_options, gp_options)
    if name == "random":
        campaign_options.setdefault("acquisition", "random")
    elif name != "auto":
        arm = ARMS[name]
        campaign_options.setdefault("surrogate", arm.surrogate or "gp")
        campaign_options.setdefault("acquisition", arm.acquisition)
    accepted = _surrogate_options(campaign_options.get("surrogate", "gp"))
    surrogate_options = {k: v for k, v in rest.items() if k in accepted}
    acquisition_params = {k: v for k, v in rest.items() if k not in accepted}
    if acquisition_params:
        campaign_options["acquisition_params"] = {
            **campaign_options.get("acquisition_params", {}),
            **acquisition_params,
        }
    return Strategy(spec.strip(), campaign_options, surrogate_options)


def _portfolio(spec: str, options: dict[str, Any]) -> tuple[Portfolio, dict[str, Any]]:
    """A portfolio from spec options: ``arms`` joined by "+", the bandit's ``algorithm``,
    ``reward`` and options (``eta``, ``gamma``), acquisition parameters for the arms that
    take them; and the options of the GP its arms share."""
    options = dict(options)
    gp_options = {k: options.pop(k) for k in list(options) if k in _surrogate_options("gp")}
    acquisition_keys = {
        key for arm in ARMS.values() for key in acquisition_parameters(str(arm.acquisition))
    }
    params = {k: options.pop(k) for k in list(options) if k in acquisition_keys}
    if "arms" in options:
        options["arms"] = [arm.strip() for arm in str(options["arms"]).split("+") if arm.strip()]
    try:
        portfolio = Portfolio(**options)
    except (TypeError, ConfigurationError) as error:  # an option neither it nor its bandit takes
        raise ConfigurationError(f"strategy '{spec}': {error}") from None
    if params:
        arms = [_with_params(arm, params) for arm in portfolio.arms]
        unused = sorted(set(params) - {k for arm in arms for k in arm.acquisition_params})
        if unused:
            raise ConfigurationError(f"strategy '{spec}': no arm's acquisition takes {unused}")
        portfolio = _with_arms(portfolio, arms)
    if gp_options and "gp" not in {arm.surrogate for arm in portfolio.arms}:
        raise ConfigurationError(
            f"strategy '{spec}': GP options {sorted(gp_options)} given, but no arm uses the GP"
        )
    return portfolio, gp_options


def _surrogate_options(kind: str) -> set[str]:
    """The options a surrogate kind's constructor takes (empty for an unknown kind)."""
    if kind not in SURROGATES:
        return set()
    return set(inspect.signature(SURROGATES[kind].__init__).parameters) - {"self", "seed"}


def _with_params(arm: Arm, params: dict[str, Any]) -> Arm:
    """The arm with those of ``params`` its acquisition takes."""
    taken = {k: v for k, v in params.items() if k in acquisition_parameters(str(arm.acquisition))}
    return replace(arm, acquisition_params={**arm.acquisition_params, **taken}) if taken else arm


def _parse_options(spec: str, text: str) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for item in filter(None, (part.strip() for part in text.split(":"))):
        key, equals, value = item.partition("=")
        if not equals or not key:
            raise ConfigurationError(
                f"strategy '{spec}': option '{item}' must be written key=value"
            )
        try:
            options[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            options[key.strip()] = value.strip()
    return options
