"""Overhead of one campaign iteration (fit + score + select) on large candidate pools.

Synthetic data: 6 features, 500 measured candidates, pools of 1e3, 1e4 and 1e5.
Next to it, in the same run, a plain BoTorch loop: SingleTaskGP with its default
kernel, fit_gpytorch_mll, LogExpectedImprovement evaluated over the pool in
chunks of 65,536 (each candidate a q=1 batch), argmax, refitted from scratch as
such a loop does every iteration. Ours is timed as one iteration of a running
campaign (the GP refit warm-started from the previous iteration's fit); its
cold fit is shown beside it. The table reports seconds and the ratio
reference / ours (above 1: ours is faster).

    python benchmarks/overhead.py [--sizes 1000 10000 100000] [--repeats 1]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from botorch.acquisition import LogExpectedImprovement
from botorch.fit import fit_gpytorch_mll
from botorch.models import SingleTaskGP
from botorch.models.transforms.input import Normalize
from botorch.models.transforms.outcome import Standardize
from gpytorch.mlls import ExactMarginalLogLikelihood
from rich.console import Console
from rich.table import Table

from discovery.acquisition import resolve_acquisition
from discovery.selection import TopK
from discovery.surrogates import GaussianProcessSurrogate

N_MEASURED = 500
N_FEATURES = 6
REFERENCE_CHUNK = 65_536


def synthetic(n_pool: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A pool in the unit cube, 500 measured points and their values (a smooth test function)."""
    data_rng, pool_rng = (np.random.default_rng([seed, stream]) for stream in (0, 1))
    measured = data_rng.random((N_MEASURED, N_FEATURES))
    y = np.sin(3 * measured).sum(axis=1) - ((measured - 0.6) ** 2).sum(axis=1)
    y += 0.05 * data_rng.standard_normal(N_MEASURED)
    return pool_rng.random((n_pool, N_FEATURES)), measured, y


def ours(pool: np.ndarray, X: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """One iteration of a running campaign through discovery: the GP was fitted on the
    first 499 measurements last iteration; now refit (warm started) on 500, posterior
    over the pool, log-EI, top-1. A cold fit on the 500 is timed on its own.
    """
    cold_started = time.perf_counter()
    GaussianProcessSurrogate(device="cpu").fit(X, y)
    cold = time.perf_counter() - cold_started
    model = GaussianProcessSurrogate(device="cpu").fit(X[:-1], y[:-1])
    started = time.perf_counter()
    model.fit(X, y)
    fitted = time.perf_counter()
    prediction = model.predict(pool)
    predicted = time.perf_counter()
    scores = resolve_acquisition("ei").score(prediction, float(y.max()), True)
    TopK().pick(scores, 1, np.zeros(len(pool), bool), pool, np.random.default_rng(0))
    done = time.perf_counter()
    return {
        "cold fit": cold,
        "fit": fitted - started,
        "predict": predicted - fitted,
        "score+select": done - predicted,
        "total": done - started,
    }


def reference(pool: np.ndarray, X: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """The same iteration as a plain BoTorch loop would write it."""
    started = time.perf_counter()
    train_X = torch.tensor(X, dtype=torch.float64)
    train_Y = torch.tensor(y, dtype=torch.float64).unsqueeze(-1)
    model = SingleTaskGP(
        train_X,
        train_Y,
        input_transform=Normalize(d=N_FEATURES),
        outcome_transform=Standardize(m=1),
    )
    fit_gpytorch_mll(ExactMarginalLogLikelihood(model.likelihood, model))
    fitted = time.perf_counter()
    acquisition = LogExpectedImprovement(model, best_f=train_Y.max())
    candidates = torch.tensor(pool, dtype=torch.float64)
    values = []
    with torch.no_grad():
        for start in range(0, len(candidates), REFERENCE_CHUNK):
            chunk = candidates[start : start + REFERENCE_CHUNK].unsqueeze(1)
            values.append(acquisition(chunk))
    int(torch.cat(values).argmax())
    done = time.perf_counter()
    return {"fit": fitted - started, "total": done - started}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()

    table = Table(
        title=f"one iteration, {N_MEASURED} measurements, {N_FEATURES} features, "
        f"{torch.get_num_threads()} threads (seconds, best of {args.repeats})"
    )
    for column in (
        "pool",
        "ours: cold fit",
        "ours: fit",
        "ours: predict",
        "ours: score+select",
        "ours: total",
        "BoTorch loop: fit",
        "BoTorch loop: total",
        "ratio",
    ):
        table.add_column(column, justify="right")
    # Warm-up: the first fit pays for imports and lazy initialisation in torch.
    warm_pool, warm_X, warm_y = synthetic(100)
    ours(warm_pool, warm_X[:50], warm_y[:50])
    reference(warm_pool, warm_X[:50], warm_y[:50])
    for size in args.sizes:
        pool, X, y = synthetic(size)
        mine = min((ours(pool, X, y) for _ in range(args.repeats)), key=lambda t: t["total"])
        base = min((reference(pool, X, y) for _ in range(args.repeats)), key=lambda t: t["total"])
        table.add_row(
            f"{size:,}",
            f"{mine['cold fit']:.2f}",
            f"{mine['fit']:.2f}",
            f"{mine['predict']:.2f}",
            f"{mine['score+select']:.3f}",
            f"{mine['total']:.2f}",
            f"{base['fit']:.2f}",
            f"{base['total']:.2f}",
            f"{base['total'] / mine['total']:.2f}x",
        )
    Console().print(table)


if __name__ == "__main__":
    main()
