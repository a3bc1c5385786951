"""Planner overhead per campaign iteration on large candidate pools, phase by phase.

Synthetic data: a pool of N candidates with 6 features in the unit cube, the first
500 of them measured (a smooth test function plus noise). Each iteration of ours
is what a running campaign does: fit the GP on the measurements (hyper-parameters
refitted every 5th fit, otherwise kept and the posterior extended), the pool's
posterior (a full pass after a refit, one rank-one update per new measurement
otherwise), expected improvement, top-1, then the chosen candidate is measured.
Ten iterations are timed: "steady" is the median of those between refits,
"mean" the mean of all ten (refits included).

Beside it, in the same run, a plain BoTorch loop does one iteration as such a loop
does every time: SingleTaskGP with its defaults, fit_gpytorch_mll from scratch,
LogExpectedImprovement over the unmeasured candidates in chunks of 65,536, argmax.
With BayBE installed (extra ``[bench]``), its default campaign recommends one
candidate from the same pool at the sizes given by ``--baybe-max`` (its search-space
construction checks every value of every row against its parameter: minutes at 10,000
candidates whose values are all distinct).

Each measurement runs in a fresh process, so that its peak resident memory (RSS)
is its own. Ratios are the reference's seconds over ours (above 1: ours is faster).

    python benchmarks/overhead.py [--sizes 1000 10000 100000 1000000] [--repeats 3]
        [--iterations 10] [--device cpu|cuda|auto] [--measured 500] [--baybe-max 1000]
        [--campaign] [--pool table|npy|parquet] [--campaign-only] [--acquisition ei|ucb|mes]

``--pool npy|parquet`` gives the stored campaign its pool as a file of that format (an
``ArrayPool``: float32 features, ids made on demand), written beforehand in another
process chunk by chunk; its measured values are the test function without noise.
``--campaign-only`` times that campaign alone (for 10^7 candidates, where the plain
BoTorch loop would take many minutes per iteration):

    python benchmarks/overhead.py --sizes 10000000 --pool parquet --campaign-only
"""

from __future__ import annotations

import argparse
import importlib.util
import multiprocessing
import resource
import statistics
import time
import warnings

import numpy as np
import torch
from rich.console import Console
from rich.table import Table

N_FEATURES = 6
REFERENCE_CHUNK = 65_536
FILE_CHUNK = 1_000_000


def synthetic(n_pool: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A pool in the unit cube and the measured value of every candidate."""
    rng = np.random.default_rng(seed)
    pool = rng.random((n_pool, N_FEATURES))
    y = np.sin(3 * pool).sum(axis=1) - ((pool - 0.6) ** 2).sum(axis=1)
    return pool, y + 0.05 * rng.standard_normal(n_pool)


def truth(features: np.ndarray) -> np.ndarray:
    """The synthetic test function, without noise."""
    features = np.asarray(features, dtype=np.float64)
    return np.sin(3 * features).sum(axis=1) - ((features - 0.6) ** 2).sum(axis=1)


def write_pool_file(n_pool: int, folder: str, kind: str) -> str:
    """A synthetic pool of float32 designs in the unit cube, written as ``.npy`` or
    Parquet one chunk at a time (the writer never holds the whole pool)."""
    from pathlib import Path

    rng = np.random.default_rng(0)
    names = [f"x{i}" for i in range(N_FEATURES)]
    path = Path(folder) / f"pool.{kind}"
    chunks = [(s, min(s + FILE_CHUNK, n_pool)) for s in range(0, n_pool, FILE_CHUNK)]
    if kind == "npy":
        shape = (n_pool, N_FEATURES)
        array = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=shape)
        for start, stop in chunks:
            array[start:stop] = rng.random((stop - start, N_FEATURES), dtype=np.float32)
        array.flush()
        del array
        return str(path)
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema([(name, pa.float32()) for name in names])
    with pq.ParquetWriter(path, schema) as writer:
        for start, stop in chunks:
            block = rng.random((stop - start, N_FEATURES), dtype=np.float32)
            writer.write_table(pa.table(dict(zip(names, block.T, strict=True)), schema=schema))
    return str(path)


def _peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2  # kB on Linux


def ours(
    n_pool: int, n_measured: int, iterations: int, device: str, acquisition: str = "ei"
) -> dict:
    """Ten iterations of a running campaign's planner; seconds per phase per iteration."""
    from discovery.acquisition import resolve_acquisition
    from discovery.selection import TopK
    from discovery.surrogates import GaussianProcessSurrogate

    pool, y = synthetic(n_pool)
    measured = list(range(n_measured))
    excluded = np.zeros(n_pool, dtype=bool)
    excluded[measured] = True
    model = GaussianProcessSurrogate(device=device)
    # The state of a campaign one measurement earlier: fitted, and its pool posterior made.
    model.fit(pool[measured[:-1]], y[measured[:-1]])
    model.predict_rows(pool, np.flatnonzero(~excluded))
    scorer, selector, rng = resolve_acquisition(acquisition), TopK(), np.random.default_rng(0)
    records = []
    for _ in range(iterations):
        started = time.perf_counter()
        model.fit(pool[measured], y[measured])
        fitted = time.perf_counter()
        available = np.flatnonzero(~excluded)
        prediction = model.predict_rows(pool, available)
        _synchronise(device)
        predicted = time.perf_counter()
        scores = np.full(n_pool, -np.inf)
        scores[available] = scorer.score(prediction, float(y[measured].max()), True)
        scored = time.perf_counter()
        chosen = selector.pick(scores, 1, excluded, pool, rng)
        done = time.perf_counter()
        records.append(
            {
                "refit": model.fits_since_refit_ == 0,
                "fit": fitted - started,
                "posterior": predicted - fitted,
                "score": scored - predicted,
                "select": done - scored,
                "total": done - started,
            }
        )
        measured.extend(int(i) for i in chosen)
        excluded[chosen] = True
    return {"iterations": records, "peak_rss_gb": _peak_rss_gb(), **_gpu_peak(device)}


def reference(n_pool: int, n_measured: int, iterations: int, device: str) -> dict:
    """One iteration of a plain BoTorch loop, the same every time it runs."""
    from botorch.acquisition import LogExpectedImprovement
    from botorch.fit import fit_gpytorch_mll
    from botorch.models import SingleTaskGP
    from botorch.models.transforms.input import Normalize
    from botorch.models.transforms.outcome import Standardize
    from gpytorch.mlls import ExactMarginalLogLikelihood

    from discovery.surrogates.gp import resolve_device

    target = resolve_device(device)
    pool, y = synthetic(n_pool)
    started = time.perf_counter()
    train_X = torch.tensor(pool[:n_measured], dtype=torch.float64, device=target)
    train_Y = torch.tensor(y[:n_measured], dtype=torch.float64, device=target).unsqueeze(-1)
    model = SingleTaskGP(
        train_X,
        train_Y,
        input_transform=Normalize(d=N_FEATURES),
        outcome_transform=Standardize(m=1),
    )
    fit_gpytorch_mll(ExactMarginalLogLikelihood(model.likelihood, model))
    fitted = time.perf_counter()
    acquisition = LogExpectedImprovement(model, best_f=train_Y.max())
    candidates = torch.tensor(pool[n_measured:], dtype=torch.float64, device=target)
    values = []
    with torch.no_grad():
        for start in range(0, len(candidates), REFERENCE_CHUNK):
            values.append(acquisition(candidates[start : start + REFERENCE_CHUNK].unsqueeze(1)))
    int(torch.cat(values).argmax())
    done = time.perf_counter()
    return {
        "fit": fitted - started,
        "total": done - started,
        "peak_rss_gb": _peak_rss_gb(),
        **_gpu_peak(device),
    }


def baybe(n_pool: int, n_measured: int, iterations: int, device: str) -> dict:
    """One recommendation of BayBE's default campaign over the unmeasured pool."""
    import pandas as pd
    from baybe import Campaign
    from baybe.parameters import NumericalDiscreteParameter
    from baybe.searchspace import SearchSpace
    from baybe.targets import NumericalTarget

    pool, y = synthetic(n_pool)
    columns = [f"x{i}" for i in range(N_FEATURES)]
    frame = pd.DataFrame(pool, columns=columns)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parameters = [
            NumericalDiscreteParameter(c, values=np.unique(frame[c]).tolist()) for c in columns
        ]
        space = SearchSpace.from_dataframe(frame, parameters)
        campaign = Campaign(space, NumericalTarget("y"), allow_recommending_already_measured=False)
        campaign.add_measurements(frame.iloc[:n_measured].assign(y=y[:n_measured]))
        started = time.perf_counter()
        campaign.recommend(batch_size=1)
        done = time.perf_counter()
    return {"total": done - started, "peak_rss_gb": _peak_rss_gb()}


def campaign(
    n_pool: int, n_measured: int, iterations: int, device: str, pool_file: str | None = None
) -> dict:
    """A stored campaign driven by ask/tell over the pool: seconds to build the pool (a
    table, or an ArrayPool read from ``pool_file``), to tell the measurements, for the
    first ask (a fit and a full pass) and for each ask after one more result (the GP
    between refits), and the process's peak memory."""
    import tempfile
    from pathlib import Path

    import pandas as pd

    from discovery import ArrayPool, Campaign, CandidatePool

    if pool_file is None:
        features, y = synthetic(n_pool)
        frame = pd.DataFrame(features, columns=[f"x{i}" for i in range(N_FEATURES)])
        started = time.perf_counter()
        pool = CandidatePool.from_frame(frame)
        built = time.perf_counter()
        del features, frame
    else:
        started = time.perf_counter()
        if pool_file.endswith(".npy"):
            pool = ArrayPool.from_npy(pool_file)
        else:
            pool = ArrayPool.from_parquet(pool_file)
        built = time.perf_counter()
        y = _LazyTruth(pool.raw_features)
    with tempfile.TemporaryDirectory() as folder:
        planner = Campaign(
            pool, None, "y", surrogate="gp", acquisition="ei", device=device,
            store=Path(folder) / "campaign.sqlite",
        )  # fmt: skip
        planner.tell(pd.DataFrame({"candidate_id": pool.ids[:n_measured], "y": y[:n_measured]}))
        told = time.perf_counter()
        first, steps = time_asks(planner, pool, y, iterations)
    return {
        "pool": built - started,
        "tell": told - built,
        "first ask": first,
        "ask": statistics.median(steps),
        "mean ask": statistics.mean(steps),
        "peak_rss_gb": _peak_rss_gb(),
    }


def time_asks(planner, pool, values, iterations: int) -> tuple[float, list[float]]:
    """Seconds of a campaign's next ask, then of each ask after telling it the value of
    the design the previous ask chose (``values[pool.index_of(id)]``)."""
    started = time.perf_counter()
    suggestion = planner.ask(1)
    first = time.perf_counter() - started
    steps = []
    for _ in range(iterations):
        chosen = str(suggestion["candidate_id"].iloc[0])
        planner.tell(chosen, float(values[pool.index_of(chosen)]))
        started = time.perf_counter()
        suggestion = planner.ask(1)
        steps.append(time.perf_counter() - started)
    return first, steps


class _LazyTruth:
    """The test function's value of a pool row, computed when asked for."""

    def __init__(self, raw: np.ndarray) -> None:
        self.raw = raw

    def __getitem__(self, rows):
        values = truth(np.atleast_2d(self.raw[rows]))
        return values if isinstance(rows, slice) or np.ndim(rows) else values[0]


def _synchronise(device: str) -> None:
    if device != "cpu" and torch.cuda.is_available():
        torch.cuda.synchronize()


def _gpu_peak(device: str) -> dict:
    if device != "cpu" and torch.cuda.is_available():
        return {"gpu_peak_gb": torch.cuda.max_memory_allocated() / 1024**3}
    return {}


def in_fresh_process(function, *args) -> dict:
    """``function(*args)`` in a new interpreter: its own peak memory, no shared caches."""
    with multiprocessing.get_context("spawn").Pool(1) as worker:
        return worker.apply(function, args)


def summarise(runs: list[dict]) -> dict:
    """Best repeat by mean seconds; steady state = median over iterations without refit."""
    best = min(runs, key=lambda run: statistics.mean(r["total"] for r in run["iterations"]))
    records = best["iterations"]
    steady = [r for r in records if not r["refit"]] or records
    phases = ("fit", "posterior", "score", "select", "total")
    return {
        "steady": {p: statistics.median(r[p] for r in steady) for p in phases},
        "mean": statistics.mean(r["total"] for r in records),
        "refit": statistics.mean(r["total"] for r in records if r["refit"])
        if any(r["refit"] for r in records)
        else float("nan"),
        "peak_rss_gb": max(run["peak_rss_gb"] for run in runs),
        "gpu_peak_gb": max((run.get("gpu_peak_gb", 0.0) for run in runs), default=0.0),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--iterations", type=int, default=10)
    parser.add_argument("--measured", type=int, default=500)
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda", "auto"])
    parser.add_argument("--baybe-max", type=int, default=1_000, help="largest pool for BayBE")
    parser.add_argument(
        "--campaign", action="store_true", help="also time a stored campaign's ask/tell loop"
    )
    parser.add_argument(
        "--pool",
        default="table",
        choices=["table", "npy", "parquet"],
        help="the stored campaign's pool: a table (CandidatePool) or an ArrayPool from a file",
    )
    parser.add_argument(
        "--campaign-only", action="store_true", help="time the stored campaign alone"
    )
    parser.add_argument(
        "--acquisition",
        default="ei",
        help="the acquisition of our phase-by-phase planner (the BoTorch loop keeps LogEI)",
    )
    args = parser.parse_args()
    args.campaign = args.campaign or args.campaign_only or args.pool != "table"
    with_baybe = importlib.util.find_spec("baybe") is not None

    console = Console(width=150)
    phases = Table(
        title=f"ours, steady-state iteration by phase ({args.measured} measurements, "
        f"{N_FEATURES} features, {args.acquisition}, {args.device}, "
        f"{torch.get_num_threads()} threads; seconds)"
    )
    on_gpu = args.device != "cpu" and torch.cuda.is_available()
    for column in ("pool", "fit", "posterior", "score", "select", "steady", "refit", "mean of 10"):
        phases.add_column(column, justify="right", no_wrap=True)
    if on_gpu:
        phases.add_column("GPU peak (GB)", justify="right", no_wrap=True)
    ratios = Table(title="against the references (seconds per iteration; ratio = theirs / ours)")
    for column in (
        "pool",
        "BoTorch loop",
        "steady ratio",
        "mean ratio",
        "BayBE",
        "BayBE / ours mean",
        "peak RSS ours (GB)",
        "peak RSS BoTorch (GB)",
    ):
        ratios.add_column(column, justify="right", no_wrap=True)
    loop = Table(title="a stored campaign, ask/tell (seconds; 'ask': median after one more result)")
    for column in (
        "pool",
        "build pool",
        "tell all",
        "first ask",
        "ask",
        "mean ask",
        "peak RSS (GB)",
    ):
        loop.add_column(column, justify="right", no_wrap=True)
    shape = (args.measured, args.iterations, args.device)
    for size in args.sizes:
        if args.campaign_only:
            loop.add_row(f"{size:,}", *_stored(size, shape, args.pool))
            console.print(f"[dim]done: {size:,} candidates[/dim]")
            continue
        mine = summarise(
            [in_fresh_process(ours, size, *shape, args.acquisition) for _ in range(args.repeats)]
        )
        theirs = min(
            (in_fresh_process(reference, size, *shape) for _ in range(args.repeats)),
            key=lambda run: run["total"],
        )
        steady = mine["steady"]
        phases.add_row(
            f"{size:,}",
            *(f"{steady[p]:.3f}" for p in ("fit", "posterior", "score", "select", "total")),
            f"{mine['refit']:.2f}",
            f"{mine['mean']:.3f}",
            *([f"{mine['gpu_peak_gb']:.2f}"] if on_gpu else []),
        )
        their_baybe = (
            in_fresh_process(baybe, size, *shape)["total"]
            if with_baybe and size <= args.baybe_max
            else None
        )
        ratios.add_row(
            f"{size:,}",
            f"{theirs['total']:.2f}",
            f"{theirs['total'] / steady['total']:.1f}x",
            f"{theirs['total'] / mine['mean']:.1f}x",
            "-" if their_baybe is None else f"{their_baybe:.2f}",
            "-" if their_baybe is None else f"{their_baybe / mine['mean']:.1f}x",
            f"{mine['peak_rss_gb']:.2f}",
            f"{theirs['peak_rss_gb']:.2f}",
        )
        if args.campaign:
            loop.add_row(f"{size:,}", *_stored(size, shape, args.pool))
        console.print(f"[dim]done: {size:,} candidates[/dim]")
    if not args.campaign_only:
        console.print(phases)
        console.print(ratios)
    if args.campaign:
        loop.title += f"; pool: {args.pool}"
        console.print(loop)


def _stored(size: int, shape: tuple, pool_kind: str) -> list[str]:
    """The stored campaign's row: its pool written to a file first when asked for."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        pool_file = None
        if pool_kind != "table":
            pool_file = in_fresh_process(write_pool_file, size, folder, pool_kind)
        stored = in_fresh_process(campaign, size, *shape, pool_file)
    return [
        *(f"{stored[k]:.2f}" for k in ("pool", "tell", "first ask", "ask", "mean ask")),
        f"{stored['peak_rss_gb']:.2f}",
    ]


if __name__ == "__main__":
    main()
