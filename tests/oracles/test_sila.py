import threading
import time

import pytest

pytest.importorskip("sila2")

from sila2.framework import SilaConnectionError

from discovery import Campaign
from discovery.exceptions import AccessRefused, ConfigurationError, TransientError
from discovery.oracles.sila import SilaOracle, SilaSchema
from discovery.space import Candidate
from simulators.lab import Faults, Lab, crossed_barrel_measure
from simulators.sila_server import SilaLabServer
from tests.oracles.conformance import check_oracle, wait_for
from tests.oracles.lab_checks import check_nothing_lost_or_run_twice, restart_when_busy
from tests.oracles.network import Proxy
from tests.test_campaigns import load


def doubling_lab(**options) -> Lab:
    return Lab(lambda parameters: {"y": parameters["x"] * 2}, **options)


def connect(server: SilaLabServer, token: str | None = "t", **options) -> SilaOracle:
    return SilaOracle(server.host, server.port, token, root_certs=server.ca, **options)


def test_sila_oracle_conformance_over_tls():
    with SilaLabServer(doubling_lab(run_seconds=0.01), "t") as server:
        check_oracle(connect(server), Candidate("a", {"x": 1.5}, "key-a"), "y")


def test_sila_oracle_conformance_without_tls():
    with SilaLabServer(doubling_lab(run_seconds=0.01), "t", insecure=True) as server:
        oracle = SilaOracle(server.host, server.port, "t", insecure=True)
        check_oracle(oracle, Candidate("a", {"x": 1.5}, "key-a"), "y")


@pytest.mark.parametrize(
    ("token", "message"),
    [(None, "needs an access token"), ("wrong", "refused the token \\(InvalidAccessToken")],
)
def test_a_missing_or_wrong_token_is_one_line_at_construction(token, message):
    lab = doubling_lab()
    with SilaLabServer(lab, "secret") as server:
        with pytest.raises(ConfigurationError, match=message) as caught:
            connect(server, token)
    assert "\n" not in str(caught.value)
    assert lab.submissions == []  # nothing was spent


def test_an_unreachable_server_is_a_clear_error_after_a_short_timeout():
    started = time.monotonic()
    with pytest.raises(ConfigurationError, match=r"not reachable within 0\.5 s"):
        SilaOracle("127.0.0.1", 9, "t", timeout=0.5)
    assert time.monotonic() - started < 3


def test_a_server_whose_certificate_is_not_trusted_is_refused():
    stranger = SilaLabServer(doubling_lab(), "t")  # never started: only its certificate
    with SilaLabServer(doubling_lab(), "t") as server:
        with pytest.raises(ConfigurationError, match="certificate"):
            SilaOracle(server.host, server.port, "t", root_certs=stranger.ca, timeout=0.5)


def test_a_feature_the_server_lacks_is_named_with_what_it_offers():
    with SilaLabServer(doubling_lab(), "t") as server:
        with pytest.raises(ConfigurationError, match=r"no feature 'Pipetting'.*ExperimentService"):
            connect(server, schema=SilaSchema(feature="Pipetting"))


def test_a_property_the_feature_lacks_is_named_with_what_it_has():
    with SilaLabServer(doubling_lab(), "t") as server:
        with pytest.raises(ConfigurationError, match=r"no property 'StationCont'.*StationCount"):
            connect(server, schema=SilaSchema(check="StationCont"))


def test_progress_is_reported_while_an_experiment_runs():
    with SilaLabServer(doubling_lab(stations=1, run_seconds=0.5), "t") as server:
        oracle = connect(server)
        handle = oracle.submit(Candidate("a", {"x": 1}, "k"))
        time.sleep(0.25)
        status = oracle.poll(handle)
    assert status.state == "running" and 0.2 < status.progress < 0.9


def test_an_instrument_fault_fails_the_job_with_its_message():
    with SilaLabServer(doubling_lab(run_seconds=0.0, faults=Faults(instrument=1.0)), "t") as server:
        oracle = connect(server)
        status = wait_for(oracle, oracle.submit(Candidate("a", {"x": 1}, "k")))
    assert status.state == "failed" and status.error_class == "instrument"
    assert status.error == "InstrumentFault: instrument fault mid-run"


def test_a_malformed_result_fails_the_job_as_an_instrument_failure_with_the_payload():
    with SilaLabServer(doubling_lab(run_seconds=0.0, faults=Faults(malformed=1.0)), "t") as server:
        oracle = connect(server)
        status = wait_for(oracle, oracle.submit(Candidate("a", {"x": 1}, "k")))
    assert status.state == "failed" and status.error_class == "instrument"
    assert "Result='{\"y\"'" in status.error  # the raw responses are kept


def test_an_execution_the_instrument_did_not_accept_is_transient():
    lab = doubling_lab(run_seconds=0.0, faults=Faults(unavailable=1.0))
    with SilaLabServer(lab, "t") as server:
        oracle = connect(server)
        handle = oracle.submit(Candidate("a", {"x": 1}, "k"))
        with pytest.raises(TransientError, match="not accepted"):
            wait_for(oracle, handle)
    assert lab.log == []


def test_cancelling_stops_the_experiment():
    lab = doubling_lab(stations=1, run_seconds=0.3)
    with SilaLabServer(lab, "t") as server:
        oracle = connect(server)
        assert oracle.can_cancel
        handle = oracle.submit(Candidate("a", {"x": 1}, "k"))
        oracle.cancel(handle)
        status = wait_for(oracle, handle)
    assert status.state == "cancelled"


def test_a_restart_loses_the_executions_in_flight_but_the_key_runs_once_more():
    lab = doubling_lab(stations=1, run_seconds=0.5)
    with SilaLabServer(lab, "t") as server:
        oracle = connect(server)
        handle = oracle.submit(Candidate("a", {"x": 1}, "k"))
        server.restart()
        assert oracle.poll(handle).state == "lost"
        again = wait_for(oracle, oracle.submit(Candidate("a", {"x": 1}, "k")))
    assert again.result == {"y": 2}
    assert [entry["outcome"] for entry in lab.log] == ["lost in restart", "succeeded"]


def test_an_unreachable_server_keeps_a_job_running_until_patience_runs_out():
    server = SilaLabServer(doubling_lab(stations=1, run_seconds=5.0), "t").__enter__()
    oracle = connect(server, patience=0.3, timeout=0.5)
    handle = oracle.submit(Candidate("a", {"x": 1}, "k"))
    server.server.stop(grace_period=0)
    assert oracle.poll(handle).state == "running"
    time.sleep(0.35)
    with pytest.raises(TransientError, match="unreachable"):
        oracle.poll(handle)


def test_a_campaign_survives_a_restarting_sila_lab_with_nothing_lost_or_run_twice(tmp_path):
    pool = load("crossed_barrel").load_pool()
    faults = Faults(unavailable=0.10, instrument=0.05, malformed=0.05)
    lab = Lab(
        crossed_barrel_measure(),
        stations=4,
        run_seconds=0.05,
        faults=faults,
        seed=3,
    )
    with SilaLabServer(lab, "secret") as server:
        restarter = restart_when_busy(lab, 8, server.restart)
        campaign = Campaign(
            pool,
            connect(server, "secret"),
            "toughness",
            surrogate="forest",
            budget=20,
            max_in_flight=4,
            retry_backoff=0.01,
            poll_interval=0.01,
            store=tmp_path / "sila.sqlite",
        )
        result = campaign.run(progress=False)
        restarter.join(timeout=5)
    assert server.restarts == 1
    assert len(result.history) == 20
    check_nothing_lost_or_run_twice(tmp_path / "sila.sqlite", lab, "toughness")


def within(seconds: float, call):
    """``call()`` on a thread: its value, or its error, provided it ends within ``seconds``."""
    outcome = {}

    def run() -> None:
        try:
            outcome["value"] = call()
        except Exception as error:  # handed to the test
            outcome["error"] = error

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still waiting for the instrument after {seconds} s"
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def test_an_instrument_that_stops_answering_holds_no_call_past_the_timeout(monkeypatch):
    """Before: submit, cancel and the result of a finished execution waited for ever on
    an instrument that kept the connection open and answered nothing."""
    lab = doubling_lab(stations=1, run_seconds=0.0)
    with SilaLabServer(lab, "t", insecure=True) as server, Proxy(server.port) as network:
        oracle = SilaOracle("127.0.0.1", network.port, "t", insecure=True, timeout=0.5)
        handle = oracle.submit(Candidate("a", {"x": 1}, "k"))
        finished = wait_for(oracle, handle)
        assert finished.state == "succeeded"
        # the execution's state as last read, so that only the result call goes unanswered
        info = oracle._execution_info(handle["execution_uuid"])
        monkeypatch.setattr(oracle, "_execution_info", lambda execution: info)
        network.freeze()
        started = time.monotonic()
        polled = within(5, lambda: oracle.poll(handle))
        with pytest.raises(TransientError, match="not reachable"):
            within(5, lambda: oracle.submit(Candidate("b", {"x": 2}, "k2")))
        with pytest.raises(SilaConnectionError):
            within(5, lambda: oracle.cancel(handle))
        waited = time.monotonic() - started
    assert polled.state == "running"  # unreachable, within patience
    assert waited < 4  # 0.5 s a call: one poll, two submissions, one cancel


def test_a_token_refused_after_construction_stops_and_a_renewed_one_sends_the_job_again():
    """Before: the execution refused for its token was an instrument failure of the job."""
    lab = doubling_lab(stations=1, run_seconds=0.0)
    with SilaLabServer(lab, "old") as server:
        oracle = connect(server, "old")
        server.token = "new"  # the old token expires
        handle = oracle.submit(Candidate("a", {"x": 1}, "k"))
        with pytest.raises(
            AccessRefused, match=r"refused the token \(InvalidAccessToken.*renew"
        ) as caught:
            wait_for(oracle, handle)
        renewed = connect(server, "new")
        assert renewed.poll(handle).state == "lost"  # it never ran: sent again under its key
        status = wait_for(renewed, renewed.submit(Candidate("a", {"x": 1}, "k")))
    assert "\n" not in str(caught.value)
    assert status.result == {"y": 2}
    assert [run["outcome"] for run in lab.log] == ["succeeded"]
