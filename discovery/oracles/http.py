"""An oracle for lab robots and instrument servers that speak an HTTP/JSON job API.

Default schema (see README, "Connecting your instrument"):
    POST   {base}/jobs       body {"parameters": {...}, "idempotency_key": key} -> {"id": ...}
    GET    {base}/jobs/{id}  -> {"status": "queued|running|succeeded|failed|cancelled",
                                 "result": {...}, "error": "..."}
    DELETE {base}/jobs/{id}  cancels
    GET    {base}/health     checked once at construction (reachability and token)

Every submission carries the job's idempotency key from the store, so a
submission repeated after a dropped connection or a crash runs the experiment
once. Connection errors and 5xx answers are retried with backoff and then
reported as transient (the campaign retries the job under the same key); 401 and
403 are configuration errors; 404 for a known job means the server forgot it
(lost); an answer that cannot be read fails that job as an instrument failure
with the raw payload recorded.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from discovery.exceptions import ConfigurationError, TransientError
from discovery.oracles.base import FAILED, LOST, Handle, Status
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
        timeout: seconds per request, and to reach the server at construction.
        retries: attempts per request on connection errors and 5xx, with backoff.
        backoff: seconds before the first retry, doubled each time.
        check: ask ``schema.health_path`` at construction.

    Raises:
        ConfigurationError: the server cannot be reached, or refuses the token.
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
        self.retries, self.backoff = retries, backoff
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.client = httpx.Client(
            base_url=self.base_url, headers=headers, verify=verify, timeout=timeout
        )
        self.name = f"http:{self.base_url}"
        if check and self.schema.health_path:
            try:
                self._request("GET", self.schema.health_path)
            except TransientError as error:
                raise ConfigurationError(
                    f"http oracle: server {self.base_url} not reachable ({error})"
                ) from None

    def _request(self, method: str, path: str, **options: Any) -> httpx.Response:
        """One request, retried on connection errors and 5xx; 401/403 and other 4xx
        but 404 raise ConfigurationError; 404 is returned for the caller to judge."""
        last = ""
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.backoff * 2 ** (attempt - 1))
            try:
                response = self.client.request(method, path, **options)
            except httpx.TransportError as error:
                last = f"{type(error).__name__}: {error}"
                continue
            if response.status_code >= 500:
                last = f"HTTP {response.status_code}: {response.text[:200]}"
                continue
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

    def submit(self, candidate: Candidate) -> Handle:
        """POST the candidate's parameters under its idempotency key; the server's job id."""
        schema = self.schema
        body = {**schema.extra, schema.parameters_field: candidate.parameters}
        if candidate.idempotency_key is not None:
            body[schema.key_field] = candidate.idempotency_key
        response = self._request("POST", schema.jobs_path, json=body)
        try:
            job_id = response.json()[schema.id_field]
        except (ValueError, KeyError, TypeError):
            raise TransientError(f"submit: unreadable answer {response.text[:200]!r}") from None
        return {"job_id": str(job_id), "idempotency_key": candidate.idempotency_key}

    def poll(self, handle: Handle) -> Status:
        """GET the job and translate its status; an unreadable answer fails as instrument."""
        schema = self.schema
        response = self._request("GET", f"{schema.jobs_path}/{handle['job_id']}")
        if response.status_code == 404:
            return Status(LOST, error=f"the server no longer knows job {handle['job_id']}")
        try:
            payload = response.json()
            state = STATE_NAMES[str(payload[schema.status_field]).lower()]
            result = payload.get(schema.result_field) or {}
            if state == "succeeded" and not isinstance(result, dict):
                raise TypeError("result is not an object")
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            return Status(
                FAILED,
                error=f"unreadable answer ({type(error).__name__}: {error}): {response.text[:500]}",
                error_class="instrument",
            )
        if state == "failed":
            return Status(
                FAILED, error=str(payload.get(schema.error_field)), error_class="instrument"
            )
        return Status(state, result=result if state == "succeeded" else {})

    def cancel(self, handle: Handle) -> None:
        """DELETE the job."""
        self._request("DELETE", f"{self.schema.jobs_path}/{handle['job_id']}")

    def close(self) -> None:
        """Close the connection pool."""
        self.client.close()
