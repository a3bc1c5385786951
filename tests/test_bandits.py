"""Bandit algorithms behave as the textbooks say on a stationary Bernoulli bandit."""

import json

import numpy as np
import pytest

from discovery.bandits import UCB1, make_bandit
from discovery.exceptions import ConfigurationError

MEANS = np.array([0.2, 0.4, 0.5, 0.7])  # arm 3 is best
STEPS = 2000


def play(name: str, seed: int) -> np.ndarray:
    """The arms pulled over STEPS rounds of the Bernoulli bandit."""
    rng = np.random.default_rng(seed)
    options = {"horizon": STEPS} if name == "exp3" else {}
    bandit = make_bandit(name, len(MEANS), **options)
    pulled = np.zeros(STEPS, dtype=int)
    for step in range(STEPS):
        arm = bandit.choose(rng)
        rewards = (rng.random(len(MEANS)) < MEANS).astype(float)
        if name == "hedge":  # full information: every arm's reward is revealed
            bandit.update_all(rewards)
        else:
            bandit.update(arm, rewards[arm])
        pulled[step] = arm
    return pulled


@pytest.mark.parametrize("name", ["hedge", "exp3", "ucb1", "thompson"])
def test_the_best_arm_wins_and_regret_grows_sublinearly(name):
    runs = [play(name, seed) for seed in range(3)]
    first = np.mean([(pulled[:500] == 3).mean() for pulled in runs])
    last = np.mean([(pulled[-500:] == 3).mean() for pulled in runs])
    assert last >= first and last > 0.85  # the best arm's share of pulls grows
    regret = np.mean([np.cumsum(MEANS.max() - MEANS[pulled]) for pulled in runs], axis=0)
    half = STEPS // 2
    assert regret[-1] - regret[half - 1] < regret[half - 1]  # less regret per step later
    uniform = STEPS * (MEANS.max() - MEANS.mean())
    assert regret[-1] < 0.5 * uniform


@pytest.mark.parametrize("name", ["hedge", "exp3", "ucb1", "thompson"])
def test_a_bandit_resumes_from_its_json_state(name):
    bandit = make_bandit(name, 3)
    for arm, reward in [(0, 0.2), (1, 0.9), (2, 0.5), (1, 1.0)]:
        if name == "hedge":
            bandit.update_all(np.array([reward, 1 - reward, 0.5]))
        else:
            bandit.update(arm, reward)
    again = make_bandit(name, 3)
    again.load_state(json.loads(json.dumps(bandit.state())))
    assert np.allclose(
        again.probabilities(rng=np.random.default_rng(1)),
        bandit.probabilities(rng=np.random.default_rng(1)),
    )
    assert again.choose(np.random.default_rng(5)) == bandit.choose(np.random.default_rng(5))


@pytest.mark.parametrize(
    ("algorithm", "option"),
    [("hedge", {"eta": float("inf")}), ("hedge", {"eta": "0.5"}), ("exp3", {"gamma": "0.1"}),
     ("exp3", {"horizon": float("inf")}), ("exp3", {"horizon": "100"})],
)  # fmt: skip
def test_a_learning_rate_that_is_no_finite_number_is_refused(algorithm, option):
    """eta=inf was accepted and, after the initial design's experiments were spent, every
    probability was nan; a rate written as text failed with a bare TypeError."""
    (name,) = option
    with pytest.raises(ConfigurationError, match=f"{algorithm}: {name} must be"):
        make_bandit(algorithm, 2, **option)


def test_bad_bandit_input_is_named():
    with pytest.raises(ConfigurationError, match="unknown bandit algorithm 'softmax'"):
        make_bandit("softmax", 3)
    with pytest.raises(ConfigurationError, match="at least one arm"):
        make_bandit("ucb1", 0)
    with pytest.raises(ConfigurationError, match=r"rewards must be in \[0, 1\], got nan"):
        make_bandit("ucb1", 2).update(0, float("nan"))
    with pytest.raises(ConfigurationError, match="gamma"):
        make_bandit("exp3", 2, gamma=0.0)
    with pytest.raises(ConfigurationError, match=r"'ucb1' has no option\(s\) \['gamma'\]"):
        make_bandit("ucb1", 2, gamma=0.2)
    with pytest.raises(ConfigurationError, match="horizon must be at least 1 round, got -5"):
        make_bandit("exp3", 2, horizon=-5)
    with pytest.raises(ConfigurationError, match=r"credit every arm at once with update_all"):
        make_bandit("hedge", 2).update(0, 1.0)  # one arm's reward would teach it nothing


@pytest.mark.parametrize(
    ("name", "arm", "probability", "message"),
    [
        ("exp3", 0, -0.5, r"probability .* must be a number in \(0, 1\], got -0.5"),
        ("exp3", 0, 50.0, r"probability .* must be a number in \(0, 1\], got 50.0"),
        ("exp3", 1, 0.0, r"probability .* must be a number in \(0, 1\], got 0.0"),
        ("exp3", 1, float("nan"), r"probability .* must be a number in \(0, 1\], got nan"),
        ("ucb1", -1, None, r"arm must be an index in \[0, 3\), got -1"),
        ("ucb1", 3, None, r"arm must be an index in \[0, 3\), got 3"),
        ("thompson", True, None, r"arm must be an index in \[0, 3\), got True"),
        ("exp3", "1", 0.5, r"arm must be an index in \[0, 3\), got '1'"),
    ],
)
def test_a_bad_arm_or_probability_is_named_and_the_bandit_learns_nothing(
    name, arm, probability, message
):
    """A probability of -0.5 or 50 was taken and taught exp3 the wrong lesson; 0 raised
    ZeroDivisionError after the pull was counted; arm -1 credited the last arm."""
    bandit = make_bandit(name, 3)
    before = json.dumps(bandit.state())
    with pytest.raises(ConfigurationError, match=f"{name}: {message}"):
        bandit.update(arm, 0.9, probability)
    assert json.dumps(bandit.state()) == before


@pytest.mark.parametrize("n_arms", [True, "3", 2.0])
def test_a_number_of_arms_that_is_no_whole_number_is_named(n_arms):
    """UCB1(True) and UCB1("3") failed with numpy TypeErrors that named no bandit."""
    with pytest.raises(ConfigurationError, match=rf"ucb1: n_arms must be .*, got {n_arms!r}"):
        UCB1(n_arms)
