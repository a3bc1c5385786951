"""Reference strategies for side-by-side claims: BayBE's defaults and a plain BoTorch loop.

- ``botorch``: what a BoTorch user writes from the tutorials. A ``SingleTaskGP`` with
  BoTorch's own defaults (its dimension-scaled priors, standardised outcomes) on the
  pool's unit-cube features, fitted by ``fit_gpytorch_mll``; the next design is the
  unmeasured one with the largest ``LogExpectedImprovement`` (batches by
  ``optimize_acqf_discrete`` with ``qLogExpectedImprovement``).
- ``baybe``: BayBE's default recommender (a two-phase meta recommender: random, then
  BayBE's GP with its preset priors and its default acquisition) over a discrete search
  space built from the pool's rows; numeric columns become numerical discrete
  parameters, text columns categorical ones with BayBE's default one-hot encoding.
  The one setting changed is ``allow_recommending_already_measured=False``: a replay
  samples the pool without replacement (BayBE's default would re-measure a design). It
  needs the optional extra ``[bench]`` (``pip install discovery[bench]``).
"""

from __future__ import annotations

import contextlib
import gc
import warnings

import numpy as np
import pandas as pd
import torch

from discovery.benchmark.datasets import Dataset
from discovery.benchmark.external import ExternalStrategy, Proposer
from discovery.exceptions import ConfigurationError


class BoTorchLoop:
    """A plain BoTorch loop: SingleTaskGP + LogEI over the unmeasured designs."""

    name = "botorch"

    def start(self, dataset: Dataset, seed: int) -> Proposer:
        return _BoTorchRun(dataset, seed)


class _BoTorchRun:
    def __init__(self, dataset: Dataset, seed: int) -> None:
        self.features = torch.as_tensor(dataset.pool.features, dtype=torch.float64)
        self.sign = 1.0 if dataset.maximize else -1.0
        self.seed = seed

    def propose(self, measured: np.ndarray, values: np.ndarray, k: int) -> list[int]:
        from botorch.acquisition import LogExpectedImprovement, qLogExpectedImprovement
        from botorch.fit import fit_gpytorch_mll
        from botorch.models import SingleTaskGP
        from botorch.optim import optimize_acqf_discrete
        from gpytorch.mlls import ExactMarginalLogLikelihood

        torch.manual_seed(self.seed + len(measured))
        train_X = self.features[measured]
        train_Y = torch.as_tensor(self.sign * values, dtype=torch.float64).unsqueeze(-1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # BoTorch's input-scaling and fit notices
            model = SingleTaskGP(train_X, train_Y)
            fit_gpytorch_mll(ExactMarginalLogLikelihood(model.likelihood, model))
        remaining = np.setdiff1d(np.arange(self.features.shape[0]), measured)
        choices = self.features[remaining]
        with torch.no_grad():
            if k == 1:
                acquisition = LogExpectedImprovement(model, best_f=train_Y.max())
                scores = torch.cat(
                    [acquisition(chunk.unsqueeze(1)) for chunk in choices.split(4096)]
                )
                return [int(remaining[int(torch.argmax(scores))])]
        acquisition = qLogExpectedImprovement(model, best_f=train_Y.max())
        picked, _ = optimize_acqf_discrete(acquisition, q=k, choices=choices)
        rows = [int(torch.nonzero((choices == p).all(dim=-1))[0]) for p in picked]
        return [int(remaining[r]) for r in rows]


class BayBEDefault:
    """BayBE's default campaign (``baybe.Campaign`` with no recommender given)."""

    name = "baybe"

    def start(self, dataset: Dataset, seed: int) -> Proposer:
        return _BayBERun(dataset, seed)


class _BayBERun:
    def __init__(self, dataset: Dataset, seed: int) -> None:
        try:
            with _gc_frozen():
                from baybe import Campaign
                from baybe.parameters import CategoricalParameter, NumericalDiscreteParameter
                from baybe.searchspace import SearchSpace
                from baybe.settings import Settings
                from baybe.targets import NumericalTarget
        except ImportError as error:
            raise ConfigurationError(
                "strategy 'baybe' needs BayBE: pip install 'discovery[bench]'"
            ) from error
        Settings(random_seed=seed).activate()
        self.columns = list(dataset.features)
        frame = dataset.frame[self.columns]
        parameters = [
            NumericalDiscreteParameter(c, values=sorted(frame[c].unique().tolist()))
            if _numeric(frame[c])
            else CategoricalParameter(c, values=sorted(frame[c].astype(str).unique().tolist()))
            for c in self.columns
        ]
        self.frame = frame.astype({c: str for c in self.columns if not _numeric(frame[c])})
        self.row_of = {_key(row): i for i, row in enumerate(self.frame.itertuples(index=False))}
        self.objective = dataset.objective
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            space = SearchSpace.from_dataframe(self.frame, parameters)
            target = NumericalTarget(dataset.objective, minimize=not dataset.maximize)
            # the protocol samples without replacement; BayBE's own default allows repeats
            self.campaign = Campaign(space, target, allow_recommending_already_measured=False)
        self.told = 0

    def propose(self, measured: np.ndarray, values: np.ndarray, k: int) -> list[int]:
        new = self.frame.iloc[measured[self.told :]].assign(**{self.objective: values[self.told :]})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.campaign.add_measurements(new.reset_index(drop=True))
            self.told = len(measured)
            recommended = self.campaign.recommend(batch_size=k)
        return [self.row_of[_key(row)] for row in recommended[self.columns].itertuples(index=False)]


@contextlib.contextmanager
def _gc_frozen():
    """Importing BayBE runs a full garbage collection in a dozen of its modules; in a
    process that already holds torch, BoTorch and pandas each costs about 0.1 s. Objects
    alive before the import are set aside from those collections, then put back."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _numeric(column: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(column)


def _key(row: tuple) -> tuple:
    """A row's values as a dictionary key that survives BayBE's float round trip."""
    return tuple(round(v, 9) if isinstance(v, float) else v for v in row)


REFERENCES: dict[str, ExternalStrategy] = {"botorch": BoTorchLoop(), "baybe": BayBEDefault()}
