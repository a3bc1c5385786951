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


class _MonotoneWarping:
    """What the warpings share: the map g from z back to the measured values, exact
    within the measured range and linear beyond it, and predictions mapped through g."""

    def _fit_extension(self, z: np.ndarray, y: np.ndarray) -> None:
        """Learn the measured range's ends and the least-squares slope of y on z."""
        self.z_ends_ = (float(z.min()), float(z.max()))
        self.y_ends_ = (float(y[np.argmin(z)]), float(y[np.argmax(z)]))
        spread = np.var(z)
        self.slope_ = float(np.cov(z, y, bias=True)[0, 1] / spread) if spread else 1.0

    def _inverse_within(self, z: np.ndarray) -> np.ndarray:
        """g(z) for z within the measured range."""
        raise NotImplementedError

    def inverse(self, z: np.ndarray) -> np.ndarray:
        """g(z): values in the objective's units (linear beyond the measured range)."""
        z = np.asarray(z, dtype=float)
        (z_low, z_high), (y_low, y_high) = self.z_ends_, self.y_ends_
        inside = self._inverse_within(np.clip(z, z_low, z_high))
        below = y_low + self.slope_ * (z - z_low)
        above = y_high + self.slope_ * (z - z_high)
        return np.where(z < z_low, below, np.where(z > z_high, above, inside))

    def forward(self, y: np.ndarray) -> np.ndarray:
        """g's inverse: values in the objective's units (the incumbent, say) on the
        warped scale the model learns; linear beyond the measured range."""
        y = np.asarray(y, dtype=float)
        (z_low, z_high), (y_low, y_high) = self.z_ends_, self.y_ends_
        slope = self.slope_ if self.slope_ > 0 else 1.0
        inside = self._forward_within(np.clip(y, y_low, y_high))
        below = z_low + (y - y_low) / slope
        above = z_high + (y - y_high) / slope
        return np.where(y < y_low, below, np.where(y > y_high, above, inside))

    def _forward_within(self, y: np.ndarray) -> np.ndarray:
        """g's inverse for y within the measured range."""
        raise NotImplementedError

    def inverse_prediction(
        self, mean: np.ndarray, std: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """A normal prediction in z, as a mean and std in the objective's units."""
        upper, lower = self.inverse(mean + std), self.inverse(mean - std)
        return self.inverse(mean), np.abs(upper - lower) / 2.0


class RankGaussianWarping(_MonotoneWarping):
    """The copula warping fitted on one campaign's measured values."""

    def fit_transform(self, y: np.ndarray) -> np.ndarray:
        """Learn the map from (n,) measured values; their (n,) normal scores, in order.

        Ties share their average rank, so equal values get equal scores.
        """
        y = np.asarray(y, dtype=float)
        z = norm.ppf((rankdata(y) - 0.5) / y.shape[0])
        order = np.argsort(z, kind="stable")
        self.z_, self.y_ = z[order], y[order]
        self._fit_extension(self.z_, self.y_)
        return z

    def _inverse_within(self, z: np.ndarray) -> np.ndarray:
        return np.interp(z, self.z_, self.y_)

    def _forward_within(self, y: np.ndarray) -> np.ndarray:
        return np.interp(y, self.y_, self.z_)  # tied values share one score


class PowerWarping(_MonotoneWarping):
    """The Yeo-Johnson warping fitted on one campaign's measured values."""

    def fit_transform(self, y: np.ndarray) -> np.ndarray:
        """Learn the exponent from (n,) measured values; their (n,) transformed values,
        standardised."""
        y = np.asarray(y, dtype=float)
        self.transformer_ = PowerTransformer(method="yeo-johnson", standardize=True)
        z = self.transformer_.fit_transform(y[:, None])[:, 0]
        self._fit_extension(z, y)
        return z

    def _inverse_within(self, z: np.ndarray) -> np.ndarray:
        # beyond the measured range the inverse may not exist; inverse() never asks there
        return self.transformer_.inverse_transform(z.reshape(-1, 1)).reshape(z.shape)

    def _forward_within(self, y: np.ndarray) -> np.ndarray:
        return self.transformer_.transform(y.reshape(-1, 1)).reshape(y.shape)
