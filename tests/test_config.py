from hypothesis import given
from hypothesis import strategies as st

from discovery import CampaignConfig

configs = st.builds(
    CampaignConfig,
    objective=st.text(min_size=1, max_size=20),
    maximize=st.booleans(),
    budget=st.integers(20, 1000),
    n_initial=st.integers(1, 20),
    batch_size=st.integers(1, 10),
    seed=st.integers(0, 2**31),
    target=st.none() | st.floats(-1e6, 1e6),
    acquisition=st.sampled_from(["ei", "ucb", "thompson"]),
    acquisition_params=st.dictionaries(st.sampled_from(["beta", "xi"]), st.floats(0, 10)),
)


@given(configs)
def test_config_round_trips_through_json(config):
    assert CampaignConfig.from_json(config.to_json()) == config
    assert CampaignConfig.from_dict(config.to_dict()) == config
