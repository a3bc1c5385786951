"""Every place that names a campaign's best measurement names the same one: the history's
best so far, ``result.best`` and its summary, the status table and the report's top table."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from discovery import Campaign, CandidatePool, FunctionOracle, Objective
from discovery.cli import app
from discovery.history import outcome_lines
from discovery.report import load_campaign
from discovery.report.page import _top_table


def _told_campaign(store, objectives, measurements: dict[str, list[float]]):
    """A stored desirability campaign told ``measurements`` for candidates 0, 1, 2, ..."""
    pool = CandidatePool.from_frame(pd.DataFrame({"a": np.linspace(0, 1, 20)}))
    campaign = Campaign(
        pool, None, objectives=objectives, mode="desirability", budget=10, n_initial=3, store=store
    )
    told = pd.DataFrame(measurements)
    told.insert(0, "candidate_id", [str(i) for i in range(len(told))])
    campaign.tell(told)
    return load_campaign(store)


def _top_candidate_of_report(stored) -> str:
    """The candidate in the first row of the report's top-candidates table."""
    first_row = re.search(r"<tbody>\s*<tr>(.*?)</tr>", _top_table(stored), re.DOTALL).group(1)
    return re.findall(r"<td>(.*?)</td>", first_row)[1]  # after the experiment's number


def test_one_desirability_objective_names_the_same_best_everywhere(tmp_path):
    """With one objective in desirability mode, 1.5 and 3.0 both lie past the upper bound
    (desirability 1): best_so_far said 3.0, but the summary's best_value, the status line
    ("best feasible y 1.5") and the report's top table named candidate 0 with 1.5."""
    store = tmp_path / "one.sqlite"
    stored = _told_campaign(store, [Objective("y", "max", bounds=(0, 1))], {"y": [1.5, 3.0, 0.5]})
    result = stored.result
    summary = result.summary()
    assert result.history["best_so_far"].iloc[-1] == 3.0
    assert (summary["best_value"], summary["best_candidate"]) == (3.0, "1")
    assert result.best["candidate_id"] == "1"
    assert outcome_lines(result.history, stored.config.outcomes)["best feasible"] == (
        "y 3 (candidate 1)"
    )
    status = CliRunner().invoke(app, ["status", str(store)])
    assert status.exit_code == 0, status.output
    assert "y 3 (candidate 1)" in status.output
    assert _top_candidate_of_report(stored) == "1"


def test_several_desirability_objectives_name_the_most_desirable_everywhere(tmp_path):
    stored = _told_campaign(
        tmp_path / "two.sqlite",
        [Objective("y", "max", bounds=(0, 1)), Objective("cost", "min", bounds=(0, 10))],
        {"y": [0.9, 0.5, 0.8], "cost": [9.0, 1.0, 2.0]},  # desirabilities 0.3, 0.67, 0.8
    )
    result = stored.result
    assert result.history["best_so_far"].iloc[-1] == result.history["desirability"].max()
    assert result.summary()["best_candidate"] == "2"
    best_line = outcome_lines(result.history, stored.config.outcomes)["best feasible"]
    assert best_line.endswith("(candidate 2)")
    assert _top_candidate_of_report(stored) == "2"


def test_the_progress_bar_of_one_desirability_objective_shows_its_best_value(capsys):
    """The bar read "best feasible desirability: 1" while every value past the bound
    ties at 1; the summary names the best value, and so does the bar now."""
    pool = CandidatePool.from_frame(pd.DataFrame({"a": np.linspace(0, 1, 20)}))
    oracle = FunctionOracle(lambda candidate: 3 * float(candidate.parameters["a"]), output="y")
    campaign = Campaign(pool, oracle, objectives=[Objective("y", "max", bounds=(0, 1))],
                        mode="desirability", budget=6, n_initial=6, surrogate="forest")  # fmt: skip
    best = campaign.run().summary()["best_value"]
    assert f"best feasible y: {best:.4g}" in capsys.readouterr().out
