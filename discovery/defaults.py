"""The default strategy, ``surrogate="auto"``: chosen from the space and the goal.

A campaign that names no surrogate gets the one measured to find good designs fastest on
real experimental data (``discovery benchmark``, leave-one-dataset-out over the shipped
datasets; README, "Benchmarking strategies"):

- a finite pool of numbers, one objective, goal "best": a GP with BayBE's Gamma
  length-scale prior and an upper confidence bound with beta = 1 (:data:`POOL_CHOICE`);
- the same over a pool of many numeric columns (:data:`MANY_COLUMNS` or more, such as
  the composition features of :func:`discovery.features.pool_from_compositions`), with
  BoTorch's dimension-scaled length-scale prior (:data:`MANY_COLUMNS_POOL_CHOICE`),
  picked by leave-one-dataset-out over four materials tables of 14 to 41 descriptors,
  none of them among the datasets the rest was chosen on (by the median; run by run it is
  level with the Gamma prior);
- the same over a pool with categorical (one-hot) parameters, such as a reaction screen of
  reagents, catalysts and solvents, with the GP's predictions averaged over draws of its
  hyper-parameters (:data:`ONEHOT_POOL_CHOICE`;
  :mod:`discovery.surrogates.gp_hyperposterior`): with a few dozen measurements in tens
  of one-hot dimensions the fitted length scales are one guess among many nearly as
  plausible, and a search guided by that one guess more often stays in a poor corner of
  the screen; on three reaction screens it found more good designs than max-value
  entropy search, the choice before it;
- a declared space, several objectives or the goal "cumulative": the GP with BoTorch's
  dimension-scaled prior, and the acquisition those campaigns default to (optimised by
  BoTorch over a space; EHVI or ParEGO for a Pareto front; GP-UCB for cumulative reward).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from discovery.surrogates import GaussianProcessSurrogate, Surrogate

AUTO = "auto"


@dataclass(frozen=True)
class AutoChoice:
    """What ``surrogate="auto"`` resolves to.

    Attributes:
        surrogate_options: keyword options of :class:`GaussianProcessSurrogate`.
        acquisition: the acquisition's name, or None to keep the campaign's own default.
        acquisition_params: its parameters.
        reason: one line saying why, for summaries.
    """

    surrogate_options: dict[str, Any] = field(default_factory=dict)
    acquisition: str | None = None
    acquisition_params: dict[str, Any] = field(default_factory=dict)
    reason: str = ""

    def surrogate(self, seed: int, device: str) -> Surrogate:
        """The surrogate this choice names, seeded."""
        return GaussianProcessSurrogate(seed=seed, device=device, **self.surrogate_options)


#: Over a finite pool with one objective, sought for its best design.
POOL_CHOICE = AutoChoice(
    surrogate_options={"lengthscale_prior": "gamma"},
    acquisition="ucb",
    acquisition_params={"beta": 1.0},
    reason="finite pool, one objective: GP (Gamma length-scale prior) + UCB, beta 1",
)
#: The same, over a pool with categorical parameters, with the GP's predictions averaged
#: over hyper-parameter draws.
ONEHOT_POOL_CHOICE = AutoChoice(
    surrogate_options={"lengthscale_prior": "gamma", "hyperparameter_draws": 32},
    acquisition="ucb",
    acquisition_params={"beta": 1.0},
    reason="finite pool with categorical parameters, one objective: GP (Gamma length-scale "
    "prior, predictions averaged over 32 hyper-parameter draws) + UCB, beta 1",
)
#: A pool is "of many columns" from this many numeric columns. The numeric pools the
#: default was chosen on have at most six; those its rule for many columns was chosen and
#: checked on have 14 and 41. No table measured lies between.
MANY_COLUMNS = 10
#: Over a finite pool of many numeric columns, one objective, sought for its best design.
MANY_COLUMNS_POOL_CHOICE = AutoChoice(
    surrogate_options={"lengthscale_prior": "dim_scaled"},
    acquisition="ucb",
    acquisition_params={"beta": 1.0},
    reason=f"finite pool of {MANY_COLUMNS} or more numeric columns, one objective: GP "
    "(BoTorch's dimension-scaled length-scale prior) + UCB, beta 1",
)
#: Everything else: the GP these campaigns were built and measured with.
OTHER_CHOICE = AutoChoice(reason="GP with BoTorch's dimension-scaled prior")


def auto_strategy(
    is_space: bool,
    has_several_outcomes: bool,
    goal: str,
    has_categorical: bool = False,
    n_columns: int = 0,
) -> AutoChoice:
    """The default strategy for a campaign of this kind.

    Args:
        is_space: the campaign searches a declared space (not a finite pool).
        has_several_outcomes: it has several objectives, outcome constraints or a
            desirability.
        goal: "best" or "cumulative".
        has_categorical: the pool has categorical (one-hot encoded) parameters.
        n_columns: the pool's feature columns.
    """
    if is_space or has_several_outcomes or goal != "best":
        return OTHER_CHOICE
    if has_categorical:
        return ONEHOT_POOL_CHOICE
    return MANY_COLUMNS_POOL_CHOICE if n_columns >= MANY_COLUMNS else POOL_CHOICE
