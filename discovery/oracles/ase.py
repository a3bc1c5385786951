"""An oracle that computes each candidate's structure with any ASE calculator.

The same campaign runs EMT on a laptop and Quantum ESPRESSO, VASP or GPAW on a
cluster by changing the calculator's name and arguments. Each candidate is a
structure (ase Atoms, pymatgen Structure or Molecule); the oracle computes a
single point or relaxes it, and returns the asked property together with the
energy, the relaxed structure (extended XYZ) and how the relaxation went, all of
which the campaign stores with the measurement.

Failures are classified: a calculator that cannot run here is a configuration
error at construction; an SCF that does not converge, an optimiser that runs out
of steps or a geometry that explodes fail that candidate as "instrument"
failures with the calculator's message; a calculation past ``timeout`` fails as
"timeout". None of them stops the campaign.
"""

from __future__ import annotations

import io
import math
import time
from collections.abc import Callable, Mapping, MutableMapping
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

import numpy as np
from ase import Atoms
from ase.calculators.emt import EMT
from ase.calculators.emt import parameters as EMT_PARAMETERS

from discovery.exceptions import (
    CalculationTimeout,
    ConfigurationError,
    InstrumentError,
    PoolError,
)
from discovery.features import as_atoms
from discovery.oracles.calculators import CalculatorSpec, check_calculator
from discovery.oracles.function import FunctionOracle
from discovery.space import Candidate

#: Properties the oracle can return, by name.
PROPERTIES = (
    "energy",
    "energy_per_atom",
    "formation_energy_per_atom",
    "band_gap",
    "dipole_moment",
)
#: One atomic mass unit per cubic angstrom, in g/cm^3.
GRAMS_PER_CM3 = 1.66053907
#: Atoms closer than this (angstrom) after a calculation mean the geometry exploded.
EXPLODED_DISTANCE = 0.5
StructureSource = Mapping[str, Any] | Callable[[Candidate], Any]


@dataclass(frozen=True)
class Relaxation:
    """How to relax a structure before reading its properties.

    Attributes:
        fmax: converged when every force is below this (eV/A).
        steps: optimiser steps allowed before the relaxation counts as failed.
        cell: relax the cell too (through ASE's FrechetCellFilter).
        optimizer: the name of an optimiser in ``ase.optimize`` ("BFGS", "FIRE", ...).
    """

    fmax: float = 0.05
    steps: int = 200
    cell: bool = False
    optimizer: str = "BFGS"

    def __post_init__(self) -> None:
        import ase.optimize
        from ase.optimize.optimize import Optimizer

        if not self.fmax > 0:
            raise ConfigurationError(f"relaxation: fmax must be > 0 eV/A, got {self.fmax}")
        if isinstance(self.steps, bool) or not isinstance(self.steps, int) or self.steps < 1:
            raise ConfigurationError(f"relaxation: steps must be an integer >= 1, got {self.steps}")
        optimizer = getattr(ase.optimize, self.optimizer, None)
        if not (isinstance(optimizer, type) and issubclass(optimizer, Optimizer)):
            raise ConfigurationError(
                f"relaxation: unknown optimizer '{self.optimizer}'; "
                "use a class of ase.optimize such as 'BFGS', 'LBFGS' or 'FIRE'"
            )


class AseCalculation:
    """One calculation per call: ``calculation(candidate) -> dict of properties``.

    Plain data and a method, so process pools and Dask workers can run it.
    Elemental reference energies missing from ``references`` are computed (and
    kept for the life of this object) when a formation energy is asked for.
    """

    def __init__(
        self,
        spec: CalculatorSpec,
        structures: StructureSource,
        property: str,
        relaxation: Relaxation | None,
        references: Mapping[str, float] | None = None,
        timeout: float | None = None,
    ) -> None:
        self.spec = spec
        self.structures = structures
        self.property = property
        self.relaxation = relaxation
        self.references = dict(references or {})
        self.timeout = timeout

    def structure_of(self, candidate: Candidate) -> Atoms:
        """The candidate's structure as ASE Atoms."""
        if callable(self.structures):
            return as_atoms(self.structures(candidate))
        try:
            return as_atoms(self.structures[candidate.id])
        except KeyError:
            raise ConfigurationError(
                f"ase oracle: no structure for candidate '{candidate.id}'"
            ) from None

    def __call__(self, candidate: Candidate) -> dict[str, Any]:
        return self.compute(self.structure_of(candidate), self.relaxation)

    def compute(
        self, atoms: Atoms, relaxation: Relaxation | None, derived: bool = True
    ) -> dict[str, Any]:
        """Relax (if asked) and compute ``atoms``; the energies, the final structure and,
        if ``derived``, the asked property (formation energy, band gap)."""
        from ase.calculators.calculator import CalculationFailed

        atoms.calc = self.spec.build()
        started = time.monotonic()
        try:
            steps = 0 if relaxation is None else self._relax(atoms, relaxation, started)
            energy = float(atoms.get_potential_energy())
        except CalculationFailed as error:
            raise InstrumentError(f"{self.spec.name}: {error}") from error
        _check_geometry(atoms, energy)
        count = len(atoms)
        result: dict[str, Any] = {
            "energy": energy,
            "energy_per_atom": energy / count,
            "atoms": count,
            "formula": atoms.get_chemical_formula(),
            "steps": steps,
            "seconds": time.monotonic() - started,
        }
        if "forces" in atoms.calc.results:
            result["max_force"] = float(np.linalg.norm(atoms.get_forces(), axis=1).max())
        if atoms.pbc.all():  # a crystal: how much room, and how much mass, per volume
            volume = float(atoms.get_volume())
            result["volume_per_atom"] = volume / count
            result["density"] = float(atoms.get_masses().sum()) / volume * GRAMS_PER_CM3
        if derived and self.property == "formation_energy_per_atom":
            result.update(self._formation_energy(atoms, energy))
        if derived and self.property == "band_gap":
            from ase.dft.bandgap import bandgap

            result["band_gap"] = float(bandgap(atoms.calc, output=None)[0])
        if derived and self.property == "dipole_moment":
            from ase.units import Debye

            result["dipole_moment"] = float(np.linalg.norm(atoms.get_dipole_moment()) / Debye)
        result["structure"] = _extxyz(atoms)
        return result

    def _relax(self, atoms: Atoms, relaxation: Relaxation, started: float) -> int:
        import ase.optimize
        from ase.filters import FrechetCellFilter

        target = FrechetCellFilter(atoms) if relaxation.cell else atoms
        optimizer = getattr(ase.optimize, relaxation.optimizer)(target, logfile=None)
        converged = False
        # the last value irun yields says whether the relaxation converged
        for converged in optimizer.irun(fmax=relaxation.fmax, steps=relaxation.steps):  # noqa: B007
            if not math.isfinite(atoms.get_potential_energy()):
                raise InstrumentError(f"{self.spec.name}: energy is not finite during relaxation")
            if self.timeout is not None and time.monotonic() - started > self.timeout:
                raise CalculationTimeout(
                    f"{self.spec.name}: relaxation stopped after {self.timeout} s "
                    f"({optimizer.nsteps} steps)"
                )
        if not converged:
            # the optimiser tests the filter's forces, whose last rows are the cell's stress
            forces = np.linalg.norm(target.get_forces(), axis=1)
            largest = f"largest force {forces[: len(atoms)].max():.3g} eV/A"
            if relaxation.cell:
                cell = forces[len(atoms) :].max()
                largest += f" on the atoms and {cell:.3g} eV/atom on the cell from its stress"
            raise InstrumentError(
                f"{self.spec.name}: relaxation did not converge in {relaxation.steps} steps "
                f"({largest}, fmax {relaxation.fmax})"
            )
        return int(optimizer.nsteps)

    def reference_energy(self, symbol: str) -> float:
        """Energy per atom of an element's ground-state crystal (ASE's reference state),
        with its cell relaxed; computed once per element."""
        if symbol not in self.references:
            from ase.build import bulk

            try:
                crystal = bulk(symbol)
            except (ValueError, KeyError, RuntimeError) as error:
                raise ConfigurationError(
                    f"ase oracle: no crystal reference state for {symbol} ({error}); "
                    f"pass references={{'{symbol}': energy_per_atom}}"
                ) from None
            settings = self.relaxation or Relaxation()
            relaxation = Relaxation(settings.fmax, max(settings.steps, 200), True, "BFGS")
            self.references[symbol] = self.compute(crystal, relaxation, derived=False)[
                "energy_per_atom"
            ]
        return self.references[symbol]

    def _formation_energy(self, atoms: Atoms, energy: float) -> dict[str, Any]:
        symbols = atoms.get_chemical_symbols()
        used = {s: self.reference_energy(s) for s in sorted(set(symbols))}
        reference = sum(used[s] for s in symbols)
        return {
            "formation_energy_per_atom": (energy - reference) / len(atoms),
            "reference_energies": used,
        }


def _check_geometry(atoms: Atoms, energy: float) -> None:
    if not math.isfinite(energy):
        raise InstrumentError(f"energy is not finite ({energy})")
    if len(atoms) < 2:
        return
    distances = atoms.get_all_distances(mic=bool(atoms.pbc.any()))
    np.fill_diagonal(distances, np.inf)
    closest = float(distances.min())
    if closest < EXPLODED_DISTANCE:
        first, second = np.unravel_index(int(np.argmin(distances)), distances.shape)
        raise InstrumentError(
            f"geometry exploded: atoms {first} and {second} are {closest:.3f} A apart"
        )


def _extxyz(atoms: Atoms) -> str:
    from ase.calculators.singlepoint import SinglePointCalculator
    from ase.io import write

    frozen = atoms.copy()
    frozen.calc = SinglePointCalculator(frozen, **_plain_results(atoms.calc.results))
    text = io.StringIO()
    write(text, frozen, format="extxyz")
    return text.getvalue()


def _plain_results(results: dict[str, Any]) -> dict[str, Any]:
    wanted = ("energy", "free_energy", "forces", "stress")
    return {k: v for k, v in results.items() if k in wanted}


class AseOracle(FunctionOracle):
    """Runs an ASE calculator on each candidate's structure.

    Args:
        calculator: an ASE calculator name ("emt", "lj", "espresso", "vasp",
            "gpaw", ...), "tblite" (GFN2-xTB), or ``"package.module:Class"``.
        structures: candidate id -> ase Atoms / pymatgen Structure or Molecule,
            or a function ``structure(candidate)``.
        parameters: keyword arguments of the calculator.
        property: what the campaign optimises: "energy", "energy_per_atom",
            "formation_energy_per_atom" (against each element's relaxed
            ground-state crystal), "band_gap" (eV) or "dipole_moment" (Debye).
            Every result also carries the energies, the final structure and, for a
            crystal, its ``volume_per_atom`` (cubic angstrom) and ``density``
            (g/cm^3), which a campaign with several objectives can use.
        relax: relax the structure first.
        fmax, steps, relax_cell, optimizer: the relaxation, see :class:`Relaxation`.
        references: elemental reference energies per atom (eV) to use instead of
            computing them.
        timeout: seconds a relaxation may run before it fails as a timeout.
        executor: where the calculations run (see ``discovery.executors``); None
            runs each at submission.

    Raises:
        ConfigurationError: unknown calculator or property, a calculator that cannot
            compute the property or cannot run here (missing executable,
            pseudopotentials, licence), a keyword argument a calculator built in
            Python (EMT, Lennard-Jones, ...) does not take, or a structure that is not one.
    """

    def __init__(
        self,
        calculator: str,
        structures: StructureSource,
        *,
        parameters: Mapping[str, Any] | None = None,
        property: str = "energy_per_atom",
        relax: bool = False,
        fmax: float = 0.05,
        steps: int = 200,
        relax_cell: bool = False,
        optimizer: str = "BFGS",
        references: Mapping[str, float] | None = None,
        timeout: float | None = None,
        executor: Executor | None = None,
    ) -> None:
        spec = CalculatorSpec(calculator, dict(parameters or {}))
        if property not in PROPERTIES:
            raise ConfigurationError(
                f"ase oracle: unknown property '{property}'; one of {list(PROPERTIES)}"
            )
        check_calculator(spec)
        _check_capabilities(spec, property, relax, relax_cell)
        if timeout is not None and not timeout > 0:
            raise ConfigurationError(f"ase oracle: timeout must be > 0 seconds, got {timeout}")
        relaxation = Relaxation(fmax, steps, relax_cell, optimizer) if relax else None
        structures = _checked_structures(structures)
        if not callable(structures):
            _check_structures_computable(spec, structures, relax and relax_cell)
        calculation = AseCalculation(spec, structures, property, relaxation, references, timeout)
        super().__init__(calculation, output=property, executor=executor)
        self.calculation = calculation
        self.name = f"ase:{calculator}"
        self._prepared = False

    @property
    def known_ids(self) -> set[str] | None:
        """The candidate ids that have a structure, when the structures are a mapping
        (None for a function): a campaign refuses a pool candidate without one before
        any experiment, instead of spending one on it."""
        structures = self.calculation.structures
        return None if callable(structures) else set(structures)

    @property
    def elements(self) -> list[str]:
        """The elements of every structure, when the structures are known up front."""
        structures = self.calculation.structures
        if callable(structures):
            return []
        symbols = set()
        for atoms in structures.values():  # already Atoms: converted at construction
            symbols.update(atoms.get_chemical_symbols())
        return sorted(symbols)

    def prepare(self, cache: MutableMapping[str, Any]) -> None:
        """Compute what every job needs once, before the first, keeping it in ``cache``
        (the campaign's store): the elemental references of a formation energy."""
        calculation = self.calculation
        self._prepared = True
        if calculation.property != "formation_energy_per_atom":
            return
        key = f"references:{calculation.spec.name}:{sorted(calculation.spec.parameters.items())}"
        known = dict(cache.get(key, {}))
        calculation.references = {**known, **calculation.references}
        for symbol in self.elements:
            calculation.reference_energy(symbol)
        if calculation.references != known:
            cache[key] = calculation.references

    def submit(self, candidate: Candidate) -> dict[str, Any]:
        """Start the candidate's calculation (references first, once, if not prepared)."""
        if not self._prepared:
            self.prepare({})
        return super().submit(candidate)


def _check_capabilities(spec: CalculatorSpec, property: str, relax: bool, cell: bool) -> None:
    cls = spec.calculator_class()
    implemented = getattr(cls, "implemented_properties", None)
    if isinstance(implemented, (list, tuple)):
        needed = ["energy"] + (["forces"] if relax else []) + (["stress"] if cell else [])
        needed += ["dipole"] if property == "dipole_moment" else []
        missing = [p for p in needed if p not in implemented]
        if missing:
            raise ConfigurationError(
                f"ase oracle: calculator '{spec.name}' does not compute {missing} "
                f"(it offers {list(implemented)})"
            )
    if property == "band_gap" and not (
        hasattr(cls, "get_eigenvalues") and hasattr(cls, "get_fermi_level")
    ):
        raise ConfigurationError(
            f"ase oracle: calculator '{spec.name}' cannot compute 'band_gap' "
            "(it reports no eigenvalues and Fermi level)"
        )


def _check_structures_computable(
    spec: CalculatorSpec, structures: Mapping[str, Atoms], relax_cell: bool
) -> None:
    """Refuse, before any job, structures every calculation of which would fail: one
    without atoms, a cell relaxation of one without a periodic cell (a molecule), and
    elements EMT has no potential for."""
    empty = [key for key, atoms in structures.items() if len(atoms) == 0]
    if empty:
        raise ConfigurationError(f"ase oracle: structures {empty[:5]} have no atoms")
    if relax_cell:
        cell_less = [
            key
            for key, atoms in structures.items()
            if not atoms.pbc.all() or abs(atoms.cell.volume) < 1e-12
        ]
        if cell_less:
            raise ConfigurationError(
                f"ase oracle: relax_cell needs a periodic cell, and structures "
                f"{cell_less[:5]} have none (a molecule); relax their atoms only"
            )
    if spec.calculator_class() is EMT:
        covered = set(EMT_PARAMETERS)
        lacking = {
            key: sorted(set(atoms.get_chemical_symbols()) - covered)
            for key, atoms in structures.items()
            if not set(atoms.get_chemical_symbols()) <= covered
        }
        if lacking:
            elements = sorted({e for missing in lacking.values() for e in missing})
            raise ConfigurationError(
                f"ase oracle: EMT has no potential for {elements} (structures "
                f"{list(lacking)[:5]}); it covers {sorted(covered)}"
            )


def _checked_structures(structures: StructureSource) -> StructureSource:
    if callable(structures):
        return structures
    if not isinstance(structures, Mapping) or not structures:
        raise ConfigurationError(
            "ase oracle: structures must be a non-empty mapping of candidate id -> structure, "
            "or a function of the candidate"
        )
    try:
        return {str(k): as_atoms(v) for k, v in structures.items()}
    except PoolError as error:
        raise ConfigurationError(f"ase oracle: {error}") from None
