"""An oracle for lab robots and instrument servers that speak an HTTP/JSON job API.

Default schema (see README, "Connecting your instrument"):
    POST   {base}/jobs       body {"parameters": {...}, "idempotency_key": key} -> {"id": ...}
    GET    {base}/jobs/{id}  -> {"status": "queued|running|succeeded|failed|cancelled",
                                 "result": {...}, "error": "..."}
    DELETE {base}/jobs/{id}  cancels
    GET    {base}/health     checked once at construction (reachability and token)

Every submission carries the job's idempotency key from the store, so a
submission repeated after a dropped connection or a crash runs the experiment
once. Connection errors, 5xx (but 501 and 505), 408 and 429 answers are retried with
backoff (or after the server's Retry-After) and then reported as transient (the campaign
retries the job under the same key); 401, 403, 501 and 505 are configuration errors, and
so is a redirect (the address to use instead is named); a health check that
answers anything but 2xx is a configuration error at construction; 404 for a
known job means the server forgot it (lost), 404 for the jobs collection is a
configuration failure; a status answer that cannot be read is asked again (the
idempotency key makes that safe), and only UNREADABLE_POLLS of them in a row fail
that job as an instrument failure with the raw payload recorded.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx

from discovery.exceptions import ConfigurationError, TransientError
from discovery.oracles.base import FAILED, LOST, RUNNING, Handle, Status
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

    Raises:
        ConfigurationError: the server cannot be reached, refuses the token, or its
            health check answers anything but 2xx (a wrong path, a redirect).
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
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ConfigurationError(
                f"http oracle: base_url must start with http(s)://, got {base_url!r}"
            )
        self.base_url = base_url.rstrip("/")
        self.schema = schema or JobSchema()
        self.retries, self.backoff, self.timeout = retries, backoff, timeout
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.client = httpx.Client(
            base_url=self.base_url, headers=headers, verify=verify, timeout=timeout
        )
        self.name = f"http:{self.base_url}"
        self._unreadable: dict[str, int] = {}
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
        """One request, retried on connection errors, 5xx, 408 and 429; a redirect,
        501, 505 and other 4xx but 404 raise ConfigurationError; 404 is returned for
        the caller to judge."""
        last, wait = "", 0.0
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(max(wait, self.backoff * 2 ** (attempt - 1)))
            try:
                response = self._send(method, path, **options)
            except httpx.TransportError as error:
                last, wait = f"{type(error).__name__}: {error}", 0.0
                continue
            if (
                response.status_code >= 500 and response.status_code not in NEVER_RETRIED_CODES
            ) or response.status_code in RETRIED_CODES:
                last = f"HTTP {response.status_code}: {response.text[:200]}"
                wait = _retry_after(response)
                continue
            if response.is_redirect:
                raise ConfigurationError(
                    f"http oracle: {method} {self.base_url}{path} is redirected "
                    f"(HTTP {response.status_code}) to {response.headers.get('Location')!r}; "
                    "give base_url the address the server moved to"
                )
            if response.status_code in (401, 403):
                raise ConfigurationError(
                    f"http oracle: {self.base_url} refused the token "
                    f"(HTTP {response.status_code}: {response.text[:200]})"
                )
            if response.status_code >= 400 and response.status_code != 404:
                raise ConfigurationError(
                    f"http oracle: {method} {path} answered HTTP {response.status_code}: "
                    f"{response.text[:200]}"
                )
            return response
        raise TransientError(
            f"{method} {self.base_url}{path} failed {self.retries + 1} times: {last}"
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
        # As received (still encoded), so that the new response decodes it as httpx would.
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            content=bytes(body),
            request=response.request,
        )

    def _job_path(self, job_id: str) -> str:
        """The job's address, its id escaped: an id may hold '/', '?' or '#'."""
        return f"{self.schema.jobs_path}/{quote(str(job_id), safe='')}"

    def submit(self, candidate: Candidate) -> Handle:
        """POST the candidate's parameters under its idempotency key; the server's job id."""
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
            job_id = response.json()[schema.id_field]
        except (ValueError, KeyError, TypeError):
            raise TransientError(f"submit: unreadable answer {response.text[:200]!r}") from None
        return {"job_id": str(job_id), "idempotency_key": candidate.idempotency_key}

    def poll(self, handle: Handle) -> Status:
        """GET the job and translate its status.

        An unreadable answer is asked again (the job counts as running); only
        ``UNREADABLE_POLLS`` of them in a row fail the job as an instrument failure
        with the raw payload.
        """
        schema, job_id = self.schema, handle["job_id"]
        response = self._request("GET", self._job_path(job_id))
        if response.status_code == 404:
            self._unreadable.pop(job_id, None)
            return Status(LOST, error=f"the server no longer knows job {job_id}")
        try:
            payload = response.json()
            state = STATE_NAMES[str(payload[schema.status_field]).lower()]
            result = payload.get(schema.result_field) or {}
            if state == "succeeded" and not isinstance(result, dict):
                raise TypeError("result is not an object")
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            return self._unreadable_answer(job_id, error, response.text)
        self._unreadable.pop(job_id, None)
        if state == "failed":
            return Status(
                FAILED, error=str(payload.get(schema.error_field)), error_class="instrument"
            )
        return Status(state, result=result if state == "succeeded" else {})

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


def _retry_after(response: httpx.Response) -> float:
    """The server's Retry-After in seconds (0 when absent or given as a date), capped."""
    try:
        seconds = float(response.headers.get("Retry-After", 0))
    except ValueError:
        return 0.0
    return min(seconds, MAX_RETRY_AFTER) if seconds > 0 else 0.0
