"""Maximise the toughness of 3D-printed crossed-barrel structures.

600 designs (number of struts n, twist angle theta, radius r, thickness t),
each printed and crushed three times by Gongora et al. (2020); the pool is the
benchmark set of Liang et al. (2021), see data/crossed_barrel/README.md. The
oracle is a dataset emulator: "measuring" a design returns its recorded mean
toughness, so the campaign replays a real experimental search.

The surrogate and acquisition follow the best published setting of Liang et
al. for this dataset: a GP with an anisotropic (ARD) Matern-5/2 kernel and a
confidence-bound acquisition with exploration weight 1.

    discovery run campaigns/crossed_barrel.py --budget 50 --seed 0
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from discovery import Campaign, CampaignResult, CandidatePool, LookupOracle

DATA = Path(__file__).parent / "data" / "crossed_barrel" / "pool.csv"
FEATURES = ["n", "theta", "r", "t"]


def load_pool() -> CandidatePool:
    """The 600 designs with their recorded toughness (the emulator's truth)."""
    return CandidatePool.from_frame(
        pd.read_csv(DATA), features=FEATURES, objective="toughness", exclude=["top5pct"]
    )


def make_campaign() -> Campaign:
    pool = load_pool()
    return Campaign(
        pool,
        LookupOracle.from_pool(pool, "toughness"),
        objective="toughness",
        maximize=True,
        surrogate="gp",
        acquisition="ucb",
        acquisition_params={"beta": 1.0},
        initial_design="kmeans",
        n_initial=5,
        budget=50,
        seed=0,
        name="crossed-barrel",
    )


def top_designs(pool: CandidatePool) -> set[str]:
    """Ids of the 30 best designs (top 5 %), the benchmark's "good" set."""
    return set(pool.frame.index[pool.frame["top5pct"].astype(bool)])


def summarize(result: CampaignResult, pool: CandidatePool | None = None) -> dict[str, str]:
    """Extra lines for the summary table: how many top-5 % designs the campaign found."""
    pool = pool or load_pool()
    good = top_designs(pool)
    found = len(good & set(result.measured["candidate_id"]))
    best_possible = pool.frame["toughness"].max()
    return {
        "top-5 % designs found": f"{found} / {len(good)} ({found / len(good):.0%})",
        "best toughness in the pool": f"{best_possible:.4g}",
    }
