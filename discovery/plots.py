"""Figures of a campaign: progress, model quality, where the search went, what mattered.

Each function takes plain values (a history table, feature arrays, predictions) and
returns a matplotlib ``Figure``, which a notebook shows inline and the HTML report draws
as SVG. Figures are made with ``matplotlib.figure.Figure`` directly, not pyplot: no
global state, no display needed, safe in a server thread.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from discovery.diagnostics import coverage_curve
from discovery.oracles.base import CANCELLED, FAILED, LOST

#: Colours by role, so that every figure reads the same way.
MEASURED, BEST, MODEL, BASELINE, FAULT = "#1f77b4", "#d62728", "#2ca02c", "#7f7f7f", "#000000"
#: Job states of an experiment that ran and gave no result (in-flight ones are not failures).
FAILED_STATES = (FAILED, CANCELLED, LOST)
#: Size of one figure in inches (width, height).
SIZE = (6.4, 3.6)


class NotebookFigure(Figure):
    """A Figure that shows itself as an image in a notebook, whether or not pyplot (and
    with it the notebook's inline display) was ever imported."""

    def _repr_png_(self) -> bytes:
        buffer = io.BytesIO()
        self.savefig(buffer, format="png", dpi=100)
        return buffer.getvalue()


def failed_mask(history: pd.DataFrame) -> np.ndarray:
    """Which experiments failed (ran and gave no result)."""
    return history["state"].isin(FAILED_STATES).to_numpy()


def _figure(size: tuple[float, float] = SIZE, columns: int = 1) -> tuple[Figure, list]:
    figure = NotebookFigure(figsize=size, layout="constrained")
    axes = figure.subplots(1, columns)
    return figure, list(np.atleast_1d(axes))


def best_so_far(
    history: pd.DataFrame,
    value: str,
    *,
    label: str | None = None,
    random_band: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> Figure:
    """The best value found after each experiment.

    Args:
        history: a campaign's history (one row per experiment, in order).
        value: the column to draw: ``best_so_far``, or ``hypervolume`` for a front.
        label: the y-axis label.
        random_band: (experiments, lower, upper) of random search's expected best,
            drawn as a grey band behind the campaign's curve.
    """
    figure, (axes,) = _figure()
    experiments = np.arange(1, len(history) + 1)
    if random_band is not None:
        at, lower, upper = random_band
        axes.fill_between(
            at, lower, upper, color=BASELINE, alpha=0.25, label="random search (90 %)"
        )
    axes.step(
        experiments, history[value].to_numpy(float), where="post", color=BEST, label="this campaign"
    )
    initial = int((history["iteration"] == 0).sum()) if "iteration" in history else 0
    if 0 < initial < len(history):
        axes.axvline(initial + 0.5, color=BASELINE, linestyle=":", label="end of initial design")
    axes.set(xlabel="experiment", ylabel=label or value, title="Best so far")
    axes.legend(loc="best", fontsize="small")
    return figure


def measured_values(history: pd.DataFrame, objective: str, colour_by: str) -> Figure:
    """Every measured value in order, coloured by what chose it (arm, acquisition, or
    the initial design); failed experiments as crosses on the axis."""
    figure, (axes,) = _figure()
    experiments = np.arange(1, len(history) + 1)
    values = history[objective].to_numpy(float)
    succeeded = (history["state"] == "succeeded").to_numpy()
    failed = failed_mask(history)
    groups = _choosers(history, colour_by)
    for name in pd.unique(groups):
        mine = (groups == name) & succeeded
        axes.scatter(experiments[mine], values[mine], s=22, label=str(name))
    if failed.any():
        floor = np.nanmin(values) if np.isfinite(values).any() else 0.0
        axes.scatter(
            experiments[failed], np.full(failed.sum(), floor), marker="x",
            color=FAULT, label="failed",
        )  # fmt: skip
    axes.set(xlabel="experiment", ylabel=objective, title="Measured values")
    axes.legend(loc="best", fontsize="small")
    return figure


def _choosers(history: pd.DataFrame, colour_by: str) -> np.ndarray:
    if colour_by in history and history[colour_by].notna().any():
        names = history[colour_by].fillna("").astype(str)
    else:
        names = history["acquisition"].fillna("").astype(str) if "acquisition" in history else ""
    names = pd.Series(names, index=history.index)
    if "iteration" in history:
        names[history["iteration"].fillna(0).to_numpy() == 0] = "initial design"
    return names.replace("", "other").to_numpy()


def parity(
    y: np.ndarray, mean: np.ndarray, std: np.ndarray | None, *, name: str, baseline_rmse: float
) -> Figure:
    """Cross-validated predictions against the measured values (parity, with error
    bars of one standard deviation) and, beside it, the calibration curve: the share of
    measurements inside each central interval against the share expected."""
    figure, (left, right) = _figure((8.8, 3.8), columns=2)
    y, mean = np.asarray(y, float), np.asarray(mean, float)
    rmse = float(np.sqrt(np.mean((mean - y) ** 2)))
    left.errorbar(
        y, mean, yerr=std, fmt="o", markersize=4, color=MODEL, ecolor=MODEL, alpha=0.7,
        label=f"{name}: RMSE {rmse:.3g}",
    )  # fmt: skip
    span = [float(np.nanmin([y.min(), mean.min()])), float(np.nanmax([y.max(), mean.max()]))]
    left.plot(span, span, color=BASELINE, linestyle="--", label="ideal")
    # The baseline's error as a legend entry of its own: predicting the training mean.
    left.plot([], [], " ", label=f"predicting the mean: RMSE {baseline_rmse:.3g}")
    left.set(xlabel="measured", ylabel="predicted (out of fold)", title="Parity")
    left.legend(loc="upper left", fontsize="small")
    levels = np.linspace(0.05, 0.95, 19)
    right.plot([0, 1], [0, 1], color=BASELINE, linestyle="--", label="ideal")
    if std is not None:
        right.plot(levels, coverage_curve(y, mean, std, levels), "o-", color=MODEL, label=name)
    right.set(
        xlabel="expected coverage", ylabel="observed coverage", title="Calibration",
        xlim=(0, 1), ylim=(0, 1),
    )  # fmt: skip
    right.legend(loc="upper left", fontsize="small")
    return figure


def space_map(
    measured: np.ndarray,
    background: np.ndarray,
    predicted: np.ndarray,
    *,
    axes_names: tuple[str, str],
    value_name: str,
    numbers: Sequence[int] | None = None,
    failed: np.ndarray | None = None,
) -> Figure:
    """Where the search went: the measured designs, each numbered by its experiment and
    joined in order, over the model's predicted landscape, all in the same two
    coordinates; failed designs, which gave no measurement, as unnumbered crosses.

    Args:
        measured: (n, 2) coordinates of the measured designs, in order.
        background: (m, 2) coordinates of designs spread over the space.
        predicted: (m,) the model's mean at ``background``.
        numbers: (n,) the experiment number of each measured design (1..n when None).
        failed: (k, 2) coordinates of the designs whose experiments failed, or None.
    """
    numbers = np.arange(1, len(measured) + 1) if numbers is None else np.asarray(numbers)
    figure, (axes,) = _figure((6.4, 5.0))
    # Cells of the best predicted value: designs that project onto one point (a grid
    # seen edge-on) still show their best, where a scatter would hide all but the last.
    landscape = axes.hexbin(
        background[:, 0], background[:, 1], C=predicted, reduce_C_function=np.max,
        gridsize=30, cmap="viridis", linewidths=0.1, rasterized=True,
    )  # fmt: skip
    figure.colorbar(landscape, ax=axes, label=f"predicted {value_name} (best in cell)")
    # A small fixed offset per experiment keeps repeated coordinates' numbers apart.
    span = np.ptp(background, axis=0) + 1e-12
    offsets = 0.012 * span * np.column_stack([np.cos(numbers * 2.4), np.sin(numbers * 2.4)])
    shown = measured + offsets
    axes.plot(shown[:, 0], shown[:, 1], color="white", linewidth=0.6, alpha=0.7)
    axes.scatter(shown[:, 0], shown[:, 1], s=30, color=BEST, edgecolors="white", zorder=3)
    for number, (x, y) in zip(numbers, shown, strict=True):
        axes.annotate(str(number), (x, y), fontsize=6, xytext=(3, 3), textcoords="offset points")
    if failed is not None and len(failed):
        axes.scatter(
            failed[:, 0], failed[:, 1], s=40, marker="X", color=FAULT, edgecolors="white",
            linewidths=0.6, zorder=3, label="failed (no measurement)",
        )  # fmt: skip
        axes.legend(loc="upper right", fontsize="small")
    axes.set(xlabel=axes_names[0], ylabel=axes_names[1], title="Where the search went")
    return figure


def importance(
    names: Sequence[str],
    mean: np.ndarray,
    spread: np.ndarray,
    *,
    method: str,
    lengthscales: np.ndarray | None = None,
) -> Figure:
    """How much each input moves the model's prediction (bars with their spread over
    repeats); for a GP, its inverse ARD length scales beside them."""
    columns = 2 if lengthscales is not None else 1
    figure, panels = _figure((8.8 if columns == 2 else 6.4, 0.9 + 0.28 * len(names)), columns)
    order = np.argsort(mean)
    at = np.arange(len(names))
    labels = [_short(names[i]) for i in order]
    panels[0].barh(at, np.asarray(mean)[order], xerr=np.asarray(spread)[order], color=MEASURED)
    panels[0].set(yticks=at, yticklabels=labels, xlabel=method, title="Which inputs matter")
    if lengthscales is not None:
        panels[1].barh(at, 1 / np.asarray(lengthscales)[order], color=MODEL)
        panels[1].set(
            yticks=at, yticklabels=labels, xlabel="1 / length scale", title="GP relevance"
        )
    return figure


def _short(label: str, width: int = 32) -> str:
    """A tick label cut to ``width`` characters (one-hot SMILES names run to hundreds)."""
    return label if len(label) <= width else label[: width - 1] + "…"


def pareto_front(
    history: pd.DataFrame, objectives: Sequence[tuple[str, str]], reference: Sequence[float] | None
) -> Figure:
    """The first two objectives of every feasible measurement, the front highlighted and
    bounded by the staircase of the region it dominates, and the reference point (each
    objective's direction in its axis label).

    A "match" objective is drawn by its values, while its front and its reference point
    are distances from its target, which the values do not show: with one on either axis
    neither the staircase nor the reference point is drawn, and the legend says so.
    """
    figure, (axes,) = _figure((6.4, 4.6))
    (x, x_direction), (y, y_direction) = objectives[:2]
    feasible = history[history["feasible"]] if "feasible" in history else history
    others = history[(history["state"] == "succeeded") & ~history.index.isin(feasible.index)]
    front = feasible[feasible["pareto"]].sort_values(x)
    axes.scatter(others[x], others[y], s=18, color=BASELINE, marker="x", label="infeasible")
    axes.scatter(feasible[x], feasible[y], s=22, color=MEASURED, alpha=0.7, label="feasible")
    has_match = "match" in (x_direction, y_direction)
    if not has_match:
        axes.step(front[x], front[y], where=_dominated_step(x_direction), color=BEST)
    axes.scatter(front[x], front[y], s=40, color=BEST, zorder=3, label="Pareto front")
    if reference is not None and len(reference) >= 2:
        _reference_point(axes, reference, has_match)
    axes.set(xlabel=f"{x} ({x_direction})", ylabel=f"{y} ({y_direction})", title="Pareto front")
    axes.legend(loc="best", fontsize="small")
    return figure


def _dominated_step(x_direction: str) -> str:
    """Matplotlib's ``where`` for a front's staircase over its points in increasing x, so
    that each corner is one the front dominates: the worse x of two neighbours with the
    y of the point better in x ("pre" takes the left x, "post" the right one)."""
    return "pre" if x_direction == "max" else "post"


def _reference_point(axes: Axes, reference: Sequence[float], has_match: bool) -> None:
    """The reference point as a star, or, where an axis is a "match" objective (whose
    reference is a distance from its target, not a value), a legend line saying why not."""
    if has_match:
        axes.plot([], [], " ", label="reference point: a distance from the target, not drawn")
        return
    axes.scatter(
        [reference[0]], [reference[1]], marker="*", s=80, color=FAULT, label="reference point"
    )


def arm_rewards(arms: pd.DataFrame) -> Figure:
    """A portfolio's arms: how often each was picked and the reward its experiments
    earned, with each arm's final probability."""
    figure, (left, right) = _figure((8.8, 0.9 + 0.35 * len(arms) + 1.0), columns=2)
    at = np.arange(len(arms))
    left.barh(at, arms["picks"], color=MEASURED)
    left.set(yticks=at, yticklabels=arms["arm"], xlabel="iterations picked", title="Picks")
    right.barh(at, arms["reward"], color=MODEL)
    for row, probability in enumerate(arms["probability"]):
        right.annotate(
            f"p={probability:.2f}", (0, row), fontsize=7, xytext=(2, 0), textcoords="offset points"
        )
    right.set(yticks=at, yticklabels=arms["arm"], xlabel="reward earned", title="Rewards")
    return figure


def failures(history: pd.DataFrame, by: str) -> Figure:
    """The oracle's faults over the campaign: each failed or retried experiment by its
    error class (or instrument), against experiment number."""
    figure, (axes,) = _figure()
    failed = history[failed_mask(history)]
    classes = (
        failed[by].fillna("unclassified").astype(str)
        if by in failed
        else pd.Series("failed", index=failed.index)
    )
    names = sorted(classes.unique())
    positions = np.arange(1, len(history) + 1)[history.index.get_indexer(failed.index)]
    for row, name in enumerate(names):
        mine = (classes == name).to_numpy()
        axes.scatter(positions[mine], np.full(mine.sum(), row), marker="x", s=40, color=FAULT)
    retried = history["attempts"].fillna(1).to_numpy() > 1 if "attempts" in history else None
    if retried is not None and retried.any():
        axes.scatter(
            np.arange(1, len(history) + 1)[retried], np.full(retried.sum(), len(names)),
            marker="o", s=20, color=MEASURED,
        )  # fmt: skip
        names = [*names, "retried, then ran"]
    axes.set(
        yticks=np.arange(len(names)), yticklabels=names, xlabel="experiment",
        title="Failures and retries", xlim=(0, len(history) + 1),
    )  # fmt: skip
    return figure
