import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from discovery import CampaignConfig
from discovery.exceptions import ConfigurationError

configs = st.builds(
    CampaignConfig,
    objective=st.text(min_size=1, max_size=20),
    maximize=st.booleans(),
    budget=st.integers(20, 1000),
    n_initial=st.integers(1, 20),
    batch_size=st.integers(1, 10),
    seed=st.integers(0, 2**31),
    target=st.none() | st.floats(0, 1e6),
    closest_to=st.none() | st.floats(-1e3, 1e3),
    acquisition=st.sampled_from(["ei", "ucb", "thompson"]),
    acquisition_params=st.dictionaries(st.sampled_from(["beta", "xi"]), st.floats(0, 10)),
)


@given(configs)
def test_config_round_trips_through_json(config):
    assert CampaignConfig.from_json(config.to_json()) == config
    assert CampaignConfig.from_dict(config.to_dict()) == config


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"closest_to": float("nan")}, "closest_to must be a finite number"),
        ({"closest_to": "1.4"}, "closest_to must be a finite number"),
        ({"closest_to": 1.4, "target": -0.1}, "target is a tolerance"),
        ({"seed": -1}, r"seed must lie in \[0, 2\*\*32 - 1\].*got -1"),
        ({"seed": 2**32}, r"seed must lie in \[0, 2\*\*32 - 1\].*got 4294967296"),
        ({"target": "3"}, "target must be a finite number, got '3'"),
        ({"deadline": "10"}, "deadline must be a finite number, got '10'"),
        ({"retry_backoff": "1"}, "retry_backoff must be a finite number, got '1'"),
        ({"budget": np.float64(8)}, "budget must be an integer"),
        ({"acquisition_params": {"beta": object()}}, "acquisition_params must be numbers"),
        ({"retry_backoff": float("inf")}, "retry_backoff must be a finite number"),
    ],
)
def test_a_bad_target_objective_is_refused(changes, message):
    with pytest.raises(ConfigurationError, match=message):
        CampaignConfig(objective="gap", **changes)


def test_a_target_objective_is_learned_as_the_distance_to_its_value():
    config = CampaignConfig(objective="gap", closest_to=1.4)
    assert config.utility([1.0, 1.4, 2.0]) == pytest.approx([-0.4, 0.0, -0.6])
    assert config.model_maximizes and config.direction == "closest to 1.4"
    plain = CampaignConfig(objective="gap", maximize=False)
    assert list(plain.utility([3.0])) == [3.0] and not plain.model_maximizes


def test_numbers_read_off_a_table_are_taken_and_stored_as_json_takes_them():
    # a target read off a DataFrame (df.y.min()) is numpy's; the store writes the config as JSON
    config = CampaignConfig(
        objective="y",
        target=np.int64(3),
        closest_to=np.float32(2.5),
        optimum=np.int64(0),
        budget=np.int64(8),
        seed=np.uint32(7),
        acquisition_params={"beta": np.int64(2)},
    )
    stored = json.loads(config.to_json())
    assert (stored["target"], stored["closest_to"], stored["budget"]) == (3.0, 2.5, 8)
    assert stored["acquisition_params"] == {"beta": 2}
    assert CampaignConfig.from_json(config.to_json()) == config
