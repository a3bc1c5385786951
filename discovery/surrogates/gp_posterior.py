"""The exact GP posterior for fixed hyper-parameters, grown one measurement at a time.

A Matern-5/2 GP with unit output scale, constant mean ``c`` and noise variance
``noise`` (all in standardised units) has, with K + noise I = L L^T,

    mean(x) = c + k(x, X) alpha,   alpha = (K + noise I)^-1 (y - c)
    var(x)  = 1 - |V(x)|^2,        V(x)  = L^-1 k(X, x)

Adding a measurement (x', y') extends L by one row, [v^T, s] with v = V(x') and
s^2 = 1 + noise - |v|^2, and changes the posterior everywhere by a rank-one term:
with u(x) = (k(x, x') - V(x) . v) / s,

    mean'(x) = mean(x) + u(x) (y' - mean(x')) / s,   var'(x) = var(x) - u(x)^2,

and u becomes the new last column of V. :class:`PoolPosterior` keeps V, the mean
and the variance of every candidate of a pool, so that a new measurement costs
O(N n) (one matrix-vector product) instead of a new cross-covariance, O(N n d),
and the product with L^-T, O(N n^2).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch
from linear_operator.utils.cholesky import psd_safe_cholesky

SQRT5 = math.sqrt(5.0)
#: Smallest conditional variance (standardised units) of a new measurement: keeps the
#: extended factor finite when a point is measured twice with almost no noise.
MIN_CONDITIONAL_VARIANCE = 1e-10


def matern52(a: torch.Tensor, b: torch.Tensor, lengthscale: torch.Tensor, centre: torch.Tensor):
    """Matern-5/2 covariance (unit output scale) between the rows of ``a`` and ``b``.

    One fused pass: scale by the length scales, pairwise distances with
    ``torch.cdist``, then the polynomial-times-exponential in place. ``centre``
    is subtracted first (distances do not change) so that the matrix-product form
    of the distances loses no precision far from the origin.
    """
    scaled_a = (a - centre) / lengthscale
    scaled_b = (b - centre) / lengthscale
    s = torch.cdist(scaled_a, scaled_b).mul_(SQRT5)  # sqrt(5) r
    decay = torch.neg(s).exp_()
    return s.mul(s).div_(3.0).add_(s).add_(1.0).mul_(decay)


@dataclass
class Step:
    """One measurement added to the factors: what a pool needs to follow it."""

    x: torch.Tensor  # (d,) scaled input
    v: torch.Tensor  # (n,) L^-1 k(X, x) before the step
    s: float  # sqrt of the conditional variance of the new measurement
    residual: float  # y - mean(x) before the step, standardised


@dataclass
class PosteriorFactors:
    """Cholesky factors of the exact posterior for fixed hyper-parameters.

    ``version`` changes whenever the factors are rebuilt from scratch (new
    hyper-parameters or new data that do not extend the old); ``steps`` lists
    the measurements added since, in order.
    """

    train_X: torch.Tensor
    targets: torch.Tensor
    lengthscale: torch.Tensor
    centre: torch.Tensor
    constant: float
    noise: float
    inverse_root: torch.Tensor = field(init=False)
    alpha: torch.Tensor = field(init=False)
    version: int = 0
    steps: list[Step] = field(default_factory=list)

    def __post_init__(self) -> None:
        n = self.train_X.shape[0]
        covariance = self.kernel(self.train_X, self.train_X)
        covariance.diagonal().add_(self.noise)
        root = psd_safe_cholesky(covariance)
        identity = torch.eye(n, dtype=root.dtype, device=root.device)
        self.inverse_root = torch.linalg.solve_triangular(root, identity, upper=False)
        self._solve_alpha()

    @property
    def size(self) -> int:
        """Number of training points."""
        return int(self.train_X.shape[0])

    def kernel(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """The prior covariance between rows of ``a`` and ``b`` (scaled inputs)."""
        return matern52(a, b, self.lengthscale.to(a.dtype), self.centre.to(a.dtype))

    def _solve_alpha(self) -> None:
        residual = self.targets - self.constant
        self.alpha = self.inverse_root.T @ (self.inverse_root @ residual)

    def mean_and_variance(self, X: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Posterior mean and variance (standardised) at (m, d) scaled inputs, in their
        precision (float32 for large pools, as :class:`PoolPosterior`)."""
        cross = self.kernel(X, self.train_X.to(X.dtype))
        projected = cross @ self.inverse_root.T.to(cross.dtype)
        mean = self.constant + cross @ self.alpha.to(cross.dtype)
        return mean, (1.0 - (projected * projected).sum(-1)).clamp_min(0.0)

    def extend(self, X: torch.Tensor, targets: torch.Tensor) -> None:
        """Add measurements (scaled inputs, standardised targets) one at a time."""
        for x, target in zip(X, targets, strict=True):
            prior = self.kernel(x.unsqueeze(0), self.train_X).squeeze(0)
            v = self.inverse_root @ prior
            s = math.sqrt(max(1.0 + self.noise - float(v @ v), MIN_CONDITIONAL_VARIANCE))
            mean = self.constant + float(prior @ self.alpha)
            n = self.size
            inverse_root = self.inverse_root.new_zeros((n + 1, n + 1))
            inverse_root[:n, :n] = self.inverse_root
            inverse_root[n, :n] = -(v @ self.inverse_root) / s
            inverse_root[n, n] = 1.0 / s
            self.inverse_root = inverse_root
            self.train_X = torch.cat([self.train_X, x.unsqueeze(0)])
            self.targets = torch.cat([self.targets, target.reshape(1)])
            self.steps.append(Step(x=x, v=v, s=s, residual=float(target) - mean))
            self._solve_alpha()


class PoolPosterior:
    """Posterior mean and variance over a fixed pool, kept in step with the factors.

    Holds V (N x n, grown column by column) when it fits in ``budget_bytes``;
    without it a new measurement costs one cross-covariance pass instead of a
    matrix-vector product, still far less than a full pass. ``dtype`` is the
    precision of the pass and of V: float32 halves memory and time at the cost
    of about 1e-6 relative error, harmless for ranking candidates.
    """

    def __init__(
        self,
        features: np.ndarray,
        lower: torch.Tensor,
        scale: torch.Tensor,
        dtype: torch.dtype,
        chunk_size: int,
        budget_bytes: int,
    ) -> None:
        self.features = features
        self.lower, self.scale = lower, scale
        self.dtype = dtype
        self.chunk_size = chunk_size
        self.budget_bytes = budget_bytes
        self.version: int | None = None
        self.size = 0  # training points the posterior accounts for
        self.mean = torch.empty(0)
        self.variance = torch.empty(0)
        self.factor: torch.Tensor | None = None  # (N, capacity) with the first `size` columns used
        self._scaled: torch.Tensor | None = None  # the pool's scaled features, after a full pass

    def follows(self, features: np.ndarray) -> bool:
        """Whether this posterior is for the very same feature array."""
        return features is self.features

    def update(self, factors: PosteriorFactors) -> None:
        """Bring mean and variance up to the factors: rank-one steps where possible."""
        step_start = factors.size - len(factors.steps)
        incremental = (
            self.version == factors.version
            and self._scaled is not None
            and step_start <= self.size <= factors.size
        )
        if not incremental:
            self._full_pass(factors)
            return
        while self.size < factors.size:  # a full pass inside a step catches up at once
            self._add(factors.steps[self.size - step_start], factors)

    def _scaled_chunk(self, start: int, device: torch.device) -> torch.Tensor:
        if self._scaled is not None:
            return self._scaled[start : start + self.chunk_size]
        chunk = torch.as_tensor(self.features[start : start + self.chunk_size], device=device)
        return ((chunk.to(torch.float64) - self.lower) / self.scale).to(self.dtype)

    def _full_pass(self, factors: PosteriorFactors) -> None:
        n_pool, n = self.features.shape[0], factors.size
        device = factors.train_X.device
        capacity = n + _growth(n)
        keep_factor = n_pool * capacity * self.dtype.itemsize <= self.budget_bytes
        self.factor, self._scaled = None, None
        # The scaled features (N x d) stay on the device for the updates that follow,
        # so a step neither rescales nor moves the pool again.
        scaled = [self._scaled_chunk(start, device) for start in range(0, n_pool, self.chunk_size)]
        self._scaled = torch.cat(scaled) if scaled else None
        factor = (
            torch.empty((n_pool, capacity), dtype=self.dtype, device=device)
            if keep_factor
            else None
        )
        train_X = factors.train_X.to(self.dtype)
        inverse_root_t = factors.inverse_root.T.to(self.dtype)
        alpha = factors.alpha.to(self.dtype)
        mean = torch.empty(n_pool, dtype=self.dtype, device=device)
        variance = torch.empty(n_pool, dtype=self.dtype, device=device)
        for start in range(0, n_pool, self.chunk_size):
            stop = min(start + self.chunk_size, n_pool)
            cross = factors.kernel(self._scaled_chunk(start, device), train_X)
            mean[start:stop] = cross @ alpha
            projected = cross @ inverse_root_t
            variance[start:stop] = 1.0 - (projected * projected).sum(-1)
            if factor is not None:
                factor[start:stop, :n] = projected
        self.mean = mean.add_(factors.constant)
        self.variance = variance.clamp_min_(0.0)
        self.factor = factor
        self.version, self.size = factors.version, n

    def _add(self, step: Step, factors: PosteriorFactors) -> None:
        n = self.size
        if self.factor is not None and n == self.factor.shape[1]:
            capacity = n + _growth(n)
            if self.factor.shape[0] * capacity * self.dtype.itemsize > self.budget_bytes:
                self.factor = None  # no room to grow: go on without it
            else:
                grown = self.factor.new_empty((self.factor.shape[0], capacity))
                grown[:, :n] = self.factor
                self.factor = grown
        # V(x) . v from the stored factor, or, without it, as k(x, X) w with w = L^-T v:
        # one cross-covariance pass, O(N n d), still far less than a full pass, which
        # would also pay the O(N n^2) product with L^-T.
        x = step.x.to(self.dtype).unsqueeze(0)
        device = self.mean.device
        if self.factor is not None:
            v = step.v.to(self.dtype)
        else:
            w = (factors.inverse_root[:n, :n].T @ step.v).to(self.dtype)
            train_X = factors.train_X[:n].to(self.dtype)
        for start in range(0, self.mean.shape[0], self.chunk_size):
            stop = min(start + self.chunk_size, self.mean.shape[0])
            chunk = self._scaled_chunk(start, device)
            if self.factor is not None:
                projected = self.factor[start:stop, :n] @ v
            else:
                projected = factors.kernel(chunk, train_X) @ w
            u = (factors.kernel(chunk, x).squeeze(-1) - projected) / step.s
            self.mean[start:stop] += u * (step.residual / step.s)
            self.variance[start:stop] -= u * u
            if self.factor is not None:
                self.factor[start:stop, n] = u
        self.variance.clamp_min_(0.0)
        self.size = n + 1


def _growth(n: int) -> int:
    """Spare columns of the factor: room for the measurements of a few iterations."""
    return max(32, n // 16)
