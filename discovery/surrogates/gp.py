"""Exact Gaussian-process surrogate through BoTorch's SingleTaskGP.

ARD Matern-5/2 kernel with BoTorch's dimension-scaled lengthscale prior,
outcome standardisation on the measured values, hyper-parameters by maximum
marginal likelihood (``fit_gpytorch_mll``), float64 throughout. Predictions
over a pool are computed in chunks so memory stays bounded by the chunk: no
pool-by-pool matrix is ever formed.
"""

from __future__ import annotations

import warnings

import numpy as np
import torch
from botorch.exceptions.warnings import InputDataWarning
from botorch.fit import fit_gpytorch_mll
from botorch.models import SingleTaskGP
from botorch.models.transforms.input import Normalize
from botorch.models.transforms.outcome import Standardize
from botorch.models.utils.gpytorch_modules import get_covar_module_with_dim_scaled_prior
from gpytorch.kernels import ScaleKernel
from gpytorch.mlls import ExactMarginalLogLikelihood
from linear_operator.utils.cholesky import psd_safe_cholesky

from discovery.exceptions import ConfigurationError
from discovery.prediction import Prediction
from discovery.surrogates.base import (
    check_prediction_input,
    check_training_data,
    require_fitted,
)

#: Candidates per chunk when predicting over a pool: bounds memory to chunk x n_train.
DEFAULT_CHUNK_SIZE = 16_384
#: Joint Thompson samples are drawn over at most this many promising candidates.
DEFAULT_THOMPSON_CANDIDATES = 512
DEVICES = ("auto", "cpu", "cuda")
INPUT_BOUNDS = ("unit", "data")


def resolve_device(device: str) -> torch.device:
    """The torch device for "auto" (CUDA when available), "cpu" or "cuda"."""
    if device not in DEVICES and not str(device).startswith("cuda:"):
        raise ConfigurationError(f"device: expected one of {list(DEVICES)}, got '{device}'")
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if str(device).startswith("cuda") and not torch.cuda.is_available():
        raise ConfigurationError(f"device: '{device}' requested but CUDA is not available")
    return torch.device(device)


class GaussianProcessSurrogate:
    """Exact GP (BoTorch SingleTaskGP, ARD Matern-5/2) with chunked pool predictions.

    Args:
        input_bounds: "unit" when inputs already live in [0, 1]^d (as a
            CandidatePool's features do, scaled over the whole pool), or "data"
            to normalise with bounds learned from the training inputs.
        chunk_size: candidates per chunk in ``predict``.
        thompson_candidates: size of the candidate subset over which joint
            posterior samples are drawn (the most promising by UCB and by LCB).
        seed: seed of the posterior samples.
        device: "auto" (CUDA when available), "cpu" or "cuda".
    """

    supports_samples = True
    name = "gp"

    def __init__(
        self,
        input_bounds: str = "unit",
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        thompson_candidates: int = DEFAULT_THOMPSON_CANDIDATES,
        seed: int = 0,
        device: str = "auto",
    ) -> None:
        self.input_bounds = input_bounds
        self.chunk_size = chunk_size
        self.thompson_candidates = thompson_candidates
        self.seed = seed
        self.device = device
        self.model_ = None

    def fit(self, X: np.ndarray, y: np.ndarray) -> GaussianProcessSurrogate:
        """Fit kernel hyper-parameters on (n, d) features and (n,) measured values."""
        X, y = check_training_data(X, y, "gp")
        if self.input_bounds not in INPUT_BOUNDS:
            raise ConfigurationError(
                f"gp: input_bounds must be one of {list(INPUT_BOUNDS)}, got '{self.input_bounds}'"
            )
        if self.chunk_size < 1:
            raise ConfigurationError(f"gp: chunk_size must be >= 1, got {self.chunk_size}")
        self.device_ = resolve_device(self.device)
        d = X.shape[1]
        train_X = torch.tensor(X, dtype=torch.float64, device=self.device_)
        train_Y = torch.tensor(y, dtype=torch.float64, device=self.device_).unsqueeze(-1)
        if self.input_bounds == "unit":
            bounds = torch.stack([torch.zeros(d), torch.ones(d)]).to(train_X)
            normalize = Normalize(d=d, bounds=bounds)
        else:
            normalize = Normalize(d=d)
        covar = ScaleKernel(get_covar_module_with_dim_scaled_prior(d, use_rbf_kernel=False))
        with warnings.catch_warnings():
            # A single measurement (or constant y) cannot be standardised; BoTorch warns
            # and copes, which is what an early campaign needs.
            warnings.simplefilter("ignore", InputDataWarning)
            model = SingleTaskGP(
                train_X,
                train_Y,
                covar_module=covar.to(train_X),
                input_transform=normalize,
                outcome_transform=Standardize(m=1),
            )
            fit_gpytorch_mll(ExactMarginalLogLikelihood(model.likelihood, model))
        model.eval()
        self.model_ = model
        self.n_features_in_ = d
        return self

    def predict(self, X: np.ndarray, n_samples: int = 0) -> Prediction:
        """Posterior mean and std at (m, d) candidates, chunk by chunk.

        With ``n_samples`` > 0, also draws that many joint posterior samples over
        the ``thompson_candidates`` most promising candidates (by UCB and by LCB,
        so both directions are covered); other entries of the samples are NaN.
        """
        require_fitted(self, "model_")
        X = check_prediction_input(X, self.n_features_in_, "gp")
        means, stds = [], []
        with torch.no_grad():
            for start in range(0, X.shape[0], self.chunk_size):
                chunk = torch.as_tensor(
                    X[start : start + self.chunk_size], dtype=torch.float64, device=self.device_
                )
                posterior = self.model_.posterior(chunk)
                means.append(posterior.mean.squeeze(-1).cpu().numpy())
                stds.append(posterior.variance.clamp_min(0).sqrt().squeeze(-1).cpu().numpy())
        mean = np.concatenate(means) if means else np.empty(0)
        std = np.concatenate(stds) if stds else np.empty(0)
        samples = self._joint_samples(X, mean, std, n_samples) if n_samples > 0 else None
        return Prediction(mean=mean, std=std, samples=samples)

    def _joint_samples(
        self, X: np.ndarray, mean: np.ndarray, std: np.ndarray, n_samples: int
    ) -> np.ndarray:
        half = max(1, self.thompson_candidates // 2)
        subset = np.union1d(np.argsort(-(mean + 2 * std))[:half], np.argsort(mean - 2 * std)[:half])
        with torch.no_grad():
            posterior = self.model_.posterior(
                torch.as_tensor(X[subset], dtype=torch.float64, device=self.device_)
            )
            covariance = posterior.distribution.covariance_matrix
            root = psd_safe_cholesky(covariance).cpu().numpy()
        # A fresh stream per training-set size: draws differ between iterations, yet repeat
        # exactly for the same seed and data.
        rng = np.random.default_rng([self.seed, self.model_.train_targets.shape[-1]])
        draws = rng.standard_normal((n_samples, subset.shape[0]))
        samples = np.full((n_samples, X.shape[0]), np.nan)
        samples[:, subset] = mean[subset] + draws @ root.T
        return samples
