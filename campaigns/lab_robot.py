"""Drive a self-driving lab over the network: the crossed-barrel search, run by a robot.

``LAB_PROTOCOL`` picks the instrument interface: ``http`` (an HTTP/JSON job API,
the default) or ``sila`` (SiLA 2). With ``LAB_URL`` (http) or ``LAB_SILA``
(sila, ``host:port``, with ``LAB_CA``, the server's certificate file) set, the
campaign connects to that lab with ``LAB_TOKEN``; otherwise it starts a
simulated lab on loopback (``simulators/lab_server.py`` or
``simulators/sila_server.py``): four stations, each print-and-crush taking 0.2 s,
10 % of requests refused as busy and 2 % of runs ending in an instrument fault.
Four experiments are kept in flight; a killed campaign resumes by asking the lab
about the jobs whose handles are in its store.

    discovery run campaigns/lab_robot.py --budget 40
    python campaigns/lab_robot.py                       # also prints what the lab did
    LAB_PROTOCOL=sila python campaigns/lab_robot.py     # the same lab behind SiLA 2
"""

from __future__ import annotations

import atexit
import os
from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd

from discovery import Campaign, CampaignResult
from discovery.exceptions import ConfigurationError
from simulators.lab import Faults, Lab, crossed_barrel_measure

DATA = Path(__file__).parent / "data" / "crossed_barrel" / "pool.csv"
FEATURES = ["n", "theta", "r", "t"]
TOKEN = "simulated-lab-token"
_SIMULATED: dict[str, Any] = {}  # the lab started here, and where it listens


def simulated_lab() -> Lab:
    """The crossed-barrel emulator behind four stations that sometimes misbehave."""
    faults = Faults(unavailable=0.10, instrument=0.02)
    return Lab(crossed_barrel_measure(), stations=4, run_seconds=0.2, faults=faults)


def http_oracle() -> Any:
    from discovery.oracles.http import HttpOracle

    if "LAB_URL" in os.environ:
        return HttpOracle(os.environ["LAB_URL"], os.environ.get("LAB_TOKEN"))
    if not _SIMULATED:
        from simulators.lab_server import LabServer

        lab = simulated_lab()
        server = LabServer(lab, token=TOKEN).__enter__()
        atexit.register(server.__exit__)
        _SIMULATED.update(lab=lab, address=server.url)
    return HttpOracle(_SIMULATED["address"], TOKEN)


def sila_address(address: str) -> tuple[str, int]:
    """``LAB_SILA``'s host and port.

    Raises:
        ConfigurationError: not ``host:port`` with a port number.
    """
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise ConfigurationError(
            f"LAB_SILA must be host:port, e.g. lab-pc.example.org:50052, got {address!r}"
        )
    return host, int(port)


def sila_oracle() -> Any:
    from discovery.oracles.sila import SilaOracle

    if "LAB_SILA" in os.environ:
        host, port = sila_address(os.environ["LAB_SILA"])
        token, ca = os.environ.get("LAB_TOKEN"), os.environ.get("LAB_CA")
        return SilaOracle(host, port, token, root_certs=ca)
    if not _SIMULATED:
        from simulators.sila_server import SilaLabServer

        lab = simulated_lab()
        server = SilaLabServer(lab, token=TOKEN).__enter__()
        atexit.register(server.__exit__)
        _SIMULATED.update(lab=lab, address=f"{server.host}:{server.port}", ca=server.ca)
    host, port = _SIMULATED["address"].rsplit(":", 1)
    return SilaOracle(host, int(port), TOKEN, root_certs=_SIMULATED["ca"])


def make_campaign(seed: int = 0) -> Campaign:
    """GP + EI with four experiments in flight at the lab."""
    from discovery import CandidatePool

    pool = CandidatePool.from_frame(
        pd.read_csv(DATA), features=FEATURES, objective="toughness", exclude=["top5pct"]
    )
    protocol = os.environ.get("LAB_PROTOCOL", "http")
    if protocol not in ("http", "sila"):
        raise ConfigurationError(f"LAB_PROTOCOL must be http or sila, got {protocol!r}")
    return Campaign(
        pool,
        sila_oracle() if protocol == "sila" else http_oracle(),
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
    """What the simulated lab did: experiments run by outcome, faults, repeated keys."""
    if not _SIMULATED:
        return {}
    lab: Lab = _SIMULATED["lab"]
    outcomes = Counter(run["outcome"] for run in lab.log)
    repeated = sum(not s["created"] for s in lab.submissions)
    return {
        "lab": _SIMULATED["address"],
        "experiments the lab ran": ", ".join(f"{n} {k}" for k, n in sorted(outcomes.items())),
        "faults the lab injected": ", ".join(f"{n} {k}" for k, n in sorted(lab.injected.items()))
        or "none",
        "repeated submissions answered from the key": str(repeated),
    }


def main() -> None:
    from rich.console import Console

    result = make_campaign().run()
    for key, value in {**result.summary(), **summarize(result)}.items():
        Console().print(f"{key}: {value}")


if __name__ == "__main__":
    main()
