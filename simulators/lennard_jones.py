"""The Lennard-Jones pair potential as a truth function for active learning.

V(r) = 4 epsilon [(sigma / r)^12 - (sigma / r)^6]. With epsilon = 1/4 and
sigma = 1 this is (1/r)^12 - (1/r)^6, the curve of the lecture notes' active
learning example, whose minimum -1/4 lies at r = 2^(1/6).
"""

from __future__ import annotations

import zlib

import numpy as np
import pandas as pd
from ase import Atoms

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
        seed: seed of the noise. Each measurement's noise is drawn from this seed and
            the candidate's id, so a thread, a process pool or a Dask worker measures
            the same values, and so does a rerun (a candidate measured twice gets the
            same noise).
    """

    def __init__(
        self, epsilon: float = PLAIN_EPSILON, sigma: float = 1.0, noise: float = 0.0, seed: int = 0
    ) -> None:
        if noise < 0:
            raise ConfigurationError(f"lennard_jones: noise must be >= 0, got {noise}")
        self.epsilon, self.sigma, self.noise, self.seed = epsilon, sigma, noise, seed

    def grid(self, low: float = 1.0, high: float = 2.0, points: int = 201) -> pd.DataFrame:
        """Candidate separations evenly spaced on [low, high], with their true energy."""
        r = np.linspace(low, high, points)
        return pd.DataFrame({"r": r, "energy": lennard_jones_energy(r, self.epsilon, self.sigma)})

    def __call__(self, candidate: Candidate) -> float:
        """The measured energy at the candidate's separation ``r``."""
        energy = float(lennard_jones_energy(candidate.parameters["r"], self.epsilon, self.sigma))
        if self.noise:
            # seeded by the candidate, not by a generator held here: a process pool or
            # Dask gets a fresh copy of this object, generator included, for every call
            rng = np.random.default_rng([self.seed, zlib.crc32(candidate.id.encode())])
            energy += float(rng.normal(0.0, self.noise))
        return energy


#: Global-minimum energies of Lennard-Jones clusters LJ_n in units of epsilon
#: (sigma = epsilon = 1), from the Cambridge Cluster Database (Wales and Doye,
#: J. Phys. Chem. A 101, 5111, 1997).
GLOBAL_MINIMA = {
    3: -3.0,
    4: -6.0,
    5: -9.103852,
    6: -12.712062,
    7: -16.505384,
    13: -44.326801,
    38: -173.928427,
}
#: Cutoff of ASE's LJ calculator for clusters, in sigma: far enough that its energy
#: shift (-4 (1/rc)^6 per pair) is below 1e-9 epsilon.
CLUSTER_CUTOFF = 40.0


def cluster_calculator_parameters() -> dict[str, float]:
    """Keyword arguments of ASE's ``LennardJones`` for clusters in reduced units."""
    return {"sigma": 1.0, "epsilon": 1.0, "rc": CLUSTER_CUTOFF}


def trimer_grid(
    lengths: np.ndarray | None = None, angles: np.ndarray | None = None
) -> tuple[dict[str, Atoms], pd.DataFrame]:
    """Isosceles LJ3 geometries on a grid of bond length r and apex angle theta.

    The global minimum is the equilateral triangle with r = 2^(1/6) sigma and
    energy -3 epsilon.

    Returns:
        (id -> Atoms, frame of ``r``, ``theta`` and the true ``energy`` by id).
    """
    from ase.calculators.lj import LennardJones

    lengths = np.linspace(1.0, 1.6, 13) if lengths is None else np.asarray(lengths)
    angles = np.linspace(40.0, 180.0, 15) if angles is None else np.asarray(angles)
    structures, rows = {}, []
    for r in lengths:
        for theta in angles:
            half = np.radians(theta) / 2
            positions = [
                [0, 0, 0],
                [r * np.sin(half), r * np.cos(half), 0],
                [-r * np.sin(half), r * np.cos(half), 0],
            ]
            atoms = Atoms("Ar3", positions=positions)
            atoms.calc = LennardJones(**cluster_calculator_parameters())
            key = f"r{r:.3f}-theta{theta:.0f}"
            structures[key] = atoms
            rows.append({"id": key, "r": r, "theta": theta, "energy": atoms.get_potential_energy()})
    return structures, pd.DataFrame(rows)


def random_clusters(atoms_count: int, count: int, seed: int = 0) -> dict[str, Atoms]:
    """``count`` random starting geometries of LJ_n: atoms placed uniformly in a sphere
    of the cluster's close-packed size, none closer than 0.8 sigma. Relaxed, most end
    in local minima above :data:`GLOBAL_MINIMA`; a few find the global one."""
    rng = np.random.default_rng(seed)
    radius = 0.6 * atoms_count ** (1 / 3) + 0.5
    clusters = {}
    while len(clusters) < count:
        points: list[np.ndarray] = []
        while len(points) < atoms_count:
            point = rng.uniform(-radius, radius, 3)
            if np.linalg.norm(point) <= radius and all(
                np.linalg.norm(point - p) >= 0.8 for p in points
            ):
                points.append(point)
        clusters[f"lj{atoms_count}-{len(clusters):03d}"] = Atoms(
            f"Ar{atoms_count}", positions=points
        )
    return clusters
