"""Benchmarking as a product feature: replay strategies on real datasets, paired and resumable.

    from discovery.benchmark import run_benchmark
    result = run_benchmark(["crossed_barrel"], ["auto", "gp-ucb", "random"], runs=10)
    print(result.table)

The command line is ``discovery benchmark DATASET... --strategies auto,baybe,random``.
"""

import lazy_loader

# Each name is imported on first use (``__init__.pyi`` lists them): the command line
# reads the dataset catalogue for its help without importing the benchmark's machinery.
__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)
