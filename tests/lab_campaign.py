"""A campaign against a lab server, run as a subprocess by test_lab_crash.py to be killed.

python tests/lab_campaign.py http URL TOKEN STORE
python tests/lab_campaign.py sila HOST:PORT TOKEN STORE CA_FILE
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from campaigns.crossed_barrel import load_pool
from discovery import Campaign

BUDGET = 12


def lab_oracle(protocol: str, address: str, token: str, *rest: str):
    if protocol == "sila":
        from discovery.oracles.sila import SilaOracle

        host, port = address.rsplit(":", 1)
        return SilaOracle(host, int(port), token, root_certs=rest[0])
    from discovery.oracles.http import HttpOracle

    return HttpOracle(address, token)


if __name__ == "__main__":
    protocol, address, token, store, *rest = sys.argv[1:]
    campaign = Campaign(
        load_pool(),
        lab_oracle(protocol, address, token, *rest),
        "toughness",
        surrogate="forest",
        budget=BUDGET,
        max_in_flight=4,
        poll_interval=0.02,
        store=store,
    )
    campaign.run(progress=False)
