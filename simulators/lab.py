"""The simulated lab itself, whatever protocol fronts it: a queue, stations, faults, a log.

The lab answers experiments from a dataset (an emulator: each design's recorded
value) through a queue worked by S parallel stations, each experiment taking a
configurable time. It honours idempotency keys (a repeated submission returns the
same job), keeps a log of every experiment a station actually ran, and injects
faults when asked. ``simulators.lab_server`` serves it over HTTP/JSON and
``simulators.sila_server`` over SiLA 2.
"""

from __future__ import annotations

import argparse
import random
import socket
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Loopback only unless asked otherwise: a simulated lab has no business on a network.
DEFAULT_HOST = "127.0.0.1"


@dataclass(frozen=True)
class Faults:
    """Probabilities of each injected fault, per request (HTTP faults) or per run.

    Attributes:
        unavailable: a request is answered 503 (transient).
        dropped: a request's connection is closed without an answer.
        instrument: an experiment fails mid-run with an instrument fault.
        malformed: a status answer is not valid JSON.
    """

    unavailable: float = 0.0
    dropped: float = 0.0
    instrument: float = 0.0
    malformed: float = 0.0


class Lab:
    """The lab's state: jobs by id, idempotency keys, stations and the run log.

    Args:
        measure: ``measure(parameters) -> dict`` of results for a design.
        stations: experiments run at once.
        run_seconds: how long one experiment takes.
        faults: what goes wrong, and how often.
        seed: seed of the faults.
    """

    def __init__(
        self,
        measure: Callable[[dict[str, Any]], dict[str, Any]],
        stations: int = 4,
        run_seconds: float = 0.2,
        faults: Faults | None = None,
        seed: int = 0,
    ) -> None:
        self.measure = measure
        self.stations = stations
        self.run_seconds = run_seconds
        self.faults = faults or Faults()
        self.random = random.Random(seed)
        self.lock = threading.Lock()
        self.jobs: dict[str, dict[str, Any]] = {}
        self.keys: dict[str, str] = {}
        self.log: list[dict[str, Any]] = []  # every experiment a station ran; survives restarts
        self.submissions: list[dict[str, Any]] = []  # every POST: its key and whether it was new
        self.injected: Counter[str] = Counter()  # faults injected, by kind
        self.generation = 0
        self._free = threading.Semaphore(stations)
        self._started: dict[str, float] = {}  # when each job's run began

    def chance(self, probability: float, fault: str | None = None) -> bool:
        """Draw whether something happens; a drawn ``fault`` is counted in ``injected``."""
        with self.lock:
            happens = self.random.random() < probability
            if happens and fault is not None:
                self.injected[fault] += 1
            return happens

    def submit(self, parameters: dict[str, Any], key: str | None) -> tuple[dict[str, Any], bool]:
        """The job for this idempotency key, created and queued if new; (job, created)."""
        with self.lock:
            if key is not None and key in self.keys and self.keys[key] in self.jobs:
                self.submissions.append({"idempotency_key": key, "created": False})
                return dict(self.jobs[self.keys[key]]), False
            job_id = uuid.uuid4().hex[:12]
            job = {"id": job_id, "status": "queued", "parameters": parameters, "key": key}
            self.jobs[job_id] = job
            if key is not None:
                self.keys[key] = job_id
            self.submissions.append({"idempotency_key": key, "created": True})
            generation = self.generation
        threading.Thread(target=self._run, args=(job_id, generation), daemon=True).start()
        return dict(job), True

    def _run(self, job_id: str, generation: int) -> None:
        with self._free:
            with self.lock:
                job = self.jobs.get(job_id)
                if job is None or job["status"] != "queued" or generation != self.generation:
                    return
                job["status"] = "running"
                self._started[job_id] = time.monotonic()
            time.sleep(self.run_seconds)
            fault = self.chance(self.faults.instrument, "instrument")
            try:
                result = None if fault else self.measure(job["parameters"])
            except Exception as error:  # the design is unknown to the emulator
                result, fault = None, f"{type(error).__name__}: {error}"
            with self.lock:
                if generation != self.generation:  # the lab restarted mid-run: result lost
                    self.log.append(self._entry(job, "lost in restart", None))
                    return
                if job["status"] == "cancelled":
                    self.log.append(self._entry(job, "cancelled", None))
                    return
                if fault:
                    job["status"] = "failed"
                    job["error"] = fault if isinstance(fault, str) else "instrument fault mid-run"
                else:
                    job["status"], job["result"] = "succeeded", result
                self.log.append(self._entry(job, job["status"], result))

    @staticmethod
    def _entry(job: dict[str, Any], outcome: str, result: Any) -> dict[str, Any]:
        return {
            "job": job["id"],
            "idempotency_key": job["key"],
            "parameters": job["parameters"],
            "outcome": outcome,
            "result": result,
        }

    def snapshot(self, job_id: str) -> tuple[dict[str, Any] | None, float]:
        """A copy of the job (None once the lab forgot it) and the fraction of its run done."""
        with self.lock:
            job = self.jobs.get(job_id)
            if job is None:
                return None, 0.0
            if job["status"] == "queued":
                return dict(job), 0.0
            if job["status"] != "running":
                return dict(job), 1.0
            elapsed = time.monotonic() - self._started[job_id]
            return dict(job), min(1.0, elapsed / self.run_seconds) if self.run_seconds else 1.0

    def cancel(self, job_id: str) -> dict[str, Any] | None:
        with self.lock:
            job = self.jobs.get(job_id)
            if job is not None and job["status"] in ("queued", "running"):
                job["status"] = "cancelled"
            return None if job is None else dict(job)

    def wait_until_busy(self, experiments: int) -> None:
        """Block until the lab has run ``experiments`` and has jobs queued or running:
        the moment a restart hurts (tests and benchmarks restart it then)."""
        while len(self.log) < experiments or not any(
            job["status"] in ("queued", "running") for job in list(self.jobs.values())
        ):
            time.sleep(0.002)

    def restart(self) -> None:
        """Forget the queue, as a lab controller whose queue lives in memory: queued and
        running jobs vanish (they answer 404, and a running experiment is abandoned);
        finished jobs, kept in the lab's records, survive."""
        with self.lock:
            lost = [i for i, job in self.jobs.items() if job["status"] in ("queued", "running")]
            for job_id in lost:
                self.keys.pop(self.jobs.pop(job_id)["key"], None)
            self.generation += 1


def lab_arguments(description: str) -> argparse.ArgumentParser:
    """The command-line options every simulated lab server takes."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--host", default=DEFAULT_HOST)
    parser.add_argument("--token", required=True)
    parser.add_argument("--stations", type=int, default=4)
    parser.add_argument("--run-seconds", type=float, default=0.5)
    parser.add_argument("--transient", type=float, default=0.0, help="probability of refusal")
    parser.add_argument("--instrument", type=float, default=0.0, help="probability of a fault")
    return parser


def lab_from_arguments(arguments: argparse.Namespace) -> Lab:
    """The crossed-barrel lab the command-line options describe."""
    faults = Faults(unavailable=arguments.transient, instrument=arguments.instrument)
    return Lab(crossed_barrel_measure(), arguments.stations, arguments.run_seconds, faults)


def serve_until_interrupted(announcement: str) -> None:
    """Print where the lab listens, then wait until Ctrl-C."""
    print(announcement, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass


def free_port(host: str = DEFAULT_HOST) -> int:
    """A port nobody listens on now."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def emulator(frame, parameter_columns: list[str], objective: str) -> Callable[[dict], dict]:
    """``measure(parameters)`` that returns the recorded objective of the matching row."""
    table = {
        tuple(float(v) for v in row[parameter_columns]): float(row[objective])
        for _, row in frame.iterrows()
    }

    def measure(parameters: dict[str, Any]) -> dict[str, Any]:
        key = tuple(float(parameters[c]) for c in parameter_columns)
        return {objective: table[key]}

    return measure


def crossed_barrel_measure() -> Callable[[dict], dict]:
    """The emulator of the crossed-barrel dataset shipped with the campaigns (toughness)."""
    import pandas as pd

    data = (
        Path(__file__).resolve().parents[1] / "campaigns" / "data" / "crossed_barrel" / "pool.csv"
    )
    return emulator(pd.read_csv(data), ["n", "theta", "r", "t"], "toughness")
