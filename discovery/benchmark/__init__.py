"""Benchmarking as a product feature: replay strategies on real datasets, paired and resumable.

    from discovery.benchmark import run_benchmark
    result = run_benchmark(["crossed_barrel"], ["auto", "gp-ucb", "random"], runs=10)
    print(result.table)

The command line is ``discovery benchmark DATASET... --strategies auto,baybe,random``.
"""

from discovery.benchmark.compare import BenchmarkResult, run_benchmark
from discovery.benchmark.datasets import DATASETS, Dataset, dataset_names, load_dataset
from discovery.benchmark.external import ExternalStrategy, Proposer, StrategyError
from discovery.benchmark.protocol import Protocol, resolve_protocol
from discovery.benchmark.strategies import Strategy, resolve_strategy

__all__ = [
    "DATASETS",
    "BenchmarkResult",
    "Dataset",
    "ExternalStrategy",
    "Proposer",
    "Protocol",
    "Strategy",
    "StrategyError",
    "dataset_names",
    "load_dataset",
    "resolve_protocol",
    "resolve_strategy",
    "run_benchmark",
]
