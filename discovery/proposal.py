"""Proposals in a declared (continuous or mixed) space.

Two ways, by what the surrogate allows:

- A Gaussian process: BoTorch's own acquisition functions (LogEI, UCB, log-PI,
  posterior mean and standard deviation; qLogNEI, qUCB, qPI, qSimpleRegret and
  qPosteriorStandardDeviation for batches and for experiments still running,
  which enter as ``X_pending``), maximised by ``optimize_acqf`` with the space's
  linear constraints passed through, from the restarts and raw samples BoTorch's
  tutorials use (under linear constraints, raw samples from the space's own feasible
  sampler, through BoTorch's ``generator`` hook). Discrete parameters are fixed per combination (as
  ``optimize_acqf_mixed`` does), so exclusions narrow or remove combinations
  exactly; with more than ``MAX_COMBINATIONS`` combinations, only those of the
  best points of a scored 2048-point feasible Sobol sample are optimised.
- Any other surrogate (a forest or a neural ensemble is not differentiable): a
  fresh scrambled Sobol sample of the feasible space (2^14 points) scored in
  chunks by the numpy acquisitions, the batch picked by the campaign's
  selector, then a local search around each pick (Gaussian steps of shrinking
  size, kept on the constraints).

Either way every proposed point lies in the space, and none repeats a measured
or pending point (within ``DUPLICATE_TOLERANCE`` in the unit features).

BoTorch scores the GP in the standardised units it was fitted in, not the objective's:
GPyTorch and BoTorch floor a variance at fixed values (1e-10, 1e-12), which in units of
1e-9 mol/s is every point's variance, and EI, UCB and PI then only exploit the mean.
The scores handed back are in the objective's units again.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.linalg import null_space

from discovery.acquisition import Acquisition, one_posterior_draw
from discovery.exceptions import ConfigurationError
from discovery.parameters import Categorical, Real
from discovery.search_space import Space
from discovery.selection import Selector, TopK

#: BoTorch tutorials' settings for optimize_acqf.
NUM_RESTARTS = 10
RAW_SAMPLES = 512
#: Hit-and-run chain that draws the raw samples when linear constraints bind the space
#: and an exclusion leaves a discrete combination too little of the space's own feasible
#: draws (see :func:`_feasible_starts`): BoTorch's defaults (10,000 burn-in steps, every
#: 32nd step kept) take about a second per optimisation in pure Python; starting points
#: for a local optimiser need no such mixing.
POLYTOPE_CHAIN = {"n_burnin": 1_000, "n_thinning": 4}
#: Feasible draws per raw sample wanted, at most, before that chain is used instead.
MAX_START_DRAWS = 64
#: How far outside a combination's bounds a feasible draw may lie (a mixture's parts are
#: met to the equality tolerance) and still start an optimisation, which clamps it.
BOUND_SLACK = 1e-9
#: Feasible Sobol points scored by a surrogate that has no gradients.
SAMPLE_SIZE = 2**14
#: Points predicted at once while scoring a sample.
CHUNK_SIZE = 4096
#: Discrete combinations optimised one by one; past this many, only the most promising
#: ones (those of the best points of a scored feasible sample).
MAX_COMBINATIONS = 4
#: Two points closer than this in every unit feature are the same experiment.
DUPLICATE_TOLERANCE = 1e-6
#: Rounds of draws for new points before a listed space's list is searched instead.
NEW_SAMPLE_ATTEMPTS = 3
#: Local search: step sizes (unit features) and trial points per step.
LOCAL_STEPS = (0.1, 0.03, 0.01, 0.003)
LOCAL_TRIALS = 256
#: Points a Thompson sample is drawn over.
THOMPSON_POINTS = 2048
#: Acquisitions that have a BoTorch counterpart.
BOTORCH_ACQUISITIONS = ("ei", "ucb", "pi", "greedy", "uncertainty", "thompson", "random")


def uses_botorch(surrogate: Any, acquisition: Acquisition) -> bool:
    """Whether a proposal goes through BoTorch: a fitted GP and a known acquisition."""
    return (
        getattr(surrogate, "name", None) == "gp"
        and acquisition.name in BOTORCH_ACQUISITIONS
        and acquisition.is_builtin
    )


def is_new(points: np.ndarray, taken: np.ndarray) -> np.ndarray:
    """(n,) bool: which of (n, d) points lie farther than the tolerance from every taken one."""
    if taken.shape[0] == 0 or points.shape[0] == 0:
        return np.ones(points.shape[0], dtype=bool)
    keep = np.ones(points.shape[0], dtype=bool)
    for start in range(0, points.shape[0], CHUNK_SIZE):
        chunk = points[start : start + CHUNK_SIZE]
        gap = np.abs(chunk[:, None, :] - taken[None, :, :]).max(axis=-1).min(axis=1)
        keep[start : start + CHUNK_SIZE] = gap > DUPLICATE_TOLERANCE
    return keep


def distinct_new(points: np.ndarray, taken: np.ndarray) -> np.ndarray:
    """(n,) bool: the (n, d) points new to ``taken`` and, of points that coincide (a
    sample of a space of integers and categories repeats them), the first only."""
    keep = is_new(points, taken)
    if points.shape[0] > 1:
        first = np.unique(_lattice(points), axis=0, return_index=True)[1]
        keep &= np.isin(np.arange(points.shape[0]), first)
    return keep


def listed_new(listed: np.ndarray, taken: np.ndarray) -> np.ndarray:
    """(n,) bool: which of a listed space's points (:meth:`Space.listed`) are new to the
    (m, d) ``taken`` ones. Such points sit on a lattice, so equal ones have equal rounded
    features: a set lookup, where :func:`is_new` would compare every pair."""
    seen = {row.tobytes() for row in _lattice(taken)}
    return np.fromiter((row.tobytes() not in seen for row in _lattice(listed)), bool, len(listed))


def _lattice(features: np.ndarray) -> np.ndarray:
    return np.round(features / DUPLICATE_TOLERANCE).astype(np.int64)


def _seed(rng: np.random.Generator) -> int:
    return int(rng.integers(2**31 - 1))


# -- any surrogate: a scored Sobol sample and a local search ------------------------------


@one_posterior_draw()
def propose_by_sampling(
    space: Space,
    score: Callable[[np.ndarray], np.ndarray],
    selector: Selector,
    size: int,
    taken: np.ndarray,
    rng: np.random.Generator,
    within: Space | None = None,
) -> tuple[list[dict[str, Any]], np.ndarray]:
    """``size`` new points chosen from a scored feasible Sobol sample, each refined by a
    local search; their points and scores. Thompson sampling scores all of it with one
    posterior draw (:func:`~discovery.acquisition.one_posterior_draw`).

    Args:
        score: (m, d) features -> (m,) acquisition scores, higher is better.
        taken: (n, d) features of measured and pending points, never proposed again.
        within: a part of the space (a trust region, :meth:`Space.around`) that the
            sample and the local search keep to; the whole space when None, or when
            the constraints leave too little of the part to sample.
    """
    region, seed = space if within is None else within, _seed(rng)
    try:
        points = region.sample(SAMPLE_SIZE, "sobol", seed=seed)
    except ConfigurationError:  # a region squeezed into a corner of the constraints
        region = space
        points = space.sample(SAMPLE_SIZE, "sobol", seed=seed)
    features = space.encode(points)
    excluded = ~distinct_new(features, taken)
    if region is not space and int((~excluded).sum()) < size:  # the region is used up
        region = space
        points = space.sample(SAMPLE_SIZE, "sobol", seed=seed)
        features = space.encode(points)
        excluded = ~distinct_new(features, taken)
    scores = np.concatenate(
        [score(features[s : s + CHUNK_SIZE]) for s in range(0, len(points), CHUNK_SIZE)]
    )
    available = int((~excluded).sum())
    wanted = min(size, available)
    chosen = np.asarray(
        selector.pick(scores, wanted, excluded, features, rng) if wanted else [], dtype=int
    )
    refined, refined_scores, seen = [], [], taken
    starts = np.vstack([taken, features[chosen]])
    for index in chosen:
        others = np.vstack([starts, seen[taken.shape[0] :]])
        point, value = _local_search(
            space, points[index], scores[index], score, others, rng, region
        )
        x = space.encode([point])
        if is_new(x, seen)[0]:  # else an earlier point's search ended on this start
            refined.append(point)
            refined_scores.append(value)
            seen = np.vstack([seen, x])
    if len(refined) < size:  # a small space of integers and categories: its last points
        extra = new_samples(space, size - len(refined), seen, rng, "random")
        refined.extend(extra)
        refined_scores.extend(score(space.encode(extra)) if extra else [])
    return refined, np.asarray(refined_scores, dtype=float)


def _local_search(
    space: Space,
    start: dict[str, Any],
    start_score: float,
    score: Callable[[np.ndarray], np.ndarray],
    taken: np.ndarray,
    rng: np.random.Generator,
    region: Space,
) -> tuple[dict[str, Any], float]:
    """Gaussian steps of shrinking size around a point, moving to any better one that
    ``region`` (the space or a part of it) contains.

    Steps move the real and integer features only (categories stay), and within the
    null space of the linear equalities, so a mixture stays a mixture.
    """
    movable = np.zeros(space.n_features, dtype=bool)
    for p in space.parameters:
        if not isinstance(p, Categorical):
            movable[space.feature_slice(p.name)] = True
    if not movable.any():
        return start, start_score
    directions = _equality_null_space(space)
    best, best_x, best_score = start, space.encode([start])[0], float(start_score)
    others = taken[np.any(np.abs(taken - best_x) > DUPLICATE_TOLERANCE, axis=1)]
    for step in LOCAL_STEPS:
        noise = rng.standard_normal((LOCAL_TRIALS, directions.shape[1])) @ directions.T * step
        trial = np.repeat(best_x[None, :], LOCAL_TRIALS, axis=0)
        trial[:, movable] += noise
        inside = np.all((trial[:, movable] >= 0) & (trial[:, movable] <= 1), axis=1)
        trial = trial[inside]
        candidates = [p for p in space.decode(trial) if region.contains(p)]
        if not candidates:
            continue
        features = space.encode(candidates)
        fresh = is_new(features, others)
        if not fresh.any():
            continue
        features = features[fresh]
        candidates = [c for c, f in zip(candidates, fresh, strict=True) if f]
        values = score(features)
        top = int(np.argmax(values))
        if values[top] > best_score:
            best, best_x, best_score = candidates[top], features[top], float(values[top])
    return best, best_score


def _equality_null_space(space: Space) -> np.ndarray:
    """(d_movable, r): directions in the real/integer features that keep every linear
    equality; the identity without equalities."""
    movable = [
        i
        for p in space.parameters
        if not isinstance(p, Categorical)
        for i in range(space.feature_slice(p.name).start, space.feature_slice(p.name).stop)
    ]
    equalities = [c for c in space.feature_constraints() if c.is_equality]
    if not equalities:
        return np.eye(len(movable))
    position = {column: j for j, column in enumerate(movable)}
    rows = np.zeros((len(equalities), len(movable)))
    for r, c in enumerate(equalities):
        for index, coefficient in zip(c.indices, c.coefficients, strict=True):
            rows[r, position[index]] = coefficient
    return null_space(rows)


# -- a Gaussian process: BoTorch ------------------------------------------------------------


def tensor_options(model: Any) -> dict[str, Any]:
    """dtype and device of every tensor handed to a BoTorch model's acquisition and
    optimiser: float64 on the device the model was fitted on (a GP fitted on a GPU is
    optimised there), the CPU for no model."""
    import torch

    parameter = None if model is None else next(iter(model.parameters()), None)
    return {
        "dtype": torch.float64,
        "device": torch.device("cpu") if parameter is None else parameter.device,
    }


def propose_with_botorch(
    space: Space,
    model: Any,
    acquisition: Acquisition,
    size: int,
    *,
    train_X: np.ndarray,
    incumbent: float,
    maximize: bool,
    pending: np.ndarray,
    taken: np.ndarray,
    rng: np.random.Generator,
    warping: Any = None,
) -> tuple[list[dict[str, Any]], np.ndarray]:
    """``size`` new points maximising a BoTorch acquisition of a fitted GP; points and
    acquisition values.

    Args:
        model: a fitted BoTorch model on the space's unit features.
        train_X: (n, d) features the model was fitted on (the baseline of qLogNEI).
        incumbent: the best measured value, in the objective's units.
        maximize: the model's direction.
        pending: (p, d) features of experiments still running.
        taken: (n, d) features of measured and pending points.
        warping: the output warping the model was fitted under (``forward`` maps the
            objective's units to the model's, ``inverse`` back), None for none. UCB
            and posterior-mean values are mapped back; EI, PI and std stay on the
            warped scale, which no map turns into the objective's.
    """
    import torch
    from botorch.acquisition.analytic import LogProbabilityOfImprovement

    name = acquisition.name
    if name == "random":
        points = new_samples(space, size, taken, rng, "random")
        return points, np.full(len(points), np.nan)
    if name == "thompson":
        return _thompson(space, model, size, maximize, taken, rng)
    torch.manual_seed(_seed(rng))
    function = _botorch_acquisition(
        name, acquisition.params, model, size, train_X, incumbent, maximize, pending, warping
    )
    features, values = _optimize(space, function, size, rng)
    points = space.decode(features)
    points, values = _repair(space, points, values, taken, rng, function)
    if name == "pi" and not isinstance(function, LogProbabilityOfImprovement):
        # a batch's (or, with experiments running, a point's) Monte Carlo PI is a
        # probability: reported as its log, as one point's analytic log-PI is
        values = np.log(np.clip(values, np.finfo(np.float64).tiny, None))
    return points, _in_objective_units(name, values, model, maximize, warping)


def propose_by_optimizing(
    space: Space, function: Any, size: int, taken: np.ndarray, rng: np.random.Generator
) -> tuple[list[dict[str, Any]], np.ndarray]:
    """``size`` new points maximising a BoTorch acquisition built by the caller (several
    outputs' models, for instance); points and acquisition values."""
    features, values = _optimize(space, function, size, rng)
    return _repair(space, space.decode(features), values, taken, rng, function)


def _standardisation(model: Any) -> tuple[float, float]:
    """(centre, spread) the GP's outcome transform standardised the measured values by:
    its posterior in the objective's units is centre + spread * its own; (0, 1) for a
    model that keeps the objective's units."""
    from botorch.models.transforms.outcome import Standardize

    transform = getattr(model, "outcome_transform", None)
    if not isinstance(transform, Standardize):
        return 0.0, 1.0
    return float(transform.means.squeeze()), float(transform.stdvs.squeeze())


def _objective_transform(model: Any, maximize: bool, options: dict[str, Any]):
    """sign * (y - centre) / spread: the value to maximise, in the model's standardised
    units (see the module docstring), as a BoTorch posterior transform."""
    import torch
    from botorch.acquisition import ScalarizedPosteriorTransform

    centre, spread = _standardisation(model)
    sign = 1.0 if maximize else -1.0
    return ScalarizedPosteriorTransform(
        weights=torch.tensor([sign / spread], **options), offset=-sign * centre / spread
    )


def _in_objective_units(
    name: str, values: np.ndarray, model: Any, maximize: bool, warping: Any = None
) -> np.ndarray:
    """(n,) acquisition values of the standardised model, in the objective's units (log
    units for EI, probabilities for PI), as scoring the raw posterior gives them; on the
    warped scale for EI and std under an output ``warping``."""
    centre, spread = _standardisation(model)
    if name in ("ucb", "greedy"):
        sign = 1.0 if maximize else -1.0
        values = spread * values + sign * centre  # sign * (a value on the model's scale)
        return values if warping is None else sign * warping.inverse(sign * values)
    if name == "ei":
        return values + np.log(spread)
    if name == "uncertainty":
        return spread * values
    return values


def _botorch_acquisition(
    name: str,
    params: dict[str, Any],
    model: Any,
    size: int,
    train_X: np.ndarray,
    incumbent: float,
    maximize: bool,
    pending: np.ndarray,
    warping: Any = None,
):
    import torch
    from botorch import acquisition as acq
    from botorch.acquisition.analytic import LogProbabilityOfImprovement

    options = tensor_options(model)
    transform = _objective_transform(model, maximize, options)
    centre, spread = _standardisation(model)
    sign = 1.0 if maximize else -1.0
    # the value to improve on (the best plus xi, in the objective's units) on the model's
    # scale, then in the transform's units
    threshold = incumbent + sign * float(params.get("xi", 0.0))
    if warping is not None:
        threshold = float(warping.forward(threshold))
    best_f = sign * (threshold - centre) / spread
    beta = float(params.get("beta", 2.0)) ** 2  # ours scales std by beta, BoTorch by sqrt(beta)
    X_pending = torch.as_tensor(pending, **options) if pending.shape[0] else None
    if size == 1 and X_pending is None:
        if name == "ei":
            return acq.LogExpectedImprovement(model, best_f, posterior_transform=transform)
        if name == "ucb":
            return acq.UpperConfidenceBound(model, beta, posterior_transform=transform)
        if name == "pi":
            return LogProbabilityOfImprovement(model, best_f, posterior_transform=transform)
        if name == "greedy":
            return acq.PosteriorMean(model, posterior_transform=transform)
        return acq.PosteriorStandardDeviation(model, posterior_transform=transform)
    if name == "ei":
        return acq.qLogNoisyExpectedImprovement(
            model,
            X_baseline=torch.as_tensor(train_X, **options),
            posterior_transform=transform,
            X_pending=X_pending,
            prune_baseline=True,
        )
    if name == "ucb":
        return acq.qUpperConfidenceBound(
            model, beta, posterior_transform=transform, X_pending=X_pending
        )
    if name == "pi":
        return acq.qProbabilityOfImprovement(
            model, best_f, posterior_transform=transform, X_pending=X_pending
        )
    if name == "greedy":
        return acq.qSimpleRegret(model, posterior_transform=transform, X_pending=X_pending)
    return acq.qPosteriorStandardDeviation(
        model, posterior_transform=transform, X_pending=X_pending
    )


def _feature_constraint_tensors(space: Space, options: dict[str, Any]):
    import torch

    inequalities, equalities = [], []
    for c in space.feature_constraints():
        entry = (
            torch.tensor(c.indices, dtype=torch.long, device=options["device"]),
            torch.tensor(c.coefficients, **options),
            float(c.rhs),
        )
        (equalities if c.is_equality else inequalities).append(entry)
    return inequalities or None, equalities or None


def _optimize(space: Space, function: Any, size: int, rng: np.random.Generator):
    """Maximise ``function`` over the space: (size, d) features and their values."""
    import torch
    from botorch.optim import optimize_acqf

    options = tensor_options(function.model)
    inequalities, equalities = _feature_constraint_tensors(space, options)
    combinations = _combinations(space, function, rng, options)
    if combinations == []:
        raise ConfigurationError("space: the exclusions rule out every point of the space")
    if combinations is None:
        combinations = [({}, _real_bounds(space, {}, options))]
    chosen, values = [], []
    base_pending = getattr(function, "X_pending", None)
    sequential = size > 1 and len(combinations) > 1
    starts = _feasible_starts(space, rng) if inequalities or equalities else None
    for _ in range(size if sequential else 1):
        best = None
        for fixed, bounds in combinations:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                X, value = optimize_acqf(
                    function,
                    bounds=bounds,
                    q=1 if sequential else size,
                    num_restarts=NUM_RESTARTS,
                    raw_samples=RAW_SAMPLES,
                    inequality_constraints=inequalities,
                    equality_constraints=equalities,
                    fixed_features=fixed or None,
                    **_start_options(starts, bounds, (inequalities, equalities)),
                )
            total = float(value.sum())
            if best is None or total > best[1]:
                # a jointly optimised batch has one value: each of its points carries it
                best = (X.detach(), total, value.detach().reshape(-1).expand(X.shape[0]))
        chosen.append(best[0])
        values.append(best[2])
        if sequential:
            so_far = torch.cat(chosen)
            pending = so_far if base_pending is None else torch.cat([base_pending, so_far])
            function.set_X_pending(pending)
    return torch.cat(chosen).cpu().numpy(), torch.cat(values).cpu().numpy()


def _feasible_starts(space: Space, rng: np.random.Generator) -> Callable[[int], np.ndarray]:
    """``draw(n)``: (n, d) unit features of ``n`` feasible points of the space, drawn by
    its own sampler once per ``n`` and seed (a mixture's equality is met in its null
    space, in milliseconds, where BoTorch's hit-and-run takes half a second)."""
    seed, drawn = _seed(rng), {}

    def draw(n: int) -> np.ndarray:
        if n not in drawn:
            drawn[n] = space.encode(space.sample(n, "sobol", seed=seed))
        return drawn[n]

    return draw


def _start_options(
    starts: Callable[[int], np.ndarray] | None,
    bounds: Any,
    constraints: tuple[list | None, list | None],
) -> dict[str, Any]:
    """optimize_acqf's options for its raw samples: none without linear constraints
    (BoTorch's Sobol sample of the box); with them, the space's feasible draws as
    BoTorch's ``generator``. Their discrete columns are then set to the combination's
    values, which no linear constraint names; draws outside a real's range that an
    exclusion narrows for the combination are left out, and where too few are left,
    BoTorch's hit-and-run in the narrowed box draws them."""
    if starts is None:
        return {}
    low, high = (side.cpu().numpy() for side in bounds)
    inequalities, equalities = constraints

    def generator(n: int, q: int, seed: int | None) -> Any:
        import torch
        from botorch.optim.initializers import sample_q_batches_from_polytope

        wanted = draws = n * q
        while True:
            features = starts(draws)
            inside = np.all((features >= low - BOUND_SLACK) & (features <= high + BOUND_SLACK), 1)
            if inside.sum() >= wanted or draws >= MAX_START_DRAWS * wanted:
                break
            draws *= 4
        if inside.sum() >= wanted:
            return torch.from_numpy(features[inside][:wanted]).to(bounds).reshape(n, q, -1)
        return sample_q_batches_from_polytope(
            n=n, q=q, bounds=bounds, seed=seed, inequality_constraints=inequalities,
            equality_constraints=equalities, **POLYTOPE_CHAIN,
        )  # fmt: skip

    return {"generator": generator}


def _real_bounds(space: Space, fixed_point: dict[str, Any], options: dict[str, Any]):
    """(2, d) bounds of the unit features with exclusions applied for fixed discrete values;
    None when an exclusion rules the combination out."""
    import torch

    narrowed = space.real_bounds_given(fixed_point)
    if narrowed is None:
        return None
    bounds = torch.zeros(2, space.n_features, **options)
    bounds[1] = 1.0
    for name, (low, high) in narrowed.items():
        column = space.feature_slice(name).start
        bounds[0, column], bounds[1, column] = low, high
    return bounds


def _fixed_features(space: Space, combination: dict[str, Any]) -> dict[int, float]:
    fixed: dict[int, float] = {}
    for name, value in combination.items():
        parameter = space.parameter(name)
        columns = space.feature_slice(name)
        encoded = parameter.encode([value])[0]
        for offset, column in enumerate(range(columns.start, columns.stop)):
            fixed[column] = float(encoded[offset])
    return fixed


def _combinations(space: Space, function: Any, rng: np.random.Generator, options: dict[str, Any]):
    """(fixed features, bounds) of each discrete combination to optimise; None for a
    space without discrete parameters."""
    if all(isinstance(p, Real) for p in space.parameters):
        if _real_bounds(space, {}, options) is None:
            return []
        return None
    combinations = space.discrete_combinations(MAX_COMBINATIONS)
    if combinations is None:
        combinations = _promising_combinations(space, function, rng)
    result = []
    for combination in combinations:
        bounds = _real_bounds(space, combination, options)
        if bounds is not None:
            result.append((_fixed_features(space, combination), bounds))
    return result


def _promising_combinations(space: Space, function: Any, rng: np.random.Generator):
    """The discrete combinations of the best-scoring points of a feasible Sobol sample."""
    import torch

    points = space.sample(RAW_SAMPLES * 4, "sobol", seed=_seed(rng))  # 2^11
    features, score = space.encode(points), _scorer(function)
    values = torch.from_numpy(
        np.concatenate(
            [score(features[s : s + CHUNK_SIZE]) for s in range(0, len(points), CHUNK_SIZE)]
        )
    )
    discrete = [p.name for p in space.parameters if not isinstance(p, Real)]
    chosen: list[dict[str, Any]] = []
    for index in torch.argsort(values, descending=True).tolist():
        combination = {n: points[index][n] for n in discrete}
        if combination not in chosen:
            chosen.append(combination)
        if len(chosen) == MAX_COMBINATIONS:
            break
    return chosen


def _repair(
    space: Space,
    points: list[dict[str, Any]],
    values: np.ndarray,
    taken: np.ndarray,
    rng: np.random.Generator,
    function: Any,
) -> tuple[list[dict[str, Any]], np.ndarray]:
    """Keep each optimised point that is feasible and new; replace the others by the best
    new points of the acquisition ``function`` over a scored feasible sample, each
    refined by a local search. The optimiser returns a measured point where the
    acquisition peaks on it (an optimum on the box's corner, any point of a space of
    integers and categories); random draws in its place made the campaign a random search
    from then on. Its rounding can also step past a constraint's tolerance."""
    kept, kept_values = [], []
    seen = taken
    for point, value in zip(points, values, strict=True):
        features = space.encode([point])
        if space.contains(point) and is_new(features, seen)[0]:
            kept.append(point)
            kept_values.append(float(value))
            seen = np.vstack([seen, features])
    missing = len(points) - len(kept)
    if missing:
        extra, extra_values = propose_by_sampling(
            space, _scorer(function), TopK(), missing, seen, rng
        )
        kept.extend(extra)
        kept_values.extend(extra_values.tolist())
    return kept, np.asarray(kept_values)


def _scorer(function: Any) -> Callable[[np.ndarray], np.ndarray]:
    """(m, d) features -> (m,) values of a BoTorch acquisition, one point at a time."""
    import torch

    options = tensor_options(function.model)

    def score(features: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            X = torch.as_tensor(features, **options).unsqueeze(-2)
            return function(X).double().cpu().numpy()

    return score


def new_samples(
    space: Space, size: int, taken: np.ndarray, rng: np.random.Generator, method: str
) -> list[dict[str, Any]]:
    """Up to ``size`` feasible points, new to ``taken`` and distinct from each other:
    drawn, or, where draws keep landing on measured points of a listed space, taken from
    its list. Fewer only when the space holds fewer new points."""
    chosen: list[dict[str, Any]] = []
    seen = taken
    for attempt in range(NEW_SAMPLE_ATTEMPTS):
        if len(chosen) == size:
            return chosen
        points = space.sample(
            max(4 * size, 64), method if attempt == 0 else "random", seed=_seed(rng)
        )
        features = space.encode(points)
        fresh = np.flatnonzero(distinct_new(features, seen))[: size - len(chosen)]
        chosen.extend(points[i] for i in fresh)
        seen = np.vstack([seen, features[fresh]])
    if len(chosen) < size and space.is_listed:
        listed, features = space.listed()
        fresh = np.flatnonzero(listed_new(features, seen))
        chosen.extend(listed[i] for i in rng.permutation(fresh)[: size - len(chosen)])
    return chosen


def _thompson(space, model, size, maximize, taken, rng):
    """Joint posterior samples over a feasible Sobol set; each sample's maximiser."""
    import torch
    from botorch.generation.sampling import MaxPosteriorSampling

    points = space.sample(THOMPSON_POINTS, "sobol", seed=_seed(rng))
    features = space.encode(points)
    fresh = distinct_new(features, taken)
    points = [p for p, f in zip(points, fresh, strict=True) if f]
    options = tensor_options(model)
    X = torch.as_tensor(features[fresh], **options)
    torch.manual_seed(_seed(rng))
    sampler = MaxPosteriorSampling(
        model, posterior_transform=_objective_transform(model, maximize, options), replacement=False
    )
    rows = []
    if points:
        with torch.no_grad():
            chosen = sampler(X, num_samples=min(size, len(points)))
        rows = [int(torch.nonzero((X == x).all(dim=-1))[0]) for x in chosen]
    picked = [points[i] for i in rows]
    if len(picked) < size:  # a small space of integers and categories: its last points
        seen = np.vstack([taken, features[fresh][rows]])
        picked.extend(new_samples(space, size - len(picked), seen, rng, "random"))
    return picked, np.full(len(picked), np.nan)
