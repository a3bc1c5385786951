import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from discovery import Campaign, CampaignStore
from discovery.exceptions import AccessRefused, ConfigurationError, TransientError
from discovery.oracles.http import UNREADABLE_POLLS, HttpOracle, JobSchema
from discovery.space import Candidate
from simulators.lab import Faults, Lab, crossed_barrel_measure
from simulators.lab_server import LabServer
from tests.oracles.conformance import check_oracle, wait_for
from tests.oracles.lab_checks import check_nothing_lost_or_run_twice, restart_when_busy
from tests.oracles.network import Proxy
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


def test_a_gateway_whose_lab_server_restarts_does_not_fail_the_jobs_in_flight():
    # a reverse proxy answers 502 while the lab server behind it restarts: no answer from
    # the lab, whose jobs run on, so the job keeps its state for patience seconds
    running = (200, {"status": "running"}, {})
    done = (200, {"status": "succeeded", "result": {"y": 2}}, {})
    bad_gateway = (502, {"error": "upstream connect error"}, {})
    script = {**HEALTHY, ("GET", "/jobs/a"): [running, bad_gateway, bad_gateway, done]}
    with ScriptedServer(script) as server:
        oracle = HttpOracle(server.url, "t", retries=0, patience=30.0)
        handle = {"job_id": "a", "idempotency_key": "k"}
        states = [oracle.poll(handle).state for _ in range(4)]
    assert states == ["running", "running", "running", "succeeded"]
    script = {**HEALTHY, ("GET", "/jobs/a"): [(504, {"error": "gateway timeout"}, {})]}
    with ScriptedServer(script) as server:
        oracle = HttpOracle(server.url, "t", retries=0, patience=0.0)
        with pytest.raises(TransientError, match=r"unreachable for .* HTTP 504"):
            oracle.poll({"job_id": "a", "idempotency_key": "k"})


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
    whole answer's 6 s: the timeout bounded each read, not the request. (patience=0: a
    timed-out poll is not taken as an outage to wait out.)"""
    with TricklingServer(pause=0.1) as server:
        oracle = HttpOracle(
            server.url, "t", timeout=0.5, retries=1, backoff=0.01, check=False, patience=0
        )
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


def proxied(server: LabServer) -> Proxy:
    """A network between the oracle and the lab that can be cut."""
    return Proxy(server.server.server_address[1])


def test_an_outage_shorter_than_patience_keeps_the_job_and_its_result():
    """Before: every poll while the network was cut raised TransientError after the
    request's retries (0.7 s by default), though the lab went on with the job."""
    lab = doubling_lab(stations=1, run_seconds=0.2)
    with LabServer(lab, "t") as server, proxied(server) as network:
        url = f"http://127.0.0.1:{network.port}"
        oracle = HttpOracle(url, "t", retries=1, backoff=0.01, patience=5.0)
        handle = oracle.submit(Candidate("a", {"x": 1}, "k"))
        network.cut()
        during = [oracle.poll(handle).state for _ in range(3)]
        time.sleep(0.3)  # the lab finishes the job meanwhile
        network.restore()
        status = oracle.poll(handle)
    assert set(during) <= {"queued", "running"}
    assert status.state == "succeeded" and status.result == {"y": 2}


def test_an_outage_longer_than_patience_fails_the_attempt_naming_the_address():
    lab = doubling_lab(stations=1, run_seconds=5.0)
    with LabServer(lab, "t") as server, proxied(server) as network:
        url = f"http://127.0.0.1:{network.port}"
        oracle = HttpOracle(url, "t", retries=1, backoff=0.01, patience=0.3)
        handle = oracle.submit(Candidate("a", {"x": 1}, "k"))
        assert oracle.poll(handle).state == "running"
        network.cut()
        assert oracle.poll(handle).state == "running"  # as last answered
        time.sleep(0.35)
        with pytest.raises(TransientError, match=rf"{url} unreachable for 0\.[3-9] s"):
            oracle.poll(handle)


def test_a_campaign_keeps_the_results_a_lab_produced_during_an_outage():
    """Before: a 2 s outage with four experiments running at the lab failed all four
    (each poll and resubmission transient, three retries spent in 0.1 s)."""
    pool = load("crossed_barrel").load_pool()
    lab = Lab(crossed_barrel_measure(), stations=4, run_seconds=1.0)
    with LabServer(lab, "t") as server, proxied(server) as network:
        oracle = HttpOracle(f"http://127.0.0.1:{network.port}", "t", retries=1, backoff=0.01)
        handles, submit = [], oracle.submit
        oracle.submit = lambda candidate: handles.append(submit(candidate)) or handles[-1]

        def outage() -> None:
            while len(handles) < 4:  # the cut loses no submission's answer
                time.sleep(0.005)
            network.cut()
            time.sleep(2.0)
            network.restore()

        cutter = threading.Thread(target=outage, daemon=True)
        cutter.start()
        campaign = Campaign(pool, oracle, "toughness", surrogate="forest", budget=4,
                            n_initial=4, max_in_flight=4, retry_backoff=0.01)  # fmt: skip
        result = campaign.run(progress=False)
        cutter.join(timeout=5)
    assert list(result.history["state"]) == ["succeeded"] * 4
    measured = {run["idempotency_key"]: run["result"]["toughness"] for run in lab.log}
    recorded = result.history.set_index("idempotency_key")["toughness"].to_dict()
    assert recorded == measured


def test_a_token_that_expires_stops_the_campaign_and_a_renewed_one_resumes_it(tmp_path):
    """Before: every request after the expiry failed its job as a configuration failure
    at once, the rest of the budget was spent in a second, and experiments the lab
    finished were recorded failed."""
    pool, store = load("crossed_barrel").load_pool(), tmp_path / "lab.sqlite"
    lab = Lab(crossed_barrel_measure(), stations=4, run_seconds=0.1)

    def campaign(token: str) -> Campaign:
        return Campaign(pool, HttpOracle(server.url, token), "toughness", surrogate="forest",
                        budget=12, max_in_flight=4, poll_interval=0.01, store=store)  # fmt: skip

    with LabServer(lab, "old") as server:
        renewal = restart_when_busy(lab, 4, lambda: setattr(server, "token", "new"))
        with pytest.raises(AccessRefused, match=r"refused the token \(HTTP 403.*renew") as caught:
            campaign("old").run(progress=False)
        renewal.join(timeout=5)
        stopped = CampaignStore(store, read_only=True)
        jobs, attempts = stopped.jobs(), stopped.attempts()
        stopped.close()
        result = campaign("new").run(progress=False)
    assert "\n" not in str(caught.value)
    assert {job.state for job in jobs} <= {"created", "submitted", "succeeded"}
    assert attempts.empty  # nothing recorded as a failure
    in_flight = [job for job in jobs if job.state == "submitted"]
    assert in_flight and all(job.handle for job in in_flight)
    assert len(result.history) == 12 and set(result.history["state"]) == {"succeeded"}
    measured = {run["idempotency_key"]: run["result"]["toughness"] for run in lab.log}
    assert result.history.set_index("idempotency_key")["toughness"].to_dict() == measured
    created = [s["idempotency_key"] for s in lab.submissions if s["created"]]
    assert len(created) == len(set(created)) == 12  # the jobs in flight were polled again


def test_a_status_answer_that_does_not_decompress_is_asked_again():
    """Before: a body declared gzip that was not failed the job at once (DecodingError)."""
    garbled = (200, {"status": "running"}, {"Content-Encoding": "gzip"})
    done = (200, {"status": "succeeded", "result": {"y": 2}}, {})
    script = {("GET", "/jobs/a"): [garbled, done], ("GET", "/jobs/b"): [garbled]}
    with ScriptedServer(script) as server:
        oracle = HttpOracle(server.url, "t", retries=0, check=False)
        first, second = (oracle.poll({"job_id": "a", "idempotency_key": "k"}) for _ in range(2))
        always = [oracle.poll({"job_id": "b", "idempotency_key": "k"}) for _ in range(5)]
    assert first.state == "running"
    assert second.state == "succeeded" and second.result == {"y": 2}
    assert [s.state for s in always] == ["running"] * (UNREADABLE_POLLS - 1) + ["failed"]
    assert always[-1].error_class == "instrument"
    assert "declared gzip does not decompress" in always[-1].error


def test_a_status_answer_about_another_job_is_not_taken_for_this_one():
    """Before: the answer of job 999 to a poll of job 'a' was stored as a's result."""
    other = (200, {"id": "999", "status": "succeeded", "result": {"y": 123}}, {})
    own = (200, {"id": 7, "status": "succeeded", "result": {"y": 2}}, {})  # a number: same id
    script = {("GET", "/jobs/a"): [other], ("GET", "/jobs/7"): [own]}
    with ScriptedServer(script) as server:
        oracle = HttpOracle(server.url, "t", retries=0, check=False)
        answers = [oracle.poll({"job_id": "a", "idempotency_key": "k"}) for _ in range(5)]
        assert oracle.poll({"job_id": "7", "idempotency_key": "k"}).result == {"y": 2}
    assert [s.state for s in answers] == ["running"] * (UNREADABLE_POLLS - 1) + ["failed"]
    assert "about job 999, not job a" in answers[-1].error
