import io
import json
import os
import re
import stat
import subprocess
import sys
from typing import ClassVar

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk, molecule
from ase.calculators.calculator import Calculator, all_changes
from ase.calculators.emt import EMT
from ase.calculators.lj import LennardJones
from ase.eos import EquationOfState
from ase.io import read
from pymatgen.core import Lattice, Structure

from discovery import Campaign
from discovery.exceptions import ConfigurationError
from discovery.features import pool_from_structures
from discovery.oracles.ase import AseOracle
from discovery.space import Candidate
from discovery.store import CampaignStore
from discovery.store_cache import OracleCache
from tests.oracles.conformance import check_oracle, wait_for


def measure(oracle, structure_id="x", **parameters):
    status = wait_for(oracle, oracle.submit(Candidate(structure_id, parameters)))
    return status


def test_ase_oracle_conformance():
    check_oracle(AseOracle("emt", {"cu": bulk("Cu")}), Candidate("cu", {}), "energy_per_atom")


def test_emt_copper_relaxes_to_the_lattice_constant_and_energy_of_ases_equation_of_state():
    volumes, energies = [], []
    for a in np.linspace(3.5, 3.7, 9):
        crystal = bulk("Cu", "fcc", a=a)
        crystal.calc = EMT()
        volumes.append(crystal.get_volume())
        energies.append(crystal.get_potential_energy())
    volume, energy, _ = EquationOfState(volumes, energies).fit()
    lattice = (4 * volume) ** (1 / 3)  # the primitive fcc cell holds a quarter of the cube

    oracle = AseOracle(
        "emt", {"cu": bulk("Cu", "fcc", a=3.8)}, relax=True, relax_cell=True, fmax=1e-3
    )
    status = measure(oracle, "cu")
    assert status.state == "succeeded", status.error
    relaxed = read_structure(status)
    assert (4 * relaxed.get_volume()) ** (1 / 3) == pytest.approx(lattice, abs=2e-3)
    assert status.result["energy_per_atom"] == pytest.approx(energy, abs=1e-4)


def read_structure(status) -> Atoms:
    from io import StringIO

    return read(StringIO(status.result["structure"]), format="extxyz")


def test_lennard_jones_dimer_relaxes_to_two_to_the_sixth_sigma_with_energy_minus_epsilon():
    dimer = Atoms("Ar2", positions=[[0, 0, 0], [0, 0, 1.3]])
    oracle = AseOracle(
        "lj",
        {"dimer": dimer},
        parameters={"sigma": 1.0, "epsilon": 1.0, "rc": 100.0},
        property="energy",
        relax=True,
        fmax=1e-5,
    )
    status = measure(oracle, "dimer")
    assert status.state == "succeeded", status.error
    assert read_structure(status).get_distance(0, 1) == pytest.approx(2 ** (1 / 6), abs=1e-4)
    assert status.result["energy"] == pytest.approx(-1.0, abs=1e-4)


def test_tblite_gfn2_water_has_a_finite_energy_and_the_known_oh_bond():
    pytest.importorskip("tblite")
    oracle = AseOracle(
        "tblite",
        {"water": molecule("H2O")},
        parameters={"method": "GFN2-xTB", "verbosity": 0},
        property="energy",
        relax=True,
        fmax=0.01,
    )
    status = measure(oracle, "water")
    assert status.state == "succeeded", status.error
    assert np.isfinite(status.result["energy"])
    assert read_structure(status).get_distance(0, 1) == pytest.approx(0.96, abs=0.03)


def test_formation_energy_is_against_the_relaxed_elements():
    alloy = bulk("Cu", "fcc", a=3.8, cubic=True)
    alloy.symbols[[0, 1]] = "Au"
    oracle = AseOracle(
        "emt",
        {"cu": bulk("Cu", cubic=True), "cuau": alloy},
        property="formation_energy_per_atom",
        relax=True,
        relax_cell=True,
        fmax=1e-3,
    )
    pure, mixed = measure(oracle, "cu"), measure(oracle, "cuau")
    assert pure.result["formation_energy_per_atom"] == pytest.approx(0.0, abs=1e-4)
    assert mixed.result["formation_energy_per_atom"] < -0.005  # EMT mixes Cu and Au
    assert set(mixed.result["reference_energies"]) == {"Au", "Cu"}


def test_reference_energies_are_kept_in_the_store_and_read_back(tmp_path):
    structures = {"cu": bulk("Cu"), "au": bulk("Au")}
    oracle = AseOracle("emt", structures, property="formation_energy_per_atom", relax=True)
    store = CampaignStore(tmp_path / "s.sqlite")
    cache = OracleCache(store)
    oracle.prepare(cache)
    (key,) = list(cache)
    assert set(cache[key]) == {"Au", "Cu"}
    cache[key] = {"Au": 0.0, "Cu": 1.0}  # as if a resumed run found these
    again = AseOracle("emt", structures, property="formation_energy_per_atom", relax=True)
    again.prepare(cache)
    store.close()
    status = measure(again, "cu")
    assert status.result["formation_energy_per_atom"] == pytest.approx(
        status.result["energy_per_atom"] - 1.0
    )


def failure(oracle, structure_id="x"):
    status = measure(oracle, structure_id)
    assert status.state == "failed"
    return status.error_class, status.error


def test_a_relaxation_out_of_steps_fails_as_an_instrument_failure():
    rattled = bulk("Cu", cubic=True) * (2, 1, 1)
    rattled.rattle(0.2, seed=1)
    error_class, error = failure(AseOracle("emt", {"x": rattled}, relax=True, steps=2, fmax=1e-4))
    assert error_class == "instrument" and "did not converge in 2 steps" in error


def test_a_cell_relaxation_out_of_steps_quotes_the_force_that_is_above_fmax():
    compressed = bulk("Cu", a=3.3) * (2, 1, 1)  # no force on the atoms, only on the cell
    oracle = AseOracle("emt", {"x": compressed}, relax=True, relax_cell=True, steps=1)
    error_class, error = failure(oracle)
    assert error_class == "instrument" and "did not converge in 1 steps" in error
    assert "on the cell" in error
    assert max(float(f) for f in re.findall(r"(\S+) eV(?:/A|/atom)", error)) > 0.05


def test_an_exploded_geometry_fails_as_an_instrument_failure():
    crushed = Atoms("Cu2", positions=[[0, 0, 0], [0, 0, 0.1]])
    error_class, error = failure(AseOracle("emt", {"x": crushed}))
    assert error_class == "instrument" and "geometry exploded" in error


def test_a_relaxation_past_its_time_limit_fails_as_a_timeout():
    rattled = bulk("Cu", cubic=True) * (3, 3, 3)
    rattled.rattle(0.1, seed=2)
    oracle = AseOracle("emt", {"x": rattled}, relax=True, fmax=1e-6, steps=10_000, timeout=1e-3)
    error_class, error = failure(oracle)
    assert error_class == "timeout" and "stopped after" in error


def test_a_campaign_over_structures_stores_the_relaxed_structure(tmp_path):
    structures = {f"cu{a:.2f}": bulk("Cu", "fcc", a=a) for a in np.linspace(3.4, 3.8, 8)}
    campaign = Campaign(
        pool_from_structures(structures),
        AseOracle("emt", structures, relax=True),
        objective="energy_per_atom",
        maximize=False,
        surrogate="forest",
        n_initial=2,
        budget=3,
        store=tmp_path / "s.sqlite",
    )
    result = campaign.run(progress=False)
    assert result.summary()["succeeded"] == 3
    store = CampaignStore(tmp_path / "s.sqlite", read_only=True)
    results = store.history("energy_per_atom")["result_json"].map(json.loads)
    store.close()
    for result in results:
        relaxed = read(io.StringIO(result["structure"]), format="extxyz")
        assert relaxed.get_chemical_formula() == "Cu"
        assert relaxed.get_potential_energy() == pytest.approx(result["energy"])


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"calculator": "no-such-code"}, "unknown name 'no-such-code'"),
        ({"calculator": "emt", "property": "band_gap"}, "cannot compute 'band_gap'"),
        ({"calculator": "emt", "property": "enthalpy"}, "unknown property 'enthalpy'"),
        ({"calculator": "emt", "relax": True, "optimizer": "Newton"}, "unknown optimizer 'Newton'"),
        (
            {"calculator": "emt", "relax": True, "optimizer": "RestartError"},
            "unknown optimizer 'RestartError'",
        ),
        (
            {"calculator": "lj", "parameters": {"sigmaa": 3.4, "epsilon": 0.0104}},
            r"unknown parameters \['sigmaa'\]; "
            r"LennardJones takes \['epsilon', 'rc', 'ro', 'sigma', 'smooth'\]",
        ),
        (
            {"calculator": "morse", "parameters": {"epsilon": 1.0, "bogus": 1}},
            r"unknown parameters \['bogus'\]",
        ),
        (
            {"calculator": "ase.calculators.tip3p:TIP3P", "parameters": {"cutoff": 7.0}},
            "unexpected keyword argument 'cutoff'",
        ),
        ({"calculator": "no.such.module:Calc"}, "cannot import"),
        (
            {"calculator": "espresso", "parameters": {"command": "pw.x", "pseudo_dir": "."}},
            "executable 'pw.x' not found on PATH",
        ),
        (
            {
                "calculator": "espresso",
                "parameters": {"command": "mpirun -np 4 pw.x", "pseudo_dir": "."},
            },
            "executable 'pw.x' not found on PATH",
        ),
    ],
)
def test_bad_configuration_fails_at_construction_with_one_line(options, message):
    with pytest.raises(ConfigurationError, match=message) as caught:
        AseOracle(structures={"cu": bulk("Cu")}, **options)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("structures", "options", "message"),
    [
        ({"cu": bulk("Cu"), "none": Atoms()}, {}, r"structures \['none'\] have no atoms"),
        (
            {"cu": bulk("Cu"), "fe": bulk("Fe")},
            {},
            r"EMT has no potential for \['Fe'\] \(structures \['fe'\]\)",
        ),
        (
            {"water": molecule("H2O")},
            {"relax": True, "relax_cell": True},
            r"relax_cell needs a periodic cell, and structures \['water'\] have none",
        ),
    ],
)
def test_structures_no_calculation_could_use_are_refused_at_construction(
    structures, options, message
):
    """Each failed every one of its jobs (ZeroDivisionError, NotImplementedError) after
    the campaign had started, spending the budget on them."""
    with pytest.raises(ConfigurationError, match=message):
        AseOracle("emt", structures, **options)


def fake_program(folder, name):
    path = folder / name
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


def espresso_on_path(folder, monkeypatch):
    """Espresso's settings for copper with a pw.x in ``folder`` (put first on PATH) and a
    pseudopotential file there."""
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")
    (folder / "Cu.pbe.UPF").write_text("pseudopotential")
    return {"command": "pw.x", "pseudo_dir": str(folder), "pseudopotentials": {"Cu": "Cu.pbe.UPF"}}


def test_espresso_is_built_from_configuration_when_its_executable_and_pseudopotentials_exist(
    tmp_path, monkeypatch
):
    fake_program(tmp_path, "pw.x")
    parameters = {
        **espresso_on_path(tmp_path, monkeypatch),
        "kpts": (4, 4, 4),
        "input_data": {"system": {"ecutwfc": 40}},
    }
    oracle = AseOracle("espresso", {"cu": bulk("Cu")}, parameters=parameters)
    calculator = oracle.calculation.spec.build()
    assert calculator.profile.command == "pw.x" and calculator.profile.pseudo_dir == str(tmp_path)
    assert calculator.parameters["kpts"] == (4, 4, 4)
    missing = dict(parameters, pseudopotentials={"Cu": "Cu.missing.UPF"})
    with pytest.raises(ConfigurationError, match=r"pseudopotential 'Cu\.missing\.UPF' for Cu"):
        AseOracle("espresso", {"cu": bulk("Cu")}, parameters=missing)


def test_vasp_needs_its_command_and_licensed_potentials(tmp_path, monkeypatch):
    for variable in ("ASE_VASP_COMMAND", "VASP_COMMAND", "VASP_SCRIPT", "VASP_PP_PATH"):
        monkeypatch.delenv(variable, raising=False)
    with pytest.raises(ConfigurationError, match="no command to run VASP"):
        AseOracle("vasp", {"cu": bulk("Cu")})
    monkeypatch.setenv("ASE_VASP_COMMAND", "mpirun vasp_std")
    with pytest.raises(ConfigurationError, match="executable 'vasp_std' not found"):
        AseOracle("vasp", {"cu": bulk("Cu")})
    fake_program(tmp_path, "vasp_std")
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    with pytest.raises(ConfigurationError, match="VASP_PP_PATH"):
        AseOracle("vasp", {"cu": bulk("Cu")})
    monkeypatch.setenv("VASP_PP_PATH", str(tmp_path))
    oracle = AseOracle("vasp", {"cu": bulk("Cu")}, parameters={"xc": "PBE", "encut": 400})
    assert oracle.calculation.spec.build().float_params["encut"] == 400


def test_calculations_run_in_a_process_pool():
    from discovery.executors import resolve_executor

    structures = {"cu": bulk("Cu"), "ag": bulk("Ag")}
    executor = resolve_executor("process", workers=2)
    try:
        oracle = AseOracle("emt", structures, relax=True, relax_cell=True, executor=executor)
        statuses = [
            wait_for(oracle, oracle.submit(Candidate(k, {})), timeout=60) for k in structures
        ]
    finally:
        executor.shutdown()
    assert [s.state for s in statuses] == ["succeeded", "succeeded"]
    assert statuses[0].result["formula"] == "Cu"


def test_a_missing_elemental_reference_stops_the_campaign_before_any_experiment(tmp_path):
    water = {"water": molecule("H2O"), "peroxide": molecule("H2O2")}
    oracle = AseOracle("emt", water, property="formation_energy_per_atom")
    campaign = Campaign(
        pool_from_structures(water),
        oracle,
        "formation_energy_per_atom",
        surrogate="forest",
        n_initial=1,
        budget=2,
        store=tmp_path / "s.sqlite",
    )
    with pytest.raises(ConfigurationError, match=r"no crystal reference state for H .*references="):
        campaign.run(progress=False)
    store = CampaignStore(tmp_path / "s.sqlite", read_only=True)
    assert store.jobs() == []
    store.close()


def test_a_pool_candidate_without_a_structure_is_refused_before_any_experiment():
    """Before: the campaign started and spent an experiment on 'cu-3.60' as a
    configuration failure ('no structure for candidate')."""
    structures = {f"cu-{a:.2f}": bulk("Cu", "fcc", a=a) for a in (3.4, 3.5, 3.6, 3.7)}
    oracle = AseOracle("emt", {key: structures[key] for key in ("cu-3.40", "cu-3.50")})
    with pytest.raises(ConfigurationError, match=r"no value for 2 pool candidates.*cu-3\.60"):
        Campaign(pool_from_structures(structures), oracle, "energy_per_atom", maximize=False,
                 surrogate="forest", n_initial=2, budget=4)  # fmt: skip
    assert oracle.known_ids == {"cu-3.40", "cu-3.50"}
    built = AseOracle("emt", lambda candidate: bulk("Cu", "fcc", a=3.6))
    assert built.known_ids is None  # a function may build any candidate's structure


def lennard_jones_fcc_minimum(parameters):
    """Energy per atom and lattice constant of the fcc Lennard-Jones crystal's minimum."""
    from scipy.optimize import minimize_scalar

    def energy_per_atom(a):
        crystal = bulk("Ar", "fcc", a=a)
        crystal.calc = LennardJones(**parameters)
        return crystal.get_potential_energy() / len(crystal)

    found = minimize_scalar(
        energy_per_atom, bounds=(1.4, 1.7), method="bounded", options={"xatol": 1e-5}
    )
    return found.fun, found.x


def test_a_reference_crystal_far_out_on_a_potentials_flat_tail_is_relaxed_to_its_minimum():
    """Before: ASE's argon crystal (a = 5.26, in units of sigma = 1 here) 'relaxed' at once
    on the tail of the potential (forces and stress ~0), so the reference was -0.01 eV
    instead of -8.5 eV/atom and every formation energy was shifted by 8.5 eV."""
    parameters = {"sigma": 1.0, "epsilon": 1.0, "rc": 5.0}
    minimum, lattice = lennard_jones_fcc_minimum(parameters)
    crystal = {"ar": bulk("Ar", "fcc", a=lattice)}
    oracle = AseOracle("lj", crystal, parameters=parameters, property="formation_energy_per_atom")
    status = measure(oracle, "ar")
    assert status.state == "succeeded", status.error
    assert status.result["reference_energies"]["Ar"] == pytest.approx(minimum, abs=1e-3)
    assert status.result["formation_energy_per_atom"] == pytest.approx(0.0, abs=1e-3)


class FlatCalculator(Calculator):
    """The same energy, and no force or stress, whatever the structure: no minimum."""

    implemented_properties = ("energy", "forces", "stress")

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        self.results = {
            "energy": -1.0 * len(self.atoms),
            "forces": np.zeros((len(self.atoms), 3)),
            "stress": np.zeros(6),
        }


def test_a_reference_crystal_without_a_minimum_is_refused_naming_the_element():
    oracle = AseOracle(
        "tests.oracles.test_ase:FlatCalculator",
        {"cu": bulk("Cu")},
        property="formation_energy_per_atom",
    )
    with pytest.raises(
        ConfigurationError, match=r"crystal of Cu .* did not relax to a minimum .*references="
    ):
        oracle.prepare({})


class FailingCalculator(Calculator):
    """Fails as ASE's Elk or Turbomole do: a plain RuntimeError."""

    implemented_properties = ("energy", "forces", "stress")

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        raise RuntimeError("SCF did not converge after 100 iterations")


class CapturingProgramCalculator(FailingCalculator):
    """Runs a program that fails, capturing what it says."""

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        Calculator.calculate(self, atoms, properties, system_changes)
        say = "print('reading input'); print('convergence NOT achieved'); raise SystemExit(3)"
        subprocess.run([sys.executable, "-c", say], check=True, capture_output=True)


def failing_program(folder, name, output):
    path = folder / name
    lines = "".join(f"echo '{line}'\n" for line in output)
    path.write_text(f"#!/bin/sh\n{lines}exit 1\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


def test_an_espresso_run_that_exits_with_an_error_is_an_instrument_failure_quoting_its_output(
    tmp_path, monkeypatch
):
    """Before: pw.x's exit status 1 reached the campaign as a CalledProcessError, class
    'failed', without what Quantum ESPRESSO said."""
    qe_says = ["convergence NOT achieved after 100 iterations: stopping", "%%%%%%%%", "bye"]
    failing_program(tmp_path, "pw.x", qe_says)
    parameters = {**espresso_on_path(tmp_path, monkeypatch), "directory": str(tmp_path / "run")}
    error_class, error = failure(AseOracle("espresso", {"x": bulk("Cu")}, parameters=parameters))
    assert error_class == "instrument"
    first_line = error.splitlines()[0]
    assert "non-zero exit status 1" in first_line and "espresso.pwo" in first_line
    assert first_line.endswith("convergence NOT achieved after 100 iterations: stopping | bye")


@pytest.mark.parametrize(
    ("calculator", "message"),
    [
        ("FailingCalculator", "FailingCalculator: SCF did not converge after 100 iterations"),
        ("CapturingProgramCalculator", "its stdout: reading input | convergence NOT achieved"),
    ],
)
def test_any_error_a_calculator_raises_is_an_instrument_failure_with_its_message(
    calculator, message
):
    """Before: a plain RuntimeError, or a CalledProcessError, was classed 'failed'."""
    oracle = AseOracle(f"tests.oracles.test_ase:{calculator}", {"x": bulk("Cu")})
    error_class, error = failure(oracle)
    assert error_class == "instrument" and message in error.splitlines()[0]


class NonFiniteCalculator(Calculator):
    """A finite energy, with NaN in the quantity named by its ``nan`` parameter."""

    implemented_properties = ("energy", "forces", "stress")
    default_parameters: ClassVar[dict[str, str]] = {"nan": "forces"}

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        self.results = {
            "energy": -1.0,
            "forces": np.zeros((len(self.atoms), 3)),
            "stress": np.zeros(6),
        }
        quantity = self.parameters["nan"]
        self.results[quantity] = np.full_like(self.results[quantity], np.nan)


@pytest.mark.parametrize(
    ("nan", "options", "message"),
    [
        ("forces", {}, r"forces not finite \(6 of 6 values\)"),
        ("forces", {"relax": True}, r"forces not finite at step 0 of the relaxation"),
        ("stress", {"relax": True, "relax_cell": True}, r"stress not finite at step 0"),
    ],
)
def test_non_finite_forces_or_stress_are_an_instrument_failure_naming_them(nan, options, message):
    """Before: NaN forces were a success with a NaN largest force, or, relaxing, a
    LinAlgError classed 'failed'."""
    crystal = {"x": bulk("Cu", a=3.7) * (2, 1, 1)}
    oracle = AseOracle(
        "tests.oracles.test_ase:NonFiniteCalculator", crystal, parameters={"nan": nan}, **options
    )
    error_class, error = failure(oracle)
    assert error_class == "instrument" and re.search(message, error.splitlines()[0])


def test_a_structure_ase_cannot_hold_is_refused_naming_its_candidate():
    """Before: the message named no candidate ('ase oracle: features: structure ...')."""
    disordered = Structure(Lattice.cubic(3.8), [{"Cu": 0.5, "Au": 0.5}], [[0, 0, 0]])
    flat = Atoms("Cu2", positions=[[0, 0, 0], [1.5, 1.5, 0]], pbc=True)  # no cell given
    with pytest.raises(ConfigurationError, match=r"candidate 'cuau': structure 'Cu0.5 Au0.5'"):
        AseOracle("emt", {"cu": bulk("Cu"), "cuau": disordered})
    with pytest.raises(ConfigurationError, match=r"candidate 'flat': structure 'Cu2' is periodic"):
        AseOracle("emt", {"cu": bulk("Cu"), "flat": flat})
    error_class, error = failure(AseOracle("emt", lambda candidate: flat), "built")
    assert error_class == "configuration" and "candidate 'built': structure 'Cu2'" in error
