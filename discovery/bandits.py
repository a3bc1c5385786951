"""Bandit algorithms: learn, while acting, which arm earns the most reward.

Rewards are in [0, 1]. Each algorithm keeps its whole state as plain JSON
(``state()`` / ``load_state()``), so a campaign stores it with every iteration
and a resumed run goes on from exactly where the last one stopped.

- :class:`Hedge`: exponential weights over cumulative gains, with full
  information (every arm is credited every round; GP-Hedge credits each arm with
  the model's value of its proposal). Learning rate ``sqrt(8 ln K / t)``.
- :class:`Exp3`: Hedge with bandit feedback: only the pulled arm's reward is
  seen, divided by the chance of pulling it, with ``gamma`` uniform exploration.
- :class:`UCB1`: optimism under uncertainty, ``mean + sqrt(2 ln t / n)``.
- :class:`ThompsonBandit`: Beta posteriors over each arm's mean; a reward r in
  [0, 1] counts r successes and 1 - r failures (for 0/1 rewards: the textbook
  Beta-Bernoulli sampler).
"""

from __future__ import annotations

import inspect
import math
from abc import ABC, abstractmethod
from typing import Any

import numpy as np

from discovery.checks import is_finite_number, is_whole_number
from discovery.exceptions import ConfigurationError

#: Draws used to estimate a Thompson bandit's probability of pulling each arm.
PROBABILITY_DRAWS = 2000


class Bandit(ABC):
    """K arms; ``choose`` one, ``update`` it with a reward in [0, 1]."""

    name = "bandit"

    def __init__(self, n_arms: int) -> None:
        if not is_whole_number(n_arms) or n_arms < 1:
            raise ConfigurationError(
                f"{self.name}: n_arms must be a whole number, at least one arm, got {n_arms!r}"
            )
        self.n_arms = int(n_arms)
        self.pulls = np.zeros(n_arms, dtype=int)
        self.reward_sums = np.zeros(n_arms)

    @abstractmethod
    def probabilities(self, rng: np.random.Generator | None = None) -> np.ndarray:
        """The chance of pulling each arm next."""

    def choose(self, rng: np.random.Generator) -> int:
        """The arm to pull next."""
        return int(rng.choice(self.n_arms, p=self.probabilities(rng)))

    def update(self, arm: int, reward: float, probability: float | None = None) -> None:
        """Credit ``arm`` with the reward of its own pull; ``probability`` is the chance
        it had of being pulled (defaults to the current one).

        Raises:
            ConfigurationError: an arm that is no index in [0, n_arms), a reward outside
                [0, 1] or a probability outside (0, 1], before any state changes.
        """
        if not is_whole_number(arm) or not 0 <= arm < self.n_arms:
            raise ConfigurationError(
                f"{self.name}: arm must be an index in [0, {self.n_arms}), got {arm!r}"
            )
        _check_reward(self.name, reward)
        if probability is not None and not (is_finite_number(probability) and 0 < probability <= 1):
            raise ConfigurationError(
                f"{self.name}: probability (the chance the arm had of being pulled) must be a "
                f"number in (0, 1], got {probability!r}"
            )
        self.pulls[arm] += 1
        self.reward_sums[arm] += reward

    def state(self) -> dict[str, Any]:
        return {"pulls": self.pulls.tolist(), "reward_sums": self.reward_sums.tolist()}

    def load_state(self, state: dict[str, Any]) -> None:
        self.pulls = np.asarray(state["pulls"], dtype=int)
        self.reward_sums = np.asarray(state["reward_sums"], dtype=float)


class Hedge(Bandit):
    """Exponential weights over every arm's cumulative gain (full information).

    Args:
        n_arms: K.
        eta: learning rate; None: ``sqrt(8 ln K / t)`` after t rounds (anytime Hedge).
    """

    name = "hedge"

    def __init__(self, n_arms: int, eta: float | None = None) -> None:
        super().__init__(n_arms)
        if eta is not None and not (is_finite_number(eta) and eta > 0):
            raise ConfigurationError(f"hedge: eta must be a finite number > 0, got {eta!r}")
        self.eta = eta
        self.gains = np.zeros(n_arms)
        self.rounds = 0

    def learning_rate(self) -> float:
        if self.eta is not None:
            return self.eta
        return math.sqrt(8 * math.log(max(self.n_arms, 2)) / max(self.rounds, 1))

    def probabilities(self, rng: np.random.Generator | None = None) -> np.ndarray:
        logits = self.learning_rate() * (self.gains - self.gains.max())
        weights = np.exp(logits)
        return weights / weights.sum()

    def update(self, arm: int, reward: float, probability: float | None = None) -> None:
        """Hedge learns from every arm's reward at once: see :meth:`update_all`.

        Raises:
            ConfigurationError: always (one arm's reward would teach it nothing).
        """
        raise ConfigurationError(
            "hedge: credit every arm at once with update_all(rewards); for one arm's reward "
            "per round choose exp3, ucb1 or thompson"
        )

    def update_all(self, rewards: np.ndarray) -> None:
        """Credit every arm at once (the full-information round)."""
        rewards = np.asarray(rewards, dtype=float)
        if rewards.shape != (self.n_arms,):
            raise ConfigurationError(f"hedge: expected {self.n_arms} rewards, got {rewards.shape}")
        for reward in rewards:
            _check_reward(self.name, reward)
        self.gains += rewards
        self.rounds += 1

    def state(self) -> dict[str, Any]:
        return {**super().state(), "gains": self.gains.tolist(), "rounds": self.rounds}

    def load_state(self, state: dict[str, Any]) -> None:
        super().load_state(state)
        self.gains = np.asarray(state["gains"], dtype=float)
        self.rounds = int(state["rounds"])


class Exp3(Bandit):
    """Exponential weights with importance-weighted bandit feedback (Auer et al. 2002).

    Args:
        n_arms: K.
        gamma: the share of uniform exploration; None: the textbook
            ``min(1, sqrt(K ln K / ((e - 1) horizon)))``, or 0.1 without a horizon.
        horizon: the number of rounds expected, for the default gamma.
    """

    name = "exp3"

    def __init__(self, n_arms: int, gamma: float | None = None, horizon: int | None = None) -> None:
        super().__init__(n_arms)
        if horizon is not None and not (is_finite_number(horizon) and horizon >= 1):
            raise ConfigurationError(f"exp3: horizon must be at least 1 round, got {horizon!r}")
        if gamma is None:
            k = max(n_arms, 2)
            gamma = (
                min(1.0, math.sqrt(k * math.log(k) / ((math.e - 1) * horizon))) if horizon else 0.1
            )
        if not (is_finite_number(gamma) and 0 < gamma <= 1):
            raise ConfigurationError(f"exp3: gamma must be a number in (0, 1], got {gamma!r}")
        self.gamma = gamma
        self.log_weights = np.zeros(n_arms)

    def probabilities(self, rng: np.random.Generator | None = None) -> np.ndarray:
        weights = np.exp(self.log_weights - self.log_weights.max())
        return (1 - self.gamma) * weights / weights.sum() + self.gamma / self.n_arms

    def update(self, arm: int, reward: float, probability: float | None = None) -> None:
        super().update(arm, reward, probability)
        chance = self.probabilities()[arm] if probability is None else probability
        self.log_weights[arm] += self.gamma * (reward / chance) / self.n_arms

    def state(self) -> dict[str, Any]:
        return {**super().state(), "log_weights": self.log_weights.tolist()}

    def load_state(self, state: dict[str, Any]) -> None:
        super().load_state(state)
        self.log_weights = np.asarray(state["log_weights"], dtype=float)


class UCB1(Bandit):
    """Pull each arm once, then the arm with the highest ``mean + sqrt(2 ln t / n)``."""

    name = "ucb1"

    def indices(self) -> np.ndarray:
        """Each arm's upper confidence bound (infinite until it was pulled)."""
        total = max(int(self.pulls.sum()), 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            means = self.reward_sums / self.pulls
            bonus = np.sqrt(2 * math.log(total) / self.pulls)
        return np.where(self.pulls > 0, means + bonus, np.inf)

    def probabilities(self, rng: np.random.Generator | None = None) -> np.ndarray:
        indices = self.indices()
        best = indices == indices.max()
        return best / best.sum()


class ThompsonBandit(Bandit):
    """Beta(1 + successes, 1 + failures) per arm; pull the arm with the best draw."""

    name = "thompson"

    def __init__(self, n_arms: int) -> None:
        super().__init__(n_arms)
        self.successes = np.zeros(n_arms)
        self.failures = np.zeros(n_arms)

    def _draw(self, rng: np.random.Generator, size: int | None = None) -> np.ndarray:
        shape = (self.n_arms,) if size is None else (size, self.n_arms)
        return rng.beta(1 + self.successes, 1 + self.failures, size=shape)

    def probabilities(self, rng: np.random.Generator | None = None) -> np.ndarray:
        draws = self._draw(np.random.default_rng(0) if rng is None else rng, PROBABILITY_DRAWS)
        counts = np.bincount(draws.argmax(axis=1), minlength=self.n_arms)
        return counts / counts.sum()

    def choose(self, rng: np.random.Generator) -> int:
        return int(self._draw(rng).argmax())

    def update(self, arm: int, reward: float, probability: float | None = None) -> None:
        super().update(arm, reward, probability)
        # a reward in [0, 1] becomes a success with that probability; deterministic
        # here (expected counts), so a resumed run needs no random state for it
        self.successes[arm] += reward
        self.failures[arm] += 1 - reward

    def state(self) -> dict[str, Any]:
        return {
            **super().state(),
            "successes": self.successes.tolist(),
            "failures": self.failures.tolist(),
        }

    def load_state(self, state: dict[str, Any]) -> None:
        super().load_state(state)
        self.successes = np.asarray(state["successes"], dtype=float)
        self.failures = np.asarray(state["failures"], dtype=float)


BANDITS: dict[str, type[Bandit]] = {
    "hedge": Hedge,
    "exp3": Exp3,
    "ucb1": UCB1,
    "thompson": ThompsonBandit,
}


def make_bandit(name: str, n_arms: int, **options: Any) -> Bandit:
    """A bandit by name: "hedge", "exp3", "ucb1" or "thompson"."""
    if name not in BANDITS:
        raise ConfigurationError(f"unknown bandit algorithm '{name}'; one of {sorted(BANDITS)}")
    accepted = set(inspect.signature(BANDITS[name]).parameters) - {"n_arms"}
    unknown = sorted(set(options) - accepted)
    if unknown:
        raise ConfigurationError(
            f"bandit '{name}' has no option(s) {unknown}; "
            + (f"its options are {sorted(accepted)}" if accepted else "it takes no options")
        )
    return BANDITS[name](n_arms, **options)


def _check_reward(name: str, reward: float) -> None:
    if not (is_finite_number(reward) and 0.0 <= reward <= 1.0):
        raise ConfigurationError(f"{name}: rewards must be in [0, 1], got {reward}")
