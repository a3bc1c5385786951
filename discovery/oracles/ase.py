"""An oracle that computes each candidate's structure with any ASE calculator.

The same campaign runs EMT on a laptop and Quantum ESPRESSO, VASP or GPAW on a
cluster by changing the calculator's name and arguments. Each candidate is a
structure (ase Atoms, pymatgen Structure or Molecule); the oracle computes a
single point or relaxes it, and returns the asked property together with the
energy, the relaxed structure (extended XYZ) and how the relaxation went, all of
which the campaign stores with the measurement.

Failures are classified: a calculator that cannot run here is a configuration
error at construction; an SCF that does not converge (or any other error the
calculator raises, such as its program exiting with an error, quoted with the end
of its output), an optimiser that runs out of steps, non-finite energies, forces
or stress, or a geometry that explodes fail that candidate as "instrument"
failures with the calculator's message; a calculation past ``timeout`` fails as
"timeout". None of them stops the campaign.
"""

from __future__ import annotations

import io
import subprocess
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
    DiscoveryError,
    InstrumentError,
    PoolError,
)
from discovery.features import as_atoms
from discovery.oracles.calculators import CalculatorSpec, check_calculator, failure_output
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
#: What a calculator raises when its calculation fails: ASE's CalculationFailed (a
#: RuntimeError), a plain RuntimeError (Elk, Turbomole, users' own), and the error of a
#: program run through subprocess.check_call (GenericFileIOCalculator: Espresso, ...).
CALCULATION_FAILURES = (RuntimeError, subprocess.CalledProcessError)
#: Scalings of a relaxed reference crystal's lattice whose energies tell a minimum from
#: the flat tail of a potential, where forces and stress vanish and a relaxation stops at
#: once (Lennard-Jones with sigma = 1 from ASE's argon crystal, 5.26 sigma apart). The
#: near ones first: at a minimum they suffice.
NEAR_SCALINGS = (0.9, 1.1)
FAR_SCALINGS = (0.8, 0.7, 0.6)
#: Energy per atom (eV) by which a scaled reference crystal must differ from the relaxed
#: one to count as lower or higher; a real crystal strained by 10 % rises by tens of meV.
REFERENCE_TOLERANCE = 1e-3
#: Relax-and-scan rounds before a reference crystal that is still no minimum is refused.
REFERENCE_ROUNDS = 8
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
        """The candidate's structure as ASE Atoms.

        Raises:
            ConfigurationError: no structure for the candidate, or (PoolError) one that is
                not a structure ASE can hold, naming the candidate.
        """
        where = _where(candidate.id)
        if callable(self.structures):
            return as_atoms(self.structures(candidate), where)
        try:
            return as_atoms(self.structures[candidate.id], where)
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
        if ``derived``, the asked property (formation energy, band gap).

        Raises:
            InstrumentError: the calculator failed (its message, and the end of its
                program's output when that exited with an error), the relaxation did not
                converge, or the energy, forces or stress are not finite, or the geometry
                exploded.
            CalculationTimeout: the relaxation ran past the timeout.
        """
        atoms.calc = self.spec.build()
        started = time.monotonic()
        try:
            steps = 0 if relaxation is None else self._relax(atoms, relaxation, started)
            energy = float(atoms.get_potential_energy())
        except (DiscoveryError, NotImplementedError):
            # classified already (a timeout, a non-finite force), or a property the
            # calculator does not offer (ASE's PropertyNotImplementedError): no failure of it
            raise
        except CALCULATION_FAILURES as error:
            message = f"{self.spec.name}: {error}{failure_output(atoms.calc, error)}"
            raise InstrumentError(message) from error
        _check_finite(atoms, relaxation is not None and relaxation.cell)
        _check_geometry(atoms)
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
            # before the optimiser steps on them: BFGS fails on NaN forces as a LinAlgError
            where = f" at step {optimizer.nsteps} of the relaxation"
            _check_finite(atoms, relaxation.cell, f"{self.spec.name}: ", where)
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
        relaxed, cell included, to its minimum; computed once per element.

        Raises:
            ConfigurationError: ASE has no crystal for the element, or its crystal reaches
                no minimum with this calculator.
            InstrumentError: a relaxation of the crystal failed.
        """
        if symbol not in self.references:
            self.references[symbol] = self._minimum_energy(symbol, _reference_crystal(symbol))
        return self.references[symbol]

    def _minimum_energy(self, symbol: str, crystal: Atoms) -> float:
        """Relax the crystal, then make sure with copies of it scaled (single points)
        that it reached a minimum, not a flat tail of the potential that the relaxation
        could not leave; when a copy lies lower, relax again from the lowest.

        ASE's crystals have the real element's lattice: a calculator in other units
        (Lennard-Jones or Morse with sigma or r0 = 1) puts them far out on that tail.

        Raises:
            ConfigurationError: no minimum in :data:`REFERENCE_ROUNDS` rounds.
        """
        settings = self.relaxation or Relaxation()
        relaxation = Relaxation(settings.fmax, max(settings.steps, 200), True, "BFGS")
        for _ in range(REFERENCE_ROUNDS):
            energy = self.compute(crystal, relaxation, derived=False)["energy_per_atom"]
            scan = self._scaled_energies(crystal, NEAR_SCALINGS)
            if _is_minimum(energy, scan):
                return energy
            scan |= self._scaled_energies(crystal, FAR_SCALINGS)
            if not scan:  # every scaled copy failed: the relaxation's word is all there is
                return energy
            if _is_minimum(energy, scan):
                return energy
            crystal = _scaled(crystal, min(scan, key=scan.__getitem__))
        raise ConfigurationError(
            f"ase oracle: the reference crystal of {symbol} (ASE's bulk('{symbol}')) did not "
            f"relax to a minimum with calculator '{self.spec.name}' in {REFERENCE_ROUNDS} "
            f"rounds: its energy ({energy:.6g} eV/atom) still falls, or does not change, "
            f"when its lattice is scaled by {sorted(scan)}; "
            f"pass references={{'{symbol}': energy_per_atom}}"
        )

    def _scaled_energies(self, crystal: Atoms, scalings: tuple[float, ...]) -> dict[float, float]:
        """Energy per atom of the crystal with its lattice scaled by each factor."""
        energies = {}
        for factor in scalings:
            try:
                result = self.compute(_scaled(crystal, factor), None, derived=False)
            except InstrumentError:
                # an SCF that does not converge so strained, or atoms pushed too close:
                # no sign of a lower energy there, and no reason to lose the reference
                continue
            energies[factor] = result["energy_per_atom"]
        return energies

    def _formation_energy(self, atoms: Atoms, energy: float) -> dict[str, Any]:
        symbols = atoms.get_chemical_symbols()
        used = {s: self.reference_energy(s) for s in sorted(set(symbols))}
        reference = sum(used[s] for s in symbols)
        return {
            "formation_energy_per_atom": (energy - reference) / len(atoms),
            "reference_energies": used,
        }


def _reference_crystal(symbol: str) -> Atoms:
    """ASE's crystal of the element, at the real element's lattice constant.

    Raises:
        ConfigurationError: ASE has none (H, N, O: molecules), naming the element.
    """
    from ase.build import bulk

    try:
        return bulk(symbol)
    except (ValueError, KeyError, RuntimeError) as error:
        raise ConfigurationError(
            f"ase oracle: no crystal reference state for {symbol} ({error}); "
            f"pass references={{'{symbol}': energy_per_atom}}"
        ) from None


def _scaled(crystal: Atoms, factor: float) -> Atoms:
    """A copy of the crystal, without its calculator, with its lattice scaled by ``factor``."""
    scaled = crystal.copy()
    scaled.set_cell(crystal.cell[:] * factor, scale_atoms=True)
    return scaled


def _is_minimum(energy: float, scan: Mapping[float, float]) -> bool:
    """No scaled crystal lies lower than ``energy``, and some lie higher (on a flat tail
    none do)."""
    energies = list(scan.values())
    return all(e > energy - REFERENCE_TOLERANCE for e in energies) and any(
        e > energy + REFERENCE_TOLERANCE for e in energies
    )


def _check_finite(atoms: Atoms, relaxing_cell: bool, prefix: str = "", where: str = "") -> None:
    """Refuse a calculation whose energy, forces or (relaxing the cell) stress are not
    finite: a NaN force would be reported as the largest force, and an optimiser would
    step on it.

    Raises:
        InstrumentError: naming the first such quantity, after ``prefix`` and before ``where``.
    """
    results = atoms.calc.results
    quantities = ("energy", "forces", "stress") if relaxing_cell else ("energy", "forces")
    for quantity in quantities:
        if quantity not in results:
            continue
        values = np.asarray(results[quantity], dtype=float)
        count = int(np.count_nonzero(~np.isfinite(values)))
        if count:
            shown = str(float(values)) if values.ndim == 0 else f"{count} of {values.size} values"
            raise InstrumentError(f"{prefix}{quantity} not finite{where} ({shown})")


def _check_geometry(atoms: Atoms) -> None:
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
        return {str(key): as_atoms(value, _where(key)) for key, value in structures.items()}
    except PoolError as error:
        raise ConfigurationError(str(error)) from None


def _where(candidate_id: Any) -> str:
    """How an error about a candidate's structure names it."""
    return f"ase oracle: candidate '{candidate_id}': "
