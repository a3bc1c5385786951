"""On a GPU the surrogates and a campaign give what they give on the CPU.

These run only where CUDA is available (they are skipped elsewhere, CI included);
``device="auto"`` then puts every GP and neural ensemble of the other tests on the GPU.
"""

import numpy as np
import pandas as pd
import pytest
import torch

from discovery import Campaign, CandidatePool, FunctionOracle, LookupOracle
from discovery.surrogates import GaussianProcessSurrogate, NeuralEnsembleSurrogate
from tests.test_multi_objective import POOL, SPACE, TWO, properties
from tests.test_proposal import MIXED, assert_all_feasible_and_distinct, mixed_yield

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


def branin_like(X: np.ndarray) -> np.ndarray:
    return np.sin(5 * X[:, 0]) + np.cos(3 * X[:, 1]) - (X[:, 2] - 0.4) ** 2


def test_gp_on_the_gpu_predicts_what_it_predicts_on_the_cpu():
    rng = np.random.default_rng(0)
    train, pool = rng.random((60, 3)), rng.random((2_000, 3))
    on_cpu = GaussianProcessSurrogate(device="cpu").fit(train, branin_like(train))
    on_gpu = GaussianProcessSurrogate(device="cuda").fit(train, branin_like(train))
    assert on_gpu.device_.type == "cuda"
    cpu, gpu = on_cpu.predict(pool), on_gpu.predict(pool)
    np.testing.assert_allclose(gpu.mean, cpu.mean, rtol=1e-3, atol=1e-3)
    np.testing.assert_allclose(gpu.std, cpu.std, rtol=1e-2, atol=1e-3)


def test_gp_pool_posterior_on_the_gpu_follows_new_measurements():
    """A float32 pool (50,000 candidates or more) kept on the GPU and updated between
    refits equals a fresh prediction of the same model."""
    rng = np.random.default_rng(1)
    pool = rng.random((60_000, 3))
    y = branin_like(pool)
    model = GaussianProcessSurrogate(device="cuda", incremental_after=20, refit_every=50)
    model.fit(pool[:30], y[:30])
    model.predict_rows(pool, np.arange(len(pool)))
    model.fit(pool[:33], y[:33])
    assert model.fits_since_refit_ == 1  # kept hyper-parameters: three rank-one updates
    rows = np.arange(100, 5_100)
    updated = model.predict_rows(pool, rows)
    fresh = model.predict(pool[rows])
    np.testing.assert_allclose(updated.mean, fresh.mean, rtol=1e-3, atol=1e-3)
    np.testing.assert_allclose(updated.std, fresh.std, rtol=1e-2, atol=1e-3)


def test_gp_hyperparameter_draws_run_on_the_gpu():
    """As the default strategy uses them on one-hot pools: the Gamma length-scale prior's
    parameters live on the GPU with the model, the draws are weighed on the CPU."""
    rng = np.random.default_rng(2)
    train, pool = rng.random((25, 3)), rng.random((500, 3))
    model = GaussianProcessSurrogate(
        device="cuda", hyperparameter_draws=8, lengthscale_prior="gamma"
    )
    prediction = model.fit(train, branin_like(train)).predict(pool)
    assert np.all(np.isfinite(prediction.mean)) and np.all(prediction.std > 0)
    near = model.predict(train).mean
    np.testing.assert_allclose(near, branin_like(train), atol=0.2)


def test_neural_ensemble_on_the_gpu_learns_a_smooth_function():
    rng = np.random.default_rng(3)
    train, test = rng.random((400, 3)), rng.random((200, 3))
    model = NeuralEnsembleSurrogate(n_members=3, device="cuda", seed=0)
    prediction = model.fit(train, branin_like(train)).predict(test)
    error = np.sqrt(np.mean((prediction.mean - branin_like(test)) ** 2))
    assert error < 0.3 * np.std(branin_like(test))
    assert np.all(prediction.std > 0)


def test_a_campaign_on_the_gpu_finds_what_it_finds_on_the_cpu():
    rng = np.random.default_rng(4)
    frame = pd.DataFrame(rng.random((400, 3)), columns=["a", "b", "c"])
    frame["y"] = branin_like(frame[["a", "b", "c"]].to_numpy())
    pool = CandidatePool.from_frame(frame, objective="y")
    oracle = LookupOracle.from_pool(pool, "y")

    def best_found(device: str) -> float:
        campaign = Campaign(pool, oracle, "y", surrogate="gp", budget=25, seed=0, device=device)
        return campaign.run(progress=False).history["y"].max()

    top = frame["y"].quantile(0.98)
    assert best_found("cuda") >= top
    assert best_found("cpu") >= top


def test_a_gp_on_the_gpu_proposes_feasible_new_points_of_a_mixed_constrained_space():
    campaign = Campaign(
        MIXED, FunctionOracle(mixed_yield, output="y"), "y", surrogate="gp",
        budget=8, n_initial=4, batch_size=2, seed=3, device="cuda",
    )  # fmt: skip
    history = campaign.run(progress=False).history
    assert len(history) == 8 and history["y"].notna().all()
    assert_all_feasible_and_distinct(MIXED, history)


@pytest.mark.parametrize("acquisition", ["ucb", "thompson"])
def test_single_point_acquisitions_of_a_gp_on_the_gpu_run_over_a_space(acquisition):
    campaign = Campaign(
        MIXED, FunctionOracle(mixed_yield, output="y"), "y", surrogate="gp",
        acquisition=acquisition, budget=6, n_initial=4, seed=1, device="cuda",
    )  # fmt: skip
    assert_all_feasible_and_distinct(MIXED, campaign.run(progress=False).history)


@pytest.mark.parametrize("where", [SPACE, POOL], ids=["space", "pool"])
def test_a_gp_pareto_campaign_on_the_gpu_grows_its_front(where):
    oracle = FunctionOracle(lambda c: properties(c.parameters["a"], c.parameters["b"]))
    result = Campaign(
        where, oracle, objectives=TWO, budget=10, n_initial=4, batch_size=2, seed=0,
        device="cuda",
    ).run(progress=False)  # fmt: skip
    history = result.history
    assert len(history) == 10 and history["candidate_id"].is_unique
    assert set(history["acquisition"].iloc[4:]) == {"ehvi"}
    assert history["hypervolume"].iloc[-1] > history["hypervolume"].iloc[3]
