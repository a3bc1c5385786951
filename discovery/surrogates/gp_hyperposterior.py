"""Averaging the GP's predictions over plausible hyper-parameters (Laplace + importance).

A GP fitted by maximum a posteriori trusts one set of length scales, noise and mean.
Early in a campaign, with a few dozen measurements, other sets are nearly as
plausible, and a prediction that ignores them is overconfident far from the data.
This module approximates the posterior over the hyper-parameters
theta = (log length scales, log noise, mean constant) by a Gaussian at the MAP
whose covariance is the inverse Hessian of the negative log posterior (Laplace),
draws from it, and weights each draw by its importance ratio
p(theta | data) / q(theta), so that draws the Gaussian over-represents count less.
The predictions of the weighted draws form a mixture whose mean and variance are
the moment-matched prediction (the law of total variance).

The MAP maximises the posterior of the hyper-parameters themselves, not of their
logarithms, so it is not quite the mode here (the log transform adds 1 to every gradient
component); the Gaussian is a proposal and the weights correct for it. With a handful of
hyper-parameters they spread over many draws; with tens of them (one-hot encoded
reaction screens) they fall on one or a few, and the mixture is close to a single draw
from the posterior of the hyper-parameters.

All quantities are in the GP's standardised units and scaled inputs
(:mod:`discovery.surrogates.gp_posterior`).
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import torch
from gpytorch.priors import Prior

from discovery.surrogates.gp_posterior import SQRT5, PosteriorFactors

#: Smallest length scale (the GP's own lower bound, that of BoTorch's priors too) and noise
#: variance a draw may take (standardised units).
MIN_LENGTHSCALE = 2.5e-2
MIN_NOISE = 1e-6
#: Smallest curvature of the Laplace Gaussian along any direction: at most e^1 of spread
#: in a log length scale where the posterior is flat (or the MAP sits on a bound).
MIN_CURVATURE = 1.0


@dataclass
class HyperMixture:
    """Posterior factors of weighted hyper-parameter draws; weights sum to one."""

    members: list[PosteriorFactors]
    weights: torch.Tensor

    @property
    def effective_size(self) -> float:
        """Kish's effective sample size of the weights."""
        return float(1.0 / (self.weights**2).sum())

    def heaviest(self, mass: float) -> HyperMixture:
        """The fewest members holding at least ``mass`` of the weight, reweighted to sum
        to one: the draws left out together carry less than ``1 - mass``."""
        order = torch.argsort(self.weights, descending=True)
        held = torch.cumsum(self.weights[order], dim=0)
        count = int(torch.searchsorted(held, torch.tensor(mass, dtype=held.dtype))) + 1
        kept = order[: min(count, len(order))]
        weights = self.weights[kept]
        return HyperMixture([self.members[i] for i in kept.tolist()], weights / weights.sum())

    def mean_and_variance(self, X: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Moment-matched mixture mean and variance (standardised) at scaled inputs.

        Each member's pass runs in the inputs' precision; the moments are summed in
        float64, so that the variance, a difference of two sums, keeps its digits.
        """
        mean = torch.zeros(X.shape[0], dtype=torch.float64, device=X.device)
        second = torch.zeros_like(mean)
        for weight, member in zip(self.weights.tolist(), self.members, strict=True):
            member_mean, member_variance = (m.double() for m in member.mean_and_variance(X))
            mean += weight * member_mean
            second += weight * (member_variance + member_mean**2)
        return mean, (second - mean**2).clamp_min(0.0)


def _differentiable_matern52(X: torch.Tensor, lengthscale: torch.Tensor) -> torch.Tensor:
    """Matern-5/2 covariance of the rows of X, twice differentiable in the length scales
    (no in-place steps; coincident points, whose distance has no gradient, are cut off)."""
    scaled = X / lengthscale
    squared = ((scaled.unsqueeze(-2) - scaled.unsqueeze(-3)) ** 2).sum(-1)
    s = SQRT5 * squared.clamp_min(1e-30).sqrt()
    return (1.0 + s + s * s / 3.0) * torch.exp(-s)


def log_posterior(
    theta: torch.Tensor,
    train_X: torch.Tensor,
    targets: torch.Tensor,
    lengthscale_prior: Prior,
    noise_prior: Prior,
) -> torch.Tensor:
    """Log density of theta = (log length scales, log noise, constant) given the data,
    up to a constant: Gaussian marginal likelihood, the model's priors, and the
    Jacobian of the log transforms."""
    d = train_X.shape[-1]
    lengthscale, noise, constant = theta[:d].exp(), theta[d].exp(), theta[d + 1]
    covariance = _differentiable_matern52(train_X, lengthscale)
    covariance = covariance + noise * torch.eye(train_X.shape[0], dtype=theta.dtype)
    root = torch.linalg.cholesky(covariance)
    residual = (targets - constant).unsqueeze(-1)
    solved = torch.linalg.solve_triangular(root, residual, upper=False)
    log_likelihood = -0.5 * (solved**2).sum() - root.diagonal().log().sum()
    log_prior = lengthscale_prior.log_prob(lengthscale).sum() + noise_prior.log_prob(noise).sum()
    return log_likelihood + log_prior + theta[: d + 1].sum()


def laplace_mixture(
    factors: PosteriorFactors,
    lengthscale_prior: Prior,
    noise_prior: Prior,
    n_draws: int,
    seed: int,
) -> HyperMixture:
    """Importance-weighted draws from the Laplace approximation at the MAP ``factors``.

    The MAP itself is the first member, weighted like a draw landing on the proposal's
    centre; it keeps no more weight than its importance ratio gives it (under 1 % on
    one-hot reaction screens, where the Gaussian's centre is off the log-space mode).
    """
    d = factors.train_X.shape[-1]
    dtype = factors.train_X.dtype
    # The draws are weighed on the CPU (a few dozen small solves); the priors come from the
    # model, on its device: they are weighed with copies of them moved to the CPU.
    train_X, targets = factors.train_X.cpu(), factors.targets.cpu()
    lengthscale_prior, noise_prior = (
        copy.deepcopy(p).cpu() for p in (lengthscale_prior, noise_prior)
    )
    mode = torch.cat(
        [
            factors.lengthscale.cpu().log(),
            torch.tensor([math.log(factors.noise), factors.constant], dtype=dtype),
        ]
    )

    def density(theta: torch.Tensor) -> torch.Tensor:
        return log_posterior(theta, train_X, targets, lengthscale_prior, noise_prior)

    hessian = torch.autograd.functional.hessian(density, mode)
    eigenvalues, eigenvectors = torch.linalg.eigh(-0.5 * (hessian + hessian.T))
    scale = eigenvectors * eigenvalues.clamp_min(MIN_CURVATURE).rsqrt()
    generator = torch.Generator().manual_seed(seed)
    normals = torch.randn(n_draws, d + 2, dtype=dtype, generator=generator)
    draws = torch.cat([mode.unsqueeze(0), mode + normals @ scale.T])
    draws[:, :d] = draws[:, :d].clamp_min(math.log(MIN_LENGTHSCALE))
    draws[:, d] = draws[:, d].clamp_min(math.log(MIN_NOISE))
    with torch.no_grad():
        log_target = torch.stack([density(theta) for theta in draws])
    log_proposal = -0.5 * torch.cat([torch.zeros(1, dtype=dtype), (normals**2).sum(-1)])
    weights = torch.softmax(log_target - log_proposal, dim=0)
    device = factors.train_X.device
    members = [
        PosteriorFactors(
            train_X=factors.train_X,
            targets=factors.targets,
            lengthscale=theta[:d].exp().to(device),
            centre=factors.centre,
            constant=float(theta[d + 1]),
            noise=float(theta[d].exp()),
        )
        for theta in draws
    ]
    return HyperMixture(members=members, weights=weights)
