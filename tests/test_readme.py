"""The README's quick start runs as written."""

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def python_block(heading: str) -> str:
    section = README.read_text().split(heading, 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def quick_start() -> str:
    return python_block("## Quick start")


def test_quick_start_runs_and_finds_a_good_condition(capsys):
    code = quick_start()
    assert len([line for line in code.splitlines() if line.strip()]) <= 15
    namespace: dict = {}
    exec(compile(code, str(README), "exec"), namespace)
    result = namespace["result"]
    assert len(result.history) == 20 and result.history["candidate_id"].is_unique
    assert result.summary()["best_value"] > -0.05  # optimum 0 at (520, 0.35)


@pytest.mark.slow  # 16 s; stores and resumes have their own tests in the default run
def test_durable_campaign_example_runs_on_the_quick_start_pool(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(quick_start(), str(README), "exec"), namespace)
    exec(compile(python_block("## Durable campaigns"), str(README), "exec"), namespace)
    assert namespace["campaign"].config.budget == 80
    assert len(namespace["suggestions"]) == 4
    from discovery import CampaignStore

    told = CampaignStore(tmp_path / "bench.sqlite", read_only=True).measurements()
    assert [c for c, _, _ in told] == ["my-idea", namespace["suggestions"].candidate_id[0]]


def test_materials_example_relaxes_copper_with_emt():
    namespace: dict = {}
    exec(compile(python_block("## Materials"), str(README), "exec"), namespace)
    result = namespace["result"]
    assert result.summary()["succeeded"] == 4
    assert result.best["candidate_id"] in namespace["structures"]


def test_continuous_quick_start_runs_and_finds_the_good_region():
    namespace: dict = {}
    exec(
        compile(python_block("## Quick start: a continuous space"), str(README), "exec"), namespace
    )
    result = namespace["result"]
    assert len(result.history) == 20 and result.history["candidate_id"].is_unique
    best = result.best
    assert best["solvent"] == "THF" and abs(best["temperature"] - 80) < 20


def test_several_objectives_example_finds_a_feasible_front():
    namespace: dict = {}
    exec(compile(python_block("## Several objectives"), str(README), "exec"), namespace)
    result = namespace["result"]
    front = result.pareto_front()
    assert len(result.history) == 15 and len(front) >= 2
    assert (front["impurity"] <= 0.05).all()
    # along the front, a higher yield costs more
    assert front.sort_values("yield")["cost"].is_monotonic_increasing
