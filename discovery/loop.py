"""The campaign loop's state, rebuilt from the store at every start.

Everything the loop knows (which candidates were dispatched, what was measured,
the random generator's state, the surrogate's warm-start state) is read back
from the store, so a resumed run continues exactly where the last one stopped
and makes the choices an uninterrupted run would have made.
"""

from __future__ import annotations

import json
import math
import sys
import time
from typing import Any, Protocol

import numpy as np
import pandas as pd
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from discovery.acquisition import Acquisition
from discovery.checks import is_whole_number
from discovery.config import CampaignConfig
from discovery.diagnostics import surrogate_cv_score
from discovery.dispatch import Dispatcher, RetryPolicy
from discovery.exceptions import ConfigurationError
from discovery.history import ranks_by_desirability
from discovery.outcome_models import (
    botorch_acquisition,
    choose_from_pool,
    fit_outcome_models,
    outcome_targets,
    restore_models,
    score_candidates,
    uses_botorch_for_outcomes,
    warm_states,
)
from discovery.policy import PortfolioRun
from discovery.prediction import Prediction
from discovery.proposal import (
    DUPLICATE_TOLERANCE,
    listed_new,
    propose_by_optimizing,
    propose_by_sampling,
    propose_with_botorch,
    uses_botorch,
)
from discovery.rewards import best_position
from discovery.search_space import Space
from discovery.selection import RandomDesign
from discovery.space_design import resolve_space_design, space_initial_design
from discovery.space_points import SpacePoints
from discovery.store import ASKED, CREATED, OPEN_STATES, SUBMITTED, CampaignStore, Job
from discovery.store_cache import OracleCache
from discovery.surrogates import predict_rows, predict_with_samples
from discovery.trust_region import seeks_optimum, trust_region_length

#: Posterior samples requested from the surrogate when the acquisition needs them.
THOMPSON_SAMPLES = 16


def component_name(component: Any) -> str:
    """A component's registry name, ``name`` attribute or class name."""
    if isinstance(component, str):
        return component
    return str(getattr(component, "name", None) or type(component).__name__)


class CampaignParts(Protocol):
    """What a run needs of a campaign: its configuration and its components (the
    :class:`~discovery.campaign.Campaign` has them; the loop knows no campaign)."""

    config: CampaignConfig
    pool: Any
    oracle: Any
    surrogate: Any
    acquisition: Acquisition
    selector: Any
    initial_design: Any
    policy: Any
    device: str
    poll_interval: float


class CampaignRun:
    """Fit, score, select, dispatch and record, with the store as the only memory."""

    def __init__(self, campaign: CampaignParts, store: CampaignStore) -> None:
        self.campaign = campaign
        self.store = store
        self.config = campaign.config
        self.space = campaign.pool if isinstance(campaign.pool, Space) else None
        self.outcome_spec = campaign.config.outcomes  # several properties, or None
        if self.space is not None:  # a declared space: the points chosen so far, as a pool
            self.pool = SpacePoints.of_jobs(self.space, store.jobs())
            self.excluded = np.ones(len(self.pool), dtype=bool)
        else:
            self.pool = campaign.pool
            self.excluded = np.zeros(len(self.pool), dtype=bool)
            for job in store.jobs():
                self.excluded[self.pool.index_of(job.candidate_id)] = True
        self._reload_measurements()
        if self.space is None:  # a design told under an id of its own is measured all the same
            self.excluded[self._pool_rows_told_outside()] = True
        self._outcome_models: list | None = None  # per-output models of the surrogate
        self._outcome_states: list | None = None  # and their warm states, for the store
        last = store.last_iteration()
        self.iteration = 0 if last is None else int(last["iteration"]) + 1
        self.rng = np.random.default_rng(self.config.seed)
        if last is not None:
            self.rng.bit_generator.state = json.loads(last["rng_state_json"])
            state = last["surrogate_state_json"]
            loader = getattr(campaign.surrogate, "load_warm_state", None)
            if state and self.outcome_spec is not None:
                self._outcome_states = json.loads(state)["outputs"]
                self._outcome_models = restore_models(campaign.surrogate, self._outcome_states)
            elif state and campaign.policy is None and callable(loader):
                loader(json.loads(state))
        config = self.config
        self._believed: dict[int, float] = {}  # predicted mean of each candidate when chosen
        self._listed_count = (-1, 0)  # (points taken, a listed space's new points) when counted
        self.dispatcher = Dispatcher(
            campaign.oracle,
            store,
            self.pool,
            self.outcome_spec or config.objective,
            RetryPolicy(config.max_retries, config.retry_backoff, config.deadline),
            campaign.poll_interval,
            capacity=config.max_in_flight,
        )
        self.policy = None
        if campaign.policy is not None:
            records = store.policy_records()
            stored = None if last is None else last["surrogate_state_json"]
            self.policy = PortfolioRun(
                campaign.policy,
                config.seed,
                campaign.device,
                records[-1] if records else None,
                json.loads(stored).get("arms") if stored else None,
            )
        prepare = getattr(campaign.oracle, "prepare", None)
        if callable(prepare):  # what every job needs, computed once and kept in the store
            prepare(OracleCache(store))

    def _reload_measurements(self) -> None:
        """The training data, in the store's order, exactly as a resumed run reads them."""
        measured = self.store.measurements()
        external = [parameters for _, _, parameters in measured if parameters is not None]
        in_pool = [self.pool.index_of(c) for c, _, parameters in measured if parameters is None]
        features = [self.pool.features[in_pool]]
        self.told_features = np.empty((0, self.pool.features.shape[1]))
        if external:
            self.told_features = self.pool.encode(pd.DataFrame(external))
            features.insert(0, self.told_features)
        self.train_features = np.concatenate(features)
        self.values = [math.nan if value is None else value for _, value, _ in measured]
        if self.outcome_spec is not None:
            spec = self.outcome_spec
            rows = [spec.read(result)[0] for result in self.store.measurement_results()]
            self.outcomes = np.array(rows).reshape(len(rows), len(spec.outputs))

    def _taken_points(self) -> np.ndarray:
        """Features of a space's points chosen or measured so far: the jobs' and those told
        from outside (a design must not offer a told point again)."""
        return np.vstack([self.train_features, self.pool.features])

    def _pool_rows_told_outside(self) -> list[int]:
        """Pool rows whose features are those of a design told from outside the pool (a
        lab notebook's id for a pool candidate): measured, so never suggested again."""
        features = self.pool.features
        rows: list[int] = []
        for told in self.told_features:
            # narrowed by the first feature, so a pool of millions is not compared whole
            near = np.flatnonzero(np.abs(features[:, 0] - told[0]) <= DUPLICATE_TOLERANCE)
            same = np.all(np.abs(features[near] - told) <= DUPLICATE_TOLERANCE, axis=1)
            rows.extend(int(i) for i in near[same])
        return rows

    @property
    def incumbent(self) -> float:
        """The best of the measurements, on the scale the model learns (utility): of those
        that meet the outcome constraints, missing values left out; NaN when none does."""
        values = np.asarray(self.values, dtype=np.float64)
        if self.outcome_spec is not None:
            values = np.where(self.outcome_spec.feasible(self.outcomes), values, np.nan)
        return self.config.best_utility(values)

    def _target_reached(self) -> bool:
        return bool(self.values) and self.config.target_reached(self.incumbent)

    # -- the loop ------------------------------------------------------------------------

    def execute(self, progress: bool) -> str:
        """Finish what a previous run left open, then run to the budget; why it stopped."""
        config = self.config
        with _progress_bar(progress, config) as bar:
            task = bar.add_task(config.name, total=config.budget, best=self._best_text(), flight="")
            unfinished = [j for j in self.store.jobs() if j.state in (CREATED, SUBMITTED)]
            if config.max_in_flight is not None:
                return self._execute_asynchronously(unfinished, bar, task)
            if unfinished:
                self._complete(unfinished)
            while True:
                spent = len(self.store.jobs())
                bar.update(task, completed=min(spent, config.budget), best=self._best_text())
                reason = self._stop_reason()
                if reason is not None:
                    return reason
                remaining = self._remaining()
                size = self._initial_owed() or config.batch_size
                jobs = self._choose_and_record(min(size, config.budget - spent, remaining), CREATED)
                self._complete(jobs)

    def _initial_owed(self) -> int:
        """How many more designs the initial design chooses: ``n_initial`` less those
        chosen or measured so far (jobs in any state, told designs outside the pool). A
        campaign asked one suggestion at a time keeps to its initial design for
        ``n_initial`` of them, and told results count towards it."""
        chosen = len(self.store.jobs()) + self.told_features.shape[0]
        return max(0, self.config.n_initial - chosen)

    def _stop_reason(self) -> str | None:
        if len(self.store.jobs()) >= self.config.budget:
            return "budget"
        if self._target_reached():
            return "target"
        if not self._remaining():
            return "pool exhausted" if self.space is None else "space exhausted"
        return None

    def _remaining(self) -> int:
        """Candidates not yet chosen. A declared space with a real parameter never runs
        out; one of integers and categories runs out when each point has been chosen."""
        if self.space is None:
            return int((~self.excluded).sum())
        if not self.space.is_listed:
            return sys.maxsize
        counted = self.train_features.shape[0] + len(self.pool)
        if self._listed_count[0] != counted:  # a point was chosen or told since
            taken = self._taken_points()
            _, features = self.space.listed()
            self._listed_count = (counted, int(listed_new(features, taken).sum()))
        return self._listed_count[1]

    def _execute_asynchronously(self, unfinished: list[Job], bar, task) -> str:
        """Keep ``max_in_flight`` experiments running: as soon as one finishes, record it,
        refit (believing the pending ones) and dispatch the next."""
        config, dispatcher = self.config, self.dispatcher
        for job in unfinished:
            dispatcher.add(job)
        while True:
            reason = self._stop_reason()
            while reason is None and dispatcher.in_flight < config.max_in_flight:
                spent = len(self.store.jobs())
                size = self._initial_owed() or min(
                    config.batch_size, config.max_in_flight - dispatcher.in_flight
                )
                size = min(size, config.budget - spent, self._remaining())
                for job in self._choose_and_record(size, CREATED):
                    dispatcher.add(job)
                if dispatcher.take_recorded_at_submit():  # ran inside submit (no executor):
                    self._learn_from_finished(bar, task)  # the next choice knows its result
                reason = self._stop_reason()
            if not dispatcher.in_flight:
                return reason or "budget"
            dispatcher.run_until(1)
            self._learn_from_finished(bar, task)

    def _learn_from_finished(self, bar, task) -> None:
        """Read the results recorded so far, and show them."""
        self._reload_measurements()
        bar.update(
            task,
            completed=min(len(self.store.jobs()), self.config.budget),
            best=self._best_text(),
            flight=self.dispatcher.describe_in_flight(),
        )

    def ask(self, k: int) -> tuple[list[Job], list[Job]]:
        """The jobs still waiting for a told result, and ``k`` new suggestions: those the
        initial design still owes, then the model's (with nothing measured yet, there is
        no model to ask: all ``k`` come from the initial design)."""
        if not is_whole_number(k) or k < 1:
            raise ConfigurationError(f"ask: k must be a whole number >= 1, got {k!r}")
        pending = [j for j in self.store.jobs() if j.state == ASKED]
        size = min(k, self._remaining())
        if size == 0:
            return pending, []
        owed = self._initial_owed()
        if self.values and 0 < owed < size:  # the rest, as run() does, from the model
            initial = self._choose_and_record(owed, ASKED)
            return pending, initial + self._choose_and_record(size - owed, ASKED)
        return pending, self._choose_and_record(size, ASKED)

    def _best_text(self) -> str:
        if not self.values:
            return "-"
        spec = self.outcome_spec
        if spec is not None:  # the front's size, or the best feasible value
            if spec.is_pareto:
                return f"{int(spec.pareto_mask(self.outcomes).sum())} measurements"
            feasible = spec.feasible(self.outcomes)
            by_desirability = ranks_by_desirability(spec)
            if by_desirability:
                values = spec.desirability(self.outcomes)
            else:
                values = spec.utilities(self.outcomes)[:, 0]
            values = np.where(feasible & ~np.isnan(values), values, -np.inf)
            if not np.isfinite(values).any():
                return "none feasible yet"
            best = int(np.argmax(values))
            shown = values[best] if by_desirability else self.outcomes[best, 0]
            return f"{shown:.4g}"
        best = best_position(self.values, self.config.maximize, self.config.closest_to)
        return f"{self.values[best]:.4g}"

    # -- choosing ------------------------------------------------------------------------

    def _choose_and_record(self, size: int, job_state: str) -> list[Job]:
        chosen, scores, timing, policy = self._choose(size)
        self.excluded[chosen] = True  # dispatched candidates are never chosen again
        modelled = bool(timing)
        config = self.config
        surrogate, acquisition = config.surrogate, config.acquisition
        fitted = (  # the campaign's own surrogate was fitted (not per-output copies)
            modelled
            and self.campaign.acquisition.needs_model
            and policy is None
            and self.outcome_spec is None
        )
        if policy is not None:
            surrogate, acquisition = self.policy.arm_names(policy["arm"])
        jobs = self.store.record_iteration(
            self.iteration,
            "model" if modelled else "initial",
            [
                (str(self.pool.ids[i]), _finite_or_none(s))
                for i, s in zip(chosen, scores, strict=True)
            ],
            self.rng.bit_generator.state,
            job_state=job_state,
            surrogate=surrogate if modelled else None,
            acquisition=acquisition if modelled else config.initial_design,
            timing=timing,
            surrogate_state=self._surrogate_state(fitted),
            diagnostics=self._diagnostics() if fitted else None,
            policy=policy,
            parameters=None if self.space is None else [self.pool.point(int(i)) for i in chosen],
        )
        self.iteration += 1
        return jobs

    def _surrogate_state(self, fitted: bool) -> dict | None:
        """What the next fit continues from, kept with the iteration: the campaign's own
        surrogate's, a portfolio's surrogates' (``arms``), or the per-output models'."""
        if self.outcome_spec is None and self.policy is not None:
            return {"arms": self.policy.warm_states()}
        state = getattr(self.campaign.surrogate, "warm_state", None)
        if fitted and callable(state):
            return state()
        return self._outputs_state()

    def _outputs_state(self) -> dict | None:
        """The per-output models' warm states, kept with every iteration once they exist."""
        if self.outcome_spec is None or self._outcome_states is None:
            return None
        return {"outputs": self._outcome_states}

    def _diagnostics(self) -> dict | None:
        every = self.config.diagnose_every
        if not every or self.iteration % every:
            return None
        return surrogate_cv_score(
            self.campaign.surrogate,
            self.train_features,
            self.config.utility(self.values),
            seed=self.config.seed,
        )

    def fit_surrogate(self, surrogate: Any, believe_pending: bool = True) -> None:
        """Fit on the measurements and, with the "believer" strategy, on each pending
        candidate believed to score what the model predicted when it was chosen (kriging
        believer), so the next choice looks elsewhere. Pending candidates chosen without
        a model (initial design, an earlier process) get the current model's prediction,
        at the cost of a second fit. ``believe_pending=False`` fits on the measurements
        alone (a BoTorch acquisition takes the pending points itself)."""
        features = self.pool.features
        X, y = self.train_features, self.config.utility(self.values)
        pending = [
            self.pool.index_of(job.candidate_id)
            for job in self.store.jobs()
            if job.state in OPEN_STATES
        ]
        if not pending or self.config.pending != "believer" or not believe_pending:
            surrogate.fit(X, y)
            return
        unknown = [i for i in pending if i not in self._believed]
        if unknown:
            surrogate.fit(X, y)
            self._believed.update(
                zip(unknown, surrogate.predict(features[unknown]).mean, strict=True)
            )
        believed = np.array([self._believed[i] for i in pending])
        surrogate.fit(np.vstack([X, features[pending]]), np.concatenate([y, believed]))

    def predict_available(self, surrogate: Any, samples: bool) -> Prediction | None:
        """The fitted surrogate's prediction for every candidate not yet chosen (None in a
        declared space, where there is no list of candidates to predict)."""
        if self.space is not None:
            return None
        available = np.flatnonzero(~self.excluded)
        n_samples = THOMPSON_SAMPLES if samples else 0
        return predict_rows(surrogate, self.pool.features, available, n_samples=n_samples)

    def propose(
        self,
        surrogate: Any,
        acquisition: Any,
        selector: Any,
        size: int,
        prediction: Prediction | None = None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """What a fitted surrogate, an acquisition and a selector would choose now:
        (chosen indices, their scores, their predicted means). ``prediction``: the
        surrogate's prediction for the candidates not yet chosen, if made already.
        In a declared space the choice is a list of new points, not yet registered
        (see :meth:`register`)."""
        if self.space is not None:
            return self._propose_in_space(surrogate, acquisition, selector, size)
        features = self.pool.features
        available = np.flatnonzero(~self.excluded)
        if acquisition.needs_model:
            if prediction is None:
                prediction = self.predict_available(surrogate, acquisition.needs_samples)
        else:
            zeros = np.zeros(available.shape[0])
            prediction = Prediction(mean=zeros, std=zeros)
        scores = np.full(len(self.pool), -np.inf)
        scores[available] = acquisition.score(
            prediction, self.incumbent, self.config.model_maximizes, self.rng
        )
        chosen = np.asarray(
            selector.pick(scores, size, self.excluded, features, self.rng), dtype=int
        )
        _check_choice(chosen, size, self.excluded, component_name(selector))
        means = prediction.mean[np.searchsorted(available, chosen)]
        return chosen, scores[chosen], means

    def register(self, chosen: Any) -> np.ndarray:
        """Indices of a proposal's choice: a pool's indices as they are, a space's new
        points added to the chosen points (never chosen again)."""
        if self.space is None:
            return np.asarray(chosen, dtype=int)
        indices = self.pool.add(chosen)
        self.excluded = np.ones(len(self.pool), dtype=bool)
        return indices

    def proposal_record(self, chosen: Any) -> list:
        """A proposal as JSON-able values: a pool's candidate ids, or a space's points."""
        if self.space is None:
            return [str(self.pool.ids[i]) for i in chosen]
        return [self.space.canonical(point) for point in chosen]

    def features_of(self, record: list) -> np.ndarray:
        """(n, d) features of a :meth:`proposal_record`."""
        if self.space is None:
            return self.pool.features[[self.pool.index_of(i) for i in record]]
        return self.space.encode(record)

    def believe(self, chosen: np.ndarray, means: np.ndarray) -> None:
        """Remember what the model predicted for candidates about to be pending."""
        self._believed.update((int(i), float(m)) for i, m in zip(chosen, means, strict=True))

    def _choose(self, size: int) -> tuple[np.ndarray, np.ndarray, dict[str, float], dict | None]:
        campaign = self.campaign
        # the initial design (until n_initial designs were chosen or measured), or every
        # experiment so far failed
        if not self.values or self._initial_owed():
            chosen = self._initial_choice(size)
            return chosen, np.full(len(chosen), np.nan), {}, None
        if self.policy is not None:
            return self.policy.choose(self, size)
        if self.outcome_spec is not None:
            return self.choose_for_outcomes(size)
        if self.space is not None:
            return self._choose_in_space(size)
        acquisition = campaign.acquisition
        fit_started = time.perf_counter()
        if acquisition.needs_model:
            self.fit_surrogate(campaign.surrogate)
        select_started = time.perf_counter()
        chosen, scores, means = self.propose(
            campaign.surrogate, acquisition, campaign.selector, size
        )
        self.believe(chosen, means)
        timing = {
            "fit_seconds": select_started - fit_started,
            "selection_seconds": time.perf_counter() - select_started,
        }
        return chosen, scores, timing, None

    def random_choice(self, size: int) -> np.ndarray:
        """Indices of ``size`` candidates drawn at random (new points of a space)."""
        if self.space is not None:
            points = space_initial_design(
                self.space, resolve_space_design("random"), size, self._taken_points(), self.rng
            )
            return np.asarray(self.register(points), dtype=int)
        return np.asarray(
            RandomDesign().pick(None, size, self.excluded, self.pool.features, self.rng), dtype=int
        )

    def _initial_choice(self, size: int) -> np.ndarray:
        """Indices chosen as the initial design chooses (no model yet)."""
        campaign = self.campaign
        if self.space is not None:
            points = space_initial_design(
                self.space, campaign.initial_design, size, self._taken_points(), self.rng
            )
            return np.asarray(self.register(points), dtype=int)
        return np.asarray(
            campaign.initial_design.pick(None, size, self.excluded, self.pool.features, self.rng),
            dtype=int,
        )

    def choose_for_outcomes(
        self, size: int, surrogate: Any = None, strategy: str | None = None
    ) -> tuple[np.ndarray, np.ndarray, dict[str, float], None]:
        """Fit one model per modelled output and choose by their joint acquisition (see
        :mod:`discovery.outcome_models`); until every modelled output has a measurement
        (for a front, until one measurement has every objective), choose as the initial
        design does. ``surrogate`` and ``strategy`` (a portfolio
        arm's) default to the campaign's."""
        campaign, spec = self.campaign, self.outcome_spec
        surrogate = campaign.surrogate if surrogate is None else surrogate
        strategy = campaign.strategy if strategy is None else strategy
        fit_started = time.perf_counter()
        targets = outcome_targets(spec, self.outcomes, strategy, self.rng)
        no_front = targets.n_objectives > 1 and targets.reference is None
        if no_front or np.isnan(targets.values).all(axis=0).any():
            chosen = self._initial_choice(size)
            return chosen, np.full(len(chosen), np.nan), {}, None
        if surrogate is campaign.surrogate:  # warm-started from the last iteration's fits
            models = fit_outcome_models(
                surrogate, self.train_features, targets, self._outcome_models
            )
            self._outcome_models = models
            self._outcome_states = warm_states(models) or self._outcome_states
        else:  # a portfolio arm's surrogate: fresh fits
            models = fit_outcome_models(surrogate, self.train_features, targets)
        select_started = time.perf_counter()
        pending = self.pool.features[
            [
                self.pool.index_of(j.candidate_id)
                for j in self.store.jobs()
                if j.state in OPEN_STATES
            ]
        ]
        if uses_botorch_for_outcomes(surrogate, targets):
            function = botorch_acquisition(models, targets, self.train_features, pending, self.rng)
            if self.space is not None:
                taken = self._taken_points()
                points, scores = propose_by_optimizing(self.space, function, size, taken, self.rng)
            else:
                available = np.flatnonzero(~self.excluded)
                rows, scores = choose_from_pool(
                    function, self.pool.features[available], size, pending
                )
                chosen = available[rows]
        else:

            def score(X: np.ndarray) -> np.ndarray:
                return score_candidates(models, targets, campaign.acquisition, X, self.rng)

            if self.space is not None:
                taken = self._taken_points()
                region = self._front_trust_region()
                points, scores = propose_by_sampling(
                    self.space, score, campaign.selector, size, taken, self.rng, region
                )
            else:
                available = np.flatnonzero(~self.excluded)
                all_scores = np.full(len(self.pool), -np.inf)
                all_scores[available] = score(self.pool.features[available])
                chosen = np.asarray(
                    campaign.selector.pick(
                        all_scores, size, self.excluded, self.pool.features, self.rng
                    ),
                    dtype=int,
                )
                scores = all_scores[chosen]
        if self.space is not None:
            chosen = self.register(points)
        timing = {
            "fit_seconds": select_started - fit_started,
            "selection_seconds": time.perf_counter() - select_started,
        }
        return np.asarray(chosen, dtype=int), np.asarray(scores, dtype=float), timing, None

    def _choose_in_space(self, size: int) -> tuple[np.ndarray, np.ndarray, dict[str, float], None]:
        """Fit, propose new points of the declared space, and register them."""
        surrogate, acquisition = self.campaign.surrogate, self.campaign.acquisition
        fit_started = time.perf_counter()
        if acquisition.needs_model:
            self.fit_surrogate(surrogate, not uses_botorch(surrogate, acquisition))
        select_started = time.perf_counter()
        points, scores, means = self.propose(surrogate, acquisition, self.campaign.selector, size)
        chosen = self.register(points)
        self.believe(chosen, means)
        timing = {
            "fit_seconds": select_started - fit_started,
            "selection_seconds": time.perf_counter() - select_started,
        }
        return chosen, scores, timing, None

    def _propose_in_space(
        self, surrogate: Any, acquisition: Any, selector: Any, size: int
    ) -> tuple[list[dict[str, Any]], np.ndarray, np.ndarray]:
        """New points of the declared space: BoTorch for a GP (experiments still running
        enter as pending), a scored Sobol sample and local search otherwise; with their
        scores and predicted means."""
        space = self.space
        open_rows = [
            self.pool.index_of(job.candidate_id)
            for job in self.store.jobs()
            if job.state in OPEN_STATES
        ]
        taken = self._taken_points()
        maximize = self.config.model_maximizes
        if uses_botorch(surrogate, acquisition):
            points, scores = propose_with_botorch(
                space,
                surrogate.botorch_model(),
                acquisition,
                size,
                train_X=self.train_features,
                incumbent=self.incumbent,
                maximize=maximize,
                pending=self.pool.features[open_rows],
                taken=taken,
                rng=self.rng,
                warping=getattr(surrogate, "warping_", None),
            )
        else:
            n_samples = THOMPSON_SAMPLES if acquisition.needs_samples else 0

            def score(X: np.ndarray) -> np.ndarray:
                if acquisition.needs_model:
                    prediction = predict_with_samples(surrogate, X, n_samples)
                else:
                    prediction = Prediction(mean=np.zeros(len(X)), std=np.zeros(len(X)))
                return acquisition.score(prediction, self.incumbent, maximize, self.rng)

            points, scores = propose_by_sampling(
                space,
                score,
                selector,
                size,
                taken,
                self.rng,
                self._trust_region(surrogate, acquisition),
            )
        if acquisition.needs_model:
            means = surrogate.predict(space.encode(points)).mean
        else:
            means = np.zeros(len(points))
        return points, scores, means

    def _trust_region(self, surrogate: Any, acquisition: Acquisition) -> Space | None:
        """The box around the best measurement that a proposal without gradients
        searches in (see :mod:`discovery.trust_region`); None for the whole space, and
        for a GP, which searches it whole (as it does through BoTorch) whatever scores."""
        gp = getattr(surrogate, "name", None) == "gp"
        if not self.config.trust_region or gp or not seeks_optimum(acquisition):
            return None
        utilities = self.config.utility(self.values)
        maximize = self.config.model_maximizes
        length = trust_region_length(
            utilities,
            self.config.n_initial,
            self.space.n_features,
            maximize,
            trials=self.store.measurements_chosen_by_model(),
        )
        best = int(np.argmax(utilities) if maximize else np.argmin(utilities))
        centre = self.space.decode(self.train_features[best : best + 1])[0]
        return self.space.around(centre, length)

    def _front_trust_region(self) -> Space | None:
        """For a Pareto front sought without gradients: a box around the front's
        measurement that holds the most hypervolume, grown and shrunk as measurements
        did or did not add hypervolume (TuRBO's rule, on the hypervolume history);
        None for the whole space."""
        spec, Y = self.outcome_spec, self.outcomes
        if not self.config.trust_region or not spec.is_pareto:
            return None
        reference = spec.search_reference(Y)
        if reference is None:
            return None  # nothing feasible yet: look everywhere
        gains = spec.contributions(Y, reference)
        if not (gains > 0).any():
            return None
        history = spec.hypervolume_history(Y, reference)
        length = trust_region_length(
            history,
            self.config.n_initial,
            self.space.n_features,
            trials=self.store.measurements_chosen_by_model(),
        )
        best = int(np.argmax(gains))
        centre = self.space.decode(self.train_features[best : best + 1])[0]
        return self.space.around(centre, length)

    def _complete(self, jobs: list[Job]) -> None:
        """See every job through (submit, poll, retry, time out, record)."""
        for job in jobs:
            self.dispatcher.add(job)
        self.dispatcher.run_until()
        self._reload_measurements()


def _finite_or_none(score: float) -> float | None:
    return float(score) if np.isfinite(score) else None


def _check_choice(chosen: np.ndarray, size: int, excluded: np.ndarray, name: str) -> None:
    if chosen.shape[0] != size or len(set(chosen.tolist())) != size:
        raise ConfigurationError(f"selector '{name}' must return {size} distinct indices")
    if np.any(excluded[chosen]):
        raise ConfigurationError(f"selector '{name}' chose an already measured candidate")


def _progress_label(config) -> str:
    """What the progress bar reports: the best value, or a Pareto front's size."""
    spec = config.outcomes
    if spec is None:
        return f"best {config.objective}"
    if spec.is_pareto:
        return "Pareto front"
    return "best feasible " + ("desirability" if ranks_by_desirability(spec) else config.objective)


def _progress_bar(enabled: bool, config) -> Progress:
    # names are shown as written: not read as Rich markup ("rate [/s]") nor as format
    # fields ("y{1}")
    label = _progress_label(config).replace("{", "{{").replace("}", "}}")
    return Progress(
        TextColumn("{task.description}", style="bold", markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(f"{label}: {{task.fields[best]}}", markup=False),
        TextColumn("{task.fields[flight]}", markup=False),
        TimeElapsedColumn(),
        disable=not enabled,
        transient=False,
    )
