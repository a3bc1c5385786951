from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from discovery.cli import app

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


def run(*args):
    return runner.invoke(app, ["run", *map(str, args), "--no-progress"])


def test_run_writes_the_history_and_prints_the_summary(tmp_path):
    out = tmp_path / "lj.csv"
    store = tmp_path / "lj.sqlite"
    result = run(
        ROOT / "campaigns" / "lennard_jones.py",
        "--budget",
        6,
        "--seed",
        1,
        "--out",
        out,
        "--store",
        store,
    )
    assert result.exit_code == 0, result.output
    assert "best energy" in result.output and "closest r to the minimum" in result.output
    history = pd.read_csv(out)
    assert {"iteration", "candidate_id", "energy", "best_so_far"} <= set(history.columns)
    assert len(history) == 6 and history["candidate_id"].is_unique


def one_line_error(result) -> str:
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    return lines[0]


def test_a_missing_campaign_file_is_one_line(tmp_path):
    line = one_line_error(run(tmp_path / "nope.py"))
    assert line.startswith("error: campaign file not found")


def test_a_file_without_a_campaign_is_named(tmp_path):
    empty = tmp_path / "empty.py"
    empty.write_text("x = 1\n")
    line = one_line_error(run(empty))
    assert "defines no campaign" in line and "make_campaign()" in line


def test_a_budget_below_the_initial_design_is_refused(tmp_path):
    line = one_line_error(
        run(ROOT / "campaigns" / "lennard_jones.py", "--budget", 1, "--store", tmp_path / "s")
    )
    assert "budget (1) is smaller than the initial design (n_initial=2)" in line


def test_an_error_inside_the_campaign_file_is_one_line_and_debug_shows_the_traceback(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text(
        "import pandas as pd\n"
        "from discovery import CandidatePool\n"
        "pool = CandidatePool.from_frame(pd.DataFrame({'x': [1.0, None]}), objective='y')\n"
    )
    line = one_line_error(run(bad))
    assert line == "error: pool: objective 'y' not in the columns ['x']"
    debug = runner.invoke(app, ["run", str(bad), "--debug"])
    assert "Traceback" in debug.output
