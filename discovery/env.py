"""A campaign's world (its pool and oracle) as a gymnasium environment, for RL agents.

    from discovery.env import DiscoveryEnv

    env = DiscoveryEnv.from_campaign(campaign)
    observation, info = env.reset(seed=0)
    observation, reward, terminated, truncated, info = env.step(action)

- action: the index of a candidate in the pool (``Discrete(len(pool))``).
- observation: ``{"measured": MultiBinary(n), "values": Box(n)}``: which candidates
  were measured in this episode and the reward each earned (0 where not measured).
  The candidates' features do not change; they are ``env.features`` (n x d).
- reward: the measured objective as a reward (the value when maximising, its negative
  when minimising, -|value - target| for a target); a failed experiment earns
  ``failure_reward`` and says why in ``info["error"]``, as does a result that is not a
  finite number (NaN, inf), which a campaign records as failed too. By default that is
  the worst reward earned so far in the episode (0 before the first), so that a failure
  never pays better than a measurement; pass a number for a fixed penalty.
- an episode lasts ``budget`` experiments (then ``truncated``); measuring a candidate
  again is allowed unless ``repeats=False`` (then it ends the episode as ``terminated``
  with the failure reward), and the episode is ``terminated`` once every candidate was measured.

Needs the ``[rl]`` extra (gymnasium).
"""

from __future__ import annotations

import time
import uuid
from dataclasses import replace
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from discovery.checks import is_finite_number
from discovery.dispatch import read_result
from discovery.exceptions import ConfigurationError
from discovery.oracles.base import SUCCEEDED, Oracle
from discovery.rewards import reward_of
from discovery.space import CandidatePool

try:
    import gymnasium as gym
    from gymnasium import spaces
except ImportError as error:  # pragma: no cover - exercised without the extra
    raise ImportError("discovery.env needs gymnasium: pip install 'discovery[rl]'") from error

if TYPE_CHECKING:
    from discovery.campaign import Campaign


class DiscoveryEnv(gym.Env):
    """Candidates as actions, measurements as rewards.

    Args:
        pool: the candidates.
        oracle: runs an experiment (submit/poll), synchronously here.
        objective: the measured property.
        maximize, closest_to: the direction, as in :class:`~discovery.Campaign`.
        budget: experiments per episode.
        repeats: whether a candidate may be measured again within an episode.
        optimum: the best objective value the pool holds, for ``info["regret"]``.
        failure_reward: the reward of a failed experiment or a refused repeat (None: the
            worst reward earned so far in the episode, 0 before the first).
        timeout: seconds to wait for one experiment.
        poll_interval: seconds between polls of a running experiment.
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": []}

    def __init__(
        self,
        pool: CandidatePool,
        oracle: Oracle,
        objective: str,
        *,
        maximize: bool = True,
        closest_to: float | None = None,
        budget: int = 50,
        repeats: bool = True,
        optimum: float | None = None,
        failure_reward: float | None = None,
        timeout: float = 600.0,
        poll_interval: float = 0.01,
    ) -> None:
        if budget < 1:
            raise ConfigurationError(f"environment: budget must be >= 1, got {budget}")
        self.pool, self.oracle, self.objective = pool, oracle, objective
        self.maximize, self.closest_to = maximize, closest_to
        self.budget, self.repeats = budget, repeats
        self.optimum = optimum
        if failure_reward is not None and not is_finite_number(failure_reward):
            raise ConfigurationError(
                f"environment: failure_reward must be a finite number or None, "
                f"got {failure_reward!r}"
            )
        self.failure_reward = failure_reward
        self.timeout, self.poll_interval = timeout, poll_interval
        self.features = pool.features
        size = len(pool)
        self.action_space = spaces.Discrete(size)
        self.observation_space = spaces.Dict(
            {
                "measured": spaces.MultiBinary(size),
                "values": spaces.Box(-np.inf, np.inf, shape=(size,), dtype=np.float32),
            }
        )
        self._measured = np.zeros(size, dtype=np.int8)
        self._values = np.zeros(size, dtype=np.float32)
        self._steps = 0
        self._best: float | None = None
        self._worst: float | None = None

    @classmethod
    def from_campaign(cls, campaign: Campaign, **options: Any) -> DiscoveryEnv:
        """The environment of a campaign: its pool, oracle, objective, direction,
        budget and known optimum.

        Raises:
            ConfigurationError: the campaign searches a declared space, whose candidates
                cannot be numbered as actions.
        """
        if not isinstance(campaign.pool, CandidatePool):
            raise ConfigurationError(
                f"environment: campaign '{campaign.config.name}' searches a declared space; "
                "an environment's actions number the candidates of a pool "
                "(CandidatePool), e.g. CandidatePool.from_frame(pd.DataFrame(space.sample(n)))"
            )
        config = campaign.config
        settings = {
            "maximize": config.maximize,
            "closest_to": config.closest_to,
            "budget": config.budget,
            "optimum": config.optimum,
            **options,
        }
        return cls(campaign.pool, campaign.oracle, config.objective, **settings)

    def _observation(self) -> dict[str, np.ndarray]:
        return {"measured": self._measured.copy(), "values": self._values.copy()}

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        super().reset(seed=seed)
        self._measured[:] = 0
        self._values[:] = 0.0
        self._steps, self._best, self._worst = 0, None, None
        return self._observation(), {}

    def step(self, action: Any) -> tuple[dict[str, np.ndarray], float, bool, bool, dict]:
        if not self.action_space.contains(action):
            raise ConfigurationError(
                f"environment: action must be a candidate index in [0, {len(self.pool)}), "
                f"got {action!r}"
            )
        index = int(action)
        self._steps += 1
        info: dict[str, Any] = {"candidate_id": str(self.pool.ids[index])}
        if self._measured[index] and not self.repeats:
            info["error"] = "measured already in this episode"
            return self._observation(), self._failure_reward(), True, False, info
        value, error = self._measure(index)
        reward = self._failure_reward()
        if error is None:
            reward = float(reward_of([value], self.maximize, self.closest_to)[0])
            self._measured[index] = 1
            self._values[index] = reward
            self._best = reward if self._best is None else max(self._best, reward)
            self._worst = reward if self._worst is None else min(self._worst, reward)
            info["value"] = value
        else:
            info["error"] = error
        if self.optimum is not None and self._best is not None:
            best = float(reward_of([self.optimum], self.maximize, self.closest_to)[0])
            info["regret"] = best - self._best
        terminated = bool(self._measured.all())
        truncated = self._steps >= self.budget and not terminated
        return self._observation(), reward, terminated, truncated, info

    def _failure_reward(self) -> float:
        if self.failure_reward is not None:
            return float(self.failure_reward)
        return 0.0 if self._worst is None else self._worst

    def _measure(self, index: int) -> tuple[float | None, str | None]:
        """Run one experiment to the end: (value, None) or (None, why it failed), the
        result read as a campaign reads it (a value that is not finite is a failure)."""
        candidate = replace(self.pool.candidate(index), idempotency_key=uuid.uuid4().hex)
        handle = self.oracle.submit(candidate)
        deadline = time.monotonic() + self.timeout
        while True:
            status = self.oracle.poll(handle)
            if status.is_finished:
                break
            if time.monotonic() > deadline:
                self.oracle.cancel(handle)
                return None, f"no result after {self.timeout} s"
            time.sleep(self.poll_interval)
        if status.state != SUCCEEDED:
            return None, status.error or status.state
        return read_result(status.result, self.objective)
