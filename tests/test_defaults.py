"""`surrogate="auto"`: the default strategy a campaign gets when it names none."""

import numpy as np
import pandas as pd
from rich.console import Console

from discovery import Campaign, CandidatePool, LookupOracle, Objective, Real, Space
from discovery.cli.run import summary_table
from discovery.defaults import (
    MANY_COLUMNS,
    MANY_COLUMNS_POOL_CHOICE,
    ONEHOT_POOL_CHOICE,
    POOL_CHOICE,
    auto_strategy,
)
from tests.test_campaign import ORACLE, POOL


def test_a_pool_campaign_without_a_strategy_gets_the_measured_default():
    campaign = Campaign(POOL, ORACLE, "y", budget=8, n_initial=3)
    assert campaign.config.surrogate == "gp"
    assert campaign.config.acquisition == POOL_CHOICE.acquisition
    assert campaign.config.acquisition_params == POOL_CHOICE.acquisition_params
    assert (
        campaign.surrogate.lengthscale_prior == POOL_CHOICE.surrogate_options["lengthscale_prior"]
    )
    result = campaign.run(progress=False)
    assert len(result.history) == 8 and result.history["candidate_id"].is_unique


def test_a_pool_with_categorical_parameters_averages_over_hyperparameter_draws():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "ligand": rng.choice(["L1", "L2", "L3"], 60),
            "solvent": rng.choice(["water", "thf"], 60),
            "temperature": rng.uniform(20, 80, 60),
        }
    )
    frame["y"] = (frame["ligand"] == "L2") + frame["temperature"] / 80 + rng.normal(0, 0.1, 60)
    pool = CandidatePool.from_frame(frame, objective="y")
    assert pool.categorical_columns == ["ligand", "solvent"]
    assert POOL.categorical_columns == []
    campaign = Campaign(pool, LookupOracle.from_pool(pool, "y"), "y", budget=8, n_initial=3)
    assert campaign.config.acquisition == ONEHOT_POOL_CHOICE.acquisition == "ucb"
    assert campaign.surrogate.lengthscale_prior == "gamma"
    assert campaign.surrogate.hyperparameter_draws == 32
    result = campaign.run(progress=False)
    assert len(result.history) == 8 and result.history["candidate_id"].is_unique
    printed = Console(width=200, record=True)
    printed.print(summary_table(campaign, result, {}))
    assert "categorical parameters" in printed.export_text()


def test_a_pool_of_many_numeric_descriptors_gets_the_dimension_scaled_prior():
    rng = np.random.default_rng(1)
    wide = pd.DataFrame(
        rng.uniform(size=(40, MANY_COLUMNS)), columns=[f"d{j}" for j in range(MANY_COLUMNS)]
    )
    wide["y"] = wide.sum(axis=1) + rng.normal(0, 0.1, 40)
    pool = CandidatePool.from_frame(wide, objective="y")
    campaign = Campaign(pool, LookupOracle.from_pool(pool, "y"), "y", budget=6, n_initial=3)
    assert campaign.auto_choice is MANY_COLUMNS_POOL_CHOICE
    assert campaign.surrogate.lengthscale_prior == "dim_scaled"
    assert campaign.config.acquisition == "ucb"
    assert campaign.config.acquisition_params == {"beta": 1.0}
    narrow = CandidatePool.from_frame(wide.drop(columns=f"d{MANY_COLUMNS - 1}"), objective="y")
    assert Campaign(narrow, None, "y", budget=6).auto_choice is POOL_CHOICE
    result = campaign.run(progress=False)
    assert len(result.history) == 6 and result.history["candidate_id"].is_unique


def test_what_the_user_names_wins_over_the_default():
    chosen = Campaign(POOL, ORACLE, "y", acquisition="ei")
    assert chosen.config.acquisition == "ei"
    tuned = Campaign(POOL, ORACLE, "y", acquisition_params={"beta": 3.0})
    assert tuned.config.acquisition_params == {"beta": 3.0}
    forest = Campaign(POOL, ORACLE, "y", surrogate="forest")
    assert forest.config.surrogate == "forest" and forest.config.acquisition == "ei"
    assert forest.auto_choice is None and chosen.auto_choice is POOL_CHOICE


def test_spaces_several_objectives_and_cumulative_goals_keep_their_own_defaults():
    space = Space([Real("x", 0.0, 1.0)])
    assert Campaign(space, None, "y").config.acquisition == "ei"
    assert Campaign(space, None, "y").surrogate.lengthscale_prior == "dim_scaled"
    assert Campaign(POOL, ORACLE, "y", goal="cumulative").config.acquisition == "ucb"
    assert auto_strategy(is_space=False, has_several_outcomes=True, goal="best").acquisition is None
    several = Campaign(space, None, objectives=[Objective("y", "max"), Objective("z", "min")])
    assert several.config.acquisition == "ehvi"
