"""Every campaign reports the reinforcement-learning view: reward, cumulative reward, regret."""

import io

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from discovery import Campaign, ConfigurationError, FunctionOracle, LookupOracle
from discovery.cli import app
from discovery.rewards import best_position
from tests.test_campaign import POOL, campaign

BEST_Y = float(POOL.frame["y"].max())


def test_an_emulator_campaign_knows_its_optimum_and_reports_regret():
    result = campaign(budget=15).run(progress=False)
    history = result.history
    measured = history["y"].to_numpy()
    assert result.optimum == pytest.approx(BEST_Y)
    assert np.allclose(history["reward"], measured)
    assert np.allclose(history["cumulative_reward"], np.cumsum(measured))
    assert np.allclose(history["cumulative_regret"], np.cumsum(BEST_Y - measured))
    assert np.allclose(history["simple_regret"], BEST_Y - np.maximum.accumulate(measured))
    assert (np.diff(history["simple_regret"]) <= 0).all()  # never gets worse
    summary = result.summary()
    assert summary["cumulative_reward"] == pytest.approx(measured.sum())
    assert summary["cumulative_regret"] == pytest.approx((BEST_Y - measured).sum())


def test_a_minimising_campaign_rewards_low_values():
    oracle = LookupOracle.from_pool(POOL, "y")
    result = Campaign(
        POOL, oracle, "y", maximize=False, surrogate="forest", budget=8, n_initial=4
    ).run(progress=False)
    y = result.history["y"].to_numpy()
    assert np.allclose(result.history["reward"], -y)
    assert result.optimum == pytest.approx(POOL.frame["y"].min())
    assert result.summary()["simple_regret"] == pytest.approx(y.min() - POOL.frame["y"].min())


def test_without_a_known_optimum_regret_is_absent_not_invented():
    def measure(parameters):
        return {"y": parameters["a"]}

    result = Campaign(
        POOL, FunctionOracle(measure, output="y"), "y", surrogate="forest", budget=6, n_initial=3
    ).run(progress=False)
    assert result.optimum is None
    assert result.history["simple_regret"].isna().all()
    assert result.summary()["cumulative_regret"] is None
    assert result.summary()["cumulative_reward"] == pytest.approx(result.history["y"].sum())


def test_the_cumulative_goal_defaults_to_gp_ucb():
    chosen = campaign(goal="cumulative", acquisition=None, surrogate="gp", budget=8)
    assert chosen.config.acquisition == "ucb" and chosen.config.goal == "cumulative"
    assert campaign(acquisition=None).config.acquisition == "ei"
    with pytest.raises(ConfigurationError, match="goal must be one of"):
        campaign(goal="most")


def test_status_shows_reward_and_regret(tmp_path):
    store = tmp_path / "c.sqlite"
    campaign(budget=8, store=store).run(progress=False)
    status = CliRunner().invoke(app, ["status", str(store)])
    assert status.exit_code == 0, status.output
    assert "cumulative reward" in status.output and "regret (simple / cumulative)" in status.output


def test_a_missing_value_is_never_the_best():
    values = [np.nan, 1.0, 3.0, np.nan]
    assert best_position(values, maximize=True) == 2
    assert best_position(values, maximize=False) == 1
    assert best_position(values, maximize=True, closest_to=1.2) == 1
    assert best_position([np.nan, np.nan], maximize=True) == 0


def impurity_bound_campaign(**options):
    """y = x on ten points, feasible while the impurity (also x) stays <= 0.5."""
    from discovery import CandidatePool, OutcomeConstraint

    x = np.linspace(0, 1, 10)
    frame = pd.DataFrame({"x": x, "z": np.cos(7 * x), "y": x, "impurity": x})
    pool = CandidatePool.from_frame(frame, features=["x", "z"])
    oracle = LookupOracle.from_pool(pool, "y", others=["impurity"])
    bound = [OutcomeConstraint("impurity", "<=", 0.5)]
    return Campaign(pool, oracle, "y", outcome_constraints=bound, surrogate="forest", **options)


def test_under_outcome_constraints_regret_is_measured_to_the_best_feasible_design():
    result = impurity_bound_campaign(budget=10, n_initial=5, seed=0).run(progress=False)
    assert result.optimum == pytest.approx(4 / 9)  # the largest x that keeps impurity <= 0.5
    assert result.summary()["simple_regret"] == pytest.approx(0.0)


def test_failed_and_infeasible_experiments_add_the_regret_of_the_best_so_far():
    """Infeasible experiments added no regret: six of them had a cumulative regret of 0,
    better than six feasible ones near the optimum, so a strategy that wasted its budget
    looked best."""
    from discovery.benchmark.strategies import GivenDesign

    given = GivenDesign((9, 1, 8))
    result = impurity_bound_campaign(budget=3, n_initial=3, initial_design=given).run(
        progress=False
    )
    history = result.history  # infeasible, feasible at x = 1/9, infeasible; optimum 4/9
    assert list(history["feasible"]) == [False, True, False]
    np.testing.assert_allclose(history["cumulative_regret"], [1 / 3, 2 / 3, 1.0])
    assert history["simple_regret"].iloc[0] != history["simple_regret"].iloc[0]  # unknown


def test_experiments_still_open_add_no_regret_until_they_are_told(tmp_path):
    """Two experiments asked and not yet told added the regret of the best so far to the
    cumulative regret, as failed ones do, and their rows changed again once told."""
    store = tmp_path / "c.sqlite"
    run = campaign(budget=8, n_initial=2, store=store, optimum=BEST_Y)

    def value(candidate_id):
        return float(POOL.frame["y"].iloc[POOL.index_of(candidate_id)])

    def exported():
        text = CliRunner().invoke(app, ["export", str(store)]).output
        return pd.read_csv(io.StringIO(text), dtype={"candidate_id": str})

    told = list(run.ask(2)["candidate_id"])
    for candidate_id in told:
        run.tell(candidate_id, value(candidate_id))
    still_open = list(run.ask(2)["candidate_id"])
    regret = sum(BEST_Y - value(candidate_id) for candidate_id in told)
    history = exported()
    assert list(history["state"]) == ["succeeded", "succeeded", "asked", "asked"]
    np.testing.assert_allclose(history["cumulative_regret"].iloc[1:], regret)
    status = CliRunner().invoke(app, ["status", str(store)]).output
    assert f"/ {regret:.4g} (optimum" in status and "over 2 measurements" in status

    run.tell(still_open[0], value(still_open[0]))
    regret += BEST_Y - value(still_open[0])
    np.testing.assert_allclose(exported()["cumulative_regret"].iloc[2:], regret)


def test_nothing_measured_has_no_regret_to_report():
    def fails(parameters):
        raise RuntimeError("the furnace is off")

    result = Campaign(
        POOL, FunctionOracle(fails, output="y"), "y", surrogate="forest", budget=3, n_initial=3,
        optimum=BEST_Y,
    ).run(progress=False)  # fmt: skip
    assert result.summary()["cumulative_regret"] is None
    assert result.summary()["cumulative_reward"] == 0.0


def test_designs_told_from_outside_the_pool_are_not_summed_into_the_campaigns_reward():
    """Twenty legacy results above the pool's optimum made a campaign whose experiments
    earned about -0.6 report a cumulative reward of 98 and a regret of -98."""
    run = campaign(budget=6, n_initial=3)
    for i in range(20):
        run.tell(f"legacy{i}", 5.0, parameters={"a": 0.3, "b": 0.6 + i * 1e-3})
    history = run.run(progress=False).history
    own = history[history["kind"] != "external"]
    summary = run.run(progress=False).summary()
    assert summary["cumulative_reward"] == pytest.approx(own["y"].sum())
    assert summary["cumulative_regret"] == pytest.approx((BEST_Y - own["y"]).sum())
    assert summary["simple_regret"] == pytest.approx(BEST_Y - own["y"].max())
