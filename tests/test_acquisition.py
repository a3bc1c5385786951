import numpy as np
import pytest
from scipy.stats import norm, truncnorm

from discovery import ConfigurationError, Prediction
from discovery.acquisition import (
    expected_improvement,
    greedy,
    log_expected_improvement,
    max_value_draws,
    max_value_entropy,
    maximum_uncertainty,
    one_posterior_draw,
    probability_of_improvement,
    resolve_acquisition,
    thompson_sampling,
    upper_confidence_bound,
)

MEAN = np.array([-2.0, -0.5, 0.0, 0.3, 1.0, 4.0])
STD = np.array([0.1, 1.0, 2.0, 0.5, 0.01, 3.0])
PREDICTION = Prediction(MEAN, STD)
INCUMBENT = 0.2


def closed_form_ei(mean, std, best, maximize):
    gain = mean - best if maximize else best - mean
    z = gain / std
    return gain * norm.cdf(z) + std * norm.pdf(z)


@pytest.mark.parametrize("maximize", [True, False])
def test_expected_improvement_matches_closed_form(maximize):
    expected = closed_form_ei(MEAN, STD, INCUMBENT, maximize)
    np.testing.assert_allclose(
        expected_improvement(PREDICTION, INCUMBENT, maximize), expected, rtol=1e-9, atol=1e-300
    )


@pytest.mark.parametrize("maximize", [True, False])
def test_probability_of_improvement_matches_closed_form(maximize):
    gain = MEAN - INCUMBENT if maximize else INCUMBENT - MEAN
    np.testing.assert_allclose(
        probability_of_improvement(PREDICTION, INCUMBENT, maximize), norm.cdf(gain / STD), rtol=1e-9
    )


def test_upper_confidence_bound_both_directions():
    np.testing.assert_allclose(upper_confidence_bound(PREDICTION, beta=1.5), MEAN + 1.5 * STD)
    np.testing.assert_allclose(
        upper_confidence_bound(PREDICTION, maximize=False, beta=1.5), -(MEAN - 1.5 * STD)
    )


def test_log_ei_stays_finite_and_ordered_where_plain_ei_underflows():
    # z from -1 to -60: plain EI is exactly 0 beyond z ~ -38, log-EI keeps ranking.
    mean = -np.linspace(1, 60, 200)
    prediction = Prediction(mean, np.ones_like(mean))
    log_ei = log_expected_improvement(prediction, 0.0)
    assert np.all(np.isfinite(log_ei))
    assert np.all(np.diff(log_ei) < 0)
    moderate = mean > -30
    np.testing.assert_allclose(
        log_ei[moderate], np.log(closed_form_ei(mean[moderate], 1.0, 0.0, True)), rtol=1e-8
    )


def test_exploration_and_exploitation_scores():
    np.testing.assert_array_equal(maximum_uncertainty(PREDICTION), STD)
    assert np.argmax(greedy(PREDICTION, maximize=True)) == 5
    assert np.argmax(greedy(PREDICTION, maximize=False)) == 0


def test_thompson_uses_a_draw_and_never_picks_unsampled_candidates():
    samples = np.array([[0.0, 5.0, np.nan], [9.0, 1.0, np.nan]])
    prediction = Prediction(np.zeros(3), np.ones(3), samples=samples)
    scores = thompson_sampling(prediction, maximize=True)
    assert np.argmax(scores) == 1 and scores[2] == -np.inf
    assert np.argmax(thompson_sampling(prediction, maximize=False)) == 0


def test_thompson_draws_a_member_per_call_and_one_per_proposal_within_one_posterior_draw():
    samples = np.arange(40.0).reshape(8, 5)  # member k scores 5 k, 5 k + 1, ...
    prediction = Prediction(samples.mean(axis=0), samples.std(axis=0), samples=samples)
    reference = np.random.default_rng(3)
    rng = np.random.default_rng(3)

    def member() -> int:
        return int(thompson_sampling(prediction, rng=rng)[0]) // 5

    # a pool is scored once: each call draws its member, as the generator gives them
    assert [member() for _ in range(6)] == [int(reference.integers(8)) for _ in range(6)]
    with one_posterior_draw():  # a space is scored chunk by chunk and step by step
        assert [member() for _ in range(6)] == [int(reference.integers(8))] * 6
    assert member() == int(reference.integers(8))


def test_thompson_without_samples_names_the_problem():
    with pytest.raises(ConfigurationError, match="thompson"):
        resolve_acquisition("thompson").score(PREDICTION, 0.0, True)


def test_unknown_acquisition_name_lists_the_choices():
    with pytest.raises(ConfigurationError, match=r"unknown name 'eii'.*'ei'"):
        resolve_acquisition("eii")


def test_a_callable_is_an_acquisition():
    def lowest_std(prediction, incumbent, maximize, **_):
        return -prediction.std

    acquisition = resolve_acquisition(lowest_std)
    assert acquisition.name == "lowest_std"
    assert np.argmax(acquisition.score(PREDICTION, 0.0, True)) == 4


def test_acquisition_returning_the_wrong_length_is_reported():
    acquisition = resolve_acquisition(lambda prediction, *a, **k: np.zeros(2))
    with pytest.raises(ConfigurationError, match="returned 2 scores for 6 candidates"):
        acquisition.score(PREDICTION, 0.0, True)


def test_a_misspelt_acquisition_parameter_is_refused():
    with pytest.raises(
        ConfigurationError, match=r"acquisition 'ucb': unknown parameters \['betta'\]"
    ):
        resolve_acquisition("ucb", betta=2.0)


def test_parameters_given_with_an_acquisition_object_are_laid_over_its_own():
    """They were dropped without a word: an object of "ucb" given beta=50 scored with 2."""
    wide = resolve_acquisition(resolve_acquisition("ucb", beta=1.0), beta=50.0)
    assert wide.params == {"beta": 50.0}
    np.testing.assert_allclose(wide.score(PREDICTION, 0.0, True), MEAN + 50.0 * STD)
    with pytest.raises(
        ConfigurationError, match=r"acquisition 'ucb': unknown parameters \['betta'\]"
    ):
        resolve_acquisition(resolve_acquisition("ucb"), betta=2.0)
    with pytest.raises(ConfigurationError, match="beta must be a finite number >= 0"):
        resolve_acquisition(resolve_acquisition("ucb"), beta=-1.0)


def test_an_acquisition_function_is_checked_against_the_call_it_will_get():
    def mean_and_spread(prediction, incumbent):
        return prediction.mean + prediction.std

    with pytest.raises(
        ConfigurationError,
        match=r"called as mean_and_spread\(prediction, incumbent, maximize, rng=\.\.\.\), "
        r"which mean_and_spread\(prediction, incumbent\) cannot take",
    ):
        resolve_acquisition(mean_and_spread)

    def spread(prediction, incumbent, maximize, *, rng=None, weight=1.0):
        return weight * prediction.std

    assert resolve_acquisition(spread, weight=2.0).params == {"weight": 2.0}
    with pytest.raises(ConfigurationError, match=r"rng=\.\.\., wieght=\.\.\."):
        resolve_acquisition(spread, wieght=2.0)


def test_max_value_entropy_is_the_entropy_a_measurement_would_remove():
    # for each draw y* of the best value, measuring a candidate tells that its value lies
    # below y*: the score is H[N(mean, std)] - H[N(mean, std) truncated above at y*]
    mean, std = np.array([-1.0, 0.0, 0.5, 1.0, 2.0]), np.array([0.5, 1.0, 0.3, 0.8, 1.5])
    draws = max_value_draws(mean, std, 0.8, 10)
    upper = [(y - mean) / std for y in draws]  # no draw lies far below a mean here
    drops = [
        norm(mean, std).entropy() - truncnorm(b - 30, b, loc=mean, scale=std).entropy()
        for b in upper
    ]
    np.testing.assert_allclose(
        max_value_entropy(Prediction(mean, std), 0.8), np.mean(drops, axis=0), rtol=1e-6
    )


def test_max_value_draws_centre_on_the_median_of_the_best_candidate_value():
    (median,) = max_value_draws(MEAN, STD, -np.inf, 1)
    assert np.prod(norm.cdf((median - MEAN) / STD)) == pytest.approx(0.5, abs=1e-9)
    draws = max_value_draws(MEAN, STD, -np.inf, 10)
    assert np.all(np.diff(draws) > 0) and draws[0] < median < draws[-1]


def test_the_best_value_accounts_for_every_candidate_of_a_large_pool():
    # a large pool of unpromising designs beside a few contenders, and an incumbent just
    # below the median of the best value: that median still solves prod Phi = 1/2 over
    # all of the candidates
    rng = np.random.default_rng(0)
    mean = np.concatenate([MEAN, rng.normal(-20.0, 2.0, 200_000), rng.normal(0.0, 1.0, 2_000)])
    std = np.concatenate([STD, rng.uniform(0.1, 2.0, 200_000), rng.uniform(0.1, 2.0, 2_000)])
    (median,) = max_value_draws(mean, std, 5.0, 1)
    assert median > 5.0
    assert np.exp(norm.logcdf((median - mean) / std).sum()) == pytest.approx(0.5, abs=1e-9)


def test_the_best_value_is_never_drawn_below_the_incumbent():
    draws = max_value_draws(MEAN, STD, 50.0, 10)
    assert np.all(draws >= 50.0)
    # no candidate is likely to beat such an incumbent, so none tells much
    assert np.all(max_value_entropy(PREDICTION, 50.0) < 1e-20)


def test_max_value_entropy_prefers_the_candidate_likeliest_to_hold_the_best():
    scores = max_value_entropy(PREDICTION, INCUMBENT)
    assert np.all(scores >= 0)
    assert np.argmax(scores) == 5  # mean 4, std 3
    assert scores[0] < 1e-6  # mean -2, std 0.1: surely not the best


def test_max_value_entropy_mirrors_for_minimisation():
    mirrored = Prediction(-MEAN, STD)
    np.testing.assert_allclose(
        max_value_entropy(PREDICTION, INCUMBENT, False),
        max_value_entropy(mirrored, -INCUMBENT, True),
    )


@pytest.mark.parametrize("count", [0, 2.5, True])
def test_max_value_entropy_needs_a_positive_whole_number_of_draws(count):
    with pytest.raises(
        ConfigurationError, match=r"acquisition 'mes': n_max_values must be an integer >= 1"
    ):
        resolve_acquisition("mes", n_max_values=count)


@pytest.mark.parametrize("level", [3.0, 3e8])
def test_max_value_entropy_scores_a_certain_plateau_of_large_values(level):
    """A strength in Pa measured on a plateau: a model certain of every candidate."""
    scores = resolve_acquisition("mes").score(
        Prediction(np.full(10, level), np.zeros(10)), level, True
    )
    assert np.all(np.isfinite(scores)) and np.ptp(scores) == 0


@pytest.mark.parametrize("name", ["ei", "pi", "mes"])
@pytest.mark.parametrize("unit", [1e-14, 1e10])
def test_rankings_do_not_depend_on_the_objectives_units(name, unit):
    """A diffusion coefficient in m^2/s (1e-12) ranks as the same numbers in um^2/s do:
    fixed floors of 1e-12 and 1e-9 on the spread flattened the small ones."""
    acquisition = resolve_acquisition(name)
    plain = acquisition.score(PREDICTION, INCUMBENT, True)
    scaled = acquisition.score(Prediction(MEAN * unit, STD * unit), INCUMBENT * unit, True)
    assert np.array_equal(np.argsort(plain), np.argsort(scaled))


@pytest.mark.parametrize("name", ["ei", "mes"])
def test_a_model_without_any_spread_still_ranks_by_its_means(name):
    """A surrogate of the user's own may give std 0 everywhere: a floor relative to the
    largest spread fell to 1e-308, EI's scores overflowed and MES's bisection failed."""
    mean = np.array([5.0, 1.0, 3.0, 6.0, 2.0])
    scores = resolve_acquisition(name).score(Prediction(mean, np.zeros(5)), 4.0, True)
    assert np.all(np.isfinite(scores))
    assert np.argmax(scores) == 3
    if name == "ei":
        assert list(np.argsort(-scores)) == list(np.argsort(-mean))


def test_max_value_entropy_scores_a_model_almost_certain_of_every_candidate():
    """A forest whose trees agree everywhere but on one candidate (std 1e-8 there, 0
    elsewhere): the floor, a share of that spread, was too small for mean + 8 std to
    leave the mean in floats, and the bisection failed with "f(a) and f(b) must have
    different signs"."""
    mean = np.linspace(0.0, 1.0, 50)
    std = np.zeros(50)
    std[3] = 1e-8
    scores = resolve_acquisition("mes").score(Prediction(mean, std), 0.5, True)
    assert np.all(np.isfinite(scores))
    assert np.argmax(scores) == 49
