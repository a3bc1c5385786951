"""``discovery report``: the HTML page of a stored campaign, checked as a person sees it
(headless Chromium, offline), while a campaign runs, and on bad input."""

from __future__ import annotations

import io
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from typer.testing import CliRunner

from discovery import Campaign
from discovery.cli import app
from discovery.exceptions import StoreError
from discovery.report import load_campaign, write_report

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = ROOT / "tests" / "screenshots"
runner = CliRunner()

#: Each example campaign, its budget here, and the figures its report must draw.
CAMPAIGNS = {
    "crossed_barrel": (12, {"best_so_far", "measured", "parity", "space_map", "importance"}),
    "reaction_yield": (12, {"best_so_far", "measured", "parity", "space_map", "arms"}),
    "flow_reactor": (10, {"best_so_far", "measured", "parity", "space_map", "importance"}),
    "flow_reactor_pareto": (10, {"best_so_far", "parity", "space_map", "pareto"}),
}


@pytest.fixture(scope="module")
def stores(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("stores")
    made = {}
    for name, (budget, _) in CAMPAIGNS.items():
        store = folder / f"{name}.sqlite"
        command = ["run", str(ROOT / "campaigns" / f"{name}.py"), "--budget", str(budget)]
        options = ["--store", str(store), "--out", str(folder / f"{name}.csv"), "--no-progress"]
        outcome = runner.invoke(app, [*command, *options])
        assert outcome.exit_code == 0, outcome.output
        made[name] = store
    return made


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium, "Debian's chromium is needed (make test installs it: apt-get install chromium)"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.mark.parametrize("name", CAMPAIGNS)
def test_every_figure_renders_offline_in_chromium(stores, browser, name, tmp_path):
    info = write_report(stores[name], tmp_path / "report.html")
    assert CAMPAIGNS[name][1] <= set(info.figures)
    context = browser.new_context(offline=True, viewport={"width": 1100, "height": 900})
    page = context.new_page()
    problems = []
    page.on("console", lambda m: m.type == "error" and problems.append(m.text))
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("requestfailed", lambda request: problems.append(f"request {request.url}"))
    page.goto(info.path.as_uri(), wait_until="load")
    assert problems == []
    for figure in info.figures:
        element = page.locator(f"#figure-{figure} svg")
        box = element.bounding_box()
        assert box["width"] > 300 and box["height"] > 150, figure
        shot = Image.open(io.BytesIO(element.screenshot())).convert("RGB")
        colours = len(set(np.asarray(shot).reshape(-1, 3).view("V3").ravel().tolist()))
        assert colours > 20, f"{figure} looks blank ({colours} colours)"
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"report-{name}.png", full_page=True)
    context.close()


def test_report_summarises_the_campaign_and_checks_its_health(stores, tmp_path):
    info = write_report(stores["crossed_barrel"], tmp_path / "report.html")
    page = info.path.read_text()
    assert "toughness (max)" in page and "12 of 12 experiments" in page
    assert page.count('class="verdict') >= 4 and "still improving" in page
    assert (
        "<h2>Top candidates</h2>" in page and "&quot;objective&quot;: &quot;toughness&quot;" in page
    )
    assert "http://" not in page.replace("http://www.w3.org", "")  # nothing fetched
    assert not info.is_running


def test_an_empty_campaign_says_so(tmp_path):
    import pandas as pd

    from discovery import CandidatePool

    pool = CandidatePool.from_frame(pd.DataFrame({"x": np.linspace(0, 1, 20)}))
    store = tmp_path / "empty.sqlite"
    Campaign(pool, None, "y", budget=10, store=store).ask(2)
    info = write_report(store, tmp_path / "empty.html")
    assert info.figures == () and "No measurements yet" in info.path.read_text()


def test_a_campaign_whose_experiments_all_failed_shows_why(tmp_path):
    from discovery import CandidatePool, FunctionOracle

    def broken(candidate):
        raise RuntimeError("the furnace is off")

    pool = CandidatePool.from_frame(pd.DataFrame({"x": np.linspace(0, 1, 20)}))
    store = tmp_path / "failed.sqlite"
    Campaign(
        pool, FunctionOracle(broken, output="y"), "y", budget=4, n_initial=2, store=store,
        max_retries=0,
    ).run(progress=False)  # fmt: skip
    info = write_report(store, tmp_path / "failed.html")
    page = info.path.read_text()
    assert info.figures == ("failures",) and "No experiment has succeeded" in page
    assert "4 of 4 experiments failed" in page


def test_bad_stores_get_one_line_errors(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("not a database " * 100)
    newer = tmp_path / "newer.sqlite"
    with sqlite3.connect(newer) as db:
        db.execute("PRAGMA user_version = 999")
    for path, message in [
        (text, "not a readable SQLite file"),
        (tmp_path / "absent.sqlite", "no such file"),
        (newer, "written by a newer discovery"),
    ]:
        outcome = runner.invoke(app, ["report", str(path)])
        assert outcome.exit_code == 2 and message in outcome.output, outcome.output
    assert not (tmp_path / "notes.html").exists()


def test_the_command_writes_beside_the_store(stores):
    outcome = runner.invoke(app, ["report", str(stores["flow_reactor"])])
    assert outcome.exit_code == 0, outcome.output
    assert "wrote" in outcome.output and stores["flow_reactor"].with_suffix(".html").is_file()


def test_watch_on_a_finished_campaign_writes_one_page_that_stays_put(stores, tmp_path):
    page = tmp_path / "done.html"
    command = ["report", str(stores["crossed_barrel"]), "-o", str(page), "--watch"]
    outcome = runner.invoke(app, [*command, "--every", "0.1"])
    assert outcome.exit_code == 0, outcome.output
    assert outcome.output.count("wrote") == 1 and "campaign finished" in outcome.output
    assert 'http-equiv="refresh"' not in page.read_text()


def test_watch_reports_a_running_campaign_without_disturbing_it_and_ends_with_it(tmp_path):
    store, side_log, page = tmp_path / "w.sqlite", tmp_path / "side.log", tmp_path / "w.html"
    script = [sys.executable, str(ROOT / "tests" / "crash_campaign.py"), str(store), str(side_log)]
    # no experiment starts before the first report exists: it sees the campaign running
    worker = subprocess.Popen([*script, "--seconds", "0.1", "--hold-until", str(page)], cwd=ROOT)
    while not store.exists() or not load_campaign_or_none(store):
        time.sleep(0.1)
    command = [sys.executable, "-m", "discovery", "report", str(store), "-o", str(page)]
    watcher = subprocess.run(
        [*command, "--watch", "--every", "0.5"], cwd=ROOT, capture_output=True, text=True,
        timeout=180,
    )  # fmt: skip
    worker.wait(timeout=60)
    assert watcher.returncode == 0, watcher.stderr
    lines = watcher.stdout.splitlines()
    assert "campaign running" in lines[0] and "campaign finished" in lines[-1]
    assert 'http-equiv="refresh"' not in page.read_text()  # the last page stays put
    assert worker.returncode == 0  # the campaign ran to its end beside the reports
    final = load_campaign(store)
    assert len(final.result.history) == 24 and (final.result.history["state"] == "succeeded").all()
    with sqlite3.connect(store) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def load_campaign_or_none(store: Path):
    try:
        return load_campaign(store)
    except StoreError:
        return None


def test_a_campaign_that_stopped_before_its_budget_is_reported_finished(tmp_path):
    from discovery import CandidatePool, Categorical, FunctionOracle, Integer, Space

    def x(candidate):
        return float(candidate.parameters["x"])

    grid = CandidatePool.from_frame(pd.DataFrame({"x": np.linspace(0, 1, 40)}))
    small = Space([Integer("x", 1, 3), Categorical("s", ["a", "b"])])  # 6 points
    for reason, pool, options in [
        ("target", grid, {"target": 0.9}),
        ("space exhausted", small, {}),
    ]:
        store = tmp_path / f"{reason}.sqlite"
        campaign = Campaign(pool, FunctionOracle(x, output="y"), "y", surrogate="forest",
                            budget=12, n_initial=5, seed=0, store=store, **options)  # fmt: skip
        assert campaign.run(progress=False).stopped_because == reason
        stored = load_campaign(store)
        assert not stored.is_running and stored.result.stopped_because == reason


def test_a_campaign_is_running_while_a_process_holds_it_and_its_last_experiments_are_out(
    tmp_path,
):
    from discovery.store import CampaignStore
    from tests.test_resume import POOL

    store = tmp_path / "asked.sqlite"
    Campaign(POOL, None, "y", surrogate="forest", budget=3, n_initial=3, store=store).ask(3)
    runner_process = CampaignStore(store)
    runner_process.acquire_lock()  # as a run dispatching those three would
    try:
        stored = load_campaign(store)
        assert stored.is_running and stored.state == "running"  # budget spent, none measured
    finally:
        runner_process.close()
    assert load_campaign(store).state == "finished"


def test_a_campaign_no_process_runs_is_stopped_and_watch_ends(tmp_path):
    from tests.test_resume import POOL

    store, page = tmp_path / "left.sqlite", tmp_path / "left.html"
    Campaign(POOL, None, "y", surrogate="forest", budget=10, n_initial=3, store=store).ask(3)
    stored = load_campaign(store)
    assert not stored.is_running and stored.state == "stopped"
    outcome = runner.invoke(
        app, ["report", str(store), "-o", str(page), "--watch", "--every", "0.1"]
    )
    assert outcome.exit_code == 0 and outcome.output.count("wrote") == 1
    assert "stopped before its end" in outcome.output
    assert "stopped before its end" in page.read_text()
    assert 'http-equiv="refresh"' not in page.read_text()


def test_stopping_the_watch_leaves_a_page_that_no_longer_reloads(tmp_path, monkeypatch):
    import discovery.cli.report as command
    from discovery.store import CampaignStore
    from tests.test_resume import POOL

    store, page = tmp_path / "watched.sqlite", tmp_path / "watched.html"
    Campaign(POOL, None, "y", surrogate="forest", budget=10, n_initial=3, store=store).ask(3)
    running = CampaignStore(store)
    running.acquire_lock()  # a campaign runs it

    def interrupted(seconds):
        assert 'http-equiv="refresh"' in page.read_text()  # reloading while watched
        raise KeyboardInterrupt

    monkeypatch.setattr(command.time, "sleep", interrupted)
    try:
        outcome = runner.invoke(app, ["report", str(store), "-o", str(page), "--watch"])
    finally:
        running.close()
    assert outcome.exit_code != 0 and outcome.output.count("wrote") == 2
    assert 'http-equiv="refresh"' not in page.read_text()


def test_the_model_check_does_not_pass_when_every_measurement_is_alike(tmp_path):
    from discovery import CandidatePool

    pool = CandidatePool.from_frame(pd.DataFrame({"x": np.linspace(0, 1, 20)}))
    store = tmp_path / "flat.sqlite"
    manual = Campaign(pool, None, "y", surrogate="forest", budget=10, store=store)
    for candidate in range(6):
        manual.tell(str(candidate), 2.0)
    page = write_report(store, tmp_path / "flat.html").path.read_text()
    assert "every measurement has the same value" in page
    assert "the model predicts better than the mean" in page


def test_a_pool_feature_named_like_the_measured_property_is_shown_beside_it(tmp_path):
    """A structure's unrelaxed density as a feature, its relaxed density measured: the
    report's table of the best designs failed on the shared name."""
    from discovery import CandidatePool, FunctionOracle

    frame = pd.DataFrame({"density": np.linspace(7.0, 9.0, 12), "x": np.linspace(0, 1, 12)})
    pool = CandidatePool.from_frame(frame)
    relaxed = FunctionOracle(lambda c: 1.02 * c.parameters["density"], output="density")
    store = tmp_path / "alloys.sqlite"
    Campaign(pool, relaxed, "density", surrogate="forest", budget=8, n_initial=4, store=store).run(
        progress=False
    )
    page = write_report(store, tmp_path / "alloys.html").path.read_text()
    assert "density (parameter)" in page


def _best_result_of(page: str) -> str:
    return page.split("<th>best result</th><td>", 1)[1].split("</td>", 1)[0]


def _told_campaign(tmp_path, values: dict[str, list[float]], **options) -> str:
    """The report page of a campaign told three measurements of candidates 0, 1, 2."""
    from discovery import CandidatePool

    pool = CandidatePool.from_frame(pd.DataFrame({"a": np.linspace(0, 1, 20)}))
    store = tmp_path / "told.sqlite"
    campaign = Campaign(
        pool, None, budget=10, n_initial=3, surrogate="forest", store=store, **options
    )
    campaign.tell(pd.DataFrame({"candidate_id": ["0", "1", "2"], **values}))
    return write_report(store, tmp_path / "told.html").path.read_text()


def test_the_best_result_of_one_objective_is_its_value(tmp_path):
    page = _told_campaign(tmp_path, {"y": [0.2, 0.9, 0.5]}, objective="y")
    assert _best_result_of(page) == "0.9 (1, experiment 2)"


def test_the_best_result_of_several_objectives_names_each_of_them(tmp_path):
    """Yield 90 at cost 9.5, 60 at 2, 30 at 1: the most desirable is the second, and the
    page said "best result: 60", which read as the best yield though 90 was measured."""
    from discovery import Objective

    objectives = [
        Objective("yield", "max", bounds=(0, 100)),
        Objective("cost", "min", bounds=(0, 10)),
    ]
    values = {"yield": [90.0, 60.0, 30.0], "cost": [9.5, 2.0, 1.0]}
    page = _told_campaign(tmp_path, values, objectives=objectives, mode="desirability")
    # desirability: the geometric mean of 0.6 and 0.8
    assert _best_result_of(page) == "yield 60, cost 2, desirability 0.693 (1, experiment 2)"


def test_the_best_result_of_a_pareto_front_is_its_size_and_hypervolume(tmp_path):
    """No one design is best on a front: the page showed the first objective's best value
    as if it were the campaign's result."""
    from discovery import Objective

    objectives = [Objective("yield", "max"), Objective("cost", "min")]
    values = {"yield": [90.0, 60.0, 30.0], "cost": [9.5, 2.0, 1.0]}  # each on the front
    page = _told_campaign(tmp_path, values, objectives=objectives, reference_point=(0, 10))
    # The region dominated above yield 0 and below cost 10: 90 x 0.5 + 60 x 7.5 + 30 x 1.
    assert _best_result_of(page) == "Pareto front of 3 designs, hypervolume 525"


@pytest.mark.parametrize(
    ("scale", "verdict", "words"),
    [(1.0, "ok", "inside their 95 %"), (3.0, "warning", "under-confident"),
     (0.3, "warning", "over-confident")],
)  # fmt: skip
def test_error_bars_too_wide_or_too_narrow_are_named(scale, verdict, words):
    from types import SimpleNamespace

    from discovery.diagnostics import calibration_metrics
    from discovery.report.health import _calibration_check

    errors = np.random.default_rng(0).normal(size=40)  # honest: std 1
    check = {"y": errors, "metrics": calibration_metrics(errors, np.zeros(40), np.full(40, scale))}
    plots = SimpleNamespace(
        result=SimpleNamespace(pool=object()),
        _enough_for_model=lambda: True,
        cross_validation=lambda: check,
    )
    calibration = _calibration_check(plots)
    assert calibration.verdict == verdict and words in calibration.detail
