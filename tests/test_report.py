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
        outcome = runner.invoke(app, [*command, "--store", str(store), "--no-progress"])
        assert outcome.exit_code == 0, outcome.output
        made[name] = store
    return made


def _browser():
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium, (
        "Debian's chromium is needed (make setup installs it: apt-get install chromium)"
    )
    return sync_playwright(), chromium


@pytest.mark.parametrize("name", CAMPAIGNS)
def test_every_figure_renders_offline_in_chromium(stores, name, tmp_path):
    info = write_report(stores[name], tmp_path / "report.html")
    assert CAMPAIGNS[name][1] <= set(info.figures)
    manager, chromium = _browser()
    with manager as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
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
        browser.close()


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


def test_a_running_campaign_is_reported_without_being_disturbed(tmp_path):
    store, side_log = tmp_path / "running.sqlite", tmp_path / "side.log"
    script = [sys.executable, str(ROOT / "tests" / "crash_campaign.py"), str(store), str(side_log)]
    worker = subprocess.Popen([*script, "--seconds", "0.15"], cwd=ROOT)
    reports = []
    try:
        while worker.poll() is None:
            if store.exists():
                try:
                    reports.append(write_report(store, tmp_path / "live.html", refresh_seconds=2))
                except StoreError as error:  # the campaign's first transaction not yet committed
                    assert "holds no campaign" in str(error) or "no such table" in str(error)
            time.sleep(0.2)
    finally:
        worker.wait(timeout=120)
    assert worker.returncode == 0
    assert any(r.is_running for r in reports)
    assert 'http-equiv="refresh"' in (tmp_path / "live.html").read_text()
    final = load_campaign(store)
    assert len(final.result.history) == 24 and (final.result.history["state"] == "succeeded").all()
    with sqlite3.connect(store) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_an_empty_campaign_says_so(tmp_path):
    import pandas as pd

    from discovery import CandidatePool

    pool = CandidatePool.from_frame(pd.DataFrame({"x": np.linspace(0, 1, 20)}))
    store = tmp_path / "empty.sqlite"
    Campaign(pool, None, "y", budget=10, store=store).ask(2)
    info = write_report(store, tmp_path / "empty.html")
    assert info.figures == () and "No measurements yet" in info.path.read_text()


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
