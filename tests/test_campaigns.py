"""The example campaigns run end to end on real data and do what they promise."""

import importlib.util
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from discovery import Campaign
from discovery.exceptions import ConfigurationError

CAMPAIGNS = Path(__file__).resolve().parents[1] / "campaigns"


def load(name: str):
    spec = importlib.util.spec_from_file_location(f"campaign_{name}", CAMPAIGNS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def top_found(module, campaign: Campaign) -> int:
    result = campaign.run(progress=False)
    assert result.history["candidate_id"].is_unique
    return len(module.top_designs(campaign.pool) & set(result.measured["candidate_id"]))


@pytest.mark.slow  # over a minute: six 40-experiment campaigns
def test_crossed_barrel_model_based_campaigns_beat_random():
    module = load("crossed_barrel")
    base = module.make_campaign().replace(budget=40)
    seeds = (0, 1)
    found = {
        name: np.mean([top_found(module, base.replace(seed=s, **options)) for s in seeds])
        for name, options in {
            "gp+ei": {"surrogate": "gp", "acquisition": "ei", "acquisition_params": {}},
            "forest+ei": {"surrogate": "forest", "acquisition": "ei", "acquisition_params": {}},
            "random": {"acquisition": "random", "acquisition_params": {}},
        }.items()
    }
    # Random finds 40 * 30 / 600 = 2 top-5 % designs on average.
    assert found["random"] <= 4
    assert found["gp+ei"] > 2 * max(found["random"], 1)
    assert found["forest+ei"] > 2 * max(found["random"], 1)


def test_lennard_jones_active_learning_beats_random_once_the_curve_is_sampled():
    module = load("lennard_jones")
    curves = {}
    for acquisition in ("uncertainty", "random"):
        campaign = module.make_campaign(acquisition)
        curves[acquisition] = module.learning_curve(campaign, campaign.run(progress=False))
    assert curves["uncertainty"][15] < curves["uncertainty"][3]
    assert curves["uncertainty"][15] < curves["random"][15]


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_crossed_barrel_default_campaign_finds_a_third_of_the_top_designs(seed):
    module = load("crossed_barrel")
    assert top_found(module, module.make_campaign().replace(seed=seed)) >= 10


@pytest.mark.slow
def test_crossed_barrel_neural_ensemble_finds_twice_random():
    module = load("crossed_barrel")
    base = module.make_campaign()
    found = {
        name: np.median([top_found(module, base.replace(seed=s, **options)) for s in (0, 1, 2)])
        for name, options in {
            "neural": {"surrogate": "neural", "acquisition": "ei", "acquisition_params": {}},
            "random": {"acquisition": "random", "acquisition_params": {}},
        }.items()
    }
    assert found["neural"] >= 2 * max(found["random"], 2.5)  # random's expectation is 2.5


def test_emt_alloy_campaign_relaxes_real_structures_and_reproduces_the_simulated_truth():
    module = load("emt_alloys")
    result = module.make_campaign(seed=0).replace(budget=7).run(progress=False)
    measured = result.measured.set_index("candidate_id")[module.OBJECTIVE]
    assert len(measured) == 7
    truth = pd.read_csv(module.TRUTH).set_index("candidate_id")["mixing_energy"]
    np.testing.assert_allclose(measured, truth[measured.index], atol=2e-4)
    assert result.best[module.OBJECTIVE] == measured.min()
    assert "first top-5 % alloy at experiment" in module.summarize(result)


def test_band_gap_campaign_aims_at_the_goal_and_the_store_says_so(tmp_path):
    from typer.testing import CliRunner

    from discovery.cli import app

    store = tmp_path / "gap.sqlite"
    runner = CliRunner()
    ran = runner.invoke(
        app,
        ["run", str(CAMPAIGNS / "band_gap.py"), "--budget", "12", "--store", str(store),
         "--out", str(tmp_path / "gap.csv")],
    )  # fmt: skip
    assert ran.exit_code == 0, ran.output
    assert "closest to 1.4" in ran.output and "closest composition" in ran.output
    status = runner.invoke(app, ["status", str(store)])
    assert status.exit_code == 0 and "closest to 1.4" in status.output
    history = pd.read_csv(io.StringIO(runner.invoke(app, ["export", str(store)]).output))
    gaps = history["gap expt"].dropna()
    assert abs(history["best_so_far"].iloc[-1] - 1.4) == (gaps - 1.4).abs().min()


def test_molecules_xtb_campaign_computes_gfn2_dipoles_of_relaxed_molecules():
    pytest.importorskip("tblite")
    module = load("molecules_xtb")
    result = module.make_campaign(seed=0).replace(budget=6).run(progress=False)
    dipoles = result.measured.set_index("candidate_id")[module.OBJECTIVE]
    assert len(dipoles) == 6 and (dipoles >= 0).all()
    if "CH4" in dipoles.index:  # a symmetric molecule has none
        assert dipoles["CH4"] < 0.05
    assert "most polar molecule found" in module.summarize(result)


@pytest.mark.parametrize(
    ("protocol", "address"), [("http", "http://127.0.0.1:"), ("sila", "127.0.0.1:")]
)
def test_lab_robot_campaign_runs_against_the_simulated_lab(monkeypatch, protocol, address):
    if protocol == "sila":
        pytest.importorskip("sila2")
    for variable in ("LAB_URL", "LAB_SILA"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("LAB_PROTOCOL", protocol)
    module = load("lab_robot")
    result = module.make_campaign(seed=0).replace(budget=8).run(progress=False)
    assert len(result.history) == 8 and result.history["candidate_id"].is_unique
    lines = module.summarize(result)
    assert lines["lab"].startswith(address)
    assert "succeeded" in lines["experiments the lab ran"]


def test_lab_robot_campaign_names_an_unknown_protocol(monkeypatch):
    monkeypatch.setenv("LAB_PROTOCOL", "modbus")
    with pytest.raises(ConfigurationError, match="LAB_PROTOCOL must be http or sila"):
        load("lab_robot").make_campaign()


def test_reaction_yield_campaign_lets_a_portfolio_choose_and_reports_the_arms():
    module = load("reaction_yield")
    pool = module.load_pool()
    assert len(pool) == 3696 and pool.features.shape[1] == 29
    result = module.make_campaign(seed=0).replace(budget=9).run(progress=False)
    assert len(result.history) == 9 and result.history["candidate_id"].is_unique
    arms = result.arms()
    assert list(arms["arm"]) == module.ARMS and arms["picks"].sum() == 4
    assert result.optimum == 100.0 and result.summary()["cumulative_regret"] > 0
    assert module.summarize(result)["top-1 % conditions run"].endswith("/ 37")


def test_flow_reactor_campaign_proposes_reactor_settings_and_beats_its_initial_design():
    module = load("flow_reactor")
    campaign = module.make_campaign().replace(budget=12)
    result = campaign.run(progress=False)
    history = result.history
    assert len(history) == 12 and history["sty"].notna().all()
    space = module.reactor_space()
    for _, row in history.iterrows():
        assert space.violation({n: row[n] for n in space.names}) is None
    initial = history[history["iteration"] == 0]["sty"].max()
    assert history["sty"].max() > initial


def test_noble_gas_crystal_campaign_finds_xenon_near_its_lattice_minimum():
    module = load("noble_gas_crystal")
    result = module.make_campaign().run(progress=False)
    best = result.best
    assert best["element"] == "Xe" and abs(best["reduced_lattice"] - 1.547) < 0.03
    assert set(result.history["element"]) <= {"Ne", "Ar", "Kr", "Xe"}


@pytest.mark.slow  # 24 s; the same campaign runs from the command line for the report's tests
def test_flow_reactor_pareto_campaign_maps_a_front_from_the_command_line(tmp_path):
    from typer.testing import CliRunner

    from discovery.cli import app

    out = tmp_path / "front.csv"
    result = CliRunner().invoke(
        app,
        ["run", str(CAMPAIGNS / "flow_reactor_pareto.py"), "--budget", "16", "--out", str(out),
         "--store", str(tmp_path / "front.sqlite"), "--no-progress"],
        env={"COLUMNS": "200"},
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Pareto front" in result.output and "cleanest on the front" in result.output
    history = pd.read_csv(out)
    front = history[history["pareto"]]
    assert len(history) == 16 and len(front) >= 2
    # along the front, more space-time yield costs a higher E-factor
    ordered = front.sort_values("sty")
    assert ordered["e_factor"].is_monotonic_increasing


def test_redoxmers_pool_holds_every_molecule_and_its_front():
    module = load("redoxmers_pareto")
    pool = module.load_pool()
    assert len(pool) == 1408 and pool.features.shape[1] == 25
    assert len(module.true_front()) == 22
    campaign = module.make_campaign(seed=1).replace(budget=12)
    result = campaign.run(progress=False)
    front = result.pareto_front()
    assert len(front) >= 1 and set(front["candidate_id"]) <= set(pool.ids)
    summary = module.summarize(result)
    assert summary["true Pareto front measured"].endswith("/ 22")


@pytest.mark.slow  # 12 s of EMT relaxations; the single-objective EMT campaign stays in the default run
def test_emt_alloys_pareto_campaign_measures_stability_and_density_as_the_truth_says(
    monkeypatch,
):
    monkeypatch.syspath_prepend(str(CAMPAIGNS))  # it builds on emt_alloys.py beside it
    module = load("emt_alloys_pareto")
    result = module.make_campaign(seed=0).replace(budget=8).run(progress=False)
    measured = result.measured.set_index("candidate_id")
    truth = pd.read_csv(CAMPAIGNS / "data" / "emt_alloys" / "energies.csv")
    truth = truth.set_index("candidate_id").loc[measured.index]
    np.testing.assert_allclose(measured["density"], truth["density"], rtol=1e-4)
    np.testing.assert_allclose(
        measured["formation_energy_per_atom"], truth["mixing_energy"], atol=2e-4
    )
    assert len(result.pareto_front()) >= 1
    assert module.summarize(result)["true Pareto front measured"].endswith(
        f"/ {len(module.true_front())}"
    )
