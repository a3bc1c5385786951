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

from discovery.checks import is_whole_number
from discovery.exceptions import ConfigurationError
from discovery.prediction import Prediction
from discovery.surrogates.base import (
    check_pool_input,
    check_prediction_input,
    check_training_data,
    require_fitted,
)
from discovery.surrogates.gp_hyperposterior import MIN_LENGTHSCALE, HyperMixture, laplace_mixture
from discovery.surrogates.gp_posterior import PoolPosterior, PosteriorFactors
from discovery.surrogates.warping import WARPINGS, PowerWarping, RankGaussianWarping

#: Candidates per chunk of a pass over several draws: each draw passes over the chunk in
#: turn, so a chunk that stays in the processor's cache between draws saves a third.
MIXTURE_CHUNK_SIZE = 4096
#: On pools scored in float32 (FLOAT32_POOL_SIZE candidates and more), the draws of the
#: hyper-parameters kept: the fewest holding this share of the weight (5 to 25 of 33 on a
#: one-hot screen). Leaving the rest out moved no mean by more than 4 % of the means' spread
#: and no std by 1 %, and left the UCB choice as it was (benchmarks/onehot_default.py's
#: screen, 20 to 200 measured); each draw left out saves a pass over the pool.
LARGE_POOL_MIXTURE_MASS = 0.99
#: Smallest spread of the measurements that standardising divides by (BoTorch's default,
#: 1e-8, treated measurements in units of 1e-9 as constant).
MIN_OUTPUT_SPREAD = 1e-200
#: Candidates per chunk when predicting over a pool: bounds memory to chunk x n_train.
DEFAULT_CHUNK_SIZE = 16_384
#: Joint Thompson samples are drawn over at most this many promising candidates.
DEFAULT_THOMPSON_CANDIDATES = 512
DEVICES = ("auto", "cpu", "cuda")
INPUT_BOUNDS = ("unit", "data")
#: Modules whose parameters a warm start carries over (not the outcome transform,
#: whose buffers belong to the data it was fitted on).
WARM_START_MODULES = ("covar_module", "likelihood", "mean_module")
LENGTHSCALE_PRIORS = ("dim_scaled", "gamma")
POOL_PRECISIONS = ("auto", "float64", "float32")
#: With pool_precision="auto", pools of at least this many candidates are scored in float32.
FLOAT32_POOL_SIZE = 50_000
#: Memory the pool's posterior factor may take (N x n values) before full passes take over.
DEFAULT_POOL_CACHE_BYTES = 2_500_000_000
#: Fewer measurements than this predict with the MAP alone even when drawing hyper-parameters.
MIN_MIXTURE_SIZE = 3


def resolve_device(device: str) -> torch.device:
    """The torch device for "auto" (CUDA when available), "cpu", "cuda" or "cuda:N"."""
    index = str(device).removeprefix("cuda:")
    if device not in DEVICES and not (str(device).startswith("cuda:") and index.isdigit()):
        raise ConfigurationError(
            f"device: expected one of {list(DEVICES)} or 'cuda:N', got '{device}'"
        )
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if str(device).startswith("cuda") and not torch.cuda.is_available():
        raise ConfigurationError(f"device: '{device}' requested but CUDA is not available")
    if index.isdigit() and int(index) >= torch.cuda.device_count():
        raise ConfigurationError(
            f"device: '{device}' requested but {torch.cuda.device_count()} CUDA device(s) "
            f"are visible (cuda:0 to cuda:{torch.cuda.device_count() - 1})"
        )
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
            (:mod:`discovery.surrogates.warping`), for skewed objectives; "power"
            models their Yeo-Johnson transform, the gentler of the two.
        lengthscale_prior: "dim_scaled", BoTorch's log-normal prior whose median
            grows with sqrt(d), or "gamma", a Gamma(3) prior with the same mode and
            lighter tails and length scales of at least 0.025 (BayBE's preset), which
            holds the length scales nearer the mode while data are few.
        refit_every: optimise the hyper-parameters on every ``refit_every``-th fit
            only; in between, a fit that adds measurements to the previous ones
            keeps the hyper-parameters (and the outcome standardisation) and
            extends the exact posterior by a rank-one update per measurement, and
            a pool's posterior (:meth:`predict_rows`) follows at O(N n) per
            measurement instead of a full pass. 1 refits on every fit.
        incremental_after: fits on fewer measurements than this always refit.
        drift_threshold: refit early when the new measurements since the last
            refit are surprising: their mean squared standardised residual
            (expected 1) exceeds this.
        pool_precision: precision of the pool's posterior in :meth:`predict_rows`:
            "float64", "float32" (half the memory and time, rankings unchanged
            but for near-ties) or "auto" (float32 from 50,000 candidates). With
            hyper-parameter draws, every member's pass over the pool runs in it.
        pool_cache_bytes: memory the pool's posterior factor (N x n values) may
            take; beyond it every new measurement costs a full pass.
        hyperparameter_draws: 0 predicts with the fitted (MAP) hyper-parameters; more
            averages the predictions over that many importance-weighted draws from a
            Laplace approximation of their posterior (with the MAP among them;
            :mod:`discovery.surrogates.gp_hyperposterior`): where the data leave the
            length scales open, the prediction spreads over the plausible ones (with
            tens of them, as on one-hot reaction screens, it comes close to one
            posterior draw per fit). Every fit then refits; joint (Thompson) samples
            still come from the MAP.
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
        refit_every: int = 5,
        incremental_after: int = 100,
        drift_threshold: float = 4.0,
        pool_precision: str = "auto",
        pool_cache_bytes: int = DEFAULT_POOL_CACHE_BYTES,
        hyperparameter_draws: int = 0,
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
        self.refit_every = refit_every
        self.incremental_after = incremental_after
        self.drift_threshold = drift_threshold
        self.pool_precision = pool_precision
        self.pool_cache_bytes = pool_cache_bytes
        self.hyperparameter_draws = hyperparameter_draws

    def fit(self, X: np.ndarray, y: np.ndarray) -> GaussianProcessSurrogate:
        """Fit on (n, d) features and (n,) measured values.

        Optimises the kernel hyper-parameters, or, between refits (see
        ``refit_every``), keeps them and extends the exact posterior with the
        measurements added since the previous fit.
        """
        X, y = check_training_data(X, y, "gp")
        self._check_options()
        self._resume_if_pending(X, y)
        self.mixture_ = None  # only a full fit with draws averages over hyper-parameters
        if self._keeps_hyperparameters(X, y):
            return self
        self.warping_ = None
        if self.output_warping == "copula" and X.shape[0] > 1:
            self.warping_ = RankGaussianWarping()
            y = self.warping_.fit_transform(y)
        elif self.output_warping == "power" and np.ptp(y) > 0:
            self.warping_ = PowerWarping()
            y = self.warping_.fit_transform(y)
        self.device_ = resolve_device(self.device)
        d = X.shape[1]
        train_X = torch.tensor(X, dtype=torch.float64, device=self.device_)
        train_Y = torch.tensor(y, dtype=torch.float64, device=self.device_).unsqueeze(-1)
        if self.input_bounds == "unit":
            self._lower, self._range = torch.zeros(d), torch.ones(d)
        else:
            self._lower = train_X.min(dim=0).values
            spread = train_X.max(dim=0).values - self._lower
            # A feature the data hold constant keeps its units: a range of 1e-9 put a
            # candidate a hair away (1.000001 bar against 1 bar) out of the data's reach.
            self._range = torch.where(spread > 0, spread, torch.ones_like(spread))
        self._lower, self._range = self._lower.to(train_X), self._range.to(train_X)
        train_X = (train_X - self._lower) / self._range
        model = self._new_model(train_X, train_Y)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", InputDataWarning)
            self.warm_started_ = self._start_from_previous_fit(model, X.shape[0])
            fit_gpytorch_mll(ExactMarginalLogLikelihood(model.likelihood, model))
        model.eval()
        self._keep_hyperparameters(model)
        self.model_ = model
        self.n_features_in_ = d
        self._set_factors(X, y)
        if self.hyperparameter_draws > 0 and X.shape[0] >= MIN_MIXTURE_SIZE:
            self.mixture_ = laplace_mixture(
                self._factors,
                model.covar_module.lengthscale_prior,
                model.likelihood.noise_covar.noise_prior,
                self.hyperparameter_draws,
                seed=self.seed * 1_000_003 + X.shape[0],
            )
        self.fits_since_refit_ = 0
        self._surprise = [0.0, 0]  # sum of squared standardised residuals, count
        return self

    def _new_model(self, train_X: torch.Tensor, train_Y: torch.Tensor) -> SingleTaskGP:
        """An unfitted SingleTaskGP with this surrogate's kernel and prior on scaled inputs."""
        d = train_X.shape[-1]
        covar = (
            _gamma_prior_matern(d)
            if self.lengthscale_prior == "gamma"
            else get_covar_module_with_dim_scaled_prior(d, use_rbf_kernel=False)
        )
        with warnings.catch_warnings():
            # A single measurement (or constant y) cannot be standardised; BoTorch warns
            # and copes, which is what an early campaign needs.
            warnings.simplefilter("ignore", InputDataWarning)
            return SingleTaskGP(
                train_X,
                train_Y,
                covar_module=covar.to(train_X),
                # BoTorch takes a spread below 1e-8 for none; values in units of 1e-9
                # are still values: only an exactly constant y is left unscaled.
                outcome_transform=Standardize(m=1, min_stdv=MIN_OUTPUT_SPREAD),
            )

    def check_settings(self) -> None:
        """Refuse options and a device this model cannot use, before any data.

        Raises:
            ConfigurationError: as the message says.
        """
        self._check_options()
        resolve_device(self.device)

    def _check_options(self) -> None:
        for name, choices in (
            ("input_bounds", INPUT_BOUNDS),
            ("output_warping", WARPINGS),
            ("lengthscale_prior", LENGTHSCALE_PRIORS),
            ("pool_precision", POOL_PRECISIONS),
        ):
            value = getattr(self, name)
            if value not in choices:
                raise ConfigurationError(
                    f"gp: {name} must be one of {list(choices)}, got '{value}'"
                )
        if self.chunk_size < 1:
            raise ConfigurationError(f"gp: chunk_size must be >= 1, got {self.chunk_size}")
        if not (is_whole_number(self.hyperparameter_draws) and self.hyperparameter_draws >= 0):
            raise ConfigurationError(
                f"gp: hyperparameter_draws must be an integer >= 0, "
                f"got {self.hyperparameter_draws!r}"
            )
        if not (is_whole_number(self.refit_every) and self.refit_every >= 1):
            raise ConfigurationError(
                f"gp: refit_every must be an integer >= 1, got {self.refit_every!r}"
            )

    def _keeps_hyperparameters(self, X: np.ndarray, y: np.ndarray) -> bool:
        """Between refits, take the new data with the hyper-parameters kept: extend the
        posterior when the data extend the previous fit's, else rebuild it. False when
        a refit is due (or the model has none to keep)."""
        previous = getattr(self, "_factors", None)
        if (
            previous is None
            or self.warping_ is not None
            or self.hyperparameter_draws > 0
            or self.fits_since_refit_ + 1 >= self.refit_every
            or self._fitted_X.shape[0] < self.incremental_after
            or X.shape[1] != self.n_features_in_
        ):
            return False
        n = self._fitted_X.shape[0]
        if 2 * _known_rows(X, y, self._fitted_X, self._fitted_y) < n:
            return False  # other data (the object reused elsewhere): learn them afresh
        if _rows_in_place(X, y, self._fitted_X, self._fitted_y) == n and X.shape[0] >= n:
            # the data extend the previous fit's
            new_X, new_targets = self._scaled(X[n:]), self._standardised(y[n:])
            mean, variance = previous.mean_and_variance(new_X)
            self._surprise[0] += float(
                ((new_targets - mean) ** 2 / (variance + previous.noise)).sum()
            )
            self._surprise[1] += X.shape[0] - n
            if self._surprise[0] > self.drift_threshold * self._surprise[1]:
                return False
            previous.extend(new_X, new_targets)
            self._fitted_X, self._fitted_y = X.copy(), y.copy()
        else:  # most of the previous data: believed values now measured, or a CV fold
            self._set_factors(X, y)
        self.fits_since_refit_ += 1
        with torch.no_grad():
            self.model_.set_train_data(self._factors.train_X, self._factors.targets, strict=False)
        return True

    def _scaled(self, X: np.ndarray) -> torch.Tensor:
        features = torch.tensor(X, dtype=torch.float64, device=self.device_)
        return (features - self._lower) / self._range

    def _standardised(self, y: np.ndarray) -> torch.Tensor:
        values = torch.tensor(y, dtype=torch.float64, device=self.device_)
        return (values - self._y_mean) / self._y_std

    def _set_factors(self, X: np.ndarray, y: np.ndarray) -> None:
        """Posterior factors of the current hyper-parameters on (X, y), from scratch.

        mean(x) = c + k(x, X) alpha;  var(x) = k(x, x) - |L^-1 k(X, x)|^2 in
        standardised units, with K + noise I = L L^T (see :mod:`gp_posterior`).
        """
        model = self.model_
        transform = model.outcome_transform
        self._y_mean = transform.means.detach().squeeze()
        self._y_std = transform.stdvs.detach().squeeze()
        previous = getattr(self, "_factors", None)
        with torch.no_grad():
            train_X = self._scaled(X)
            self._factors = PosteriorFactors(
                train_X=train_X,
                targets=self._standardised(y),
                lengthscale=model.covar_module.lengthscale.detach().reshape(-1),
                centre=train_X.mean(dim=0),
                constant=float(model.mean_module.constant),
                noise=float(model.likelihood.noise.squeeze()),
                version=0 if previous is None else previous.version + 1,
            )
        self.noise_std_ = float(math.sqrt(self._factors.noise) * self._y_std)
        self._fitted_X, self._fitted_y = X.copy(), y.copy()

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
        """What the next fit continues from, as JSON-able values.

        A stored campaign saves it after every fit, so that a resumed campaign
        fits as an uninterrupted one would: the warm start of the next refit,
        and between refits the hyper-parameters kept and how far the data had
        grown (the resumed fit rebuilds the posterior with them).
        """
        require_fitted(self, "model_")
        state = {
            "n_features": self.n_features_in_,
            "cold_start_size": self.cold_start_size_,
            "hyperparameters": {k: v.cpu().tolist() for k, v in self.warm_hyperparameters_.items()},
        }
        if self.warping_ is None and self.hyperparameter_draws == 0:
            state["kept"] = {
                "model": {k: v.cpu().tolist() for k, v in self.model_.state_dict().items()},
                "fits_since_refit": self.fits_since_refit_,
                "surprise": list(self._surprise),
                "bounds": [self._lower.cpu().tolist(), self._range.cpu().tolist()],
                "size_at_refit": self._factors.size - len(self._factors.steps),
                "size": self._factors.size,
            }
        return state

    def load_warm_state(self, state: dict) -> None:
        """Continue from a :meth:`warm_state` saved by an earlier process.

        A model already in that very state (the same object, asked again by an
        ask/tell loop) keeps its posterior, and its pool's.
        """
        if getattr(self, "model_", None) is not None and self.warm_state() == state:
            return
        self.n_features_in_ = int(state["n_features"])
        self.cold_start_size_ = int(state["cold_start_size"])
        self.warm_hyperparameters_ = {
            k: torch.tensor(v, dtype=torch.float64) for k, v in state["hyperparameters"].items()
        }
        self._pending_resume = state.get("kept")

    def _resume_if_pending(self, X: np.ndarray, y: np.ndarray) -> None:
        """After :meth:`load_warm_state`, rebuild the model an interrupted process held
        between refits: its hyper-parameters on the data it was refitted on, extended,
        measurement by measurement, to the data of its last fit."""
        kept = getattr(self, "_pending_resume", None)
        self._pending_resume = None
        if kept is None or self.output_warping is not None or self.hyperparameter_draws > 0:
            return
        refit_size, size = int(kept["size_at_refit"]), int(kept["size"])
        if X.shape[0] < size:
            return
        self.device_ = resolve_device(self.device)
        self.warping_ = None
        lower, scale = (torch.tensor(b, dtype=torch.float64) for b in kept["bounds"])
        self._lower, self._range = lower.to(self.device_), scale.to(self.device_)
        model = self._new_model(
            self._scaled(X[:refit_size]),
            torch.tensor(y[:refit_size], dtype=torch.float64, device=self.device_).unsqueeze(-1),
        )
        model.load_state_dict(
            {k: torch.tensor(v, dtype=torch.float64) for k, v in kept["model"].items()},
            strict=False,
        )
        model.eval()
        self.model_ = model
        self._set_factors(X[:refit_size], y[:refit_size])
        with torch.no_grad():
            self._factors.extend(
                self._scaled(X[refit_size:size]), self._standardised(y[refit_size:size])
            )
        self._fitted_X, self._fitted_y = X[:size].copy(), y[:size].copy()
        self.fits_since_refit_ = int(kept["fits_since_refit"])
        self._surprise = [float(kept["surprise"][0]), int(kept["surprise"][1])]

    def _pool_precision(self, n_pool: int) -> torch.dtype:
        if self.pool_precision == "float32" or (
            self.pool_precision == "auto" and n_pool >= FLOAT32_POOL_SIZE
        ):
            return torch.float32
        return torch.float64

    def predict(self, X: np.ndarray, n_samples: int = 0) -> Prediction:
        """Posterior mean and std at (m, d) candidates, chunk by chunk.

        With ``n_samples`` > 0, also draws that many joint posterior samples over
        the ``thompson_candidates`` most promising candidates (by UCB and by LCB,
        so both directions are covered); other entries of the samples are NaN.
        """
        require_fitted(self, "model_")
        X = check_prediction_input(X, self.n_features_in_, "gp")
        return self._predict_in(X, torch.float64, n_samples)

    def _predict_in(
        self, X: np.ndarray, dtype: torch.dtype, n_samples: int, mixture: HyperMixture | None = None
    ) -> Prediction:
        """:meth:`predict` on checked inputs, each chunk's pass in ``dtype``, averaged over
        ``mixture`` (by default the fit's draws, if any)."""
        means, variances = [], []
        mixture = getattr(self, "mixture_", None) if mixture is None else mixture
        source = self._factors if mixture is None else mixture
        chunk = self.chunk_size if mixture is None else min(self.chunk_size, MIXTURE_CHUNK_SIZE)
        with torch.no_grad():
            for start in range(0, X.shape[0], chunk):
                mean, variance = source.mean_and_variance(
                    self._scaled(X[start : start + chunk]).to(dtype)
                )
                means.append(mean)
                variances.append(variance)
        if not means:
            means = variances = [torch.empty(0, dtype=torch.float64)]
        return self._prediction(X, torch.cat(means), torch.cat(variances), n_samples)

    def botorch_model(self) -> SingleTaskGP:
        """The fitted BoTorch model, taking the features :meth:`fit` was given: with
        ``input_bounds="data"`` a copy that scales them to the data's bounds itself, as
        the model was fitted on (BoTorch's acquisitions and optimisers hand it their
        candidates unscaled). The model answers on the warped scale under output warping."""
        require_fitted(self, "model_")
        if self.input_bounds == "unit":
            return self.model_
        import copy

        from botorch.models.transforms.input import AffineInputTransform

        model = copy.deepcopy(self.model_)
        model.input_transform = AffineInputTransform(
            self.n_features_in_,
            coefficient=self._range,
            offset=self._lower,
            transform_on_train=False,  # its training inputs are scaled already
        )
        return model.eval()

    def predict_rows(
        self, features: np.ndarray, rows: np.ndarray, n_samples: int = 0
    ) -> Prediction:
        """:meth:`predict` for ``features[rows]``, from a posterior kept over all of
        ``features`` (a campaign's pool) and updated, between refits, by one
        rank-one step per new measurement instead of a full pass."""
        require_fitted(self, "model_")
        if getattr(self, "mixture_", None) is not None:
            # Every member passes over the rows afresh (each fit draws new members), in
            # the pool's precision: float32 halves the time of the 33 passes on large pools,
            # where the draws that together weigh under 1 % are left out too.
            X = check_prediction_input(features[rows], self.n_features_in_, "gp")
            precision = self._pool_precision(features.shape[0])
            mixture = self.mixture_
            if precision == torch.float32:
                mixture = mixture.heaviest(LARGE_POOL_MIXTURE_MASS)
            return self._predict_in(X, precision, n_samples, mixture)
        pool = getattr(self, "_pool", None)
        if pool is None or not pool.follows(features):
            features = check_pool_input(features, self.n_features_in_, "gp")
            pool = PoolPosterior(
                features,
                self._lower,
                self._range,
                self._pool_precision(features.shape[0]),
                self.chunk_size,
                self.pool_cache_bytes,
            )
            self._pool = pool
        pool.lower, pool.scale = self._lower, self._range
        with torch.no_grad():
            pool.update(self._factors)
        rows = np.asarray(rows)
        if rows.dtype == bool:  # a mask, as ``features[rows]`` reads it
            rows = np.flatnonzero(rows)
        index = torch.as_tensor(rows.astype(np.int64), device=pool.mean.device)
        X = features[rows] if n_samples > 0 else None  # only the samples need the rows
        return self._prediction(X, pool.mean[index], pool.variance[index], n_samples)

    def _prediction(
        self, X: np.ndarray | None, mean: torch.Tensor, variance: torch.Tensor, n_samples: int
    ) -> Prediction:
        """A Prediction in the objective's units from standardised mean and variance."""
        y_std, y_mean = float(self._y_std), float(self._y_mean)
        mean = mean.double().cpu().numpy() * y_std + y_mean
        std = np.sqrt(variance.double().cpu().numpy()) * y_std
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


def _rows_in_place(X: np.ndarray, y: np.ndarray, before_X: np.ndarray, before_y: np.ndarray) -> int:
    """How many rows of (X, y) are, in the same place, those of the previous fit's data."""
    m = min(X.shape[0], before_X.shape[0])
    return int((np.all(X[:m] == before_X[:m], axis=1) & (y[:m] == before_y[:m])).sum())


def _known_rows(X: np.ndarray, y: np.ndarray, before_X: np.ndarray, before_y: np.ndarray) -> int:
    """How many rows of (X, y) are rows of the previous fit's data, wherever they stand
    (a cross-validation fold takes a shuffled subset of them)."""
    known = {row.tobytes() for row in np.column_stack([before_X, before_y])}
    return sum(row.tobytes() in known for row in np.column_stack([X, y]))


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
        lengthscale_constraint=GreaterThan(
            MIN_LENGTHSCALE, transform=None, initial_value=prior.mode
        ),
    )
