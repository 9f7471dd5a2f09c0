"""A published test issue's lineage against the sandbox Jira: its story, the workflow revision it was written from,
its path on a small diagram, and whether it is current, outdated or obsolete (docs/jira.md)."""

from __future__ import annotations

import copy
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from starlette.testclient import TestClient

from builders import standalone_app
from flowcase.jira.publish import TEST_PROPERTY
from flowcase.sandbox.testing import RunningSandbox

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
TOKEN = "lineage-test-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
STORY = "DEMO-4"


pytestmark = pytest.mark.sandbox(setup=True)  # the shared `sb` fixture (conftest.py): a site set up for publishing


@pytest.fixture(scope="module")
def client(sb: RunningSandbox) -> Iterator[TestClient]:
    with TestClient(standalone_app(TOKEN, sb, save_settle_seconds=0.05)) as c:
        yield c


def model() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((EXAMPLES / "password-reset.yaml").read_text())
    return data


def save(client: TestClient, doc: dict[str, Any]) -> int:
    current = client.get(f"/api/models/{STORY}", headers=AUTH).json()
    r = client.put(f"/api/models/{STORY}", json={"doc": {"model": doc}, "revision": current["revision"]}, headers=AUTH)
    assert r.status_code == 200, r.text
    return int(r.json()["revision"])


def publish(client: TestClient, doc: dict[str, Any]) -> dict[str, Any]:
    job = client.post("/api/publish", json={"issueKey": STORY, "doc": {"model": doc}}, headers=AUTH).json()
    deadline = time.time() + 30
    while job["state"] in ("queued", "running"):
        assert time.time() < deadline
        time.sleep(0.1)
        job = client.get(f"/api/publish/{job['id']}", headers=AUTH).json()
    assert job["state"] == "done", job
    return job


def published_keys(sb: RunningSandbox) -> dict[str, str]:
    """test id -> issue key of the story's test issues."""
    r = httpx.get(
        f"{sb.base_url}/rest/api/3/search/jql",
        auth=sb.basic_auth(),
        params={
            "jql": 'project = DEMO AND labels = "flowcase-m-password-reset"',
            "fields": "summary",
            "properties": TEST_PROPERTY,
        },
    )
    return {i["properties"][TEST_PROPERTY]["id"]: i["key"] for i in r.json()["issues"]}


def lineage(client: TestClient, key: str) -> dict[str, Any]:
    r = client.get(f"/api/lineage/{key}", headers=AUTH)
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()
    return data


def test_current_then_outdated_then_obsolete(client: TestClient, sb: RunningSandbox) -> None:
    doc = model()
    first = save(client, doc)
    publish(client, doc)
    keys = published_keys(sb)
    assert len(keys) == 7

    # every test issue names its story and the revision it was written from, and is current
    weak = next(k for t, k in keys.items() if lineage(client, k).get("name", "").startswith("Weak passwords"))
    info = lineage(client, weak)
    assert info["isTest"] and info["story"] == STORY and info["storySummary"]
    assert info["status"] == "current" and info["publishedRevision"] == first == info["currentRevision"]
    # the small diagram highlights its path: the nodes and arrows it passes, nothing else
    svg = info["diagram"]
    assert svg.count('data-tests="t"') >= 5 and "<script" not in svg
    assert 'data-ref="reset/new_password#weak" data-tests="t"' in svg
    assert 'data-ref="reset/new_password#strong" data-tests="t"' not in svg
    assert 'data-ref="reset/sign_in"' in svg and 'data-ref="reset/sign_in" data-tests="t"' not in svg

    # the story's workflow changes the expected result of "weak": that test is outdated, the others still current
    changed = copy.deepcopy(doc)
    node = next(n for n in changed["workflows"][0]["nodes"] if n["id"] == "new_password")
    next(d for d in node["decisions"] if d["id"] == "weak")["expected"] = "The password is refused."
    second = save(client, changed)
    info = lineage(client, weak)
    assert info["status"] == "outdated" and info["publishedRevision"] == first and info["currentRevision"] == second
    others = [lineage(client, k)["status"] for k in keys.values() if k != weak]
    assert others == ["current"] * 6

    # republished: current again, written from the new revision
    publish(client, changed)
    info = lineage(client, weak)
    assert info["status"] == "current" and info["publishedRevision"] == second

    # the row is deleted: the workflow no longer generates the test; once republished it is labelled obsolete,
    # and its diagram still shows the path it had (from the issue's identity)
    dropped = copy.deepcopy(changed)
    node = next(n for n in dropped["workflows"][0]["nodes"] if n["id"] == "new_password")
    node["decisions"] = [d for d in node["decisions"] if d["id"] != "weak"]
    save(client, dropped)
    info = lineage(client, weak)
    assert info["status"] == "obsolete" and "no longer generates" in info["reason"]
    publish(client, dropped)
    info = lineage(client, weak)
    assert info["status"] == "obsolete" and "labelled obsolete" in info["reason"]
    assert 'data-ref="reset/request#known" data-tests="t"' in info["diagram"]


def test_a_story_or_another_issue_is_not_a_test(client: TestClient) -> None:
    assert lineage(client, "DEMO-1") == {"issueKey": "DEMO-1", "isTest": False}
