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
