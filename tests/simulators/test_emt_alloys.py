from pathlib import Path

import numpy as np
import pandas as pd
from ase.build import bulk

from simulators.emt_alloys import (
    _bond_signature,
    _neighbour_shells,
    enumerate_alloys,
    lattice_constant,
)


def test_the_cube_holds_every_binary_and_ternary_once():
    alloys = enumerate_alloys()
    cubes = [key for key, atoms in alloys.items() if len(atoms) == 4]
    # 21 pairs x (A3B, A2B2, AB3) + 35 triples x 3 choices of the doubled metal
    assert len(cubes) == 21 * 3 + 35 * 3
    assert len(set(alloys)) == len(alloys)


def test_decorations_related_by_a_lattice_translation_count_once():
    double = bulk("Cu", "fcc", a=4.0, cubic=True) * (2, 1, 1)
    shells = _neighbour_shells(double)
    symbols = ["Ni", "Pt", "Ni", "Ni", "Pt", "Pt", "Ni", "Ni"]
    shifted = symbols[4:] + symbols[:4]  # the same crystal moved by one cube along x
    assert _bond_signature(shells, symbols) == _bond_signature(shells, shifted)
    other = ["Ni", "Ni", "Ni", "Ni", "Pt", "Pt", "Pt", "Pt"]
    assert _bond_signature(shells, symbols) != _bond_signature(shells, other)


def test_structures_start_from_vegards_law():
    alloy = enumerate_alloys()["AuCu-4a"]
    assert lattice_constant(["Cu", "Au"]) == np.mean([3.61, 4.08])  # ASE's reference states
    assert alloy.cell.lengths()[0] == lattice_constant(alloy.get_chemical_symbols())


def test_no_ordering_of_the_double_cube_is_a_cube_ordering_again():
    # a double-cube decoration that repeats a cube ordering is the same crystal: counted
    # twice, it was measured twice and counted twice among the top-5 %
    alloys = enumerate_alloys()
    shells = _neighbour_shells(bulk("Cu", "fcc", a=4.0, cubic=True) * (2, 1, 1))
    tiled = {
        _bond_signature(shells, atoms.get_chemical_symbols() * 2)
        for atoms in alloys.values()
        if len(atoms) == 4
    }
    doubles = [a.get_chemical_symbols() for a in alloys.values() if len(a) == 8]
    assert len(doubles) == 588 - 21 * 3 - 35 * 3
    assert not [s for s in doubles if _bond_signature(shells, s) in tiled]
    truth = pd.read_csv(Path(__file__).parents[2] / "campaigns/data/emt_alloys/energies.csv")
    assert set(truth["candidate_id"]) == set(alloys)
