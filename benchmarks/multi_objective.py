"""Several objectives: how much of the Pareto front does a campaign find?

Problems (every objective maximised after BoTorch's ``negate=True``, or minimised as
named):

- branincurrin: BoTorch's BraninCurrin (2-d, two objectives), 40 evaluations, 6 initial;
- dtlz2: BoTorch's DTLZ2 with d = 6 and two objectives, 60 evaluations, 14 initial;
- snar: the SnAr flow reactor of simulators/snar.py (4-d), maximise the space-time yield
  and minimise the E-factor, 40 evaluations, 6 initial;
- redoxmers: the 1408 molecules of campaigns/data/redoxmers (three properties to
  minimise), a pool, 141 evaluations (10 % of the table), 5 initial;
- constrained: one objective and an outcome constraint that rules out half the space:
  maximise the negated Hartmann-6 subject to x1 + ... + x6 <= 3 (half the unit cube, by
  symmetry), 40 evaluations, 10 initial. Reported: the share of the experiments after
  the initial design that are feasible, and the best feasible value's regret.

Methods, each run with the same seed:

- discovery-gp: the default Pareto strategy, ``Campaign(..., objectives=[...])``: one GP
  per objective and BoTorch's qLogNEHVI (``optimize_acqf`` over a space, greedy over a
  pool), Sobol (space) or k-means (pool) initial design;
- parego: the same GPs with ParEGO (a random augmented Chebyshev scalarisation each
  iteration, then LogEI);
- forest: one random forest per objective, Monte Carlo expected hypervolume improvement
  over the trees (over normal draws around their mean while nothing measured beats the
  reference point), searched (over a space) in a trust region around the front's
  measurement that holds the most hypervolume;
- botorch (BraninCurrin and DTLZ2): the loop of BoTorch's multi-objective tutorial,
  written out here: a ``ModelListGP`` of ``SingleTaskGP`` (inputs normalised, outcomes
  standardised), ``qLogNoisyExpectedHypervolumeImprovement`` with the problem's reference
  point, 128 quasi-MC samples, ``prune_baseline=True``, ``optimize_acqf`` (q = 1, 10
  restarts, 512 raw samples), after the same number of scrambled Sobol points;
- random: uniform samples over the box (or the pool).

Discovery's campaigns are given the problem's reference point where BoTorch publishes
one (BraninCurrin, DTLZ2), as the BoTorch loop is; on SnAr and redoxmers they infer it.
The hypervolume of every run is measured from one fixed point per problem: BoTorch's for
its functions; space-time yield 0 and E-factor 100 for SnAr; the worst value of each
property in the table for redoxmers. Reported: the median (and interquartile range) of
the final hypervolume over seeds, as a share of the problem's largest (BoTorch's
``max_hv``; the whole table's for redoxmers; the best run's for SnAr), its ratio to the
BoTorch loop's (or to random's), and the median seconds per model iteration; on
redoxmers also the share of the table's true Pareto front measured. One row per run goes
to results/multi_objective.csv.

    python benchmarks/multi_objective.py [--seeds 10] [--problems branincurrin dtlz2 snar
        redoxmers] [--methods discovery-gp parego forest botorch random] [--workers 1]
        [--threads N] [--output results/multi_objective.csv]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "campaigns"))

import numpy as np
import pandas as pd
from rich.console import Console
from rich.table import Table

from benchmarks.parallel_runs import run_all

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "results" / "multi_objective.csv"
METHODS = ("discovery-gp", "parego", "forest", "botorch", "random")
#: Discovery's methods: (surrogate, Pareto strategy).
DISCOVERY = {
    "discovery-gp": ("gp", "ehvi"),
    "parego": ("gp", "parego"),
    "forest": ("forest", "ehvi"),
}
#: Problem: (evaluations, initial design).
PROBLEMS = {
    "branincurrin": (40, 6),
    "dtlz2": (60, 14),
    "snar": (40, 6),
    "redoxmers": (141, 5),
    "constrained": (40, 10),
}
#: The constrained problem's bound on the sum of the six inputs.
CONSTRAINED_SUM = 3.0
SNAR_REFERENCE = (0.0, 100.0)  # space-time yield (max), E-factor (min)


def synthetic(name: str):
    """BoTorch's test problem, negated so both objectives are maximised."""
    from botorch.test_functions.multi_objective import DTLZ2, BraninCurrin

    if name == "branincurrin":
        return BraninCurrin(negate=True)
    return DTLZ2(dim=6, num_objectives=2, negate=True)


def utilities_and_reference(problem: str, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Measured values as utilities (larger is better) and the fixed reference point."""
    if problem in ("branincurrin", "dtlz2"):
        return values, synthetic(problem).ref_point.numpy()
    if problem == "snar":
        return values * np.array([1.0, -1.0]), np.array([SNAR_REFERENCE[0], -SNAR_REFERENCE[1]])
    import redoxmers_pareto

    table = redoxmers_pareto.load_table()[redoxmers_pareto.PROPERTIES].to_numpy()
    return -values, -table.max(axis=0)


def hypervolume(utilities: np.ndarray, reference: np.ndarray) -> float:
    import torch
    from botorch.utils.multi_objective.box_decompositions.dominated import (
        DominatedPartitioning,
    )

    Y = torch.as_tensor(utilities, dtype=torch.float64)
    Y = Y[(Y > torch.as_tensor(reference)).all(dim=1)]
    if Y.shape[0] == 0:
        return 0.0
    partitioning = DominatedPartitioning(ref_point=torch.as_tensor(reference), Y=Y)
    return float(partitioning.compute_hypervolume())


def run_discovery(problem: str, method: str, seed: int) -> tuple[np.ndarray, list[float], list]:
    """Measured values (n, m), seconds per model iteration, candidate ids."""
    from discovery import (
        Campaign,
        FunctionOracle,
        LookupOracle,
        Objective,
        OutcomeConstraint,
        Real,
        Space,
    )

    surrogate, strategy = DISCOVERY[method]
    budget, n_initial = PROBLEMS[problem]
    options = dict(
        surrogate=surrogate, acquisition=strategy, budget=budget, n_initial=n_initial,
        seed=seed, device="cpu",
    )  # fmt: skip
    if problem in ("branincurrin", "dtlz2"):
        function = synthetic(problem)
        d = function.dim
        names = ["f0", "f1"]

        def experiment(candidate) -> dict[str, float]:
            import torch

            x = torch.tensor([[candidate.parameters[f"x{i}"] for i in range(d)]])
            with torch.no_grad():
                y = function(x, noise=False)[0]
            return {"f0": float(y[0]), "f1": float(y[1])}

        space = Space([Real(f"x{i}", 0.0, 1.0) for i in range(d)])
        campaign = Campaign(
            space, FunctionOracle(experiment), objectives=[Objective(n) for n in names],
            reference_point=function.ref_point.tolist(), **options,
        )  # fmt: skip
    elif problem == "constrained":
        from botorch.test_functions import Hartmann

        function = Hartmann(dim=6)
        names = ["value", "load"]

        def experiment(candidate) -> dict[str, float]:
            import torch

            x = [candidate.parameters[f"x{i}"] for i in range(6)]
            with torch.no_grad():
                value = -float(function.evaluate_true(torch.tensor([x]))[0])
            return {"value": value, "load": float(sum(x))}

        space = Space([Real(f"x{i}", 0.0, 1.0) for i in range(6)])
        options["acquisition"] = "ei"  # one objective: constrained expected improvement
        campaign = Campaign(
            space, FunctionOracle(experiment), objectives=[Objective("value")],
            outcome_constraints=[OutcomeConstraint("load", "<=", CONSTRAINED_SUM)], **options,
        )  # fmt: skip
    elif problem == "snar":
        from flow_reactor import measure, reactor_space

        names = ["sty", "e_factor"]
        campaign = Campaign(
            reactor_space(), FunctionOracle(measure),
            objectives=[Objective("sty"), Objective("e_factor", "min")], **options,
        )  # fmt: skip
    else:
        import redoxmers_pareto

        names = redoxmers_pareto.PROPERTIES
        pool = redoxmers_pareto.load_pool()
        campaign = Campaign(
            pool, LookupOracle.from_pool(pool, names[0], others=names[1:]),
            objectives=[Objective(n, "min") for n in names], **options,
        )  # fmt: skip
    history = campaign.run(progress=False).history
    modelled = history[history["iteration"] > 0].drop_duplicates("iteration")
    seconds = (modelled["fit_seconds"] + modelled["selection_seconds"]).tolist()
    return history[names].to_numpy(float), seconds, history["candidate_id"].astype(str).tolist()


def run_botorch(problem: str, seed: int) -> tuple[np.ndarray, list[float], list]:
    """The loop of BoTorch's multi-objective tutorial (qLogNEHVI, q = 1)."""
    import torch
    from botorch.acquisition.multi_objective.logei import (
        qLogNoisyExpectedHypervolumeImprovement,
    )
    from botorch.fit import fit_gpytorch_mll
    from botorch.models import ModelListGP, SingleTaskGP
    from botorch.models.transforms.input import Normalize
    from botorch.models.transforms.outcome import Standardize
    from botorch.optim import optimize_acqf
    from botorch.sampling.normal import SobolQMCNormalSampler
    from botorch.utils.sampling import draw_sobol_samples
    from gpytorch.mlls.sum_marginal_log_likelihood import SumMarginalLogLikelihood

    torch.manual_seed(seed)
    function = synthetic(problem)
    budget, n_initial = PROBLEMS[problem]
    bounds = function.bounds.to(torch.double)
    X = draw_sobol_samples(bounds, n=n_initial, q=1, seed=seed).squeeze(1)
    with torch.no_grad():
        Y = function(X, noise=False)
    seconds = []
    while X.shape[0] < budget:
        started = time.perf_counter()
        models = [
            SingleTaskGP(
                X,
                Y[:, i : i + 1],
                input_transform=Normalize(d=X.shape[-1], bounds=bounds),
                outcome_transform=Standardize(m=1),
            )
            for i in range(Y.shape[-1])
        ]
        model = ModelListGP(*models)
        fit_gpytorch_mll(SumMarginalLogLikelihood(model.likelihood, model))
        acquisition = qLogNoisyExpectedHypervolumeImprovement(
            model=model,
            ref_point=function.ref_point.tolist(),
            X_baseline=X,
            prune_baseline=True,
            sampler=SobolQMCNormalSampler(sample_shape=torch.Size([128])),
        )
        candidate, _ = optimize_acqf(
            acquisition, bounds=bounds, q=1, num_restarts=10, raw_samples=512,
            options={"batch_limit": 5, "maxiter": 200}, sequential=True,
        )  # fmt: skip
        seconds.append(time.perf_counter() - started)
        X = torch.cat([X, candidate.detach()])
        with torch.no_grad():
            Y = torch.cat([Y, function(candidate.detach(), noise=False)])
    return Y.numpy(), seconds, []


def run_random(problem: str, seed: int) -> tuple[np.ndarray, list[float], list]:
    """Uniform samples over the box, or distinct rows of the table."""
    rng = np.random.default_rng(seed)
    budget, _ = PROBLEMS[problem]
    if problem in ("branincurrin", "dtlz2"):
        import torch

        function = synthetic(problem)
        X = torch.as_tensor(rng.random((budget, function.dim)))
        with torch.no_grad():
            return function(X, noise=False).numpy(), [], []
    if problem == "constrained":
        import torch
        from botorch.test_functions import Hartmann

        X = rng.random((budget, 6))
        with torch.no_grad():
            value = -Hartmann(dim=6).evaluate_true(torch.as_tensor(X)).numpy()
        return np.column_stack([value, X.sum(axis=1)]), [], []
    if problem == "snar":
        from simulators.snar import SNAR_BOUNDS, snar_outcomes_array

        low, high = np.array(list(SNAR_BOUNDS.values())).T
        tau_low, tau_high = np.log(SNAR_BOUNDS["tau"])
        X = rng.uniform(low, high, size=(budget, 4))
        X[:, 0] = np.exp(rng.uniform(tau_low, tau_high, size=budget))  # as the campaign's log scale
        return snar_outcomes_array(X), [], []
    import redoxmers_pareto

    table = redoxmers_pareto.load_table()
    rows = rng.choice(len(table), size=budget, replace=False)
    chosen = table.iloc[rows]
    return chosen[redoxmers_pareto.PROPERTIES].to_numpy(), [], chosen.index.astype(str).tolist()


def run_one(problem: str, method: str, seed: int, threads: int) -> dict:
    """One run: its final hypervolume (and front found, on redoxmers) and timing."""
    import torch

    torch.set_num_threads(threads)
    warnings.filterwarnings("ignore", module="botorch")
    warnings.filterwarnings("ignore", module="linear_operator")
    started = time.perf_counter()
    if method == "botorch":
        values, seconds, ids = run_botorch(problem, seed)
    elif method == "random":
        values, seconds, ids = run_random(problem, seed)
    else:
        values, seconds, ids = run_discovery(problem, method, seed)
    if problem == "constrained":
        return constrained_row(method, seed, values, seconds, started)
    utilities, reference = utilities_and_reference(problem, values)
    row = {
        "problem": problem,
        "method": method,
        "seed": seed,
        "evaluations": len(values),
        "hypervolume": hypervolume(utilities[~np.isnan(utilities).any(axis=1)], reference),
        "seconds_per_iteration": float(np.mean(seconds)) if seconds else 0.0,
        "wall_seconds": time.perf_counter() - started,
    }
    if problem == "redoxmers":
        import redoxmers_pareto

        front = redoxmers_pareto.true_front()
        row["front_found"] = len(front & set(ids)) / len(front)
    return row


def constrained_row(
    method: str, seed: int, values: np.ndarray, seconds: list[float], started: float
) -> dict:
    """The constrained problem's figures: feasible share after the initial design and
    the best feasible value's regret (Hartmann-6's optimum, 3.32237, is feasible)."""
    _, n_initial = PROBLEMS["constrained"]
    feasible = values[:, 1] <= CONSTRAINED_SUM
    best = values[feasible, 0].max() if feasible.any() else np.nan
    return {
        "problem": "constrained",
        "method": method,
        "seed": seed,
        "evaluations": len(values),
        "feasible_after_initial": float(feasible[n_initial:].mean()),
        "regret": 3.32237 - best,
        "seconds_per_iteration": float(np.mean(seconds)) if seconds else 0.0,
        "wall_seconds": time.perf_counter() - started,
    }


def report_constrained(console: Console, frame: pd.DataFrame, methods: list[str]) -> None:
    mine = frame[frame["problem"] == "constrained"]
    budget, n_initial = PROBLEMS["constrained"]
    table = Table(
        title=f"constrained Hartmann-6 (sum of inputs <= {CONSTRAINED_SUM:g}, half the cube): "
        f"{budget} evaluations ({n_initial} initial), {mine['seed'].nunique()} seeds"
    )
    for column in ["method", "feasible after the initial design", "regret", "s/iter"]:
        table.add_column(column, justify="right", no_wrap=True)
    for method in [m for m in methods if m in set(mine["method"])]:
        rows = mine[mine["method"] == method]
        share = rows["feasible_after_initial"]
        table.add_row(
            method,
            f"{share.median():.0%} (min {share.min():.0%})",
            f"{rows['regret'].median():.3g}",
            f"{rows['seconds_per_iteration'].median():.3g}",
        )
    console.print(table)


def largest_hypervolume(problem: str, frame: pd.DataFrame) -> float:
    """What a run's hypervolume is a share of."""
    if problem in ("branincurrin", "dtlz2"):
        return float(synthetic(problem).max_hv)
    if problem == "redoxmers":
        import redoxmers_pareto

        table = redoxmers_pareto.load_table()[redoxmers_pareto.PROPERTIES].to_numpy()
        return hypervolume(*utilities_and_reference(problem, table))
    return float(frame["hypervolume"].max())


def report(console: Console, frame: pd.DataFrame, problem: str, methods: list[str]) -> None:
    mine = frame[frame["problem"] == problem]
    methods = [m for m in methods if m in set(mine["method"])]
    volume = mine.pivot(index="seed", columns="method", values="hypervolume")
    seconds = mine.pivot(index="seed", columns="method", values="seconds_per_iteration")
    largest = largest_hypervolume(problem, mine)
    baseline = next((m for m in ("botorch", "random") if m in methods), methods[0])
    budget, n_initial = PROBLEMS[problem]
    table = Table(
        title=f"{problem}: hypervolume after {budget} evaluations ({n_initial} initial), "
        f"{len(volume)} seeds, as a share of {largest:.6g}"
    )
    columns = ["method", "hypervolume", "IQR", f"vs {baseline}", "s/iter"]
    if problem == "redoxmers":
        columns.append("true front found")
    for column in columns:
        table.add_column(column, justify="right", no_wrap=True)
    for method in methods:
        low, middle, high = np.percentile(volume[method] / largest, [25, 50, 75])
        ratio = volume[method].median() / volume[baseline].median()
        row = [
            method, f"{middle:.3f}", f"{low:.3f} to {high:.3f}", f"{ratio:.3f}",
            f"{seconds[method].median():.3g}",
        ]  # fmt: skip
        if problem == "redoxmers":
            found = mine[mine["method"] == method]["front_found"]
            row.append(
                f"{found.median():.0%} (IQR {found.quantile(0.25):.0%}-{found.quantile(0.75):.0%})"
            )
        table.add_row(*row)
    console.print(table)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--problems", nargs="+", choices=list(PROBLEMS), default=list(PROBLEMS))
    parser.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS))
    parser.add_argument("--workers", type=int, default=1, help="runs in parallel processes")
    parser.add_argument("--threads", type=int, default=None, help="torch threads per worker")
    parser.add_argument("--output", type=Path, default=RESULTS, help="CSV of one row per run")
    arguments = parser.parse_args()
    available = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    threads = arguments.threads or max(1, (available or 1) // arguments.workers)
    console = Console()
    if not console.is_terminal:
        console = Console(width=max(console.width, 130))
    tasks = [
        (problem, method, seed, threads)
        for problem in arguments.problems
        for seed in range(arguments.seeds)
        for method in arguments.methods
        if not (method == "botorch" and problem in ("snar", "redoxmers", "constrained"))
        and not (method == "parego" and problem == "constrained")  # one objective
    ]
    console.print(f"{available} CPUs, {arguments.workers} worker(s) of {threads} torch thread(s)")
    partial = arguments.output.with_suffix(".partial.csv")
    rows = run_all(console, run_one, tasks, arguments.workers, partial)
    frame = pd.DataFrame(rows).sort_values(["problem", "method", "seed"], ignore_index=True)
    arguments.output.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(arguments.output, index=False)
    for problem in arguments.problems:
        if problem == "constrained":
            report_constrained(console, frame, list(arguments.methods))
        else:
            report(console, frame, problem, list(arguments.methods))
    console.print(f"per-run rows in {arguments.output}")


if __name__ == "__main__":
    main()
