"""Find the most strongly bound noble-gas crystal and its lattice constant: a mixed space.

One categorical parameter, the element (Ne, Ar, Kr, Xe), described to the model by
its Lennard-Jones well depth and size (so what is learned about Ar carries over to
Kr), and one continuous parameter, the fcc lattice constant in units of the element's
sigma (1.35-1.9). Every experiment is an ASE LennardJones calculation of the
crystal's energy per atom (simulators/noble_gas.py); the answer is Xe near 1.55
sigma = 6.16 Å (measured: 6.13 Å).

    discovery run campaigns/noble_gas_crystal.py --budget 15
"""

from __future__ import annotations

from discovery import Campaign, CampaignResult, Categorical, FunctionOracle, Real, Space
from simulators.noble_gas import PAIR_PARAMETERS, REDUCED_LATTICE_BOUNDS, lowest_energy, measure


def crystal_space() -> Space:
    """The element, described by its pair parameters, and the lattice constant in sigma."""
    return Space(
        [
            Categorical("element", list(PAIR_PARAMETERS.index), descriptors=PAIR_PARAMETERS),
            Real("reduced_lattice", *REDUCED_LATTICE_BOUNDS),
        ]
    )


def make_campaign() -> Campaign:
    return Campaign(
        crystal_space(),
        FunctionOracle(lambda candidate: measure(candidate.parameters), output="energy"),
        objective="energy",
        maximize=False,
        surrogate="gp",
        acquisition="ei",
        n_initial=4,
        budget=15,
        seed=0,
        name="noble-gas-crystal",
    )


def summarize(result: CampaignResult) -> dict[str, str]:
    """The campaign's best against the lowest energy of a dense scan of every element."""
    element, lattice, energy = lowest_energy(points=401)
    sigma = PAIR_PARAMETERS.loc[element, "sigma"]
    return {
        "dense scan's lowest": f"{element} at a = {lattice:.4f} sigma = {lattice * sigma:.3f} Å: "
        f"{energy:.5f} eV/atom"
    }
