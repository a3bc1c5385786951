from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from discovery.cli import app

DATA = Path(__file__).resolve().parents[1] / "campaigns" / "data" / "crossed_barrel" / "data.csv"
runner = CliRunner()


def diagnose(*args):
    return runner.invoke(app, ["diagnose", *map(str, args)], env={"COLUMNS": "200"})


def test_diagnose_prints_models_baselines_calibration_and_the_leakage_warning(tmp_path):
    subset = tmp_path / "replicates.csv"
    pd.read_csv(DATA).iloc[::6].to_csv(subset, index=False)
    plot = tmp_path / "diagnosis.png"
    result = diagnose(subset, "--target", "toughness", "--surrogates", "forest", "--plot", plot)
    assert result.exit_code == 0, result.output
    for text in ("forest", "mean (baseline)", "ridge (baseline)", "95 % cover", "MAE"):
        assert text in result.output
    assert "warning: leakage" in result.output
    assert plot.stat().st_size > 10_000 and plot.read_bytes()[:4] == b"\x89PNG"
    grouped = diagnose(subset, "--target", "toughness", "--surrogates", "forest", "--cv", "group")
    assert grouped.exit_code == 0 and "leakage" not in grouped.output


@pytest.fixture
def table(tmp_path):
    path = tmp_path / "table.csv"
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.random(12), "batch": [1, 2, 3] * 4, "label": ["a"] * 12})
    frame["y"] = frame["x"] ** 2
    frame.to_csv(path, index=False)
    return path


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--target", "yield"], "error: target 'yield' not in the columns"),
        (["--target", "label"], "error: target 'label' is not a number in data row 1 (CSV"),
        (["--target", "y", "--folds", "20"], "error: folds: 20 folds need at least 20 rows"),
        (["--target", "y", "--group", "plate"], "error: group 'plate' not in the columns"),
        (["--target", "y", "--plot", "no-such-folder/p.png"], "error: --plot: folder"),
        (["--target", "y", "--seed", str(2**32)], "error: seed: must be a whole number in"),
    ],
)
def test_bad_input_is_one_line_naming_the_field(table, args, message):
    result = diagnose(table, *args, "--surrogates", "forest")
    assert result.exit_code != 0
    assert result.output.strip().splitlines()[0].startswith(message), result.output


def test_group_column_drives_group_cv(table):
    result = diagnose(
        table,
        "--target",
        "y",
        "--features",
        "x",
        "--group",
        "batch",
        "--cv",
        "group",
        "--folds",
        "3",
        "--surrogates",
        "forest",
    )
    assert result.exit_code == 0, result.output
    assert "12 rows, group CV with 3 folds" in result.output


def test_the_table_reads_whole_in_an_80_column_terminal(tmp_path):
    subset = tmp_path / "subset.csv"
    pd.read_csv(DATA).iloc[::12].to_csv(subset, index=False)
    command = ["diagnose", str(subset), "--target", "toughness", "--surrogates", "forest"]
    result = runner.invoke(app, command, env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    assert "…" not in result.output
    assert all(len(line) <= 80 for line in result.output.splitlines() if "│" in line)
    assert "95 % cover" in result.output and "ridge (baseline)" in result.output


def test_a_target_without_any_value_is_named(tmp_path):
    path = tmp_path / "unmeasured.csv"
    pd.DataFrame({"x": np.linspace(0, 1, 8), "y": [np.nan] * 8}).to_csv(path, index=False)
    result = diagnose(path, "--target", "y", "--surrogates", "forest")
    assert result.exit_code == 2
    assert result.output.startswith("error: target 'y' has no values"), result.output


def test_an_infinite_target_or_an_empty_feature_is_named_by_its_csv_line(tmp_path):
    frame = pd.DataFrame({"x": np.linspace(0, 1, 12), "label": ["a", "b"] * 6})
    frame["y"] = frame["x"] ** 2
    infinite, empty = tmp_path / "infinite.csv", tmp_path / "empty.csv"
    frame.assign(y=frame["y"].where(frame.index != 3, np.inf)).to_csv(infinite, index=False)
    frame.assign(x=frame["x"].where(frame.index % 5 != 4)).to_csv(empty, index=False)
    result = diagnose(infinite, "--target", "y", "--surrogates", "gp,forest", "--folds", "3")
    assert result.exit_code == 2
    assert result.output.startswith(
        "error: target 'y' is infinite in data row 4 (CSV line 5): inf;"
    ), result.output
    result = diagnose(empty, "--target", "y", "--surrogates", "forest", "--folds", "3")
    assert result.exit_code == 2
    assert result.output.startswith(
        "error: feature 'x' is empty in data row 5 (CSV line 6) (and 1 more rows);"
    ), result.output
    assert "--features" in result.output and "impute" not in result.output


def test_a_saved_row_index_is_left_out_and_said_so(tmp_path):
    """Sorted by its target and saved with to_csv()'s defaults, a table's index looked
    like a feature that predicted noise perfectly (R^2 0.98)."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.random(40), "y": rng.random(40)}).sort_values("y")
    frame.reset_index(drop=True).to_csv(tmp_path / "sorted.csv")  # index=True
    result = diagnose(tmp_path / "sorted.csv", "--target", "y", "--surrogates", "forest")
    assert result.exit_code == 0, result.output
    assert "'Unnamed: 0' has no header" in " ".join(result.output.split())


def test_a_trailing_comma_in_every_row_is_a_column_left_out_not_an_empty_feature(tmp_path):
    rng = np.random.default_rng(1)
    rows = "\n".join(f"{x:.3f},{2 * x:.3f}," for x in rng.random(30))
    (tmp_path / "export.csv").write_text(f"x,y,\n{rows}\n")  # a spreadsheet's trailing comma
    result = diagnose(tmp_path / "export.csv", "--target", "y", "--surrogates", "forest")
    assert result.exit_code == 0, result.output
    assert "'Unnamed: 2' has no header" in " ".join(result.output.split())


def test_an_empty_data_file_is_one_line_naming_it(tmp_path):
    """An empty CSV ended in pandas' "EmptyDataError: No columns to parse from file"."""
    path = tmp_path / "empty.csv"
    path.touch()
    result = diagnose(path, "--target", "y")
    assert result.exit_code == 2
    assert result.output.startswith(f"error: data file {path} is empty"), result.output


def test_a_target_and_a_warning_in_brackets_are_printed_as_written(table):
    """A column "rate [/s]" made the table's title fail as Rich markup, and a warning
    naming a column "dose [/mg]" made the warning itself fail."""
    frame = pd.read_csv(table).rename(columns={"y": "rate [/s]", "label": "dose [/mg]"})
    frame.assign(**{"dose [/mg]": ["1,5", "2,5"] * 6}).to_csv(table, index=False)
    result = diagnose(table, "--target", "rate [/s]", "--folds", "3", "--surrogates", "forest")
    assert result.exit_code == 0, result.output
    assert "table.csv: rate [/s], 12 rows" in result.output
    assert "warning: pool: text column 'dose [/mg]' holds numbers" in result.output
