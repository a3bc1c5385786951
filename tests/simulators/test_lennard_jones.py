import numpy as np
import pytest

from discovery import Candidate, ConfigurationError
from simulators.lennard_jones import (
    LennardJonesWorld,
    equilibrium_distance,
    lennard_jones_energy,
)


def test_plain_form_matches_the_lecture_curve():
    r = np.linspace(1, 2, 11)
    np.testing.assert_allclose(lennard_jones_energy(r), (1 / r) ** 12 - (1 / r) ** 6)


@pytest.mark.parametrize(("epsilon", "sigma"), [(0.25, 1.0), (1.0, 3.4), (0.0104, 3.4)])
def test_minimum_is_minus_epsilon_at_two_to_the_sixth_sigma(epsilon, sigma):
    r_min = equilibrium_distance(sigma)
    assert r_min == pytest.approx(2 ** (1 / 6) * sigma)
    assert lennard_jones_energy(r_min, epsilon, sigma) == pytest.approx(-epsilon)
    assert lennard_jones_energy(sigma, epsilon, sigma) == pytest.approx(0.0, abs=1e-15)
    assert lennard_jones_energy(r_min * 1.01, epsilon, sigma) > -epsilon


def test_noise_is_seeded():
    candidate = Candidate("0", {"r": 1.3})
    first = [LennardJonesWorld(noise=0.01, seed=5)(candidate) for _ in range(2)]
    assert first[0] == first[1] != LennardJonesWorld()(candidate)


def test_non_positive_separation_is_refused():
    with pytest.raises(ConfigurationError, match="positive"):
        lennard_jones_energy(0.0)


def test_a_relaxed_lj13_icosahedron_has_the_known_global_minimum_energy():
    from ase.cluster import Icosahedron

    from discovery.oracles.ase import AseOracle
    from discovery.space import Candidate
    from simulators.lennard_jones import GLOBAL_MINIMA, cluster_calculator_parameters

    icosahedron = Icosahedron("Ar", noshells=2, latticeconstant=1.5)
    oracle = AseOracle(
        "lj",
        {"ico": icosahedron},
        parameters=cluster_calculator_parameters(),
        property="energy",
        relax=True,
        fmax=1e-4,
        steps=2000,
    )
    status = oracle.poll(oracle.submit(Candidate("ico", {})))
    assert status.result["energy"] == pytest.approx(GLOBAL_MINIMA[13], abs=1e-4)


def test_the_trimer_grid_is_lowest_near_the_equilateral_triangle_at_the_pair_minimum():
    from simulators.lennard_jones import trimer_grid

    structures, frame = trimer_grid(np.linspace(1.0, 1.3, 7), np.linspace(40, 180, 15))
    best = frame.loc[frame["energy"].idxmin()]
    assert best["theta"] == 60 and abs(best["r"] - 2 ** (1 / 6)) <= 0.025
    assert best["energy"] > -3.0  # the grid cannot beat the global minimum
    assert set(structures) == set(frame["id"])


def test_random_clusters_keep_atoms_apart_and_are_reproducible():
    from simulators.lennard_jones import random_clusters

    first, again = random_clusters(13, 3, seed=4), random_clusters(13, 3, seed=4)
    for key, atoms in first.items():
        distances = atoms.get_all_distances()[np.triu_indices(13, k=1)]
        assert distances.min() >= 0.8
        np.testing.assert_array_equal(atoms.positions, again[key].positions)
