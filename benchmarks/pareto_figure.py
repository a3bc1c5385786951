"""Draw the README's Pareto-front figure: the SnAr campaign's measurements and front
against the reactor's true trade-off (the non-dominated points of a 10,000-point Sobol
scan of the kinetic model).

    python benchmarks/pareto_figure.py [--budget 40] [--seed 0]
        [--output benchmarks/figures/snar_pareto_front.png]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "campaigns"))

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import torch
from botorch.utils.multi_objective.pareto import is_non_dominated
from flow_reactor import reactor_space
from flow_reactor_pareto import make_campaign

from simulators.snar import snar_outcomes_array

FIGURE = Path(__file__).resolve().parent / "figures" / "snar_pareto_front.png"


def scanned_front(n: int = 10_000, seed: int = 0) -> np.ndarray:
    """(p, 2) space-time yield and E-factor of the non-dominated points of a Sobol scan."""
    points = reactor_space().sample(n, "sobol", seed=seed)
    X = np.array([[p["tau"], p["equiv"], p["conc"], p["temperature"]] for p in points])
    Y = snar_outcomes_array(X)
    mask = is_non_dominated(torch.as_tensor(Y * np.array([1.0, -1.0]))).numpy()
    return Y[mask][np.argsort(Y[mask][:, 0])]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", type=Path, default=FIGURE)
    arguments = parser.parse_args()
    campaign = make_campaign(arguments.seed).replace(budget=arguments.budget)
    history = campaign.run(progress=False).history
    front = history[history["pareto"]].sort_values("sty")
    truth = scanned_front()
    figure, axes = plt.subplots(figsize=(6.4, 4.4), dpi=150)
    axes.plot(
        truth[:, 0], truth[:, 1], "-", color="0.6", lw=2, label="true front (10,000-point scan)"
    )
    initial = history["iteration"] == 0
    axes.scatter(history.loc[initial, "sty"], history.loc[initial, "e_factor"], marker="s",
                 s=22, color="tab:gray", label="initial design (Sobol)")  # fmt: skip
    chosen = history[~initial]
    points = axes.scatter(chosen["sty"], chosen["e_factor"], c=chosen.index, cmap="viridis",
                          s=22, label="chosen by qLogNEHVI")  # fmt: skip
    axes.step(front["sty"], front["e_factor"], where="post", color="tab:red", lw=1.5,
              label=f"campaign's front ({len(front)} measurements)")  # fmt: skip
    axes.set_yscale("log")
    axes.set_xlabel("space-time yield / kg m$^{-3}$ h$^{-1}$ (maximise)")
    axes.set_ylabel("E-factor (minimise)")
    axes.set_title(f"SnAr flow reactor: {len(history)} experiments, seed {arguments.seed}")
    figure.colorbar(points, ax=axes, label="experiment")
    axes.legend(fontsize=7, loc="upper right")
    figure.tight_layout()
    arguments.output.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(arguments.output)
    print(f"figure written to {arguments.output}")


if __name__ == "__main__":
    main()
