"""A simulated self-driving lab behind a SiLA 2 server, misbehaving like real ones.

The lab (``simulators.lab``: a queue, S stations, a run log, idempotency keys)
is served through the SiLA 2 feature ``ExperimentService``
(``simulators/ExperimentService.sila.xml``):

    RunExperiment(Parameters: JSON object, IdempotencyKey) -> Result: JSON object
        observable: status, progress and estimated remaining time while it runs,
        intermediate response Stage ("queued", "running");
        errors: InvalidParameters, InstrumentFault, ExperimentCancelled
    CancelExperiment(CommandExecutionUUID)
    StationCount                                   (property)

Every call to the feature needs the token as the SiLA ``AccessToken`` metadata
(the standard AuthorizationService feature); setting ``SilaLabServer.token`` renews it,
and the old one is refused from the next call on (a token that expires mid-campaign). The server speaks TLS with a
self-signed certificate made once at start (``ca`` holds it for clients), or
plain gRPC when asked for (``insecure=True``). Faults can be injected:
``unavailable`` (the execution is not accepted: CommandExecutionNotAccepted),
``instrument`` (a fault mid-run), ``malformed`` (an unreadable Result), and
``restart()``, which stops the server and starts a fresh one on the same port:
queued and running experiments are abandoned and their execution UUIDs are
unknown to the new server, as with a real instrument controller.

    python -m simulators.sila_server --port 50052 --token secret --ca-file lab-ca.pem
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any, NamedTuple

from sila2.features.authorizationservice import (
    AuthorizationServiceBase,
    AuthorizationServiceFeature,
    InvalidAccessToken,
)
from sila2.framework import (
    CommandExecutionNotAccepted,
    DefinedExecutionError,
    Feature,
    UndefinedExecutionError,
)
from sila2.server import FeatureImplementationBase, MetadataInterceptor, SilaServer
from sila2.server.encryption import generate_self_signed_certificate

from simulators.lab import (
    DEFAULT_HOST,
    Lab,
    free_port,
    lab_arguments,
    lab_from_arguments,
    serve_until_interrupted,
)

FEATURE = Feature(str(Path(__file__).with_name("ExperimentService.sila.xml")))
RUN_EXPERIMENT = FEATURE._observable_commands["RunExperiment"]
ACCESS_TOKEN = AuthorizationServiceFeature["AccessToken"]

#: How often a running execution looks at its experiment, in seconds.
WATCH_INTERVAL = 0.01


class RunExperimentResponses(NamedTuple):
    Result: str


class RunExperimentStage(NamedTuple):
    Stage: str


class InvalidParameters(DefinedExecutionError):
    def __init__(self, message: str) -> None:
        super().__init__(FEATURE.defined_execution_errors["InvalidParameters"], message)


class InstrumentFault(DefinedExecutionError):
    def __init__(self, message: str) -> None:
        super().__init__(FEATURE.defined_execution_errors["InstrumentFault"], message)


class ExperimentCancelled(DefinedExecutionError):
    def __init__(self, message: str) -> None:
        super().__init__(FEATURE.defined_execution_errors["ExperimentCancelled"], message)


class ExperimentService(FeatureImplementationBase):
    """RunExperiment, CancelExperiment and StationCount, done by a :class:`Lab`."""

    def __init__(self, parent_server: SilaServer, lab: Lab) -> None:
        super().__init__(parent_server=parent_server)
        self.lab = lab
        self.jobs: dict[str, str] = {}  # execution UUID -> the lab's job id
        self.cancel_requests: set[str] = set()  # cancelled before the lab had the job
        self.lock = threading.Lock()
        self.stopping = threading.Event()

    def stop(self) -> None:
        self.stopping.set()  # executions still watching their experiment give up
        super().stop()

    def get_StationCount(self, *, metadata: Any) -> int:
        return self.lab.stations

    def CancelExperiment(self, CommandExecutionUUID: str, *, metadata: Any) -> None:
        with self.lock:
            job_id = self.jobs.get(CommandExecutionUUID)
            if job_id is None:  # the execution has not reached the lab yet
                self.cancel_requests.add(CommandExecutionUUID)
                return
        self.lab.cancel(job_id)

    def RunExperiment(
        self, Parameters: str, IdempotencyKey: str, *, metadata: Any, instance: Any
    ) -> RunExperimentResponses:
        # the SDK logs every execution that ends in an error with its traceback;
        # here errors are the simulated instrument's business, recorded in the lab log
        logging.getLogger(
            f"observable-command-manager-{RUN_EXPERIMENT.fully_qualified_identifier}"
            f"-{instance.execution_uuid}"
        ).setLevel(logging.CRITICAL)
        lab = self.lab
        if lab.chance(lab.faults.unavailable, "unavailable"):
            raise CommandExecutionNotAccepted("all stations are busy: try again later")
        try:
            parameters = json.loads(Parameters)
        except ValueError as error:
            raise InvalidParameters(f"Parameters is not JSON: {error}") from None
        if not isinstance(parameters, dict):
            raise InvalidParameters("Parameters must be a JSON object")
        job, _ = lab.submit(parameters, IdempotencyKey or None)
        with self.lock:
            self.jobs[str(instance.execution_uuid)] = job["id"]
            cancelled = str(instance.execution_uuid) in self.cancel_requests
        if cancelled:
            lab.cancel(job["id"])
        job = self._watch(job["id"], instance)
        if job["status"] == "failed":
            raise InstrumentFault(str(job.get("error")))
        if job["status"] == "cancelled":
            raise ExperimentCancelled("cancelled before it finished")
        result = json.dumps(job["result"])
        if lab.chance(lab.faults.malformed, "malformed"):
            result = result[: len(result) // 2]
        return RunExperimentResponses(result)

    def _watch(self, job_id: str, instance: Any) -> dict[str, Any]:
        """Report the experiment's stage and progress until it finishes; the job then."""
        stage = None
        while True:
            job, done = self.lab.snapshot(job_id)
            if job is None or self.stopping.is_set():
                raise UndefinedExecutionError("the instrument restarted; the experiment is lost")
            if job["status"] not in ("queued", "running"):
                return job
            if job["status"] != stage:
                stage = job["status"]
                instance.send_intermediate_response(RunExperimentStage(stage))
            if stage == "running":
                instance.progress = done
                instance.estimated_remaining_time = timedelta(
                    seconds=(1 - done) * self.lab.run_seconds
                )
            self.stopping.wait(WATCH_INTERVAL)


class Authorization(AuthorizationServiceBase):
    """The standard AuthorizationService: every call to ExperimentService needs the token."""

    def get_calls_affected_by_AccessToken(self) -> list:
        return [FEATURE]


class TokenCheck(MetadataInterceptor):
    """Refuses a call whose AccessToken is not ``token()``, the one accepted now."""

    def __init__(self, token: Callable[[], str]) -> None:
        super().__init__([ACCESS_TOKEN])
        self.token = token

    def intercept(self, parameters: Any, metadata: Any, target_call: Any) -> None:
        if metadata[ACCESS_TOKEN] != self.token():
            raise InvalidAccessToken("wrong access token")


class SilaLabServer:
    """The lab served over SiLA 2 on ``host:port``; ``restart()`` to lose its queue.

    Args:
        lab: the lab's state and behaviour.
        token: the access token clients must send; set ``token`` to renew it.
        host, port: where to listen (port 0: a free port, kept across restarts).
        insecure: serve plain gRPC instead of TLS.

    Attributes:
        ca: the PEM certificate clients trust (None when insecure).
        restarts: how many times the server was restarted.
    """

    def __init__(
        self,
        lab: Lab,
        token: str,
        host: str = DEFAULT_HOST,
        port: int = 0,
        *,
        insecure: bool = False,
    ) -> None:
        self.lab, self.token, self.host = lab, token, host
        self.port = port or free_port(host)
        self.insecure = insecure
        self.server_uuid = uuid.uuid4()  # the instrument keeps its identity across restarts
        self.private_key, self.ca = (
            (None, None) if insecure else generate_self_signed_certificate(self.server_uuid, host)
        )
        self.restarts = 0
        self.server: SilaServer | None = None

    def _start(self) -> None:
        # the SDK logs each error it sends with a traceback; a simulated instrument's
        # faults and refused tokens are expected here, and the lab log records them
        logging.getLogger(FEATURE._identifier).setLevel(logging.CRITICAL)
        server = SilaServer(
            server_name="Simulated lab",
            server_type="SimulatedLab",
            server_description="A simulated self-driving lab with parallel stations",
            server_version="1.0",
            server_vendor_url="https://github.com/discovery",
            server_uuid=self.server_uuid,
        )
        server.set_feature_implementation(FEATURE, ExperimentService(server, self.lab))
        server.set_feature_implementation(AuthorizationServiceFeature, Authorization(server))
        server.add_metadata_interceptor(TokenCheck(lambda: self.token))
        if self.insecure:
            server.start_insecure(self.host, self.port, enable_discovery=False)
        else:
            server.start(
                self.host,
                self.port,
                private_key=self.private_key,
                cert_chain=self.ca,
                enable_discovery=False,
            )
        self.server = server

    def restart(self) -> None:
        """Stop and start again: queued and running experiments are abandoned, and the
        new server knows none of the old execution UUIDs."""
        # the network goes first, as when a controller dies: no client reads an
        # abandoned execution's error on the way down
        self.server.grpc_server.stop(grace=0).wait()
        self.lab.restart()
        self.server.stop(grace_period=0)
        self._start()
        self.restarts += 1

    def __enter__(self) -> SilaLabServer:
        self._start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.server is not None and self.server.running:
            self.server.stop(grace_period=0)


def main() -> None:
    parser = lab_arguments("a simulated self-driving lab (crossed barrel) over SiLA 2")
    parser.add_argument("--port", type=int, default=50052)
    parser.add_argument("--insecure", action="store_true", help="plain gRPC, no TLS")
    parser.add_argument("--ca-file", type=Path, help="where to write the server's certificate")
    arguments = parser.parse_args()
    lab = lab_from_arguments(arguments)
    server = SilaLabServer(
        lab, arguments.token, arguments.host, arguments.port, insecure=arguments.insecure
    )
    with server:
        if server.ca is not None and arguments.ca_file is not None:
            arguments.ca_file.write_bytes(server.ca)
        serve_until_interrupted(
            f"SiLA lab listening on {server.host}:{server.port} with {lab.stations} stations"
        )


if __name__ == "__main__":
    main()
