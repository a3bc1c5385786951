"""Find the most stable ordered fcc alloys, each candidate a real EMT relaxation.

588 orderings of Cu, Ag, Au, Ni, Pd, Pt and Al on small fcc supercells (binaries
and ternaries, see simulators/emt_alloys.py). Measuring a candidate relaxes its
positions and cell with ASE's effective-medium theory and returns its mixing
energy per atom against the relaxed elements, which the campaign minimises. The
model sees structure features: statistics of element properties over the
composition, density, packing and chemical order.

The surrogate is a random forest, not a GP: with some 40-60 descriptors a GP
must learn as many length scales from a few dozen measurements, which is slow
and poorly determined, while forests over element-property statistics are the
usual choice for such features (Ling et al., Integr. Mater. Manuf. Innov. 6,
207, 2017).

To run the same campaign with DFT, change the oracle's calculator, e.g.
``AseOracle("espresso", alloys, parameters={"command": "pw.x", "pseudo_dir": ...,
"pseudopotentials": {...}, "kpts": (6, 6, 6), "input_data": {...}}, ...)``.

    discovery run campaigns/emt_alloys.py --budget 40
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pandas as pd

from discovery import AseOracle, Campaign, CampaignResult, CandidatePool
from discovery.features import pool_from_structures
from simulators.emt_alloys import enumerate_alloys

#: Every alloy's relaxed mixing energy, computed once by simulators/emt_alloys.py.
TRUTH = Path(__file__).parent / "data" / "emt_alloys" / "energies.csv"
OBJECTIVE = "formation_energy_per_atom"


@cache
def load_pool() -> CandidatePool:
    """The enumerated alloys as a pool of structure features (about 3 s)."""
    return pool_from_structures(enumerate_alloys())


def make_campaign(
    seed: int = 0, acquisition: str = "ei", initial_design: str = "kmeans"
) -> Campaign:
    """The alloy search: a random forest with expected improvement after a k-means design."""
    alloys = enumerate_alloys()
    oracle = AseOracle("emt", alloys, property=OBJECTIVE, relax=True, relax_cell=True, fmax=0.01)
    return Campaign(
        load_pool(),
        oracle,
        objective=OBJECTIVE,
        maximize=False,
        surrogate="forest",
        acquisition=acquisition,
        initial_design=initial_design,
        n_initial=5,
        budget=40,
        seed=seed,
        name="emt-alloys",
    )


def most_stable(fraction: float = 0.05) -> set[str]:
    """Ids of the given fraction of alloys with the lowest mixing energy (the truth)."""
    truth = pd.read_csv(TRUTH)
    count = max(1, round(fraction * len(truth)))
    return set(truth.nsmallest(count, "mixing_energy")["candidate_id"])


def summarize(result: CampaignResult) -> dict[str, str]:
    """Extra lines for the summary table: when a top-5 % alloy was first found."""
    good = most_stable()
    hit = result.first_found(good)
    found = len(good & set(result.measured["candidate_id"]))
    return {
        "top-5 % alloys found": f"{found} / {len(good)}",
        "first top-5 % alloy at experiment": "not found" if hit is None else str(hit),
        "most stable in the pool": f"{pd.read_csv(TRUTH)['mixing_energy'].min():.4f} eV/atom",
    }
