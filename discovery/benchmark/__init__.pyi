"""The benchmark's public API, for type checkers and readers; `__init__.py` loads each name on
first use."""

from .catalogue import DATASETS, dataset_names
from .compare import BenchmarkResult, run_benchmark
from .datasets import Dataset, load_dataset
from .external import ExternalStrategy, Proposer, StrategyError
from .protocol import Protocol, resolve_protocol
from .strategies import Strategy, resolve_strategy

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
