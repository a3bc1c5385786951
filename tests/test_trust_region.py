"""The trust region's side, replayed from the measurements in order, and the campaigns
that search in it."""

import numpy as np
import pandas as pd
import pytest

from discovery import Campaign, ConfigurationError, FunctionOracle, Real, Space
from discovery.trust_region import (
    LENGTH_INITIAL,
    LENGTH_MAX,
    SUCCESS_TOLERANCE,
    failure_tolerance,
    trust_region_length,
)


def test_the_box_starts_at_its_initial_side_after_the_initial_design():
    assert trust_region_length([3.0, 1.0, 2.0], n_initial=3, dimension=2) == LENGTH_INITIAL


def test_improvements_in_a_row_double_the_box_up_to_its_largest_side():
    rising = [0.0] + [float(k) for k in range(1, 3 * SUCCESS_TOLERANCE + 1)]
    assert trust_region_length(rising, n_initial=1, dimension=2) == LENGTH_MAX


def test_experiments_without_improvement_halve_the_box():
    stuck = [5.0] + [1.0] * failure_tolerance(6)
    assert trust_region_length(stuck, n_initial=1, dimension=6) == LENGTH_INITIAL / 2
    one_short = stuck[:-1]
    assert trust_region_length(one_short, n_initial=1, dimension=6) == LENGTH_INITIAL


def test_minimising_counts_lower_values_as_improvements():
    falling = [10.0, 9.0, 8.0, 7.0]
    assert trust_region_length(falling, 1, 2, maximize=False) == 2 * LENGTH_INITIAL
    assert trust_region_length(falling, 1, 2, maximize=True) == LENGTH_INITIAL


def test_a_box_shrunk_past_its_smallest_side_starts_again():
    halvings = 7  # 0.8 / 2**7 is below the smallest side, 0.5**7
    stuck = [5.0] + [1.0] * (4 * halvings)
    assert trust_region_length(stuck, n_initial=1, dimension=2) == LENGTH_INITIAL
    assert trust_region_length(stuck[:-4], n_initial=1, dimension=2) == LENGTH_INITIAL / 2**6


def test_a_forest_campaign_searches_near_its_best_measurement_and_can_be_told_not_to():
    space = Space([Real("x", 0, 1), Real("y", 0, 1), Real("z", 0, 1)])

    def bowl(candidate):
        p = candidate.parameters
        return (p["x"] - 0.8) ** 2 + (p["y"] - 0.2) ** 2 + (p["z"] - 0.5) ** 2

    def farthest_steps(trust_region):
        history = (
            Campaign(
                space,
                FunctionOracle(bowl, output="loss"),
                "loss",
                maximize=False,
                surrogate="forest",
                budget=16,
                n_initial=6,
                seed=2,
                trust_region=trust_region,
            )
            .run(progress=False)
            .history
        )
        X, losses = space.encode(history[space.names]), history["loss"].to_numpy()
        steps = []
        for i in range(6, len(history)):
            length = trust_region_length(losses[:i], 6, 3, maximize=False)
            offset = np.abs(X[i] - X[np.argmin(losses[:i])]).max()
            steps.append(offset / (length / 2))
        return max(steps)

    assert farthest_steps(True) <= 1 + 1e-9  # every choice inside the box
    assert farthest_steps(False) > 1  # the whole space is searched


def test_trust_region_must_be_a_yes_or_no():
    with pytest.raises(ConfigurationError, match="trust_region must be True or False"):
        Campaign(Space([Real("x", 0, 1)]), None, "y", trust_region="yes")


def test_legacy_measurements_set_the_best_to_beat_not_the_box_whatever_their_order():
    """Sixteen measurements told before the campaign, sorted up, were replayed as sixteen
    improvements in a row (the box grew to its largest side); sorted down, as a run of
    failures (it shrank to an eighth). They are not the campaign's trials."""
    space = Space([Real("x", 0, 1), Real("y", 0, 1)])
    rng = np.random.default_rng(3)
    points = rng.random((16, 2))
    values = -((points - 0.3) ** 2).sum(axis=1)
    best = points[np.argmax(values)]
    for order in (np.argsort(values), np.argsort(values)[::-1]):
        campaign = Campaign(
            space, None, "strength", surrogate="forest", budget=30, n_initial=4, seed=0
        )
        campaign.tell(
            pd.DataFrame(points[order], columns=["x", "y"]).assign(strength=values[order])
        )
        asked = campaign.ask(8)
        offsets = np.abs(space.encode(asked[["x", "y"]]) - best).max(axis=1)
        assert offsets.max() <= LENGTH_INITIAL / 2 + 1e-9  # inside the starting box
        assert offsets.max() > LENGTH_INITIAL / 8  # and not cramped into a shrunk one


def test_only_the_campaigns_own_trials_move_the_box():
    told_rising = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    trials = [False] * 6 + [True] * 4
    stuck = told_rising + [0.0] * 4
    assert trust_region_length(stuck, 0, 2, trials=trials) == LENGTH_INITIAL / 2
    assert trust_region_length(told_rising, 0, 2, trials=[False] * 6) == LENGTH_INITIAL
    # A value missing from the initial design does not make every later trial a success.
    assert trust_region_length([np.nan, 1.0] + [0.0] * 8, 2, 2) == LENGTH_INITIAL / 4


def test_the_smallest_box_around_an_inner_integer_reaches_both_neighbours():
    """Around n = 50 of 0..100 the box held 50 and 51 only: 49 was out of reach, and the
    mirrored parameter (100 - n) was searched otherwise."""
    from discovery import Integer, Real, Space

    space = Space([Integer("n", 0, 100), Real("x", 0, 1)])
    for value, (low, high) in ((50, (49, 51)), (0, (0, 1)), (100, (99, 100))):
        (n, _) = space.around({"n": value, "x": 0.5}, 0.0125).parameters
        assert (n.low, n.high) == (low, high)


def test_an_acquisition_of_the_users_own_is_used_whatever_its_name():
    """A GP over a space ran BoTorch's UCB in place of a user's function named 'ucb'
    (called 0 times); and scored by sampling, a GP's proposals were kept in the trust
    region, which the documentation says never confines a GP."""
    from discovery import Campaign, FunctionOracle, Real, Space

    calls = []

    def ucb(prediction, incumbent, maximize, *, rng=None, **params):
        calls.append(len(prediction))
        return np.asarray(prediction.std)  # the user's own rule: pure exploration

    space = Space([Real("x", 0, 1), Real("y", 0, 1)])

    def picks(trust_region):
        oracle = FunctionOracle(lambda c: c.parameters["x"] + c.parameters["y"], output="v")
        result = Campaign(
            space, oracle, "v", surrogate="gp", acquisition=ucb, budget=10, n_initial=4,
            trust_region=trust_region,
        ).run(progress=False)  # fmt: skip
        return result.history[["x", "y"]].to_numpy(float)[4:]

    assert np.allclose(picks(True), picks(False)) and calls
