"""A campaign against a lab server, run as a subprocess by test_lab_crash.py to be killed.

python tests/lab_campaign.py URL TOKEN STORE
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from campaigns.crossed_barrel import load_pool
from discovery import Campaign
from discovery.oracles.http import HttpOracle

BUDGET = 12

if __name__ == "__main__":
    url, token, store = sys.argv[1:4]
    campaign = Campaign(
        load_pool(),
        HttpOracle(url, token),
        "toughness",
        surrogate="forest",
        budget=BUDGET,
        max_in_flight=4,
        poll_interval=0.02,
        store=store,
    )
    campaign.run(progress=False)
