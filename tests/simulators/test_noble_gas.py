"""The noble-gas crystal energies: Lennard-Jones scaling laws and bad input."""

import numpy as np
import pytest

from discovery.exceptions import ConfigurationError
from simulators.noble_gas import PAIR_PARAMETERS, crystal_energy, measure


def test_energy_scales_with_the_well_depth_at_the_same_reduced_lattice():
    # E = epsilon * f(a / sigma): the same reduced crystal costs epsilon-proportional energy
    for reduced in (1.4, 1.55, 1.8):
        energies = np.array([crystal_energy(e, reduced) for e in PAIR_PARAMETERS.index])
        np.testing.assert_allclose(
            energies / PAIR_PARAMETERS["epsilon"].to_numpy(), energies[0] / 0.0031, rtol=1e-9
        )


def test_fcc_minimum_lies_near_the_full_lattice_sum_value():
    grid = np.linspace(1.45, 1.65, 201)
    energies = [crystal_energy("Ar", a) for a in grid]
    best = grid[int(np.argmin(energies))]
    # full lattice sums give a = 2^(1/2) * 1.09 sigma = 1.541 sigma and -8.61 epsilon per
    # atom; cutting the pairs off at 3 sigma drops part of the attraction, so the minimum
    # lies above that sum, by less than a tenth
    assert 1.53 < best < 1.56
    reduced_minimum = min(energies) / PAIR_PARAMETERS.loc["Ar", "epsilon"]
    assert -8.61 < reduced_minimum < -8.61 * 0.9


def test_bad_input_names_the_parameter():
    with pytest.raises(ConfigurationError, match="element 'He' not among"):
        measure({"element": "He", "reduced_lattice": 1.5})
    with pytest.raises(ConfigurationError, match=r"reduced_lattice 2\.5 outside"):
        measure({"element": "Ar", "reduced_lattice": 2.5})
