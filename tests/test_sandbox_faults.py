"""Fault injection at run time (429 with Retry-After and rate-limit headers, 5xx, latency, dropped connections)
and the call log, seen by real HTTP clients: httpx and flowcase's own JiraClient."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import httpx
import pytest

from flowcase.sandbox.testing import RunningSandbox

ADF = {"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [{"type": "text", "text": "x"}]}]}
STORY = {"fields": {"project": {"key": "DEMO"}, "issuetype": {"name": "Story"}, "summary": "s", "description": ADF}}


@pytest.fixture
def http(sb: RunningSandbox) -> Iterator[httpx.Client]:
    sb.clear_faults()
    sb.clear_calls()
    with httpx.Client(base_url=sb.base_url, auth=sb.basic_auth(), timeout=10) as client:
        yield client
    sb.clear_faults()


def test_injected_429_reaches_the_client_with_retry_after(sb: RunningSandbox, http: httpx.Client) -> None:
    sb.add_fault(kind="rate_limit", path_prefix="/rest/api/3/issue", method="POST", count=2, retry_after=7)
    for _ in range(2):
        limited = http.post("/rest/api/3/issue", json=STORY)
        assert limited.status_code == 429
        assert limited.headers["Retry-After"] == "7"
        assert limited.headers["X-RateLimit-Remaining"] == "0"
        assert limited.headers["X-RateLimit-Limit"] == "100"
        assert limited.headers["X-RateLimit-Reset"].endswith("Z")
        assert limited.json()["errorMessages"] == ["Rate limit exceeded."]
    assert http.get("/rest/api/3/issue/DEMO-1").status_code == 200  # other method: untouched
    assert http.post("/rest/api/3/issue", json=STORY).status_code == 201  # count exhausted
    assert sb.count_calls("POST", "/rest/api/3/issue") == 3
    assert sb.count_calls("POST", "/rest/api/3/issue", 429) == 2


def test_jira_client_honours_injected_retry_after(sb: RunningSandbox) -> None:
    from flowcase.jira.client import JiraClient

    sb.clear_calls()
    sb.add_fault(kind="rate_limit", path_prefix="/rest/api/3/issue", method="POST", count=2, retry_after=3)
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)

    async def run() -> str:
        async with JiraClient(sb.base_url, sb.basic_auth(), sleep=fake_sleep) as client:
            created = await client.create_issue(STORY["fields"])
            return str(created["key"])

    key = asyncio.run(run())
    assert key.startswith("DEMO-")
    assert len(slept) == 2 and all(3 <= s <= 3 * 1.31 for s in slept), slept
    assert sb.count_calls("POST", "/rest/api/3/issue", 429) == 2
    assert sb.count_calls("POST", "/rest/api/3/issue", 201) == 1


def test_5xx_latency_and_dropped_connections(sb: RunningSandbox, http: httpx.Client) -> None:
    sb.add_fault(kind="error", status=502, path_prefix="/rest/api/3/myself", count=1)
    assert http.get("/rest/api/3/myself").status_code == 502
    sb.add_fault(kind="error", path_prefix="/rest/api/3/myself", count=1)
    unavailable = http.get("/rest/api/3/myself")
    assert unavailable.status_code == 503 and unavailable.headers["Retry-After"] == "1"
    sb.add_fault(kind="latency", latency_ms=300, path_prefix="/rest/api/3/serverInfo", count=1)
    started = time.monotonic()
    assert http.get("/rest/api/3/serverInfo").status_code == 200
    assert time.monotonic() - started >= 0.3
    sb.add_fault(kind="drop", path_prefix="/rest/api/3/myself", count=1)
    with pytest.raises(httpx.RemoteProtocolError):
        http.get("/rest/api/3/myself")
    assert http.get("/rest/api/3/myself").status_code == 200
    assert [c.status for c in sb.calls() if c.path == "/rest/api/3/myself"] == [502, 503, 0, 200]


def test_fault_api_needs_the_admin_token(sb: RunningSandbox) -> None:
    url = f"{sb.base_url}/_sandbox/faults"
    spec = {"kind": "rate_limit", "path_prefix": "/rest/api/3/search", "retry_after": 2}
    assert httpx.post(url, json=spec).status_code == 401
    assert httpx.post(url, json=spec, headers={"Authorization": "Bearer wrong"}).status_code == 401
    admin = {"Authorization": f"Bearer {sb.admin_token}"}
    created = httpx.post(url, json=spec, headers=admin)
    assert created.status_code == 201
    assert (
        httpx.get(
            f"{sb.base_url}/rest/api/3/search/jql", params={"jql": "project = DEMO"}, auth=sb.basic_auth()
        ).status_code
        == 429
    )
    assert [f["path_prefix"] for f in httpx.get(url, headers=admin).json()] == ["/rest/api/3/search"]
    assert httpx.delete(f"{url}/{created.json()[0]['id']}", headers=admin).status_code == 204
    assert httpx.get(url, headers=admin).json() == []
    bad = httpx.post(url, json={"kind": "error", "status": 404}, headers=admin)
    assert bad.status_code == 400 and "500-599" in bad.json()["errorMessages"][0]
    calls = httpx.get(f"{sb.base_url}/_sandbox/calls", headers=admin).json()
    assert {"method": "GET", "path": "/rest/api/3/search/jql", "status": 429}.items() <= calls[-1].items()
