"""Featurisers for materials: compositions, crystal structures and molecules as numbers.

Composition features are statistics of element properties over a composition,
weighted by atomic fraction, in the spirit of Magpie (Ward et al., npj Comput.
Mater. 2, 16028, 2016); the element data come from pymatgen. Structure features
add what the arrangement of atoms tells: density, volume per atom, packing
fraction, coordination and a radial fingerprint. A pool is built from a column of
formulas, or from structures, in one call.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from functools import cache
from typing import Any

import numpy as np
import pandas as pd
from ase import Atoms
from ase.neighborlist import neighbor_list
from pymatgen.core import Composition, Element, IMolecule, IStructure
from pymatgen.io.ase import AseAtomsAdaptor

from discovery.exceptions import PoolError
from discovery.space import CandidatePool

#: Element properties summarised over a composition, by feature name.
ELEMENT_PROPERTIES = (
    "atomic_number",
    "atomic_mass",
    "electronegativity",
    "atomic_radius",
    "row",
    "group",
    "valence_electrons",
    "molar_volume",
)
STATISTICS = ("mean", "std", "min", "max", "range")
#: Outer radius of the radial fingerprint (angstrom) and its number of bins.
RADIAL_CUTOFF = 6.0
RADIAL_BINS = 12
#: Distances are rounded to this many decimals (angstrom) before they are binned, so that
#: one distance written through two cells (1.9999999999999998 and 2.0) lands in one bin.
DISTANCE_DECIMALS = 6
#: Singular values of the periodic cell vectors below this (angstrom) make a flat cell.
FLAT_CELL_TOLERANCE = 1e-6
#: Neighbours of an atom: those within this multiple of its nearest neighbour's distance.
NEIGHBOUR_SHELL = 1.2
GRAMS_PER_CM3 = 1.66053906660  # one atomic mass unit per cubic angstrom


@cache
def element_properties(symbol: str) -> dict[str, float]:
    """The properties of ``ELEMENT_PROPERTIES`` for one element (NaN where unknown).

    Valence electrons are those outside the noble-gas core of the element's
    ground-state configuration (Fe: [Ar] 3d6 4s2 -> 8).
    """
    element = Element(symbol)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pymatgen warns, then answers NaN, for missing data
        return {
            "atomic_number": _or_nan(lambda: element.Z),
            "atomic_mass": _or_nan(lambda: element.atomic_mass),
            "electronegativity": _or_nan(lambda: element.X),
            "atomic_radius": _or_nan(lambda: element.atomic_radius),
            "row": _or_nan(lambda: element.row),
            "group": _or_nan(lambda: element.group),
            "valence_electrons": _or_nan(lambda: _valence_electrons(element)),
            "molar_volume": _or_nan(lambda: element.molar_volume),
        }


def _or_nan(read: Callable[[], Any]) -> float:
    """A property as a float; NaN where pymatgen has none (None, or no entry at all, as
    for the electronic structure of oganesson)."""
    try:
        value = read()
    except (KeyError, AttributeError, ValueError):
        return np.nan
    return np.nan if value is None else float(value)


def _valence_electrons(element: Element) -> int:
    shells = element.electronic_structure.split(".")
    outside_core = [s for s in shells if not s.startswith("[")]
    return sum(int(shell[2:]) for shell in outside_core if shell[2:].isdigit())


def parse_composition(formula: Any, where: str = "") -> Composition:
    """A pymatgen Composition from a formula (or a Composition), with a clear error.

    Raises:
        PoolError: the formula cannot be parsed or names no element.
    """
    if isinstance(formula, Composition):
        return formula
    try:
        composition = Composition(str(formula))
    except Exception as error:  # pymatgen raises ValueError, KeyError or its own errors
        raise PoolError(f"{where}unparsable formula {formula!r} ({error})") from None
    # pymatgen reads unknown symbols as placeholder ("dummy") species
    unknown = [str(e) for e in composition.elements if not isinstance(e, Element)]
    if unknown:
        raise PoolError(f"{where}unparsable formula {formula!r} (unknown elements {unknown})")
    if composition.num_atoms <= 0:
        raise PoolError(f"{where}formula {formula!r} has no atoms")
    return composition


def composition_features(
    formulas: Sequence[Any], properties: Sequence[str] = ELEMENT_PROPERTIES
) -> pd.DataFrame:
    """Fraction-weighted statistics of element properties, one row per composition.

    For each property p, with atomic fractions x_i: mean = sum x_i p_i, std =
    sqrt(sum x_i (p_i - mean)^2), min, max and range over the elements present.
    Columns are named ``"<statistic> <property>"``, plus ``"n elements"``.

    Args:
        formulas: formulas ("Fe2O3") or pymatgen Compositions.
        properties: names from :data:`ELEMENT_PROPERTIES`.

    Returns:
        (n, 5 * len(properties) + 1) frame; NaN where an element lacks a property.

    Raises:
        PoolError: an unparsable formula (naming its row) or an unknown property.
    """
    unknown = sorted(set(properties) - set(ELEMENT_PROPERTIES))
    if unknown:
        raise PoolError(f"features: unknown element properties {unknown}; use {ELEMENT_PROPERTIES}")
    rows = []
    for position, formula in enumerate(formulas):
        composition = parse_composition(formula, f"features: row {position}: ")
        fractions = composition.fractional_composition.get_el_amt_dict()
        weights = np.array(list(fractions.values()))
        table = np.array(
            [[element_properties(symbol)[p] for p in properties] for symbol in fractions]
        )
        mean = weights @ table
        row = {"n elements": float(len(fractions))}
        stats = {
            "mean": mean,
            "std": np.sqrt(weights @ (table - mean) ** 2),
            "min": table.min(axis=0),
            "max": table.max(axis=0),
            "range": table.max(axis=0) - table.min(axis=0),
        }
        for statistic, values in stats.items():
            row.update(
                {f"{statistic} {p}": float(v) for p, v in zip(properties, values, strict=True)}
            )
        rows.append(row)
    return pd.DataFrame(rows)


def as_atoms(structure: Any, where: str = "features: ") -> Atoms:
    """ASE Atoms from Atoms, a pymatgen Structure or Molecule (through pymatgen's adaptor).

    A molecule's total charge and spin travel the way ASE calculators (tblite, xtb)
    read them: as initial charges summing to the charge and initial magnetic moments
    summing to the unpaired electrons (spin multiplicity - 1), spread over the atoms in
    whole units. This is done for a charged molecule, or one whose multiplicity is not
    the singlet or doublet its electron count gives by default; a neutral molecule in
    its default spin state is left as it is, and so are charges and moments the
    molecule's sites already carry. A pymatgen Molecule gives them as ``charge`` and
    ``spin_multiplicity``; Atoms as the attributes of those names that pymatgen's
    adaptor adds (which ``Atoms.copy`` would drop).

    Args:
        structure: ase Atoms or a pymatgen Structure/Molecule.
        where: names the entry in error messages (``"pool: candidate 'cu-1': "``).

    Raises:
        PoolError: anything else; a disordered pymatgen structure (partial occupancies);
            a periodic structure whose cell has no volume along its periodic directions.
    """
    if isinstance(structure, Atoms):
        atoms = structure.copy()
        _carry_charge_and_spin(
            atoms,
            getattr(structure, "charge", 0) or 0,
            getattr(structure, "spin_multiplicity", None),
        )
    elif isinstance(structure, (IStructure, IMolecule)):  # their mutable kinds included
        atoms = _from_pymatgen(structure, where)
    else:
        raise PoolError(
            f"{where}expected ase Atoms or a pymatgen Structure/Molecule, "
            f"got {type(structure).__name__}"
        )
    _check_cell(atoms, where)
    return atoms


def _from_pymatgen(structure: IStructure | IMolecule, where: str) -> Atoms:
    """Atoms through pymatgen's adaptor, a molecule's charge and spin included.

    Raises:
        PoolError: a disordered structure, which ASE cannot hold.
    """
    if not structure.is_ordered:
        raise PoolError(
            f"{where}structure {structure.composition.formula!r} is disordered (partial "
            "occupancies); ASE Atoms need one species per site: order it first, e.g. with "
            "pymatgen's OrderDisorderedStructureTransformation, or pick one ordering"
        )
    atoms = AseAtomsAdaptor.get_atoms(structure)
    if isinstance(structure, IMolecule):  # the adaptor keeps these only for Molecule
        _carry_charge_and_spin(atoms, structure.charge, structure.spin_multiplicity)
    return atoms


def _carry_charge_and_spin(atoms: Atoms, charge: float, multiplicity: float | None) -> None:
    """Set initial charges and magnetic moments that sum to a molecule's charge and
    unpaired electrons, where :func:`as_atoms` says so."""
    electrons = int(atoms.get_atomic_numbers().sum() - round(charge))
    default_unpaired = electrons % 2  # pymatgen's default: singlet or doublet
    unpaired = default_unpaired if multiplicity is None else round(multiplicity) - 1
    if charge == 0 and unpaired == default_unpaired:
        return
    if charge != 0 and not atoms.has("initial_charges"):
        atoms.set_initial_charges(_spread(charge, len(atoms)))
    if unpaired and not atoms.has("initial_magmoms"):
        atoms.set_initial_magnetic_moments(_spread(unpaired, len(atoms)))


def _spread(total: float, count: int) -> np.ndarray:
    """``total`` over ``count`` atoms: (count,) float64 summing to it exactly.

    Whole totals go in whole units (-2 over 3 atoms: -1, -1, 0), since calculators
    read the sum and one that came to -0.9999999999999999 could be taken as 0.
    """
    if not float(total).is_integer():
        return np.full(count, total / count)
    units, extra = divmod(abs(int(total)), count)
    values = np.full(count, float(units))
    values[:extra] += 1.0
    return np.copysign(values, total)


def _check_cell(atoms: Atoms, where: str) -> None:
    """Refuse a structure periodic along directions its cell does not span.

    ASE's default cell is all zeros, so ``Atoms(..., pbc=True)`` without a cell is a
    common slip; neighbour lists then see each atom's own images on top of it.

    Raises:
        PoolError: the cell vectors along the periodic directions are zero or
            linearly dependent.
    """
    periodic = atoms.cell.array[atoms.pbc]
    if not len(periodic):
        return
    if np.linalg.matrix_rank(periodic, tol=FLAT_CELL_TOLERANCE) < len(periodic):
        raise PoolError(
            f"{where}structure {atoms.get_chemical_formula()!r} is periodic "
            f"(pbc={atoms.pbc.tolist()}) but its cell has no volume (cell lengths "
            f"{np.round(atoms.cell.lengths(), 6).tolist()}); give it a cell, or pbc=False "
            "for a molecule"
        )


def structure_features(structures: Sequence[Any]) -> pd.DataFrame:
    """Composition features plus descriptors of the arrangement, one row per structure.

    Added columns: ``atoms``; for periodic structures ``density`` (g/cm^3),
    ``volume per atom`` (A^3) and ``packing fraction`` (sum of atomic-radius
    spheres over the cell volume); for every structure ``mean coordination``
    (neighbours within 1.2 times each atom's nearest distance), ``unlike
    neighbour fraction`` (of those, the share of another element: chemical
    order) and a radial
    fingerprint ``rdf <r>`` (pairs per atom in bins of width 0.5 A up to 6 A,
    distances rounded to 1e-6 A so that every cell of a crystal gives the same).

    Raises:
        PoolError: as :func:`as_atoms`, naming the row.
    """
    atoms_list = [
        as_atoms(structure, f"features: row {position}: ")
        for position, structure in enumerate(structures)
    ]
    formulas = [a.get_chemical_formula() for a in atoms_list]
    table = composition_features(formulas)
    extra = pd.DataFrame([_arrangement(atoms) for atoms in atoms_list])
    return pd.concat([table, extra], axis=1)


def _arrangement(atoms: Atoms) -> dict[str, float]:
    count = len(atoms)
    row: dict[str, float] = {"atoms": float(count)}
    if bool(atoms.pbc.all()) and atoms.cell.volume > 0:
        volume = float(atoms.cell.volume)
        radii = [element_properties(s)["atomic_radius"] for s in atoms.get_chemical_symbols()]
        row["density"] = float(atoms.get_masses().sum()) / volume * GRAMS_PER_CM3
        row["volume per atom"] = volume / count
        row["packing fraction"] = float(np.sum(4.0 / 3.0 * np.pi * np.power(radii, 3))) / volume
    first, second, distances = _pairs(atoms)
    if distances.size:
        nearest = np.full(count, np.inf)
        np.minimum.at(nearest, first, distances)
        bonded = distances <= NEIGHBOUR_SHELL * nearest[first]
        numbers = atoms.get_atomic_numbers()
        unlike = numbers[first[bonded]] != numbers[second[bonded]]
        row["mean coordination"] = float(bonded.sum()) / count
        row["unlike neighbour fraction"] = float(unlike.mean())
    edges = np.linspace(0.0, RADIAL_CUTOFF, RADIAL_BINS + 1)
    counts, _ = np.histogram(distances, bins=edges)
    centres = (edges[:-1] + edges[1:]) / 2
    row.update({f"rdf {c:.2f}": float(n) / count for c, n in zip(centres, counts, strict=True)})
    return row


def _pairs(atoms: Atoms) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(i, j, distance) of every ordered pair up to the radial cutoff, through periodic
    images where the structure is periodic; distances rounded to ``DISTANCE_DECIMALS``.

    Symmetric crystals put distances exactly on the bin edges (Ti-O = 2.0 A in SrTiO3
    at a = 4 A) and on the cutoff; each cell writes them with its own last-digit noise,
    so they are rounded, and looked for a hair beyond the cutoff, before being compared.
    """
    reach = RADIAL_CUTOFF + 10.0**-DISTANCE_DECIMALS
    if atoms.pbc.any():
        first, second, distances = neighbor_list("ijd", atoms, reach)
    else:
        matrix = atoms.get_all_distances()
        first, second = np.nonzero(~np.eye(len(atoms), dtype=bool) & (matrix < reach))
        distances = matrix[first, second]
    distances = np.round(distances, DISTANCE_DECIMALS)
    within = distances <= RADIAL_CUTOFF
    return first[within], second[within], distances[within]


def pool_from_compositions(
    frame: pd.DataFrame,
    column: str,
    *,
    properties: Sequence[str] = ELEMENT_PROPERTIES,
    **options: Any,
) -> CandidatePool:
    """A pool whose features are the composition features of ``frame[column]``.

    The features are added to the table as columns (so a stored campaign can be
    rebuilt from its table); the formula column itself is kept but not a feature.
    Element properties missing for some element (e.g. the electronegativity of
    He) are imputed with the pool's mean unless ``impute`` says otherwise.

    Args:
        frame: one row per candidate, with the formulas in ``column``.
        column: the formula column.
        properties: element properties to summarise.
        **options: passed to :meth:`CandidatePool.from_frame` (``id_column``,
            ``objective``, ``exclude``, ``impute``).

    Raises:
        PoolError: the column is missing, or a formula cannot be parsed.
    """
    if column not in frame.columns:
        raise PoolError(f"pool: formula column '{column}' not in the columns {list(frame.columns)}")
    features = composition_features(frame[column].tolist(), properties)
    return _pool_with(frame, features, column, options)


def pool_from_structures(
    structures: Mapping[str, Any], frame: pd.DataFrame | None = None, **options: Any
) -> CandidatePool:
    """A pool whose features are the :func:`structure_features` of ``structures``.

    Args:
        structures: candidate id -> ase Atoms or pymatgen Structure/Molecule; the
            same mapping is what a structure oracle (``AseOracle``) computes.
        frame: further columns, one row per structure in the order of
            ``structures`` (its own index is not used), such as a known objective; kept in the table, not used as features unless
            ``options`` says so.
        **options: passed to :meth:`CandidatePool.from_frame`.

    Raises:
        PoolError: no structures; a structure :func:`as_atoms` refuses (not a structure,
            disordered, or periodic in a cell with no volume), naming its id; or a ``frame``
            whose rows are not one per structure or whose columns clash with the
            pool's own (``candidate_id``, ``formula``, the structure features).
    """
    if not structures:
        raise PoolError("pool: no structures given")
    if frame is not None and len(frame) != len(structures):
        raise PoolError(
            f"pool: frame has {len(frame)} rows for {len(structures)} structures; give one "
            "row per structure, in the order of structures"
        )
    ids = [str(i) for i in structures]
    atoms_list = [  # converted once, used twice
        as_atoms(structure, f"pool: candidate '{candidate_id}': ")
        for candidate_id, structure in zip(ids, structures.values(), strict=True)
    ]
    table = pd.DataFrame({"candidate_id": ids})
    table["formula"] = [atoms.get_chemical_formula() for atoms in atoms_list]
    features = structure_features(atoms_list)
    if frame is not None:
        made = ["candidate_id", "formula", *features.columns]
        clashing = [str(c) for c in frame.columns if c in made]
        if clashing:
            raise PoolError(
                f"pool: frame columns {clashing} clash with the columns the pool makes "
                "(candidate_id, formula and the structure features); rename or drop them"
            )
        table = table.join(frame.reset_index(drop=True).set_index(pd.Index(ids)), on="candidate_id")
    options.setdefault("id_column", "candidate_id")
    return _pool_with(table, features, "formula", options)


def _pool_with(
    frame: pd.DataFrame, features: pd.DataFrame, column: str, options: dict
) -> CandidatePool:
    features = features.loc[:, features.notna().any()]  # a property no element has
    table = pd.concat([frame.reset_index(drop=True), features], axis=1)
    options = dict(options)
    options.setdefault("impute", "mean")
    options.setdefault("features", list(features.columns))
    excluded = [c for c in options.pop("exclude", ()) if c != column]
    return CandidatePool.from_frame(table, exclude=[column, *excluded], **options)
