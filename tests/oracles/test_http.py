import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from discovery import Campaign
from discovery.exceptions import ConfigurationError, TransientError
from discovery.oracles.http import HttpOracle, JobSchema
from discovery.space import Candidate
from simulators.lab import Faults, Lab, crossed_barrel_measure
from simulators.lab_server import LabServer
from tests.oracles.conformance import check_oracle, wait_for
from tests.oracles.lab_checks import check_nothing_lost_or_run_twice, restart_when_busy
from tests.test_campaigns import load


def doubling_lab(**options) -> Lab:
    return Lab(lambda parameters: {"y": parameters["x"] * 2}, **options)


def test_http_oracle_conformance():
    with LabServer(doubling_lab(run_seconds=0.01), "t") as server:
        check_oracle(HttpOracle(server.url, "t"), Candidate("a", {"x": 1.5}, "key-a"), "y")


@pytest.mark.parametrize(("token", "message"), [(None, "HTTP 401"), ("wrong", "HTTP 403")])
def test_a_missing_or_wrong_token_is_one_line_at_construction(token, message):
    with LabServer(doubling_lab(), "secret") as server:
        with pytest.raises(ConfigurationError, match=f"refused the token \\({message}") as caught:
            HttpOracle(server.url, token)
    assert "\n" not in str(caught.value)


def test_an_unreachable_server_is_a_clear_error_after_a_short_timeout():
    started = time.monotonic()
    with pytest.raises(ConfigurationError, match="not reachable"):
        HttpOracle("http://127.0.0.1:9", "t", timeout=0.5, retries=1, backoff=0.05)
    assert time.monotonic() - started < 3


def test_a_malformed_answer_fails_the_job_as_an_instrument_failure_with_the_payload():
    with LabServer(doubling_lab(run_seconds=0.0, faults=Faults(malformed=1.0)), "t") as server:
        oracle = HttpOracle(server.url, "t")
        status = wait_for(oracle, oracle.submit(Candidate("a", {"x": 1}, "k")))
    assert status.state == "failed" and status.error_class == "instrument"
    assert '"status": ' in status.error  # the raw payload is kept


def test_a_job_the_server_forgot_is_lost():
    lab = doubling_lab(stations=1, run_seconds=5.0)
    with LabServer(lab, "t") as server:
        oracle = HttpOracle(server.url, "t")
        handle = oracle.submit(Candidate("a", {"x": 1}, "k"))
        lab.restart()
        assert oracle.poll(handle).state == "lost"


def test_another_schema_is_a_matter_of_field_names():
    schema = JobSchema(parameters_field="parameters", extra={"protocol": "synthesis-v2"})
    with LabServer(doubling_lab(run_seconds=0.0), "t") as server:
        oracle = HttpOracle(server.url, "t", schema=schema)
        oracle.submit(Candidate("a", {"x": 3}, "k"))
    assert server.lab.jobs  # the extra field rides along without disturbing the server


def test_a_campaign_survives_a_misbehaving_lab_with_nothing_lost_or_run_twice(tmp_path):
    pool = load("crossed_barrel").load_pool()
    faults = Faults(unavailable=0.10, instrument=0.02, malformed=0.02)
    lab = Lab(
        crossed_barrel_measure(),
        stations=4,
        run_seconds=0.03,
        faults=faults,
        seed=3,
    )
    with LabServer(lab, "secret") as server:
        restarter = restart_when_busy(lab, 40, lab.restart)
        campaign = Campaign(
            pool,
            HttpOracle(server.url, "secret", backoff=0.01),
            "toughness",
            surrogate="forest",
            budget=100,
            max_in_flight=4,
            retry_backoff=0.01,
            poll_interval=0.01,
            store=tmp_path / "lab.sqlite",
        )
        result = campaign.run(progress=False)
        restarter.join(timeout=5)
    assert len(result.history) == 100
    check_nothing_lost_or_run_twice(tmp_path / "lab.sqlite", lab, "toughness")


class ScriptedServer:
    """An HTTP server answering each (method, path) from a script, for answers the lab
    simulator does not give; the last answer of a script repeats."""

    def __init__(self, script: dict[tuple[str, str], list[tuple[int, dict, dict]]]) -> None:
        answers = {key: list(value) for key, value in script.items()}

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                return

            def answer(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                queue = answers.get((self.command, self.path), [(404, {}, {})])
                code, body, headers = queue.pop(0) if len(queue) > 1 else queue[0]
                data = json.dumps(body).encode()
                self.send_response(code)
                for name, value in {**headers, "Content-Length": str(len(data))}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_DELETE = answer

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> "ScriptedServer":
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


HEALTHY = {("GET", "/health"): [(200, {"status": "ok"}, {})]}


def test_a_wrong_address_is_one_line_at_construction():
    lab = doubling_lab()
    with LabServer(lab, "t") as server:
        wrong = f"{server.url}/api/v1"  # the lab lives at the root
        expected = re.escape(f"{wrong}/health answered HTTP 404")
        with pytest.raises(ConfigurationError, match=expected) as caught:
            HttpOracle(wrong, "t", retries=0)
    assert "\n" not in str(caught.value)
    assert lab.submissions == []  # nothing was spent


def test_a_redirect_is_one_line_at_construction_naming_where_it_points():
    moved = {("GET", "/health"): [(301, {}, {"Location": "https://lab.example.org/health"})]}
    with ScriptedServer(moved) as server:
        with pytest.raises(ConfigurationError, match=r"HTTP 301.*https://lab\.example\.org/health"):
            HttpOracle(server.url, "t")


def test_a_jobs_path_the_server_lacks_is_a_configuration_failure():
    with LabServer(doubling_lab(), "t") as server:
        oracle = HttpOracle(server.url, "t", schema=JobSchema(jobs_path="/runs"), retries=0)
        with pytest.raises(ConfigurationError, match=r"POST .*/runs answered HTTP 404"):
            oracle.submit(Candidate("a", {"x": 1}, "k"))


@pytest.mark.parametrize(
    ("code", "headers"), [(429, {"Retry-After": "1"}), (408, {}), (503, {"Retry-After": "1"})]
)
def test_a_busy_or_rate_limiting_server_is_asked_again_after_the_time_it_asks_for(code, headers):
    done = (200, {"status": "succeeded", "result": {"y": 2}}, {})
    script = {**HEALTHY, ("GET", "/jobs/a"): [(code, {"error": "later"}, headers), done]}
    with ScriptedServer(script) as server:
        oracle = HttpOracle(server.url, "t", retries=1, backoff=0.01)
        started = time.monotonic()
        status = oracle.poll({"job_id": "a", "idempotency_key": "k"})
    assert status.state == "succeeded" and status.result == {"y": 2}
    assert time.monotonic() - started >= float(headers.get("Retry-After", 0))


def test_a_method_the_server_does_not_implement_is_a_configuration_error_not_retried():
    script = {**HEALTHY, ("DELETE", "/jobs/a"): [(501, {"error": "no cancelling here"}, {})]}
    with ScriptedServer(script) as server:
        oracle = HttpOracle(server.url, "t", retries=3, backoff=5.0)
        started = time.monotonic()
        with pytest.raises(ConfigurationError, match="DELETE /jobs/a answered HTTP 501"):
            oracle.cancel({"job_id": "a", "idempotency_key": "k"})
    assert time.monotonic() - started < 5.0  # asked once: no backoff for what cannot change


def test_rate_limiting_that_outlasts_the_retries_is_transient():
    script = {**HEALTHY, ("GET", "/jobs/a"): [(429, {"error": "slow down"}, {})]}
    with ScriptedServer(script) as server:
        oracle = HttpOracle(server.url, "t", retries=1, backoff=0.01)
        with pytest.raises(TransientError, match="HTTP 429"):
            oracle.poll({"job_id": "a", "idempotency_key": "k"})


def test_a_garbled_status_answer_is_asked_again_and_the_result_kept():
    lab = doubling_lab(run_seconds=0.0)
    with LabServer(lab, "t") as server:
        oracle = HttpOracle(server.url, "t")
        handle = oracle.submit(Candidate("a", {"x": 1}, "k"))
        while lab.jobs[handle["job_id"]]["status"] != "succeeded":
            time.sleep(0.01)
        lab.faults = Faults(malformed=1.0)
        garbled = [oracle.poll(handle).state for _ in range(2)]
        lab.faults = Faults()
        status = oracle.poll(handle)
    assert garbled == ["running", "running"]
    assert status.state == "succeeded" and status.result == {"y": 2}


class TricklingServer(ScriptedServer):
    """A server that sends its status answer one byte every ``pause`` seconds."""

    def __init__(self, pause: float) -> None:
        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                return

            def do_GET(self) -> None:
                data = json.dumps({"status": "running", "padding": " " * 40}).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                try:
                    for byte in data:
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                        time.sleep(pause)
                except OSError:  # the client gave up, as it should
                    return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


def test_a_server_that_trickles_its_answer_is_cut_off_after_the_timeout():
    """Before: with timeout=0.5 a poll of a server sending a byte every 0.1 s took the
    whole answer's 6 s: the timeout bounded each read, not the request."""
    with TricklingServer(pause=0.1) as server:
        oracle = HttpOracle(server.url, "t", timeout=0.5, retries=1, backoff=0.01, check=False)
        started = time.monotonic()
        with pytest.raises(TransientError, match=r"failed 2 times: ReadTimeout: .*within 0\.5 s"):
            oracle.poll({"job_id": "a", "idempotency_key": "k"})
    assert time.monotonic() - started < 3.0


def test_a_job_id_with_characters_reserved_in_addresses_is_escaped():
    """Before: the job 'run#1/a' was asked for at /jobs/run (the rest read as a fragment)
    and came back lost."""
    done = (200, {"status": "succeeded", "result": {"y": 2}}, {})
    refused = (501, {"error": "no cancelling here"}, {})
    script = {("GET", "/jobs/run%231%2Fa"): [done], ("DELETE", "/jobs/run%231%2Fa"): [refused]}
    with ScriptedServer(script) as server:
        oracle = HttpOracle(server.url, "t", retries=0, check=False)
        handle = {"job_id": "run#1/a", "idempotency_key": "k"}
        assert oracle.poll(handle).result == {"y": 2}
        with pytest.raises(ConfigurationError, match="DELETE /jobs/run%231%2Fa answered HTTP 501"):
            oracle.cancel(handle)  # the script answers only the escaped address


def test_a_lab_queue_does_not_count_towards_the_deadline():
    """Before: with one station (0.3 s a run), three jobs at the lab and deadline=0.5 s,
    the jobs waiting in the lab's queue timed out."""
    pool = load("crossed_barrel").load_pool()
    lab = Lab(crossed_barrel_measure(), stations=1, run_seconds=0.3)
    with LabServer(lab, "t") as server:
        campaign = Campaign(pool, HttpOracle(server.url, "t"), "toughness", surrogate="forest",
                            budget=4, n_initial=4, max_in_flight=3, deadline=0.5,
                            poll_interval=0.02)  # fmt: skip
        result = campaign.run(progress=False)
    assert list(result.history["state"]) == ["succeeded"] * 4
