import numpy as np

from discovery.surrogates import RandomForestSurrogate

X = np.linspace(0, 1, 20).reshape(-1, 1)
Y = np.sin(6 * X[:, 0])


def test_forest_std_is_positive_off_the_data():
    model = RandomForestSurrogate(seed=0).fit(X[:10], Y[:10])
    prediction = model.predict(np.array([[0.75], [0.9]]))
    assert np.all(prediction.std > 0)


def test_each_tree_is_one_sample():
    model = RandomForestSurrogate(n_estimators=7, seed=0).fit(X, Y)
    prediction = model.predict(X, n_samples=1)
    assert prediction.samples.shape == (7, 20)
    np.testing.assert_allclose(prediction.samples.mean(axis=0), prediction.mean)


def test_pool_predictions_in_parallel_chunks_equal_one_pass(monkeypatch):
    import discovery.surrogates.forest as forest_module

    rng = np.random.default_rng(2)
    X, pool = rng.random((60, 3)), rng.random((1000, 3))
    model = RandomForestSurrogate(n_estimators=20, n_jobs=2).fit(X, X.sum(axis=1))
    whole = model.predict(pool)
    monkeypatch.setattr(forest_module, "PREDICT_CHUNK", 64)
    chunked = model.predict(pool)
    np.testing.assert_allclose(chunked.mean, whole.mean, rtol=1e-12)
    np.testing.assert_allclose(chunked.std, whole.std, rtol=1e-12)
    assert len(model.predict(pool[:0])) == 0
