"""Continuous and mixed spaces: does a discovery campaign keep up with a plain BoTorch loop?

On BoTorch's Branin (2-d, 30 evaluations), Hartmann-6 (60 evaluations) and a mixed
Hartmann-6 whose last input is a categorical of 5 levels standing for 0, 0.25, 0.5,
0.75 and 1 (60 evaluations), every seed runs, with that same seed:

- discovery-gp: ``Campaign(space, ..., surrogate="gp", acquisition="ei",
  initial_design="sobol")``, 5 initial points on Branin, 10 elsewhere;
- botorch: the loop of BoTorch's tutorial, written out here: ``SingleTaskGP``
  (inputs normalised to the unit cube, outcome standardised), ``fit_gpytorch_mll``,
  ``qLogNoisyExpectedImprovement`` with q=1, ``optimize_acqf`` (10 restarts, 512 raw
  samples; ``optimize_acqf_mixed`` over the 5 categories, one-hot encoded, on the
  mixed problem), after as many scrambled Sobol points as discovery's design;
- random: uniform samples;
- forest, neural: discovery with ``surrogate="forest"`` or ``"neural"`` (EI), which
  search a trust region around the best point (the default); forest-global and
  neural-global search the whole space every time (``trust_region=False``).

Levy-4 and Rosenbrock-4 (40 evaluations, 8 initial; ``--problems levy4 rosenbrock4``)
are there to check, on functions no setting was chosen on, what the acceptance problems
suggest. All problems are minimised. Reported per problem and method: the median and
interquartile range over seeds of the simple regret after the whole budget (best
value found minus the optimum: BoTorch's known optimum for Branin and Hartmann-6;
for the mixed problem the best of a multi-start L-BFGS-B minimisation over the five
continuous inputs at each level, -3.13768 at level 0), how many seeds beat the
BoTorch loop on the same seed, and the median over seeds of the mean seconds per
model iteration (fit plus proposal) with its ratio to the BoTorch loop's. One row
per run goes to results/continuous.csv.

    python benchmarks/continuous.py [--seeds 20] [--problems branin hartmann6 mixed]
        [--methods discovery-gp botorch random forest neural] [--budget-scale 1.0]
        [--workers 1] [--threads N] [--output results/continuous.csv]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table

from benchmarks.parallel_runs import run_all

RESULTS = Path(__file__).resolve().parents[1] / "results" / "continuous.csv"
METHODS = (
    "discovery-gp", "botorch", "random", "forest", "neural", "forest-global", "neural-global"
)  # fmt: skip
#: Discovery's methods: (surrogate, whether it searches a trust region).
DISCOVERY_SURROGATES = {
    "discovery-gp": ("gp", True),
    "forest": ("forest", True),
    "neural": ("neural", True),
    "forest-global": ("forest", False),
    "neural-global": ("neural", False),
}
#: Values the mixed problem's categorical input stands for, in order of its categories.
MIXED_LEVELS = (0.0, 0.25, 0.5, 0.75, 1.0)
#: Problem: (BoTorch test function, its arguments, evaluations, initial design,
#: levels of a categorical last input or None).
PROBLEMS = {
    "branin": ("Branin", {}, 30, 5, None),
    "hartmann6": ("Hartmann", {"dim": 6}, 60, 10, None),
    "mixed": ("Hartmann", {"dim": 6}, 60, 10, MIXED_LEVELS),
    # checks beyond the acceptance problems, that no method is tuned to those
    "levy4": ("Levy", {"dim": 4}, 40, 8, None),
    "rosenbrock4": ("Rosenbrock", {"dim": 4}, 40, 8, None),
}
#: Sobol points and L-BFGS-B restarts per level when locating the mixed problem's optimum.
OPTIMUM_SAMPLES = 8192
OPTIMUM_RESTARTS = 32


@dataclass(frozen=True)
class Problem:
    """A test function to minimise; the last input is categorical when ``levels`` is set."""

    name: str
    function: object  # botorch.test_functions.SyntheticTestFunction
    budget: int
    n_initial: int
    levels: tuple[float, ...] | None

    @property
    def bounds(self) -> np.ndarray:
        """(2, d) float64: lower and upper bounds of the function's inputs."""
        return self.function.bounds.numpy()

    @property
    def n_continuous(self) -> int:
        return self.bounds.shape[1] - (self.levels is not None)

    def space(self):
        from discovery import Categorical, Real, Space

        low, high = self.bounds
        parameters = [Real(f"x{i}", low[i], high[i]) for i in range(self.n_continuous)]
        if self.levels is not None:
            names = [str(k) for k in range(len(self.levels))]
            parameters.append(Categorical(f"x{self.n_continuous}", names))
        return Space(parameters)

    def point_of(self, parameters: dict) -> np.ndarray:
        """(d,) float64: the function's input for a discovery point."""
        values = [float(parameters[f"x{i}"]) for i in range(self.n_continuous)]
        if self.levels is not None:
            values.append(self.levels[int(parameters[f"x{self.n_continuous}"])])
        return np.array(values)

    def evaluate(self, points: np.ndarray) -> np.ndarray:
        """(n, d) inputs to (n,) noiseless values."""
        import torch

        with torch.no_grad():
            return self.function.evaluate_true(torch.as_tensor(points)).numpy()


def make_problem(name: str, budget_scale: float = 1.0) -> Problem:
    """A problem by name, its budget scaled (and kept above its initial design)."""
    import botorch.test_functions as test_functions

    class_name, options, budget, n_initial, levels = PROBLEMS[name]
    function = getattr(test_functions, class_name)(negate=False, **options)
    budget = max(n_initial + 1, round(budget * budget_scale))
    return Problem(name, function, budget, n_initial, levels)


def optimum(problem: Problem) -> float:
    """The problem's minimum: BoTorch's known value, or for a categorical last input the
    best of multi-start L-BFGS-B over the continuous inputs at every level."""
    if problem.levels is None:
        return float(problem.function.optimal_value)
    import torch
    from scipy.optimize import minimize

    dimension = problem.n_continuous
    low, high = problem.bounds[:, :dimension]
    best = np.inf
    for level in problem.levels:
        unit = torch.quasirandom.SobolEngine(dimension, scramble=True, seed=0).draw(OPTIMUM_SAMPLES)
        starts = low + unit.double().numpy() * (high - low)
        with_level = np.column_stack([starts, np.full(len(starts), level)])
        starts = starts[np.argsort(problem.evaluate(with_level))[:OPTIMUM_RESTARTS]]

        def value_and_gradient(x: np.ndarray, level: float = level) -> tuple[float, np.ndarray]:
            point = torch.tensor(np.append(x, level), requires_grad=True)
            value = problem.function.evaluate_true(point.unsqueeze(0)).sum()
            value.backward()
            return value.item(), point.grad[:dimension].numpy().copy()

        for start in starts:
            found = minimize(
                value_and_gradient,
                start,
                jac=True,
                method="L-BFGS-B",
                bounds=list(zip(low, high, strict=True)),
                options={"ftol": 1e-15, "gtol": 1e-10},
            )
            best = min(best, float(found.fun))
    return best


def run_discovery(
    problem: Problem, surrogate: str, seed: int, trust_region: bool = True
) -> tuple[np.ndarray, list[float]]:
    """Values measured in order, and seconds (fit + proposal) per model iteration."""
    from discovery import Campaign, FunctionOracle

    def experiment(candidate) -> float:
        return float(problem.evaluate(problem.point_of(candidate.parameters)[None, :])[0])

    result = Campaign(
        problem.space(),
        FunctionOracle(experiment, output="y"),
        "y",
        maximize=False,
        surrogate=surrogate,
        acquisition="ei",
        initial_design="sobol",
        n_initial=problem.n_initial,
        budget=problem.budget,
        seed=seed,
        device="cpu",
        trust_region=trust_region,
    ).run(progress=False)
    history = result.history
    modelled = history[history["iteration"] > 0].drop_duplicates("iteration")
    seconds = (modelled["fit_seconds"] + modelled["selection_seconds"]).tolist()
    return history["y"].to_numpy(float), seconds


def run_botorch(problem: Problem, seed: int) -> tuple[np.ndarray, list[float]]:
    """BoTorch's tutorial loop; a categorical input is one-hot encoded and the
    acquisition optimised at each category in turn."""
    import torch
    from botorch.acquisition.logei import qLogNoisyExpectedImprovement
    from botorch.fit import fit_gpytorch_mll
    from botorch.models import SingleTaskGP
    from botorch.models.transforms.input import Normalize
    from botorch.models.transforms.outcome import Standardize
    from botorch.optim import optimize_acqf, optimize_acqf_mixed
    from botorch.utils.sampling import draw_sobol_samples
    from gpytorch.mlls import ExactMarginalLogLikelihood

    torch.manual_seed(seed)
    dimension = problem.n_continuous
    low, high = problem.bounds[:, :dimension]
    categories = 0 if problem.levels is None else len(problem.levels)
    features = dimension + categories
    bounds = torch.zeros(2, features, dtype=torch.double)
    bounds[0, :dimension], bounds[1, :dimension] = torch.as_tensor(low), torch.as_tensor(high)
    bounds[1, dimension:] = 1.0

    def points(X: torch.Tensor) -> np.ndarray:
        """(n, features) model inputs to (n, d) function inputs."""
        continuous = X[:, :dimension].numpy()
        if not categories:
            return continuous
        levels = np.asarray(problem.levels)[X[:, dimension:].argmax(dim=1).numpy()]
        return np.column_stack([continuous, levels])

    # one Sobol coordinate per input, the categorical one cut into equal bins
    cube = torch.zeros(2, dimension + (categories > 0), dtype=torch.double)
    cube[1] = 1.0
    unit = draw_sobol_samples(cube, n=problem.n_initial, q=1, seed=seed).squeeze(1)
    X = torch.zeros(problem.n_initial, features, dtype=torch.double)
    low_bound, width = bounds[0, :dimension], bounds[1, :dimension] - bounds[0, :dimension]
    X[:, :dimension] = low_bound + unit[:, :dimension] * width
    if categories:
        chosen = (unit[:, dimension] * categories).long().clamp(max=categories - 1)
        X[torch.arange(problem.n_initial), dimension + chosen] = 1.0
    values = problem.evaluate(points(X))
    fixed_features_list = [
        {dimension + j: float(j == k) for j in range(categories)} for k in range(categories)
    ]
    seconds = []
    while len(values) < problem.budget:
        started = time.perf_counter()
        # BoTorch maximises: model the negated objective
        Y = -torch.as_tensor(values, dtype=torch.double).unsqueeze(-1)
        model = SingleTaskGP(
            X,
            Y,
            input_transform=Normalize(d=features, bounds=bounds),
            outcome_transform=Standardize(m=1),
        )
        fit_gpytorch_mll(ExactMarginalLogLikelihood(model.likelihood, model))
        acquisition = qLogNoisyExpectedImprovement(model, X_baseline=X, prune_baseline=True)
        options = {"q": 1, "num_restarts": 10, "raw_samples": 512}
        if categories:
            candidate, _ = optimize_acqf_mixed(
                acquisition, bounds, fixed_features_list=fixed_features_list, **options
            )
        else:
            candidate, _ = optimize_acqf(acquisition, bounds, **options)
        seconds.append(time.perf_counter() - started)
        X = torch.cat([X, candidate.detach()])
        values = np.append(values, problem.evaluate(points(candidate.detach())))
    return values, seconds


def run_random(problem: Problem, seed: int) -> tuple[np.ndarray, list[float]]:
    """Uniform samples over the box (and the categories), with the seed."""
    rng = np.random.default_rng(seed)
    started = time.perf_counter()
    low, high = problem.bounds[:, : problem.n_continuous]
    points = rng.uniform(low, high, size=(problem.budget, problem.n_continuous))
    if problem.levels is not None:
        levels = np.asarray(problem.levels)[rng.integers(len(problem.levels), size=problem.budget)]
        points = np.column_stack([points, levels])
    per_point = (time.perf_counter() - started) / problem.budget
    return problem.evaluate(points), [per_point] * (problem.budget - problem.n_initial)


def run_one(
    problem_name: str, method: str, seed: int, budget_scale: float, threads: int, best: float
) -> dict:
    """One run: its best value, simple regret and timing."""
    import torch

    torch.set_num_threads(threads)
    warnings.filterwarnings("ignore", module="botorch")
    warnings.filterwarnings("ignore", module="linear_operator")
    problem = make_problem(problem_name, budget_scale)
    started = time.perf_counter()
    if method == "botorch":
        values, seconds = run_botorch(problem, seed)
    elif method == "random":
        values, seconds = run_random(problem, seed)
    else:
        surrogate, trust_region = DISCOVERY_SURROGATES[method]
        values, seconds = run_discovery(problem, surrogate, seed, trust_region)
    found = float(np.nanmin(values))
    return {
        "problem": problem_name,
        "method": method,
        "seed": seed,
        "evaluations": len(values),
        "best": found,
        "optimum": best,
        "simple_regret": found - best,
        "seconds_per_iteration": float(np.mean(seconds)) if seconds else 0.0,
        "wall_seconds": time.perf_counter() - started,
    }


def report(console: Console, frame: pd.DataFrame, problem: Problem, methods: list[str]) -> None:
    """The table of one problem: regret and time per method, against the BoTorch loop."""
    mine = frame[frame["problem"] == problem.name]
    regret = mine.pivot(index="seed", columns="method", values="simple_regret")
    seconds = mine.pivot(index="seed", columns="method", values="seconds_per_iteration")
    baseline = "botorch" if "botorch" in methods else None
    table = Table(
        title=f"{problem.name}: simple regret after {problem.budget} evaluations "
        f"({problem.n_initial} initial), {len(regret)} seeds, optimum {mine['optimum'].iloc[0]:.6g}"
    )
    # regret: median and interquartile range over seeds; s/iter: median over seeds of
    # each run's mean; "vs botorch": ratio of medians, and seeds won on the same seed
    columns = ["method", "regret", "IQR", "s/iter"]
    if baseline:
        columns += ["regret vs botorch", "beats botorch", "s/iter vs botorch"]
    for column in columns:
        table.add_column(column, justify="right", no_wrap=True)
    for method in methods:
        low, middle, high = np.percentile(regret[method], [25, 50, 75])
        time_per_iteration = seconds[method].median()
        row = [method, f"{middle:.3g}", f"{low:.3g} to {high:.3g}", f"{time_per_iteration:.3g}"]
        if baseline:
            base_regret = regret[baseline].median()
            wins = int((regret[method] < regret[baseline]).sum())
            row += [
                f"{middle / base_regret:.2f}" if base_regret > 0 else "-",
                "-" if method == baseline else f"{wins} / {len(regret)}",
                f"{time_per_iteration / seconds[baseline].median():.2f}x",
            ]
        table.add_row(*row)
    console.print(table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument(
        "--problems", nargs="+", choices=list(PROBLEMS), default=["branin", "hartmann6", "mixed"]
    )
    parser.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS))
    parser.add_argument(
        "--budget-scale", type=float, default=1.0, help="multiply every budget (quick runs)"
    )
    parser.add_argument("--workers", type=int, default=1, help="runs in parallel processes")
    parser.add_argument("--output", type=Path, default=RESULTS, help="CSV of one row per run")
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch threads per worker (default: the CPUs available, shared among workers; "
        "lower it when other jobs load the machine, oversubscribed threads slow BoTorch "
        "several-fold)",
    )
    arguments = parser.parse_args()
    if arguments.budget_scale <= 0:
        parser.error(f"--budget-scale must be positive, got {arguments.budget_scale}")
    available = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    threads = arguments.threads or max(1, (available or 1) // arguments.workers)
    import torch

    torch.set_num_threads(threads)
    console = Console()
    if not console.is_terminal:
        console = Console(width=max(console.width, 130))  # keep the tables on one line each
    problems = {name: make_problem(name, arguments.budget_scale) for name in arguments.problems}
    optima = {name: optimum(problem) for name, problem in problems.items()}
    console.print(
        f"{available} CPUs, {arguments.workers} worker(s) of {threads} torch thread(s); optima "
        + ", ".join(f"{name} {value:.6g}" for name, value in optima.items())
    )
    tasks = [
        (name, method, seed, arguments.budget_scale, threads, optima[name])
        for name in arguments.problems
        for seed in range(arguments.seeds)
        for method in arguments.methods
    ]
    rows = run_all(console, run_one, tasks, arguments.workers)
    frame = pd.DataFrame(rows).sort_values(["problem", "method", "seed"], ignore_index=True)
    arguments.output.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(arguments.output, index=False)
    for problem in problems.values():
        report(console, frame, problem, arguments.methods)
    console.print(f"per-run rows in {arguments.output}")


if __name__ == "__main__":
    main()
