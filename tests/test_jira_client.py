"""JiraClient against the sandbox: retries honouring Retry-After, bounded waits, no blind POST retries, parsed
errors, JQL paging, bulk create with partial errors; API-token auth hygiene."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from flowcase.errors import CredentialsError
from flowcase.jira.auth import ApiTokenAuth
from flowcase.jira.client import JiraClient, JiraError, error_messages, retry_after_seconds
from flowcase.sandbox.testing import RunningSandbox


@pytest.fixture(autouse=True)
def _clean(sb: RunningSandbox) -> Iterator[None]:
    sb.clear_faults()
    sb.clear_calls()
    yield
    sb.clear_faults()


class Sleeps:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def client(sb: RunningSandbox, sleeps: Sleeps | None = None, **kwargs: Any) -> JiraClient:
    return JiraClient(sb.base_url, ApiTokenAuth(sb.email, sb.api_token), sleep=sleeps or Sleeps(), **kwargs)


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_429_waits_for_retry_after_with_bounded_jitter(sb: RunningSandbox) -> None:
    sb.add_fault(kind="rate_limit", path_prefix="/rest/api/3/myself", count=2, retry_after=3)
    sleeps = Sleeps()

    async def go() -> int:
        async with client(sb, sleeps) as c:
            return (await c.request("GET", "/rest/api/3/myself")).status_code

    assert run(go()) == 200
    assert len(sleeps.delays) == 2 and all(3.0 <= d <= 3.9 for d in sleeps.delays)
    assert sb.count_calls("GET", "/rest/api/3/myself") == 3


def test_gives_up_when_the_total_wait_would_exceed_the_bound(sb: RunningSandbox) -> None:
    sb.add_fault(kind="rate_limit", path_prefix="/rest/api/3/myself", retry_after=40)
    sleeps = Sleeps()

    async def go() -> None:
        async with client(sb, sleeps, max_wait=100.0, rng=lambda: 0.0) as c:
            await c.request("GET", "/rest/api/3/myself")

    with pytest.raises(JiraError) as err:
        run(go())
    assert err.value.status == 429 and err.value.messages == ("Rate limit exceeded.",)
    assert sleeps.delays == [40.0, 40.0]  # a third wait would pass the 100 s bound


def test_5xx_retried_for_get_with_exponential_backoff_but_not_for_post(sb: RunningSandbox) -> None:
    sb.add_fault(kind="error", status=502, path_prefix="/rest/api/3/myself", count=3)
    sleeps = Sleeps()

    async def go() -> None:
        async with client(sb, sleeps, rng=lambda: 1.0, backoff_base=0.5) as c:
            assert (await c.request("GET", "/rest/api/3/myself")).status_code == 200
            sb.add_fault(kind="error", status=500, path_prefix="/rest/api/3/issue/bulk", method="POST", count=1)
            with pytest.raises(JiraError) as err:
                await c.create_issues(
                    [{"fields": {"project": {"key": "DEMO"}, "issuetype": {"name": "Task"}, "summary": "x"}}]
                )
            assert err.value.status == 500 and err.value.retryable

    run(go())
    assert sleeps.delays == [0.5, 1.0, 2.0]
    assert sb.count_calls("POST", "/rest/api/3/issue/bulk") == 1  # a create is never resent blindly


def test_503_with_retry_after_is_retried_even_for_post(sb: RunningSandbox) -> None:
    sb.add_fault(kind="error", status=503, path_prefix="/rest/api/3/issue/bulk", method="POST", count=1, retry_after=2)
    sleeps = Sleeps()

    async def go() -> int:
        async with client(sb, sleeps) as c:
            result = await c.create_issues(
                [{"fields": {"project": {"key": "DEMO"}, "issuetype": {"name": "Task"}, "summary": "after 503"}}]
            )
            return len(result.created)

    assert run(go()) == 1 and 2.0 <= sleeps.delays[0] <= 2.6


def test_dropped_connection_on_get_is_retried(sb: RunningSandbox) -> None:
    sb.add_fault(kind="drop", path_prefix="/rest/api/3/serverInfo", count=1)

    async def go() -> int:
        async with client(sb) as c:
            return (await c.request("GET", "/rest/api/3/serverInfo")).status_code

    assert run(go()) == 200


def test_errors_are_parsed_from_jira_bodies(sb: RunningSandbox) -> None:
    async def go() -> None:
        async with client(sb) as c:
            with pytest.raises(JiraError) as err:
                await c.search_all("order by key")  # unbounded JQL is refused
            assert err.value.status == 400 and err.value.messages
            assert "Jira answered 400" in str(err.value)
            with pytest.raises(JiraError) as err2:
                await c.create_issue({"project": {"key": "DEMO"}, "issuetype": {"name": "Task"}, "labels": ["a b"]})
            assert any(m.startswith("labels:") for m in err2.value.messages)
            assert any(m.startswith("summary:") for m in err2.value.messages)
            assert await c.get_issue("DEMO-999999") is None

    run(go())


def test_get_never_carries_a_body() -> None:
    async def go() -> None:
        async with JiraClient("https://example.atlassian.net", httpx.BasicAuth("a", "b")) as c:
            await c.request("GET", "/rest/api/3/myself", json={"x": 1})

    with pytest.raises(ValueError, match="GET must not carry a body"):
        run(go())


def test_bulk_create_chunks_by_50_and_maps_partial_errors(sb: RunningSandbox) -> None:
    def issue(i: int) -> dict[str, Any]:
        labels = ["bad label"] if i in (7, 61) else ["bulk-test"]
        return {
            "fields": {
                "project": {"key": "DEMO"},
                "issuetype": {"name": "Task"},
                "summary": f"Bulk {i}",
                "labels": labels,
            }
        }

    async def go() -> Any:
        async with client(sb) as c:
            return await c.create_issues([issue(i) for i in range(120)])

    result = run(go())
    assert result.calls == 3 and sb.count_calls("POST", "/rest/api/3/issue/bulk") == 3
    assert sorted(e.index for e in result.errors) == [7, 61]
    assert len(result.created) == 118 and 7 not in result.created and 8 in result.created

    async def check() -> list[str]:
        async with client(sb) as c:
            found = await c.search_all('labels = "bulk-test" ORDER BY key', fields=("summary",), page_size=25)
            return [f["fields"]["summary"] for f in found]

    summaries = run(check())
    assert len(summaries) == 118 and len(set(summaries)) == 118  # paged with nextPageToken, no repeats
    assert sb.count_calls("GET", "/rest/api/3/search/jql") == 5


def test_api_token_auth_hygiene(sb: RunningSandbox, caplog: pytest.LogCaptureFixture) -> None:
    auth = ApiTokenAuth(sb.email, sb.api_token)
    assert sb.api_token not in repr(auth)
    with pytest.raises(CredentialsError, match="plain http"):
        run(_call(JiraClient("http://jira.example.com", auth)))
    caplog.set_level(logging.DEBUG)
    sb.add_fault(kind="rate_limit", path_prefix="/rest/api/3/myself", count=1, retry_after=1)
    run(_call(client(sb)))
    assert "/rest/api/3/myself" in caplog.text and sb.api_token not in caplog.text
    with pytest.raises(CredentialsError):
        ApiTokenAuth("me@example.com", "")


async def _call(c: JiraClient) -> None:
    async with c:
        await c.request("GET", "/rest/api/3/myself")


def test_retry_after_parsing() -> None:
    def resp(headers: dict[str, str]) -> httpx.Response:
        return httpx.Response(429, headers=headers)

    assert retry_after_seconds(resp({"Retry-After": "7"})) == 7.0
    assert retry_after_seconds(resp({"Retry-After": "garbage"})) is None
    assert retry_after_seconds(resp({})) is None
    dated = retry_after_seconds(resp({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}))
    assert dated == 0.0  # in the past
    assert error_messages(httpx.Response(502, text="<html>bad gateway</html>")) == ["Bad Gateway"]
    body = {"errorMessages": ["one"], "errors": {"summary": "required"}}
    assert error_messages(httpx.Response(400, json=body)) == ["one", "summary: required"]
