"""The web API against the sandbox Jira (standalone host, API-token auth): the model on the story with revision
conflicts, diff against the published tests, publish with progress polling, project listing, settings."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from starlette.testclient import TestClient

from builders import standalone_app
from flowcase.hosts.standalone import JiraSite, StandaloneHost
from flowcase.sandbox.testing import RunningSandbox

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
TOKEN = "jira-api-test-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


pytestmark = pytest.mark.sandbox(setup=True)  # the shared `sb` fixture (conftest.py): a site set up for publishing


@pytest.fixture
def client(sb: RunningSandbox) -> Iterator[TestClient]:
    with TestClient(standalone_app(TOKEN, sb)) as c:
        yield c


def model() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((EXAMPLES / "password-reset.yaml").read_text())
    return data


def wait_for_job(client: TestClient, job: dict[str, Any]) -> dict[str, Any]:
    deadline = time.time() + 30
    seen = [job["state"]]
    while job["state"] in ("queued", "running"):
        assert time.time() < deadline, "publish did not finish"
        time.sleep(0.1)
        job = client.get(f"/api/publish/{job['id']}", headers=AUTH).json()
        seen.append(job["state"])
    return job


def test_save_load_and_conflict(client: TestClient) -> None:
    assert client.get("/api/models/DEMO-3", headers=AUTH).json()["exists"] is False
    first = client.put("/api/models/DEMO-3", json={"doc": {"model": model()}, "revision": None}, headers=AUTH)
    assert first.status_code == 200 and first.json()["revision"] == 1
    loaded = client.get("/api/models/DEMO-3", headers=AUTH).json()
    assert loaded["exists"] and loaded["revision"] == 1 and loaded["model"]["id"] == "password-reset"
    assert "<bpmn:definitions" in loaded["bpmn"] and "reset/request" in loaded["tables"]
    second = client.put(
        "/api/models/DEMO-3", json={"doc": {"model": model(), "name": "v2"}, "revision": 1}, headers=AUTH
    )
    assert second.json()["revision"] == 2
    stale = client.put(
        "/api/models/DEMO-3", json={"doc": {"model": model(), "name": "v3"}, "revision": 1}, headers=AUTH
    )
    assert stale.status_code == 409
    assert stale.json()["error"]["code"] == "conflict" and stale.json()["error"]["revision"] == 2
    assert client.get("/api/models/DEMO-3", headers=AUTH).json()["model"]["name"] == "v2"


def test_unknown_issue_is_a_clear_error(client: TestClient) -> None:
    r = client.put("/api/models/DEMO-999", json={"doc": {"model": model()}, "revision": None}, headers=AUTH)
    assert r.status_code in (403, 404), r.text
    assert r.json()["error"]["message"].startswith("Jira")


def test_diff_publish_and_republish(client: TestClient, sb: RunningSandbox) -> None:
    body = {"issueKey": "DEMO-4", "doc": {"model": model()}}
    before = client.post("/api/diff", json=body, headers=AUTH).json()["diff"]
    assert before["unchanged"] == [] and len(before["new"]) == 7

    job = client.post("/api/publish", json=body, headers=AUTH)
    assert job.status_code == 202
    done = wait_for_job(client, job.json())
    assert done["state"] == "done", done["message"]
    assert done["result"]["created"] == 7 and done["done"] == done["total"]

    after = client.post("/api/diff", json=body, headers=AUTH).json()["diff"]
    assert len(after["unchanged"]) == 7 and after["new"] == [] and all(r["key"] for r in after["unchanged"])

    # change one expected result: one test to update, nothing new
    changed = model()
    changed["workflows"][0]["nodes"][1]["decisions"][0]["expected"] = "A neutral message is shown."
    body2 = {"issueKey": "DEMO-4", "doc": {"model": changed}}
    d2 = client.post("/api/diff", json=body2, headers=AUTH).json()["diff"]
    assert d2["new"] == [] and d2["obsolete"] == [] and len(d2["updated"]) >= 1
    again = wait_for_job(client, client.post("/api/publish", json=body2, headers=AUTH).json())
    assert again["state"] == "done" and again["result"]["created"] == 0
    assert again["result"]["updated"] == len(d2["updated"])

    summary = client.get("/api/models/DEMO-4", headers=AUTH).json()["published"]
    assert summary["status"] == "published" and summary["tests"] == 7


def test_publish_reports_jira_failures(client: TestClient) -> None:
    job = client.post("/api/publish", json={"issueKey": "DEMO-999", "doc": {"model": model()}}, headers=AUTH)
    assert job.status_code == 202
    done = wait_for_job(client, job.json())
    assert done["state"] == "failed"
    assert "DEMO-999" in done["message"]


def test_publish_refuses_an_invalid_model_before_starting(client: TestClient) -> None:
    broken = model()
    broken["workflows"][0]["nodes"][1]["decisions"][0]["when"] = "attempts <"
    r = client.post("/api/publish", json={"issueKey": "DEMO-2", "doc": {"model": broken}}, headers=AUTH)
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid-model"


def test_publish_jobs_are_private_to_their_site(client: TestClient, sb: RunningSandbox) -> None:
    job = client.post("/api/publish", json={"issueKey": "DEMO-3", "doc": {"model": model()}}, headers=AUTH).json()
    other = StandaloneHost(JiraSite("http://127.0.0.1:9", "x@example.com", "t"), "other-token-0123456789")
    client.app.state.hosts.append(other)  # type: ignore[attr-defined]
    try:
        r = client.get(f"/api/publish/{job['id']}", headers={"Authorization": "Bearer other-token-0123456789"})
    finally:
        client.app.state.hosts.remove(other)  # type: ignore[attr-defined]
    assert r.status_code == 404
    wait_for_job(client, job)


def test_project_lists_workflows_from_the_indexed_property(client: TestClient) -> None:
    client.put("/api/models/DEMO-3", json={"doc": {"model": model()}, "revision": None}, headers=AUTH)
    rows = client.get("/api/projects/DEMO/workflows", headers=AUTH).json()["workflows"]
    assert "DEMO-3" in {r["issueKey"] for r in rows}


def test_project_settings_round_trip_and_validation(client: TestClient) -> None:
    bad = client.put("/api/admin/settings?projectKey=DEMO", json={"settings": {"labels": ["has space"]}}, headers=AUTH)
    assert bad.status_code == 422 and "label" in bad.json()["error"]["message"]
    ok = client.put(
        "/api/admin/settings?projectKey=DEMO", json={"settings": {"labels": ["ui"], "issue_type": "Task"}}, headers=AUTH
    )
    assert ok.status_code == 200
    read = client.get("/api/admin/settings?projectKey=DEMO", headers=AUTH).json()["settings"]
    assert read["labels"] == ["ui"] and read["issue_type"] == "Task" and read["target"] == "jira"
    zephyr = client.put("/api/admin/settings?projectKey=DEMO", json={"settings": {"target": "zephyr"}}, headers=AUTH)
    assert zephyr.status_code == 200 and zephyr.json()["settings"]["target"] == "zephyr"
    bad_target = client.put("/api/admin/settings?projectKey=DEMO", json={"settings": {"target": "qtest"}}, headers=AUTH)
    assert bad_target.status_code == 422 and "target" in bad_target.json()["error"]["message"]
    client.put("/api/admin/settings?projectKey=DEMO", json={"settings": {}}, headers=AUTH)


def test_publish_on_a_project_that_is_not_set_up_is_refused_with_the_fix(
    client: TestClient, sb: RunningSandbox
) -> None:
    sb.create_project("NEWP")  # its issue type scheme has no "Test" yet
    created = client.post("/api/publish", json={"issueKey": "NEWP-1", "doc": {"model": model()}}, headers=AUTH)
    assert created.status_code == 409
    error = created.json()["error"]
    assert error["code"] == "not-ready" and "has no issue type 'Test'" in error["message"]
    assert [p["code"] for p in error["readiness"]["problems"]] == ["issue-type-missing"]
    assert error["readiness"]["problems"][0]["setupFixes"] is True

    check = client.get("/api/preflight/NEWP", headers=AUTH).json()
    assert check["ready"] is False and "Task" in check["availableIssueTypes"]
    done = client.post("/api/admin/setup", json={"projectKey": "NEWP"}, headers=AUTH)
    assert done.status_code == 200, done.text
    assert done.json()["actions"] == ["added 'Test' to the issue type scheme of NEWP"]
    assert client.get("/api/preflight/NEWP", headers=AUTH).json()["ready"] is True
