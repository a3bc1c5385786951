"""Deep ensemble of multilayer perceptrons (PyTorch): mean and spread across members.

Each member starts from its own initialisation and trains on its own bootstrap
resample; the spread of their predictions is the epistemic uncertainty. With
``gaussian_heads`` each member also predicts a noise variance (trained by the
Gaussian negative log-likelihood), reported as the aleatoric part. The members
are trained together as one batched model: their weights are stacked tensors
and one batched matrix product serves all of them.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable

import numpy as np
import torch
from sklearn.base import BaseEstimator

from discovery.exceptions import ConfigurationError
from discovery.prediction import Prediction
from discovery.surrogates.base import (
    check_prediction_input,
    check_training_data,
    require_fitted,
)
from discovery.surrogates.gp import resolve_device

#: Below this many measurements no point can be spared for early stopping.
MIN_ROWS_FOR_EARLY_STOPPING = 20
#: Floor of a predicted noise variance, in standardised units.
MIN_NOISE_VARIANCE = 1e-6
#: Candidates per chunk in ``predict``.
PREDICT_CHUNK = 65_536


class _BatchedMLP(torch.nn.Module):
    """``members`` independent MLPs evaluated with batched matrix products."""

    def __init__(
        self, members: int, inputs: int, hidden: tuple[int, ...], outputs: int, generator
    ) -> None:
        super().__init__()
        sizes = [inputs, *hidden, outputs]
        self.weights = torch.nn.ParameterList()
        self.biases = torch.nn.ParameterList()
        for fan_in, fan_out in itertools.pairwise(sizes):
            bound = 1 / math.sqrt(fan_in)  # PyTorch's default Linear initialisation range
            weight = (torch.rand(members, fan_in, fan_out, generator=generator) * 2 - 1) * bound
            bias = (torch.rand(members, 1, fan_out, generator=generator) * 2 - 1) * bound
            self.weights.append(torch.nn.Parameter(weight))
            self.biases.append(torch.nn.Parameter(bias))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(members, rows, inputs) -> (members, rows, outputs)."""
        last = len(self.weights) - 1
        for layer, (weight, bias) in enumerate(zip(self.weights, self.biases, strict=True)):
            x = torch.baddbmm(bias, x, weight)
            if layer < last:
                x = torch.nn.functional.silu(x)
        return x


class NeuralEnsembleSurrogate(BaseEstimator):
    """Deep ensemble of MLPs with bootstrap resamples and early stopping.

    Args:
        n_members: ensemble size.
        hidden: widths of the hidden layers.
        max_epochs: upper bound on passes over the data.
        learning_rate: Adam's step size.
        weight_decay: L2 penalty (Adam's weight decay).
        batch_size: rows per step (all rows when fewer); None trains on all rows at once.
        validation_fraction: held out (the same rows for all members) to stop
            early once the validation loss has not improved for ``patience`` epochs.
        patience: epochs without improvement before a member stops.
        gaussian_heads: also predict a noise variance per member (aleatoric).
        bootstrap: train each member on a bootstrap resample.
        seed: seed of initialisations, resamples and batches.
        device: "auto" (CUDA when available), "cpu" or "cuda".
    """

    supports_samples = True
    name = "neural"

    def __init__(
        self,
        n_members: int = 5,
        hidden: tuple[int, ...] = (64, 64),
        max_epochs: int = 400,
        learning_rate: float = 3e-3,
        weight_decay: float = 1e-4,
        batch_size: int | None = 256,
        validation_fraction: float = 0.1,
        patience: int = 40,
        gaussian_heads: bool = True,
        bootstrap: bool = True,
        seed: int = 0,
        device: str = "auto",
    ) -> None:
        self.n_members = n_members
        self.hidden = hidden
        self.max_epochs = max_epochs
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.gaussian_heads = gaussian_heads
        self.bootstrap = bootstrap
        self.seed = seed
        self.device = device

    def check_settings(self) -> None:
        """Refuse settings and a device this ensemble cannot use, before any data.

        Raises:
            ConfigurationError: as the message says.
        """
        self._check_settings()
        resolve_device(self.device)

    def _check_settings(self) -> None:
        if self.n_members < 1:
            raise ConfigurationError(f"neural: n_members must be >= 1, got {self.n_members}")
        if not 0 <= self.validation_fraction < 0.5:
            raise ConfigurationError(
                f"neural: validation_fraction must be in [0, 0.5), got {self.validation_fraction}"
            )
        if self.batch_size is not None and self.batch_size < 1:
            raise ConfigurationError(f"neural: batch_size must be >= 1, got {self.batch_size}")

    def fit(self, X: np.ndarray, y: np.ndarray) -> NeuralEnsembleSurrogate:
        """Train every member on (n, d) features and (n,) measured values."""
        X, y = check_training_data(X, y, "neural")
        self._check_settings()
        self.device_ = resolve_device(self.device)
        rng = np.random.default_rng(self.seed)
        generator = torch.Generator().manual_seed(self.seed)
        self.x_mean_, self.x_std_ = X.mean(axis=0), X.std(axis=0)
        self.x_std_[self.x_std_ == 0] = 1.0
        self.y_mean_, self.y_std_ = float(y.mean()), float(y.std()) or 1.0
        X_scaled = (X - self.x_mean_) / self.x_std_
        y_scaled = (y - self.y_mean_) / self.y_std_

        n = X.shape[0]
        order = rng.permutation(n)
        n_validation = (
            round(self.validation_fraction * n) if n >= MIN_ROWS_FOR_EARLY_STOPPING else 0
        )
        validation, training = order[:n_validation], order[n_validation:]
        if self.bootstrap:
            rows = rng.choice(training, size=(self.n_members, training.shape[0]), replace=True)
        else:
            rows = np.tile(training, (self.n_members, 1))

        as_tensor = lambda a: torch.as_tensor(a, dtype=torch.float32, device=self.device_)  # noqa: E731
        train_X, train_y = as_tensor(X_scaled[rows]), as_tensor(y_scaled[rows])
        valid_X = as_tensor(X_scaled[validation]).expand(self.n_members, -1, -1)
        valid_y = as_tensor(y_scaled[validation]).expand(self.n_members, -1)

        outputs = 2 if self.gaussian_heads else 1
        model = _BatchedMLP(self.n_members, X.shape[1], tuple(self.hidden), outputs, generator)
        model = model.to(self.device_)
        self.model_ = self._train(model, train_X, train_y, valid_X, valid_y, generator)
        self.n_features_in_ = X.shape[1]
        return self

    def _loss(self, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Per-member loss, shape (members,)."""
        mean = output[..., 0]
        if not self.gaussian_heads:
            return ((mean - target) ** 2).mean(dim=-1)
        variance = torch.nn.functional.softplus(output[..., 1]) + MIN_NOISE_VARIANCE
        return torch.nn.functional.gaussian_nll_loss(mean, target, variance, reduction="none").mean(
            dim=-1
        )

    def _train(self, model, train_X, train_y, valid_X, valid_y, generator) -> _BatchedMLP:
        optimizer = _adam(model.parameters(), lr=self.learning_rate, weight_decay=self.weight_decay)
        rows = train_X.shape[1]
        batch = rows if self.batch_size is None else min(self.batch_size, rows)
        has_validation = valid_X.shape[1] > 0
        best_loss = torch.full((self.n_members,), math.inf, device=train_X.device)
        best = [p.detach().clone() for p in model.parameters()]
        waited = torch.zeros(self.n_members, dtype=torch.long, device=train_X.device)
        for _ in range(self.max_epochs):
            model.train()
            permutation = torch.randperm(rows, generator=generator).to(train_X.device)
            for start in range(0, rows, batch):
                step = permutation[start : start + batch]
                optimizer.zero_grad()
                loss = self._loss(model(train_X[:, step]), train_y[:, step]).sum()
                loss.backward()
                optimizer.step()
            if not has_validation:
                continue
            with torch.no_grad():
                current = self._loss(model(valid_X), valid_y)
                improved = current < best_loss
                best_loss = torch.where(improved, current, best_loss)
                waited = torch.where(improved, torch.zeros_like(waited), waited + 1)
                for kept, parameter in zip(best, model.parameters(), strict=True):
                    kept[improved] = parameter.detach()[improved]
            if bool((waited >= self.patience).all()):
                break
        if has_validation:  # every member ends at its best validation epoch
            with torch.no_grad():
                for kept, parameter in zip(best, model.parameters(), strict=True):
                    parameter.copy_(kept)
        model.eval()
        return model

    def predict(self, X: np.ndarray, n_samples: int = 0) -> Prediction:
        """Mean and std across members at (m, d) candidates; with ``n_samples`` > 0,
        each member's prediction as one sample (one row per member)."""
        require_fitted(self, "model_")
        X = check_prediction_input(X, self.n_features_in_, "neural")
        outputs = []
        with torch.no_grad():  # in chunks: activations stay at members x chunk x width
            for start in range(0, max(X.shape[0], 1), PREDICT_CHUNK):  # no rows: one empty chunk
                scaled = torch.as_tensor(
                    (X[start : start + PREDICT_CHUNK] - self.x_mean_) / self.x_std_,
                    dtype=torch.float32,
                    device=self.device_,
                )
                output = self.model_(scaled.expand(self.n_members, -1, -1))
                outputs.append(output.double().cpu().numpy())
        output = np.concatenate(outputs, axis=1)
        members = output[..., 0] * self.y_std_ + self.y_mean_
        noise = None
        if self.gaussian_heads:
            variance = np.logaddexp(0.0, output[..., 1]) + MIN_NOISE_VARIANCE  # softplus
            noise = np.sqrt(variance.mean(axis=0)) * self.y_std_
        return Prediction(
            mean=members.mean(axis=0),
            std=members.std(axis=0),
            samples=members if n_samples > 0 else None,
            noise_std=noise,
        )


def _adam(parameters: Iterable[torch.nn.Parameter], **options: float) -> torch.optim.Adam:
    """Adam with PyTorch's fused kernel where this PyTorch has one for the parameters'
    device (on a CPU from PyTorch 2.4: a fit of the ensemble takes half the time, its
    predictions differ by float32 rounding), and with its per-tensor loop otherwise."""
    parameters = list(parameters)
    try:
        return torch.optim.Adam(parameters, fused=True, **options)
    except RuntimeError:  # no fused kernel for this device in this PyTorch
        return torch.optim.Adam(parameters, **options)
