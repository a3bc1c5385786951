"""ASE calculators by configuration: a name or an import path, keyword arguments, and the
checks that can be made before any calculation is spent.

Names are ASE's own (``ase.calculators.calculator.get_calculator_class``: "emt",
"lj", "espresso", "vasp", "gpaw", ...) plus "tblite" (GFN2-xTB, from the package of
that name); anything else is given as ``"package.module:Class"``. A calculator
that needs an executable, pseudopotentials or a licence is checked at
construction: a missing one is a :class:`ConfigurationError` naming what to set.
A calculator that computes in Python alone (EMT, Lennard-Jones, ...) is built at
construction, so a keyword argument it does not take is refused there too. When a
calculator's program exits with an error, :func:`failure_output` finds what it wrote last.
"""

from __future__ import annotations

import importlib
import inspect
import os
import shlex
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from discovery.exceptions import ConfigurationError

#: Calculators outside ASE, by name: the module whose import makes the class available.
EXTERNAL_CALCULATORS = {"tblite": ("tblite.ase", "TBLite", "pip install 'discovery[dft]'")}
#: Calculators, by import path, that compute in Python from their arguments alone: building
#: one runs nothing and costs nothing, so each is built at construction to check its
#: keyword arguments. The rest (a DFT code's, a model that loads weights) are built per job.
BUILT_AT_CONSTRUCTION = frozenset(
    {
        "ase.calculators.emt:EMT",
        "ase.calculators.lj:LennardJones",
        "ase.calculators.morse:MorsePotential",
        "ase.calculators.tip3p:TIP3P",
        "ase.calculators.tip4p:TIP4P",
        "tblite.ase:TBLite",
    }
)
#: Lines from the end of a failed program's output quoted in its error: where a code such
#: as Quantum ESPRESSO says why it stopped ("convergence NOT achieved").
OUTPUT_TAIL_LINES = 6
#: Bytes read from the end of an output file for them (a DFT output can run to gigabytes).
OUTPUT_TAIL_BYTES = 16_384


@dataclass(frozen=True)
class CalculatorSpec:
    """Which calculator to build and with what arguments; plain data, so it pickles.

    Attributes:
        name: an ASE calculator name, "tblite", or ``"package.module:Class"``.
        parameters: keyword arguments of the calculator's constructor. For
            "espresso", ``command`` and ``pseudo_dir`` build its profile when no
            ``profile`` is given.
    """

    name: str
    parameters: dict[str, Any] = field(default_factory=dict)

    def calculator_class(self) -> type:
        """The calculator's class.

        Raises:
            ConfigurationError: unknown name, or its package is not installed.
        """
        return calculator_class(self.name)

    def build(self) -> Any:
        """A fresh calculator (one per calculation: calculators keep state)."""
        cls = self.calculator_class()
        parameters = dict(self.parameters)
        if self.name == "espresso" and "profile" not in parameters and "command" in parameters:
            from ase.calculators.espresso import EspressoProfile

            parameters["profile"] = EspressoProfile(
                command=parameters.pop("command"), pseudo_dir=parameters.pop("pseudo_dir", ".")
            )
        try:
            return cls(**parameters)
        except TypeError as error:
            raise ConfigurationError(f"calculator '{self.name}': {error}") from None


def calculator_class(name: str) -> type:
    """The class of a calculator name or ``"package.module:Class"`` import path.

    Raises:
        ConfigurationError: unknown name, missing package, or a bad import path.
    """
    if not isinstance(name, str) or not name:
        raise ConfigurationError(f"calculator: expected a name, got {name!r}")
    if ":" in name:
        module_name, _, class_name = name.partition(":")
        try:
            return getattr(importlib.import_module(module_name), class_name)
        except (ImportError, AttributeError) as error:
            raise ConfigurationError(f"calculator '{name}': cannot import ({error})") from None
    if name in EXTERNAL_CALCULATORS:
        module_name, class_name, install = EXTERNAL_CALCULATORS[name]
        try:
            return getattr(importlib.import_module(module_name), class_name)
        except ImportError:
            raise ConfigurationError(
                f"calculator '{name}': its package is not installed ({install})"
            ) from None
    from ase.calculators.calculator import get_calculator_class
    from ase.calculators.names import names

    if name not in names:
        known = sorted([*names, *EXTERNAL_CALCULATORS])
        raise ConfigurationError(
            f"calculator: unknown name '{name}'; use one of {known} or 'package.module:Class'"
        )
    try:
        return get_calculator_class(name)
    except ImportError as error:
        raise ConfigurationError(
            f"calculator '{name}': its Python package is not installed ({error})"
        ) from None


def check_calculator(spec: CalculatorSpec) -> None:
    """What can be checked before a calculation: the class, its executable, its data and,
    for a calculator in :data:`BUILT_AT_CONSTRUCTION`, its keyword arguments.

    Raises:
        ConfigurationError: the calculator cannot run here, with what to install or set,
            or a keyword argument it does not take.
    """
    cls = spec.calculator_class()
    check = _CHECKS.get(spec.name)
    if check is not None:
        check(spec.parameters)
    if f"{cls.__module__}:{cls.__qualname__}" in BUILT_AT_CONSTRUCTION:
        _check_keywords(spec, cls)
        spec.build()  # a keyword its constructor refuses is a ConfigurationError


def _check_keywords(spec: CalculatorSpec, cls: type) -> None:
    # A calculator taking **kwargs keeps any keyword and ignores the ones it does not know:
    # a misspelt "sigmaa" would leave sigma at its default in every calculation.
    defaults = getattr(cls, "default_parameters", None)
    if not defaults:
        return
    from ase.calculators.calculator import Calculator

    named = {
        name
        for constructor in (cls.__init__, Calculator.__init__)
        for name, parameter in inspect.signature(constructor).parameters.items()
        if parameter.kind in (parameter.POSITIONAL_OR_KEYWORD, parameter.KEYWORD_ONLY)
    }
    unknown = sorted(set(spec.parameters) - set(defaults) - named)
    if unknown:
        raise ConfigurationError(
            f"calculator '{spec.name}': unknown parameters {unknown}; "
            f"{cls.__name__} takes {sorted(defaults)}"
        )


def require_executable(command: str | list[str], calculator: str, hint: str) -> None:
    """The command's program (after launchers such as mpirun) is on the PATH.

    Raises:
        ConfigurationError: it is not, naming the program and ``hint``.
    """
    words = shlex.split(command) if isinstance(command, str) else list(command)
    programs = [w for w in words if not w.startswith("-") and not w.isdigit()]
    launchers = {"mpirun", "mpiexec", "srun", "aprun", "time"}
    program = next((w for w in programs if Path(w).name not in launchers), None)
    if program is None:
        raise ConfigurationError(f"calculator '{calculator}': empty command {command!r}; {hint}")
    if "PREFIX" in program:  # ASE substitutes the run's file prefix here
        return
    if shutil.which(program) is None:
        raise ConfigurationError(
            f"calculator '{calculator}': executable '{program}' not found on PATH; {hint}"
        )


def _check_espresso(parameters: dict[str, Any]) -> None:
    hint = "install Quantum ESPRESSO and pass command='pw.x' and pseudo_dir=... (or an ASE profile)"
    profile = parameters.get("profile")
    if profile is not None:
        command, pseudo_dir = profile.command, getattr(profile, "pseudo_dir", None)
    elif "command" in parameters:
        command, pseudo_dir = parameters["command"], parameters.get("pseudo_dir")
    else:
        command, pseudo_dir = _espresso_from_ase_config(hint)
    require_executable(command, "espresso", hint)
    if pseudo_dir is None or not Path(pseudo_dir).is_dir():
        raise ConfigurationError(
            f"calculator 'espresso': pseudopotential folder {pseudo_dir!r} not found; {hint}"
        )
    for element, filename in (parameters.get("pseudopotentials") or {}).items():
        if not (Path(pseudo_dir) / filename).is_file():
            raise ConfigurationError(
                f"calculator 'espresso': pseudopotential '{filename}' for {element} "
                f"not in {pseudo_dir}"
            )


def _espresso_from_ase_config(hint: str) -> tuple[str, str | None]:
    from ase.config import cfg

    if "espresso" not in cfg.parser:
        raise ConfigurationError(f"calculator 'espresso': not configured; {hint}")
    section = cfg.parser["espresso"]
    return section.get("command", ""), section.get("pseudo_dir")


def _check_vasp(parameters: dict[str, Any]) -> None:
    hint = "set ASE_VASP_COMMAND (e.g. 'mpirun vasp_std') and VASP_PP_PATH, or pass command="
    command = parameters.get("command") or next(
        (os.environ[v] for v in ("ASE_VASP_COMMAND", "VASP_COMMAND") if v in os.environ), None
    )
    if command is None and "VASP_SCRIPT" not in os.environ:
        raise ConfigurationError(f"calculator 'vasp': no command to run VASP; {hint}")
    if command is not None:
        require_executable(command, "vasp", hint)
    pp_path = os.environ.get("VASP_PP_PATH")
    if not pp_path or not Path(pp_path).is_dir():
        raise ConfigurationError(
            f"calculator 'vasp': VASP_PP_PATH ({pp_path!r}) is not a folder of POTCARs "
            "(VASP's licence covers them; point VASP_PP_PATH at your copy)"
        )


def _check_gpaw(parameters: dict[str, Any]) -> None:
    try:
        from gpaw import setup_paths  # noqa: F401  # imported to check the installation
    except ImportError:
        raise ConfigurationError(
            "calculator 'gpaw': GPAW is not installed (pip install gpaw, then "
            "'gpaw install-data DIR' for its PAW setups)"
        ) from None


_CHECKS: dict[str, Callable[[dict[str, Any]], None]] = {
    "espresso": _check_espresso,
    "vasp": _check_vasp,
    "gpaw": _check_gpaw,
}


def failure_output(calculator: Any, error: BaseException) -> str:
    """The last lines the calculator's program wrote before it exited with an error, as
    ``"; the end of <where>: line | line ..."``, or "" when ``error`` is not (or was not
    caused by) a :class:`subprocess.CalledProcessError` or the program left nothing.

    ASE runs codes such as Quantum ESPRESSO through ``subprocess.check_call``, whose
    error says only "returned non-zero exit status 1"; the reason is in the program's
    output. Read from what the error captured, then from the output and error files the
    calculator itself names: a GenericFileIOCalculator's ``template.outputname`` and
    ``errorname`` (Espresso's ``espresso.pwo`` and ``espresso.err``), a
    FileIOCalculator's ``fileio_rules.stdout_name``, in the calculator's ``directory``.
    """
    process_error = _process_error(error)
    if process_error is None:
        return ""
    tails = [
        f"; the end of {source}: {' | '.join(lines)}"
        for source, text in _program_outputs(calculator, process_error)
        if (lines := _last_lines(text))
    ]
    return "".join(tails)


def _process_error(error: BaseException) -> subprocess.CalledProcessError | None:
    """``error`` or the error it was raised from (ASE's FileIOCalculator wraps one in
    CalculationFailed), if a program exited with an error."""
    seen: BaseException | None = error
    for _ in range(8):  # a chain is short; the bound guards against a cycle
        if seen is None or isinstance(seen, subprocess.CalledProcessError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def _program_outputs(
    calculator: Any, error: subprocess.CalledProcessError
) -> Iterator[tuple[str, str]]:
    """(where, text) of what the program wrote: captured, then in the files named."""
    for stream in ("stdout", "stderr"):
        captured = getattr(error, stream, None)
        if captured:
            yield f"its {stream}", _as_text(captured)
    for path in _named_output_files(calculator):
        text = _file_tail(path)
        if text:
            yield str(path), text


def _named_output_files(calculator: Any) -> list[Path]:
    directory = Path(getattr(calculator, "directory", None) or ".")
    template = getattr(calculator, "template", None)
    names = [getattr(template, "outputname", None), getattr(template, "errorname", None)]
    rules = getattr(calculator, "fileio_rules", None)
    if rules is not None and isinstance(rules.stdout_name, str):
        names.append(rules.stdout_name.format(prefix=getattr(calculator, "prefix", None)))
    return [directory / name for name in names if isinstance(name, str) and name]


def _file_tail(path: Path) -> str:
    try:
        with path.open("rb") as stream:
            stream.seek(max(0, path.stat().st_size - OUTPUT_TAIL_BYTES))
            return _as_text(stream.read())
    except OSError:  # the program failed before writing it: other sources may tell
        return ""


def _as_text(output: str | bytes) -> str:
    return output if isinstance(output, str) else output.decode("utf-8", errors="replace")


def _last_lines(text: str) -> list[str]:
    """The last lines that say something (rules of '%' or '-' say nothing), stripped."""
    lines = [line.strip() for line in text.splitlines()]
    return [line for line in lines if any(c.isalnum() for c in line)][-OUTPUT_TAIL_LINES:]
