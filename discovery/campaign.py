"""The campaign: fit, score, select, dispatch, record, and go again.

The loop knows surrogates only through ``fit``/``predict``, acquisitions only
through the :class:`~discovery.prediction.Prediction` they score, and oracles
only through submit/poll/cancel, so each can be replaced on its own.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from discovery.acquisition import Acquisition, resolve_acquisition
from discovery.config import CampaignConfig
from discovery.exceptions import ConfigurationError
from discovery.history import CampaignResult, history_columns
from discovery.oracles.base import FAILED, SUCCEEDED, Oracle, Status, check_handle
from discovery.prediction import Prediction
from discovery.selection import Selector, resolve_initial_design, resolve_selector
from discovery.space import CandidatePool
from discovery.surrogates.base import Surrogate, resolve_surrogate, surrogate_name

#: Posterior samples requested from the surrogate when the acquisition needs them.
THOMPSON_SAMPLES = 16
#: Longest pause between two polls of unfinished jobs, in seconds.
MAX_POLL_INTERVAL = 5.0


def _component_name(component: Any) -> str:
    if isinstance(component, str):
        return component
    return str(getattr(component, "name", None) or type(component).__name__)


class Campaign:
    """A closed-loop discovery campaign over a candidate pool.

    Args:
        pool: the candidates.
        oracle: runs the experiments (submit/poll/cancel).
        objective: the measured property to optimise (the key in the oracle's result).
        maximize: True to maximise, False to minimise.
        surrogate: "gp", "forest", "extra_trees" or an object with fit/predict.
        acquisition: "ei", "pi", "ucb", "uncertainty", "greedy", "thompson",
            "random", or a callable ``f(prediction, incumbent, maximize, *, rng, **params)``.
        acquisition_params: keyword parameters of the acquisition, e.g. ``{"beta": 1.0}``.
        selector: batch selector, "top" or "kmeans" (diversified), or an object with ``pick``.
        initial_design: "kmeans", "random", "farthest" or an object with ``pick``.
        batch_size: experiments per iteration after the initial design.
        budget: total experiments, the initial design included.
        n_initial: experiments in the initial design.
        seed: seed of every random choice.
        target: stop once a measurement reaches this value.
        name: the campaign's name in messages.
        device: where the GP runs: "auto", "cpu" or "cuda".
        poll_interval: first pause, in seconds, between polls of unfinished jobs.

    Raises:
        ConfigurationError: any invalid setting, before any experiment is spent.
    """

    def __init__(
        self,
        pool: CandidatePool,
        oracle: Oracle,
        objective: str,
        *,
        maximize: bool = True,
        surrogate: str | Surrogate = "gp",
        acquisition: str | Acquisition | Callable = "ei",
        acquisition_params: dict[str, Any] | None = None,
        selector: str | Selector = "top",
        initial_design: str | Selector = "kmeans",
        batch_size: int = 1,
        budget: int = 50,
        n_initial: int = 5,
        seed: int = 0,
        target: float | None = None,
        name: str = "campaign",
        device: str = "auto",
        poll_interval: float = 0.05,
    ) -> None:
        self._arguments = {k: v for k, v in locals().items() if k not in ("self", "__class__")}
        if not isinstance(pool, CandidatePool):
            raise ConfigurationError(
                f"campaign '{name}': pool must be a CandidatePool, got {type(pool).__name__}"
            )
        for method in ("submit", "poll", "cancel"):
            if not callable(getattr(oracle, method, None)):
                raise ConfigurationError(
                    f"campaign '{name}': oracle {type(oracle).__name__} has no {method}() method"
                )
        self.acquisition = resolve_acquisition(acquisition, **(acquisition_params or {}))
        self.surrogate = resolve_surrogate(surrogate, seed=seed, device=device)
        self.selector = resolve_selector(selector)
        self.initial_design = resolve_initial_design(initial_design)
        self.config = CampaignConfig(
            objective=objective,
            maximize=bool(maximize),
            budget=budget,
            n_initial=n_initial,
            batch_size=batch_size,
            seed=seed,
            target=target,
            surrogate=surrogate_name(self.surrogate),
            acquisition=self.acquisition.name,
            acquisition_params=dict(self.acquisition.params),
            selector=_component_name(self.selector),
            initial_design=_component_name(self.initial_design),
            name=name,
        )
        self._check_fits_pool(pool, oracle)
        self.pool = pool
        self.oracle = oracle
        self.poll_interval = float(poll_interval)

    def _check_fits_pool(self, pool: CandidatePool, oracle: Oracle) -> None:
        config, prefix = self.config, f"campaign '{self.config.name}'"
        if config.n_initial > len(pool):
            raise ConfigurationError(
                f"{prefix}: n_initial ({config.n_initial}) is larger than the pool "
                f"({len(pool)} candidates)"
            )
        if config.batch_size > len(pool) - config.n_initial:
            raise ConfigurationError(
                f"{prefix}: batch_size ({config.batch_size}) is larger than the pool remaining "
                f"after the initial design ({len(pool) - config.n_initial} candidates)"
            )
        if config.budget > len(pool):
            raise ConfigurationError(
                f"{prefix}: budget ({config.budget}) is larger than the pool "
                f"({len(pool)} candidates); each candidate is measured at most once"
            )
        known = getattr(oracle, "known_ids", None)
        if known is not None:
            unknown = [i for i in pool.ids if i not in known]
            if unknown:
                raise ConfigurationError(
                    f"{prefix}: the oracle has no value for {len(unknown)} pool candidates "
                    f"(e.g. {unknown[:3]})"
                )
        answers = getattr(oracle, "objective", config.objective)
        if answers != config.objective:
            raise ConfigurationError(
                f"{prefix}: objective '{config.objective}' but the oracle reports '{answers}'"
            )

    def replace(self, **changes: Any) -> Campaign:
        """A new campaign with some arguments changed (validated again), e.g. ``budget=100``."""
        unknown = sorted(set(changes) - set(self._arguments))
        if unknown:
            raise ConfigurationError(f"campaign '{self.config.name}': unknown options {unknown}")
        return Campaign(**{**self._arguments, **changes})

    def __repr__(self) -> str:
        c = self.config
        direction = "maximise" if c.maximize else "minimise"
        return (
            f"Campaign('{c.name}': {direction} {c.objective} over {len(self.pool)} candidates, "
            f"{c.surrogate}+{c.acquisition}, budget {c.budget})"
        )

    def run(self, progress: bool = True) -> CampaignResult:
        """Run the loop until the budget is spent, the target reached or the pool exhausted."""
        return _Run(self).execute(progress)


class _Run:
    """The mutable state of one run of a campaign."""

    def __init__(self, campaign: Campaign) -> None:
        self.campaign = campaign
        self.config = campaign.config
        self.pool = campaign.pool
        self.rng = np.random.default_rng(self.config.seed)
        self.excluded = np.zeros(len(self.pool), dtype=bool)
        self.measured: list[int] = []
        self.values: list[float] = []
        self.rows: list[dict[str, Any]] = []

    @property
    def incumbent(self) -> float:
        return max(self.values) if self.config.maximize else min(self.values)

    def _target_reached(self) -> bool:
        target = self.config.target
        if target is None or not self.values:
            return False
        return self.incumbent >= target if self.config.maximize else self.incumbent <= target

    def execute(self, progress: bool) -> CampaignResult:
        started = time.perf_counter()
        config = self.config
        stopped = "budget"
        with _progress_bar(progress, config) as bar:
            task = bar.add_task(config.name, total=config.budget, best="-")
            iteration = 0
            while len(self.rows) < config.budget:
                if self._target_reached():
                    stopped = "target"
                    break
                remaining = int((~self.excluded).sum())
                if remaining == 0:
                    stopped = "pool exhausted"
                    break
                size = config.n_initial if iteration == 0 else config.batch_size
                size = min(size, config.budget - len(self.rows), remaining)
                chosen, scores, timing = self._choose(size)
                self._dispatch(iteration, chosen, scores, timing)
                best = f"{self.incumbent:.4g}" if self.values else "-"
                bar.update(task, completed=len(self.rows), best=best)
                iteration += 1
        history = pd.DataFrame(self.rows, columns=history_columns(config.objective))
        return CampaignResult(
            history=history,
            objective=config.objective,
            maximize=config.maximize,
            wall_seconds=time.perf_counter() - started,
            stopped_because=stopped,
        )

    def _choose(self, size: int) -> tuple[np.ndarray, np.ndarray, dict[str, float]]:
        campaign, features = self.campaign, self.pool.features
        if not self.measured:  # the initial design, or every experiment so far failed
            chosen = campaign.initial_design.pick(None, size, self.excluded, features, self.rng)
            return np.asarray(chosen, dtype=int), np.full(len(chosen), np.nan), {}
        acquisition = campaign.acquisition
        fit_started = time.perf_counter()
        available = np.flatnonzero(~self.excluded)
        if acquisition.needs_model:
            campaign.surrogate.fit(features[self.measured], np.asarray(self.values))
            select_started = time.perf_counter()
            n_samples = THOMPSON_SAMPLES if acquisition.needs_samples else 0
            prediction = campaign.surrogate.predict(features[available], n_samples=n_samples)
        else:
            select_started = time.perf_counter()
            zeros = np.zeros(available.shape[0])
            prediction = Prediction(mean=zeros, std=zeros)
        scores = np.full(len(self.pool), -np.inf)
        scores[available] = acquisition.score(
            prediction, self.incumbent, self.config.maximize, self.rng
        )
        chosen = campaign.selector.pick(scores, size, self.excluded, features, self.rng)
        chosen = np.asarray(chosen, dtype=int)
        _check_choice(chosen, size, self.excluded, _component_name(campaign.selector))
        finished = time.perf_counter()
        timing = {
            "fit_seconds": select_started - fit_started,
            "selection_seconds": finished - select_started,
        }
        return chosen, scores[chosen], timing

    def _dispatch(
        self, iteration: int, chosen: np.ndarray, scores: np.ndarray, timing: dict[str, float]
    ) -> None:
        """Submit the batch, wait for every job, record each outcome."""
        oracle, pool = self.campaign.oracle, self.pool
        self.excluded[chosen] = True  # dispatched candidates are never chosen again
        handles: dict[int, dict] = {}
        outcomes: dict[int, Status] = {}
        for index in chosen:
            try:
                handles[int(index)] = check_handle(
                    oracle.submit(pool.candidate(int(index))), type(oracle).__name__
                )
            except Exception as error:  # a failed submission is a failed experiment
                outcomes[int(index)] = Status(
                    FAILED, error=f"submit: {type(error).__name__}: {error}"
                )
        pause = self.campaign.poll_interval
        while len(outcomes) < len(chosen):
            for index, handle in handles.items():
                if index in outcomes:
                    continue
                try:
                    status = oracle.poll(handle)
                except Exception as error:  # an unreadable poll fails the job, not the run
                    status = Status(FAILED, error=f"poll: {type(error).__name__}: {error}")
                if status.is_finished:
                    outcomes[index] = status
            if len(outcomes) < len(chosen):
                time.sleep(pause)
                pause = min(pause * 2, MAX_POLL_INTERVAL)
        for index, score in zip(chosen, scores, strict=True):
            self._record(iteration, int(index), float(score), outcomes[int(index)], timing)

    def _record(
        self, iteration: int, index: int, score: float, status: Status, timing: dict[str, float]
    ) -> None:
        objective = self.config.objective
        value, state, error = math.nan, status.state, status.error
        if state == SUCCEEDED:
            value, error = _objective_value(status.result, objective)
            if error is not None:
                state = FAILED
        if state == SUCCEEDED:
            self.measured.append(index)
            self.values.append(value)
        self.rows.append(
            {
                "iteration": iteration,
                "candidate_id": str(self.pool.ids[index]),
                objective: value,
                "state": state,
                "best_so_far": self.incumbent if self.values else math.nan,
                "score": score,
                "surrogate": self.config.surrogate if iteration else "",
                "acquisition": self.config.acquisition if iteration else self.config.initial_design,
                "fit_seconds": timing.get("fit_seconds", 0.0),
                "selection_seconds": timing.get("selection_seconds", 0.0),
                "error": error or "",
            }
        )


def _objective_value(result: dict[str, Any], objective: str) -> tuple[float, str | None]:
    """The objective's value from an oracle result, or why it cannot be read."""
    if objective in result:
        raw = result[objective]
    elif len(result) == 1:
        raw = next(iter(result.values()))
    else:
        return math.nan, f"result has no '{objective}' (keys: {sorted(result)})"
    try:
        value = float(raw)
    except (TypeError, ValueError):
        return math.nan, f"result '{objective}' is not a number: {raw!r}"
    if not math.isfinite(value):
        return math.nan, f"result '{objective}' is not finite: {value}"
    return value, None


def _check_choice(chosen: np.ndarray, size: int, excluded: np.ndarray, name: str) -> None:
    if chosen.shape[0] != size or len(set(chosen.tolist())) != size:
        raise ConfigurationError(f"selector '{name}' must return {size} distinct indices")
    if np.any(excluded[chosen]):
        raise ConfigurationError(f"selector '{name}' chose an already measured candidate")


def _progress_bar(enabled: bool, config: CampaignConfig) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(f"best {config.objective}: {{task.fields[best]}}"),
        TimeElapsedColumn(),
        disable=not enabled,
        transient=False,
    )
