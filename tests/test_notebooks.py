"""Every notebook in notebooks/ runs from top to bottom without an error and prints
what it is about. Each runs in a copy of the repository's layout under a temporary
folder, so the stores and reports it writes stay out of the checkout."""

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
FOLDER = ROOT / "notebooks"
PRINTS = {  # a notebook's name: a text its outputs must contain
    "training_set_selection.ipynb": "RMSE",
    "reward_maximisation.ipynb": "cumulative regret",
    "quick_start.ipynb": "report: quick_start.html",
}

FIGURES = {"quick_start.ipynb": 4, "reward_maximisation.ipynb": 4}  # images at least


def test_every_notebook_is_checked():
    assert sorted(path.name for path in FOLDER.glob("*.ipynb")) == sorted(PRINTS)


#: Run with the slow tests (`make test-slow`): reward maximisation (45 s), whose bandits,
#: goals, portfolio and environment have their own tests in the default run, and
#: training-set selection (13 s), whose k-means and random designs, Lennard-Jones dimer and
#: uncertainty campaign have theirs (test_selection.py, tests/simulators/).
SLOW_NOTEBOOKS = {"reward_maximisation.ipynb", "training_set_selection.ipynb"}


@pytest.mark.parametrize(
    "name",
    [pytest.param(n, marks=pytest.mark.slow) if n in SLOW_NOTEBOOKS else n for n in sorted(PRINTS)],
)
def test_notebook_runs(name, tmp_path):
    # a notebook imports campaigns/ and simulators/ from its folder's parent
    for package in ("campaigns", "simulators"):
        (tmp_path / package).symlink_to(ROOT / package, target_is_directory=True)
    (tmp_path / "notebooks").mkdir()
    notebook = nbformat.read(FOLDER / name, as_version=4)
    NotebookClient(notebook, timeout=300, kernel_name="python3").execute(
        cwd=str(tmp_path / "notebooks")
    )
    outputs = [o for cell in notebook.cells for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert any(PRINTS[name] in o.get("text", "") for o in outputs)
    if name in FIGURES:  # the figures are shown as images, not as "<Figure size ...>"
        images = [o for o in outputs if "image/png" in o.get("data", {})]
        assert len(images) >= FIGURES[name]
