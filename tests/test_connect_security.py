"""Security headers, context tokens on the API, and admin rights checked with Jira rather than trusted."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import jwt as pyjwt
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from builders import lifecycle
from flowcase.web.connect_testing import APP_BASE_URL, ConnectTestbed, Tenant, jira_token, new_tenant
from flowcase.web.security import content_security_policy, origin_of

ADMINS = {"557058:admin"}
CHECKS: list[str] = []


def permissions_jira(tenant: Tenant) -> Starlette:
    async def check(request: Request) -> Response:
        CHECKS.append(request.url.path)
        token = request.headers["authorization"].removeprefix("JWT ")
        pyjwt.decode(token, tenant.secret, algorithms=["HS256"], audience=tenant.client_key)
        body = await request.json()
        granted = ["ADMINISTER"] if body.get("accountId") in ADMINS else []
        return JSONResponse({"globalPermissions": granted, "projectPermissions": []})

    return Starlette(routes=[Route("/rest/api/3/permissions/check", check, methods=["POST"])])


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[tuple[ConnectTestbed, TestClient, Tenant]]:
    tenant = new_tenant()
    bed = ConnectTestbed(f"sqlite:///{tmp_path / 's.db'}", jira=httpx.ASGITransport(app=permissions_jira(tenant)))
    with TestClient(bed.app, base_url=APP_BASE_URL) as client:
        assert lifecycle(client, bed, tenant) == 204
        yield bed, client, tenant
    bed.close()


def test_headers_on_an_authenticated_page(setup: tuple[ConnectTestbed, TestClient, Tenant]) -> None:
    bed, client, tenant = setup
    response = client.get(bed.page_url(tenant, "/connect/page?issueKey=TEST-1"))
    assert response.status_code == 200
    h = response.headers
    assert "frame-ancestors 'self' https://acme.atlassian.net;" in h["content-security-policy"]
    assert h["strict-transport-security"].startswith("max-age=31536000")
    assert h["cache-control"] == "no-store"
    assert h["x-content-type-options"] == "nosniff"
    assert h["referrer-policy"] == "strict-origin-when-cross-origin"


def test_headers_on_public_and_refused_responses(setup: tuple[ConnectTestbed, TestClient, Tenant]) -> None:
    _bed, client, _tenant = setup
    for response in (client.get("/atlassian-connect.json"), client.get("/connect/page")):
        csp = response.headers["content-security-policy"]
        assert "frame-ancestors 'self';" in csp
        assert csp.startswith("default-src 'self'; script-src 'self';")
        assert "no-store" not in response.headers.get("cache-control", "")
        assert response.headers["x-content-type-options"] == "nosniff"


def test_origin_of_never_lets_junk_into_the_header() -> None:
    assert origin_of("https://acme.atlassian.net/jira/x?y") == "https://acme.atlassian.net"
    assert origin_of("http://127.0.0.1:8900/") == "http://127.0.0.1:8900"
    for bad in ("javascript:alert(1)", "https://a.b'; script-src *", "ftp://x", "", "https://"):
        assert origin_of(bad) is None
    assert "; frame-ancestors 'self' https://a.net;" in content_security_policy(
        ["https://a.net", "https://a.net/x", "junk"]
    )
    assert "script-src 'self' https://cdn.x;" in content_security_policy([], ["https://cdn.x/all.js", "junk'"])


def test_the_policy_names_every_fetch_directive_it_relies_on() -> None:
    directives = dict(part.strip().split(" ", 1) for part in content_security_policy([]).split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"  # no inline scripts, no eval
    assert directives["connect-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["form-action"] == "'self'"
    assert "unsafe-eval" not in content_security_policy([]) and "'unsafe-inline'" not in directives["script-src"]


def test_context_token_on_the_api(setup: tuple[ConnectTestbed, TestClient, Tenant]) -> None:
    _bed, client, tenant = setup
    context = {"jira": {"issue": {"key": "TEST-7", "id": "10007"}, "project": {"key": "TEST", "id": "1"}}}
    token = jira_token(tenant.client_key, tenant.secret, context=True, extra={"context": context})
    response = client.get("/api/thing", headers={"Authorization": f"JWT {token}"})
    assert response.status_code == 200
    body = response.json()
    assert (body["site_id"], body["issue_key"], body["project_key"]) == (tenant.client_key, "TEST-7", "TEST")
    assert body["account_id"] == "557058:user-1" and body["is_admin"] is False
    # a context token whose context is not a proper key is accepted without the bogus key
    bad = jira_token(
        tenant.client_key, tenant.secret, context=True, extra={"context": {"jira": {"issue": {"key": "<script>"}}}}
    )
    assert client.get("/api/thing", headers={"Authorization": f"JWT {bad}"}).json()["issue_key"] is None


def test_admin_page_checks_jira(setup: tuple[ConnectTestbed, TestClient, Tenant]) -> None:
    bed, client, tenant = setup
    admin = client.get(bed.page_url(tenant, "/connect/admin", account_id="557058:admin"))
    assert admin.status_code == 200 and admin.json()["is_admin"] is True
    user = client.get(bed.page_url(tenant, "/connect/admin", account_id="557058:user-1"))
    assert user.status_code == 403
    anonymous = client.get(bed.page_url(tenant, "/connect/admin", account_id=None))
    assert anonymous.status_code == 403
    # Jira's answer is reused for a minute: a second admin page load makes no new check
    before = len(CHECKS)
    assert client.get(bed.page_url(tenant, "/connect/admin", account_id="557058:admin")).status_code == 200
    assert len(CHECKS) == before


def test_form_posted_token(setup: tuple[ConnectTestbed, TestClient, Tenant]) -> None:
    _bed, client, tenant = setup
    token = jira_token(
        tenant.client_key,
        tenant.secret,
        method="POST",
        url="/connect/page?a=1",
        app_base_url=APP_BASE_URL,
        now=int(time.time()),
    )
    ok = client.post("/connect/page?a=1", data={"jwt": token})
    assert ok.status_code == 200
    # body-parameter fallback: params in the form body are part of the qsh
    token2 = jira_token(
        tenant.client_key, tenant.secret, method="POST", url="/connect/page?b=2", app_base_url=APP_BASE_URL
    )
    assert client.post("/connect/page", data={"b": "2", "jwt": token2}).status_code == 200
    assert client.post("/connect/page", data={"b": "3", "jwt": token2}).status_code == 401
    assert client.post(f"/connect/page?a=1&jwt={token}", data={"jwt": token}).status_code == 401
