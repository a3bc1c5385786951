"""Between refits the GP keeps its hyper-parameters and grows the exact posterior."""

import numpy as np
import pytest
import torch

from discovery import ConfigurationError
from discovery.acquisition import resolve_acquisition
from discovery.surrogates import GaussianProcessSurrogate
from tests.surrogates.test_gp import botorch_posterior


def _data(n: int, seed: int = 0, d: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.random((n, d))
    return X, np.sin(4 * X).sum(axis=1) + 0.05 * rng.standard_normal(n)


@pytest.fixture
def passes(monkeypatch) -> list:
    """One entry per full pass of any pool posterior during the test."""
    from discovery.surrogates.gp_posterior import PoolPosterior

    counted: list = []
    full_pass = PoolPosterior._full_pass
    monkeypatch.setattr(
        PoolPosterior,
        "_full_pass",
        lambda self, factors: counted.append(1) or full_pass(self, factors),
    )
    return counted


def test_measurements_between_refits_update_the_pool_posterior_exactly():
    X, y = _data(130)
    pool = np.random.default_rng(9).random((3000, 3))
    model = GaussianProcessSurrogate(
        refit_every=10, incremental_after=100, pool_precision="float64"
    )
    model.fit(X[:120], y[:120])
    model.predict_rows(pool, np.arange(len(pool)))  # the full pass the updates start from
    lengthscale = model.model_.covar_module.lengthscale.detach().clone()
    for n in (121, 124, 130):  # one measurement, then a batch of three, then six
        model.fit(X[:n], y[:n])
        rows = np.arange(0, len(pool), 2)
        prediction = model.predict_rows(pool, rows)
        mean, std = botorch_posterior(model, pool[rows])
        np.testing.assert_allclose(prediction.mean, mean, rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(prediction.std, std, rtol=1e-6, atol=1e-9)
    assert model._pool.size == 130 and model._pool.factor is not None
    assert torch.equal(model.model_.covar_module.lengthscale, lengthscale)  # kept, not refitted


def _follow_one_then_three_measurements(model: GaussianProcessSurrogate, pool: np.ndarray):
    """Fit on 120, make the pool's posterior, then add 1 and 3 measurements; after each,
    the pool's mean and std must equal BoTorch's own posterior."""
    X, y = _data(130)
    model.fit(X[:120], y[:120])
    model.predict_rows(pool, np.arange(len(pool)))
    for n in (121, 124):
        model.fit(X[:n], y[:n])
        prediction = model.predict_rows(pool, np.arange(len(pool)))
        mean, std = botorch_posterior(model, pool.astype(np.float64))
        np.testing.assert_allclose(prediction.mean, mean, rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(prediction.std, std, rtol=1e-6, atol=1e-9)


def test_a_float32_pool_is_followed_without_a_copy_or_a_full_pass(passes):
    pool = np.random.default_rng(9).random((2000, 3)).astype(np.float32)  # an ArrayPool's
    model = GaussianProcessSurrogate(refit_every=10, incremental_after=100)
    _follow_one_then_three_measurements(model, pool)
    assert len(passes) == 1 and model._pool.features is pool


def test_a_factor_outgrowing_its_memory_mid_batch_goes_on_without_it():
    X, y = _data(160)
    pool = np.random.default_rng(8).random((1000, 3))
    # Room for the factor after the fit on 120 (152 columns) but not for its growth.
    model = GaussianProcessSurrogate(
        refit_every=10, incremental_after=100, pool_precision="float64", pool_cache_bytes=1_300_000
    )
    model.fit(X[:120], y[:120])
    model.predict_rows(pool, np.arange(len(pool)))
    assert model._pool.factor.shape[1] == 152
    model.fit(X[:155], y[:155])  # 35 new measurements: the factor must grow at the 33rd
    assert model.fits_since_refit_ == 1
    prediction = model.predict_rows(pool, np.arange(len(pool)))
    mean, std = botorch_posterior(model, pool)
    np.testing.assert_allclose(prediction.mean, mean, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(prediction.std, std, rtol=1e-6, atol=1e-9)
    assert model._pool.size == 155 and model._pool.factor is None  # steps without it from now on


def test_a_pool_too_large_for_its_factor_follows_new_measurements_exactly(passes):
    pool = np.random.default_rng(4).random((2500, 3))
    model = GaussianProcessSurrogate(
        refit_every=10, incremental_after=100, pool_precision="float64", pool_cache_bytes=0
    )
    _follow_one_then_three_measurements(model, pool)
    assert len(passes) == 1 and model._pool.factor is None and model.fits_since_refit_ == 2


def test_hyperparameters_are_refitted_every_refit_every_fits():
    X, y = _data(110)
    model = GaussianProcessSurrogate(refit_every=3, incremental_after=100)
    model.fit(X[:105], y[:105])
    counts = []
    for n in range(106, 111):
        model.fit(X[:n], y[:n])
        counts.append(model.fits_since_refit_)
    assert counts == [1, 2, 0, 1, 2]


def test_a_surprising_measurement_forces_a_refit():
    X, y = _data(105)
    model = GaussianProcessSurrogate(refit_every=50, incremental_after=100)
    model.fit(X[:104], y[:104])
    noise = model.noise_std_
    surprise = y.copy()
    surprise[104] += 40 * y.std()  # far outside what the model predicts
    model.fit(X, surprise)
    assert model.fits_since_refit_ == 0
    assert model.noise_std_ > 2 * noise  # the refit learnt the data are noisier than it thought


def test_small_data_always_refit_and_bad_options_are_named():
    X, y = _data(20)
    model = GaussianProcessSurrogate(refit_every=5).fit(X[:19], y[:19]).fit(X, y)
    assert model.fits_since_refit_ == 0  # below incremental_after
    with pytest.raises(ConfigurationError, match="refit_every"):
        GaussianProcessSurrogate(refit_every=0).fit(X, y)
    with pytest.raises(ConfigurationError, match="pool_precision"):
        GaussianProcessSurrogate(pool_precision="half").fit(X, y)


def test_data_that_do_not_extend_the_last_fit_rebuild_the_posterior():
    X, y = _data(120)
    model = GaussianProcessSurrogate(refit_every=10, incremental_after=100)
    model.fit(X[:110], y[:110])
    changed = y[:115].copy()
    changed[3] += 0.5  # a believed value replaced by the measured one
    prediction = model.fit(X[:115], changed).predict(X[115:])
    mean, std = botorch_posterior(model, X[115:])
    np.testing.assert_allclose(prediction.mean, mean, rtol=1e-6)
    np.testing.assert_allclose(prediction.std, std, rtol=1e-6)


def test_a_surrogate_reused_on_other_data_learns_them_as_a_fresh_one():
    X, _ = _data(150)
    reused = GaussianProcessSurrogate(refit_every=10, incremental_after=100)
    reused.fit(X, X[:, 0] + X[:, 1])  # another objective first, on the same designs
    other = 1000 * np.sin(12 * X[:, 2]) + 5000
    fresh = GaussianProcessSurrogate(refit_every=10, incremental_after=100).fit(X, other)
    test_X, _ = _data(500, seed=1)
    truth = 1000 * np.sin(12 * test_X[:, 2]) + 5000
    errors = [
        np.sqrt(np.mean((model.predict(test_X).mean - truth) ** 2))
        for model in (reused.fit(X, other), fresh)
    ]
    assert errors[0] < 1.1 * errors[1] and errors[1] < 10  # not a model of the first objective


def test_float32_scoring_ranks_the_top_candidates_as_float64_does():
    X, y = _data(150, seed=3, d=6)
    pool = np.random.default_rng(4).random((20_000, 6))
    rows = np.arange(len(pool))
    model = GaussianProcessSurrogate().fit(X, y)
    predictions = {}
    for precision in ("float64", "float32"):
        model.set_params(pool_precision=precision)
        # A new array is a new pool to the model: its posterior is computed afresh.
        predictions[precision] = model.predict_rows(pool.copy(), rows)
    assert model._pool.mean.dtype == torch.float32
    for name in ("ei", "ucb"):
        top = [
            set(np.argsort(-resolve_acquisition(name).score(p, y.max(), True))[:100])
            for p in predictions.values()
        ]
        assert top[0] == top[1], name


def test_a_resumed_surrogate_continues_between_refits_as_the_uninterrupted_one():
    X, y = _data(120)
    settings = {"refit_every": 10, "incremental_after": 100}
    running = GaussianProcessSurrogate(**settings).fit(X[:110], y[:110]).fit(X[:113], y[:113])
    resumed = GaussianProcessSurrogate(**settings)
    resumed.load_warm_state(running.warm_state())
    for model in (running, resumed):
        model.fit(X[:116], y[:116])
    assert resumed.fits_since_refit_ == running.fits_since_refit_ == 2
    assert resumed.warm_state() == running.warm_state()  # kept model, surprise and sizes
    np.testing.assert_allclose(resumed.predict(X).mean, running.predict(X).mean, rtol=1e-8)
    np.testing.assert_allclose(resumed.predict(X).std, running.predict(X).std, rtol=1e-6)


def test_a_campaign_chooses_the_same_candidates_with_updates_as_with_full_passes(monkeypatch):
    import pandas as pd

    import discovery.surrogates.gp as gp_module
    from discovery import Campaign, CandidatePool, LookupOracle

    refits = []
    optimise = gp_module.fit_gpytorch_mll
    monkeypatch.setattr(
        gp_module, "fit_gpytorch_mll", lambda mll: refits.append(1) or optimise(mll)
    )

    rng = np.random.default_rng(5)
    frame = pd.DataFrame(rng.random((400, 3)), columns=["a", "b", "c"])
    frame["y"] = np.sin(5 * frame["a"]) + frame["b"] * frame["c"]
    pool = CandidatePool.from_frame(frame, objective="y")
    from discovery.surrogates.gp_posterior import PoolPosterior

    always_full = PoolPosterior._full_pass
    chosen = []
    # The pool's posterior updated with its factor, without it, and recomputed every time.
    for cache_bytes, recompute in ((10**9, False), (0, False), (10**9, True)):
        if recompute:
            monkeypatch.setattr(PoolPosterior, "update", lambda self, f: always_full(self, f))
        gp = GaussianProcessSurrogate(
            refit_every=4,
            incremental_after=10,
            pool_precision="float64",
            pool_cache_bytes=cache_bytes,
        )
        campaign = Campaign(
            pool, LookupOracle.from_pool(pool, "y"), "y", surrogate=gp, acquisition="ei",
            budget=30, n_initial=5, seed=0,
        )  # fmt: skip
        refits.clear()
        chosen.append(campaign.run(progress=False).history["candidate_id"].tolist())
        assert 5 < len(refits) < 15  # of 25 fits: every 4th from 10 measurements on
    assert chosen[0] == chosen[1] == chosen[2]


def test_a_shuffled_fold_of_the_data_keeps_the_hyperparameters_as_cross_validation_asks():
    """The report's cross-validation conditions the full-data fit on each fold: a fold is a
    shuffled subset of the rows, and refitting five folds took the report from 3 s to 14 s."""
    X, y = _data(60, d=4)
    model = GaussianProcessSurrogate(refit_every=2**31 - 1, incremental_after=0).fit(X, y)
    lengthscale = model.model_.covar_module.lengthscale.detach().clone()
    fold = np.random.default_rng(2).permutation(60)[:48]
    prediction = model.fit(X[fold], y[fold]).predict(X)
    assert torch.equal(model.model_.covar_module.lengthscale, lengthscale)
    mean, std = botorch_posterior(model, X)
    np.testing.assert_allclose(prediction.mean, mean, rtol=1e-6)
    np.testing.assert_allclose(prediction.std, std, rtol=1e-6)
