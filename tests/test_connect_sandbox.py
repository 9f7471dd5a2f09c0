"""End to end against the sandbox Jira: signed install -> signed page load -> signed call to Jira -> uninstall.

Both sides run for real on 127.0.0.1 (uvicorn in threads): the sandbox signs the install with its own RSA key
(published on its key server), the app fetches that key by kid, stores the encrypted secret, verifies the iframe
JWT the sandbox signs, calls the sandbox's REST API with ConnectJwtAuth through flowcase's JiraClient (the
sandbox checks the app's JWT), and after the signed uninstall refuses everything and makes no further call.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from builders import connect_settings
from flowcase.config import Settings
from flowcase.db.migrate import upgrade
from flowcase.db.models import InstallationState
from flowcase.hosts.base import Caller
from flowcase.hosts.connect import ConnectHost, TenantUnavailableError, connect_routes
from flowcase.hosts.connect.factory import store_from_settings
from flowcase.sandbox import testing as sandbox_testing
from flowcase.sandbox.connect import PageContext, context_token, signed_iframe_url, uninstall
from flowcase.sandbox.server import bind, serve_in_thread
from flowcase.web.security import SecurityHeadersMiddleware

APP_KEY = "flowcase-e2e"


@dataclass
class Running:
    sandbox: Any
    app_url: str
    host: ConnectHost


def build_app(settings: Settings, host: ConnectHost) -> Starlette:
    async def authenticated(request: Request) -> Any:
        caller = await host.authenticate(request)
        request.state.caller = caller
        return caller

    async def page(request: Request) -> Response:
        caller = await authenticated(request)
        return JSONResponse({"site": caller.site_id, "issue": caller.issue_key, "licence": request.state.licence})

    async def admin(request: Request) -> Response:
        caller = await authenticated(request)
        return JSONResponse({"is_admin": caller.is_admin, "account": caller.account_id})

    async def myself(request: Request) -> Response:
        caller = await authenticated(request)
        async with host.jira(caller) as jira:
            response = await jira.request("GET", "/rest/api/3/myself")
        return JSONResponse({"jira_status": response.status_code, "account": response.json().get("accountId")})

    async def http_error(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return JSONResponse({"error": exc.detail}, status_code=exc.status_code)

    routes = [
        *connect_routes(settings, host.store),
        Route("/connect/issue-panel", page),
        Route("/connect/admin", admin),
        Route("/api/myself", myself),
    ]
    return Starlette(
        routes=routes,
        middleware=[Middleware(SecurityHeadersMiddleware, hsts=False)],
        exception_handlers={HTTPException: http_error},
    )


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Running]:
    with sandbox_testing.running_sandbox() as sb:
        sock = bind()
        port = sock.getsockname()[1]
        settings = connect_settings(
            sb, port, f"sqlite:///{tmp_path / 'app.db'}", app_key=APP_KEY, licence_policy="enforce"
        )
        upgrade(settings.database_url)
        store = store_from_settings(settings)
        host = ConnectHost(settings, store)
        with serve_in_thread(build_app(settings, host), sock=sock) as url:
            yield Running(sb, url, host)
        store.engine.dispose()


def test_install_request_uninstall_cycle(running: Running) -> None:
    sb, store = running.sandbox, running.host.store
    installation = sb.install(f"{running.app_url}/atlassian-connect.json")
    client_key = sb.sandbox.client_key

    # 1. the signed install was verified and stored (secret encrypted, readable with the key)
    view = store.get(client_key)
    assert view is not None and view.active and view.base_url == sb.base_url.rstrip("/")
    assert store.shared_secret(client_key) == installation.shared_secret

    # 2. an iframe load signed by the sandbox is accepted; the licence parameter is honoured
    ctx = PageContext(issue_key="DEMO-1", issue_id="10001", project_key="DEMO", project_id="10000")
    url = signed_iframe_url(
        sb.sandbox,
        installation,
        f"{APP_KEY}-issue-content",
        "/connect/issue-panel?issueKey={issue.key}&projectKey={project.key}",
        ctx,
    )
    page = httpx.get(url)
    assert page.status_code == 200, page.text
    assert page.json() == {"site": client_key, "issue": "DEMO-1", "licence": "active"}
    assert f"frame-ancestors 'self' {sb.base_url.rstrip('/')}" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"
    tampered = url.replace("issueKey=DEMO-1", "issueKey=DEMO-2")
    assert httpx.get(tampered).status_code == 401

    # 3. a context token from the page reaches the API, which calls Jira signed as the app
    token = context_token(sb.sandbox, installation, ctx)
    api = httpx.get(f"{running.app_url}/api/myself", headers={"Authorization": f"JWT {token}"})
    assert api.status_code == 200, api.text
    assert api.json()["jira_status"] == 200
    assert sb.count_calls("GET", "/rest/api/3/myself", 200) == 1

    # 4. signed uninstall: the secret is erased, pages and API are refused, no further call leaves the app
    asyncio.run(uninstall(sb.sandbox, APP_KEY))
    view = store.get(client_key)
    assert view is not None and view.state == InstallationState.UNINSTALLED and not view.has_secret
    assert httpx.get(url).status_code == 401
    assert httpx.get(f"{running.app_url}/api/myself", headers={"Authorization": f"JWT {token}"}).status_code == 401
    caller = Caller(site_id=client_key, base_url=sb.base_url)

    async def direct_call() -> None:
        async with running.host.jira(caller) as jira:
            await jira.request("GET", "/rest/api/3/myself")

    with pytest.raises(TenantUnavailableError):
        asyncio.run(direct_call())
    assert sb.count_calls("GET", "/rest/api/3/myself") == 1


def test_reinstall_rotates_the_secret(running: Running) -> None:
    sb, store = running.sandbox, running.host.store
    first = sb.install(f"{running.app_url}/atlassian-connect.json").shared_secret
    second = sb.install(f"{running.app_url}/atlassian-connect.json").shared_secret
    assert first != second
    assert store.shared_secret(sb.sandbox.client_key) == second
    assert len(store.all()) == 1


def test_retried_calls_are_signed_afresh(running: Running) -> None:
    """A 429 with Retry-After from the sandbox: JiraClient waits as told and the retry carries a valid new JWT."""
    from flowcase.jira.client import JiraClient

    sb = running.sandbox
    sb.install(f"{running.app_url}/atlassian-connect.json")
    sb.add_fault(kind="rate_limit", path_prefix="/rest/api/3/myself", method="GET", count=2, retry_after=3)
    waits: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        waits.append(seconds)

    async def call() -> int:
        auth = running.host.auth_for(sb.sandbox.client_key, sb.base_url)
        async with JiraClient(sb.base_url, auth, sleep=fake_sleep) as jira:
            return (await jira.request("GET", "/rest/api/3/myself", params={"expand": "groups"})).status_code

    assert asyncio.run(call()) == 200
    assert sb.count_calls("GET", "/rest/api/3/myself", 429) == 2
    assert sb.count_calls("GET", "/rest/api/3/myself", 200) == 1
    assert len(waits) == 2 and all(3 <= w <= 3 * 1.3 + 0.01 for w in waits)


def test_admin_page_rights_come_from_jira(running: Running) -> None:
    from flowcase.sandbox.site import DEMO_USER, VIEWER_USER
    from flowcase.web.connect_testing import jira_token

    sb = running.sandbox
    installation = sb.install(f"{running.app_url}/atlassian-connect.json")
    url = signed_iframe_url(sb.sandbox, installation, f"{APP_KEY}-admin", "/connect/admin", PageContext())
    response = httpx.get(url)
    assert response.status_code == 200, response.text
    assert response.json() == {"is_admin": True, "account": DEMO_USER.account_id}
    assert sb.count_calls("POST", "/rest/api/3/permissions/check", 200) == 1
    # the same page, signed by Jira for a user without ADMINISTER: Jira says no, so the app says 403
    token = jira_token(
        sb.sandbox.client_key,
        installation.shared_secret,
        url="/connect/admin",
        app_base_url=running.app_url,
        account_id=VIEWER_USER.account_id,
    )
    assert httpx.get(f"{running.app_url}/connect/admin?jwt={token}").status_code == 403
