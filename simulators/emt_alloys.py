"""A world of ordered fcc alloys whose stability EMT computes in a fraction of a second.

Candidates are decorations of small fcc supercells with the seven metals ASE's
effective-medium theory (EMT) describes: Cu, Ag, Au, Ni, Pd, Pt and Al. The
4-site conventional cube gives the binaries A3B, A2B2 (L1_0-like) and AB3 and the
ternaries A2BC; the 8-site double cube adds binary orderings that the cube cannot
hold. The lattice starts from Vegard's law; the truth is the mixing (formation)
energy per atom after relaxing positions and cell with EMT, against each metal's
relaxed fcc crystal. Negative means the alloy is more stable than its separated
elements.

    python -m simulators.emt_alloys --write campaigns/data/emt_alloys/energies.csv

computes every candidate's truth once (588 relaxations: minutes, not seconds).
"""

from __future__ import annotations

import argparse
import itertools
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from ase import Atoms
from ase.build import bulk
from ase.data import atomic_numbers, reference_states

#: The metals ASE's EMT has parameters for (besides H, C, N, O, which it treats roughly).
EMT_METALS = ("Al", "Ni", "Cu", "Pd", "Ag", "Pt", "Au")


def lattice_constant(symbols: Sequence[str]) -> float:
    """Vegard's law: the composition-weighted mean of the elements' fcc lattice constants."""
    return float(np.mean([reference_states[atomic_numbers[s]]["a"] for s in symbols]))


def decorate(cell: Atoms, symbols: Sequence[str]) -> Atoms:
    """``cell`` with its sites given ``symbols``, scaled to Vegard's lattice constant."""
    atoms = cell.copy()
    atoms.set_chemical_symbols(list(symbols))
    scale = lattice_constant(symbols) / 4.0  # the template cells are built with a = 4 A
    atoms.set_cell(atoms.cell * scale, scale_atoms=True)
    return atoms


def _neighbour_shells(cell: Atoms) -> list[tuple[np.ndarray, np.ndarray]]:
    """(i, j) of the nearest- and next-nearest-neighbour bonds of a template cell
    (a = 4 A), through every periodic image."""
    from ase.neighborlist import neighbor_list

    first, second, distances = neighbor_list("ijd", cell, 4.1)
    shells = []
    for shell in (4.0 / np.sqrt(2.0), 4.0):
        near = np.isclose(distances, shell, atol=1e-3)
        shells.append((first[near], second[near]))
    return shells


def _bond_signature(shells: list[tuple[np.ndarray, np.ndarray]], symbols: Sequence[str]) -> tuple:
    """Counts of bonds by species pair in each shell: equal for decorations related by
    the cell's symmetry, so it removes duplicates."""
    signature = []
    for first, second in shells:
        pairs = Counter(
            tuple(sorted((symbols[i], symbols[j]))) for i, j in zip(first, second, strict=False)
        )
        signature.append(tuple(sorted(pairs.items())))
    return tuple(signature)


def enumerate_alloys(metals: Sequence[str] = EMT_METALS) -> dict[str, Atoms]:
    """Every binary and ternary ordering of the 4-site cube and every binary of the
    8-site double cube that the cube cannot hold, up to symmetry, by an id such as
    ``"Cu3Au-4a"``. A double-cube decoration that repeats a cube ordering is the same
    crystal and is left out; its letter stays taken, so that ids do not depend on it.

    Returns:
        id -> unrelaxed Atoms, in a fixed order.
    """
    cube = bulk("Cu", "fcc", a=4.0, cubic=True)
    double = cube * (2, 1, 1)
    alloys: dict[str, Atoms] = {}
    orderings: Counter[str] = Counter()  # orderings named so far, by formula and cell size
    double_shells = _neighbour_shells(double)
    repeated: set[tuple] = set()  # the cube's orderings written in the double cube
    for cell, species_counts in ((cube, (2, 3)), (double, (2,))):
        seen: set[tuple] = set()
        shells = _neighbour_shells(cell)
        for count in species_counts:
            for metals_used in itertools.combinations(metals, count):
                for symbols in itertools.product(metals_used, repeat=len(cell)):
                    if len(set(symbols)) < count:
                        continue
                    signature = _bond_signature(shells, symbols)
                    if signature in seen:
                        continue
                    seen.add(signature)
                    atoms = decorate(cell, symbols)
                    prefix = f"{atoms.get_chemical_formula(empirical=True)}-{len(cell)}"
                    letter = "abcdefghijklmnopqrstuvwxyz"[orderings[prefix]]
                    orderings[prefix] += 1
                    if cell is cube:
                        repeated.add(_bond_signature(double_shells, symbols * 2))
                    elif signature in repeated:
                        continue
                    alloys[f"{prefix}{letter}"] = atoms
    return alloys


def mixing_energies(alloys: dict[str, Atoms], fmax: float = 0.01) -> pd.DataFrame:
    """The truth of every alloy: relaxed EMT mixing energy per atom (eV) and density
    (g/cm^3), by id."""
    from discovery.oracles.ase import AseOracle
    from discovery.space import Candidate

    oracle = AseOracle(
        "emt", alloys, property="formation_energy_per_atom", relax=True, relax_cell=True, fmax=fmax
    )
    rows = []
    for alloy_id in alloys:
        status = oracle.poll(oracle.submit(Candidate(alloy_id, {})))
        rows.append(
            {
                "candidate_id": alloy_id,
                "formula": alloys[alloy_id].get_chemical_formula(empirical=True),
                "mixing_energy": status.result.get("formation_energy_per_atom", np.nan),
                "density": status.result.get("density", np.nan),
                "state": status.state,
            }
        )
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", type=Path, required=True, help="CSV file for the truths")
    arguments = parser.parse_args()
    table = mixing_energies(enumerate_alloys()).drop(columns="state")
    arguments.write.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(arguments.write, index=False, float_format="%.8g")
    print(f"{len(table)} alloys, {int(table['mixing_energy'].isna().sum())} failed")


if __name__ == "__main__":
    main()
