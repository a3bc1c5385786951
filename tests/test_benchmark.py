"""`discovery benchmark`: the Liang et al. protocol, its figures, paired and resumable runs."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import psutil
import pytest
from typer.testing import CliRunner

from discovery.benchmark import (
    StrategyError,
    load_dataset,
    resolve_protocol,
    resolve_strategy,
    run_benchmark,
)
from discovery.benchmark.external import replay_proposer
from discovery.benchmark.metrics import (
    acceleration_factor,
    cycles_to,
    enhancement_factor,
    found_curve,
    paired_record,
    random_cycles_to,
    top_fraction,
)
from discovery.benchmark.protocol import SEEDS_FILE
from discovery.benchmark.runner import ResultsFile
from discovery.cli import app
from discovery.exceptions import ConfigurationError
from discovery.policy import DEFAULT_ARMS


def test_initial_designs_are_the_authors_draws_from_their_seed_list():
    seeds = pd.read_csv(SEEDS_FILE)
    run_seeds = seeds.loc[seeds["role"] == "run_initial_design", "seed"].tolist()
    assert len(run_seeds) == 50
    protocol = resolve_protocol("liang2021")
    for run in (0, 1, 49):
        state = random.Random(run_seeds[run])
        assert protocol.initial_design(run, 600) == state.sample(list(range(600)), 2)
    assert protocol.run_seed(0) == 4295  # the first seed of the published list
    assert protocol.run_seed(50) not in run_seeds  # past the list: a fixed, distinct seed


def test_figures_of_a_hand_computed_run():
    good = np.zeros(10, dtype=bool)
    good[[0, 1]] = True  # 2 good designs among 10
    curve = found_curve([3, 0, 7, 1, 5], good)
    assert curve.tolist() == [0, 1, 1, 2, 2]
    assert top_fraction(curve, 2, 2) == 0.5
    assert enhancement_factor(0.5, 2, 10) == pytest.approx(2.5)  # 0.5 / (2 / 10)
    assert cycles_to(curve, 2, 0.5) == 2
    assert cycles_to(curve, 2, 0.8) == 4  # 0.8 of 2 needs both
    assert random_cycles_to(0.8, 10) == 8
    assert acceleration_factor(4, 0.8, 10) == pytest.approx(2.0)  # 8 / 4
    assert cycles_to(np.array([0, 0, 1]), 2, 1.0) == np.inf  # censored
    assert paired_record([0.5, 0.2, 0.1], [0.4, 0.2, 0.3], higher_is_better=True) == (1, 1, 1)
    assert paired_record([np.inf, 5.0], [np.inf, 7.0], higher_is_better=False) == (1, 1, 0)


def test_the_good_set_is_the_published_top_five_percent():
    dataset = load_dataset("crossed_barrel")
    good = dataset.good(0.05)
    assert good.sum() == 30
    assert (good == dataset.frame["top5pct"].to_numpy()).all()
    assert load_dataset("perovskite").good(0.05).sum() == 5  # minimised: lowest values


@pytest.mark.parametrize(
    ("plate", "size", "best"),
    [("a", 2121, 0.340), ("b", 2119, 0.356), ("c", 2120, 0.373), ("d", 2121, 0.395)],
)
def test_the_oer_libraries_are_pools_of_distinct_compositions(plate, size, best):
    dataset = load_dataset(f"oer_plate_{plate}")
    compositions = dataset.frame[list(dataset.features)]
    assert len(dataset) == size and not compositions.duplicated().any()
    np.testing.assert_allclose(compositions.sum(axis=1), 1.0, atol=1e-9)  # cation fractions
    assert dataset.values[dataset.good(0.05)].min() == pytest.approx(best, abs=5e-4)


@pytest.mark.parametrize(
    ("name", "size", "best"),
    [
        ("olympus_alkox", 104, 106.481),
        ("olympus_fullerenes", 216, 0.953133),
        ("olympus_hplc", 1007, 2372.249),  # the upstream best, 2569.88, is a repeat
        ("olympus_photo_pce10", 1020, 0.00162264),
        ("olympus_suzuki", 247, 96.9),
    ],
)
def test_the_olympus_tables_are_pools_of_distinct_settings(name, size, best):
    dataset = load_dataset(name)
    settings = dataset.frame[list(dataset.features)]
    assert len(dataset) == size and not settings.duplicated().any()
    best_found = dataset.values.max() if dataset.maximize else dataset.values.min()
    assert best_found == pytest.approx(best, rel=1e-4)  # the best design, repeats averaged


def test_the_steels_are_a_pool_of_alloy_compositions_by_element_fraction():
    dataset = load_dataset("steels")
    fractions = dataset.frame[list(dataset.features)]
    assert dataset.name == "matbench_steels" and dataset.maximize
    assert len(dataset) == 312 and len(dataset.features) == 14 and dataset.features[0] == "Fe"
    assert not fractions.duplicated().any()
    np.testing.assert_allclose(fractions.sum(axis=1), 1.0, atol=1e-9)  # atomic fractions
    assert dataset.good(0.05).sum() == 16 and dataset.values[dataset.good(0.05)].min() == 1998.6


def test_formation_enthalpies_are_a_pool_of_compositions_described_by_their_elements():
    dataset = load_dataset("formation_enthalpy")
    assert dataset.name == "expt_formation_enthalpy_kim2017" and not dataset.maximize
    assert len(dataset) == 1131 and dataset.frame["composition"].is_unique
    assert dataset.pool.features.shape == (1131, 41)  # computed from the formulas as read
    assert "mean electronegativity" in dataset.features
    assert dataset.values.min() == -1.2624  # the most stable compound
    assert dataset.good(0.05).sum() == 57
    with pytest.raises(ConfigurationError, match="its design columns are"):
        load_dataset("formation_enthalpy", features=["mean electronegativity"])


def test_the_direct_arylation_screen_is_the_complete_grid_of_conditions():
    dataset = load_dataset("direct_arylation")
    conditions = dataset.frame[list(dataset.features)]
    assert dataset.name == "edbo_direct_arylation" and dataset.maximize
    assert len(dataset) == 1728 == 4 * 12 * 4 * 3 * 3 and not conditions.duplicated().any()
    assert dataset.pool.categorical_columns == ["Base_SMILES", "Ligand_SMILES", "Solvent_SMILES"]
    assert dataset.pool.features.shape == (1728, 4 + 12 + 4 + 2)  # one-hot, then two numbers
    assert dataset.good(0.05).sum() == 87 and dataset.values[dataset.good(0.05)].min() == 76.33


def test_paired_runs_share_initial_designs_and_the_table_compares_them(tmp_path):
    result = run_benchmark(
        ["perovskite"], ["gp-ei", "random"], runs=3, cycles=12, at=10, out=tmp_path
    )
    rows = pd.DataFrame(result.rows)
    for run, group in rows.groupby("run"):
        assert group["initial"].map(tuple).nunique() == 1
        for trace, initial in zip(group["trace"], group["initial"], strict=True):
            assert trace[:2] == initial
            assert len(set(trace)) == len(trace) == 12
        assert group["initial"].iloc[0] == resolve_protocol("liang2021").initial_design(run, 94)
    line = result.table.set_index("strategy").loc["gp-ei"]
    wins, ties, losses = map(int, line["top W/T/L vs random"].split("/"))
    assert wins + ties + losses == 3
    assert {"summary.csv", "summary.md", "curves_perovskite.png", "curves_perovskite.html"} <= {
        f.name for f in result.files
    }
    assert "<svg" in (tmp_path / "curves_perovskite.html").read_text()


def test_a_partial_benchmark_is_reported_on_the_runs_every_strategy_finished(tmp_path):
    options = {"cycles": 12, "at": 10, "out": tmp_path}
    run_benchmark(["perovskite"], ["gp-ei", "random"], runs=2, **options)
    run_benchmark(["perovskite"], ["random"], runs=4, **options)  # random ran further
    report = run_benchmark(["perovskite"], ["gp-ei", "random"], runs=4, report_only=True, **options)
    assert report.table.set_index("strategy")["runs"].to_dict() == {"gp-ei": 2, "random": 2}
    assert len(ResultsFile(tmp_path).rows()) == 6  # nothing was run
    with pytest.raises(ConfigurationError, match="holds no run that every strategy finished"):
        run_benchmark(["perovskite"], ["gp-ucb", "random"], runs=4, report_only=True, **options)


def test_learning_curve_figure_has_drawn_content(tmp_path):
    run_benchmark(["autoam"], ["random"], runs=2, cycles=20, at=10, out=tmp_path)
    from matplotlib.image import imread

    image = imread(tmp_path / "curves_autoam.png")[..., :3]
    is_drawn = (image < 0.9).any(axis=-1)  # not white background
    assert is_drawn.mean() > 0.02


class _RepeatsItself:
    """A strategy that proposes the first measured design again."""

    name = "repeater"

    def propose(self, measured, values, k):
        return [int(measured[0])]


def test_a_strategy_that_re_proposes_a_measured_design_is_rejected():
    dataset = load_dataset("perovskite")
    with pytest.raises(StrategyError, match=r"re-proposed design 7 .* measured at cycle 1"):
        replay_proposer("repeater", _RepeatsItself(), dataset, [7, 3], cycles=10, batch_size=1)


@pytest.mark.parametrize("reference", ["botorch", "baybe"])
def test_reference_strategies_propose_new_designs(reference):
    dataset = load_dataset("perovskite")
    trace = resolve_strategy(reference).run(dataset, [7, 3], cycles=6, batch_size=1, seed=1)
    assert trace[:2] == [7, 3]
    assert len(set(trace)) == len(trace) == 6


def test_reference_strategies_propose_batches():
    dataset = load_dataset("autoam")
    trace = resolve_strategy("botorch").run(dataset, [1, 2, 3], cycles=9, batch_size=3, seed=0)
    assert len(set(trace)) == len(trace) == 9


def test_a_portfolio_spec_names_its_arms_and_bandit():
    policy = resolve_strategy("portfolio:arms=gp-ei+random:algorithm=exp3").options["policy"]
    assert policy.names == ["gp-ei", "random"] and policy.algorithm == "exp3"
    assert resolve_strategy("portfolio").options["policy"].names == list(DEFAULT_ARMS)
    with pytest.raises(ConfigurationError, match="unknown arm 'gp-magic'"):
        resolve_strategy("portfolio:arms=gp-ei+gp-magic")
    with pytest.raises(ConfigurationError, match="strategy 'portfolio:bogus=1'"):
        resolve_strategy("portfolio:bogus=1")


def test_a_portfolio_spec_gives_its_gp_arms_one_configured_gp_and_their_parameters():
    strategy = resolve_strategy("portfolio:arms=gp-ucb+gp-ei+random:lengthscale_prior=gamma:beta=1")
    params = {arm.name: arm.acquisition_params for arm in strategy.options["policy"].arms}
    assert params == {"gp-ucb": {"beta": 1}, "gp-ei": {}, "random": {}}
    dataset = load_dataset("perovskite")
    campaign = strategy._campaign(dataset, [0, 1], cycles=6, batch_size=1, seed=3)
    gp_ucb, gp_ei, random_arm = campaign.policy.arms
    assert gp_ucb.surrogate is gp_ei.surrogate and random_arm.surrogate is None
    assert gp_ucb.surrogate.lengthscale_prior == "gamma" and gp_ucb.surrogate.seed == 3
    trace = strategy.run(dataset, [0, 1], cycles=6, batch_size=1, seed=3)
    assert len(set(trace)) == len(trace) == 6
    with pytest.raises(ConfigurationError, match="no arm's acquisition takes"):
        resolve_strategy("portfolio:arms=gp-ei+random:beta=1")
    with pytest.raises(ConfigurationError, match="no arm uses the GP"):
        resolve_strategy("portfolio:arms=forest-ei+random:lengthscale_prior=gamma")


def test_strategy_options_reach_the_surrogate_and_the_acquisition():
    strategy = resolve_strategy("gp-ucb:beta=0.5:output_warping=copula:selector=kmeans")
    assert strategy.options["acquisition_params"] == {"beta": 0.5}
    assert strategy.options["selector"] == "kmeans"
    assert strategy.surrogate_options == {"output_warping": "copula"}


def _results(folder: Path) -> dict:
    rows = [json.loads(line) for line in (folder / "results.jsonl").read_text().splitlines()]
    return {(r["dataset"], r["strategy"], r["run"]): (r["initial"], r["trace"]) for r in rows}


def test_a_killed_benchmark_resumes_without_redoing_runs_and_ends_as_an_uninterrupted_one(
    tmp_path,
):
    command = [
        sys.executable, "-m", "discovery", "benchmark", "perovskite",
        "--strategies", "gp-ei,random", "--runs", "4", "--cycles", "10", "--at", "10",
        "--no-progress",
    ]  # fmt: skip
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    arguments = command[3:]  # the same command in this process: only the killed one needs its own
    assert CliRunner().invoke(app, [*arguments, "--out", str(whole)]).exit_code == 0
    process = subprocess.Popen(
        [*command, "--out", str(killed), "--workers", "2"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    results = killed / "results.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if results.exists() and len(results.read_text().splitlines()) >= 3:
            break
        time.sleep(0.05)
    workers = [
        child for child in psutil.Process(process.pid).children()
        if "spawn_main" in " ".join(child.cmdline())
    ]  # fmt: skip
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    _, alive = psutil.wait_procs(workers, timeout=20)
    assert not alive  # its worker processes ended with it
    finished_before = _results(killed)
    assert 3 <= len(finished_before) < 8
    with results.open("a") as handle:
        handle.write('{"dataset": "perovskite", "strat')  # a line cut short by the kill
    resumed = CliRunner().invoke(app, [*arguments, "--out", str(killed)])
    assert resumed.exit_code == 0, resumed.output
    lines = results.read_text().splitlines()
    assert len(lines) == 8  # the partial line dropped, no run measured twice
    assert _results(killed) == _results(whole)
    assert all(_results(killed)[key] == value for key, value in finished_before.items())


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["nope"], "unknown dataset 'nope'"),
        (["perovskite", "--strategies", "gp-magic"], "unknown strategy 'gp-magic'"),
        (["perovskite", "--strategies", "gp-ehvi"], "a strategy for several objectives"),
        (["perovskite", "--runs", "0"], "--runs must be at least 1"),
        (["perovskite", "--cycles", "-5"], "--cycles must be at least 1, got -5"),
        (["perovskite", "--protocol", "batch60"], "needs 60 initial designs"),
        (["perovskite", "--protocol", "sprint"], "unknown protocol 'sprint'"),
        (["perovskite", "--strategies", "gp-ei:output_warping=cubic"], "output_warping"),
        (["perovskite", "--strategies", "gp-ei:beta"], "must be written key=value"),
        (["perovskite", "--direction", "max"], "its direction is 'min', not 'max'"),
        (["perovskite", "--features", "dmso"], "its design columns are"),
        (
            ["perovskite", "--strategies", "auto,random", "--baseline", "baybee"],
            "baseline ['baybee'] is not among the strategies",
        ),
    ],
)
def test_bad_input_is_one_line_naming_the_problem(arguments, message, tmp_path):
    result = CliRunner().invoke(app, ["benchmark", *arguments, "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "results.jsonl").exists()  # nothing ran


def test_a_csv_dataset_needs_an_objective_column_of_finite_numbers(tmp_path):
    table = tmp_path / "designs.csv"
    pd.DataFrame({"x": np.linspace(0, 1, 30), "y": np.sin(np.linspace(0, 3, 30))}).to_csv(
        table, index=False
    )
    runner = CliRunner()
    missing = runner.invoke(
        app, ["benchmark", str(table), "--objective", "strength", "--direction", "max"]
    )
    assert missing.exit_code == 2
    assert "objective column 'strength' not in its columns" in missing.output
    infinite = tmp_path / "infinite.csv"
    pd.DataFrame({"x": [0.0, 0.5, 1.0], "y": [1.0, np.inf, 2.0]}).to_csv(infinite, index=False)
    refused = runner.invoke(
        app, ["benchmark", str(infinite), "--objective", "y", "--direction", "max"]
    )
    assert refused.exit_code == 2
    assert "objective 'y' is infinite (inf) in data row 2 (CSV line 3)" in refused.output
    out = tmp_path / "out"
    ran = runner.invoke(
        app,
        ["benchmark", str(table), "--objective", "y", "--direction", "max", "--strategies",
         "gp-ei,random", "--runs", "2", "--cycles", "8", "--at", "8", "--out", str(out),
         "--no-progress"],
    )  # fmt: skip
    assert ran.exit_code == 0, ran.output
    assert "| designs | gp-ei | 2 |" in ran.output


def test_a_folder_reused_with_another_direction_or_a_changed_csv_runs_afresh(tmp_path):
    table = tmp_path / "designs.csv"
    x = np.linspace(0, 1, 40)
    pd.DataFrame({"x": x, "y": np.sin(6 * x)}).to_csv(table, index=False)
    settings = dict(runs=2, cycles=8, at=8, objective="y")

    def top(out, direction):
        result = run_benchmark([str(table)], ["gp-ucb"], out=out, direction=direction, **settings)
        return result.runs[["top", "cycles", "pool"]].to_dict("list")

    top(tmp_path / "reused", "max")
    assert top(tmp_path / "reused", "min") == top(tmp_path / "fresh", "min")
    pd.DataFrame({"x": x[:20], "y": np.cos(6 * x[:20])}).to_csv(table, index=False)
    assert top(tmp_path / "reused", "min") == top(tmp_path / "fresh-data", "min")
    assert len(ResultsFile(tmp_path / "reused").rows()) == 6  # each definition run once


def test_two_csv_files_of_one_name_are_refused_before_any_run(tmp_path):
    frame = pd.DataFrame({"x": np.linspace(0, 1, 30), "y": np.linspace(0, 1, 30)})
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        frame.to_csv(tmp_path / folder / "screen.csv", index=False)
    tables = [str(tmp_path / "a" / "screen.csv"), str(tmp_path / "b" / "screen.csv")]
    with pytest.raises(ConfigurationError, match="would share the name 'screen'"):
        run_benchmark(tables, ["random"], objective="y", direction="max", out=tmp_path / "o")
    assert not (tmp_path / "o").exists()


def test_a_run_that_fails_stops_the_benchmark_and_keeps_the_runs_before_it(tmp_path, monkeypatch):
    from discovery.benchmark import strategies

    original = strategies.Strategy.run

    def fails_on_run_two(self, dataset, initial, cycles, batch_size, seed):
        if seed == resolve_protocol("liang2021").run_seed(2):
            raise StrategyError("strategy 'random' re-proposed design 3 (simulated)")
        return original(self, dataset, initial, cycles, batch_size, seed)

    monkeypatch.setattr(strategies.Strategy, "run", fails_on_run_two)
    with pytest.raises(StrategyError, match="simulated"):
        run_benchmark(["perovskite"], ["random"], runs=4, cycles=6, at=6, out=tmp_path)
    assert sorted(_results(tmp_path)) == [("perovskite", "random", 0), ("perovskite", "random", 1)]


def test_a_csv_dataset_names_the_csv_line_and_value_it_cannot_use(tmp_path):
    frame = pd.DataFrame({"x": np.linspace(0, 1, 6), "y": ["1.5", "2", "12,5", "3", "4", "5"]})
    text, empty = tmp_path / "text.csv", tmp_path / "empty.csv"
    frame.to_csv(text, index=False)
    frame.assign(x=[0.0, 0.2, None, 0.6, 0.8, 1.0], y=range(6)).to_csv(empty, index=False)
    runner = CliRunner()
    arguments = ["--objective", "y", "--direction", "max", "--out", str(tmp_path / "out")]
    refused = runner.invoke(app, ["benchmark", str(text), *arguments])
    assert refused.exit_code == 2
    assert "objective 'y' is not a number ('12,5') in data row 3 (CSV line 4)" in refused.output
    refused = runner.invoke(app, ["benchmark", str(empty), *arguments])
    assert refused.exit_code == 2
    assert "feature 'x' is empty in data row 3 (CSV line 4); fill it in" in refused.output
    assert "--features" in refused.output and "impute" not in refused.output


def test_a_csv_written_with_its_row_index_does_not_hand_the_order_to_the_models(tmp_path):
    """A table sorted by its objective and saved with to_csv()'s defaults: its index,
    read back as 'Unnamed: 0', was a feature that ranked every design."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.random(30), "y": rng.random(30)}).sort_values("y")
    frame.reset_index(drop=True).to_csv(tmp_path / "sorted.csv")  # index=True
    with pytest.warns(UserWarning, match="'Unnamed: 0' has no header"):
        dataset = load_dataset(str(tmp_path / "sorted.csv"), "y", "max")
    assert dataset.features == ("x",)


def test_an_objective_named_as_a_history_column_is_refused_before_any_run(tmp_path):
    """A CSV whose objective column is "score" (the history's acquisition score) ran into
    "Cannot set a DataFrame with multiple columns to the single column best_so_far"
    in the middle of the first run."""
    table = tmp_path / "designs.csv"
    x = np.linspace(0, 1, 30)
    pd.DataFrame({"x": x, "score": np.sin(3 * x)}).to_csv(table, index=False)
    result = CliRunner().invoke(
        app, ["benchmark", str(table), "--objective", "score", "--direction", "max",
              "--runs", "1", "--cycles", "5", "--at", "5", "--out", str(tmp_path / "out")],
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert "['score'] share their names with columns of the campaign's history" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "out" / "results.jsonl").exists()


def _interruptible() -> None:
    """Ctrl-C as in a terminal, also where the suite itself was started in the background
    (which ignores SIGINT, and the command would inherit that)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_an_interrupted_benchmark_with_workers_stops_at_once(tmp_path):
    """Ctrl-C on `discovery benchmark --workers 2` left the command silent for half a
    minute or more, once for ever: the workers went on with their runs, recording
    nothing, and the interpreter waited for them at exit."""
    command = [
        sys.executable, "-m", "discovery", "benchmark", "perovskite",
        "--strategies", "gp-ei,random", "--runs", "8", "--cycles", "40", "--at", "10",
        "--no-progress", "--workers", "2", "--out", str(tmp_path),
    ]  # fmt: skip
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        preexec_fn=_interruptible,
    )  # fmt: skip
    results = tmp_path / "results.jsonl"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (results.exists() and results.read_text()):
        time.sleep(0.05)
    workers = psutil.Process(process.pid).children()
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=15)
    finally:
        process.kill()
    _, alive = psutil.wait_procs(workers, timeout=10)
    assert not alive


def test_a_benchmark_shorter_than_50_cycles_reports_top_at_its_last_cycle(tmp_path):
    """--cycles 20 alone was refused: "--at (50) must be between 1 and --cycles (20)"."""
    result = run_benchmark(["perovskite"], ["random"], runs=1, cycles=20, out=tmp_path)
    assert "top@20" in result.table.columns


@pytest.mark.parametrize("content", [b"", b"x,y\n1,2\n3,4,5,6\n", b"\xff\xfe\x00\x81binary\x00\n"])
def test_an_unreadable_csv_is_refused_in_one_line_naming_the_file(content, tmp_path):
    """An empty, ragged or binary file failed with pandas' EmptyDataError, ParserError or
    UnicodeDecodeError, naming no file."""
    table = tmp_path / "broken.csv"
    table.write_bytes(content)
    result = CliRunner().invoke(
        app, ["benchmark", str(table), "--objective", "y", "--direction", "max", "--out",
              str(tmp_path / "out")],
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert f"dataset {table}: not a readable CSV table" in result.output


def test_the_table_shows_half_cycles_and_compares_baselines_in_the_order_named():
    """A median of 9.5 cycles read "10" beside an AF computed from 9.5; and with the first
    strategy a baseline, its W/T/L columns came after those of baselines named later."""
    runs = pd.DataFrame(
        [
            {"dataset": "toy", "strategy": strategy, "run": run, "pool": 40, "good": 2,
             "top": top, "cycles": cycles, "seconds": 1.0}
            for strategy, tops, cycle_list in (
                ("baybe", (0.5, 1.0), (12, 13)),
                ("auto", (1.0, 1.0), (9, 10)),
                ("botorch", (0.5, 0.5), (20, np.inf)),
            )
            for run, (top, cycles) in enumerate(zip(tops, cycle_list, strict=True))
        ]
    )  # fmt: skip
    from discovery.benchmark.report import markdown, summary_table

    table = summary_table(runs, at=10, fraction=0.8, baselines=["baybe", "botorch"])
    compared = [c for c in table.columns if "W/T/L" in c]
    assert compared == [
        "top W/T/L vs baybe", "cycles W/T/L vs baybe",
        "top W/T/L vs botorch", "cycles W/T/L vs botorch",
    ]  # fmt: skip
    auto = markdown(table, at=10, fraction=0.8, cycles=30).splitlines()[3]
    assert "| auto | 2 |" in auto
    assert "| 9.5 [9-10] (32) |" in auto
    assert f"| {32 / 9.5:.2f} |" in auto
