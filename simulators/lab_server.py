"""A simulated self-driving lab behind an HTTP/JSON job API, misbehaving like real ones.

The lab answers experiments from a dataset (an emulator: each design's recorded
value) through a queue worked by S parallel stations, each experiment taking a
configurable time. It needs a bearer token (401 without, 403 wrong), honours
idempotency keys (a repeated submission returns the same job), and keeps a log of
every experiment a station actually ran. Faults can be injected: transient 503s,
dropped connections, instrument faults mid-run, malformed responses, and a
restart that forgets the queue (queued and running jobs then answer 404;
finished ones are kept).

API (JSON bodies):
    POST   /jobs        {"parameters": {...}, "idempotency_key": "..."} -> 201 {"id", "status"}
    GET    /jobs/{id}   -> {"id", "status": queued|running|succeeded|failed|cancelled,
                            "result": {...}, "error": "..."}
    DELETE /jobs/{id}   -> {"id", "status": "cancelled"}
    GET    /health      -> {"status": "ok", "stations": S}   (checks the token too)
    GET    /log         -> {"runs": [...], "submissions": [...]}: what the lab did
    GET    /openapi.json  the OpenAPI description (no token needed)

    python -m simulators.lab_server --port 8765 --token secret --stations 4
"""

from __future__ import annotations

import argparse
import json
import random
import socket
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
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

    def cancel(self, job_id: str) -> dict[str, Any] | None:
        with self.lock:
            job = self.jobs.get(job_id)
            if job is not None and job["status"] in ("queued", "running"):
                job["status"] = "cancelled"
            return None if job is None else dict(job)

    def restart(self) -> None:
        """Forget the queue, as a lab controller whose queue lives in memory: queued and
        running jobs vanish (they answer 404, and a running experiment is abandoned);
        finished jobs, kept in the lab's records, survive."""
        with self.lock:
            lost = [i for i, job in self.jobs.items() if job["status"] in ("queued", "running")]
            for job_id in lost:
                self.keys.pop(self.jobs.pop(job_id)["key"], None)
            self.generation += 1


OPENAPI = {
    "openapi": "3.0.3",
    "info": {"title": "simulated self-driving lab", "version": "1.0"},
    "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    "security": [{"bearer": []}],
    "paths": {
        "/jobs": {
            "post": {
                "summary": "Queue an experiment; a repeated idempotency_key returns the same job",
                "requestBody": {
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "parameters": {"type": "object"},
                                    "idempotency_key": {"type": "string"},
                                },
                                "required": ["parameters"],
                            }
                        }
                    }
                },
                "responses": {
                    "201": {"description": "queued"},
                    "200": {"description": "the job already submitted under this key"},
                    "401": {"description": "no token"},
                    "403": {"description": "wrong token"},
                },
            }
        },
        "/jobs/{id}": {
            "get": {
                "summary": "The job's status and result",
                "responses": {
                    "200": {"description": "the job"},
                    "404": {"description": "unknown job"},
                },
            },
            "delete": {
                "summary": "Cancel the job",
                "responses": {
                    "200": {"description": "cancelled"},
                    "404": {"description": "unknown job"},
                },
            },
        },
        "/health": {
            "get": {
                "summary": "Reachability and token check",
                "responses": {"200": {"description": "ok"}},
            }
        },
    },
}


def _handler(lab: Lab, token: str) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:  # quiet: the run log is what matters
            return

        def setup(self) -> None:
            super().setup()
            # headers and body leave in two writes: without this, Nagle's algorithm and
            # delayed ACKs add 40 ms to every answer on a kept-alive connection
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def _send(self, code: int, body: Any, raw: bytes | None = None) -> None:
            data = raw if raw is not None else json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _admitted(self) -> bool:
            if self.path == "/openapi.json":
                self._send(200, OPENAPI)
                return False
            given = self.headers.get("Authorization", "")
            if not given.startswith("Bearer "):
                self._send(401, {"error": "missing bearer token"})
                return False
            if given[len("Bearer ") :] != token:
                self._send(403, {"error": "wrong token"})
                return False
            if self.path == "/log":  # the inspection route: faults belong to the instrument
                return True
            if lab.chance(lab.faults.dropped, "dropped"):
                self.close_connection = True
                self.connection.shutdown(2)  # the connection drops without an answer
                return False
            if lab.chance(lab.faults.unavailable, "unavailable"):
                self._send(503, {"error": "lab busy, try again"})
                return False
            return True

        def _body(self) -> dict[str, Any]:
            length = int(self.headers.get("Content-Length") or 0)
            return json.loads(self.rfile.read(length) or b"{}")

        def do_GET(self) -> None:
            if not self._admitted():
                return
            if self.path == "/health":
                self._send(200, {"status": "ok", "stations": lab.stations})
                return
            if self.path == "/log":
                with lab.lock:
                    self._send(200, {"runs": lab.log, "submissions": lab.submissions})
                return
            job = (
                lab.jobs.get(self.path.removeprefix("/jobs/"))
                if self.path.startswith("/jobs/")
                else None
            )
            if job is None:
                self._send(404, {"error": f"no job at {self.path}"})
            elif lab.chance(lab.faults.malformed, "malformed"):
                self._send(200, None, raw=b'{"id": "' + job["id"].encode() + b'", "status": ')
            else:
                self._send(200, {k: v for k, v in job.items() if k != "key"})

        def do_POST(self) -> None:
            if not self._admitted():
                return
            if self.path != "/jobs":
                self._send(404, {"error": f"no route {self.path}"})
                return
            try:
                body = self._body()
                parameters = body["parameters"]
            except (ValueError, KeyError, TypeError):
                self._send(400, {"error": "body must be JSON with 'parameters'"})
                return
            job, created = lab.submit(parameters, body.get("idempotency_key"))
            self._send(201 if created else 200, {"id": job["id"], "status": job["status"]})

        def do_DELETE(self) -> None:
            if not self._admitted():
                return
            job = lab.cancel(self.path.removeprefix("/jobs/"))
            if job is None:
                self._send(404, {"error": f"no job at {self.path}"})
            else:
                self._send(200, {"id": job["id"], "status": job["status"]})

    return Handler


class LabServer:
    """The lab served over HTTP on a thread; ``url`` once started.

    Args:
        lab: the lab's state and behaviour.
        token: the bearer token clients must present.
        host, port: where to listen (port 0: any free port).
    """

    def __init__(self, lab: Lab, token: str, host: str = DEFAULT_HOST, port: int = 0) -> None:
        self.lab = lab
        self.server = ThreadingHTTPServer((host, port), _handler(lab, token))
        self.server.daemon_threads = True
        self.url = f"http://{host}:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> LabServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


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


def main() -> None:
    from pathlib import Path

    import pandas as pd

    parser = argparse.ArgumentParser(description="a simulated self-driving lab (crossed barrel)")
    parser.add_argument("--host", default=DEFAULT_HOST)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--token", required=True)
    parser.add_argument("--stations", type=int, default=4)
    parser.add_argument("--run-seconds", type=float, default=0.5)
    parser.add_argument("--transient", type=float, default=0.0, help="probability of a 503")
    parser.add_argument("--instrument", type=float, default=0.0, help="probability of a fault")
    arguments = parser.parse_args()
    data = (
        Path(__file__).resolve().parents[1] / "campaigns" / "data" / "crossed_barrel" / "pool.csv"
    )
    measure = emulator(pd.read_csv(data), ["n", "theta", "r", "t"], "toughness")
    faults = Faults(unavailable=arguments.transient, instrument=arguments.instrument)
    lab = Lab(measure, arguments.stations, arguments.run_seconds, faults)
    with LabServer(lab, arguments.token, arguments.host, arguments.port) as server:
        print(f"lab listening on {server.url} with {arguments.stations} stations", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
