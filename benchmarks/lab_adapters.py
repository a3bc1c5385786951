"""What the lab adapters cost and what they survive: HTTP/JSON and SiLA 2 side by side.

1. Overhead: the median time of one submit and one poll against the simulated lab on
   loopback, next to the simulated experiment's own run time.
2. Faults: a campaign against a misbehaving lab with one restart mid-run; the faults
   the lab injected, what the store recorded, and whether any key ran twice.

    python benchmarks/lab_adapters.py [--http-budget 100] [--sila-budget 20] [--repeats 200]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rich.console import Console
from rich.table import Table

from campaigns.crossed_barrel import load_pool
from discovery import Campaign, CampaignStore
from discovery.space import Candidate
from simulators.lab import Faults, Lab, crossed_barrel_measure

RUN_SECONDS = 0.05


def serve(protocol: str, lab: Lab):
    """(context manager serving the lab, function making an oracle for it, restart)."""
    if protocol == "sila":
        from discovery.oracles.sila import SilaOracle
        from simulators.sila_server import SilaLabServer

        server = SilaLabServer(lab, "t")
        return (
            server,
            lambda: SilaOracle(server.host, server.port, "t", root_certs=server.ca),
            server.restart,
        )
    from discovery.oracles.http import HttpOracle
    from simulators.lab_server import LabServer

    server = LabServer(lab, "t")
    return server, lambda: HttpOracle(server.url, "t", backoff=0.01), lab.restart


def overhead(protocol: str, repeats: int) -> dict[str, float]:
    """Median milliseconds of one submit and one poll (of a finished job)."""
    lab = Lab(lambda parameters: {"y": parameters["x"]}, stations=64, run_seconds=0.0)
    server, make_oracle, _ = serve(protocol, lab)
    with server:
        oracle = make_oracle()
        submits, polls = [], []
        for i in range(repeats):
            started = time.perf_counter()
            handle = oracle.submit(Candidate(str(i), {"x": float(i)}, f"k{i}"))
            submits.append(time.perf_counter() - started)
            while oracle.poll(handle).state != "succeeded":
                time.sleep(0.001)
            started = time.perf_counter()
            oracle.poll(handle)
            polls.append(time.perf_counter() - started)
    return {
        "submit": 1000 * statistics.median(submits),
        "poll": 1000 * statistics.median(polls),
    }


def fault_campaign(protocol: str, budget: int, seed: int = 3) -> dict[str, str]:
    """A campaign against a faulty lab restarted once; tallies of faults and records."""
    faults = Faults(unavailable=0.10, instrument=0.02, malformed=0.02)
    if protocol == "http":
        faults = Faults(unavailable=0.10, dropped=0.02, instrument=0.02, malformed=0.02)
    lab = Lab(crossed_barrel_measure(), 4, RUN_SECONDS, faults, seed=seed)
    server, make_oracle, restart = serve(protocol, lab)
    with tempfile.TemporaryDirectory() as folder, server:
        store_path = Path(folder) / "lab.sqlite"
        restarter = threading.Thread(target=lambda: (lab.wait_until_busy(budget // 2), restart()))
        restarter.start()
        started = time.perf_counter()
        Campaign(
            load_pool(),
            make_oracle(),
            "toughness",
            surrogate="forest",
            budget=budget,
            max_in_flight=4,
            retry_backoff=0.01,
            poll_interval=0.01,
            store=store_path,
        ).run(progress=False)
        wall = time.perf_counter() - started
        restarter.join()
        store = CampaignStore(store_path, read_only=True)
        jobs, attempts = store.history("toughness"), store.attempts()
        store.close()
    recorded = Counter(
        state if state == "succeeded" else f"{state} {kind}"
        for state, kind in zip(jobs["state"], jobs["error_class"], strict=True)
    )
    tried = Counter(attempts["error_class"])
    ran = [run["idempotency_key"] for run in lab.log if run["outcome"] in ("succeeded", "failed")]
    outcomes = Counter(run["outcome"] for run in lab.log)
    return {
        "injected": ", ".join(f"{n} {k}" for k, n in sorted(lab.injected.items())),
        "lab ran": ", ".join(f"{n} {k}" for k, n in sorted(outcomes.items())),
        "store": ", ".join(f"{n} {k}" for k, n in sorted(recorded.items())),
        "attempts": ", ".join(f"{n} {k}" for k, n in sorted(tried.items())) or "none",
        "keys run twice": str(len(ran) - len(set(ran))),
        "wall": f"{wall:.1f} s",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--http-budget", type=int, default=100)
    parser.add_argument("--sila-budget", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=200)
    arguments = parser.parse_args()
    console = Console()
    table = Table(
        title=f"adapter overhead per experiment (simulated run: {RUN_SECONDS * 1000:g} ms)"
    )
    for column in ("protocol", "submit (ms)", "poll (ms)"):
        table.add_column(column)
    for protocol in ("http", "sila"):
        cost = overhead(protocol, arguments.repeats)
        table.add_row(protocol, f"{cost['submit']:.2f}", f"{cost['poll']:.2f}")
    console.print(table)
    budgets = {"http": arguments.http_budget, "sila": arguments.sila_budget}
    for protocol, budget in budgets.items():
        tallies = fault_campaign(protocol, budget)
        table = Table(title=f"{protocol}: {budget} experiments, faults and one restart")
        table.add_column("")
        table.add_column("")
        for key, value in tallies.items():
            table.add_row(key, value)
        console.print(table)


if __name__ == "__main__":
    main()
