import math

import numpy as np
import pytest
import torch
from gpytorch.mlls import ExactMarginalLogLikelihood

from discovery import ConfigurationError
from discovery.surrogates import GaussianProcessSurrogate
from discovery.surrogates.gp_hyperposterior import log_posterior


def _data(n: int = 12, d: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    X = np.random.default_rng(seed).random((n, d))
    return X, np.sin(4 * X[:, 0]) + X[:, 1] ** 2 - X[:, 2]


def _model_log_posterior(model, lengthscale, noise, constant) -> float:
    """The fitted BoTorch model's own marginal likelihood plus its priors, at these values."""
    model.covar_module.lengthscale = lengthscale
    model.likelihood.noise = noise
    model.mean_module.constant = constant
    model.train()
    mll = ExactMarginalLogLikelihood(model.likelihood, model)
    with torch.no_grad():
        output = model(*model.train_inputs)
        return float(mll(output, model.train_targets)) * model.train_targets.shape[-1]


@pytest.mark.parametrize("prior", ["gamma", "dim_scaled"])
def test_hyperparameter_density_is_the_models_own_posterior(prior):
    X, y = _data()
    surrogate = GaussianProcessSurrogate(lengthscale_prior=prior, device="cpu").fit(X, y)
    model, factors = surrogate.model_, surrogate._factors
    d = X.shape[1]
    points = [
        (factors.lengthscale.clone(), factors.noise, factors.constant),
        (factors.lengthscale * torch.tensor([1.7, 0.6, 1.2]), 0.05, factors.constant + 0.3),
    ]
    ours, theirs = [], []
    for lengthscale, noise, constant in points:
        theta = torch.cat([lengthscale.log(), torch.tensor([math.log(noise), constant])])
        jacobian = float(theta[: d + 1].sum())
        density = log_posterior(
            theta,
            factors.train_X,
            factors.targets,
            model.covar_module.lengthscale_prior,
            model.likelihood.noise_covar.noise_prior,
        )
        ours.append(float(density) - jacobian)
        theirs.append(_model_log_posterior(model, lengthscale, noise, constant))
    # Equal up to a constant: the same difference between the two points.
    assert ours[1] - ours[0] == pytest.approx(theirs[1] - theirs[0], rel=1e-6, abs=1e-6)


def test_averaged_predictions_repeat_for_the_same_data_and_differ_from_the_map():
    X, y = _data(n=15)
    pool = np.random.default_rng(5).random((200, 3))

    def predict(draws: int):
        surrogate = GaussianProcessSurrogate(
            lengthscale_prior="gamma", hyperparameter_draws=draws, device="cpu", seed=3
        )
        return surrogate.fit(X, y).predict(pool)

    first, again, fitted_only = predict(16), predict(16), predict(0)
    np.testing.assert_array_equal(first.mean, again.mean)
    np.testing.assert_array_equal(first.std, again.std)
    assert np.all(np.isfinite(first.std)) and np.all(first.std > 0)
    assert not np.allclose(first.std, fitted_only.std)
    # Both models describe the same data: the averaged one still tracks the fitted one.
    assert np.corrcoef(first.mean, fitted_only.mean)[0, 1] > 0.9


def test_pool_predictions_use_the_average_too():
    X, y = _data(n=15)
    pool = np.random.default_rng(6).random((50, 3))
    surrogate = GaussianProcessSurrogate(hyperparameter_draws=8, device="cpu").fit(X, y)
    rows = np.array([3, 7, 11])
    by_rows, direct = surrogate.predict_rows(pool, rows), surrogate.predict(pool[rows])
    np.testing.assert_allclose(by_rows.mean, direct.mean)
    np.testing.assert_allclose(by_rows.std, direct.std)


def test_averaged_predictions_over_a_large_pool_rank_the_top_as_float64_does():
    X, y = _data(n=40, d=3, seed=9)
    pool = np.random.default_rng(10).random((60_000, 3))  # float32 from 50,000 candidates
    rows = np.arange(0, len(pool), 2)
    surrogate = GaussianProcessSurrogate(hyperparameter_draws=8, device="cpu").fit(X, y)
    predictions = {}
    for precision in ("float64", "auto"):
        surrogate.set_params(pool_precision=precision)
        predictions[precision] = surrogate.predict_rows(pool, rows)
    exact, fast = predictions["float64"], predictions["auto"]
    assert not np.array_equal(exact.std, fast.std)  # the pass did run in float32
    spread = np.ptp(y)  # float32 keeps about six digits of the measured values' spread
    assert np.abs(fast.mean - exact.mean).max() < 1e-4 * spread
    assert np.abs(fast.std - exact.std).max() < 1e-4 * spread
    top = [set(np.argsort(-(p.mean + p.std))[:100]) for p in (exact, fast)]
    assert top[0] == top[1]


def test_two_measurements_predict_with_the_fitted_hyperparameters():
    X, y = _data(n=2)
    pool = np.random.default_rng(7).random((20, 3))
    averaged = GaussianProcessSurrogate(hyperparameter_draws=8, device="cpu").fit(X, y)
    fitted = GaussianProcessSurrogate(device="cpu").fit(X, y)
    np.testing.assert_allclose(averaged.predict(pool).std, fitted.predict(pool).std)


@pytest.mark.parametrize("draws", [-1, 2.5])
def test_a_bad_number_of_draws_is_named(draws):
    X, y = _data()
    with pytest.raises(ConfigurationError, match="hyperparameter_draws"):
        GaussianProcessSurrogate(hyperparameter_draws=draws).fit(X, y)


def test_turning_the_draws_off_between_refits_predicts_with_the_fitted_hyperparameters():
    X, y = _data(n=14)
    pool = np.random.default_rng(8).random((30, 3))
    options = dict(device="cpu", incremental_after=10, refit_every=5)
    switched = GaussianProcessSurrogate(hyperparameter_draws=8, **options).fit(X[:12], y[:12])
    switched.set_params(hyperparameter_draws=0)
    switched.fit(X, y)  # between refits: the fitted hyper-parameters kept, the data extended
    fitted = GaussianProcessSurrogate(**options).fit(X[:12], y[:12]).fit(X, y)
    np.testing.assert_allclose(switched.predict(pool).mean, fitted.predict(pool).mean)
    np.testing.assert_allclose(switched.predict(pool).std, fitted.predict(pool).std)
    rows = np.arange(0, 30, 3)
    by_rows = switched.predict_rows(pool, rows)
    np.testing.assert_allclose(by_rows.std, fitted.predict_rows(pool, rows).std)


def test_a_large_pool_is_scored_over_the_draws_that_hold_nearly_all_the_weight(monkeypatch):
    """Scored in float32 (a pool of 50,000 or more), the draws that together weigh under
    1 % are left out; the predictions stay those of the whole mixture, nearly."""
    from discovery.surrogates.gp_posterior import PosteriorFactors

    X, y = _data(n=30, d=12)
    pool = np.random.default_rng(7).random((400, 12))
    surrogate = GaussianProcessSurrogate(
        lengthscale_prior="gamma", hyperparameter_draws=32, device="cpu", pool_precision="float32"
    ).fit(X, y)
    mixture = surrogate.mixture_
    kept = mixture.heaviest(0.99)
    assert float(kept.weights.sum()) == pytest.approx(1.0)
    weights = np.sort(mixture.weights.numpy())[::-1]
    assert len(kept.members) == np.searchsorted(np.cumsum(weights), 0.99) + 1 < 33
    passes = []
    member_pass = PosteriorFactors.mean_and_variance
    monkeypatch.setattr(
        PosteriorFactors,
        "mean_and_variance",
        lambda self, X: passes.append(1) or member_pass(self, X),
    )
    scored = surrogate.predict_rows(pool, np.arange(400))
    assert len(passes) == len(kept.members)  # one chunk: one pass per draw kept
    whole = surrogate.predict(pool)  # every draw, float64
    spread = whole.mean.std()
    assert np.abs(scored.mean - whole.mean).max() < 0.05 * spread
    np.testing.assert_allclose(scored.std, whole.std, rtol=0.02)
