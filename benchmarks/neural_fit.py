"""Fit time of the neural ensemble on 10,000 rows x 20 features (target: under 60 s on 2 cores).

python benchmarks/neural_fit.py [--device cpu|cuda|auto]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from rich.console import Console
from rich.table import Table

from discovery.surrogates import NeuralEnsembleSurrogate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda", "auto"])
    device = parser.parse_args().device
    rng = np.random.default_rng(0)
    X = rng.random((10_000, 20))
    y = np.sin(3 * X[:, :5]).sum(axis=1) + X[:, 5:].mean(axis=1) + 0.1 * rng.standard_normal(10_000)
    table = Table(
        title=f"neural ensemble fit, 10,000 x 20, {device}, {torch.get_num_threads()} threads"
    )
    for column in ("batch size", "members", "fit (s)", "train RMSE"):
        table.add_column(column, justify="right")
    for batch_size in (256, None):
        model = NeuralEnsembleSurrogate(batch_size=batch_size, device=device)
        started = time.perf_counter()
        model.fit(X, y)
        seconds = time.perf_counter() - started
        rmse = float(np.sqrt(np.mean((model.predict(X).mean - y) ** 2)))
        table.add_row(
            str(batch_size or "all rows"), str(model.n_members), f"{seconds:.1f}", f"{rmse:.3f}"
        )
    Console().print(table)


if __name__ == "__main__":
    main()
