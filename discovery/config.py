"""A campaign's configuration as one frozen, JSON-round-tripping value."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np

from discovery.checks import MAX_SEED, is_finite_number, is_whole_number, plain_number
from discovery.exceptions import ConfigurationError
from discovery.objectives import Objectives

PENDING_STRATEGIES = ("believer", "ignore")
#: What a campaign is after: the best candidate, or the most reward over all experiments.
GOALS = ("best", "cumulative")


#: The stored options of a surrogate, selector or initial design that no settings rebuild
#: (a class of the user's own): ``{NOT_STORED: description}``.
NOT_STORED = "not stored"


@dataclass(frozen=True)
class CampaignConfig:
    """Everything that decides a campaign's choices, apart from the pool and the oracle.

    Components given as objects are recorded by their ``name`` (or class name);
    a stored configuration therefore names them but cannot rebuild a user's own
    object.

    Attributes:
        objective: the measured property to optimise.
        maximize: True to maximise, False to minimise.
        closest_to: aim for measured values as close as possible to this value
            (e.g. a band gap of 1.4 eV) instead of maximising or minimising;
            the model learns -|value - closest_to| and maximises it.
        budget: total experiments, initial design included.
        n_initial: experiments in the initial design: it chooses until this many
            designs were chosen or told (asked for one at a time, too).
        batch_size: experiments chosen per iteration after the initial design.
        seed: seed of every random choice of the campaign.
        target: stop as soon as a measured value reaches this (>= when
            maximising, <= when minimising; with ``closest_to``, as soon as a
            value lies within ``target`` of it).
        surrogate: model name.
        acquisition: acquisition name.
        acquisition_params: keyword parameters of the acquisition (beta, xi).
        selector: batch selector name.
        initial_design: initial design name.
        name: the campaign's name, used in messages and file names.
        diagnose_every: every this many iterations, cross-validate the surrogate
            on the measurements so far and store its scores with the iteration
            (0: never).
        max_retries: transient failures retried per job.
        retry_backoff: seconds before the first retry, doubled for each further one.
        deadline: seconds a job may run before it is cancelled and recorded as a
            timeout (None: no limit).
        max_in_flight: keep this many experiments running and choose the next as
            soon as one finishes (None: synchronous batches of ``batch_size``).
        goal: "best" (find the best candidate: summaries lead with the best value)
            or "cumulative" (every measurement earns its reward, as when each
            batch made is sold: summaries lead with the cumulative reward).
        optimum: the best objective value the pool holds, when known (an
            emulator's is read from its oracle); simple and cumulative regret
            are reported against it.
        policy: the portfolio policy's arms, algorithm and reward (None: one fixed
            strategy).
        pending: how the model treats experiments still running when it chooses:
            "believer" (refit believing their predicted means, so the next choice
            looks elsewhere; costs a second fit) or "ignore".
        trust_region: in a declared space, a surrogate without gradients (forest,
            neural ensemble) searches a box around the best measurement that grows
            after improvements and shrinks without them (TuRBO), instead of the
            whole space; see :mod:`discovery.trust_region`.
        objectives: several measured properties: the objectives, outcome
            constraints, mode and reference point, as
            :meth:`~discovery.objectives.Objectives.to_dict` writes them (None: the
            one ``objective``). ``objective``, ``maximize`` and ``closest_to`` then
            describe the first objective.
        auto_strategy: the surrogate (and the acquisition, where none was named) were
            chosen by ``surrogate="auto"``; :meth:`Campaign.resume` chooses them again
            the same way, with the options the stored name alone does not carry.
        surrogate_options: the surrogate's settings where they differ from what its
            name builds (``RandomForestSurrogate(min_samples_leaf=15)``), so that
            :meth:`Campaign.resume` builds the same model; ``{"not stored": ...}`` for a
            surrogate no settings rebuild (a class of the user's own). None: the name
            builds it.
        selector_options: the batch selector's settings where they differ from what its
            name builds (``KMeansDiversified(oversample=3)``), or ``{"not stored": ...}``
            for a selector of the user's own; None: the name builds it.
        initial_design_options: the same for the initial design.
    """

    objective: str
    maximize: bool = True
    closest_to: float | None = None
    budget: int = 50
    n_initial: int = 5
    batch_size: int = 1
    seed: int = 0
    target: float | None = None
    surrogate: str = "gp"
    acquisition: str = "ei"
    acquisition_params: dict[str, Any] = field(default_factory=dict)
    selector: str = "top"
    initial_design: str = "kmeans"
    name: str = "campaign"
    diagnose_every: int = 0
    max_retries: int = 3
    retry_backoff: float = 1.0
    deadline: float | None = None
    max_in_flight: int | None = None
    pending: str = "believer"
    goal: str = "best"
    optimum: float | None = None
    policy: dict[str, Any] | None = None
    trust_region: bool = True
    objectives: dict[str, Any] | None = None
    auto_strategy: bool = False
    surrogate_options: dict[str, Any] | None = None
    selector_options: dict[str, Any] | None = None
    initial_design_options: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        prefix = f"campaign '{self.name}'"
        if not isinstance(self.objective, str) or not self.objective:
            raise ConfigurationError(f"{prefix}: objective must be a non-empty column name")
        self._plain_numbers(prefix)
        if not 0 <= self.seed <= MAX_SEED:
            raise ConfigurationError(
                f"{prefix}: seed must lie in [0, 2**32 - 1] (scikit-learn's and numpy's "
                f"range), got {self.seed}"
            )
        if self.budget < 1:
            raise ConfigurationError(f"{prefix}: budget must be >= 1, got {self.budget}")
        if self.n_initial < 1:
            raise ConfigurationError(f"{prefix}: n_initial must be >= 1, got {self.n_initial}")
        if self.batch_size < 1:
            raise ConfigurationError(f"{prefix}: batch_size must be >= 1, got {self.batch_size}")
        if self.max_retries < 0:
            raise ConfigurationError(f"{prefix}: max_retries must be >= 0, got {self.max_retries}")
        if not self.retry_backoff >= 0:
            raise ConfigurationError(
                f"{prefix}: retry_backoff must be a finite number >= 0 of seconds, "
                f"got {self.retry_backoff}"
            )
        if self.deadline is not None and not self.deadline > 0:
            raise ConfigurationError(f"{prefix}: deadline must be > 0 seconds, got {self.deadline}")
        if not isinstance(self.trust_region, bool):
            raise ConfigurationError(
                f"{prefix}: trust_region must be True or False, got {self.trust_region!r}"
            )
        if self.pending not in PENDING_STRATEGIES:
            raise ConfigurationError(
                f"{prefix}: pending must be one of {list(PENDING_STRATEGIES)}, got '{self.pending}'"
            )
        if self.goal not in GOALS:
            raise ConfigurationError(
                f"{prefix}: goal must be one of {list(GOALS)}, got '{self.goal}'"
            )
        if self.diagnose_every < 0:
            raise ConfigurationError(
                f"{prefix}: diagnose_every must be >= 0, got {self.diagnose_every}"
            )
        if self.budget < self.n_initial:
            raise ConfigurationError(
                f"{prefix}: budget ({self.budget}) is smaller than the initial design "
                f"(n_initial={self.n_initial})"
            )
        if self.objectives is not None:
            outcomes = Objectives.from_dict(self.objectives)
            # as the objectives read it: a stored setting they leave out compares as absent
            object.__setattr__(self, "objectives", outcomes.to_dict())
            names = outcomes.names
            if self.objective != names[0]:
                raise ConfigurationError(
                    f"{prefix}: objective '{self.objective}' is not the first of the "
                    f"objectives {names}"
                )
        if self.closest_to is not None and self.target is not None and self.target < 0:
            raise ConfigurationError(
                f"{prefix}: with closest_to, target is a tolerance and must be >= 0"
            )

    def _plain_numbers(self, prefix: str) -> None:
        """Check the numeric settings' types and keep them as Python's numbers: numpy's
        (a target read off a table, ``df.y.min()``) are taken, and stored as JSON takes
        them."""
        for key in ("budget", "n_initial", "batch_size", "seed", "diagnose_every", "max_retries"):
            value = getattr(self, key)
            if not is_whole_number(value):
                raise ConfigurationError(f"{prefix}: {key} must be an integer, got {value!r}")
            object.__setattr__(self, key, int(value))
        if self.max_in_flight is not None:
            if not is_whole_number(self.max_in_flight) or self.max_in_flight < 1:
                raise ConfigurationError(
                    f"{prefix}: max_in_flight (K) must be an integer >= 1, "
                    f"got {self.max_in_flight!r}"
                )
            object.__setattr__(self, "max_in_flight", int(self.max_in_flight))
        for key in ("closest_to", "target", "retry_backoff", "deadline", "optimum"):
            value = getattr(self, key)
            if value is None and key != "retry_backoff":
                continue
            if not is_finite_number(value):
                raise ConfigurationError(f"{prefix}: {key} must be a finite number, got {value!r}")
            object.__setattr__(self, key, float(value))
        if isinstance(self.maximize, np.bool_):
            object.__setattr__(self, "maximize", bool(self.maximize))
        try:
            params = json.loads(json.dumps(self.acquisition_params, default=plain_number))
        except (TypeError, ValueError) as error:
            raise ConfigurationError(
                f"{prefix}: acquisition_params must be numbers, strings or lists of them ({error})"
            ) from None
        object.__setattr__(self, "acquisition_params", params)

    @property
    def outcomes(self) -> Objectives | None:
        """The objectives and outcome constraints of a campaign that measures several
        properties (None for one objective alone)."""
        return None if self.objectives is None else Objectives.from_dict(self.objectives)

    @property
    def direction(self) -> str:
        """ "max", "min" or "closest to <value>", for messages and tables."""
        if self.closest_to is not None:
            return f"closest to {self.closest_to:g}"
        return "max" if self.maximize else "min"

    def utility(self, values: Sequence[float]) -> np.ndarray:
        """What the model learns from measured values: the values themselves, or
        -|value - closest_to| for a target objective (then larger is better)."""
        values = np.asarray(values, dtype=np.float64)
        if self.closest_to is None:
            return values
        return -np.abs(values - self.closest_to)

    def best_utility(self, values: Sequence[float]) -> float:
        """The best of measured ``values`` on the scale of :meth:`utility`, missing values
        left out; NaN when none is measured."""
        utility = self.utility(values)
        utility = utility[~np.isnan(utility)]
        if not utility.size:
            return math.nan
        return float(utility.max() if self.model_maximizes else utility.min())

    def target_reached(self, best_utility: float) -> bool:
        """Whether the best measurement, on the scale of :meth:`utility`, meets ``target``
        (within ``target`` of ``closest_to`` for a target objective)."""
        if self.target is None:
            return False
        if self.closest_to is not None:
            return -best_utility <= self.target
        return best_utility >= self.target if self.maximize else best_utility <= self.target

    @property
    def model_maximizes(self) -> bool:
        """The direction of :meth:`utility`: a target objective's is maximised."""
        return True if self.closest_to is not None else self.maximize

    def to_dict(self) -> dict[str, Any]:
        """The configuration as plain JSON-able values."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CampaignConfig:
        """Rebuild a configuration saved with :meth:`to_dict`; unknown keys are an error."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigurationError(f"campaign config: unknown keys {unknown}")
        return cls(**data)

    def to_json(self) -> str:
        """The configuration as a JSON string."""
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> CampaignConfig:
        """Rebuild a configuration from :meth:`to_json`'s output."""
        return cls.from_dict(json.loads(text))
