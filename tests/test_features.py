import numpy as np
import pandas as pd
import pytest
from ase import Atoms
from ase.build import bulk, make_supercell, molecule
from pymatgen.core import IMolecule, IStructure, Lattice, Molecule, Structure
from pymatgen.io.ase import AseAtomsAdaptor

from discovery.exceptions import PoolError
from discovery.features import (
    as_atoms,
    composition_features,
    pool_from_compositions,
    pool_from_structures,
    structure_features,
)


def test_composition_features_of_fe2o3_are_the_fraction_weighted_statistics():
    row = composition_features(["Fe2O3"]).iloc[0]
    # Fe: Z 26, X 1.83, 8 valence electrons; O: Z 8, X 3.44, 6; fractions 0.4 and 0.6
    assert row["mean atomic_number"] == pytest.approx(0.4 * 26 + 0.6 * 8)
    assert row["std atomic_number"] == pytest.approx(
        np.sqrt(0.4 * (26 - 15.2) ** 2 + 0.6 * (8 - 15.2) ** 2)
    )
    assert (row["min atomic_number"], row["max atomic_number"]) == (8, 26)
    assert row["range atomic_number"] == 18
    assert row["mean electronegativity"] == pytest.approx(0.4 * 1.83 + 0.6 * 3.44)
    assert row["mean valence_electrons"] == pytest.approx(0.4 * 8 + 0.6 * 6)
    assert row["n elements"] == 2


def test_an_unparsable_formula_is_named_with_its_row():
    with pytest.raises(PoolError, match=r"row 1: unparsable formula 'Xq2O'"):
        composition_features(["NaCl", "Xq2O"])


def test_a_composition_pool_keeps_the_formula_but_does_not_learn_from_it():
    frame = pd.DataFrame(
        {"formula": ["NaCl", "KBr", "GaAs", "Si", "He"], "gap": [8.5, 7.4, 1.4, 1.1, 0]}
    )
    pool = pool_from_compositions(frame, "formula", objective="gap")
    assert len(pool) == 5
    assert "formula" not in pool.feature_names and "gap" not in pool.feature_names
    assert "mean electronegativity" in pool.feature_names
    assert np.isfinite(pool.features).all()  # He's missing electronegativity is imputed
    assert pool.frame.loc["2", "formula"] == "GaAs"


def test_a_composition_pool_needs_its_formula_column():
    with pytest.raises(PoolError, match="formula column 'formula' not in"):
        pool_from_compositions(pd.DataFrame({"x": ["NaCl"]}), "formula")


def test_structure_features_describe_density_and_coordination():
    copper = bulk("Cu", "fcc", a=3.615, cubic=True)
    salt = Structure.from_spacegroup(
        "Fm-3m", Lattice.cubic(5.64), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]]
    )
    table = structure_features([copper, salt, molecule("H2O")])
    assert table.loc[0, "density"] == pytest.approx(8.93, rel=0.01)  # copper, g/cm^3
    assert table.loc[1, "density"] == pytest.approx(2.16, rel=0.01)  # rock salt
    assert list(table["mean coordination"]) == pytest.approx([12, 6, 4 / 3])
    assert np.isnan(table.loc[2, "density"])  # a molecule has no cell
    assert table.loc[0, "rdf 2.75"] == 12  # twelve nearest neighbours at 2.56 A


def test_a_structure_pool_is_built_from_a_mapping_of_structures():
    pool = pool_from_structures(
        {"cu": bulk("Cu"), "ag": bulk("Ag"), "nacl": bulk("NaCl", "rocksalt", a=5.64)}
    )
    assert list(pool.ids) == ["cu", "ag", "nacl"]
    assert pool.frame.loc["nacl", "formula"] == "ClNa"
    with pytest.raises(PoolError, match="expected ase Atoms or a pymatgen"):
        pool_from_structures({"x": "not a structure"})


def test_immutable_pymatgen_structures_and_molecules_are_structures_too():
    salt = IStructure.from_spacegroup(
        "Fm-3m", Lattice.cubic(5.64), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]]
    )
    water = IMolecule(["O", "H", "H"], [[0, 0, 0], [0.96, 0, 0], [-0.24, 0.93, 0]])
    table = structure_features([salt, water])
    assert table.loc[0, "density"] == pytest.approx(2.16, rel=0.01)
    assert table["atoms"].tolist() == [8, 3]


def test_a_structure_pool_names_a_frame_that_does_not_fit_its_structures():
    structures = {f"cu-{a}": bulk("Cu", "fcc", a=a) for a in (3.4, 3.5, 3.6)}
    with pytest.raises(PoolError, match=r"frame has 2 rows for 3 structures; give one row per"):
        pool_from_structures(structures, pd.DataFrame({"energy": [1.0, 2.0]}))
    clashing = pd.DataFrame({"formula": ["Cu"] * 3, "density": 8.9, "energy": [1.0, 2.0, 3.0]})
    with pytest.raises(PoolError, match=r"frame columns \['formula', 'density'\] clash .* rename"):
        pool_from_structures(structures, clashing)
    pool = pool_from_structures(structures, clashing[["energy"]], objective="energy")
    assert pool.frame.loc["cu-3.6", "energy"] == 3.0


def test_an_element_pymatgen_knows_little_of_has_nan_where_it_has_no_data():
    from discovery.features import element_properties

    oganesson = element_properties("Og")
    assert oganesson["atomic_number"] == 118 and oganesson["group"] == 18
    assert np.isnan(oganesson["valence_electrons"])


def _strontium_titanate(a: float) -> Atoms:
    return Atoms(
        "SrTiO3",
        scaled_positions=[[0, 0, 0], [0.5, 0.5, 0.5], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]],
        cell=[a, a, a],
        pbc=True,
    )


def test_the_radial_fingerprint_is_the_same_whatever_cell_writes_the_crystal():
    # at a = 4 A, Ti-O (2 A), O-O next-nearest (4 A) and Ti-O at the cutoff (6 A) lie on
    # bin edges; a rotated supercell writes them 1e-16 A off, on either side
    cell = _strontium_titanate(4.0)
    rotated = make_supercell(cell, [[1, 1, 0], [-1, 1, 0], [0, 0, 1]])
    table = structure_features([cell, rotated, cell * (2, 2, 2)]).drop(columns="atoms")
    fingerprint = [c for c in table.columns if c.startswith("rdf")]
    assert (table.loc[1, fingerprint] == table.loc[0, fingerprint]).all()
    assert (table.loc[2, fingerprint] == table.loc[0, fingerprint]).all()
    assert table["rdf 2.25"].tolist() == pytest.approx([2.4] * 3)  # 6 Ti-O + 6 O-Ti per 5
    # 5.66 A: 12 of each kind's own; 6 A, the cutoff, counts: Ti-O along (1, 1, 1/2) a and
    # (0, 0, 3/2) a, 30 per Ti, 10 per O: (5 * 12 + 30 + 3 * 10) / 5
    assert table["rdf 5.75"].tolist() == pytest.approx([24.0] * 3)


def test_a_periodic_structure_without_a_cell_is_refused_by_name():
    dimer = Atoms("Cu2", positions=[[0, 0, 0], [1.5, 1.5, 0]], pbc=True)  # ASE's cell: zeros
    with pytest.raises(PoolError, match=r"candidate 'dimer': .*'Cu2' is periodic .* no volume"):
        pool_from_structures({"cu": bulk("Cu"), "dimer": dimer})
    flat = Atoms("Cu2", positions=dimer.positions, cell=[3, 3, 0], pbc=True)
    with pytest.raises(PoolError, match=r"row 1: .*no volume .*or pbc=False for a molecule"):
        structure_features([bulk("Cu"), flat])
    slab = Atoms("Cu2", positions=dimer.positions, cell=[3, 3, 0], pbc=[True, True, False])
    assert structure_features([slab]).loc[0, "atoms"] == 2  # periodic only where it has a cell


def test_a_disordered_structure_is_refused_by_name_with_a_way_out():
    structures = {
        "cu": Structure(Lattice.cubic(3.6), ["Cu"], [[0, 0, 0]]),
        "cuau": Structure(Lattice.cubic(3.8), [{"Cu": 0.5, "Au": 0.5}], [[0, 0, 0]]),
    }
    with pytest.raises(
        PoolError,
        match=r"candidate 'cuau': .* disordered \(partial occupancies\).*OrderDisordered",
    ):
        pool_from_structures(structures)


def test_a_molecule_keeps_its_charge_and_spin_as_initial_charges_and_moments():
    hydroxide = Molecule(["O", "H"], [[0, 0, 0], [0, 0, 0.97]], charge=-1)
    oxygen = Molecule(["O", "O"], [[0, 0, 0], [0, 0, 1.21]], spin_multiplicity=3)
    for atoms in (as_atoms(hydroxide), as_atoms(as_atoms(hydroxide))):
        assert atoms.get_initial_charges().sum() == -1  # exactly: calculators read the sum
    assert as_atoms(AseAtomsAdaptor.get_atoms(hydroxide)).get_initial_charges().sum() == -1
    assert as_atoms(oxygen).get_initial_magnetic_moments().sum() == 2  # two unpaired
    water = as_atoms(Molecule(["O", "H", "H"], [[0, 0, 0], [0.96, 0, 0], [-0.24, 0.93, 0]]))
    assert not water.has("initial_charges") and not water.has("initial_magmoms")


def test_a_charged_molecule_is_computed_charged_by_tblite():
    tblite = pytest.importorskip("tblite.ase")
    hydroxide = as_atoms(Molecule(["O", "H"], [[0, 0, 0], [0, 0, 0.97]], charge=-1))
    hydroxide.calc = tblite.TBLite(method="GFN2-xTB", verbosity=0)
    neutral = as_atoms(Molecule(["O", "H"], [[0, 0, 0], [0, 0, 0.97]]))
    neutral.calc = tblite.TBLite(method="GFN2-xTB", charge=-1, verbosity=0)
    assert hydroxide.get_potential_energy() == pytest.approx(neutral.get_potential_energy())
