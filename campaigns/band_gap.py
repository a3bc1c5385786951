"""Find compositions whose experimental band gap is closest to 1.4 eV.

A solar absorber with one junction converts sunlight best near a gap of
1.1-1.5 eV. The pool is the 4604 compositions of Matbench's experimental band
gaps (Zhuo et al. 2018, see data/band_gap/README.md); the oracle replays their
measured gaps. The model sees only composition features (statistics of element
properties) and learns how far each gap is from 1.4 eV: a target objective,
neither maximised nor minimised.

The surrogate is a random forest, not a GP: with some 40-60 descriptors a GP
must learn as many length scales from a few dozen measurements, which is slow
and poorly determined, while forests over element-property statistics are the
usual choice for such features (Ling et al., Integr. Mater. Manuf. Innov. 6,
207, 2017).

    discovery run campaigns/band_gap.py --budget 60
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pandas as pd

from discovery import Campaign, CampaignResult, CandidatePool, LookupOracle
from discovery.features import pool_from_compositions

DATA = Path(__file__).parent / "data" / "band_gap" / "data.csv"
OBJECTIVE = "gap expt"
GOAL = 1.4  # eV
#: A composition counts as found when its gap lies this close to the goal (eV).
TOLERANCE = 0.05


@cache
def load_pool() -> CandidatePool:
    """The compositions with their composition features and recorded gaps."""
    frame = pd.read_csv(DATA).rename(columns={"Unnamed: 0": "row"})
    return pool_from_compositions(frame, "composition", objective=OBJECTIVE, exclude=["row"])


def make_campaign(
    seed: int = 0, acquisition: str = "ei", initial_design: str = "kmeans"
) -> Campaign:
    """Expected improvement of the distance to 1.4 eV, on a random forest over composition
    features."""
    pool = load_pool()
    return Campaign(
        pool,
        LookupOracle.from_pool(pool, OBJECTIVE),
        objective=OBJECTIVE,
        closest_to=GOAL,
        surrogate="forest",
        acquisition=acquisition,
        initial_design=initial_design,
        n_initial=5,
        budget=60,
        seed=seed,
        name="band-gap",
    )


def good_compositions(pool: CandidatePool | None = None) -> set[str]:
    """Ids of the compositions whose recorded gap is within the tolerance of the goal."""
    frame = (pool or load_pool()).frame
    return set(frame.index[(frame[OBJECTIVE] - GOAL).abs() < TOLERANCE])


def summarize(result: CampaignResult) -> dict[str, str]:
    """Extra lines for the summary table: the closest composition and when it was found."""
    pool = load_pool()
    good = good_compositions(pool)
    hit = result.first_found(good)
    best = result.best
    composition = "-" if best is None else pool.frame.loc[best["candidate_id"], "composition"]
    return {
        "closest composition": str(composition),
        f"first within {TOLERANCE} eV at experiment": "not found" if hit is None else str(hit),
        f"compositions within {TOLERANCE} eV in the pool": str(len(good)),
    }
