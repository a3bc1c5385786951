"""The one value that flows from a surrogate to an acquisition function."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from discovery.exceptions import ConfigurationError


def floored_std(std: np.ndarray, share: float) -> np.ndarray:
    """``std`` with each entry at least ``share`` of the largest finite one (``share``
    itself where none is above zero), so that z-scores stay finite in whatever units the
    objective is measured: a fixed floor of 1e-12 was most of the spread of an objective
    in units of 1e-12."""
    std = np.asarray(std, dtype=np.float64)
    finite = std[np.isfinite(std)]
    largest = float(finite.max()) if finite.size else 0.0
    # No spread at all (a model certain of every candidate): ``share`` itself, as before,
    # for there is no unit to take a share of.
    return np.maximum(std, share * largest if largest > 0 else share)


@dataclass(frozen=True)
class Prediction:
    """Posterior summary of a surrogate over candidates.

    Attributes:
        mean: (n,) float64 predicted objective.
        std: (n,) float64 predictive standard deviation, >= 0.
        samples: optional (s, n) float64 draws of the objective, e.g. joint GP
            samples or the predictions of individual trees. Entries a surrogate
            did not draw (a GP samples only its most promising candidates) are NaN.
        noise_std: optional (n,) float64 standard deviation of measurement noise
            (aleatoric) that a new measurement would add on top of ``std``.
    """

    mean: np.ndarray
    std: np.ndarray
    samples: np.ndarray | None = None
    noise_std: np.ndarray | None = None

    def __post_init__(self) -> None:
        mean = np.asarray(self.mean, dtype=np.float64).reshape(-1)
        std = np.asarray(self.std, dtype=np.float64).reshape(-1)
        if mean.shape != std.shape:
            raise ConfigurationError(
                f"prediction: mean has shape {mean.shape} but std has shape {std.shape}"
            )
        if not np.all(std >= 0):  # NaN fails this too
            raise ConfigurationError("prediction: std must be non-negative numbers (no NaN)")
        object.__setattr__(self, "mean", mean)
        object.__setattr__(self, "std", std)
        if self.samples is not None:
            samples = np.atleast_2d(np.asarray(self.samples, dtype=np.float64))
            if samples.shape[1] != mean.shape[0]:
                raise ConfigurationError(
                    f"prediction: samples have {samples.shape[1]} columns for {mean.shape[0]} candidates"
                )
            object.__setattr__(self, "samples", samples)

        if self.noise_std is not None:
            noise = np.broadcast_to(np.asarray(self.noise_std, dtype=np.float64), mean.shape)
            object.__setattr__(self, "noise_std", noise.copy())

    def __len__(self) -> int:
        return int(self.mean.shape[0])

    @property
    def predictive_std(self) -> np.ndarray:
        """(n,) std of a new measurement: model uncertainty and measurement noise together."""
        if self.noise_std is None:
            return self.std
        return np.sqrt(self.std**2 + self.noise_std**2)

    @property
    def has_samples(self) -> bool:
        """Whether the surrogate drew samples of the objective."""
        return self.samples is not None
