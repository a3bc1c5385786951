"""A simulated self-driving lab behind an HTTP/JSON job API, misbehaving like real ones.

The lab (``simulators.lab``: a queue, S stations, a run log, idempotency keys)
is served here over HTTP. The server needs a bearer token (401 without, 403
wrong); setting ``LabServer.token`` renews it, and the old one is refused from the next
request on (a token that expires mid-campaign). Faults can be injected: transient 503s, dropped connections, instrument
faults mid-run, malformed responses, and a restart that forgets the queue
(queued and running jobs then answer 404; finished ones are kept).

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

import json
import socket
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

from simulators.lab import (
    DEFAULT_HOST,
    Lab,
    lab_arguments,
    lab_from_arguments,
    serve_until_interrupted,
)

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


def _handler(lab: Lab, token: Callable[[], str]) -> type[BaseHTTPRequestHandler]:
    """Requests served from ``lab``; ``token()`` is the one token accepted now."""

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
            # the body is read before any answer: left unread, it would be taken for
            # the next request on a kept-alive connection
            self._raw_body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.path == "/openapi.json":
                self._send(200, OPENAPI)
                return False
            given = self.headers.get("Authorization", "")
            if not given.startswith("Bearer "):
                self._send(401, {"error": "missing bearer token"})
                return False
            if given[len("Bearer ") :] != token():
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
            return json.loads(self._raw_body or b"{}")

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
                lab.jobs.get(unquote(self.path.removeprefix("/jobs/")))
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
            job = lab.cancel(unquote(self.path.removeprefix("/jobs/")))
            if job is None:
                self._send(404, {"error": f"no job at {self.path}"})
            else:
                self._send(200, {"id": job["id"], "status": job["status"]})

    return Handler


class LabServer:
    """The lab served over HTTP on a thread; ``url`` once started.

    Args:
        lab: the lab's state and behaviour.
        token: the bearer token clients must present; set ``token`` to renew it.
        host, port: where to listen (port 0: any free port).
    """

    def __init__(self, lab: Lab, token: str, host: str = DEFAULT_HOST, port: int = 0) -> None:
        self.lab, self.token = lab, token
        self.server = ThreadingHTTPServer((host, port), _handler(lab, lambda: self.token))
        self.server.daemon_threads = True
        self.url = f"http://{host}:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> LabServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def main() -> None:
    parser = lab_arguments("a simulated self-driving lab (crossed barrel) over HTTP")
    parser.add_argument("--port", type=int, default=8765)
    arguments = parser.parse_args()
    lab = lab_from_arguments(arguments)
    with LabServer(lab, arguments.token, arguments.host, arguments.port) as server:
        serve_until_interrupted(f"lab listening on {server.url} with {lab.stations} stations")


if __name__ == "__main__":
    main()
