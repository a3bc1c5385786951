"""A campaign's record of experiments, one row each, and its summary."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd


def history_columns(objective: str) -> list[str]:
    """The columns of a campaign's history, in order, for an objective's name."""
    return [
        "iteration",
        "candidate_id",
        objective,
        "state",
        "best_so_far",
        "score",
        "surrogate",
        "acquisition",
        "fit_seconds",
        "selection_seconds",
        "error",
    ]


def history_frame(jobs: pd.DataFrame, objective: str, maximize: bool) -> pd.DataFrame:
    """The history table from the store's job rows: one row per experiment, in order,
    with ``best_so_far`` and the columns of :func:`history_columns` first.
    """
    frame = jobs.copy()
    frame["iteration"] = frame["iteration"].astype("Int64")
    frame["error"] = frame["error_message"].fillna("")
    for column in ("surrogate", "acquisition"):
        frame[column] = frame[column].fillna("")
    for column in ("fit_seconds", "selection_seconds"):
        frame[column] = frame[column].fillna(0.0)
    measured = frame[objective].where(frame["state"] == "succeeded")
    running = measured.cummax() if maximize else measured.cummin()
    frame["best_so_far"] = running.ffill()
    first = history_columns(objective)
    return frame[first + [c for c in frame.columns if c not in first]]


@dataclass
class CampaignResult:
    """What a campaign did: every experiment in order, and the best it found.

    Attributes:
        history: one row per experiment: ``iteration`` (0 = initial design),
            ``candidate_id``, the objective's value (NaN if the experiment
            failed), ``state``, ``best_so_far``, the chosen candidate's
            acquisition ``score``, ``surrogate``, ``acquisition``,
            ``fit_seconds``, ``selection_seconds`` and ``error``.
        objective: the objective's column name.
        maximize: the direction.
        wall_seconds: time the whole run took.
        stopped_because: "budget", "target" or "pool exhausted".
    """

    history: pd.DataFrame
    objective: str
    maximize: bool
    wall_seconds: float = 0.0
    stopped_because: str = "budget"

    @property
    def measured(self) -> pd.DataFrame:
        """The rows of experiments that succeeded."""
        return self.history[self.history["state"] == "succeeded"]

    @property
    def best(self) -> pd.Series | None:
        """The row of the best measured experiment (first one on ties), or None."""
        measured = self.measured
        if measured.empty:
            return None
        values = measured[self.objective].to_numpy()
        position = int(np.argmax(values) if self.maximize else np.argmin(values))
        return measured.iloc[position]

    def summary(self) -> dict[str, Any]:
        """Best value, where it was found, and the time spent per iteration."""
        history = self.history
        best = self.best
        iterations = history.drop_duplicates("iteration")
        modelled = iterations[iterations["iteration"] > 0]
        per_iteration = (modelled["fit_seconds"] + modelled["selection_seconds"]).to_numpy()
        return {
            "experiments": len(history),
            "succeeded": len(self.measured),
            "failed": int((history["state"] != "succeeded").sum()),
            "best_value": None if best is None else float(best[self.objective]),
            "best_candidate": None if best is None else str(best["candidate_id"]),
            "found_at_iteration": None if best is None else int(best["iteration"]),
            "found_at_experiment": None if best is None else int(best.name) + 1,
            "seconds_per_iteration": float(per_iteration.mean()) if per_iteration.size else 0.0,
            "wall_seconds": self.wall_seconds,
            "stopped_because": self.stopped_because,
        }
