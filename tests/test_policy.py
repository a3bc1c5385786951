"""A portfolio policy learns during the run which strategy earns the reward."""

import math

import numpy as np
import pandas as pd
import pytest

from discovery import Campaign, CampaignStore, CandidatePool, ConfigurationError, LookupOracle
from discovery.history import arm_report
from discovery.policy import Arm, Portfolio
from tests.test_campaign import ORACLE, POOL

CHEAP_ARMS = ["forest-ei", "forest-greedy", "random"]


def portfolio_campaign(store=None, budget=16, **options) -> Campaign:
    policy = Portfolio(options.pop("arms", CHEAP_ARMS), **options)
    return Campaign(POOL, ORACLE, "y", budget=budget, n_initial=4, policy=policy, store=store)


def records(store) -> list[dict]:
    opened = CampaignStore(store, read_only=True)
    try:
        return opened.policy_records()
    finally:
        opened.close()


@pytest.mark.parametrize("algorithm", ["hedge", "exp3", "ucb1", "thompson"])
def test_each_iteration_records_the_arm_its_probabilities_and_credits(tmp_path, algorithm):
    store = tmp_path / "p.sqlite"
    result = portfolio_campaign(store, algorithm=algorithm).run(progress=False)
    steps = records(store)
    assert len(steps) == 12  # one per model iteration after the initial design of 4
    for step in steps:
        assert step["arm"] in CHEAP_ARMS
        assert math.isclose(sum(step["probabilities"].values()), 1.0, abs_tol=1e-9)
    assert any(step["credits"] for step in steps[1:])  # arms were credited as results came
    modelled = result.history[result.history["iteration"] > 0]
    assert modelled["arm"].tolist() == [step["arm"] for step in steps]
    report = arm_report(result.history, steps)
    assert report["picks"].sum() == 12
    assert report["reward"].sum() == pytest.approx(modelled["reward"].sum())


def test_hedge_credits_every_arm_through_the_model(tmp_path):
    store = tmp_path / "h.sqlite"
    portfolio_campaign(store, algorithm="hedge").run(progress=False)
    credited = [set(step["credits"]) for step in records(store)[1:]]
    assert all(arms == set(CHEAP_ARMS) for arms in credited)


def test_a_resumed_portfolio_campaign_makes_the_uninterrupted_choices(tmp_path):
    whole = portfolio_campaign(tmp_path / "a.sqlite", budget=16, algorithm="exp3")
    expected = whole.run(progress=False).history["candidate_id"].tolist()
    store = tmp_path / "b.sqlite"
    portfolio_campaign(store, budget=10, algorithm="exp3").run(progress=False)
    resumed = portfolio_campaign(store, budget=16, algorithm="exp3").run(progress=False)
    assert resumed.history["candidate_id"].tolist() == expected


@pytest.mark.parametrize("algorithm", ["hedge", "thompson"])
def test_campaign_resume_rebuilds_the_portfolio_from_its_store(tmp_path, algorithm):
    whole = portfolio_campaign(tmp_path / "a.sqlite", budget=12, algorithm=algorithm)
    expected = whole.run(progress=False).history["candidate_id"].tolist()
    store = tmp_path / "b.sqlite"
    portfolio_campaign(store, budget=8, algorithm=algorithm).run(progress=False)
    resumed = Campaign.resume(store, ORACLE, budget=12)
    assert resumed.policy.algorithm == algorithm and resumed.policy.names == CHEAP_ARMS
    assert resumed.run(progress=False).history["candidate_id"].tolist() == expected


def test_a_portfolio_a_name_cannot_rebuild_must_be_passed_to_resume(tmp_path):
    store = tmp_path / "own.sqlite"
    portfolio_campaign(store, budget=6, algorithm="exp3", reward=lambda v: -v).run(progress=False)
    with pytest.raises(ConfigurationError, match=r"pass it again: Campaign.resume"):
        Campaign.resume(store, ORACLE, budget=8)
    policy = Portfolio(CHEAP_ARMS, algorithm="exp3", reward=lambda v: -v)
    assert (
        len(Campaign.resume(store, ORACLE, budget=8, policy=policy).run(progress=False).history)
        == 8
    )


def test_a_nan_reward_is_recorded_as_failed_and_not_fed_to_the_bandit(tmp_path):
    store = tmp_path / "n.sqlite"
    portfolio_campaign(store, algorithm="ucb1", reward=lambda value: float("nan")).run(
        progress=False
    )
    steps = records(store)
    assert sum(len(step["failed_rewards"]) for step in steps) == 11  # all but the last pick
    assert steps[-1]["state"]["pulls"] == [0, 0, 0]
    assert not any(step["credits"] for step in steps)


def test_the_improvement_reward_and_a_reward_function_feed_the_bandit(tmp_path):
    for reward in ("improvement", lambda value: value**2):
        store = tmp_path / f"r{len(str(reward))}.sqlite"
        portfolio_campaign(store, algorithm="ucb1", reward=reward).run(progress=False)
        pulls = records(store)[-1]["state"]["pulls"]
        assert sum(pulls) == 11


def test_bad_portfolios_are_named():
    with pytest.raises(ConfigurationError, match="unknown arm 'gp-magic'"):
        Portfolio(["gp-ei", "gp-magic"])
    with pytest.raises(ConfigurationError, match="non-empty list of arms"):
        Portfolio([])
    with pytest.raises(ConfigurationError, match="unknown algorithm 'softmax'"):
        Portfolio(["gp-ei"], algorithm="softmax")
    with pytest.raises(ConfigurationError, match="reward must be one of"):
        Portfolio(["gp-ei"], reward="yield")
    with pytest.raises(ConfigurationError, match="distinct"):
        Portfolio(["gp-ei", Arm("gp-ei", "forest", "ucb")])
    with pytest.raises(ConfigurationError, match="policy must be a Portfolio"):
        Campaign(POOL, ORACLE, "y", policy="hedge")
    with pytest.raises(ConfigurationError, match="hedge credits every arm"):
        Portfolio(["gp-ei", "random"], algorithm="hedge", reward="improvement")


def test_a_portfolio_of_one_arm_is_that_strategy():
    alone = portfolio_campaign(arms=["forest-ei"], algorithm="ucb1").run(progress=False)
    fixed = Campaign(
        POOL, ORACLE, "y", surrogate="forest", acquisition="ei", budget=16, n_initial=4
    ).run(progress=False)
    assert np.array_equal(alone.history["candidate_id"], fixed.history["candidate_id"])


def test_a_portfolio_campaign_names_no_default_strategy_in_its_summary(tmp_path):
    from discovery.cli.run import summary_table

    campaign = portfolio_campaign(arms=["forest-ei", "random"], budget=6)
    result = campaign.run(progress=False)
    rows = summary_table(campaign, result, {}).columns[0]._cells
    assert "default chosen" not in rows


def test_a_portfolio_credits_arms_as_results_arrive_with_experiments_in_flight(tmp_path):
    store = tmp_path / "async.sqlite"
    policy = Portfolio(CHEAP_ARMS, algorithm="thompson")
    campaign = Campaign(
        POOL, ORACLE, "y", budget=14, n_initial=4, policy=policy, max_in_flight=3, store=store
    )
    result = campaign.run(progress=False)
    assert len(result.history) == 14 and result.history["candidate_id"].is_unique
    steps = records(store)
    # every pick but those still in flight at the last choice was credited
    assert sum(steps[-1]["state"]["pulls"]) >= len(steps) - 3


@pytest.mark.parametrize("algorithm", ["hedge", "ucb1"])
def test_minimising_a_mirrored_objective_makes_the_same_choices(algorithm):
    mirrored = CandidatePool.from_frame(POOL.frame.assign(y=-POOL.frame["y"]), objective="y")

    def chosen(pool, maximize):
        return (
            Campaign(
                pool,
                LookupOracle.from_pool(pool, "y"),
                "y",
                maximize=maximize,
                budget=16,
                n_initial=4,
                policy=Portfolio(CHEAP_ARMS, algorithm=algorithm),
            )
            .run(progress=False)
            .history["candidate_id"]
            .tolist()
        )

    assert chosen(mirrored, False) == chosen(POOL, True)  # arms credited for low values


def test_an_arm_set_up_otherwise_under_a_library_name_must_be_passed_again(tmp_path):
    """Arm("forest-ucb", ..., beta=25) was rebuilt by `discovery ask` as the library's
    forest-ucb with beta 1: another strategy, without a word."""
    bold = Arm("forest-ucb", "forest", "ucb", acquisition_params={"beta": 25.0})
    policy = Portfolio([bold, "random"], algorithm="exp3")
    path = tmp_path / "c.sqlite"
    Campaign(POOL, None, "y", policy=policy, n_initial=3, store=path).ask(1)
    with pytest.raises(ConfigurationError, match=r"arms \['forest-ucb'\] were set up otherwise"):
        Campaign.resume(path)
    assert len(Campaign.resume(path, policy=policy).ask(1)) == 2
    plain = Portfolio(["forest-ucb", "random"], algorithm="exp3")
    assert "custom_arms" not in plain.describe()  # stores of library arms are as before


def test_an_arm_whose_experiments_fail_is_credited_nothing_and_loses_its_lead(tmp_path):
    """A pick whose experiments all failed was never credited: an arm that had not yet
    succeeded kept UCB1's infinite index and was played until one of its picks happened
    to succeed (20 of 24 experiments failed in one campaign)."""
    from discovery import FunctionOracle

    measured = []

    def measure(candidate):
        if len(measured) == 4:  # the initial design succeeds, then the reactor clogs
            raise RuntimeError("reactor clogged")
        measured.append(candidate.id)
        return ORACLE.values[candidate.id]

    store = tmp_path / "f.sqlite"
    policy = Portfolio(["forest-greedy", "random"], algorithm="ucb1")
    Campaign(
        POOL, FunctionOracle(measure, output="y"), "y", budget=12, n_initial=4,
        policy=policy, store=store,
    ).run(progress=False)  # fmt: skip
    steps = records(store)
    pulls = steps[-1]["state"]["pulls"]
    assert sum(pulls) == len(steps) - 1  # every finished pick was credited
    assert min(pulls) >= 3  # both arms tried, neither kept for ever
    assert all(credit == 0.0 for step in steps for credit in step["credits"].values())


def test_a_resumed_portfolio_of_gp_arms_keeps_the_hyper_parameters_between_refits(tmp_path):
    """From 100 measurements on a GP keeps its hyper-parameters between refits; a portfolio
    stored none of them, so a resumed one refitted afresh and chose otherwise."""
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(rng.random((300, 3)), columns=["a", "b", "c"])
    frame["y"] = np.sin(9 * frame.a) * np.cos(7 * frame.b) + 0.3 * np.sin(13 * frame.c)
    pool = CandidatePool.from_frame(frame, objective="y")

    def campaign(store, budget):
        return Campaign(
            pool, LookupOracle.from_pool(pool, "y"), "y", budget=budget, n_initial=100,
            initial_design="random", policy=Portfolio(["gp-ei", "gp-ucb"], algorithm="exp3"),
            store=store,
        )  # fmt: skip

    whole = campaign(tmp_path / "a.sqlite", 110).run(progress=False).history
    campaign(tmp_path / "b.sqlite", 103).run(progress=False)
    resumed = campaign(tmp_path / "b.sqlite", 110).run(progress=False).history
    assert resumed["candidate_id"].tolist() == whole["candidate_id"].tolist()
    assert np.allclose(
        resumed["score"].to_numpy(float), whole["score"].to_numpy(float), equal_nan=True
    )


def test_an_arm_with_a_misspelt_or_unusable_component_is_named_when_built():
    """Arm("x", "forest", "bogus") was accepted and failed only when first drawn, after
    the initial design had been measured."""
    with pytest.raises(ConfigurationError, match=r"arm 'x': acquisition: unknown name 'bogus'"):
        Portfolio([Arm("x", "forest", "bogus"), "random"])
    with pytest.raises(ConfigurationError, match=r"arm 'y': .*unknown parameters \['bta'\]"):
        Portfolio([Arm("y", "forest", "ucb", acquisition_params={"bta": 2}), "random"])
    with pytest.raises(ConfigurationError, match=r"arm 'z': .*called as"):
        Portfolio([Arm("z", "forest", lambda prediction: prediction.mean), "random"])
