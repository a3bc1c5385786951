"""Sample efficiency on the EMT alloy world: relaxations until a top-5 % alloy is found.

Runs ``campaigns/emt_alloys.py`` (every experiment a real EMT relaxation) for
several seeds next to pure random search (random initial design, random
choices) measured in the same run, with a budget of a quarter of the pool.

    python benchmarks/emt_alloys.py [--seeds 5] [--budget 147]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.time_to_find import command_line
from campaigns.emt_alloys import make_campaign, most_stable

if __name__ == "__main__":
    command_line(
        __doc__,
        make_campaign,
        most_stable,
        budget=147,  # a quarter of the pool
        title=lambda good: (
            f"EMT alloys: relaxations until one of the {len(good)} top-5 % alloys is found"
        ),
    )
