"""Maximise the yield of a Suzuki–Miyaura coupling, letting a portfolio pick the strategy.

The pool is the complete screen of Perera et al. (2018), as used by Shields et al. (2021):
3696 conditions (electrophile, nucleophile, ligand, base, solvent), one-hot encoded; the
oracle replays each condition's recorded yield (data/suzuki_miyaura/README.md).

Instead of one fixed strategy, a portfolio policy (GP-Hedge) keeps five: a GP with expected
improvement, a GP with an upper confidence bound, a random forest with expected improvement,
pure exploration (the GP's uncertainty) and random picks. Every iteration it samples an arm
by its credit, the arm proposes the next condition, and each arm is credited with the
model's value of its own proposal. Every reaction run counts (the goal is the cumulative
yield, as when each batch made is used), and the summary shows which arms earned it.

    discovery run campaigns/reaction_yield.py --budget 60
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from discovery import Campaign, CampaignResult, CandidatePool, LookupOracle
from discovery.policy import Portfolio

DATA = Path(__file__).parent / "data" / "suzuki_miyaura" / "experiment_index.csv"
COMPONENTS = [
    "Electrophile_SMILES",
    "Nucleophile_SMILES",
    "Ligand_SMILES",
    "Base_SMILES",
    "Solvent_SMILES",
]
ARMS = ["gp-ei", "gp-ucb", "forest-ei", "exploration", "random"]


def load_pool() -> CandidatePool:
    """The 3696 conditions, one-hot encoded, with their recorded yields."""
    frame = pd.read_csv(DATA, dtype={"entry": str})
    return CandidatePool.from_frame(
        frame, features=COMPONENTS, id_column="entry", objective="yield"
    )


def make_campaign(seed: int = 0) -> Campaign:
    pool = load_pool()
    return Campaign(
        pool,
        LookupOracle.from_pool(pool, "yield"),
        objective="yield",
        policy=Portfolio(ARMS, algorithm="hedge", reward="objective"),
        goal="cumulative",
        n_initial=5,
        budget=60,
        seed=seed,
        name="reaction-yield",
    )


def summarize(result: CampaignResult) -> dict[str, str]:
    """How many of the 1 % best conditions the campaign ran."""
    pool = load_pool()
    values = pool.frame["yield"]
    top = set(pool.frame.index[values >= values.quantile(0.99)].astype(str))
    found = result.measured["candidate_id"].astype(str).isin(top).sum()
    return {"top-1 % conditions run": f"{found} / {len(top)}"}
