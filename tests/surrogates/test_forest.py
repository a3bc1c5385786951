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
