"""A campaign's record of experiments, one row each, and its summary."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from discovery.exceptions import ConfigurationError
from discovery.objectives import Objectives
from discovery.rewards import best_position, reward_of
from discovery.store import OPEN_STATES

#: The columns a campaign of several outcomes (or outcome constraints) adds.
OUTCOME_COLUMNS = frozenset({"feasible", "pareto", "hypervolume", "desirability"})
#: Every column a history may hold besides the parameters and the measured properties: a
#: declared space's parameter of one of these names would be hidden behind it.
HISTORY_COLUMNS = frozenset(
    {
        "iteration", "candidate_id", "state", "score", "surrogate", "acquisition", "kind",
        "fit_seconds", "selection_seconds", "diagnostics_json", "arm", "error_class",
        "error_message", "attempts", "idempotency_key", "handle_json", "created_at",
        "updated_at", "result_json", "measured_at", "parameters_json", "error",
        "best_so_far", "reward", "cumulative_reward", "simple_regret", "cumulative_regret",
    }
) | OUTCOME_COLUMNS  # fmt: skip


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


def _reward_columns(
    frame: pd.DataFrame,
    measured: pd.Series,
    maximize: bool,
    closest_to: float | None,
    optimum: float | None,
) -> None:
    """Reward per step, cumulative reward and, against a known optimum, simple and
    cumulative regret, over the experiments spent from the budget (a design told from
    outside the pool shows its reward, but the sums and the regret are the campaign's
    own). A failed or infeasible experiment earns nothing and adds the regret of the best
    so far, for it came no nearer the optimum; before anything was measured, the regret
    of the first measurement (none is known while nothing was). An experiment still open
    (asked, not yet told) adds nothing until it finishes, as it earns nothing until then."""
    reward = pd.Series(reward_of(measured, maximize, closest_to), index=frame.index)
    frame["reward"] = reward
    spent = spent_rows(frame)
    earned = reward.where(spent)
    frame["cumulative_reward"] = earned.fillna(0.0).cumsum()
    if optimum is None:
        frame["simple_regret"] = np.nan
        frame["cumulative_regret"] = np.nan
        return
    best_reward = float(reward_of([optimum], maximize, closest_to)[0])
    simple = best_reward - earned.cummax().ffill()
    frame["simple_regret"] = simple
    if earned.isna().all():
        frame["cumulative_regret"] = np.nan
        return
    step = (best_reward - earned).where(earned.notna(), simple.bfill())
    finished = ~frame["state"].isin(OPEN_STATES)
    frame["cumulative_regret"] = step.where(spent & finished, 0.0).cumsum()


def _running_best(measured: pd.Series, maximize: bool, closest_to: float | None) -> pd.Series:
    if closest_to is None:
        return measured.cummax() if maximize else measured.cummin()
    best, running = np.nan, []
    for value in measured:
        if not np.isnan(value) and (
            np.isnan(best) or abs(value - closest_to) < abs(best - closest_to)
        ):
            best = value
        running.append(best)
    return pd.Series(running, index=measured.index, dtype=np.float64)


def ranks_by_desirability(outcomes: Objectives | None) -> bool:
    """Whether a campaign's best measurement is its most desirable one
    (:attr:`Objectives.ranks_by_desirability`); never with one plain objective (None)."""
    return outcomes is not None and outcomes.ranks_by_desirability


def ranking_rewards(
    rows: pd.DataFrame,
    objective: str,
    maximize: bool,
    closest_to: float | None,
    outcomes: Objectives | None,
) -> np.ndarray:
    """(n,) float64 how good each row's measurement is, larger better: the desirability
    where :func:`ranks_by_desirability`, else the objective's reward: the best row, the
    status and the report's top table rank by it, as the history's best so far does."""
    if ranks_by_desirability(outcomes):
        return rows["desirability"].to_numpy(np.float64)
    return reward_of(rows[objective].to_numpy(np.float64), maximize, closest_to)


def spent_rows(history: pd.DataFrame) -> pd.Series:
    """Per row, whether it is an experiment counted against the budget: every job, not a
    measurement told for a design outside the pool (kind "external")."""
    if "kind" not in history:
        return pd.Series(True, index=history.index)
    return history["kind"] != "external"


def budget_spent(history: pd.DataFrame) -> int:
    """Experiments counted against the budget (:func:`spent_rows`)."""
    return int(spent_rows(history).sum())


def history_frame(
    jobs: pd.DataFrame,
    objective: str,
    maximize: bool,
    closest_to: float | None = None,
    optimum: float | None = None,
    outcomes: Objectives | None = None,
) -> pd.DataFrame:
    """The history table from the store's job rows: one row per experiment, in order,
    with ``best_so_far`` and the columns of :func:`history_columns` first, and the
    reinforcement-learning view: ``reward``, ``cumulative_reward``, ``simple_regret``
    and ``cumulative_regret`` (NaN unless the ``optimum`` is known). With several
    measured properties (``outcomes``), see :func:`_outcome_columns`; the best so far
    then counts feasible measurements only, and is the front's hypervolume for a Pareto
    front (:func:`_front_reward_columns`) and the best desirability for several
    objectives combined by desirability (whose rewards are then desirabilities).
    """
    frame = _with_parameters(jobs)
    frame["iteration"] = frame["iteration"].astype("Int64")
    frame["error"] = frame["error_message"].fillna("")
    for column in ("surrogate", "acquisition"):
        frame[column] = frame[column].fillna("")
    # Numbers as floats, also where every value is missing (an all-None column is object).
    for column in ("fit_seconds", "selection_seconds"):
        frame[column] = frame[column].astype("float64").fillna(0.0)
    measured = frame[objective].astype("float64").where(frame["state"] == "succeeded")
    if outcomes is not None:
        _outcome_columns(frame, outcomes)
        measured = measured.where(frame["feasible"])
        if ranks_by_desirability(outcomes):
            # What the campaign seeks, and what its best row is chosen by.
            measured = frame["desirability"].where(frame["feasible"])
            maximize, closest_to, optimum = True, None, None
    frame["best_so_far"] = _running_best(measured, maximize, closest_to).ffill()
    _reward_columns(frame, measured, maximize, closest_to, optimum)
    if outcomes is not None and outcomes.is_pareto:
        _front_reward_columns(frame)
    first = history_columns(objective)
    return frame[first + [c for c in frame.columns if c not in first]]


def _front_reward_columns(frame: pd.DataFrame) -> None:
    """For a Pareto front, what the campaign seeks is hypervolume: the best so far is the
    front's hypervolume, each measurement's reward the hypervolume it added (so the
    cumulative reward is the front's hypervolume, and an arm's reward its share, as a
    portfolio credits it). No single optimum is known: no regret."""
    hypervolume = frame["hypervolume"].astype("float64")
    gain = hypervolume.diff().fillna(hypervolume)
    frame["best_so_far"] = hypervolume
    frame["reward"] = gain.where(frame["state"] == "succeeded")
    frame["cumulative_reward"] = frame["reward"].fillna(0.0).cumsum()
    frame["simple_regret"] = np.nan
    frame["cumulative_regret"] = np.nan


def _outcome_columns(frame: pd.DataFrame, outcomes: Objectives) -> None:
    """A column per measured property; ``feasible`` (meets every outcome constraint);
    ``pareto`` (on the feasible front of everything measured); for a front of several
    objectives, the ``hypervolume`` of the feasible front after each experiment (from
    the reference point: the campaign's, or the one inferred from all measurements);
    in desirability mode, each measurement's ``desirability``."""
    succeeded = (frame["state"] == "succeeded").to_numpy()
    results = [
        json.loads(text) if ok and isinstance(text, str) else {}
        for ok, text in zip(succeeded, frame["result_json"], strict=True)
    ]
    Y = np.array([outcomes.read(result)[0] for result in results])
    Y = Y.reshape(len(frame), len(outcomes.outputs))
    for j, name in enumerate(outcomes.outputs):
        frame[name] = Y[:, j]
    frame["feasible"] = succeeded & outcomes.feasible(Y)
    frame["pareto"] = succeeded & outcomes.pareto_mask(Y)
    if outcomes.mode == "desirability":
        frame["desirability"] = outcomes.desirability(Y)
    if outcomes.is_pareto:
        frame["hypervolume"] = outcomes.hypervolume_history(Y)


def _with_parameters(jobs: pd.DataFrame) -> pd.DataFrame:
    """The job rows with a declared space's parameter values as columns of their own
    (a pool's candidates are known by their ids, and carry none)."""
    frame = jobs.drop(columns=["parameters_json"], errors="ignore")
    stored = jobs.get("parameters_json")
    if stored is None or stored.isna().all():
        return frame
    points = pd.DataFrame(
        [json.loads(text) if isinstance(text, str) else {} for text in stored], index=frame.index
    )
    return pd.concat([frame, points.drop(columns=frame.columns, errors="ignore")], axis=1)


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
        stopped_because: "budget", "target", "pool exhausted" or (every point of a
            space of integers and categories chosen) "space exhausted".
        closest_to: the value a target objective aims for (None: max or min).
        goal: "best" or "cumulative": what the summary leads with.
        optimum: the best value the pool holds, when known (regret is measured to it).
        policy: what a portfolio policy did, one record per iteration (empty without one).
        outcomes: the objectives and outcome constraints of a campaign that measures
            several properties (None for one objective).
        pool: the campaign's pool or declared space (for the figures that need the
            designs' features).
        surrogate: the campaign's surrogate, by name or as an object (refitted by the
            model figures).
    """

    history: pd.DataFrame
    objective: str
    maximize: bool
    wall_seconds: float = 0.0
    stopped_because: str = "budget"
    closest_to: float | None = None
    goal: str = "best"
    optimum: float | None = None
    policy: list[dict[str, Any]] = field(default_factory=list)
    outcomes: Objectives | None = None
    pool: Any = field(default=None, repr=False, compare=False)
    surrogate: Any = field(default=None, repr=False, compare=False)

    @property
    def plot(self) -> Any:
        """The campaign's figures (:class:`~discovery.campaign_plots.CampaignPlots`):
        ``result.plot.best_so_far()``, ``.measured()``, ``.parity()``, ``.space_map()``,
        ``.importance()``, ``.pareto()``, ``.arms()``, ``.failures()``."""
        from discovery.campaign_plots import CampaignPlots

        plots = self.__dict__.get("_plots")
        if plots is None:
            plots = self.__dict__["_plots"] = CampaignPlots(self)
        return plots

    def pareto_front(self) -> pd.DataFrame:
        """The feasible measurements that no other feasible measurement beats on every
        objective, in the order they were made.

        Raises:
            ConfigurationError: the campaign has a single objective.
        """
        if self.outcomes is None or "pareto" not in self.history:
            raise ConfigurationError(
                "pareto_front: the campaign has one objective; see best for its best value"
            )
        return self.history[self.history["pareto"]]

    def arms(self) -> pd.DataFrame:
        """Per arm of a portfolio policy: picks, experiments, reward earned, and its
        final probability (empty without a policy)."""
        return arm_report(self.history, self.policy)

    @property
    def measured(self) -> pd.DataFrame:
        """The rows of experiments that succeeded."""
        return self.history[self.history["state"] == "succeeded"]

    @property
    def best(self) -> pd.Series | None:
        """The row of the best measured experiment (first one on ties), or None."""
        measured = self.measured
        if self.outcomes is not None:
            measured = measured[measured["feasible"]]
        if measured.empty:
            return None
        rewards = ranking_rewards(
            measured, self.objective, self.maximize, self.closest_to, self.outcomes
        )
        return measured.iloc[best_position(rewards, True)]

    def first_found(self, candidate_ids: set[str]) -> int | None:
        """The experiment (1-based, in order of dispatch) that first measured one of
        ``candidate_ids`` (e.g. the known top 5 % of a benchmark), or None."""
        for position, (candidate_id, state) in enumerate(
            zip(self.history["candidate_id"], self.history["state"], strict=True), start=1
        ):
            if candidate_id in candidate_ids and state == "succeeded":
                return position
        return None

    def summary(self) -> dict[str, Any]:
        """Best value, where it was found, the reward earned (and the regret, when the
        optimum is known) and the time spent per iteration."""
        history = self.history
        best = self.best
        iterations = history.drop_duplicates("iteration")
        # an initial design fits nothing (its iterations are numbered on under max_in_flight)
        modelled = iterations[iterations["kind"] == "model"]
        per_iteration = (modelled["fit_seconds"] + modelled["selection_seconds"]).to_numpy()
        spent = spent_rows(history)
        is_open = history["state"].isin(OPEN_STATES)
        return (
            {
                "experiments": int(spent.sum()),
                "succeeded": int((spent & (history["state"] == "succeeded")).sum()),
                "failed": int((spent & ~is_open & (history["state"] != "succeeded")).sum()),
                "open": int((spent & is_open).sum()),
                "told": int((~spent).sum()),
                "best_value": None if best is None else float(best[self.objective]),
                "best_candidate": None if best is None else str(best["candidate_id"]),
                "found_at_iteration": None
                if best is None or pd.isna(best["iteration"])
                else int(best["iteration"]),  # a told measurement has no iteration
                "found_at_experiment": None  # the experiments spent, told designs aside
                if best is None or not spent[best.name]
                else int(spent.loc[: best.name].sum()),
                "cumulative_reward": float(history["cumulative_reward"].iloc[-1])
                if len(history)
                else 0.0,
                "simple_regret": _last_known(history["simple_regret"]),
                "cumulative_regret": _last_known(history["cumulative_regret"]),
                "seconds_per_iteration": float(per_iteration.mean()) if per_iteration.size else 0.0,
                "wall_seconds": self.wall_seconds,
                "stopped_because": self.stopped_because,
            }
            | self._front_summary()
        )

    def _front_summary(self) -> dict[str, Any]:
        if self.outcomes is None or not self.outcomes.is_pareto:
            return {}
        history = self.history
        return {
            "pareto_front_size": int(history["pareto"].sum()),
            "hypervolume": float(history["hypervolume"].iloc[-1]) if len(history) else 0.0,
        }


def _last_known(column: pd.Series) -> float | None:
    known = column.dropna()
    return None if known.empty else float(known.iloc[-1])


def reward_lines(history: pd.DataFrame, optimum: float | None) -> dict[str, str]:
    """Table rows for the reinforcement-learning view of a history: the reward earned
    and, when the optimum is known, the regret."""
    if history.empty:
        return {}
    measured = int((history["reward"].notna() & spent_rows(history)).sum())
    lines = {
        "cumulative reward": f"{history['cumulative_reward'].iloc[-1]:.6g} "
        f"over {measured} measurements"
    }
    simple, cumulative = (_last_known(history[c]) for c in ("simple_regret", "cumulative_regret"))
    if optimum is not None and simple is not None:
        lines["regret (simple / cumulative)"] = (
            f"{simple:.4g} / {cumulative:.4g} (optimum {optimum:.6g})"
        )
    return lines


def outcome_lines(history: pd.DataFrame, outcomes: Objectives) -> dict[str, str]:
    """Table rows for a campaign with several objectives or outcome constraints: what
    it is after, how many measurements are feasible, and its Pareto front (size and
    hypervolume) or its best feasible measurement."""
    measured = history[history["state"] == "succeeded"]
    lines = {"objectives": outcomes.describe()}
    if outcomes.constraints:
        lines["feasible"] = f"{int(measured['feasible'].sum())} of {len(measured)} measurements"
    if outcomes.is_pareto:
        hypervolume = float(history["hypervolume"].iloc[-1]) if len(history) else 0.0
        lines["Pareto front"] = (
            f"{int(history['pareto'].sum())} measurements, hypervolume {hypervolume:.6g}"
        )
        return lines
    feasible = measured[measured["feasible"]]
    if not feasible.empty:
        first = outcomes.objectives[0]
        rewards = ranking_rewards(
            feasible, first.name, first.direction != "min", first.target, outcomes
        )
        best = feasible.iloc[best_position(rewards, True)]
        shown = ", ".join(f"{name} {best[name]:.6g}" for name in outcomes.outputs)
        lines["best feasible"] = f"{shown} (candidate {best['candidate_id']})"
    return lines


def strategy_text(config: Any) -> str:
    """The campaign's strategy in words: surrogate + acquisition, or its portfolio."""
    if config.policy:
        arms = ", ".join(config.policy["arms"])
        return f"portfolio ({config.policy['algorithm']}, reward {config.policy['reward']}): {arms}"
    return f"{config.surrogate} + {config.acquisition}"


def arm_report(history: pd.DataFrame, records: list[dict[str, Any]]) -> pd.DataFrame:
    """Per arm: the iterations it was chosen, the experiments it ran, the reward they
    earned (the history's ``reward`` column), and its final probability."""
    if not records:
        return pd.DataFrame(columns=["arm", "picks", "experiments", "reward", "probability"])
    last = records[-1]["probabilities"]
    picked = pd.Series([r["arm"] for r in records]).value_counts()
    rows = []
    for name, probability in last.items():
        mine = history[history["arm"] == name] if "arm" in history else history.iloc[:0]
        rows.append(
            {
                "arm": name,
                "picks": int(picked.get(name, 0)),
                "experiments": len(mine),
                "reward": float(mine["reward"].sum()),
                "probability": probability,
            }
        )
    return pd.DataFrame(rows)
