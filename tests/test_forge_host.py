"""Forge host pieces against the real sandbox: install through the lifecycle trigger, what is stored, Jira calls
with the product tokens Forge sent, JWKS caching, and the sandbox's Forge mode endpoints."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import inspect

from flowcase.config import Settings
from flowcase.db.engine import make_engine
from flowcase.db.migrate import head_revision, upgrade
from flowcase.errors import TenantUnavailableError
from flowcase.hosts.base import Caller
from flowcase.hosts.forge.auth import ForgeTokenMissingError
from flowcase.hosts.forge.factory import ForgeSetup, forge_from_settings
from flowcase.hosts.forge.jwks import JwksCache, JwksUnavailableError
from flowcase.sandbox.forge_host import ForgeApp, forge_mode, frame_src, install_forge_app
from flowcase.sandbox.server import bind, serve_in_thread
from flowcase.sandbox.testing import RunningSandbox, running_sandbox
from flowcase.web.app import create_app

APP_ID = "3c2b1a00-1111-4222-8333-944455556666"


@dataclass
class Env:
    sb: RunningSandbox
    forge: ForgeSetup
    app_url: str
    db_url: str
    installed: ForgeApp


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    tmp = tmp_path_factory.mktemp("forge-host")
    db_url = f"sqlite:///{tmp / 'app.db'}"
    with running_sandbox(demo_data=True, setup=True) as sb:
        sock = bind()  # held until the app serves on it: the app must know its URL before it is built
        settings = Settings(
            env="test",
            base_url=f"http://127.0.0.1:{sock.getsockname()[1]}",
            database_url=db_url,
            forge_app_id=APP_ID,
            forge_jwks_url=f"{sb.base_url}/_forge/jwks.json",
        )
        upgrade(db_url)
        forge = forge_from_settings(settings)
        assert forge is not None
        app = create_app(settings, hosts=[forge.host], extra_routes=forge.routes)
        with serve_in_thread(app, sock=sock) as url:
            installed = install_forge_app(sb.sandbox, app_id=APP_ID, remote_url=url, resources=tmp)
            yield Env(sb, forge, url, db_url, installed)


def invoke_models_get(env: Env) -> dict[str, object]:
    """What the issue panel of DEMO-1 does first: an ``invokeRemote`` of ``GET /api/models/DEMO-1`` through the
    sandbox's Forge bridge; the bridge's answer."""
    frame = frame_src(
        env.sb.sandbox,
        env.installed,
        "issue-panel",
        {"issue": {"key": "DEMO-1", "id": "10000"}, "project": {"key": "DEMO"}},
    )
    ctx = frame.split("ctx=", 1)[1]
    return httpx.post(
        f"{env.sb.base_url}/_forge/invoke",
        headers={"Origin": env.sb.base_url},
        json={"ctx": ctx, "path": "/api/models/DEMO-1", "method": "GET"},
    ).json()


def test_the_forge_table_is_in_the_migration_chain() -> None:
    from alembic.script import ScriptDirectory

    from flowcase.db.migrate import alembic_config

    revisions = {r.revision for r in ScriptDirectory.from_config(alembic_config("sqlite://")).walk_revisions()}
    assert "0003_forge_installations" in revisions and head_revision() not in (None, "0002_jobs")


def test_install_stores_only_what_forge_sends(env: Env) -> None:
    view = env.forge.host.store.get(env.installed.installation_id)
    assert view is not None and view.active
    assert view.base_url == env.sb.base_url
    assert view.cloud_id == forge_mode(env.sb.sandbox).cloud_id
    columns = {c["name"] for c in inspect(make_engine(env.db_url)).get_columns("forge_installations")}
    assert columns == {"installation_id", "cloud_id", "base_url", "state", "created_at", "updated_at"}


def test_the_app_calls_jira_with_the_token_forge_sent(env: Env) -> None:
    host = env.forge.host
    caller = Caller(
        site_id=env.installed.installation_id,
        base_url=env.sb.base_url,
        account_id="557058:5a1d0c3e-0b7e-4c51-9d43-5a7d0e5c0001",
    )

    async def myself() -> str:
        async with host.jira(caller) as jira:
            response = await jira.request("GET", "/rest/api/3/myself")
            return str(response.json()["accountId"])

    # tokens arrive only with an invocation: before one, no call leaves the app
    host._tokens.clear()
    with pytest.raises(ForgeTokenMissingError):
        asyncio.run(myself())
    # an invokeRemote through the sandbox's Forge mode hands the tokens over; the user token acts as the user
    answer = invoke_models_get(env)
    assert answer["success"], answer
    assert asyncio.run(myself()) == caller.account_id
    assert env.sb.count_calls("GET", "/rest/api/3/myself", status=200) >= 1


def test_sandbox_forge_bridge_calls_need_its_own_origin_and_a_signed_frame(env: Env) -> None:
    frame = frame_src(env.sb.sandbox, env.installed, "issue-panel", {"issue": {"key": "DEMO-1"}})
    ctx = frame.split("ctx=", 1)[1]
    body = {"ctx": ctx, "path": "/api/models/DEMO-1", "method": "GET"}
    assert (
        httpx.post(f"{env.sb.base_url}/_forge/invoke", json=body, headers={"Origin": "http://evil.example"}).status_code
        == 403
    )
    forged = {**body, "ctx": ctx[:-4] + "0000"}
    assert (
        httpx.post(f"{env.sb.base_url}/_forge/invoke", json=forged, headers={"Origin": env.sb.base_url}).status_code
        == 403
    )


def test_sandbox_rest_refuses_unknown_bearer_tokens(env: Env) -> None:
    r = httpx.get(f"{env.sb.base_url}/rest/api/3/myself", headers={"Authorization": "Bearer not-a-forge-token"})
    assert r.status_code == 401


def test_jwks_cache_reuses_keys_and_reports_an_unreachable_endpoint(env: Env) -> None:
    keys = JwksCache(f"{env.sb.base_url}/_forge/jwks.json")
    kid = forge_mode(env.sb.sandbox).signer.kid

    async def twice() -> None:
        assert await keys.key(kid) is not None
        assert await keys.key(kid) is not None

    asyncio.run(twice())
    assert keys.fetches == 1
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))  # bound, not listening: connections are refused, and no one else gets the port
        down = JwksCache(f"http://127.0.0.1:{held.getsockname()[1]}/jwks.json")
        with pytest.raises(JwksUnavailableError):
            asyncio.run(down.key(kid))


def test_uninstall_event_marks_the_installation(env: Env, tmp_path: Path) -> None:
    from flowcase.sandbox.forge_host import remote_headers, sign_invocation

    other = ForgeApp(APP_ID, "flowcase", env.app_url, tmp_path)
    forge_mode(env.sb.sandbox).apps["other"] = other
    try:
        fit = sign_invocation(env.sb.sandbox, other, module_key="lifecycle", extension={}, account_id=None)
        for event in ("avi:forge:installed:app", "avi:forge:uninstalled:app"):
            r = httpx.post(
                f"{env.app_url}/forge/lifecycle", json={"eventType": event}, headers=remote_headers(other, fit)
            )
            assert r.status_code == 204
        view = env.forge.host.store.get(other.installation_id)
        assert view is not None and not view.active
    finally:
        del forge_mode(env.sb.sandbox).apps["other"]


def test_create_app_adds_forge_beside_connect_and_publish_jobs_use_forge_tokens(env: Env) -> None:
    from types import SimpleNamespace

    from cryptography.fernet import Fernet

    from flowcase.hosts.forge.auth import ForgeTokenAuth

    settings = Settings(
        env="test",
        database_url=env.db_url,
        secret_keys=Fernet.generate_key().decode(),
        forge_app_id=APP_ID,
        forge_jwks_url=f"{env.sb.base_url}/_forge/jwks.json",
    )
    app = create_app(settings)
    assert [h.name for h in app.state.hosts] == ["connect", "forge"]
    assert "/forge/lifecycle" in {getattr(r, "path", "") for r in app.routes}
    from flowcase.web.app import job_clients

    client_for = job_clients(app.state.connect, app.state.hosts[1])  # what a worker process uses
    client = client_for(SimpleNamespace(site_id=env.installed.installation_id))
    assert isinstance(client._http.auth, ForgeTokenAuth)
    with pytest.raises(TenantUnavailableError):
        client_for(SimpleNamespace(site_id="ari:cloud:ecosystem::installation/unknown"))


def test_in_production_an_api_base_url_off_atlassians_api_host_is_refused(env: Env) -> None:
    """The sandbox's Forge tokens name a local apiBaseUrl: under the production policy they are refused."""
    from flowcase.hosts.siteurl import SitePolicy

    host = env.forge.host
    relaxed = host.policy
    host.policy = SitePolicy.forge(Settings(env="production"))
    try:
        answer = invoke_models_get(env)
        assert not answer["success"]
        assert answer.get("status") == 403 or "403" in str(answer), answer
    finally:
        host.policy = relaxed
