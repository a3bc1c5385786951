"""The Lennard-Jones pair potential as a truth function for active learning.

V(r) = 4 epsilon [(sigma / r)^12 - (sigma / r)^6]. With epsilon = 1/4 and
sigma = 1 this is (1/r)^12 - (1/r)^6, the curve of the lecture notes' active
learning example, whose minimum -1/4 lies at r = 2^(1/6).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from discovery.exceptions import ConfigurationError
from discovery.space import Candidate

#: epsilon that turns 4 epsilon [...] into the plain (1/r)^12 - (1/r)^6 form.
PLAIN_EPSILON = 0.25


def lennard_jones_energy(
    r: np.ndarray | float, epsilon: float = PLAIN_EPSILON, sigma: float = 1.0
) -> np.ndarray:
    """Pair energy at separation(s) ``r`` (same length unit as ``sigma``).

    Raises:
        ConfigurationError: a separation that is not positive.
    """
    r = np.asarray(r, dtype=np.float64)
    if np.any(r <= 0):
        raise ConfigurationError("lennard_jones: separations r must be positive")
    inverse6 = (sigma / r) ** 6
    return 4.0 * epsilon * (inverse6**2 - inverse6)


def equilibrium_distance(sigma: float = 1.0) -> float:
    """The separation of minimum energy, 2^(1/6) sigma."""
    return 2.0 ** (1.0 / 6.0) * sigma


class LennardJonesWorld:
    """A one-dimensional world: measure the pair energy at a separation, optionally noisy.

    Args:
        epsilon: well depth is ``epsilon``.
        sigma: separation where the energy crosses zero.
        noise: standard deviation of Gaussian measurement noise.
        seed: seed of the noise.
    """

    def __init__(
        self, epsilon: float = PLAIN_EPSILON, sigma: float = 1.0, noise: float = 0.0, seed: int = 0
    ) -> None:
        if noise < 0:
            raise ConfigurationError(f"lennard_jones: noise must be >= 0, got {noise}")
        self.epsilon, self.sigma, self.noise = epsilon, sigma, noise
        self._rng = np.random.default_rng(seed)

    def grid(self, low: float = 1.0, high: float = 2.0, points: int = 201) -> pd.DataFrame:
        """Candidate separations evenly spaced on [low, high], with their true energy."""
        r = np.linspace(low, high, points)
        return pd.DataFrame({"r": r, "energy": lennard_jones_energy(r, self.epsilon, self.sigma)})

    def __call__(self, candidate: Candidate) -> float:
        """The measured energy at the candidate's separation ``r``."""
        energy = float(lennard_jones_energy(candidate.parameters["r"], self.epsilon, self.sigma))
        if self.noise:
            energy += float(self._rng.normal(0.0, self.noise))
        return energy
