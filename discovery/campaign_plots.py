"""A campaign result's figures: ``result.plot.best_so_far()``, ``.parity()``, ``.space_map()``...

The model-based figures refit the campaign's surrogate on its measurements: once per
cross-validation fold for parity and calibration, once on everything for the map and
the input importance. Results are kept, so asking for several figures fits once.
"""

from __future__ import annotations

import copy
import warnings
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from sklearn.decomposition import PCA
from sklearn.inspection import permutation_importance

from discovery import plots
from discovery.diagnostics import (
    calibration_metrics,
    copy_surrogate,
    make_folds,
    regression_metrics,
)
from discovery.exceptions import ConfigurationError
from discovery.rewards import reward_of
from discovery.search_space import Space
from discovery.surrogates import GaussianProcessSurrogate, resolve_surrogate

#: Fewer measurements than this: no model figures (five folds of one point say nothing).
MIN_FOR_MODEL = 6
#: At most this many measurements are cross-validated (the most recent), to keep a
#: report of a long campaign within seconds.
MAX_CROSS_VALIDATED = 300
#: Designs spread over the space for the map's predicted landscape.
BACKGROUND = 3000
#: Inputs shown in the importance figure (the most important ones).
MAX_INPUTS_SHOWN = 15
#: Random orders drawn for random search's band on a dataset emulator.
RANDOM_ORDERS = 300


class CampaignPlots:
    """Figures of a :class:`~discovery.history.CampaignResult`.

    Each method returns a matplotlib Figure; one that does not apply to this campaign
    (a Pareto front of one objective, a model of three measurements) raises a
    ConfigurationError saying why. :meth:`available` names those that apply.
    """

    def __init__(self, result: Any, seed: int = 0) -> None:
        self.result = result
        self.seed = seed
        self._training: tuple[np.ndarray, np.ndarray, list[str], np.ndarray] | None = None
        self._cross_validation: dict[str, Any] | None = None
        self._model: Any = None

    # -- what applies -------------------------------------------------------------------

    def available(self) -> list[str]:
        """The names of the figures that apply to this campaign, in report order."""
        names = ["best_so_far", "measured"]
        has_model = self.result.pool is not None and self._enough_for_model()
        if has_model:
            names += ["parity", "space_map", "importance"]
        if self.result.outcomes is not None and self.result.outcomes.is_pareto:
            names.append("pareto")
        if self.result.policy:
            names.append("arms")
        if plots.failed_mask(self.result.history).any() or _retried(self.result.history):
            names.append("failures")
        return names

    def _enough_for_model(self) -> bool:
        return len(self.training_data()[1]) >= MIN_FOR_MODEL

    # -- the data behind the model figures ----------------------------------------------

    def design_features(self) -> tuple[np.ndarray, list[str]]:
        """(n, d) model features of each experiment's design, in history order (NaN rows
        for designs the pool cannot encode), and the feature names."""
        pool, history = self.result.pool, self.result.history
        if pool is None:
            raise ConfigurationError("plot: this result carries no pool or space")
        if isinstance(pool, Space):
            names = list(pool.feature_names)
            features = np.full((len(history), len(names)), np.nan)
            has_point = history[pool.names].notna().all(axis=1).to_numpy()
            if has_point.any():
                features[has_point] = pool.encode(history.loc[has_point, pool.names])
            return features, names
        names = list(pool.feature_names)
        features = np.full((len(history), len(names)), np.nan)
        for row, candidate_id in enumerate(history["candidate_id"].astype(str)):
            if candidate_id in pool:
                features[row] = pool.features[pool.index_of(candidate_id)]
        return features, names

    def training_data(self) -> tuple[np.ndarray, np.ndarray, list[str], np.ndarray]:
        """X, y of the succeeded measurements of the (first) objective, the feature
        names, and the experiments' positions (1-based) they come from."""
        if self._training is None:
            history, objective = self.result.history, self.result.objective
            features, names = self.design_features()
            values = history[objective].to_numpy(float)
            usable = (
                (history["state"] == "succeeded").to_numpy()
                & np.isfinite(values)
                & np.isfinite(features).all(axis=1)
            )
            positions = np.flatnonzero(usable) + 1
            self._training = (features[usable], values[usable], names, positions)
        return self._training

    def surrogate(self) -> Any:
        """An unfitted copy of the campaign's surrogate (a GP when it cannot be rebuilt)."""
        spec = self.result.surrogate
        try:
            model = resolve_surrogate(spec if spec is not None else "gp", seed=self.seed)
        except ConfigurationError:
            model = resolve_surrogate("gp", seed=self.seed)
        return copy_surrogate(model)

    def cross_validation(self) -> dict[str, Any]:
        """Out-of-fold mean and std of the surrogate over the measurements (5 folds), its
        scores, and the RMSE of predicting the training mean (the baseline)."""
        if self._cross_validation is None:
            X, y, _, _ = self._require_model_data()
            X, y = X[-MAX_CROSS_VALIDATED:], y[-MAX_CROSS_VALIDATED:]
            mean, std = np.empty_like(y), np.empty_like(y)
            baseline = np.empty_like(y)
            for train, test in make_folds(X, "kfold", min(5, len(y)), seed=self.seed):
                prediction = self._fold_model().fit(X[train], y[train]).predict(X[test])
                mean[test], std[test] = prediction.mean, prediction.predictive_std
                baseline[test] = y[train].mean()
            self._cross_validation = {
                "y": y,
                "mean": mean,
                "std": std,
                "metrics": regression_metrics(y, mean) | calibration_metrics(y, mean, std),
                "baseline_rmse": float(np.sqrt(np.mean((baseline - y) ** 2))),
            }
        return self._cross_validation

    def _fold_model(self) -> Any:
        """The model one cross-validation fold is fitted with. A GP keeps the
        hyper-parameters it fitted on every measurement and conditions on the fold's
        data (as Ax's cross-validation does): five re-optimisations over many inputs
        would cost seconds each. Any other surrogate is refitted from scratch."""
        fitted = self.fitted_model()
        if not isinstance(fitted, GaussianProcessSurrogate):
            return self.surrogate()
        model = copy.deepcopy(fitted)
        model.set_params(incremental_after=0, refit_every=2**31 - 1)
        return model

    def fitted_model(self) -> Any:
        """The surrogate fitted on every measurement."""
        if self._model is None:
            X, y, _, _ = self._require_model_data()
            self._model = self.surrogate().fit(X, y)
        return self._model

    def _require_model_data(self) -> tuple[np.ndarray, np.ndarray, list[str], np.ndarray]:
        data = self.training_data()
        if len(data[1]) < MIN_FOR_MODEL:
            raise ConfigurationError(
                f"plot: {len(data[1])} measurements; the model figures need at least "
                f"{MIN_FOR_MODEL}"
            )
        return data

    # -- figures --------------------------------------------------------------------

    def best_so_far(self) -> Figure:
        """Best value (or, for a Pareto front, hypervolume) against experiments, with
        random search's band where the pool holds every candidate's value."""
        result = self.result
        if result.outcomes is not None and result.outcomes.is_pareto:
            return plots.best_so_far(result.history, "hypervolume", label="hypervolume")
        if result.outcomes is not None and result.outcomes.ranks_by_desirability:
            return plots.best_so_far(result.history, "best_so_far", label="best desirability")
        return plots.best_so_far(
            result.history,
            "best_so_far",
            label=f"best {result.objective}",
            random_band=self._random_band(),
        )

    def measured(self) -> Figure:
        """Every measured value in order, coloured by the arm or acquisition that chose it."""
        return plots.measured_values(self.result.history, self.result.objective, "arm")

    def parity(self) -> Figure:
        """Cross-validated parity plot with error bars, and the calibration curve."""
        check = self.cross_validation()
        return plots.parity(
            check["y"],
            check["mean"],
            check["std"],
            name=type(self.surrogate()).__name__.replace("Surrogate", ""),
            baseline_rmse=check["baseline_rmse"],
        )

    def space_map(self) -> Figure:
        """The measured designs, each numbered by its experiment, and the failed ones as
        crosses, over the model's predicted landscape: the features' first two principal
        components (the features themselves in 2-d). Designs asked for and not yet
        measured are left out, as are designs the pool cannot place."""
        measured, _, names, numbers = self._require_model_data()
        features, _ = self.design_features()
        failed = features[plots.failed_mask(self.result.history)]
        failed = failed[np.isfinite(failed).all(axis=1)]
        background = self._background(measured)
        predicted = self.fitted_model().predict(background).mean
        if background.shape[1] <= 2:
            measured, background, failed = (
                np.pad(a, ((0, 0), (0, 2 - a.shape[1]))) for a in (measured, background, failed)
            )
            axes_names = (names[0], names[1] if len(names) > 1 else "")
        else:
            projection = PCA(n_components=2, random_state=self.seed).fit(background)
            measured, background, failed = (
                projection.transform(a) if len(a) else np.empty((0, 2))
                for a in (measured, background, failed)
            )
            share = projection.explained_variance_ratio_
            axes_names = (f"PC 1 ({share[0]:.0%})", f"PC 2 ({share[1]:.0%})")
        return plots.space_map(
            measured,
            background,
            predicted,
            axes_names=axes_names,
            value_name=self.result.objective,
            numbers=numbers,
            failed=failed,
        )

    def importance(self) -> Figure:
        """Permutation importance of each input for the fitted model's mean (increase in
        squared error when that input is shuffled), and a GP's inverse length scales."""
        X, y, names, _ = self._require_model_data()
        model = self.fitted_model()
        found = permutation_importance(
            model, X, y, scoring=_negative_squared_error, n_repeats=10, random_state=self.seed
        )
        shown = np.argsort(-found.importances_mean, kind="stable")[:MAX_INPUTS_SHOWN]
        lengthscales = _lengthscales(model)
        method = "rise in squared error when shuffled"
        if len(names) > MAX_INPUTS_SHOWN:
            method += f" (top {MAX_INPUTS_SHOWN} of {len(names)} inputs)"
        return plots.importance(
            [names[i] for i in shown],
            found.importances_mean[shown],
            found.importances_std[shown],
            method=method,
            lengthscales=None if lengthscales is None else lengthscales[shown],
        )

    def pareto(self) -> Figure:
        """The Pareto front of the first two objectives."""
        outcomes = self.result.outcomes
        if outcomes is None or not outcomes.is_pareto:
            raise ConfigurationError("plot: the campaign has one objective; see best_so_far()")
        objectives = [(o.name, o.direction) for o in outcomes.objectives]
        return plots.pareto_front(self.result.history, objectives, outcomes.reference_point)

    def arms(self) -> Figure:
        """A portfolio's arms: picks, rewards and final probabilities."""
        if not self.result.policy:
            raise ConfigurationError("plot: the campaign has no portfolio policy")
        return plots.arm_rewards(self.result.arms())

    def failures(self) -> Figure:
        """Failed and retried experiments by error class."""
        return plots.failures(self.result.history, "error_class")

    # -- helpers --------------------------------------------------------------------

    def _background(self, X: np.ndarray) -> np.ndarray:
        pool, rng = self.result.pool, np.random.default_rng(self.seed)
        if isinstance(pool, Space):
            return pool.encode(pool.sample(BACKGROUND, seed=self.seed))
        rows = np.arange(len(pool))
        if len(rows) > BACKGROUND:
            rows = np.sort(rng.choice(rows, BACKGROUND, replace=False))
        return np.asarray(pool.features[rows], dtype=np.float64)

    def _random_band(self) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """Random search's best so far (5th to 95th percentile) over random orders of
        the pool, when its table holds every candidate's value of the objective and of
        each constrained property: as the campaign's own line, it counts feasible
        designs only (drawn from every value, it looked far better than the feasible
        optimum)."""
        pool, result = self.result.pool, self.result
        frame = getattr(pool, "frame", None)
        outcomes = result.outcomes
        needed = [result.objective] if outcomes is None else list(outcomes.outputs)
        if frame is None or any(c not in frame or frame[c].isna().any() for c in needed):
            return None
        values = frame[result.objective].to_numpy(float)
        rewards = reward_of(values, result.maximize, result.closest_to)
        if outcomes is not None:
            feasible = outcomes.feasible(frame[list(outcomes.outputs)].to_numpy(float))
            rewards = np.where(feasible, rewards, -np.inf)
        n = min(len(result.history), len(values))
        rng = np.random.default_rng(self.seed)
        orders = np.array([rng.permutation(len(values))[:n] for _ in range(RANDOM_ORDERS)])
        drawn = rewards[orders]
        # Where each order's best so far was drawn, and so its measured value (for a
        # target objective, on whichever side of the target it lies).
        is_best = drawn == np.maximum.accumulate(drawn, axis=1)
        leader = np.maximum.accumulate(np.where(is_best, np.arange(n), 0), axis=1)
        best = values[np.take_along_axis(orders, leader, axis=1)]
        best = np.where(np.isfinite(np.maximum.accumulate(drawn, axis=1)), best, np.nan)
        with warnings.catch_warnings():  # no order has found a feasible design yet
            warnings.simplefilter("ignore", RuntimeWarning)
            lower, upper = np.nanpercentile(best, [5, 95], axis=0)
        return np.arange(1, n + 1), lower, upper


def _retried(history: pd.DataFrame) -> bool:
    return "attempts" in history and bool((history["attempts"].fillna(1) > 1).any())


def _negative_squared_error(model: Any, X: np.ndarray, y: np.ndarray) -> float:
    return -float(np.mean((model.predict(X).mean - y) ** 2))


def _lengthscales(model: Any) -> np.ndarray | None:
    """A fitted GP's ARD length scales on the unit-scaled inputs, or None."""
    kernel = getattr(getattr(model, "model_", None), "covar_module", None)
    while kernel is not None and not hasattr(kernel, "lengthscale"):
        kernel = getattr(kernel, "base_kernel", None)
    if kernel is None or kernel.lengthscale is None:
        return None
    return kernel.lengthscale.detach().cpu().numpy().ravel()
