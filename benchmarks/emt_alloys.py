"""Sample efficiency on the EMT alloy world: relaxations until a top-5 % alloy is found.

Runs ``campaigns/emt_alloys.py`` (every experiment a real EMT relaxation) for
several seeds next to pure random search (random initial design, random
choices) measured in the same run, with a budget of a quarter of the pool.

    python benchmarks/emt_alloys.py [--seeds 5] [--budget 162]
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.time_to_find import compare
from campaigns.emt_alloys import make_campaign, most_stable

STRATEGIES = {
    "forest + ei (the campaign's)": {},
    "random": {"acquisition": "random", "initial_design": "random"},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--budget", type=int, default=162, help="default: a quarter of the pool")
    args = parser.parse_args()
    warnings.simplefilter("ignore", UserWarning)  # the pool's duplicate-feature notice
    good = most_stable()
    compare(
        make_campaign,
        good,
        STRATEGIES,
        args.seeds,
        args.budget,
        f"EMT alloys: relaxations until one of the {len(good)} top-5 % of 651 is found",
    )


if __name__ == "__main__":
    main()
