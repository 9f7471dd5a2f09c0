"""Forge Invocation Token attacks against the app's remote endpoints: every one is refused.

Real keys and a real JWKS endpoint (the sandbox's Forge signer served over ASGI); the app is the real web app
with only the Forge host configured.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from flowcase.config import Settings
from flowcase.db.engine import make_engine
from flowcase.db.migrate import upgrade
from flowcase.hosts.forge.host import ForgeHost
from flowcase.hosts.forge.jwks import JwksCache
from flowcase.hosts.forge.routes import forge_routes
from flowcase.hosts.forge.store import ForgeStore
from flowcase.sandbox.forge_jwks import ForgeSigner, fit_claims
from flowcase.web.app import create_app

APP_ID = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
JIRA = "https://api.atlassian.com/ex/jira/11111111-2222-3333-4444-555555555555"
OTHER_JIRA = "https://api.atlassian.com/ex/jira/99999999-2222-3333-4444-555555555555"
INSTALLATION = "ari:cloud:ecosystem::installation/aaaaaaaa-0000-0000-0000-000000000001"
OTHER_INSTALLATION = "ari:cloud:ecosystem::installation/bbbbbbbb-0000-0000-0000-000000000002"
CLOUD = "11111111-2222-3333-4444-555555555555"
OTHER_CLOUD = "99999999-2222-3333-4444-555555555555"
API = "/api/models/import"
BPMN = Path(__file__).resolve().parent.parent / "examples" / "bpmn" / "checkout.bpmn"
BODY = {"text": BPMN.read_text(), "filename": "checkout.bpmn"}


def jwks_transport(signer: ForgeSigner, fetches: list[float]) -> httpx.ASGITransport:
    async def jwks(_request: Request) -> Response:
        fetches.append(time.monotonic())
        return JSONResponse(signer.jwks())

    return httpx.ASGITransport(app=Starlette(routes=[Route("/.well-known/jwks.json", jwks)]))


@dataclass
class Env:
    client: TestClient
    signer: ForgeSigner
    store: ForgeStore
    keys: JwksCache
    fetches: list[float]

    def claims(self, **overrides: Any) -> dict[str, Any]:
        claims = fit_claims(
            app_id=APP_ID,
            installation_id=INSTALLATION,
            api_base_url=JIRA,
            cloud_id=CLOUD,
            account_id="557058:user",
            module_key="issue-panel",
            extension={"issue": {"key": "DEMO-1", "id": "10001"}, "project": {"key": "DEMO"}},
        )
        claims.update(overrides)
        return claims

    def token(self, **overrides: Any) -> str:
        return self.signer.sign(self.claims(**overrides))

    def call(self, token: str | None, path: str = API) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        return self.client.post(path, json=BODY, headers={**headers, "x-forge-oauth-user": "user-token"})


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    url = f"sqlite:///{tmp_path / 'app.db'}"
    upgrade(url)
    store = ForgeStore(make_engine(url))
    store.installed(INSTALLATION, CLOUD, JIRA)
    store.installed(OTHER_INSTALLATION, OTHER_CLOUD, OTHER_JIRA)
    signer, fetches = ForgeSigner(), []
    keys = JwksCache("http://forge.test/.well-known/jwks.json", transport=jwks_transport(signer, fetches))
    host = ForgeHost(APP_ID, keys, store, leeway=0)
    app = create_app(Settings(env="test", database_url=url), hosts=[host], extra_routes=forge_routes(host))
    with TestClient(app) as client:
        yield Env(client, signer, store, keys, fetches)


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def test_a_valid_token_is_accepted(env: Env) -> None:
    response = env.call(env.token())
    assert response.status_code == 200, response.text
    assert "diagnostics" in response.json()  # the endpoint answered for the verified caller


ATTACKS: dict[str, Callable[[Env], str | None]] = {
    "no token": lambda e: None,
    "garbage": lambda e: "not.a.jwt",
    "random bytes": lambda e: base64.b64encode(b"\x00\xff" * 40).decode(),
    "expired": lambda e: e.token(exp=int(time.time()) - 5, iat=int(time.time()) - 120),
    "no exp": lambda e: e.signer.sign({k: v for k, v in e.claims().items() if k != "exp"}),
    "wrong audience": lambda e: e.token(aud="ari:cloud:ecosystem::app/another-app"),
    "audience list of another app": lambda e: e.token(aud=["ari:cloud:ecosystem::app/another-app"]),
    "wrong issuer": lambda e: e.token(iss="forge/someone-else"),
    "forged with another key under the same kid": lambda e: _same_kid_other_key(e),
    "unknown kid": lambda e: ForgeSigner().sign(e.claims()),
    "alg none": lambda e: f"{_b64({'alg': 'none', 'typ': 'JWT', 'kid': e.signer.kid})}.{_b64(e.claims())}.",
    "HS256 with the public key as secret": lambda e: _hs256_confusion(e),
    "tampered payload": lambda e: _tamper(e.token()),
    "no installation in the token": lambda e: e.token(app={"apiBaseUrl": JIRA}),
}


def _same_kid_other_key(e: Env) -> str:
    return ForgeSigner(keys=[(e.signer.kid, ForgeSigner().keys[0][1])]).sign(e.claims())


def _hs256_confusion(e: Env) -> str:
    pem = (
        e.signer.keys[-1][1]
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    header = _b64({"alg": "HS256", "typ": "JWT", "kid": e.signer.kid})
    payload = _b64(e.claims())
    sig = hmac.new(pem, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{base64.urlsafe_b64encode(sig).decode().rstrip('=')}"


def _tamper(token: str) -> str:
    header, payload, sig = token.split(".")
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    data["principal"] = "557058:admin"
    return f"{header}.{_b64(data)}.{sig}"


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_bad_tokens_are_refused_with_401(env: Env, attack: str) -> None:
    response = env.call(ATTACKS[attack](env))
    assert response.status_code == 401, (attack, response.text)


def test_unknown_installation_is_refused(env: Env) -> None:
    token = env.token(app={"installationId": "ari:cloud:ecosystem::installation/unknown", "apiBaseUrl": JIRA})
    assert env.call(token).status_code == 403


def test_uninstalled_installation_is_refused(env: Env) -> None:
    env.store.uninstalled(INSTALLATION)
    assert env.call(env.token()).status_code == 403


@pytest.mark.parametrize("field", ["apiBaseUrl", "cloudId"])
def test_a_token_of_one_installation_cannot_act_on_another(env: Env, field: str) -> None:
    """Installation A's id with B's site (API base URL or cloud id) in the token: refused."""
    claims = env.claims()
    if field == "apiBaseUrl":
        claims["app"] = {**claims["app"], "apiBaseUrl": OTHER_JIRA}
    else:
        claims["context"] = {**claims["context"], "cloudId": OTHER_CLOUD}
    assert env.call(env.signer.sign(claims)).status_code == 403


def test_admin_paths_need_jira_admin_rights(env: Env) -> None:
    # no system token was sent, so Jira cannot be asked: refused, never assumed
    response = env.client.get("/api/admin/settings", headers={"Authorization": f"Bearer {env.token()}"})
    assert response.status_code == 403


def test_forged_lifecycle_events_are_refused(env: Env) -> None:
    forged = ForgeSigner().sign(
        env.claims(
            app={"installationId": "ari:cloud:ecosystem::installation/evil", "apiBaseUrl": "https://evil.example"}
        )
    )
    response = env.client.post(
        "/forge/lifecycle", json={"eventType": "avi:forge:installed:app"}, headers={"Authorization": f"Bearer {forged}"}
    )
    assert response.status_code == 401
    assert env.store.get("ari:cloud:ecosystem::installation/evil") is None


def test_unknown_kid_floods_do_not_hammer_the_key_endpoint(env: Env) -> None:
    assert env.call(env.token()).status_code == 200
    before = len(env.fetches)
    for _ in range(20):
        assert env.call(ForgeSigner().sign(env.claims())).status_code == 401
    assert len(env.fetches) - before <= 1


def test_key_rotation_is_picked_up_and_old_keys_still_verify(env: Env) -> None:
    old = env.token()
    assert env.call(old).status_code == 200
    env.signer.rotate()
    env.keys.min_refetch = 0  # the rotation happened after the last fetch
    assert env.call(env.token()).status_code == 200
    assert env.call(old).status_code == 200
