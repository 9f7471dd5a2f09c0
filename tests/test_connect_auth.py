"""Outgoing calls: ConnectJwtAuth signs each request the way Jira verifies it; uninstalled sites get no call."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import jwt as pyjwt
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from builders import lifecycle
from flowcase.hosts.base import Caller
from flowcase.hosts.connect.auth import ConnectJwtAuth, TenantUnavailableError
from flowcase.hosts.connect.incoming import raw_target
from flowcase.hosts.connect.jwt import query_string_hash
from flowcase.web.connect_testing import TEST_APP_KEY, ConnectTestbed, new_tenant

SEARCH = {"jql": "project = TEST ORDER BY key", "fields": "summary,status"}
CLIENT_KEY = "11111111-2222-3333-4444-555555555555"
SECRET = "tenant-shared-secret-0123456789abcdef0123456789"


def fake_jira(secret: str, client_key: str, base_path: str = "") -> tuple[Starlette, list[dict[str, Any]]]:
    """A tiny Jira stand-in that verifies the app's JWT exactly like Jira: HS256, iss, aud, exp, qsh of the URL."""
    seen: list[dict[str, Any]] = []

    async def endpoint(request: Request) -> Response:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme != "JWT":
            return JSONResponse({"errorMessages": ["no JWT"]}, status_code=401)
        if request.method == "GET" and await request.body():
            return JSONResponse({"errorMessages": ["GET with body"]}, status_code=403)
        try:
            claims = pyjwt.decode(token, secret, algorithms=["HS256"], audience=client_key)
        except pyjwt.PyJWTError as exc:
            return JSONResponse({"errorMessages": [type(exc).__name__]}, status_code=401)
        expected = query_string_hash(request.method, raw_target(request), "https://site.test" + base_path)
        if claims["qsh"] != expected:
            return JSONResponse({"errorMessages": ["qsh"]}, status_code=401)
        seen.append(claims)
        return JSONResponse({"ok": True, "path": request.url.path})

    return Starlette(routes=[Route("/{rest:path}", endpoint, methods=["GET", "POST", "PUT", "DELETE"])]), seen


def client_for(app: Starlette, auth: httpx.Auth, base: str = "https://site.test") -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=base, auth=auth, transport=httpx.ASGITransport(app=app))


def test_signed_requests_are_accepted_by_a_verifying_jira() -> None:
    app, seen = fake_jira(SECRET, CLIENT_KEY)
    auth = ConnectJwtAuth(app_key=TEST_APP_KEY, client_key=CLIENT_KEY, base_url="https://site.test", secret=SECRET)

    async def run() -> list[int]:
        async with client_for(app, auth) as client:
            return [
                (await client.get("/rest/api/3/search/jql", params=SEARCH)).status_code,
                (await client.get("/rest/api/3/search/jql?fields=summary&fields=status&jql=a+b")).status_code,
                (await client.post("/rest/api/3/issue", json={"fields": {}})).status_code,
                (
                    await client.put("/rest/api/3/issue/TEST-1/properties/flowcase.model%2Fpart-1", json={"v": 1})
                ).status_code,
                (await client.get("/rest/api/3/issue/TEST-1", params={"expand": "names,ünïcode ~*"})).status_code,
            ]

    assert asyncio.run(run()) == [200] * 5
    for claims in seen:
        assert claims["iss"] == TEST_APP_KEY and claims["aud"] == [CLIENT_KEY]
        assert claims["exp"] - claims["iat"] == 180 and abs(claims["iat"] - time.time()) < 5


def test_tenant_base_url_with_a_path() -> None:
    app, seen = fake_jira(SECRET, CLIENT_KEY, base_path="/jira")
    auth = ConnectJwtAuth(app_key=TEST_APP_KEY, client_key=CLIENT_KEY, base_url="https://site.test/jira", secret=SECRET)

    async def run() -> int:
        async with client_for(app, auth, "https://site.test/jira") as client:
            return (await client.get("/rest/api/3/myself")).status_code

    assert asyncio.run(run()) == 200
    assert seen[0]["qsh"] == query_string_hash("GET", "/rest/api/3/myself")


def test_wrong_secret_is_refused_by_jira() -> None:
    app, _ = fake_jira(SECRET, CLIENT_KEY)
    auth = ConnectJwtAuth(app_key=TEST_APP_KEY, client_key=CLIENT_KEY, base_url="https://site.test", secret="nope" * 10)

    async def run() -> int:
        async with client_for(app, auth) as client:
            return (await client.get("/rest/api/3/myself")).status_code

    assert asyncio.run(run()) == 401


def test_never_a_body_on_get() -> None:
    app, seen = fake_jira(SECRET, CLIENT_KEY)
    auth = ConnectJwtAuth(app_key=TEST_APP_KEY, client_key=CLIENT_KEY, base_url="https://site.test", secret=SECRET)

    async def run() -> None:
        async with client_for(app, auth) as client:
            await client.request("GET", "/rest/api/3/myself", content=b"{}")

    with pytest.raises(ValueError, match="body with GET"):
        asyncio.run(run())
    assert seen == []


def test_uninstalled_site_gets_no_call(connect_bed: ConnectTestbed) -> None:
    """Through ConnectHost: once uninstalled, the auth refuses before anything is sent."""
    bed = connect_bed
    tenant = new_tenant()
    with TestClient(bed.app, base_url=bed.settings.base_url) as tc:
        assert lifecycle(tc, bed, tenant, now=int(time.time()) - 5) == 204
        app, seen = fake_jira(tenant.secret, tenant.client_key)
        caller = Caller(site_id=tenant.client_key, base_url="https://site.test")
        auth = bed.host.auth_for(caller.site_id, caller.base_url)

        async def call() -> int:
            async with client_for(app, auth) as client:
                return (await client.get("/rest/api/3/myself")).status_code

        assert asyncio.run(call()) == 200 and len(seen) == 1
        assert lifecycle(tc, bed, tenant, "uninstalled") == 204
        with pytest.raises(TenantUnavailableError):
            asyncio.run(call())
        assert len(seen) == 1
