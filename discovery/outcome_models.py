"""Choosing experiments when several properties are measured: one model per modelled
output, and the acquisitions that combine them.

What the models learn each iteration (:func:`outcome_targets`):

- while no measurement meets every outcome constraint: only the constraints, and the
  campaign looks for feasibility first (it maximises the probability of feasibility,
  as Ax does);
- a Pareto front with "ehvi": each objective's utility (larger is better);
- otherwise one number: the single objective's utility, the desirability, or, with
  "parego", an augmented Chebyshev scalarisation of the utilities under weights
  drawn afresh from the simplex each iteration (ParEGO);

and beside them each outcome constraint's slack (positive inside its bound). Each
output's model is a fresh copy of the campaign's surrogate fitted on the measurements
that have that output.

How they score (:func:`score_candidates`, :func:`botorch_acquisition`):

- a GP: BoTorch's qLogNEHVI (Pareto, over a ``ModelListGP``) or qLogNEI (one
  number), from the feasible measurements, with experiments still running as
  ``X_pending``, plus the log probability of feasibility of each constraint
  (:class:`LogFeasibilityWeighted`); where the GPs learn warped values (output
  warping), the reference point and the constraints' bounds are warped alike
  (:func:`on_model_scales`), and hypervolume scores are in the warped units;
- any other surrogate: expected hypervolume improvement by Monte Carlo over the
  models' samples, or normal draws from their means and spreads while nothing
  measured beats the reference point (each draw's improvement summed over the cells
  of BoTorch's box decomposition of the measured front), or the campaign's
  acquisition of the one number; either plus the log of the probability of
  feasibility (constrained EI).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from botorch.acquisition import AcquisitionFunction
from botorch.utils.multi_objective.box_decompositions.non_dominated import (
    FastNondominatedPartitioning,
)
from scipy.special import log_ndtr

from discovery.acquisition import Acquisition
from discovery.exceptions import NotFittedError
from discovery.objectives import Objectives, inferred_reference, measured_spread, spread_units
from discovery.proposal import tensor_options
from discovery.surrogates import draws_samples, predict_with_samples

PARETO_STRATEGIES = ("ehvi", "parego")
#: Acquisitions on a log scale, to which the log-probability of feasibility is added.
FEASIBILITY_WEIGHTED = ("ei", "pi")
#: Joint draws of the objectives per candidate for Monte Carlo hypervolume improvement.
HYPERVOLUME_SAMPLES = 64
#: Candidates whose hypervolume improvement is computed at once (memory: samples x
#: candidates x cells x objectives).
HYPERVOLUME_CHUNK = 512
#: Floor of a predicted standard deviation when a constraint's feasibility is computed,
#: as a share of the spread of its measured slacks (:meth:`OutcomeTargets.slack_spreads`).
MIN_STD_SHARE = 1e-9
#: Log-score of a candidate expected to improve nothing (keeps the scores finite).
NO_IMPROVEMENT_LOG = -1e3


@dataclass(frozen=True)
class OutcomeTargets:
    """What the models learn this iteration.

    Attributes:
        values: (n, t) one column per model: the objectives (``n_objectives`` of
            them) then each outcome constraint's slack; NaN where unmeasured.
        n_objectives: columns that are objectives: the objectives' count for a
            Pareto front, 1 for one number, 0 while searching for feasibility.
        incumbent: the best feasible value of the one number (None otherwise).
        front: (p, m) utilities of the feasible Pareto front (Pareto only).
        reference: (m,) the reference point's utilities (Pareto only).
        feasible: (n,) measurements that meet every outcome constraint and have every
            objective: the baseline a noisy improvement is measured from.
    """

    values: np.ndarray
    n_objectives: int
    incumbent: float | None = None
    front: np.ndarray | None = None
    reference: np.ndarray | None = None
    feasible: np.ndarray | None = None

    @property
    def n_constraints(self) -> int:
        return self.values.shape[1] - self.n_objectives

    def baseline(self) -> np.ndarray:
        """(n,) bool: the measurements a noisy improvement is measured from: the
        feasible ones with every objective, or, while none is both (the measurements that
        meet the constraints lack an objective), every one with every objective."""
        if self.feasible is not None and self.feasible.any():
            return self.feasible
        return ~np.isnan(self.values[:, : self.n_objectives]).any(axis=1)

    def slack_spreads(self) -> np.ndarray:
        """(c,) the spread of each outcome constraint's measured slacks
        (:func:`~discovery.objectives.measured_spread`): the unit its feasibility is
        judged in, so that a bound on an impurity in units of 1e-12 is kept as one in
        units of 1 is."""
        return measured_spread(self.values[:, self.n_objectives :])


def outcome_targets(
    objectives: Objectives, Y: np.ndarray, strategy: str | None, rng: np.random.Generator
) -> OutcomeTargets:
    """The models' targets from the measured outputs ``Y: (n, k)``."""
    slacks = objectives.constraint_slacks(Y)
    feasible = objectives.feasible(Y)
    if objectives.constraints and not feasible.any():
        return OutcomeTargets(values=slacks, n_objectives=0)
    if strategy == "ehvi":
        U = objectives.utilities(Y)
        return OutcomeTargets(
            values=np.column_stack([U, slacks]),
            n_objectives=U.shape[1],
            front=U[objectives.pareto_mask(Y)],
            reference=objectives.reference_utilities(Y),
            feasible=feasible & ~np.isnan(U).any(axis=1),
        )
    if objectives.mode == "desirability":
        scalar = objectives.desirability(Y)
    elif strategy == "parego":
        weights = rng.dirichlet(np.ones(len(objectives.objectives)))
        scalar = objectives.chebyshev(Y, weights)
    else:
        scalar = objectives.utilities(Y)[:, 0]
    known = feasible & ~np.isnan(scalar)
    incumbent = float(scalar[known].max()) if known.any() else None
    return OutcomeTargets(
        values=np.column_stack([scalar, slacks]),
        n_objectives=1,
        incumbent=incumbent,
        feasible=known,
    )


def copy_surrogate(template: Any) -> Any:
    """A fresh, unfitted copy of a surrogate, with the template's settings."""
    try:
        from sklearn.base import clone

        return clone(template)
    except TypeError:  # a user's object that is no scikit-learn estimator
        return copy.deepcopy(template)


def fit_outcome_models(
    template: Any, X: np.ndarray, targets: OutcomeTargets, previous: list[Any] | None = None
) -> list[Any]:
    """One fitted model per target column, on the rows that have it: the ``previous``
    iteration's model of that column refitted (a GP then starts from its last
    hyper-parameters, as a single objective's does), or a fresh copy of ``template``."""
    models = []
    for j, column in enumerate(targets.values.T):
        rows = ~np.isnan(column)
        model = previous[j] if previous and j < len(previous) else copy_surrogate(template)
        models.append(model.fit(X[rows], column[rows]))
    return models


def warm_states(models: list[Any]) -> list[Any] | None:
    """What each model's next warm-started fit starts from (None for a model that has
    none, or is not fitted yet), for the store: a resumed campaign then fits as an
    uninterrupted one; None when no model has any."""
    states = [_warm_state(m) for m in models]
    return states if any(state is not None for state in states) else None


def _warm_state(model: Any) -> Any:
    save = getattr(model, "warm_state", None)
    try:
        return save() if callable(save) else None
    except NotFittedError:  # a portfolio arm's surrogate, never drawn yet
        return None


def restore_models(template: Any, states: list[Any]) -> list[Any]:
    """Copies of ``template`` that continue from stored :func:`warm_states`."""
    models = []
    for state in states:
        model = copy_surrogate(template)
        if state is not None:
            model.load_warm_state(state)
        models.append(model)
    return models


# -- any surrogate: numpy scores ----------------------------------------------------------


def score_candidates(
    models: list[Any],
    targets: OutcomeTargets,
    acquisition: Acquisition,
    X: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """(N,) scores of candidates ``X: (N, d)``, higher is better (log scale when an
    outcome constraint or a hypervolume improvement is involved)."""
    k = targets.n_objectives
    log_feasible = np.zeros(X.shape[0])
    for model, spread in zip(models[k:], targets.slack_spreads(), strict=True):
        prediction = model.predict(X)
        # a floor in the slack's own units: an absolute one (1e-9) outweighed a forest's
        # spread on a property in units of 1e-12, and every candidate looked 50 % feasible
        std = np.maximum(prediction.std, MIN_STD_SHARE * spread)
        log_feasible += log_ndtr(prediction.mean / std)
    if k == 0:
        return log_feasible
    if targets.front is not None:
        improvement, shortfall = expected_hypervolume_improvement(models[:k], targets, X, rng)
        # a candidate no draw improves is ranked by how far its mean falls short of the
        # region that would improve (a forest never predicts beyond what it has seen, so
        # before anything beats the reference point every improvement is zero)
        log_improvement = NO_IMPROVEMENT_LOG - shortfall
        positive = improvement > 0
        log_improvement[positive] = np.log(improvement[positive])
        return log_improvement + log_feasible
    n_samples = 16 if acquisition.needs_samples else 0
    prediction = predict_with_samples(models[0], X, n_samples)
    incumbent = -np.inf if targets.incumbent is None else targets.incumbent
    scores = acquisition.score(prediction, incumbent, True, rng)
    return scores + log_feasible if targets.n_constraints else scores


def _draws(
    model: Any, X: np.ndarray, rng: np.random.Generator, beyond_measured: bool
) -> np.ndarray:
    """(HYPERVOLUME_SAMPLES, N) draws of a model's prediction: its own samples (trees,
    ensemble members) resampled, or, where it has none or ``beyond_measured`` is set,
    normal draws from its mean and std.

    A forest's trees never predict beyond the values measured, so while the front must
    still get past the reference point (nothing measured beats it yet) draws from them
    cannot reach the region that counts, and the search clings to the poor front found
    first: on BraninCurrin half the runs never got past the reference point. Normal
    draws from the trees' spread (SMAC's reading of a random forest, Hutter et al.
    2011) can; once the front beats the reference point, the members' own draws
    exploit it better."""
    wanted = 0 if beyond_measured or not draws_samples(model) else HYPERVOLUME_SAMPLES
    prediction = predict_with_samples(model, X, wanted)
    samples = prediction.samples
    if not beyond_measured and samples is not None and not np.isnan(samples).any():
        return samples[rng.integers(0, samples.shape[0], HYPERVOLUME_SAMPLES)]
    noise = rng.standard_normal((HYPERVOLUME_SAMPLES, X.shape[0]))
    return prediction.mean + noise * prediction.std


def expected_hypervolume_improvement(
    models: list[Any], targets: OutcomeTargets, X: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """(N,) Monte Carlo expected hypervolume improvement of each candidate over the
    measured feasible front, from the reference point; and (N,) how far each
    candidate's mean draw lies from the region that would improve, in standard
    deviations of the measured utilities."""
    reference = torch.as_tensor(targets.reference, dtype=torch.float64)
    front = torch.as_tensor(targets.front, dtype=torch.float64).reshape(-1, len(reference))
    measured = targets.values[:, : len(reference)]
    loosened = bool(front.shape[0]) and not (front > reference).all(dim=-1).any()
    if loosened:
        # nothing measured beats the reference point yet: measure improvement from a
        # point the front does beat, so the models' draws (a forest's never leave the
        # range measured) can tell candidates apart
        inferred = inferred_reference(front.numpy(), measured_spread(measured))
        reference = torch.minimum(reference, torch.as_tensor(inferred))
    front = front[(front > reference).all(dim=-1)]
    lower, upper = FastNondominatedPartitioning(ref_point=reference, Y=front).get_hypercell_bounds()
    scale = torch.as_tensor(measured_spread(measured), dtype=torch.float64)
    improvement, shortfall = np.empty(X.shape[0]), np.empty(X.shape[0])
    for start in range(0, X.shape[0], HYPERVOLUME_CHUNK):
        chunk = slice(start, start + HYPERVOLUME_CHUNK)
        draws = np.stack([_draws(m, X[chunk], rng, loosened) for m in models], axis=-1)
        Z = torch.as_tensor(draws, dtype=torch.float64).unsqueeze(-2)  # (s, N, 1, m)
        overlap = (torch.minimum(Z, upper) - lower).clamp_min(0).prod(dim=-1).sum(dim=-1)
        improvement[chunk] = overlap.mean(dim=0).numpy()
        gap = ((lower - Z.mean(dim=0)).clamp_min(0) / scale).norm(dim=-1)  # (N, cells)
        shortfall[chunk] = gap.min(dim=-1).values.numpy()
    return improvement, shortfall


# -- a GP: BoTorch ------------------------------------------------------------------------


def botorch_acquisition(
    models: list[Any],
    targets: OutcomeTargets,
    X_baseline: np.ndarray,
    pending: np.ndarray,
    rng: np.random.Generator,
):
    """qLogNEHVI (Pareto) or qLogNEI (one number) over a ``ModelListGP`` of the
    objectives' fitted GP surrogates, from the feasible measurements, plus the log of
    each outcome constraint's probability of feasibility under its own GP."""
    from botorch.acquisition.logei import qLogNoisyExpectedImprovement
    from botorch.acquisition.multi_objective.logei import (
        qLogNoisyExpectedHypervolumeImprovement,
    )
    from botorch.acquisition.multi_objective.objective import WeightedMCMultiOutputObjective
    from botorch.acquisition.objective import LinearMCObjective
    from botorch.models.model_list_gp_regression import ModelListGP

    torch.manual_seed(int(rng.integers(2**31)))  # the Monte Carlo draws, for exact resumes
    k = targets.n_objectives
    warpings = [getattr(m, "warping_", None) for m in models]
    objectives = [m.botorch_model() for m in models[:k]]
    model = ModelListGP(*objectives) if k > 1 else objectives[0]
    options = tensor_options(model)
    baseline = torch.as_tensor(X_baseline[targets.baseline()], **options)
    X_pending = torch.as_tensor(pending, **options) if pending.shape[0] else None
    # BoTorch smooths each objective's improvement over an absolute 1e-6 (tau_relu): a
    # front or a yield in units of 1e-12 was all smoothing, and chosen by it
    measured = on_model_scales(targets.values[:, :k], warpings[:k])
    units = spread_units(measured_spread(measured))
    if targets.front is not None:
        reference = on_model_scales(targets.reference[None, :], warpings[:k])[0]
        inner = qLogNoisyExpectedHypervolumeImprovement(
            model,
            ref_point=(reference / units).tolist(),
            X_baseline=baseline,
            objective=WeightedMCMultiOutputObjective(torch.as_tensor(1 / units, **options)),
            X_pending=X_pending,
            prune_baseline=True,
        )
    else:
        inner = qLogNoisyExpectedImprovement(
            model,
            X_baseline=baseline,
            objective=LinearMCObjective(torch.as_tensor(1 / units, **options)),
            X_pending=X_pending,
            prune_baseline=True,
        )
    inner = LogInUnits(inner, float(np.log(units).sum()))
    if targets.n_constraints == 0:
        return inner
    slacks = on_model_scales(targets.values[:, k:], warpings[k:])
    bounds = on_model_scales(np.zeros((1, targets.n_constraints)), warpings[k:])[0]
    return LogFeasibilityWeighted(
        inner,
        [m.botorch_model() for m in models[k:]],
        measured_spread(slacks).tolist(),
        bounds.tolist(),
    )


def on_model_scales(values: np.ndarray, warpings: list[Any]) -> np.ndarray:
    """(n, c) values, a column per output, on the scale each output's GP learns: through
    its output warping (``warping_``, None for none), which BoTorch's posterior is in.
    A reference point or a constraint's bound compared with that posterior must be
    warped as the measurements were."""
    columns = [
        column if warping is None else warping.forward(column)
        for column, warping in zip(np.asarray(values, dtype=float).T, warpings, strict=True)
    ]
    return np.column_stack(columns) if columns else np.empty_like(values, dtype=float)


class LogInUnits(AcquisitionFunction):
    """A log-scale acquisition computed on objectives divided by units, reported in the
    objectives' own units, as the other surrogates' scores are
    (:func:`expected_hypervolume_improvement`): a hypervolume improvement measured in
    units whose product is ``exp(log_volume)`` is that many times larger in the
    objectives' own.

    Args:
        inner: a log-scale BoTorch acquisition over the objectives divided by units.
        log_volume: the log of the product of those units.
    """

    def __init__(self, inner: AcquisitionFunction, log_volume: float) -> None:
        super().__init__(model=inner.model)
        self.inner = inner
        self.log_volume = log_volume
        self.X_pending = inner.X_pending

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        return self.inner(X) + self.log_volume

    def set_X_pending(self, X_pending: torch.Tensor | None = None) -> None:
        self.inner.set_X_pending(X_pending)
        self.X_pending = self.inner.X_pending


class LogFeasibilityWeighted(AcquisitionFunction):
    """A log-scale acquisition plus the log probability that every point of the batch
    meets every outcome constraint, each constraint's slack modelled by its own GP
    (constrained expected improvement, Gardner et al. 2014). The Gaussian tail keeps a
    point far outside a bound out of reach however much it might improve.

    Args:
        inner: a log-scale BoTorch acquisition over the objectives.
        constraint_models: one BoTorch model per constraint, of its slack (>= 0 inside).
        spreads: the spread of each constraint's measured slacks on its model's scale
            (:meth:`OutcomeTargets.slack_spreads`), the unit its predicted std is
            floored in.
        bounds: each constraint's bound, a slack of 0, on its model's scale (not 0
            where the model learns warped slacks).
    """

    def __init__(
        self,
        inner: AcquisitionFunction,
        constraint_models: list[Any],
        spreads: list[float],
        bounds: list[float],
    ) -> None:
        super().__init__(model=inner.model)
        self.inner = inner
        self.constraint_models = constraint_models
        self.spreads = spreads
        self.bounds = bounds
        self.X_pending = inner.X_pending

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        value = self.inner(X)
        pairs = zip(self.constraint_models, self.spreads, self.bounds, strict=True)
        for model, spread, bound in pairs:
            posterior = model.posterior(X)
            mean = posterior.mean.squeeze(-1) - bound
            # not ``posterior.variance``: GPyTorch floors that at 1e-10 in the slack's
            # units, a std of 1e-5 that drowned a slack measured in units of 1e-6
            variance = posterior.distribution.lazy_covariance_matrix.diagonal(dim1=-2, dim2=-1)
            std = variance.clamp_min((MIN_STD_SHARE * spread) ** 2).sqrt()
            value = value + torch.special.log_ndtr(mean / std).sum(dim=-1)
        return value

    def set_X_pending(self, X_pending: torch.Tensor | None = None) -> None:
        self.inner.set_X_pending(X_pending)
        self.X_pending = self.inner.X_pending


def uses_botorch_for_outcomes(template: Any, targets: OutcomeTargets) -> bool:
    """Whether a GP proposes through BoTorch (not while searching for feasibility)."""
    return getattr(template, "name", None) == "gp" and targets.n_objectives > 0


def choose_from_pool(
    function: Any, X: np.ndarray, size: int, pending: np.ndarray, chunk: int = 512
) -> tuple[np.ndarray, np.ndarray]:
    """Greedy sequential choice of ``size`` rows of ``X`` by a BoTorch acquisition, each
    choice pending for the next (as ``optimize_acqf_discrete`` does); (rows, values)."""
    options = tensor_options(function.model)
    candidates = torch.as_tensor(X, **options).unsqueeze(-2)
    base = torch.as_tensor(pending, **options) if pending.shape[0] else None
    chosen: list[int] = []
    values: list[float] = []
    for _ in range(size):
        with torch.no_grad():
            scores = torch.cat(
                [function(candidates[s : s + chunk]) for s in range(0, len(candidates), chunk)]
            )
        scores[chosen] = -torch.inf
        best = int(torch.argmax(scores))
        chosen.append(best)
        values.append(float(scores[best]))
        if len(chosen) == size:
            break  # pending points cost a new box decomposition: none after the last
        so_far = candidates[chosen, 0, :]
        function.set_X_pending(so_far if base is None else torch.cat([base, so_far]))
    return np.asarray(chosen, dtype=int), np.asarray(values)
