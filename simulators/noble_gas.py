"""Noble-gas crystals in the Lennard-Jones model: energy per atom of an fcc crystal of
Ne, Ar, Kr or Xe at a given lattice constant, computed by ASE's LennardJones calculator.

The element is a categorical choice described by its pair parameters (the well depth
epsilon and the size sigma), the lattice constant in units of the element's sigma a
continuous one (so the search range is the same sensible one for every element): a
small mixed search space with a known answer (the deepest well, Xe, near a = 1.55
sigma = 6.16 Å).
Parameters from Ashcroft & Mermin, *Solid State Physics* (1976), table 20.5, fitted to
the gas-phase data of Bernardes (Phys. Rev. 112, 1534, 1958).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from ase.build import bulk
from ase.calculators.lj import LennardJones

from discovery.exceptions import ConfigurationError

#: epsilon (eV) and sigma (Angstrom) of each noble gas (Ashcroft & Mermin, table 20.5).
PAIR_PARAMETERS = pd.DataFrame(
    {"epsilon": [0.0031, 0.0104, 0.0140, 0.0200], "sigma": [2.74, 3.40, 3.65, 3.98]},
    index=["Ne", "Ar", "Kr", "Xe"],
)
#: The range of fcc lattice constants searched, in units of sigma: from a compressed
#: crystal (nearest neighbours at 0.95 sigma) to an expanded one (1.34 sigma).
REDUCED_LATTICE_BOUNDS = (1.35, 1.9)
#: Pair interactions are cut off at this many sigma (ASE smooths the cut).
CUTOFF_SIGMAS = 3.0


def crystal_energy(element: str, reduced_lattice: float) -> float:
    """Energy per atom (eV) of the fcc crystal of ``element`` with lattice constant
    ``reduced_lattice`` times its sigma.

    Raises:
        ConfigurationError: an element without parameters, or a reduced lattice
            constant outside :data:`REDUCED_LATTICE_BOUNDS`.
    """
    if element not in PAIR_PARAMETERS.index:
        raise ConfigurationError(
            f"noble_gas: element '{element}' not among {list(PAIR_PARAMETERS.index)}"
        )
    low, high = REDUCED_LATTICE_BOUNDS
    if not low <= reduced_lattice <= high:
        raise ConfigurationError(
            f"noble_gas: reduced_lattice {reduced_lattice} outside [{low}, {high}] (sigma)"
        )
    epsilon, sigma = PAIR_PARAMETERS.loc[element, ["epsilon", "sigma"]]
    atoms = bulk(element, "fcc", a=float(reduced_lattice * sigma))
    atoms.calc = LennardJones(epsilon=epsilon, sigma=sigma, rc=CUTOFF_SIGMAS * sigma, smooth=True)
    return float(atoms.get_potential_energy() / len(atoms))


def measure(parameters: Mapping[str, object]) -> float:
    """The oracle's call: ``{"element": ..., "reduced_lattice": ...}`` -> energy per atom."""
    return crystal_energy(str(parameters["element"]), float(parameters["reduced_lattice"]))


def lowest_energy(points: int = 2001) -> tuple[str, float, float]:
    """(element, reduced lattice constant, energy per atom) of the lowest energy on a
    dense grid."""
    grid = np.linspace(*REDUCED_LATTICE_BOUNDS, points)
    best = min(
        (crystal_energy(element, a), element, a) for element in PAIR_PARAMETERS.index for a in grid
    )
    return best[1], float(best[2]), float(best[0])
