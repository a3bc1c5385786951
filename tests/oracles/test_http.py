import time

import pytest

from discovery import Campaign
from discovery.exceptions import ConfigurationError
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
