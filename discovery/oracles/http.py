"""An oracle for lab robots and instrument servers that speak an HTTP/JSON job API.

Default schema (see README, "Connecting your instrument"):
    POST   {base}/jobs       body {"parameters": {...}, "idempotency_key": key} -> {"id": ...}
    GET    {base}/jobs/{id}  -> {"id": ..., "status": "queued|running|succeeded|failed|cancelled",
                                 "result": {...}, "error": "..."}
    DELETE {base}/jobs/{id}  cancels
    GET    {base}/health     checked once at construction (reachability and token)

Every submission carries the job's idempotency key from the store, so a
submission repeated after a dropped connection or a crash runs the experiment
once. Connection errors, 5xx (but 501 and 505), 408 and 429 answers are retried with
backoff (or after the server's Retry-After) and then reported as transient (the campaign
retries the job under the same key); but while the server cannot be reached at all (no
answer, or a gateway's 502 or 504 for it), a job already submitted keeps its last known
state (queued or running) for ``patience`` seconds, as the lab goes on with it, and only then fails as transient. 401 and 403 at
construction, 501, 505 and a redirect (the address to use instead is named) are
configuration errors; 401 or 403 after construction (a token that expired) stops the
campaign (:class:`~discovery.exceptions.AccessRefused`) with nothing recorded as failed.
A health check that answers anything but 2xx is a configuration error at construction;
404 for a known job means the server forgot it (lost), 404 for the jobs collection is a
configuration failure; a status answer that cannot be read (not JSON, no status, a
compressed body that does not decompress, or about another job than the one asked for)
is asked again (the idempotency key makes that safe), and only UNREADABLE_POLLS of them
in a row fail that job as an instrument failure with the raw payload recorded.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx

from discovery.exceptions import (
    AccessRefused,
    ConfigurationError,
    ServerUnreachable,
    TransientError,
)
from discovery.oracles.base import FAILED, LOST, QUEUED, RUNNING, Handle, Status
from discovery.space import Candidate

#: Server states and the job states they stand for.
STATE_NAMES = {
    "queued": "queued",
    "pending": "queued",
    "running": "running",
    "succeeded": "succeeded",
    "completed": "succeeded",
    "failed": "failed",
    "error": "failed",
    "cancelled": "cancelled",
    "canceled": "cancelled",
}

#: Answers that mean "not now": retried like 5xx (request timeout, rate limiting).
RETRIED_CODES = (408, 429)
#: Server errors that no retry mends: the server does not implement the method (501) or
#: the protocol version (505). They are configuration errors, as other 4xx but 404 are.
NEVER_RETRIED_CODES = (501, 505)

#: The longest a server's Retry-After is waited for, in seconds, before one more try.
MAX_RETRY_AFTER = 30.0

#: Unreadable status answers in a row (a garbled or truncated body) taken as glitches
#: of the connection before the job fails: polling again is safe, the job is kept.
UNREADABLE_POLLS = 5

#: A gateway's answers that the server behind it did not answer (bad gateway, timeout).
GATEWAY_CODES = (502, 504)

#: Where a response whose body did not decompress says why (httpx's ``extensions``).
UNDECODABLE = "discovery.undecodable"


@dataclass(frozen=True)
class JobSchema:
    """Where the API puts things; change it to talk to another server's schema.

    Attributes:
        jobs_path: the collection of jobs ("/jobs"); a job is ``{jobs_path}/{id}``.
        health_path: checked at construction (None: no check).
        parameters_field: the request field that carries the candidate's parameters.
        key_field: the request field that carries the idempotency key.
        id_field, status_field, result_field, error_field: fields of the answers.
        extra: constant fields added to every submission (e.g. a protocol name).
    """

    jobs_path: str = "/jobs"
    health_path: str | None = "/health"
    parameters_field: str = "parameters"
    key_field: str = "idempotency_key"
    id_field: str = "id"
    status_field: str = "status"
    result_field: str = "result"
    error_field: str = "error"
    extra: dict[str, Any] = field(default_factory=dict)


class HttpOracle:
    """Runs experiments through an HTTP/JSON job API.

    A network outage does not fail the experiments the lab goes on running: while the
    server cannot be reached at all (connection refused, dropped or timed out), a job
    already submitted is reported in its last known state (queued, or running) for
    ``patience`` seconds without a single answer, and only then fails as transient
    (the campaign sends it again under the same key, which finds the same job). A token
    refused after construction (expired, revoked) raises
    :class:`~discovery.exceptions.AccessRefused`, which stops the campaign: the jobs in
    flight keep their handles in the store, and a run with a renewed token resumes.

    Args:
        base_url: the server, e.g. ``https://lab.example.org/api``.
        token: bearer token sent with every request (None: no auth header).
        schema: the API's paths and field names.
        verify: verify TLS certificates (a path: a CA bundle).
        timeout: seconds per request, its whole answer read (a server that trickles
            its answer is cut off like one that does not answer), and to reach the
            server at construction.
        retries: attempts per request on connection errors and 5xx, with backoff.
        backoff: seconds before the first retry, doubled each time.
        check: ask ``schema.health_path`` at construction.
        patience: seconds a submitted job waits for an unreachable server before its
            attempt counts as a transient failure.

    Raises:
        ConfigurationError: the server cannot be reached, refuses the token, or its
            health check answers anything but 2xx (a wrong path, a redirect); a
            negative ``patience``.
    """

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        schema: JobSchema | None = None,
        verify: bool | str = True,
        timeout: float = 5.0,
        retries: int = 3,
        backoff: float = 0.1,
        check: bool = True,
        patience: float = 60.0,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ConfigurationError(
                f"http oracle: base_url must start with http(s)://, got {base_url!r}"
            )
        if not patience >= 0:
            raise ConfigurationError(f"http oracle: patience must be >= 0 seconds, got {patience}")
        self.base_url = base_url.rstrip("/")
        self.schema = schema or JobSchema()
        self.retries, self.backoff, self.timeout = retries, backoff, timeout
        self.patience = patience
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.client = httpx.Client(
            base_url=self.base_url, headers=headers, verify=verify, timeout=timeout
        )
        self.name = f"http:{self.base_url}"
        self._unreadable: dict[str, int] = {}
        self._unreachable_since: dict[str, float] = {}
        self._last_state: dict[str, str] = {}  # queued or running, as last answered
        if check and self.schema.health_path:
            try:
                response = self._request("GET", self.schema.health_path)
            except TransientError as error:
                raise ConfigurationError(
                    f"http oracle: server {self.base_url} not reachable ({error})"
                ) from None
            if not response.is_success:
                raise ConfigurationError(
                    f"http oracle: health check {self.base_url}{self.schema.health_path} "
                    f"answered HTTP {response.status_code}; is {self.base_url} the API's address?"
                )

    def _request(self, method: str, path: str, **options: Any) -> httpx.Response:
        """One request, retried on connection errors, 5xx, 408 and 429; 404 is returned
        for the caller to judge.

        Raises:
            ServerUnreachable: the last attempt got no answer at all, or a gateway's 502
                or 504 (a proxy in front of a lab server that restarts).
            TransientError: the last attempt was answered 5xx, 408 or 429.
            AccessRefused: 401 or 403, the token refused.
            ConfigurationError: a redirect, 501, 505 or another 4xx but 404.
        """
        last, wait, failure = "", 0.0, TransientError
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(max(wait, self.backoff * 2 ** (attempt - 1)))
            try:
                response = self._send(method, path, **options)
            except httpx.TransportError as error:
                last, wait, failure = f"{type(error).__name__}: {error}", 0.0, ServerUnreachable
                continue
            if (
                response.status_code >= 500 and response.status_code not in NEVER_RETRIED_CODES
            ) or response.status_code in RETRIED_CODES:
                last = f"HTTP {response.status_code}: {response.text[:200]}"
                # a gateway's 502 or 504: the server behind it did not answer either
                unanswered = response.status_code in GATEWAY_CODES
                wait = _retry_after(response)
                failure = ServerUnreachable if unanswered else TransientError
                continue
            self._check_answer(method, path, response)
            return response
        raise failure(f"{method} {self.base_url}{path} failed {self.retries + 1} times: {last}")

    def _check_answer(self, method: str, path: str, response: httpx.Response) -> None:
        """Refuse an answer no retry mends.

        Raises:
            AccessRefused: 401 or 403, the token refused.
            ConfigurationError: a redirect, 501, 505 or another 4xx but 404.
        """
        code = response.status_code
        if response.is_redirect:
            raise ConfigurationError(
                f"http oracle: {method} {self.base_url}{path} is redirected "
                f"(HTTP {code}) to {response.headers.get('Location')!r}; "
                "give base_url the address the server moved to"
            )
        if code in (401, 403):
            # One line: the CLI prints it as the reason the campaign stopped.
            reason = " ".join(response.text[:200].split())
            raise AccessRefused(
                f"http oracle: {self.base_url} refused the token (HTTP {code}: {reason}); "
                "renew the token and run again (a stored campaign resumes where it stopped)"
            )
        if code >= 400 and code != 404:
            raise ConfigurationError(
                f"http oracle: {method} {path} answered HTTP {code}: {response.text[:200]}"
            )

    def _send(self, method: str, path: str, **options: Any) -> httpx.Response:
        """One request whose answer is read whole within ``timeout`` seconds.

        httpx's timeout bounds each read, not the request: a server that sends a byte
        now and then would hold a poll, and the campaign, for as long as it likes.

        Raises:
            httpx.TimeoutException: the answer took longer than ``timeout`` in all
                (retried as a request that timed out).
        """
        deadline = time.monotonic() + self.timeout
        with self.client.stream(method, path, **options) as response:
            body = bytearray()
            for chunk in response.iter_raw():
                body += chunk
                if time.monotonic() > deadline:
                    raise httpx.ReadTimeout(
                        f"no whole answer within {self.timeout} s", request=response.request
                    )
        try:
            # As received (still encoded), so that the new response decodes it as httpx would.
            return httpx.Response(
                response.status_code,
                headers=response.headers,
                content=bytes(body),
                request=response.request,
            )
        except httpx.DecodingError as error:
            return _undecoded(response, bytes(body), error)

    def _job_path(self, job_id: str) -> str:
        """The job's address, its id escaped: an id may hold '/', '?' or '#'."""
        return f"{self.schema.jobs_path}/{quote(str(job_id), safe='')}"

    def submit(self, candidate: Candidate) -> Handle:
        """POST the candidate's parameters under its idempotency key; the server's job id.

        Raises:
            TransientError: the server could not be reached or answered unreadably.
            AccessRefused: the server refused the token.
            ConfigurationError: the jobs collection is missing or refuses the request.
        """
        schema = self.schema
        body = {**schema.extra, schema.parameters_field: candidate.parameters}
        if candidate.idempotency_key is not None:
            body[schema.key_field] = candidate.idempotency_key
        response = self._request("POST", schema.jobs_path, json=body)
        if response.status_code == 404:
            raise ConfigurationError(
                f"http oracle: POST {self.base_url}{schema.jobs_path} answered HTTP 404: "
                f"{response.text[:200]}"
            )
        try:
            job_id = _json(response)[schema.id_field]
        except (ValueError, KeyError, TypeError):
            raise TransientError(f"submit: unreadable answer {response.text[:200]!r}") from None
        return {"job_id": str(job_id), "idempotency_key": candidate.idempotency_key}

    def poll(self, handle: Handle) -> Status:
        """GET the job and translate its status.

        An unreadable answer is asked again (the job counts as running); only
        ``UNREADABLE_POLLS`` of them in a row fail the job as an instrument failure
        with the raw payload. An unreachable server leaves the job in its last known
        state for ``patience`` seconds.

        Raises:
            TransientError: the server was unreachable for ``patience`` seconds, or
                answered 5xx, 408 or 429 to every retry.
            AccessRefused: the server refused the token.
            ConfigurationError: an answer no retry mends (a redirect, 501, another 4xx).
        """
        job_id = handle["job_id"]
        try:
            response = self._request("GET", self._job_path(job_id))
        except ServerUnreachable as error:
            return self._unreachable(job_id, error)
        self._unreachable_since.pop(job_id, None)
        if response.status_code == 404:
            self._forget(job_id)
            return Status(LOST, error=f"the server no longer knows job {job_id}")
        try:
            state, result, payload = self._read_status(job_id, response)
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            return self._unreadable_answer(job_id, error, response.text)
        self._unreadable.pop(job_id, None)
        if state in (QUEUED, RUNNING):
            self._last_state[job_id] = state
        else:
            self._forget(job_id)
        if state == "failed":
            return Status(
                FAILED, error=str(payload.get(self.schema.error_field)), error_class="instrument"
            )
        return Status(state, result=result if state == "succeeded" else {})

    def _read_status(
        self, job_id: str, response: httpx.Response
    ) -> tuple[str, dict[str, Any], dict[str, Any]]:
        """The job's state, its result and the whole answer.

        Raises:
            ValueError, KeyError, TypeError, AttributeError: the answer cannot be read as
                this job's status (not JSON, no status, about another job).
        """
        schema = self.schema
        payload = _json(response)
        state = STATE_NAMES[str(payload[schema.status_field]).lower()]
        answered_id = payload.get(schema.id_field)
        if answered_id is not None and str(answered_id) != job_id:
            # Another job's record (a caching proxy, ids reused): its result is not ours.
            raise ValueError(f"the answer is about job {answered_id}, not job {job_id}")
        result = payload.get(schema.result_field) or {}
        if state == "succeeded" and not isinstance(result, dict):
            raise TypeError("result is not an object")
        return state, result, payload

    def _unreachable(self, job_id: str, error: ServerUnreachable) -> Status:
        """The job's last known state (queued until a poll found it running), until
        ``patience`` seconds pass without a single answer.

        Raises:
            TransientError: naming the address and how long it was unreachable.
        """
        now = time.monotonic()
        since = self._unreachable_since.setdefault(job_id, now)
        if now - since < self.patience:
            return Status(self._last_state.get(job_id, QUEUED))
        self._forget(job_id)
        raise TransientError(
            f"{self.base_url} unreachable for {now - since:.1f} s while job {job_id} "
            f"was in flight ({error})"
        ) from None

    def _forget(self, job_id: str) -> None:
        """Drop what is kept about a job that will not be polled again in this attempt."""
        for kept in (self._unreadable, self._unreachable_since, self._last_state):
            kept.pop(job_id, None)

    def _unreadable_answer(self, job_id: str, error: Exception, text: str) -> Status:
        """Still running as far as anyone knows, until too many answers in a row are garbled."""
        count = self._unreadable.get(job_id, 0) + 1
        if count < UNREADABLE_POLLS:
            self._unreadable[job_id] = count
            return Status(RUNNING)
        self._unreadable.pop(job_id, None)
        return Status(
            FAILED,
            error=f"unreadable answer {count} times in a row "
            f"({type(error).__name__}: {error}): {text[:500]}",
            error_class="instrument",
        )

    def cancel(self, handle: Handle) -> None:
        """DELETE the job."""
        self._request("DELETE", self._job_path(handle["job_id"]))

    def close(self) -> None:
        """Close the connection pool."""
        self.client.close()


def _undecoded(response: httpx.Response, body: bytes, error: httpx.DecodingError) -> httpx.Response:
    """The answer with its body as received, when it does not decompress (garbled in
    transit): kept readable as text for the record, and marked so that reading it as
    JSON fails (see :func:`_json`)."""
    encoding = response.headers.get("Content-Encoding")
    headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() != "content-encoding"]
    return httpx.Response(
        response.status_code,
        headers=headers,
        content=body,
        request=response.request,
        extensions={UNDECODABLE: f"a body declared {encoding} does not decompress ({error})"},
    )


def _json(response: httpx.Response) -> Any:
    """The answer's JSON.

    Raises:
        ValueError: the body is not JSON, or did not decompress.
    """
    undecodable = response.extensions.get(UNDECODABLE)
    if undecodable is not None:
        raise ValueError(undecodable)
    return response.json()


def _retry_after(response: httpx.Response) -> float:
    """The server's Retry-After in seconds (0 when absent or given as a date), capped."""
    try:
        seconds = float(response.headers.get("Retry-After", 0))
    except ValueError:
        return 0.0
    return min(seconds, MAX_RETRY_AFTER) if seconds > 0 else 0.0
