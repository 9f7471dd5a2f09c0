"""Test helpers that play Jira's side of Connect: an install key server and signed requests.

Used by the flowcase tests (and usable by anyone testing against the Connect host without a real Jira):

- :class:`InstallSigner`: an RSA key pair with a ``kid``; signs ``installed``/``uninstalled`` like Jira does.
- :func:`key_server_app`: a Starlette app serving ``/{kid}`` -> PEM public key (run it in-process through
  ``httpx.ASGITransport`` or on a real port).
- :func:`jira_token`: HS256 tokens as Jira issues them (URL-bound qsh or ``context-qsh``).
"""

from __future__ import annotations

import functools
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt as pyjwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from flowcase.hosts.connect.jwt import CONTEXT_QSH, query_string_hash


@dataclass
class InstallSigner:
    kid: str = field(default_factory=lambda: f"test-{uuid.uuid4().hex[:12]}")
    key: rsa.RSAPrivateKey = field(
        default_factory=lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )

    @property
    def public_pem(self) -> bytes:
        return self.key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def token(self, claims: dict[str, Any], *, headers: dict[str, Any] | None = None) -> str:
        return pyjwt.encode(claims, self.key, algorithm="RS256", headers={"kid": self.kid, **(headers or {})})

    def install_token(
        self,
        *,
        client_key: str,
        app_base_url: str,
        path: str,
        method: str = "POST",
        now: int | None = None,
        ttl: int = 180,
        **overrides: Any,
    ) -> str:
        issued = int(time.time()) if now is None else now
        claims: dict[str, Any] = {
            "iss": client_key,
            "aud": app_base_url,
            "iat": issued,
            "exp": issued + ttl,
            "qsh": query_string_hash(method, path, app_base_url),
            "sub": "connect:install",
        }
        claims.update(overrides)
        return self.token({k: v for k, v in claims.items() if v is not None})


@functools.lru_cache(maxsize=1)
def shared_test_key() -> rsa.RSAPrivateKey:
    """One RSA key per test process (generating 2048-bit keys is slow); each testbed still gets its own kid."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def key_server_app(signers: Iterable[InstallSigner]) -> Starlette:
    keys = {s.kid: s.public_pem for s in signers}
    requests: list[str] = []

    async def serve(request: Request) -> Response:
        kid = request.path_params["kid"]
        requests.append(kid)
        pem = keys.get(kid)
        if pem is None:
            return PlainTextResponse("not found", status_code=404)
        return Response(pem, media_type="application/x-pem-file")

    app = Starlette(routes=[Route("/{kid:path}", serve)])
    app.state.requests = requests
    app.state.keys = keys
    return app


def key_server_transport(signers: Iterable[InstallSigner]) -> httpx.ASGITransport:
    return httpx.ASGITransport(app=key_server_app(signers))


def install_payload(
    client_key: str, *, app_key: str, base_url: str, secret: str, event: str = "installed", **extra: Any
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "key": app_key,
        "clientKey": client_key,
        "publicKey": "MIGf-deprecated",
        "sharedSecret": secret,
        "serverVersion": "100237",
        "pluginsVersion": "1001.0.0-SNAPSHOT",
        "baseUrl": base_url,
        "displayUrl": base_url,
        "productType": "jira",
        "description": "Atlassian JIRA at " + base_url,
        "serviceEntitlementNumber": "SEN-1234",
        "oauthClientId": "oauth-" + client_key[:8],
        "eventType": event,
    }
    payload.update(extra)
    return payload


def jira_token(
    client_key: str,
    secret: str,
    *,
    method: str = "GET",
    url: str | None = None,
    app_base_url: str = "",
    context: bool = False,
    now: int | None = None,
    ttl: int = 180,
    account_id: str | None = "557058:user-1",
    extra: dict[str, Any] | None = None,
) -> str:
    """An HS256 token as Jira signs it: qsh of ``method url`` relative to the app base URL, or context-qsh."""
    issued = int(time.time()) if now is None else now
    claims: dict[str, Any] = {
        "iss": client_key,
        "iat": issued,
        "exp": issued + ttl,
        "qsh": CONTEXT_QSH if context else query_string_hash(method, url or "/", app_base_url),
    }
    if account_id:
        claims["sub"] = account_id
    claims.update(extra or {})
    return pyjwt.encode(claims, secret, algorithm="HS256")


APP_BASE_URL = "https://flowcase.example.com"
TEST_APP_KEY = "com.example.flowcase"


@dataclass
class Tenant:
    client_key: str
    base_url: str
    secret: str


def new_tenant(name: str = "acme") -> Tenant:
    return Tenant(
        client_key=str(uuid.uuid4()),
        base_url=f"https://{name}.atlassian.net",
        secret=uuid.uuid4().hex + uuid.uuid4().hex,
    )


class ConnectTestbed:
    """A Connect app on a fresh database, an in-process install key server and helpers to act as Jira.

    ``app`` serves the Connect routes plus ``/connect/page`` (URL-bound tokens), ``/api/thing`` (context or
    URL-bound tokens) and ``/connect/admin``, each answering the authenticated caller as JSON, behind the
    security headers middleware.
    """

    def __init__(self, database_url: str, *, licence_policy: str = "warn", jira: Any = None, env: str = "test") -> None:
        from cryptography.fernet import Fernet
        from starlette.exceptions import HTTPException
        from starlette.middleware import Middleware
        from starlette.responses import JSONResponse

        from flowcase.config import Settings
        from flowcase.db.crypto import SecretBox
        from flowcase.db.engine import make_engine
        from flowcase.db.migrate import upgrade
        from flowcase.db.store import InstallationStore
        from flowcase.hosts.connect.host import ConnectHost
        from flowcase.hosts.connect.keys import InstallKeyProvider
        from flowcase.hosts.connect.routes import connect_routes
        from flowcase.web.security import SecurityHeadersMiddleware

        self.encryption_key = Fernet.generate_key().decode()
        self.settings = Settings(
            env=env,
            base_url=APP_BASE_URL,
            app_key=TEST_APP_KEY,
            database_url=database_url,
            secret_keys=self.encryption_key,
            connect_key_server="http://keys.test",
            licence_policy=licence_policy,
        )
        upgrade(self.settings.database_url)
        self.engine = make_engine(self.settings.database_url)
        self.store = InstallationStore(self.engine, SecretBox(self.settings.encryption_keys()))
        self.signer = InstallSigner(key=shared_test_key())
        self.key_app = key_server_app([self.signer])
        self.keys = InstallKeyProvider(
            self.settings.connect_key_server, transport=httpx.ASGITransport(app=self.key_app)
        )
        self.host = ConnectHost(self.settings, self.store, jira_transport=jira)

        async def whoami(request: Request) -> Response:
            try:
                caller = await self.host.authenticate(request)
            except HTTPException as exc:
                return JSONResponse({"error": exc.detail}, status_code=exc.status_code)
            request.state.caller = caller
            return JSONResponse(
                {
                    "site_id": caller.site_id,
                    "base_url": caller.base_url,
                    "account_id": caller.account_id,
                    "issue_key": caller.issue_key,
                    "project_key": caller.project_key,
                    "is_admin": caller.is_admin,
                    "licence": request.state.licence,
                }
            )

        routes = [
            *connect_routes(self.settings, self.store, keys=self.keys),
            Route("/connect/page", whoami, methods=["GET", "POST"]),
            Route("/connect/admin", whoami, methods=["GET"]),
            Route("/api/thing", whoami, methods=["GET", "POST"]),
        ]
        self.app = Starlette(routes=routes, middleware=[Middleware(SecurityHeadersMiddleware, hsts=True)])

    def close(self) -> None:
        self.engine.dispose()

    def install_headers(self, tenant: Tenant, event: str = "installed", **overrides: Any) -> dict[str, str]:
        token = self.signer.install_token(
            client_key=tenant.client_key,
            app_base_url=APP_BASE_URL,
            path=f"/connect/lifecycle/{event}",
            **overrides,
        )
        return {"Authorization": f"JWT {token}"}

    def payload(self, tenant: Tenant, event: str = "installed", **extra: Any) -> dict[str, Any]:
        return install_payload(
            tenant.client_key,
            app_key=TEST_APP_KEY,
            base_url=tenant.base_url,
            secret=tenant.secret,
            event=event,
            **extra,
        )

    def page_url(self, tenant: Tenant, path: str, *, secret: str | None = None, **claims: Any) -> str:
        token = jira_token(tenant.client_key, secret or tenant.secret, url=path, app_base_url=APP_BASE_URL, **claims)
        return f"{path}{'&' if '?' in path else '?'}jwt={token}"
