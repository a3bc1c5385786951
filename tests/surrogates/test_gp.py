import numpy as np
import pytest

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


def test_nan_targets_are_refused():
    with pytest.raises(ConfigurationError, match="NaN"):
        GaussianProcessSurrogate().fit(X, np.where(Y > 0, np.nan, Y))
