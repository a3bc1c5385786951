"""The command line's help, and the package's import, load none of the heavy libraries:
``discovery --help`` answers at once, and every public name still resolves on use."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import discovery
import discovery.benchmark

HEAVY = ("torch", "gpytorch", "botorch", "sklearn", "pandas", "discovery.campaign")


def modules_loaded_by(code: str) -> list[str]:
    """Which of HEAVY a fresh interpreter has imported after running ``code``."""
    probe = f"{code}\nimport sys\nprint(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_help_of_every_command_loads_no_heavy_library():
    code = (
        "from typer.testing import CliRunner\n"
        "from discovery.cli import app\n"
        "for command in ([], ['run'], ['status'], ['ask'], ['tell'], ['export'],\n"
        "                ['diagnose'], ['report'], ['benchmark']):\n"
        "    result = CliRunner().invoke(app, [*command, '--help'])\n"
        "    assert result.exit_code == 0, result.output\n"
        "    assert 'Usage' in result.output, result.output\n"
        "assert 'crossed_barrel' in CliRunner().invoke(app, ['benchmark', '--help']).output"
    )
    assert modules_loaded_by(code) == []


def test_a_mistyped_benchmark_dataset_answers_before_the_library_loads():
    code = (
        "from typer.testing import CliRunner\n"
        "from discovery.cli import app\n"
        "result = CliRunner().invoke(app, ['benchmark', 'crossed_barrel', 'perovskit'])\n"
        "assert result.exit_code == 2, result.output\n"
        "assert \"unknown dataset 'perovskit'\" in result.output, result.output\n"
        "result = CliRunner().invoke(app, ['benchmark', 'missing.csv'])\n"
        "assert 'dataset file not found: missing.csv' in result.output, result.output"
    )
    assert modules_loaded_by(code) == []


def test_importing_the_package_defers_the_library_until_a_name_is_used():
    assert modules_loaded_by("import discovery") == []
    assert "discovery.campaign" in modules_loaded_by("import discovery\ndiscovery.Campaign")


def test_every_public_name_resolves():
    for package in (discovery, discovery.benchmark):
        for name in package.__all__:
            assert getattr(package, name) is not None, f"{package.__name__}.{name}"
    assert set(discovery.__all__) <= set(dir(discovery))
    assert discovery.Campaign.__module__ == "discovery.campaign"
    assert "__version__" in discovery.__all__ and discovery.__version__ == "0.1.0"


def test_the_stubs_list_every_name_they_import():
    """A name imported in ``__init__.pyi`` but left out of its ``__all__`` would load at run
    time yet look private to a type checker."""
    for package in (discovery, discovery.benchmark):
        stub = ast.parse(Path(package.__file__).with_suffix(".pyi").read_text())
        declared = next(
            ast.literal_eval(node.value)
            for node in stub.body
            if isinstance(node, ast.Assign) and node.targets[0].id == "__all__"
        )
        assert set(declared) == set(package.__all__), package.__name__


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="NoSuchThing"):
        discovery.NoSuchThing  # noqa: B018
