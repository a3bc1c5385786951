"""Portfolio policies: learn, while the campaign runs, which strategy earns the reward.

Each arm is a strategy (a surrogate, an acquisition, a batch selector). Every
iteration a bandit picks an arm, the arm proposes, the oracle answers, and the
arm is credited with the reward of its own pick once it is measured.

- ``"hedge"`` (GP-Hedge, Hoffman, Brochu & de Freitas 2011): every arm proposes;
  after the next measurement each arm is credited with the model's predicted value
  of its own proposal, so arms learn from picks they did not make.
- ``"exp3"``, ``"ucb1"``, ``"thompson"``: only the chosen arm proposes, and only it
  is credited, with the realised reward of its pick.

Rewards: ``"objective"`` (the measured value as a reward: larger is better, the
negative when minimising), ``"improvement"`` (over the best measured before the
pick), or a function of the measured value. Bandits see rewards scaled to [0, 1]
by the range measured so far. A reward that is not a finite number is recorded as
a failed reward and not fed to the bandit. What the policy did each iteration
(the arm, every arm's probability, the credits, the bandit's state) is stored
with the iteration, so a resumed campaign continues the same policy.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from discovery.acquisition import Acquisition, resolve_acquisition
from discovery.bandits import BANDITS, Hedge, make_bandit
from discovery.exceptions import ConfigurationError
from discovery.outcome_models import warm_states
from discovery.rewards import reward_of
from discovery.selection import Selector, resolve_selector
from discovery.store import OPEN_STATES
from discovery.surrogates import Surrogate, resolve_surrogate


class CampaignRun(Protocol):
    """What a portfolio uses of the running loop (:class:`discovery.loop.CampaignRun`,
    which holds the portfolio: the portfolio does not import it)."""

    config: Any
    pool: Any
    store: Any
    rng: np.random.Generator
    values: list[float]

    def fit_surrogate(self, surrogate: Any) -> None: ...

    def predict_available(self, surrogate: Any, samples: bool) -> Any: ...

    def propose(
        self, surrogate: Any, acquisition: Any, selector: Any, size: int, prediction: Any = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]: ...

    def register(self, chosen: Any) -> np.ndarray: ...

    def proposal_record(self, chosen: Any) -> list: ...

    def features_of(self, record: list) -> np.ndarray: ...

    def believe(self, chosen: np.ndarray, means: np.ndarray) -> None: ...

    # campaigns with several objectives
    outcome_spec: Any
    outcomes: np.ndarray

    def choose_for_outcomes(self, size: int, surrogate: Any, strategy: str) -> tuple: ...

    def random_choice(self, size: int) -> np.ndarray: ...


REWARDS = ("objective", "improvement", "hypervolume")
#: Acquisitions of arms that seek a Pareto front (a campaign with several objectives).
PARETO_ARMS = ("ehvi", "parego")


@dataclass(frozen=True)
class Arm:
    """One strategy of a portfolio.

    Attributes:
        name: how reports call it.
        surrogate: "gp", "forest", "extra_trees", "neural", an object with
            fit/predict, or None for an arm that needs no model (random).
        acquisition: an acquisition name ("ei", "ucb", "thompson", "uncertainty",
            "greedy", "random", ...) or an Acquisition; "ehvi" or "parego" for a
            campaign that seeks a Pareto front.
        selector: the batch selector ("top" or "kmeans").
        acquisition_params: keyword parameters of the acquisition.
    """

    name: str
    surrogate: str | Surrogate | None = "gp"
    acquisition: str | Acquisition = "ei"
    selector: str | Selector = "top"
    acquisition_params: dict[str, Any] = field(default_factory=dict)


#: Arms by name, for ``Portfolio(arms=["gp-ei", "forest-ei", "random"])``.
ARMS: dict[str, Arm] = {
    arm.name: arm
    for arm in (
        Arm("gp-ei", "gp", "ei"),
        Arm("gp-ucb", "gp", "ucb"),
        Arm("gp-thompson", "gp", "thompson"),
        Arm("gp-greedy", "gp", "greedy"),
        Arm("exploration", "gp", "uncertainty"),
        Arm("forest-ei", "forest", "ei"),
        Arm("forest-ucb", "forest", "ucb"),
        Arm("forest-greedy", "forest", "greedy"),
        Arm("neural-thompson", "neural", "thompson"),
        Arm("neural-ei", "neural", "ei"),
        Arm("random", None, "random"),
        # for campaigns that seek a Pareto front (see discovery.outcome_models)
        Arm("gp-ehvi", "gp", "ehvi"),
        Arm("gp-parego", "gp", "parego"),
        Arm("forest-ehvi", "forest", "ehvi"),
        Arm("forest-parego", "forest", "parego"),
        Arm("neural-ehvi", "neural", "ehvi"),
    )
}

DEFAULT_ARMS = ("gp-ei", "gp-ucb", "forest-ei", "exploration", "random")


class Portfolio:
    """A bandit over strategies.

    Args:
        arms: arm names from :data:`ARMS` and/or :class:`Arm` objects.
        algorithm: "hedge", "exp3", "ucb1" or "thompson".
        reward: "objective", "improvement" or ``f(value) -> float``; for a campaign
            that seeks a Pareto front, "hypervolume": the hypervolume the pick's
            measurements add to the feasible front (their share of it). Hedge credits
            every arm with its proposal's predicted value: "objective" only.
        **options: options of the bandit (``eta`` for hedge, ``gamma`` for exp3).

    Raises:
        ConfigurationError: no arms, an unknown arm name, two arms of one name, an
            unknown algorithm or reward.
    """

    def __init__(
        self,
        arms: Sequence[str | Arm] = DEFAULT_ARMS,
        algorithm: str = "hedge",
        reward: str | Callable[[float], float] = "objective",
        **options: Any,
    ) -> None:
        if isinstance(arms, (str, Arm)) or not len(arms):
            raise ConfigurationError("portfolio: needs a non-empty list of arms")
        resolved = []
        for arm in arms:
            if isinstance(arm, str):
                if arm not in ARMS:
                    raise ConfigurationError(
                        f"portfolio: unknown arm '{arm}'; known arms are {sorted(ARMS)}, "
                        "or pass Arm(name, surrogate, acquisition)"
                    )
                arm = ARMS[arm]
            if not isinstance(arm, Arm):
                raise ConfigurationError(
                    f"portfolio: an arm is a name or an Arm, got {type(arm).__name__}"
                )
            _check_arm(arm)
            resolved.append(arm)
        names = [arm.name for arm in resolved]
        if len(set(names)) != len(names):
            raise ConfigurationError(f"portfolio: arm names must be distinct, got {names}")
        if algorithm not in BANDITS:
            raise ConfigurationError(
                f"portfolio: unknown algorithm '{algorithm}'; one of {sorted(BANDITS)}"
            )
        if not callable(reward) and reward not in REWARDS:
            raise ConfigurationError(
                f"portfolio: reward must be one of {list(REWARDS)} or a function, got {reward!r}"
            )
        if algorithm == "hedge" and reward not in ("objective", "hypervolume"):
            raise ConfigurationError(
                f"portfolio: hedge credits every arm with the model's predicted value of its "
                f"proposal, so it takes reward 'objective' only; for {reward!r} choose "
                f"'exp3', 'ucb1' or 'thompson'"
            )
        self.arms: list[Arm] = resolved
        self.algorithm = algorithm
        self.reward = reward
        self.options = options
        make_bandit(algorithm, len(resolved), **options)  # options checked now, not mid-run

    @property
    def names(self) -> list[str]:
        return [arm.name for arm in self.arms]

    def describe(self) -> dict[str, Any]:
        """The portfolio as plain JSON, for the campaign's configuration."""
        reward = self.reward if isinstance(self.reward, str) else _callable_name(self.reward)
        described = {
            "arms": self.names,
            "algorithm": self.algorithm,
            "reward": reward,
            "options": dict(self.options),
        }
        # an Arm under a library arm's name but set up otherwise (a beta of 25): its name
        # would rebuild the library's arm
        custom = [a.name for a in self.arms if a.name in ARMS and ARMS[a.name] != a]
        if custom:
            described["custom_arms"] = custom
        return described

    def __repr__(self) -> str:
        return f"Portfolio({self.algorithm}: {', '.join(self.names)})"


class PortfolioRun:
    """The portfolio inside one run of a campaign: its components and its bandit."""

    def __init__(
        self,
        portfolio: Portfolio,
        seed: int,
        device: str,
        last: dict[str, Any] | None,
        warm_states: list[dict | None] | None = None,
    ) -> None:
        self.portfolio = portfolio
        shared: dict[Any, Surrogate] = {}  # arms naming one surrogate share its fit
        self.surrogates: list[Surrogate | None] = []
        for arm in portfolio.arms:
            if arm.surrogate is None:
                self.surrogates.append(None)
                continue
            key = arm.surrogate if isinstance(arm.surrogate, str) else id(arm.surrogate)
            if key not in shared:
                shared[key] = resolve_surrogate(arm.surrogate, seed=seed, device=device)
            self.surrogates.append(shared[key])
        self._shared = list(shared.values())  # each distinct surrogate once, in arm order
        for surrogate, state in zip(self._shared, warm_states or [], strict=False):
            load = getattr(surrogate, "load_warm_state", None)
            if state is not None and callable(load):
                load(state)
        self.strategies = [  # "ehvi" / "parego" for Pareto arms, else None
            arm.acquisition if arm.acquisition in PARETO_ARMS else None for arm in portfolio.arms
        ]
        self.acquisitions = [
            resolve_acquisition("ei" if strategy else arm.acquisition, **arm.acquisition_params)
            for arm, strategy in zip(portfolio.arms, self.strategies, strict=True)
        ]
        self.selectors = [resolve_selector(arm.selector) for arm in portfolio.arms]
        self.bandit = make_bandit(portfolio.algorithm, len(portfolio.arms), **portfolio.options)
        self.awaiting: list[dict[str, Any]] = []  # picks not yet credited
        self.proposals: dict[str, list] = {}  # hedge: every arm's last proposal (ids or points)
        self.reward_range: list[float] | None = None  # for a reward function's scale
        if last is not None:
            self.bandit.load_state(last["state"])
            self.awaiting = last["awaiting"]
            self.proposals = last.get("proposals", {})
            self.reward_range = last.get("reward_range")

    def choose(self, run: CampaignRun, size: int) -> tuple[np.ndarray, np.ndarray, dict, dict]:
        """Credit what was measured, pick an arm, let it propose ``size`` candidates;
        (chosen, scores, timing, the record kept with the iteration)."""
        started = time.perf_counter()
        record: dict[str, Any] = {"credits": {}, "failed_rewards": []}
        if run.outcome_spec is not None:
            return self._choose_for_front(run, size, record, started)
        self._credit_realised(run, record)
        names = self.portfolio.names
        hedge = isinstance(self.bandit, Hedge)
        if hedge:
            for surrogate in {id(s): s for s in self.surrogates if s is not None}.values():
                run.fit_surrogate(surrogate)
            self._credit_proposals(run, record)
        arm, probabilities = self._draw_arm(run)
        if not hedge and self.surrogates[arm] is not None and self.acquisitions[arm].needs_model:
            run.fit_surrogate(self.surrogates[arm])
        fitted = time.perf_counter()
        proposing = range(len(names)) if hedge else [arm]
        predictions = self._predictions(run, proposing)
        proposals = {}
        for index in proposing:
            proposals[index] = run.propose(
                self.surrogates[index],
                self.acquisitions[index],
                self.selectors[index],
                size,
                predictions.get(id(self.surrogates[index])),
            )
        if hedge:
            self.proposals = {
                names[i]: run.proposal_record(proposal[0]) for i, proposal in proposals.items()
            }
        chosen, scores, means = proposals[arm]
        chosen = run.register(chosen)
        run.believe(chosen, means)
        ids = [str(run.pool.ids[i]) for i in chosen]
        self.awaiting.append(
            {
                "arm": arm,
                "ids": ids,
                "probability": float(probabilities[arm]),
                "incumbent": _reward_range(run)[1],  # the best reward before this pick
            }
        )
        record.update(
            arm=names[arm],
            probabilities=dict(zip(names, map(float, probabilities), strict=True)),
            state=self.bandit.state(),
            awaiting=self.awaiting,
            proposals=self.proposals,
            reward_range=self.reward_range,
        )
        timing = {
            "fit_seconds": fitted - started,
            "selection_seconds": time.perf_counter() - fitted,
        }
        return chosen, scores, timing, record

    def _choose_for_front(
        self, run: CampaignRun, size: int, record: dict[str, Any], started: float
    ) -> tuple[np.ndarray, np.ndarray, dict, dict]:
        """A Pareto campaign's portfolio: credit each finished pick with the share of
        the front's hypervolume its measurements add, draw an arm, let it choose."""
        gains = front_gains(run)
        open_ids = {job.candidate_id for job in run.store.jobs() if job.state in OPEN_STATES}
        waiting = []
        for pick in self.awaiting:
            name = self.portfolio.names[pick["arm"]]
            if any(i in open_ids for i in pick["ids"]):
                waiting.append(pick)
                continue
            measured = [i for i in pick["ids"] if i in gains]
            # a pick whose experiments all failed added nothing to the front
            credit = float(np.clip(sum(gains[i] for i in measured), 0.0, 1.0))
            self.bandit.update(pick["arm"], credit, pick["probability"])
            record["credits"][name] = credit
        self.awaiting = waiting
        names = self.portfolio.names
        arm, probabilities = self._draw_arm(run)
        if self.surrogates[arm] is None:  # a model-free arm: random choices
            chosen = run.random_choice(size)
            scores, timing = np.full(len(chosen), np.nan), {}
        else:
            chosen, scores, timing, _ = run.choose_for_outcomes(
                size, self.surrogates[arm], self.strategies[arm] or "parego"
            )
        ids = [str(run.pool.ids[i]) for i in chosen]
        self.awaiting.append({"arm": arm, "ids": ids, "probability": float(probabilities[arm])})
        record.update(
            arm=names[arm],
            probabilities=dict(zip(names, map(float, probabilities), strict=True)),
            state=self.bandit.state(),
            awaiting=self.awaiting,
        )
        timing = timing or {"fit_seconds": 0.0, "selection_seconds": time.perf_counter() - started}
        return chosen, scores, timing, record

    def warm_states(self) -> list[dict | None] | None:
        """What each distinct surrogate's next fit continues from (a GP's hyper-parameters,
        kept between refits), in arm order, for the store: a resumed campaign passes them
        back (``warm_states``) and fits as an uninterrupted one would; None where none
        was fitted or has anything to keep."""
        return warm_states(self._shared)

    def _predictions(self, run: CampaignRun, arms: Sequence[int]) -> dict[int, Any]:
        """One prediction per surrogate shared by proposing arms (with posterior samples
        when any of them needs samples), by the surrogate's id."""
        samples: dict[int, bool] = {}
        for index in arms:
            surrogate, acquisition = self.surrogates[index], self.acquisitions[index]
            if surrogate is not None and acquisition.needs_model:
                key = id(surrogate)
                samples[key] = samples.get(key, False) or acquisition.needs_samples
        by_id = {id(s): s for s in self.surrogates if s is not None}
        return {key: run.predict_available(by_id[key], need) for key, need in samples.items()}

    def arm_names(self, arm: str) -> tuple[str, str]:
        """The surrogate and acquisition names of an arm, for the iteration's record."""
        index = self.portfolio.names.index(arm)
        surrogate = self.surrogates[index]
        name = "none" if surrogate is None else getattr(surrogate, "name", type(surrogate).__name__)
        return str(name), self.strategies[index] or self.acquisitions[index].name

    def _draw_arm(self, run: CampaignRun) -> tuple[int, np.ndarray]:
        """The arm to play and the bandit's probabilities. A single arm is played without
        drawing from the campaign's generator, so that a portfolio of one arm makes the
        very choices of that strategy alone (random tie-breaks included)."""
        if len(self.portfolio.names) == 1:
            return 0, np.ones(1)
        probabilities = self.bandit.probabilities(run.rng)
        return int(run.rng.choice(len(probabilities), p=probabilities)), probabilities

    # -- credit ----------------------------------------------------------------------------

    def _credit_realised(self, run: CampaignRun, record: dict[str, Any]) -> None:
        """Credit each finished pick with the reward of what it measured."""
        measured = {c: v for c, v, parameters in run.store.measurements() if parameters is None}
        open_ids = {job.candidate_id for job in run.store.jobs() if job.state in OPEN_STATES}
        low, high = _reward_range(run)
        waiting = []
        for pick in self.awaiting:
            if any(i in open_ids for i in pick["ids"]):
                waiting.append(pick)
                continue
            name = self.portfolio.names[pick["arm"]]
            if isinstance(self.bandit, Hedge):
                continue  # hedge is credited through the model, below
            values = [measured[i] for i in pick["ids"] if i in measured]
            if not values:  # its experiments all failed: they earn nothing, the scale's foot
                self.bandit.update(pick["arm"], 0.0, pick["probability"])
                record["credits"][name] = 0.0
                continue
            raw = self._raw_reward(run, values, pick)
            if raw is None:
                record["failed_rewards"].append({"arm": name, "ids": pick["ids"]})
                continue
            scaled = self._scale(raw, low, high)
            self.bandit.update(pick["arm"], scaled, pick["probability"])
            record["credits"][name] = scaled
        self.awaiting = waiting

    def _raw_reward(self, run: CampaignRun, values: list[float], pick: dict) -> float | None:
        """The reward of a pick's measured ``values``, or None when it is not finite."""
        reward = self.portfolio.reward
        config = run.config
        earned = reward_of(values, config.maximize, config.closest_to)
        if reward == "objective":
            raw = float(np.mean(earned))
        elif reward == "improvement":
            raw = float(np.mean(np.maximum(earned - pick["incumbent"], 0.0)))
        else:
            try:
                raw = float(np.mean([float(reward(v)) for v in values]))
            except (TypeError, ValueError) as error:
                raise ConfigurationError(
                    f"portfolio: the reward function must return a number ({error})"
                ) from None
            if math.isfinite(raw):
                low, high = self.reward_range or (raw, raw)
                self.reward_range = [min(low, raw), max(high, raw)]
        return raw if math.isfinite(raw) else None

    def _scale(self, raw: float, low: float, high: float) -> float:
        """A raw reward on [0, 1], by the range of rewards seen so far."""
        reward = self.portfolio.reward
        if callable(reward):
            low, high = self.reward_range
        if high <= low:
            return 0.5
        if reward == "improvement":
            return float(np.clip(raw / (high - low), 0.0, 1.0))
        return float(np.clip((raw - low) / (high - low), 0.0, 1.0))

    def _credit_proposals(self, run: CampaignRun, record: dict[str, Any]) -> None:
        """GP-Hedge: each arm gains the model's value of its last proposal."""
        if not self.proposals:
            return
        judge = next((s for s in self.surrogates if s is not None), None)
        if judge is None:
            return
        low, high = _reward_range(run)
        sign = 1.0 if run.config.model_maximizes else -1.0  # the model's scale to reward's
        gains = []
        for name in self.portfolio.names:
            features = run.features_of(self.proposals[name])
            mean = sign * float(np.mean(judge.predict(features).mean))
            gains.append(0.5 if high <= low else float(np.clip((mean - low) / (high - low), 0, 1)))
        self.bandit.update_all(np.array(gains))
        record["credits"] = dict(zip(self.portfolio.names, gains, strict=True))


def _check_arm(arm: Arm) -> None:
    """An arm's components resolve now, so that a misspelt acquisition or a function of
    the wrong signature is named before any experiment, not when the arm is first drawn.

    Raises:
        ConfigurationError: naming the arm and its component.
    """
    try:
        if arm.acquisition not in PARETO_ARMS:
            resolve_acquisition(arm.acquisition, **arm.acquisition_params)
        if arm.surrogate is not None:
            resolve_surrogate(arm.surrogate)
        resolve_selector(arm.selector)
    except ConfigurationError as error:
        raise ConfigurationError(f"portfolio: arm '{arm.name}': {error}") from None


def front_gains(run: CampaignRun) -> dict[str, float]:
    """Each measured candidate's share of the feasible front's hypervolume: how much
    smaller the hypervolume of every measurement would be without it (0 off the front)."""
    spec, Y = run.outcome_spec, run.outcomes
    ids = [c for c, _, _ in run.store.measurements()]
    reference = spec.reference_utilities(Y)
    whole = 0.0 if reference is None else spec.hypervolume(Y, reference)
    if whole <= 0:
        return dict.fromkeys(ids, 0.0)
    return dict(zip(ids, spec.contributions(Y, reference) / whole, strict=True))


def _reward_range(run: CampaignRun) -> tuple[float, float]:
    """The lowest and highest reward measured so far (larger is better, whatever the
    objective's direction)."""
    rewards = reward_of(run.values, run.config.maximize, run.config.closest_to)
    return float(rewards.min()), float(rewards.max())


def _callable_name(function: Callable) -> str:
    return getattr(function, "__qualname__", None) or type(function).__name__
