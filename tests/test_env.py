"""The campaign's world as a gymnasium environment passes gymnasium's own checker."""

import numpy as np
import pytest

pytest.importorskip("gymnasium")

from gymnasium.utils.env_checker import check_env

from discovery import Campaign, ConfigurationError, FunctionOracle, Real, Space
from discovery.env import DiscoveryEnv
from tests.test_campaign import ORACLE, POOL

BEST_Y = float(POOL.frame["y"].max())


def environment(**options) -> DiscoveryEnv:
    campaign = Campaign(POOL, ORACLE, "y", surrogate="forest", budget=10, n_initial=3)
    return DiscoveryEnv.from_campaign(campaign, **options)


# rewards are measured values: their range is not known in advance, so the Box is unbounded
@pytest.mark.filterwarnings("ignore:.*Box observation space (minimum|maximum) value")
def test_gymnasium_check_env_passes():
    check_env(environment(), skip_render_check=True)


def test_a_step_measures_the_candidate_and_rewards_its_value():
    env = environment()
    observation, _ = env.reset(seed=0)
    assert observation["measured"].sum() == 0
    best = int(np.argmax(POOL.frame["y"].to_numpy()))
    observation, reward, terminated, truncated, info = env.step(best)
    assert reward == pytest.approx(BEST_Y) and info["regret"] == pytest.approx(0.0)
    assert observation["measured"][best] == 1 and observation["values"][best] == pytest.approx(
        BEST_Y
    )
    assert not terminated and not truncated


def test_an_episode_lasts_the_budget_and_a_random_agent_earns_reward():
    env = environment()
    env.reset(seed=1)
    total, steps, truncated = 0.0, 0, False
    while not truncated:
        _, reward, terminated, truncated, _ = env.step(env.action_space.sample())
        total, steps = total + reward, steps + 1
        assert not terminated
    assert steps == 10 and total < 0  # every y in this pool is <= 0


def test_repeats_can_be_forbidden_and_bad_actions_are_named():
    env = environment(repeats=False)
    env.reset()
    env.step(3)
    _, reward, terminated, _, info = env.step(3)
    assert terminated and "measured already" in info["error"]
    assert reward == pytest.approx(POOL.frame["y"].iloc[3])  # the worst earned, no better
    with pytest.raises(ConfigurationError, match=r"candidate index in \[0, 150\)"):
        env.step(150)


def test_a_failed_experiment_earns_nothing_and_says_why():
    def broken(parameters):
        raise RuntimeError("detector saturated")

    env = DiscoveryEnv(POOL, FunctionOracle(broken, output="y"), "y", budget=2)
    env.reset()
    _, reward, _, _, info = env.step(0)
    assert reward == 0.0 and "detector saturated" in info["error"]


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")])
def test_a_result_that_is_not_finite_earns_what_a_failed_experiment_earns(value):
    # a campaign records such a result as failed; the agent's reward and regret stay numbers
    best = int(np.argmax(POOL.frame["y"].to_numpy()))
    best_id = POOL.ids[best]

    def measure(candidate):
        return BEST_Y if candidate.id == best_id else value

    env = DiscoveryEnv(POOL, FunctionOracle(measure, output="y"), "y", budget=5, optimum=BEST_Y)
    env.reset(seed=0)
    observation, reward, _, _, info = env.step(0)
    assert reward == 0.0 and info["error"] == f"result 'y' is not finite: {value}"
    assert observation["measured"][0] == 0 and "regret" not in info
    env.step(best)
    _, reward, _, _, info = env.step(1)
    assert reward == BEST_Y and info["error"] == f"result 'y' is not finite: {value}"
    assert info["regret"] == pytest.approx(0.0)


def test_a_failure_never_pays_better_than_a_measurement():
    # every y in this pool is < 0: a failure earning 0 would be the best move
    best = int(np.argmax(POOL.frame["y"].to_numpy()))
    best_id = POOL.ids[best]

    def furnace(candidate):
        if candidate.id != best_id:
            raise RuntimeError("furnace tripped")
        return float(POOL.frame["y"].iloc[best])

    env = DiscoveryEnv(POOL, FunctionOracle(furnace, output="y"), "y", budget=5)
    env.reset()
    _, measured, _, _, _ = env.step(best)
    _, failed, _, _, info = env.step(0)
    assert "furnace tripped" in info["error"] and failed == measured < 0
    fixed = DiscoveryEnv(POOL, FunctionOracle(furnace, output="y"), "y", failure_reward=-1e3)
    fixed.reset()
    assert fixed.step(0)[1] == -1e3
    with pytest.raises(ConfigurationError, match="failure_reward must be a finite number"):
        DiscoveryEnv(POOL, ORACLE, "y", failure_reward=float("nan"))


def test_a_campaign_over_a_declared_space_is_refused_by_name():
    space = Space([Real("x", 0.0, 1.0)])
    oracle = FunctionOracle(lambda candidate: candidate.parameters["x"], output="y")
    campaign = Campaign(space, oracle, "y", budget=5, n_initial=2, name="furnace")
    with pytest.raises(ConfigurationError, match="campaign 'furnace' searches a declared space"):
        DiscoveryEnv.from_campaign(campaign)
