"""Random-forest ensemble surrogate: mean and spread over the trees (scikit-learn)."""

from __future__ import annotations

import math

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.ensemble import ExtraTreesRegressor, RandomForestRegressor
from sklearn.utils.parallel import Parallel, delayed

from discovery.checks import is_whole_number
from discovery.exceptions import ConfigurationError
from discovery.prediction import Prediction
from discovery.surrogates.base import (
    check_prediction_input,
    check_training_data,
    require_fitted,
)

#: Candidates per chunk in ``predict``: memory stays at trees x chunk values.
PREDICT_CHUNK = 65_536
#: The trees learn the standardised target rounded to multiples of this (a billionth of
#: its spread), so that the sums a split is judged by are exact in float64 (up to some
#: 30,000 measurements): two features that cut a node into the same halves then tie
#: exactly and the first one drawn wins, instead of whichever rounding favoured, which
#: changed with the last bits of the values (a campaign on total energies offset by
#: -45,000 eV chose other candidates than the same campaign in meV from then on).
TARGET_GRID = 2.0**-30


class RandomForestSurrogate(BaseEstimator):
    """Random forest (or extremely randomised trees) with the std across trees as uncertainty.

    The spread of the individual trees' predictions is the ensemble's
    uncertainty; each tree's prediction is one posterior sample for Thompson
    sampling.

    Args:
        n_estimators: number of trees.
        extra_trees: use scikit-learn's ExtraTreesRegressor instead of a random forest.
        min_samples_leaf: minimum measurements per leaf.
        max_features: features considered per split (scikit-learn's meaning).
        seed: random seed of the trees' bootstrap and splits.
        n_jobs: parallel jobs for fitting and prediction (scikit-learn's meaning).
    """

    supports_samples = True

    def __init__(
        self,
        n_estimators: int = 100,
        extra_trees: bool = False,
        min_samples_leaf: int = 1,
        max_features: float | str | None = 1.0,
        seed: int = 0,
        n_jobs: int | None = None,
    ) -> None:
        self.n_estimators = n_estimators
        self.extra_trees = extra_trees
        self.min_samples_leaf = min_samples_leaf
        self.max_features = max_features
        self.seed = seed
        self.n_jobs = n_jobs

    def check_settings(self) -> None:
        """Refuse settings the trees cannot be grown with, before any data.

        Raises:
            ConfigurationError: a count that is not an integer >= 1.
        """
        for key in ("n_estimators", "min_samples_leaf"):
            value = getattr(self, key)
            if not is_whole_number(value) or value < 1:
                raise ConfigurationError(
                    f"{self.name}: {key} must be an integer >= 1, got {value!r}"
                )

    @property
    def name(self) -> str:
        return "extra_trees" if self.extra_trees else "forest"

    def fit(self, X: np.ndarray, y: np.ndarray) -> RandomForestSurrogate:
        """Fit the trees on (n, d) features and (n,) measured values."""
        X, y = check_training_data(X, y, self.name)
        self.check_settings()
        # A tree stops splitting where the variance falls below machine epsilon, so values
        # in units of 1e-9 (m^2/s, mol/s) were never split: the trees learn y divided by a
        # power of two near its spread, which scales exactly (the same trees otherwise).
        # Centred too: scikit-learn's squared error is mean(y^2) - mean(y)^2, which cancels
        # to rounding noise for total energies of -45,000 eV that differ by meV, and the
        # trees stopped splitting (3 leaves per tree where 18 were due).
        spread = float(np.std(y))
        self.y_centre_ = float(np.mean(y))
        self.y_scale_ = 2.0 ** round(math.log2(spread)) if spread > 0 else 1.0
        standardised = np.round((y - self.y_centre_) / self.y_scale_ / TARGET_GRID) * TARGET_GRID
        estimator = ExtraTreesRegressor if self.extra_trees else RandomForestRegressor
        self.model_ = estimator(
            n_estimators=self.n_estimators,
            min_samples_leaf=self.min_samples_leaf,
            max_features=self.max_features,
            bootstrap=True,
            random_state=self.seed,
            n_jobs=self.n_jobs,
        ).fit(X, standardised)
        self.n_features_in_ = X.shape[1]
        return self

    def predict(self, X: np.ndarray, n_samples: int = 0) -> Prediction:
        """Mean and std over trees at (m, d) candidates; with ``n_samples``, per-tree draws.

        ``n_samples`` > 0 returns every tree's prediction as a sample (one row per tree).
        """
        require_fitted(self, "model_")
        X = check_prediction_input(X, self.n_features_in_, self.name)
        if n_samples > 0:  # the samples are every tree's prediction: all of them are kept
            per_tree = self._per_tree(X)
            return Prediction(per_tree.mean(axis=0), per_tree.std(axis=0), samples=per_tree)
        # Chunks of the pool in parallel threads (the trees release the GIL), each
        # reduced to mean and std at once, so a million candidates never hold
        # trees x candidates values.
        moments = Parallel(n_jobs=self.n_jobs, prefer="threads")(
            delayed(self._moments)(X[start : start + PREDICT_CHUNK])
            for start in range(0, max(len(X), 1), PREDICT_CHUNK)
        )
        mean, std = (np.concatenate(parts) for parts in zip(*moments, strict=True))
        return Prediction(mean=mean, std=std)

    def _per_tree(self, X: np.ndarray) -> np.ndarray:
        """(trees, m) every tree's prediction at (m, d) candidates, in the units of y."""
        per_tree = np.stack([tree.predict(X) for tree in self.model_.estimators_])
        return per_tree * self.y_scale_ + self.y_centre_

    def _moments(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if len(X) == 0:
            return np.empty(0), np.empty(0)
        per_tree = self._per_tree(X)
        return per_tree.mean(axis=0), per_tree.std(axis=0)
