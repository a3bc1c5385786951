import httpx
import pytest

from simulators.lab import Faults, Lab
from simulators.lab_server import LabServer


def constant_lab(**options) -> Lab:
    return Lab(lambda parameters: {"y": parameters["x"] * 2}, **options)


def test_the_lab_needs_its_token_and_publishes_its_api():
    with LabServer(constant_lab(), "secret") as server:
        assert httpx.get(f"{server.url}/health").status_code == 401
        wrong = {"Authorization": "Bearer nope"}
        assert httpx.get(f"{server.url}/health", headers=wrong).status_code == 403
        spec = httpx.get(f"{server.url}/openapi.json").json()
        assert {"/jobs", "/jobs/{id}", "/health"} <= set(spec["paths"])


def test_a_repeated_idempotency_key_returns_the_same_job_and_runs_once():
    lab = constant_lab(run_seconds=0.01)
    with LabServer(lab, "t") as server:
        client = httpx.Client(base_url=server.url, headers={"Authorization": "Bearer t"})
        body = {"parameters": {"x": 2}, "idempotency_key": "k"}
        first, again = client.post("/jobs", json=body), client.post("/jobs", json=body)
        assert (first.status_code, again.status_code) == (201, 200)
        assert first.json()["id"] == again.json()["id"]
        job = first.json()["id"]
        while client.get(f"/jobs/{job}").json()["status"] != "succeeded":
            pass
        assert client.get(f"/jobs/{job}").json()["result"] == {"y": 4}
    assert [entry["idempotency_key"] for entry in lab.log] == ["k"]


def test_a_restart_forgets_the_queue_but_not_finished_jobs():
    lab = constant_lab(stations=1, run_seconds=0.2)
    done, _ = lab.submit({"x": 1}, "done")
    while lab.jobs[done["id"]]["status"] != "succeeded":
        pass
    waiting, _ = lab.submit({"x": 2}, "waiting")
    lab.restart()
    assert done["id"] in lab.jobs and waiting["id"] not in lab.jobs
    again, created = lab.submit({"x": 2}, "waiting")
    assert created and again["id"] != waiting["id"]


@pytest.mark.parametrize("probability", [0.0, 1.0])
def test_faults_are_injected_as_asked(probability):
    lab = constant_lab(faults=Faults(unavailable=probability))
    with LabServer(lab, "t") as server:
        answer = httpx.get(f"{server.url}/health", headers={"Authorization": "Bearer t"})
    assert answer.status_code == (503 if probability else 200)


def test_injected_faults_are_counted_by_kind():
    lab = constant_lab(faults=Faults(unavailable=1.0))
    with LabServer(lab, "t") as server:
        for _ in range(3):
            httpx.get(f"{server.url}/health", headers={"Authorization": "Bearer t"})
    assert lab.injected == {"unavailable": 3}


@pytest.mark.parametrize(
    ("headers", "faults"),
    [
        ({"Authorization": "Bearer t"}, Faults(unavailable=1.0)),
        ({"Authorization": "Bearer no"}, Faults()),
    ],
)
def test_a_refused_submission_leaves_the_connection_clean_for_the_next_request(headers, faults):
    lab = constant_lab(faults=faults)
    with LabServer(lab, "t") as server:
        client = httpx.Client(base_url=server.url, headers=headers)
        refused = client.post("/jobs", json={"parameters": {"x": 1}, "idempotency_key": "k"})
        lab.faults = Faults()
        after = client.get("/openapi.json")  # the same kept-alive connection
    assert refused.status_code in (503, 403)
    assert after.status_code == 200


def test_the_lab_decodes_a_percent_escaped_job_id():
    """A job id with '#' arrives escaped (run%231), as a client must send it; the lab
    looked up the escaped text and answered 404, a lost job."""
    lab = constant_lab(run_seconds=0.0)
    with LabServer(lab, "t") as server:
        client = httpx.Client(base_url=server.url, headers={"Authorization": "Bearer t"})
        job = client.post("/jobs", json={"parameters": {"x": 2}, "idempotency_key": "k"}).json()
        lab.jobs["run#1"] = dict(lab.jobs[job["id"]], id="run#1")
        assert client.get("/jobs/run%231").status_code == 200
        assert client.delete("/jobs/run%231").status_code != 404
