"""The campaign: fit, score, select, dispatch, record, and go again.

The loop knows surrogates only through ``fit``/``predict``, acquisitions only
through the :class:`~discovery.prediction.Prediction` they score, and oracles
only through submit/poll/cancel, so each can be replaced on its own. Every
step is written to a :class:`~discovery.store.CampaignStore` first (a file, or
memory), so a campaign can be resumed, and driven by hand with ask/tell.
"""

from __future__ import annotations

import math
import numbers
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.types import is_numeric_dtype

from discovery.acquisition import (
    POOL_ONLY,
    Acquisition,
    canonical_name,
    resolve_acquisition,
)
from discovery.array_pool import ArrayPool
from discovery.config import CampaignConfig
from discovery.defaults import AUTO, auto_strategy
from discovery.exceptions import ConfigurationError, StoreError
from discovery.history import HISTORY_COLUMNS, OUTCOME_COLUMNS, CampaignResult, history_frame
from discovery.loop import CampaignRun, component_name
from discovery.objectives import (
    PAREGO_FROM,
    Objective,
    Objectives,
    OutcomeConstraint,
    as_objectives,
)
from discovery.oracles.base import UNNAMED_OUTPUT, Oracle
from discovery.oracles.function import FunctionOracle
from discovery.outcome_models import FEASIBILITY_WEIGHTED, PARETO_STRATEGIES
from discovery.policy import PARETO_ARMS, Portfolio
from discovery.proposal import uses_botorch
from discovery.search_space import Space
from discovery.selection import (
    BATCH_SELECTORS,
    INITIAL_DESIGNS,
    Selector,
    rebuild_selector,
    resolve_initial_design,
    resolve_selector,
    selector_options,
)
from discovery.space import CandidatePool
from discovery.space_design import SPACE_DESIGNS, resolve_space_design
from discovery.space_points import SpacePoints
from discovery.store import CampaignStore
from discovery.store_session import StoreSession, move_aside, record_told, same_told_value
from discovery.surrogates import (
    Surrogate,
    draws_samples,
    rebuild_surrogate,
    resolve_surrogate,
    surrogate_options,
)

#: The columns of :meth:`Campaign.ask`'s table before the candidate's parameters.
ASK_COLUMNS = ("candidate_id", "status", "score")


class Campaign:
    """A closed-loop discovery campaign over a candidate pool or a declared space.

    Args:
        pool: the candidates: a finite :class:`~discovery.space.CandidatePool`, or a
            :class:`~discovery.search_space.Space` of real, integer and categorical
            parameters with constraints, whose points the campaign proposes.
        oracle: runs the experiments (submit/poll/cancel); None for a campaign
            driven only by :meth:`ask` and :meth:`tell`.
        objective: the measured property to optimise (the key in the oracle's result).
        maximize: True to maximise, False to minimise.
        closest_to: aim for values as close as possible to this one instead (a
            band gap of 1.4 eV, a melting point of 300 C); ``target`` is then a
            tolerance to stop at.
        surrogate: "auto" (the default strategy, chosen from the space and the goal:
            :mod:`discovery.defaults`), "gp", "forest", "extra_trees", "neural", or an
            object with fit/predict.
        acquisition: "ei", "pi", "ucb", "mes" (max-value entropy search, over a pool),
            "uncertainty", "greedy", "thompson", "random", or a callable
            ``f(prediction, incumbent, maximize, *, rng, **params)``;
            None: the one ``surrogate="auto"`` chooses, else "ei" for the goal "best",
            "ucb" (GP-UCB) for "cumulative".
        acquisition_params: keyword parameters of the acquisition, e.g. ``{"beta": 1.0}``.
        selector: batch selector, "top" or "kmeans" (diversified), or an object with ``pick``.
        initial_design: "kmeans", "random", "farthest" or an object with ``pick``; for
            a space also "sobol" or "lhs" (a selector then runs over a large feasible
            Sobol sample). None: "kmeans" over a pool, "sobol" over a space.
        batch_size: experiments per iteration after the initial design.
        budget: total experiments, the initial design included.
        n_initial: experiments in the initial design.
        seed: seed of every random choice.
        target: stop once a measurement reaches this value.
        name: the campaign's name in messages.
        device: where the GP runs: "auto", "cpu", "cuda" or "cuda:N".
        poll_interval: first pause, in seconds, between polls of unfinished jobs.
        store: SQLite file that records the campaign as it runs; running again
            with the same file resumes it. None keeps the record in memory.
        diagnose_every: every this many iterations, store the surrogate's k-fold
            CV scores (MAE, RMSE, R², 95 % coverage) with the iteration; 0: never.
        max_retries: transient failures (a :class:`~discovery.exceptions.TransientError`,
            a dead worker, a dropped connection) retried per job, same idempotency key.
        retry_backoff: seconds before the first retry; doubled for each further one.
        deadline: seconds a job may run before it is cancelled and recorded as a
            timeout; None waits for ever.
        max_in_flight: K, the experiments kept running at once: the campaign records,
            refits and dispatches as soon as any finishes; never more than K at
            once (an initial design larger than K waits for free slots). None runs
            synchronous batches of ``batch_size``.
        pending: "believer" (the model believes each running experiment will give
            its predicted mean, so choices spread out; one extra fit) or "ignore".
        goal: "best" (the best candidate found) or "cumulative" (the reward summed
            over every experiment, as when each batch made is sold).
        optimum: the best objective value the pool holds, for regret; None reads
            it from an emulator oracle that knows every value (``LookupOracle``).
        policy: a :class:`~discovery.policy.Portfolio` that learns during the run which
            strategy (surrogate + acquisition + selector) earns the most reward; its
            arms then replace ``surrogate``, ``acquisition`` and ``selector``.
        trust_region: over a space, a surrogate without gradients (forest, neural
            ensemble) searches near the best measurement, in a box that doubles
            after improvements and halves without them (TuRBO); False searches the
            whole space every time. A GP's proposals are not affected.
        objectives: several measured properties to optimise at once, a list of
            :class:`~discovery.objectives.Objective` (``"max"``, ``"min"`` or
            ``"match"`` a target), instead of ``objective``. The oracle returns a dict
            of every property; one missing from a result fails that measurement, one
            reported as None is kept and only that property's model trains without it.
        outcome_constraints: :class:`~discovery.objectives.OutcomeConstraint` on
            measured properties (``OutcomeConstraint("impurity", "<=", 0.05)``): the
            acquisition is weighted by the probability of meeting them, the campaign
            looks for feasibility first while nothing measured is feasible, and the
            best measurement and the Pareto front count feasible ones only.
        mode: "pareto" (default; the front of the objectives' trade-offs, chosen by
            ``acquisition`` "ehvi", expected hypervolume improvement, or "parego";
            "parego" by default from five objectives on) or "desirability" (every
            objective mapped onto [0, 1] by its ``bounds``, combined by a weighted
            geometric mean, and maximised as one objective).
        reference_point: the worst value of each objective that still counts, from
            which hypervolumes are measured; None infers it from the measured front.

    Raises:
        ConfigurationError: any invalid setting, before any experiment is spent.
    """

    def __init__(
        self,
        pool: CandidatePool | ArrayPool | Space,
        oracle: Oracle | None,
        objective: str | None = None,
        *,
        maximize: bool = True,
        closest_to: float | None = None,
        surrogate: str | Surrogate = AUTO,
        acquisition: str | Acquisition | Callable | None = None,
        acquisition_params: dict[str, Any] | None = None,
        selector: str | Selector = "top",
        initial_design: str | Selector | None = None,
        batch_size: int = 1,
        budget: int = 50,
        n_initial: int = 5,
        seed: int = 0,
        target: float | None = None,
        name: str = "campaign",
        device: str = "auto",
        poll_interval: float = 0.05,
        store: str | Path | None = None,
        diagnose_every: int = 0,
        max_retries: int = 3,
        retry_backoff: float = 1.0,
        deadline: float | None = None,
        max_in_flight: int | None = None,
        pending: str = "believer",
        goal: str = "best",
        optimum: float | None = None,
        policy: Portfolio | None = None,
        trust_region: bool = True,
        objectives: Sequence[Objective] | Objectives | None = None,
        outcome_constraints: Sequence[OutcomeConstraint] | None = None,
        mode: str | None = None,
        reference_point: Sequence[float] | None = None,
    ) -> None:
        self._arguments = {k: v for k, v in locals().items() if k not in ("self", "__class__")}
        outcomes = _outcomes(
            name, objective, maximize, closest_to, objectives, outcome_constraints, mode,
            reference_point,
        )  # fmt: skip
        if outcomes is not None:
            first = outcomes.objectives[0]
            objective, maximize = first.name, first.direction != "min"
            closest_to = first.target if first.direction == "match" else None
            acquisition = _outcome_acquisition(name, outcomes, acquisition, policy)
        if not isinstance(pool, (CandidatePool, ArrayPool, Space)):
            raise ConfigurationError(
                f"campaign '{name}': pool must be a CandidatePool, an ArrayPool or a Space, got "
                f"{type(pool).__name__}"
            )
        is_space = isinstance(pool, Space)
        reserved = sorted(set(ASK_COLUMNS) & set(pool.parameter_columns))
        if reserved:
            raise ConfigurationError(
                f"campaign '{name}': parameters named {reserved} would hide the columns "
                f"{list(ASK_COLUMNS)} that ask() reports beside them; rename them"
            )
        measured = {objective} if outcomes is None else set(outcomes.outputs)
        # the columns of several outcomes (feasible, desirability, ...) are not there for one
        columns = HISTORY_COLUMNS if outcomes is not None else HISTORY_COLUMNS - OUTCOME_COLUMNS
        clashing = sorted(measured & columns)
        if clashing:
            raise ConfigurationError(
                f"campaign '{name}': measured properties named {clashing} share their names "
                f"with columns of the campaign's history, which they would overwrite; rename "
                f"them (the oracle's output or the data's column)"
            )
        # A space's points are columns of the history (a pool's candidates are ids).
        hidden = sorted((measured | HISTORY_COLUMNS) & set(pool.parameter_columns))
        if is_space and hidden:
            problem = (
                f"campaign '{name}': parameters named {hidden} share their names with a "
                f"measured property or a column of the campaign's history, where their "
                f"values would be hidden"
            )
            if not _holds_a_campaign(store):
                raise ConfigurationError(f"{problem}; rename them")
            # a store begun before such names were refused goes on (not afresh, see
            # _open_store): its values are stored
            warnings.warn(f"{problem} (the store keeps them)", stacklevel=2)
        self._hidden_names = hidden if is_space else []
        for method in ("submit", "poll", "cancel"):
            if oracle is not None and not callable(getattr(oracle, method, None)):
                raise ConfigurationError(
                    f"campaign '{name}': oracle {type(oracle).__name__} has no {method}() method"
                )
        #: What ``surrogate="auto"`` resolved to, and why (None when a surrogate was named).
        self.auto_choice = None
        if isinstance(surrogate, str) and surrogate == AUTO:
            has_categorical = not is_space and bool(pool.categorical_columns)
            n_columns = 0 if is_space else len(pool.feature_names)
            choice = auto_strategy(is_space, outcomes is not None, goal, has_categorical, n_columns)
            surrogate = choice.surrogate(seed, device)
            self.auto_choice = None if policy is not None else choice  # a portfolio's arms choose
            if acquisition is None and choice.acquisition is not None and policy is None:
                acquisition = choice.acquisition
                acquisition_params = {**choice.acquisition_params, **(acquisition_params or {})}
        if acquisition is None:
            acquisition = "ucb" if goal == "cumulative" else "ei"
        self.outcomes = outcomes
        self.strategy = None  # "ehvi" or "parego" for a Pareto front
        if outcomes is not None and outcomes.is_pareto:
            self.strategy, acquisition = acquisition, "ei"  # ParEGO scalarises, then EI
        self.acquisition = resolve_acquisition(acquisition, **(acquisition_params or {}))
        if policy is not None and not isinstance(policy, Portfolio):
            raise ConfigurationError(
                f"campaign '{name}': policy must be a Portfolio, got {type(policy).__name__}"
            )
        if is_space:
            _check_space_acquisitions(name, self.acquisition, policy)
        if policy is not None and outcomes is None:
            _check_one_objective_portfolio(f"campaign '{name}'", policy)
        self.policy = policy
        self.device = device
        self.surrogate = resolve_surrogate(surrogate, seed=seed, device=device)
        check_settings = getattr(self.surrogate, "check_settings", None)
        if callable(check_settings):  # a typo or a missing GPU, before any experiment
            try:
                check_settings()
            except ConfigurationError as error:
                raise ConfigurationError(f"campaign '{name}': {error}") from None
        _check_botorch_paths(name, self.surrogate, self.acquisition, outcomes, is_space, policy)
        if policy is None and self.acquisition.needs_samples and not draws_samples(self.surrogate):
            raise ConfigurationError(
                f"campaign '{name}': acquisition '{self.acquisition.name}' scores one posterior "
                f"draw, predict(X, n_samples=...), and {type(self.surrogate).__name__} draws "
                f"none ({_why_no_samples(self.surrogate)}); give its predict an n_samples "
                f"argument returning Prediction(mean, std, samples) with samples of shape "
                f"(n_samples, len(X)), or choose an acquisition without samples ('ei', 'ucb')"
            )
        self.selector = resolve_selector(selector)
        if initial_design is None:
            initial_design = "sobol" if is_space else "kmeans"
        self.initial_design = (
            resolve_space_design(initial_design)
            if is_space
            else resolve_initial_design(initial_design)
        )
        self.config = CampaignConfig(
            objective=objective,
            maximize=bool(maximize),
            closest_to=closest_to,
            budget=budget,
            n_initial=n_initial,
            batch_size=batch_size,
            seed=seed,
            target=target,
            surrogate="portfolio" if policy else component_name(self.surrogate),
            acquisition=policy.algorithm if policy else self.strategy or self.acquisition.name,
            acquisition_params=dict(self.acquisition.params),
            selector=component_name(self.selector),
            selector_options=selector_options(self.selector, BATCH_SELECTORS),
            initial_design=component_name(self.initial_design),
            initial_design_options=selector_options(
                self.initial_design, SPACE_DESIGNS if is_space else INITIAL_DESIGNS
            ),
            name=name,
            diagnose_every=diagnose_every,
            max_retries=max_retries,
            retry_backoff=retry_backoff,
            deadline=deadline,
            max_in_flight=max_in_flight,
            pending=pending,
            goal=goal,
            policy=policy.describe() if policy else None,
            trust_region=trust_region,
            objectives=None if outcomes is None else outcomes.to_dict(),
            auto_strategy=self.auto_choice is not None,
            surrogate_options=None
            if policy or self.auto_choice is not None
            else surrogate_options(self.surrogate, component_name(self.surrogate)),
            optimum=optimum
            if optimum is not None
            else None
            if is_space
            else _known_optimum(oracle, pool, maximize, closest_to, outcomes),
        )
        self._check_fits_pool(pool, oracle)
        self.pool = pool
        self.oracle = oracle
        self.poll_interval = _seconds(poll_interval, f"campaign '{self.config.name}'")
        self.store_path = None if store is None else Path(store)
        self._memory_store: CampaignStore | None = None

    def _check_fits_pool(self, pool: CandidatePool | Space, oracle: Oracle | None) -> None:
        config, prefix = self.config, f"campaign '{self.config.name}'"
        if isinstance(pool, Space):
            self._check_oracle_objective(oracle)
            return
        if config.n_initial > len(pool):
            raise ConfigurationError(
                f"{prefix}: n_initial ({config.n_initial}) is larger than the pool "
                f"({len(pool)} candidates)"
            )
        if config.budget > config.n_initial and config.batch_size > len(pool) - config.n_initial:
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
        self._check_oracle_objective(oracle)
        measured = [config.objective] if self.outcomes is None else self.outcomes.outputs
        leaked = _features_that_are_answers(pool, oracle, measured)
        if leaked:
            raise ConfigurationError(
                f"{prefix}: the pool's features {leaked} hold the very values the oracle "
                f"reports for the measured properties of those names, so the model would "
                f"read the answers it is to predict (and the campaign look better than it "
                f"is); {_without_features(pool, leaked, config.objective)}"
            )

    def _check_oracle_objective(self, oracle: Oracle | None) -> None:
        config, prefix = self.config, f"campaign '{self.config.name}'"
        answers = getattr(oracle, "objective", config.objective)
        if answers != config.objective:
            raise ConfigurationError(
                f"{prefix}: objective '{config.objective}' but the oracle reports '{answers}'"
            )
        measured = [config.objective] if self.outcomes is None else list(self.outcomes.outputs)
        named = oracle.output if isinstance(oracle, FunctionOracle) else UNNAMED_OUTPUT
        if named != UNNAMED_OUTPUT and named not in measured:
            raise ConfigurationError(
                f"{prefix}: the oracle reports a plain number as '{named}', which the "
                f"campaign does not measure ({measured}); give FunctionOracle "
                f"output='{config.objective}', or return a dict of named properties"
            )
        declared = getattr(oracle, "outputs", None)  # an oracle that names all it reports
        if declared is not None and self.outcomes is not None:
            missing = [name for name in self.outcomes.outputs if name not in declared]
            if missing:
                raise ConfigurationError(
                    f"{prefix}: the oracle reports {list(declared)}, not {missing}"
                )

    def replace(self, **changes: Any) -> Campaign:
        """A new campaign with some arguments changed (validated again), e.g. ``budget=100``."""
        unknown = sorted(set(changes) - set(self._arguments))
        if unknown:
            raise ConfigurationError(f"campaign '{self.config.name}': unknown options {unknown}")
        return Campaign(**{**self._arguments, **changes})

    def __repr__(self) -> str:
        c = self.config
        over = (
            f"a space of {len(self.pool)} parameters"
            if isinstance(self.pool, Space)
            else f"{len(self.pool)} candidates"
        )
        return (
            f"Campaign('{c.name}': {c.objective} ({c.direction}) over {over}, "
            f"{c.surrogate}+{c.acquisition}, budget {c.budget})"
        )

    def run(self, progress: bool = True, new: bool = False) -> CampaignResult:
        """Run the loop until the budget is spent, the target reached or the pool exhausted.

        With a store file that already holds this campaign, the run resumes it:
        jobs left in flight are polled through their stored handles, nothing
        measured is measured again, and the choices continue as if the run had
        never stopped. ``new=True`` moves an existing file aside and starts afresh.

        Raises:
            StoreError: the file holds a different campaign, is locked by another
                process, or cannot be read or written.
            AccessRefused: the instrument refused credentials it took before (an expired
                token): the run stops with nothing recorded as failed, and running again
                with renewed credentials resumes it.
        """
        if self.oracle is None:
            raise ConfigurationError(
                f"campaign '{self.config.name}' has no oracle: drive it with ask() and tell()"
            )
        started = time.perf_counter()
        with self._open_store(new) as store:
            stopped = CampaignRun(self, store).execute(progress)
            history = store.history(self.config.objective)
            policy = store.policy_records()
        return CampaignResult(
            history=history_frame(
                history,
                self.config.objective,
                self.config.maximize,
                self.config.closest_to,
                self.config.optimum,
                self.outcomes,
            ),
            objective=self.config.objective,
            maximize=self.config.maximize,
            closest_to=self.config.closest_to,
            goal=self.config.goal,
            optimum=self.config.optimum,
            policy=policy,
            outcomes=self.outcomes,
            wall_seconds=time.perf_counter() - started,
            stopped_because=stopped,
            pool=self.pool,
            surrogate=self.surrogate,
        )

    def ask(self, k: int = 1) -> pd.DataFrame:
        """Suggest ``k`` candidates to measure, for a loop you drive yourself.

        The suggestions are recorded as pending; report results with :meth:`tell`.
        Suggestions still pending from earlier calls come back first, marked
        ``pending``, and are never suggested twice. The budget does not limit ask.

        Returns:
            One row per candidate: ``candidate_id``, ``status`` ("pending" or
            "new"), ``score`` and the candidate's parameters.
        """
        with self._open_store(False) as store:
            pending, new = CampaignRun(self, store).ask(k)
        rows = []
        for status, jobs in (("pending", pending), ("new", new)):
            for job in jobs:
                if isinstance(self.pool, Space):
                    parameters = job.parameters
                else:
                    parameters = self.pool.candidate(
                        self.pool.index_of(job.candidate_id)
                    ).parameters
                rows.append(
                    {"candidate_id": job.candidate_id, "status": status, "score": job.score}
                    | parameters
                )
        return pd.DataFrame(rows, columns=[*ASK_COLUMNS, *self.pool.parameter_columns])

    def tell(
        self,
        candidate_id: str | dict[str, Any] | pd.DataFrame,
        value: float | dict[str, Any] | None = None,
        parameters: dict[str, Any] | None = None,
    ) -> None:
        """Record measured results: one ``candidate_id`` and its ``value``, or a
        DataFrame with a ``candidate_id`` column and the objective's column. With
        several objectives or outcome constraints, a value is a dict of every declared
        property (None for one not measured), and a DataFrame has a column for each.

        A candidate need not have been suggested by :meth:`ask`; every result is
        recorded as a measurement and used by the next fit. A design outside the
        pool (legacy data, your own idea) is accepted with its ``parameters`` (or,
        in a DataFrame, the pool's parameter columns) and trains the models too.
        Over a declared space, a point is told by its parameters alone (a dict as
        the first argument, or a DataFrame of parameter columns without
        ``candidate_id``); it must lie in the space.

        Raises:
            ConfigurationError: unknown candidate without parameters, a point outside
                the space, a value that is not a finite number, or a candidate that
                already has an outcome (or is told twice). Every row is checked
                before any is recorded: after a refusal nothing is, and the corrected
                results can be told whole.
        """
        objective = self.config.objective
        outputs = [objective] if self.outcomes is None else list(self.outcomes.outputs)
        is_space = isinstance(self.pool, Space)
        columns = self.pool.parameter_columns
        if isinstance(candidate_id, pd.DataFrame):
            frame = candidate_id
            needed = outputs if is_space else ["candidate_id", *outputs]
            for column in needed:
                if column not in frame.columns:
                    raise ConfigurationError(
                        f"tell: column '{column}' not in the results {list(frame.columns)}"
                    )
            has_parameters = all(c in frame.columns for c in columns)
            has_ids = "candidate_id" in frame.columns
            rows = [  # records keep each column's type (iterrows makes a row of ints floats)
                (
                    str(row["candidate_id"]) if has_ids else None,
                    row[objective] if self.outcomes is None else {o: row[o] for o in outputs},
                    {c: row[c] for c in columns} if has_parameters else None,
                )
                for row in frame.to_dict("records")
            ]
        elif isinstance(candidate_id, dict):
            if not is_space:
                raise ConfigurationError(
                    "tell: over a pool, a result names its candidate_id (a design outside "
                    "the pool: tell(candidate_id, value, parameters={...}))"
                )
            rows = [(None, value, candidate_id)]
        else:
            rows = [(str(candidate_id), value, parameters)]
        told = objective if self.outcomes is None else self.outcomes
        with self._open_store(False) as store:
            if is_space:
                points = SpacePoints.of_jobs(self.pool, store.jobs())
                told_rows = [_space_row(self.pool, points, *r) for r in rows]
                record_told(store, points, told, told_rows)
            else:
                record_told(store, self.pool, told, rows)

    @classmethod
    def resume(cls, store: str | Path, oracle: Oracle | None = None, **changes: Any) -> Campaign:
        """Rebuild a stored campaign (pool, configuration) to run, ask or tell again.

        Surrogates, acquisitions and selectors are rebuilt by their stored names (a
        surrogate chosen by ``"auto"`` is chosen again, with its options, and a library
        surrogate, selector or initial design with its stored settings); pass your own
        objects in ``changes`` when the campaign used them (a surrogate, selector or
        initial design of your own class is refused until you do), and ``budget=`` to
        extend it.

        Raises:
            StoreError: the file is missing, unreadable or holds no campaign.
        """
        path = Path(store)
        reader = CampaignStore(path, read_only=True)
        try:
            row = reader.campaign_row()
            if row is None:
                raise StoreError(f"store {path}: holds no campaign")
            config = CampaignConfig.from_json(row["config_json"])
            pool = reader.load_pool()
        finally:
            reader.close()
        settings = config.to_dict() | {"store": path} | changes
        if config.policy is not None:  # a portfolio's stored names are its own, not models'
            settings["policy"] = changes.get("policy") or _stored_portfolio(config.policy, path)
            for key in ("surrogate", "acquisition", "acquisition_params"):
                if key not in changes:
                    settings.pop(key)
        objective = settings.pop("objective")
        options = settings.pop("surrogate_options")
        if settings.pop("auto_strategy") and "surrogate" not in changes:
            settings["surrogate"] = AUTO
        elif options and "surrogate" not in changes:  # settings its name does not carry
            try:
                settings["surrogate"] = rebuild_surrogate(
                    config.surrogate, options, config.seed, settings.get("device", "auto")
                )
            except ConfigurationError as error:
                raise ConfigurationError(f"store {path}: {error}") from None
        designs = SPACE_DESIGNS if isinstance(pool, Space) else INITIAL_DESIGNS
        for role, registry in (("selector", BATCH_SELECTORS), ("initial_design", designs)):
            stored = settings.pop(f"{role}_options")
            if stored and role not in changes:
                try:
                    settings[role] = rebuild_selector(settings[role], stored, registry, role)
                except ConfigurationError as error:
                    raise ConfigurationError(f"store {path}: {error}") from None
        if isinstance(settings.get("objectives"), dict):
            settings["objectives"] = Objectives.from_dict(settings["objectives"])
            for key in ("maximize", "closest_to"):  # the first objective's, stored for tables
                if key not in changes:
                    settings.pop(key)
        return cls(pool, oracle, objective, **settings)

    def _open_store(self, new: bool) -> StoreSession:
        if self.store_path is None:
            if new or self._memory_store is None:  # the last run's result keeps its history
                self._memory_store = CampaignStore(None)
            return StoreSession(self.config, self.pool, self._memory_store, owned=False)
        if new and self._hidden_names:
            raise ConfigurationError(
                f"campaign '{self.config.name}': parameters named {self._hidden_names} share "
                "their names with a measured property or a column of the history; rename "
                "them before starting afresh"
            )
        if new and self.store_path.exists():
            move_aside(self.store_path)
        return StoreSession(self.config, self.pool, CampaignStore(self.store_path), owned=True)


def _features_that_are_answers(
    pool: CandidatePool | ArrayPool, oracle: Oracle | None, measured: Sequence[str]
) -> list[str]:
    """The measured properties among the pool's features whose values there are those an
    emulator oracle reports (a table's measured column kept as a feature).

    A feature merely named like a measured property is left alone: a structure's
    unrelaxed density beside its measured relaxed density is known before the experiment.
    """
    shared = [name for name in measured if name in pool.parameter_columns]
    recorded = getattr(oracle, "recorded_outputs", None)
    if not shared or not callable(recorded):
        return []
    truth = recorded(pool.ids, shared)
    leaked = []
    for j, name in enumerate(shared):
        if isinstance(pool, ArrayPool):
            column = pool.raw_features[:, pool.feature_names.index(name)]
        elif is_numeric_dtype(pool.frame[name]):
            column = pool.frame[name].to_numpy()
        else:
            continue  # text, one-hot encoded: no measured number
        column, known = np.asarray(column, dtype=np.float64), ~np.isnan(truth[:, j])
        # to float32 precision, in which an ArrayPool holds its columns
        if known.any() and np.allclose(column[known], truth[known, j], rtol=1e-6, atol=0):
            leaked.append(name)
    return leaked


def _without_features(pool: CandidatePool | ArrayPool, names: list[str], objective: str) -> str:
    """How to build ``pool`` again without the features ``names``."""
    if isinstance(pool, ArrayPool):
        kept = [c for c in pool.feature_names if c not in names]
        return (
            f"name the design columns only: ArrayPool.from_parquet(path, features={kept}) "
            f"(from_npy, from_array: an array without {names})"
        )
    first = pool.options.get("objective") or (objective if objective in names else None)
    others = [n for n in names if n != first]
    arguments = ["frame"] + [f"objective={first!r}"] * (first is not None)
    arguments += [f"exclude={others}"] * bool(others)
    return (
        f"leave them out of the features: CandidatePool.from_frame({', '.join(arguments)}) "
        f"(or features=[...] without them)"
    )


def _holds_a_campaign(store: str | Path | None) -> bool:
    """Whether ``store`` is a file that holds a campaign already."""
    if store is None or not Path(store).is_file():
        return False
    try:
        reader = CampaignStore(Path(store), read_only=True)
    except StoreError:
        return False
    try:
        return reader.campaign_row() is not None
    finally:
        reader.close()


def _stored_portfolio(described: dict[str, Any], path: Path) -> Portfolio:
    """The portfolio a store describes, rebuilt from its arms' names.

    Raises:
        ConfigurationError: an arm of the user's own or a reward function, which a name
            cannot rebuild: the portfolio must be passed again.
    """
    try:
        if described.get("custom_arms"):
            raise ConfigurationError(
                f"arms {described['custom_arms']} were set up otherwise than their names build"
            )
        return Portfolio(
            described["arms"], described["algorithm"], described["reward"], **described["options"]
        )
    except ConfigurationError as error:
        raise ConfigurationError(
            f"store {path}: the campaign's portfolio ({described['algorithm']} over "
            f"{described['arms']}) cannot be rebuilt from its names ({error}); pass it again: "
            f"Campaign.resume(store, oracle, policy=Portfolio(...))"
        ) from None


def _seconds(value: Any, prefix: str) -> float:
    """``poll_interval`` as seconds, or a clear error before any experiment."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value >= 0:
        raise ConfigurationError(f"{prefix}: poll_interval must be seconds >= 0, got {value!r}")
    if not math.isfinite(value):
        raise ConfigurationError(f"{prefix}: poll_interval must be finite, got {value!r}")
    return float(value)


def _outcomes(
    name: str,
    objective: str | None,
    maximize: bool,
    closest_to: float | None,
    objectives: Sequence[Objective] | Objectives | None,
    constraints: Sequence[OutcomeConstraint] | None,
    mode: str | None,
    reference_point: Sequence[float] | None,
) -> Objectives | None:
    """The campaign's objectives and outcome constraints, when it has more than one
    objective or any constraint; None for one plain objective."""
    prefix = f"campaign '{name}'"
    if objectives is None:
        if objective is None:
            raise ConfigurationError(
                f"{prefix}: name the property to optimise: objective='y', or objectives=[...]"
            )
        if constraints is None and mode is None and reference_point is None:
            return None
        if closest_to is not None:
            objectives = [Objective(objective, "match", target=closest_to)]
        else:
            objectives = [Objective(objective, "max" if maximize else "min")]
    elif isinstance(objectives, (str, Objective)) or not isinstance(
        objectives, (Sequence, Objectives)
    ):
        raise ConfigurationError(
            f"{prefix}: objectives must be a list of Objective, got {objectives!r}"
        )
    elif not maximize or closest_to is not None:
        raise ConfigurationError(
            f"{prefix}: with objectives=[...] each Objective has its direction ('max', "
            f"'min' or 'match' with a target); maximize and closest_to are for one objective"
        )
    if constraints is not None and (
        isinstance(constraints, (str, OutcomeConstraint)) or not isinstance(constraints, Sequence)
    ):
        raise ConfigurationError(
            f"{prefix}: outcome_constraints must be a list of OutcomeConstraint, got "
            f"{constraints!r}"
        )
    try:
        outcomes = as_objectives(objectives, constraints, mode, reference_point)
    except ConfigurationError as error:
        raise ConfigurationError(f"{prefix}: {error}") from None
    if objective is not None and objective != outcomes.names[0]:
        raise ConfigurationError(
            f"{prefix}: give objective='{objective}' or objectives={outcomes.names}, not both"
        )
    return outcomes


def _outcome_acquisition(name: str, outcomes: Objectives, acquisition: Any, policy: Any) -> Any:
    """The acquisition of a campaign with several objectives or outcome constraints:
    for a Pareto front "ehvi" or "parego" (by default "ehvi", "parego" from
    ``PAREGO_FROM`` objectives on); otherwise a log-scaled one, which the probability
    of feasibility can weight."""
    prefix = f"campaign '{name}'"
    if policy is not None:
        _check_front_portfolio(prefix, outcomes, policy)
        return "ehvi"  # the arms choose their own
    if outcomes.is_pareto:
        if acquisition is None:
            return "parego" if len(outcomes.objectives) >= PAREGO_FROM else "ehvi"
        if acquisition not in PARETO_STRATEGIES:
            raise ConfigurationError(
                f"{prefix}: a Pareto front is sought with acquisition 'ehvi' (expected "
                f"hypervolume improvement) or 'parego', got {acquisition!r}"
            )
        return acquisition
    if acquisition is None:
        return "ei"
    if outcomes.constraints and acquisition not in FEASIBILITY_WEIGHTED:
        raise ConfigurationError(
            f"{prefix}: with outcome constraints the acquisition is weighted by the "
            f"probability of feasibility; choose one of {list(FEASIBILITY_WEIGHTED)}, "
            f"got {acquisition!r}"
        )
    return acquisition


def _check_botorch_paths(
    name: str,
    surrogate: Any,
    acquisition: Acquisition,
    outcomes: Objectives | None,
    is_space: bool,
    policy: Portfolio | None,
) -> None:
    """Where BoTorch proposes for a GP (over a declared space; with several outcomes or
    outcome constraints, through its noisy expected improvement), settings it cannot
    honour are refused rather than dropped: another acquisition with outcomes, and the
    hyper-parameter draws, which average only the GP's own predictions."""
    if policy is not None or getattr(surrogate, "name", None) != "gp":
        return
    prefix = f"campaign '{name}'"
    several = outcomes is not None and not outcomes.is_pareto
    if several and not (acquisition.name == "ei" and acquisition.is_builtin):
        raise ConfigurationError(
            f"{prefix}: with a GP, a campaign of several outcomes or outcome constraints "
            f"chooses by BoTorch's noisy expected improvement (acquisition 'ei'), not "
            f"{acquisition.name!r}; for {acquisition.name!r} use surrogate='forest' or 'neural'"
        )
    draws = getattr(surrogate, "hyperparameter_draws", 0)
    through_botorch = outcomes is not None or (is_space and uses_botorch(surrogate, acquisition))
    if draws and through_botorch:
        where = "over several outcomes" if outcomes is not None else "over a declared space"
        raise ConfigurationError(
            f"{prefix}: hyperparameter_draws={draws} average the GP's predictions over a "
            f"pool of one objective; {where} BoTorch proposes from the fitted "
            f"hyper-parameters, so the draws would cost time and change nothing; leave "
            f"hyperparameter_draws at 0"
        )


def _why_no_samples(surrogate: Any) -> str:
    """Why :func:`~discovery.surrogates.draws_samples` is False for ``surrogate``."""
    if getattr(surrogate, "supports_samples", True) is False:
        return "supports_samples is False"
    return "its predict takes no n_samples"


def _check_space_acquisitions(
    name: str, acquisition: Acquisition, policy: Portfolio | None
) -> None:
    """A declared space is searched by sampling: no acquisition, the campaign's or an
    arm's, may need a whole pool scored at once."""
    arms = policy.arms if policy is not None else []
    names = [acquisition.name] * acquisition.is_builtin + [
        canonical_name(a.acquisition) if isinstance(a.acquisition, str) else a.acquisition.name
        for a in arms
        if isinstance(a.acquisition, str) or a.acquisition.is_builtin
    ]
    for chosen in names:
        if chosen in POOL_ONLY:
            raise ConfigurationError(
                f"campaign '{name}': acquisition '{chosen}' compares the candidates of a "
                f"finite pool with each other; in a declared space choose one of 'ei', "
                f"'ucb', 'pi', 'thompson', 'greedy' or 'uncertainty'"
            )


def _check_one_objective_portfolio(prefix: str, policy: Portfolio) -> None:
    """A portfolio over one objective: no reward or arm that is for a Pareto front (an
    ehvi or parego arm would run plain EI under its Pareto name, a copy of another arm)."""
    if policy.reward == "hypervolume":
        raise ConfigurationError(
            f"{prefix}: reward 'hypervolume' is for several objectives; with one, "
            f"use 'objective' or 'improvement'"
        )
    wrong = [a.name for a in policy.arms if a.acquisition in PARETO_ARMS]
    if wrong:
        raise ConfigurationError(
            f"{prefix}: arms {wrong} seek a Pareto front ({list(PARETO_ARMS)}), and a "
            f"campaign of one objective has none; choose arms for one objective (e.g. "
            f"'gp-ei', 'forest-ei'), or give the objectives of a front: objectives=[...]"
        )


def _check_front_portfolio(prefix: str, outcomes: Objectives, policy: Any) -> None:
    """A portfolio over several objectives: Pareto arms, rewarded by hypervolume."""
    if not outcomes.is_pareto:
        raise ConfigurationError(
            f"{prefix}: a portfolio policy learns over one objective or a Pareto front; "
            f"with outcome constraints or a desirability, give a surrogate and acquisition"
        )
    if getattr(policy, "reward", None) != "hypervolume":
        raise ConfigurationError(
            f"{prefix}: a portfolio over a Pareto front is rewarded by the hypervolume each "
            f"pick adds: Portfolio(..., reward='hypervolume')"
        )
    if getattr(policy, "algorithm", None) == "hedge":
        raise ConfigurationError(
            f"{prefix}: GP-Hedge credits every arm through one model's predictions of one "
            f"objective; over a Pareto front use algorithm 'exp3', 'ucb1' or 'thompson'"
        )
    wrong = [
        a.name
        for a in getattr(policy, "arms", [])
        if a.surrogate is not None and a.acquisition not in PARETO_STRATEGIES
    ]
    if wrong:
        raise ConfigurationError(
            f"{prefix}: over a Pareto front every arm seeks the front ({list(PARETO_STRATEGIES)}, "
            f"e.g. 'gp-ehvi', 'forest-parego') or is 'random'; {wrong} are not"
        )


def _space_row(
    space: Space,
    points: SpacePoints,
    candidate_id: str | None,
    value: Any,
    parameters: dict | None,
) -> tuple[str, Any, dict | None]:
    """A told row over a space: its id derived from its point, which must lie in the space.

    A row that names a point the campaign chose (an id from ask()) and gives parameters
    must give that point's: else the result would go to a new point and the chosen one
    stay open for ever.
    """
    if parameters is None:
        if candidate_id is None:
            raise ConfigurationError(f"tell: a point needs its parameters {space.names}")
        return candidate_id, value, None
    problem = space.violation(parameters)
    if problem is not None:
        raise ConfigurationError(f"tell: the point is outside the space: {problem}")
    point = space.canonical(parameters)
    derived = space.candidate_id(point)
    if candidate_id is not None and candidate_id != derived and candidate_id in points:
        chosen = points.point(points.index_of(candidate_id))
        if all(same_told_value(chosen[n], parameters[n]) for n in space.names if n in parameters):
            return candidate_id, value, None  # the chosen point, its digits written anew
        differing = {n: (chosen[n], point[n]) for n in space.names if chosen[n] != point[n]}
        raise ConfigurationError(
            f"tell: candidate '{candidate_id}' was chosen at other parameters than the row "
            f"gives (chosen, given: {differing}); give the chosen ones with its id, or the "
            f"ones it was run at without candidate_id (a new point)"
        )
    return derived, value, point


def _known_optimum(
    oracle: Oracle | None,
    pool: CandidatePool,
    maximize: bool,
    closest_to: float | None,
    outcomes: Objectives | None,
) -> float | None:
    """The best value an emulator oracle holds for the pool's candidates, if it knows
    them; under outcome constraints, the best among the candidates that meet them."""
    best_recorded = getattr(oracle, "best_recorded", None)
    if not callable(best_recorded):
        return None
    ids = pool.ids
    if outcomes is not None and outcomes.constraints:
        recorded = getattr(oracle, "recorded_outputs", None)
        if not callable(recorded):
            return None  # which candidates are feasible is unknown: no optimum to compare
        ids = ids[outcomes.feasible(recorded(ids, outcomes.outputs))]
    return best_recorded(ids, maximize, closest_to)
