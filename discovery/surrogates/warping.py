"""Output warping: model the ranks of the measured values, predict in their units.

Experimental objectives are often skewed: a few failed prints score 0, an instability
index spans two orders of magnitude, most yields are low and a few are high. A GP on
such values spends its length scales and noise on the outliers. The rank-Gaussian
(copula) warping of HEBO (Cowen-Rivers et al., 2022) replaces each measured value by
the standard-normal quantile of its rank, z = Phi^-1((rank - 1/2) / n), so the model
sees normally distributed targets whatever the values' distribution.

The acquisition still compares predictions with the incumbent in the objective's
units, so predictions are mapped back: through g, the monotone piecewise-linear map
from z to the measured values, extended beyond the measured range with the
least-squares slope of value on z. A prediction N(m, s) in z becomes mean g(m) and
std (g(m + s) - g(m - s)) / 2, the spread of the mapped one-sigma interval.

The Yeo-Johnson power transform (``"power"``, also HEBO's; scikit-learn's
``PowerTransformer``) is the gentler choice: one fitted exponent that makes the values
as nearly normal as it can, keeping the spacing of the values, which the ranks forget.
Its inverse is exact within the measured range and linear beyond it, as above.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import norm, rankdata
from sklearn.preprocessing import PowerTransformer

WARPINGS = (None, "copula", "power")


class RankGaussianWarping:
    """The copula warping fitted on one campaign's measured values."""

    def fit_transform(self, y: np.ndarray) -> np.ndarray:
        """Learn the map from (n,) measured values; their (n,) normal scores, in order.

        Ties share their average rank, so equal values get equal scores.
        """
        y = np.asarray(y, dtype=float)
        z = norm.ppf((rankdata(y) - 0.5) / y.shape[0])
        order = np.argsort(z, kind="stable")
        self.z_, self.y_ = z[order], y[order]
        spread = np.var(self.z_)
        self.slope_ = float(np.cov(self.z_, self.y_, bias=True)[0, 1] / spread) if spread else 1.0
        return z

    def inverse(self, z: np.ndarray) -> np.ndarray:
        """g(z): values in the objective's units (linear beyond the measured range)."""
        z = np.asarray(z, dtype=float)
        inside = np.interp(z, self.z_, self.y_)
        below = self.y_[0] + self.slope_ * (z - self.z_[0])
        above = self.y_[-1] + self.slope_ * (z - self.z_[-1])
        return np.where(z < self.z_[0], below, np.where(z > self.z_[-1], above, inside))

    def inverse_prediction(
        self, mean: np.ndarray, std: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """A normal prediction in z, as a mean and std in the objective's units."""
        upper, lower = self.inverse(mean + std), self.inverse(mean - std)
        return self.inverse(mean), np.abs(upper - lower) / 2.0


class PowerWarping:
    """The Yeo-Johnson warping fitted on one campaign's measured values."""

    def fit_transform(self, y: np.ndarray) -> np.ndarray:
        """Learn the exponent from (n,) measured values; their (n,) transformed values,
        standardised."""
        y = np.asarray(y, dtype=float)
        self.transformer_ = PowerTransformer(method="yeo-johnson", standardize=True)
        z = self.transformer_.fit_transform(y[:, None])[:, 0]
        self.z_range_ = (float(z.min()), float(z.max()))
        self.y_range_ = (float(y.min()), float(y.max()))
        spread = np.var(z)
        self.slope_ = float(np.cov(z, y, bias=True)[0, 1] / spread) if spread else 1.0
        return z

    def inverse(self, z: np.ndarray) -> np.ndarray:
        """Values in the objective's units: the exact inverse within the measured range,
        linear (least-squares slope) beyond it, where the inverse may not exist."""
        z = np.asarray(z, dtype=float)
        (z_low, z_high), (y_low, y_high) = self.z_range_, self.y_range_
        inside = np.clip(z, z_low, z_high)
        values = self.transformer_.inverse_transform(inside.reshape(-1, 1)).reshape(z.shape)
        below = y_low + self.slope_ * (z - z_low)
        above = y_high + self.slope_ * (z - z_high)
        return np.where(z < z_low, below, np.where(z > z_high, above, values))

    def inverse_prediction(
        self, mean: np.ndarray, std: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """A normal prediction in z, as a mean and std in the objective's units."""
        upper, lower = self.inverse(mean + std), self.inverse(mean - std)
        return self.inverse(mean), np.abs(upper - lower) / 2.0
