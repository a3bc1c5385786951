"""Find the most polar small molecule, each candidate a GFN2-xTB calculation.

The pool is the G2 set of small molecules shipped with ASE (148 with two atoms
or more, from Curtiss et al., J. Chem. Phys. 106, 1063, 1997). Measuring a
molecule relaxes it with the GFN2-xTB tight-binding method (the ``tblite``
package, extra ``[dft]``) and returns its dipole moment in Debye, which the
campaign maximises. The model sees the molecule's composition and geometry
features, never the dipole itself.

    pip install 'discovery[dft]'
    discovery run campaigns/molecules_xtb.py --budget 25
"""

from __future__ import annotations

from functools import cache

from ase import Atoms
from ase.collections import g2

from discovery import AseOracle, Campaign, CampaignResult, CandidatePool
from discovery.features import pool_from_structures

OBJECTIVE = "dipole_moment"


@cache
def molecules() -> dict[str, Atoms]:
    """The G2 molecules by name (single atoms left out)."""
    return {name: g2[name] for name in g2.names if len(g2[name]) > 1}


def load_pool() -> CandidatePool:
    """The molecules as a pool of composition and geometry features."""
    return pool_from_structures(molecules())


def make_campaign(seed: int = 0) -> Campaign:
    """A random forest with expected improvement over GFN2-xTB dipole moments."""
    oracle = AseOracle(
        "tblite",
        molecules(),
        parameters={"method": "GFN2-xTB", "verbosity": 0},
        property=OBJECTIVE,
        relax=True,
        fmax=0.05,
    )
    return Campaign(
        load_pool(),
        oracle,
        objective=OBJECTIVE,
        maximize=True,
        surrogate="forest",
        acquisition="ei",
        n_initial=5,
        budget=25,
        seed=seed,
        name="molecules-xtb",
    )


def summarize(result: CampaignResult) -> dict[str, str]:
    """Extra lines for the summary table: the most polar molecule found."""
    best = result.best
    if best is None:
        return {}
    return {"most polar molecule found": f"{best['candidate_id']} ({best[OBJECTIVE]:.2f} D)"}
