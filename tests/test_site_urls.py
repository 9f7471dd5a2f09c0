"""Tenant URLs in production: https hosts under Atlassian's domains only, checked at install and before every call.

A signed install is only as trustworthy as the site that signed it: an attacker's own Connect site can name any
``baseUrl``, and the app would then send signed calls there (SSRF). These tests run the app in production mode.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient

from builders import lifecycle
from flowcase.config import Settings
from flowcase.hosts.base import Caller
from flowcase.hosts.siteurl import GuardedTransport, SitePolicy, SiteUrlError
from flowcase.web.connect_testing import ConnectTestbed, Tenant, new_tenant

INSTALLED = "/connect/lifecycle/installed"
CONNECT = SitePolicy("connect", (".atlassian.net", ".jira.com", ".jira-dev.com"))
FORGE = SitePolicy("forge", ("api.atlassian.com",))


class Recorder(httpx.AsyncBaseTransport):
    """Stands where the network would be: records what would have been sent."""

    def __init__(self) -> None:
        self.sent: list[httpx.URL] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request.url)
        return httpx.Response(200, json={})


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def bed(tmp_path: Path, recorder: Recorder) -> Iterator[ConnectTestbed]:
    testbed = ConnectTestbed(f"sqlite:///{tmp_path / 'app.db'}", env="production", jira=recorder)
    yield testbed
    testbed.close()


@pytest.mark.parametrize(
    "url",
    [
        "https://acme.atlassian.net",
        "https://acme.atlassian.net/",
        "https://ACME.Atlassian.net",
        "https://acme.jira.com",
        "https://dev.jira-dev.com",
        "https://acme.atlassian.net:443",
    ],
)
def test_connect_policy_accepts_atlassian_sites(url: str) -> None:
    assert CONNECT.check(url) == url.rstrip("/")


@pytest.mark.parametrize(
    "url",
    [
        "http://acme.atlassian.net",  # not https
        "http://127.0.0.1:9/x",
        "https://127.0.0.1",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]",
        "https://2130706433",  # IP literals, decimal form included
        "https://atlassian.net",  # the suffix itself is not a site
        "https://evil.example.com",
        "https://acme.atlassian.net.evil.com",
        "https://evilatlassian.net",
        "https://user:pw@acme.atlassian.net",
        "https://acme.atlassian.net:8443",
        "https://acme.atlassian.net/?x=1",
        "ftp://acme.atlassian.net",
        "https://",
        "not a url",
    ],
)
def test_connect_policy_refuses_everything_else(url: str) -> None:
    with pytest.raises(SiteUrlError):
        CONNECT.check(url)


def test_forge_policy_accepts_only_the_api_host() -> None:
    assert FORGE.check("https://api.atlassian.com/ex/jira/abc") == "https://api.atlassian.com/ex/jira/abc"
    for url in (
        "https://acme.atlassian.net",
        "https://api.atlassian.com.evil.com/ex/jira/abc",
        "http://api.atlassian.com/ex/jira/abc",
        "https://10.0.0.1/ex/jira/abc",
    ):
        with pytest.raises(SiteUrlError):
            FORGE.check(url)


def test_the_policy_is_off_outside_production() -> None:
    assert SitePolicy.connect(Settings(env="test")).enforce is False
    assert SitePolicy.connect(Settings(env="production")).enforce is True
    custom = Settings(env="production", tenant_host_suffixes=".example.org, .jira.com")  # type: ignore[arg-type]
    assert SitePolicy.connect(custom).hosts == (".example.org", ".jira.com")
    assert Settings(env="production").forge_api_hosts == ("api.atlassian.com",)


@pytest.mark.parametrize(
    "base_url",
    [
        "http://127.0.0.1:9/x",
        "https://169.254.169.254/latest",
        "https://evil.example.com",
        "https://10.1.2.3",
    ],
)
def test_a_signed_install_naming_a_non_atlassian_site_is_refused(bed: ConnectTestbed, base_url: str) -> None:
    tenant = Tenant(new_tenant().client_key, base_url, "s" * 64)
    with TestClient(bed.app, base_url="https://flowcase.example.com") as client:
        r = client.post(INSTALLED, json=bed.payload(tenant), headers=bed.install_headers(tenant))
    assert r.status_code == 400
    assert "baseUrl" in r.json()["error"]
    assert bed.store.get(tenant.client_key) is None


def test_a_signed_install_of_an_atlassian_site_is_accepted(bed: ConnectTestbed) -> None:
    tenant = new_tenant()
    with TestClient(bed.app, base_url="https://flowcase.example.com") as client:
        assert lifecycle(client, bed, tenant) == 204


def test_calls_to_a_stored_site_outside_the_policy_never_leave(bed: ConnectTestbed, recorder: Recorder) -> None:
    """A row stored before the policy (or edited in the database) still cannot be called."""
    from datetime import UTC, datetime

    from flowcase.db.store import InstallationData

    bed.store.installed(
        InstallationData("ck-old", bed.settings.app_key, "http://169.254.169.254", "s" * 64), datetime.now(UTC)
    )
    caller = Caller(site_id="ck-old", base_url="http://169.254.169.254", account_id="u1")

    async def call() -> None:
        jira = bed.host.jira(caller)
        try:
            await jira.get_issue("DEMO-1")
        finally:
            await jira.close()

    with pytest.raises(SiteUrlError):
        asyncio.run(call())
    assert recorder.sent == []


def test_every_call_is_checked_against_dns(recorder: Recorder) -> None:
    """A permitted name that resolves to a private address (DNS rebinding) is refused before sending."""
    policy = SitePolicy("forge", ("localhost", "nowhere.invalid"))  # one resolves to loopback, one not at all

    async def send(url: str) -> None:
        async with httpx.AsyncClient(transport=GuardedTransport(policy, recorder)) as client:
            await client.get(url)

    with pytest.raises(SiteUrlError, match="non-public"):
        asyncio.run(send("https://localhost/rest/api/3/myself"))
    with pytest.raises(SiteUrlError, match="does not resolve"):
        asyncio.run(send("https://nowhere.invalid/rest"))
    assert recorder.sent == []


def test_an_open_policy_sends_as_given(recorder: Recorder) -> None:
    policy = SitePolicy("connect", (".atlassian.net",), enforce=False)

    async def send() -> None:
        async with httpx.AsyncClient(transport=GuardedTransport(policy, recorder)) as client:
            await client.get("http://127.0.0.1:1/x")

    asyncio.run(send())
    assert [str(u) for u in recorder.sent] == ["http://127.0.0.1:1/x"]
