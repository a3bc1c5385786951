import numpy as np
import pytest
import torch

from discovery import ConfigurationError
from discovery.surrogates import GaussianProcessSurrogate

X = np.linspace(0, 1, 8).reshape(-1, 1)
Y = np.sin(6 * X[:, 0])


def test_gp_interpolates_its_training_data():
    prediction = GaussianProcessSurrogate().fit(X, Y).predict(X)
    np.testing.assert_allclose(prediction.mean, Y, atol=0.05)
    assert np.all(prediction.std < 0.1)


def test_gp_std_shrinks_near_the_data():
    model = GaussianProcessSurrogate().fit(X[:4] * 0.5, Y[:4])  # data only on [0, 0.21]
    near, far = model.predict(np.array([[0.1], [0.95]])).std
    assert near < 0.5 * far


def test_chunked_prediction_equals_one_chunk():
    rng = np.random.default_rng(0)
    train = rng.random((25, 2))
    pool = rng.random((1000, 2))
    y = train.sum(axis=1)
    whole = GaussianProcessSurrogate(chunk_size=10_000).fit(train, y).predict(pool)
    chunked = GaussianProcessSurrogate(chunk_size=64).fit(train, y).predict(pool)
    np.testing.assert_allclose(chunked.mean, whole.mean, rtol=1e-10)
    np.testing.assert_allclose(chunked.std, whole.std, rtol=1e-6, atol=1e-9)


def test_joint_samples_cover_the_promising_candidates_only():
    model = GaussianProcessSurrogate(thompson_candidates=6).fit(X, Y)
    grid = np.linspace(0, 1, 50).reshape(-1, 1)
    prediction = model.predict(grid, n_samples=3)
    sampled = ~np.isnan(prediction.samples[0])
    assert 3 <= sampled.sum() <= 6
    assert np.argmax(prediction.mean + 2 * prediction.std) in np.flatnonzero(sampled)


def test_unknown_device_is_named():
    with pytest.raises(ConfigurationError, match="device"):
        GaussianProcessSurrogate(device="tpu").fit(X, Y)


def test_a_cuda_device_that_is_not_there_is_named(monkeypatch):
    with pytest.raises(ConfigurationError, match="'cuda:x'"):
        GaussianProcessSurrogate(device="cuda:x").check_settings()
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    with pytest.raises(ConfigurationError, match="'cuda:7' requested but 2 CUDA"):
        GaussianProcessSurrogate(device="cuda:7").check_settings()
    GaussianProcessSurrogate(device="cuda:1").check_settings()


def test_nan_targets_are_refused():
    with pytest.raises(ConfigurationError, match="NaN"):
        GaussianProcessSurrogate().fit(X, np.where(Y > 0, np.nan, Y))


def botorch_posterior(model: GaussianProcessSurrogate, X: np.ndarray):
    """Mean and std of BoTorch's own posterior, computed from scratch by GPyTorch."""
    import torch

    scaled = (torch.tensor(X, device=model.device_) - model._lower) / model._range
    with torch.no_grad():
        posterior = model.model_.posterior(scaled.unsqueeze(1))  # (m, 1, d): one point each
    return posterior.mean.squeeze().cpu().numpy(), posterior.variance.sqrt().squeeze().cpu().numpy()


@pytest.mark.parametrize("input_bounds", ["unit", "data"])
def test_pool_posterior_equals_botorch_posterior(input_bounds):
    rng = np.random.default_rng(1)
    train, pool = rng.random((30, 3)) * 4 - 1, rng.random((40, 3)) * 4 - 1
    model = GaussianProcessSurrogate(input_bounds=input_bounds).fit(train, train.sum(axis=1) ** 2)
    prediction = model.predict(pool)
    mean, std = botorch_posterior(model, pool)
    np.testing.assert_allclose(prediction.mean, mean, rtol=1e-6)
    np.testing.assert_allclose(prediction.std, std, rtol=1e-5, atol=1e-8)


def test_warm_start_continues_from_the_previous_fit_until_the_data_double():
    rng = np.random.default_rng(3)
    train = rng.random((40, 2))
    y = np.sin(4 * train[:, 0]) + train[:, 1]
    model = GaussianProcessSurrogate(warm_start_after=10)
    started = [model.fit(train[:n], y[:n]).warm_started_ for n in (5, 10, 12, 19, 20, 25)]
    # cold below 10 points, then cold at 10 and again at 2 x 10
    assert started == [False, False, True, True, False, True]
    cold = GaussianProcessSurrogate(warm_start=False).fit(train[:25], y[:25])
    assert not cold.warm_started_
    grid = rng.random((30, 2))
    np.testing.assert_allclose(model.predict(grid).mean, cold.predict(grid).mean, atol=0.05)


def test_copula_warping_maps_measured_scores_back_to_measured_values():
    from discovery.surrogates.warping import RankGaussianWarping

    y = np.array([3.0, 100.0, 0.0, 0.0, 7.5, 2.0])
    warping = RankGaussianWarping()
    z = warping.fit_transform(y)
    assert z[2] == z[3]  # tied values share a score
    assert np.argsort(z, kind="stable").tolist() == np.argsort(y, kind="stable").tolist()
    assert np.allclose(warping.inverse(z), y)
    mean, std = warping.inverse_prediction(np.array([z.max() + 1.0]), np.array([0.5]))
    assert mean[0] > 100.0 and std[0] > 0  # beyond the best: extrapolated, not clipped
    assert np.allclose(warping.forward(y), z)  # the incumbent on the model's scale
    beyond = warping.forward(np.array([200.0, -5.0]))
    assert np.allclose(warping.inverse(beyond), [200.0, -5.0])


def test_power_warping_inverts_exactly_and_extrapolates_where_its_inverse_ends():
    from discovery.surrogates.warping import PowerWarping

    y = np.exp(np.random.default_rng(2).normal(size=30))  # right-skewed: exponent < 0
    warping = PowerWarping()
    z = warping.fit_transform(y)
    assert warping.transformer_.lambdas_[0] < 0  # its inverse is bounded above
    assert np.argsort(z).tolist() == np.argsort(y).tolist()
    assert np.allclose(warping.inverse(z), y)
    far = warping.inverse(np.array([z.max() + 10.0, z.min() - 10.0]))
    assert np.all(np.isfinite(far)) and far[0] > y.max() and far[1] < y.min()
    assert np.allclose(warping.forward(y), z)
    mean, std = warping.inverse_prediction(np.array([z.max() + 1.0]), np.array([0.5]))
    assert mean[0] > y.max() and std[0] > 0


@pytest.mark.parametrize("warping", ["copula", "power"])
def test_warped_gp_predicts_its_skewed_training_values_in_their_units(warping):
    rng = np.random.default_rng(0)
    X = rng.random((25, 2))
    y = np.exp(6 * X[:, 0])  # two orders of magnitude, most values small
    model = GaussianProcessSurrogate(output_warping=warping).fit(X, y)
    prediction = model.predict(X)
    assert np.corrcoef(prediction.mean, y)[0, 1] > 0.98
    assert np.all(prediction.std >= 0)
    best = np.argmax(y)
    assert np.argmax(prediction.mean) == best


def test_power_warped_gp_fits_values_that_are_all_equal():
    X = np.random.default_rng(3).random((4, 2))
    prediction = GaussianProcessSurrogate(output_warping="power").fit(X, np.full(4, 2.0)).predict(X)
    assert np.allclose(prediction.mean, 2.0, atol=1e-3)


def test_gamma_lengthscale_prior_fits_and_unknown_options_are_named():
    X = np.random.default_rng(1).random((10, 3))
    model = GaussianProcessSurrogate(lengthscale_prior="gamma").fit(X, X.sum(axis=1))
    assert model.model_.covar_module.lengthscale.min() >= 0.025
    with pytest.raises(ConfigurationError, match="output_warping"):
        GaussianProcessSurrogate(output_warping="cubic").fit(X, X.sum(axis=1))
    with pytest.raises(ConfigurationError, match="lengthscale_prior"):
        GaussianProcessSurrogate(lengthscale_prior="flat").fit(X, X.sum(axis=1))


def test_a_feature_the_data_hold_constant_does_not_cut_off_a_candidate_a_hair_away():
    """Pressure was 1 bar in every experiment; at 1.000001 bar the prediction is that at
    1 bar, not the prior's."""
    rng = np.random.default_rng(0)
    X = np.column_stack([rng.random((20, 2)), np.ones(20)])
    y = np.sin(4 * X[:, 0]) + X[:, 1]
    model = GaussianProcessSurrogate(input_bounds="data").fit(X, y)
    here, nudged = X[:5].copy(), X[:5].copy()
    nudged[:, 2] = 1.000001
    np.testing.assert_allclose(model.predict(nudged).mean, model.predict(here).mean, atol=1e-4)


def test_a_space_campaign_with_data_bounds_proposes_where_its_model_is_best():
    """With input_bounds="data" BoTorch was handed the fitted model on unscaled features:
    a greedy campaign proposed x = 0.50, scored -0.009 where the surrogate predicts -1.03,
    instead of the surrogate's best x = 0.55."""
    from discovery import Campaign, Real, Space

    space = Space([Real("x", 0.0, 1.0)])
    campaign = Campaign(
        space, None, "y", surrogate=GaussianProcessSurrogate(input_bounds="data"),
        acquisition="greedy", budget=20, n_initial=1,
    )  # fmt: skip
    for x in (0.45, 0.5, 0.52, 0.55, 0.58, 0.6, 0.65):  # earlier measurements, told
        campaign.tell({"x": x}, -(((x - 0.55) / 0.05) ** 2))
    suggestion = campaign.ask(1)
    x = float(suggestion.x.iloc[0])
    grid = np.linspace(0, 1, 1001)[:, None]
    means = campaign.surrogate.predict(grid).mean
    assert x == pytest.approx(grid[means.argmax(), 0], abs=0.01)
    assert float(suggestion.score.iloc[0]) == pytest.approx(
        campaign.surrogate.predict([[x]]).mean[0], abs=1e-3
    )


def test_rows_given_as_a_mask_predict_those_rows():
    """A boolean mask was read as the indices 0 and 1."""
    from discovery.surrogates import predict_rows

    pool = np.random.default_rng(0).random((10, 2))
    model = GaussianProcessSurrogate().fit(pool[[0, 3, 6, 8]], pool[[0, 3, 6, 8]].sum(axis=1))
    mask = np.zeros(10, dtype=bool)
    mask[[2, 5, 7]] = True
    prediction = predict_rows(model, pool, mask)
    np.testing.assert_allclose(prediction.mean, model.predict(pool[mask]).mean, rtol=1e-9)


def test_whole_numbers_from_numpy_are_settings_a_resumed_campaign_rebuilds(tmp_path):
    """np.int64(4) from an array or a search grid was refused ("must be an integer >= 0,
    got 4"), and True was taken and failed inside torch."""
    from discovery import Campaign
    from tests.test_campaign import ORACLE, POOL

    surrogate = GaussianProcessSurrogate(refit_every=np.int64(3), hyperparameter_draws=np.int64(4))
    store = tmp_path / "c.sqlite"
    Campaign(POOL, ORACLE, "y", surrogate=surrogate, budget=8, n_initial=4, store=store).run(
        progress=False
    )
    resumed = Campaign.resume(store, ORACLE, budget=9)
    assert resumed.surrogate.get_params()["refit_every"] == 3
    with pytest.raises(ConfigurationError, match="hyperparameter_draws must be an integer"):
        GaussianProcessSurrogate(hyperparameter_draws=True).fit(X, Y)
