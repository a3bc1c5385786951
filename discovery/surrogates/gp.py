"""Exact Gaussian-process surrogate through BoTorch's SingleTaskGP.

ARD Matern-5/2 kernel with BoTorch's dimension-scaled lengthscale prior (the
structure of BoTorch's own default model, with Matern instead of RBF), outcome
standardisation on the measured values, hyper-parameters by maximum marginal
likelihood (``fit_gpytorch_mll``), float64 throughout.

Predictions over a pool reuse one Cholesky factor of the training covariance
and the fitted kernel module: per chunk of candidates, one cross-covariance
(chunk x n) and two matrix products give the exact posterior mean and
variance. Memory stays bounded by the chunk; no candidate-by-candidate
covariance is ever formed (BoTorch's ``posterior`` over a plain (m, d) input
would build the m x m joint covariance).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import torch
from botorch.exceptions.warnings import InputDataWarning
from botorch.fit import fit_gpytorch_mll
from botorch.models import SingleTaskGP
from botorch.models.transforms.outcome import Standardize
from botorch.models.utils.gpytorch_modules import get_covar_module_with_dim_scaled_prior
from gpytorch.constraints import GreaterThan
from gpytorch.kernels import MaternKernel
from gpytorch.mlls import ExactMarginalLogLikelihood
from gpytorch.priors import GammaPrior
from linear_operator.utils.cholesky import psd_safe_cholesky
from sklearn.base import BaseEstimator

from discovery.exceptions import ConfigurationError
from discovery.prediction import Prediction
from discovery.surrogates.base import (
    check_prediction_input,
    check_training_data,
    require_fitted,
)
from discovery.surrogates.warping import WARPINGS, RankGaussianWarping

#: Candidates per chunk when predicting over a pool: bounds memory to chunk x n_train.
DEFAULT_CHUNK_SIZE = 16_384
#: Joint Thompson samples are drawn over at most this many promising candidates.
DEFAULT_THOMPSON_CANDIDATES = 512
DEVICES = ("auto", "cpu", "cuda")
INPUT_BOUNDS = ("unit", "data")
#: Modules whose parameters a warm start carries over (not the outcome transform,
#: whose buffers belong to the data it was fitted on).
WARM_START_MODULES = ("covar_module", "likelihood", "mean_module")
#: Smallest input range used to normalise a feature that is constant in the training data.
MIN_INPUT_RANGE = 1e-9
LENGTHSCALE_PRIORS = ("dim_scaled", "gamma")


def resolve_device(device: str) -> torch.device:
    """The torch device for "auto" (CUDA when available), "cpu" or "cuda"."""
    if device not in DEVICES and not str(device).startswith("cuda:"):
        raise ConfigurationError(f"device: expected one of {list(DEVICES)}, got '{device}'")
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if str(device).startswith("cuda") and not torch.cuda.is_available():
        raise ConfigurationError(f"device: '{device}' requested but CUDA is not available")
    return torch.device(device)


class GaussianProcessSurrogate(BaseEstimator):
    """Exact GP (BoTorch SingleTaskGP, ARD Matern-5/2) with chunked pool predictions.

    Args:
        input_bounds: "unit" when inputs already live in [0, 1]^d (as a
            CandidatePool's features do, scaled over the whole pool), or "data"
            to normalise each feature to [0, 1] over the training inputs.
        chunk_size: candidates per chunk in ``predict``.
        thompson_candidates: size of the candidate subset over which joint
            posterior samples are drawn (the most promising by UCB and by LCB).
        seed: seed of the posterior samples.
        device: "auto" (CUDA when available), "cpu" or "cuda".
        warm_start: start the hyper-parameter optimisation of a refit from the
            previous fit's kernel, noise and mean (as scikit-learn's
            ``warm_start``). In a campaign the data grow by a few points per fit,
            so this cuts a refit from tens of optimiser iterations to a few. To
            keep early, poorly informed hyper-parameters from anchoring later
            fits, a cold start is made whenever the training set has grown by
            ``cold_start_growth`` times since the last cold start.
        cold_start_growth: growth factor of the training set that forces a cold start.
        warm_start_after: fits on fewer measurements than this always start cold:
            they take a fraction of a second anyway, and the early fits of a
            campaign are where a cold start's fresh look matters most.
        output_warping: None models the measured values as they are; "copula"
            models the normal scores of their ranks and maps predictions back
            (:mod:`discovery.surrogates.warping`), for skewed objectives.
        lengthscale_prior: "dim_scaled", BoTorch's log-normal prior whose median
            grows with sqrt(d), or "gamma", a Gamma(3) prior with the same mode and
            lighter tails and length scales of at least 0.025 (BayBE's preset), which
            holds the length scales nearer the mode while data are few.
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
        warm_start: bool = True,
        cold_start_growth: float = 2.0,
        warm_start_after: int = 100,
        output_warping: str | None = None,
        lengthscale_prior: str = "dim_scaled",
    ) -> None:
        self.input_bounds = input_bounds
        self.chunk_size = chunk_size
        self.thompson_candidates = thompson_candidates
        self.seed = seed
        self.device = device
        self.warm_start = warm_start
        self.cold_start_growth = cold_start_growth
        self.warm_start_after = warm_start_after
        self.output_warping = output_warping
        self.lengthscale_prior = lengthscale_prior

    def fit(self, X: np.ndarray, y: np.ndarray) -> GaussianProcessSurrogate:
        """Fit kernel hyper-parameters on (n, d) features and (n,) measured values."""
        X, y = check_training_data(X, y, "gp")
        if self.input_bounds not in INPUT_BOUNDS:
            raise ConfigurationError(
                f"gp: input_bounds must be one of {list(INPUT_BOUNDS)}, got '{self.input_bounds}'"
            )
        if self.chunk_size < 1:
            raise ConfigurationError(f"gp: chunk_size must be >= 1, got {self.chunk_size}")
        if self.output_warping not in WARPINGS:
            raise ConfigurationError(
                f"gp: output_warping must be one of {list(WARPINGS)}, got '{self.output_warping}'"
            )
        if self.lengthscale_prior not in LENGTHSCALE_PRIORS:
            raise ConfigurationError(
                f"gp: lengthscale_prior must be one of {list(LENGTHSCALE_PRIORS)}, "
                f"got '{self.lengthscale_prior}'"
            )
        self.warping_ = None
        if self.output_warping == "copula" and X.shape[0] > 1:
            self.warping_ = RankGaussianWarping()
            y = self.warping_.fit_transform(y)
        self.device_ = resolve_device(self.device)
        d = X.shape[1]
        train_X = torch.tensor(X, dtype=torch.float64, device=self.device_)
        train_Y = torch.tensor(y, dtype=torch.float64, device=self.device_).unsqueeze(-1)
        if self.input_bounds == "unit":
            self._lower, self._range = torch.zeros(d), torch.ones(d)
        else:
            self._lower = train_X.min(dim=0).values
            self._range = (train_X.max(dim=0).values - self._lower).clamp_min(MIN_INPUT_RANGE)
        self._lower, self._range = self._lower.to(train_X), self._range.to(train_X)
        train_X = (train_X - self._lower) / self._range
        covar = (
            _gamma_prior_matern(d)
            if self.lengthscale_prior == "gamma"
            else get_covar_module_with_dim_scaled_prior(d, use_rbf_kernel=False)
        )
        with warnings.catch_warnings():
            # A single measurement (or constant y) cannot be standardised; BoTorch warns
            # and copes, which is what an early campaign needs.
            warnings.simplefilter("ignore", InputDataWarning)
            model = SingleTaskGP(
                train_X,
                train_Y,
                covar_module=covar.to(train_X),
                outcome_transform=Standardize(m=1),
            )
            self.warm_started_ = self._start_from_previous_fit(model, X.shape[0])
            fit_gpytorch_mll(ExactMarginalLogLikelihood(model.likelihood, model))
        model.eval()
        self._keep_hyperparameters(model)
        self._cache_posterior_factors(model)
        self.model_ = model
        self.n_features_in_ = d
        return self

    def _start_from_previous_fit(self, model: SingleTaskGP, n_train: int) -> bool:
        """Load the previous fit's hyper-parameters into ``model`` when warm starting is due."""
        previous = getattr(self, "warm_hyperparameters_", None)
        is_due = (
            self.warm_start
            and n_train >= self.warm_start_after
            and previous is not None
            and self.n_features_in_ == model.train_inputs[0].shape[-1]
            and n_train < self.cold_start_growth * self.cold_start_size_
        )
        if not is_due:
            self.cold_start_size_ = n_train
            return False
        model.load_state_dict(previous, strict=False)
        return True

    def _keep_hyperparameters(self, model: SingleTaskGP) -> None:
        self.warm_hyperparameters_ = {
            key: value.detach().clone()
            for key, value in model.state_dict().items()
            if key.split(".")[0] in WARM_START_MODULES
        }

    def warm_state(self) -> dict:
        """What the next warm-started fit starts from, as JSON-able values.

        A stored campaign saves it after every fit, so that a resumed campaign
        fits exactly as an uninterrupted one would.
        """
        require_fitted(self, "model_")
        return {
            "n_features": self.n_features_in_,
            "cold_start_size": self.cold_start_size_,
            "hyperparameters": {k: v.cpu().tolist() for k, v in self.warm_hyperparameters_.items()},
        }

    def load_warm_state(self, state: dict) -> None:
        """Continue from a :meth:`warm_state` saved by an earlier process."""
        self.n_features_in_ = int(state["n_features"])
        self.cold_start_size_ = int(state["cold_start_size"])
        self.warm_hyperparameters_ = {
            k: torch.tensor(v, dtype=torch.float64) for k, v in state["hyperparameters"].items()
        }

    def _cache_posterior_factors(self, model: SingleTaskGP) -> None:
        """Cholesky-based factors of the exact posterior, in standardised units.

        mean(x) = c + k(x, X) alpha;  var(x) = k(x, x) - |k(x, X) L^-T|^2,
        with K + noise I = L L^T and alpha = (K + noise I)^-1 (y - c).
        """
        with torch.no_grad():
            train_X = model.train_inputs[0]
            residual = model.train_targets - model.mean_module.constant
            covariance = model.covar_module(train_X).to_dense()
            covariance = covariance + model.likelihood.noise * torch.eye(
                covariance.shape[-1], dtype=covariance.dtype, device=covariance.device
            )
            root = psd_safe_cholesky(covariance)
            identity = torch.eye(root.shape[-1], dtype=root.dtype, device=root.device)
            self._train_X = train_X
            self._alpha = torch.cholesky_solve(residual.unsqueeze(-1), root).squeeze(-1)
            # An explicit L^-T turns the per-chunk triangular solve into one matrix product.
            self._inverse_root_t = torch.linalg.solve_triangular(
                root, identity, upper=False
            ).transpose(-1, -2)
            self._y_mean = model.outcome_transform.means.squeeze()
            self._y_std = model.outcome_transform.stdvs.squeeze()
            self.noise_std_ = float(model.likelihood.noise.sqrt().squeeze() * self._y_std)

    def _posterior_chunk(self, X: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Exact posterior mean and std at (m, d) candidates, in the objective's units."""
        model = self.model_
        X = (X - self._lower) / self._range
        cross = model.covar_module(X, self._train_X).to_dense()
        mean = model.mean_module.constant + cross @ self._alpha
        projected = cross @ self._inverse_root_t
        prior = model.covar_module(X, diag=True)
        variance = (prior - (projected * projected).sum(-1)).clamp_min(0.0)
        return mean * self._y_std + self._y_mean, variance.sqrt() * self._y_std

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
                mean, std = self._posterior_chunk(chunk)
                means.append(mean.cpu().numpy())
                stds.append(std.cpu().numpy())
        mean = np.concatenate(means) if means else np.empty(0)
        std = np.concatenate(stds) if stds else np.empty(0)
        samples = self._joint_samples(X, mean, std, n_samples) if n_samples > 0 else None
        noise_std = self.noise_std_
        if self.warping_ is not None:
            mean, std = self.warping_.inverse_prediction(mean, std)
            samples = None if samples is None else self.warping_.inverse(samples)
            noise_std = noise_std * abs(self.warping_.slope_)
        return Prediction(mean=mean, std=std, samples=samples, noise_std=noise_std)

    def _joint_samples(
        self, X: np.ndarray, mean: np.ndarray, std: np.ndarray, n_samples: int
    ) -> np.ndarray:
        half = max(1, self.thompson_candidates // 2)
        subset = np.union1d(np.argsort(-(mean + 2 * std))[:half], np.argsort(mean - 2 * std)[:half])
        with torch.no_grad():
            candidates = torch.as_tensor(X[subset], dtype=torch.float64, device=self.device_)
            posterior = self.model_.posterior((candidates - self._lower) / self._range)
            covariance = posterior.distribution.covariance_matrix
            root = psd_safe_cholesky(covariance).cpu().numpy()
        # A fresh stream per training-set size: draws differ between iterations, yet repeat
        # exactly for the same seed and data.
        rng = np.random.default_rng([self.seed, self.model_.train_targets.shape[-1]])
        draws = rng.standard_normal((n_samples, subset.shape[0]))
        samples = np.full((n_samples, X.shape[0]), np.nan)
        samples[:, subset] = mean[subset] + draws @ root.T
        return samples


def _gamma_prior_matern(d: int) -> MaternKernel:
    """ARD Matern-5/2 with a Gamma(3) length-scale prior whose mode, 0.205 sqrt(d), is that of
    BoTorch's dimension-scaled log-normal prior, and length scales of at least 0.025."""
    concentration = 3.0
    rate = (concentration - 1.0) / (math.exp(math.sqrt(2.0) - 3.0) * math.sqrt(d))
    prior = GammaPrior(concentration, rate)
    return MaternKernel(
        nu=2.5,
        ard_num_dims=d,
        lengthscale_prior=prior,
        lengthscale_constraint=GreaterThan(2.5e-2, transform=None, initial_value=prior.mode),
    )
