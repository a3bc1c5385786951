"""A campaign killed with SIGKILL while the lab runs its experiments finds them again."""

import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from discovery import CampaignStore
from discovery.exceptions import ConfigurationError
from simulators.lab import Faults, Lab, crossed_barrel_measure, free_port
from tests.lab_campaign import BUDGET
from tests.test_campaigns import load

ROOT = Path(__file__).resolve().parents[1]


def submitted_jobs(store_path: Path) -> int:
    if not store_path.exists():
        return 0
    try:
        store = CampaignStore(store_path, read_only=True)
    except Exception:  # the campaign is still creating the file
        return 0
    try:
        return sum(job.state == "submitted" for job in store.jobs())
    except Exception:  # tables not there yet
        return 0
    finally:
        store.close()


def read_jobs(store_path: Path):
    store = CampaignStore(store_path, read_only=True)
    try:
        return store.jobs()
    finally:
        store.close()


def kill_and_resume(arguments: list[str], store: Path) -> set[str]:
    """Run the campaign, SIGKILL it with jobs at the lab, run it again to the end;
    the idempotency keys that were in flight at the kill."""
    script = str(ROOT / "tests" / "lab_campaign.py")
    command = [sys.executable, script, *arguments[:3], str(store), *arguments[3:]]
    first = subprocess.Popen(command, cwd=ROOT)
    deadline = time.monotonic() + 60
    while submitted_jobs(store) < 4 and time.monotonic() < deadline:
        time.sleep(0.02)
    first.send_signal(signal.SIGKILL)
    first.wait()
    # never more than K = 4 at the lab: the fifth initial experiment waits (created, not
    # submitted) for a free slot, and the resumed run sends it
    in_flight = {job.idempotency_key for job in read_jobs(store) if job.state == "submitted"}
    assert len(in_flight) == 4
    subprocess.run(command, cwd=ROOT, check=True, timeout=120)
    return in_flight


def check_nothing_ran_twice(log: dict, in_flight: set[str], store: Path) -> None:
    created = [s["idempotency_key"] for s in log["submissions"] if s["created"]]
    assert len(created) == len(set(created)) == BUDGET  # every job submitted once
    resent = [s["idempotency_key"] for s in log["submissions"] if not s["created"]]
    assert not set(resent) & in_flight  # the four were polled, not submitted again
    runs = [r["idempotency_key"] for r in log["runs"]]
    assert len(runs) == len(set(runs)) == BUDGET
    jobs = read_jobs(store)
    assert len(jobs) == BUDGET and all(job.state == "succeeded" for job in jobs)


def test_a_killed_campaign_polls_its_jobs_at_the_lab_and_submits_nothing_twice(tmp_path):
    port, token, store = free_port(), "secret", tmp_path / "lab.sqlite"
    lab = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "simulators.lab_server",
            "--port",
            str(port),
            "--token",
            token,
            "--stations",
            "4",
            "--run-seconds",
            "1.5",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert "listening" in lab.stdout.readline()
        url = f"http://127.0.0.1:{port}"
        in_flight = kill_and_resume(["http", url, token], store)
        log = httpx.get(f"{url}/log", headers={"Authorization": f"Bearer {token}"}).json()
    finally:
        lab.kill()
    check_nothing_ran_twice(log, in_flight, store)


@pytest.mark.slow  # end to end, 9-18 s; the same invariant stays in the default run
def test_a_killed_campaign_finds_its_executions_on_a_sila_instrument(tmp_path):
    pytest.importorskip("sila2")
    from simulators.sila_server import SilaLabServer

    lab = Lab(crossed_barrel_measure(), stations=4, run_seconds=1.5, faults=Faults())
    with SilaLabServer(lab, "secret") as server:
        ca = tmp_path / "lab-ca.pem"
        ca.write_bytes(server.ca)
        address = f"{server.host}:{server.port}"
        in_flight = kill_and_resume(["sila", address, "secret", str(ca)], tmp_path / "lab.sqlite")
    log = {"submissions": lab.submissions, "runs": lab.log}
    check_nothing_ran_twice(log, in_flight, tmp_path / "lab.sqlite")


@pytest.mark.parametrize("address", ["localhost", "localhost:port", ":50052"])
def test_a_sila_lab_address_that_is_not_host_and_port_is_named(monkeypatch, address):
    """Before: LAB_SILA=localhost stopped the campaign file with 'ValueError: not enough
    values to unpack (expected 2, got 1)'."""
    pytest.importorskip("sila2")
    monkeypatch.setenv("LAB_PROTOCOL", "sila")
    monkeypatch.setenv("LAB_SILA", address)
    expected = rf"LAB_SILA must be host:port, e\.g\. .*, got '{address}'$"
    with pytest.raises(ConfigurationError, match=expected):
        load("lab_robot").make_campaign()
