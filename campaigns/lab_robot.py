"""Drive a self-driving lab over HTTP: the crossed-barrel search, run by a simulated robot.

With ``LAB_URL`` (and ``LAB_TOKEN``) set, the campaign connects to that lab;
otherwise it starts the simulated lab of ``simulators/lab_server.py`` on
loopback: four stations, each print-and-crush taking 0.2 s, with 10 % of requests
answered 503 and 2 % of runs ending in an instrument fault. Four experiments are
kept in flight; a killed campaign resumes by polling the lab's jobs through the
handles in its store.

    discovery run campaigns/lab_robot.py --budget 40
    python campaigns/lab_robot.py          # also prints what the lab did
"""

from __future__ import annotations

import atexit
import os
from collections import Counter
from pathlib import Path

import httpx
import pandas as pd

from discovery import Campaign, CampaignResult
from discovery.oracles.http import HttpOracle
from simulators.lab import Faults, Lab, emulator
from simulators.lab_server import LabServer

DATA = Path(__file__).parent / "data" / "crossed_barrel" / "pool.csv"
FEATURES = ["n", "theta", "r", "t"]
_LAB: dict[str, str] = {}


def lab_address() -> tuple[str, str]:
    """The lab to use: ``LAB_URL``/``LAB_TOKEN``, or a simulated one started here."""
    if "LAB_URL" in os.environ:
        return os.environ["LAB_URL"], os.environ.get("LAB_TOKEN", "")
    if not _LAB:
        measure = emulator(pd.read_csv(DATA), FEATURES, "toughness")
        lab = Lab(
            measure, stations=4, run_seconds=0.2, faults=Faults(unavailable=0.10, instrument=0.02)
        )
        server = LabServer(lab, token="simulated-lab-token").__enter__()
        atexit.register(server.__exit__)
        _LAB.update(url=server.url, token="simulated-lab-token")
    return _LAB["url"], _LAB["token"]


def make_campaign(seed: int = 0) -> Campaign:
    """GP + EI with four experiments in flight at the lab."""
    from discovery import CandidatePool

    pool = CandidatePool.from_frame(
        pd.read_csv(DATA), features=FEATURES, objective="toughness", exclude=["top5pct"]
    )
    url, token = lab_address()
    return Campaign(
        pool,
        HttpOracle(url, token),
        objective="toughness",
        surrogate="gp",
        acquisition="ei",
        n_initial=5,
        budget=40,
        max_in_flight=4,
        seed=seed,
        name="lab-robot",
    )


def summarize(result: CampaignResult) -> dict[str, str]:
    """What the lab did: experiments run by outcome, submissions received."""
    url, token = lab_address()
    log = httpx.get(f"{url}/log", headers={"Authorization": f"Bearer {token}"}).json()
    outcomes = Counter(run["outcome"] for run in log["runs"])
    repeated = sum(not s["created"] for s in log["submissions"])
    return {
        "lab": url,
        "experiments the lab ran": ", ".join(f"{n} {k}" for k, n in sorted(outcomes.items())),
        "repeated submissions answered from the key": str(repeated),
    }


def main() -> None:
    from rich.console import Console

    result = make_campaign().run()
    for key, value in {**result.summary(), **summarize(result)}.items():
        Console().print(f"{key}: {value}")


if __name__ == "__main__":
    main()
