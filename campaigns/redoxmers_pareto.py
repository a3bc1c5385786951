"""Find the trade-offs among three computed properties of redox-flow-battery molecules.

The pool is the Olympus ``redoxmers`` table (Agarwal et al. 2021; see
data/redoxmers/README.md): 1408 benzothiadiazole derivatives, four substituent sites,
each molecule described by 25 simple descriptors of its substituents. Every property is
to be minimised: the distance of the absorption peak from its target, the reduction
potential and the solvation free energy. No molecule is best at all three, so the
campaign seeks the Pareto front: one random forest per property and expected
hypervolume improvement, by Monte Carlo over the trees, choose each next molecule, and
the oracle replays its recorded properties. A forest, not a GP: three GPs over 25
descriptors must each learn 25 length scales from a few dozen molecules, which is slow
and poorly determined (benchmarks/multi_objective.py: the forest measures about two
thirds of the true front in 10 % of the table, random search a tenth).

    discovery run campaigns/redoxmers_pareto.py --budget 140
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from discovery import Campaign, CampaignResult, CandidatePool, LookupOracle, Objective

DATA = Path(__file__).parent / "data" / "redoxmers"
SITES = ["r1", "r3", "r4", "r5"]
PROPERTIES = ["abs_lam_diff", "ered", "gsol"]


def load_table() -> pd.DataFrame:
    """The 1408 molecules: substituent labels, descriptor features, and properties."""
    table = pd.read_csv(DATA / "data.csv", header=None, names=[*SITES, *PROPERTIES])
    descriptors = pd.read_csv(
        DATA / "descriptors.csv", header=None, names=["site", "label", "descriptor", "value"]
    )
    for site in SITES:
        wide = descriptors[descriptors["site"] == f"{site}_label"].pivot(
            index="label", columns="descriptor", values="value"
        )
        wide.columns = [f"{site}_{name}" for name in wide.columns]
        table = table.join(wide, on=site)
    table["molecule"] = ["-".join(row) for row in table[SITES].itertuples(index=False)]
    return table.set_index("molecule", drop=False)


def load_pool() -> CandidatePool:
    """The molecules as a pool over their descriptor features."""
    table = load_table()
    features = [c for c in table.columns if c not in (*SITES, *PROPERTIES, "molecule")]
    return CandidatePool.from_frame(table, features=features, id_column="molecule")


def true_front() -> set[str]:
    """The ids of the molecules that no other molecule beats on all three properties."""
    import torch
    from botorch.utils.multi_objective.pareto import is_non_dominated

    table = load_table()
    mask = is_non_dominated(-torch.as_tensor(table[PROPERTIES].to_numpy()))
    return set(table.index[mask.numpy()])


def make_campaign(seed: int = 0) -> Campaign:
    pool = load_pool()
    return Campaign(
        pool,
        LookupOracle.from_pool(pool, PROPERTIES[0], others=PROPERTIES[1:]),
        objectives=[Objective(name, "min") for name in PROPERTIES],
        surrogate="forest",
        n_initial=5,
        budget=140,
        seed=seed,
        name="redoxmers-pareto",
    )


def summarize(result: CampaignResult) -> dict[str, str]:
    """How much of the table's true Pareto front the campaign measured."""
    front = true_front()
    found = result.measured["candidate_id"].astype(str).isin(front).sum()
    measured_front = result.pareto_front()
    return {
        "true Pareto front measured": f"{found} / {len(front)}",
        "campaign's front": f"{len(measured_front)} molecules, e.g. "
        + ", ".join(np.asarray(measured_front["candidate_id"].astype(str))[:3]),
    }
