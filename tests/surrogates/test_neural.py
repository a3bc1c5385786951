"""The neural ensemble predicts a pool in chunks."""

import numpy as np

import discovery.surrogates.neural as neural_module
from discovery.surrogates import NeuralEnsembleSurrogate


def test_neural_pool_predictions_in_chunks_equal_one_pass(monkeypatch):

    rng = np.random.default_rng(3)
    X, pool = rng.random((40, 2)), rng.random((300, 2))
    model = NeuralEnsembleSurrogate(n_members=3, max_epochs=20, device="cpu").fit(X, X[:, 0])
    whole = model.predict(pool)
    monkeypatch.setattr(neural_module, "PREDICT_CHUNK", 32)
    chunked = model.predict(pool)
    np.testing.assert_allclose(chunked.mean, whole.mean, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(chunked.std, whole.std, rtol=1e-5, atol=1e-7)
