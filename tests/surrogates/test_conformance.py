import numpy as np
import pytest

from discovery.surrogates import (
    GaussianProcessSurrogate,
    NeuralEnsembleSurrogate,
    RandomForestSurrogate,
)
from tests.surrogates.conformance import CHECKS

SURROGATES = {
    "gp": lambda: GaussianProcessSurrogate(seed=0, device="cpu"),
    "gp_hyperparameter_draws": lambda: GaussianProcessSurrogate(
        seed=0, device="cpu", hyperparameter_draws=8
    ),
    "forest": lambda: RandomForestSurrogate(seed=0),
    "extra_trees": lambda: RandomForestSurrogate(seed=0, extra_trees=True),
    "neural": lambda: NeuralEnsembleSurrogate(seed=0, device="cpu"),
    "neural_gaussian_heads": lambda: NeuralEnsembleSurrogate(
        seed=0, device="cpu", gaussian_heads=True
    ),
}


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("name", SURROGATES)
def test_surrogate_conformance(name, check):
    check(SURROGATES[name])


@pytest.mark.parametrize("name", SURROGATES)
def test_candidates_with_nan_or_inf_are_named_not_predicted_as_nan(name):
    """The GP and the neural ensemble predicted NaN means and NaN std for them; the forest
    raised scikit-learn's error about float32."""
    from discovery import ConfigurationError

    X = np.random.default_rng(0).random((12, 2))
    model = SURROGATES[name]().fit(X, X.sum(axis=1))
    with pytest.raises(ConfigurationError, match=r"NaN or infinite values \(rows \[0, 2\]\)"):
        model.predict(np.array([[np.nan, 0.5], [0.5, 0.5], [0.2, np.inf]]))


class MeanSurrogate:
    """A surrogate as the README writes one: fit(X, y) -> self, predict(X) -> Prediction."""

    def fit(self, X, y):
        self.mean_ = float(np.mean(y))
        return self

    def predict(self, X):
        from discovery import Prediction

        return Prediction(np.full(len(X), self.mean_), np.ones(len(X)))


def mean_surrogate_campaign(acquisition):
    import pandas as pd

    from discovery import Campaign, CandidatePool, LookupOracle

    grid = pd.DataFrame({"x": range(50), "y": [float((i - 20) ** 2) for i in range(50)]})
    pool = CandidatePool.from_frame(grid, objective="y")
    oracle = LookupOracle.from_pool(pool, "y")
    options = dict(acquisition=acquisition, budget=7, n_initial=3)
    return Campaign(pool, oracle, "y", surrogate=MeanSurrogate(), **options)


def test_a_surrogate_with_predict_of_x_alone_runs_a_campaign():
    """It crashed after the initial design: predict() got an unexpected keyword argument
    'n_samples'."""
    history = mean_surrogate_campaign("ucb").run(progress=False).history
    assert len(history) == 7 and (history["state"] == "succeeded").all()
    assert list(history["acquisition"][3:]) == ["ucb"] * 4


def test_thompson_sampling_with_a_surrogate_that_draws_no_samples_is_refused():
    from discovery import ConfigurationError

    with pytest.raises(
        ConfigurationError,
        match=r"acquisition 'thompson'.*MeanSurrogate draws none \(its predict takes no "
        r"n_samples\)",
    ):
        mean_surrogate_campaign("thompson")


def test_a_surrogate_with_predict_of_x_alone_searches_a_space_and_several_outcomes():
    """Over a declared space and with several outcomes the same surrogate still failed
    ('unexpected keyword argument n_samples')."""
    from discovery import Campaign, FunctionOracle, Objective, Real, Space

    def measure(candidate):
        x = candidate.parameters["x"]
        return {"y": -((x - 0.3) ** 2), "z": -((x - 0.7) ** 2)}

    space = Space([Real("x", 0.0, 1.0)])
    options = dict(surrogate=MeanSurrogate(), budget=6, n_initial=3)
    runs = [
        Campaign(space, FunctionOracle(measure), "y", **options),
        Campaign(space, FunctionOracle(measure), objectives=[Objective("y"), Objective("z")],
                 **options),
        Campaign(space, FunctionOracle(measure), mode="desirability", **options,
                 objectives=[Objective("y", bounds=(-1, 0)), Objective("z", bounds=(-1, 0))]),
    ]  # fmt: skip
    for campaign in runs:
        history = campaign.run(progress=False).history
        assert len(history) == 6 and (history["state"] == "succeeded").all()
