"""Stable and light: the trade-off between mixing energy and density of fcc alloys.

The 588 orderings of Cu, Ag, Au, Ni, Pd, Pt and Al of emt_alloys.py, each measured by
a real EMT relaxation of positions and cell with ASE. A structural alloy should be
stable (a low mixing energy per atom against the relaxed elements) and light (a low
density of the relaxed cell): aluminium makes alloys light, but its most stable
compounds are with the heavy noble metals. Both come from the same relaxation, so the
campaign seeks their Pareto front: one random forest per property (over the structure
features of emt_alloys.py) and expected hypervolume improvement over the trees choose
each next alloy. The summary counts how many alloys of the true front, known from a
relaxation of every alloy (data/emt_alloys), the campaign measured.

    discovery run campaigns/emt_alloys_pareto.py --budget 40
"""

from __future__ import annotations

from emt_alloys import OBJECTIVE, TRUTH, load_pool

from discovery import AseOracle, Campaign, CampaignResult, Objective
from simulators.emt_alloys import enumerate_alloys


def make_campaign(seed: int = 0) -> Campaign:
    oracle = AseOracle(
        "emt", enumerate_alloys(), property=OBJECTIVE, relax=True, relax_cell=True, fmax=0.01
    )
    return Campaign(
        load_pool(),
        oracle,
        objectives=[Objective(OBJECTIVE, "min"), Objective("density", "min")],
        surrogate="forest",
        n_initial=5,
        budget=40,
        seed=seed,
        name="emt-alloys-pareto",
    )


def true_front() -> set[str]:
    """Ids of the alloys no other alloy beats on both mixing energy and density."""
    import pandas as pd
    import torch
    from botorch.utils.multi_objective.pareto import is_non_dominated

    truth = pd.read_csv(TRUTH).dropna(subset=["mixing_energy", "density"])
    values = -torch.as_tensor(truth[["mixing_energy", "density"]].to_numpy())
    return set(truth["candidate_id"][is_non_dominated(values).numpy()])


def summarize(result: CampaignResult) -> dict[str, str]:
    """How much of the true front the campaign measured."""
    front = true_front()
    found = len(front & set(result.measured["candidate_id"]))
    return {"true Pareto front measured": f"{found} / {len(front)}"}
