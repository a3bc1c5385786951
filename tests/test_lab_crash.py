"""A campaign killed with SIGKILL while the lab runs its experiments finds them again."""

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from discovery import CampaignStore
from tests.lab_campaign import BUDGET

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


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
        command = [sys.executable, str(ROOT / "tests" / "lab_campaign.py"), url, token, str(store)]
        first = subprocess.Popen(command, cwd=ROOT)
        deadline = time.monotonic() + 60
        while submitted_jobs(store) < 4 and time.monotonic() < deadline:
            time.sleep(0.02)
        first.send_signal(signal.SIGKILL)
        first.wait()
        # the initial design (5) may all be at the lab, beyond the 4 kept in flight later
        in_flight = {job.idempotency_key for job in read_jobs(store) if job.state == "submitted"}
        assert len(in_flight) >= 4

        subprocess.run(command, cwd=ROOT, check=True, timeout=120)
        log = httpx.get(f"{url}/log", headers={"Authorization": f"Bearer {token}"}).json()
    finally:
        lab.kill()
    created = [s["idempotency_key"] for s in log["submissions"] if s["created"]]
    assert len(created) == len(set(created)) == BUDGET  # every job submitted once
    resent = [s["idempotency_key"] for s in log["submissions"] if not s["created"]]
    assert not set(resent) & in_flight  # the four were polled, not submitted again
    runs = [r["idempotency_key"] for r in log["runs"]]
    assert len(runs) == len(set(runs)) == BUDGET
    jobs = read_jobs(store)
    assert len(jobs) == BUDGET and all(job.state == "succeeded" for job in jobs)


def read_jobs(store_path: Path):
    store = CampaignStore(store_path, read_only=True)
    try:
        return store.jobs()
    finally:
        store.close()
