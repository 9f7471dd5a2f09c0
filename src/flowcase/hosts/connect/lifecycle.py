"""Lifecycle callbacks: ``installed``/``uninstalled`` (RS256 signed installs) and ``enabled``/``disabled`` (HS256).

Signed installs: token in ``Authorization: JWT``; header ``alg`` must be RS256 with a well-formed ``kid``; the key
comes from the install key server (cached by kid); ``aud`` = the app base URL, ``iss`` = the body's clientKey,
``exp``/``iat`` checked, ``qsh`` = this request. Only then is the store touched. Handlers are idempotent; late
events (older ``iat`` than the newest applied one) are ignored; ``uninstalled`` erases the secret.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from flowcase.config import Settings
from flowcase.db.store import InstallationData, InstallationStore, ReplayRefused
from flowcase.hosts.connect.incoming import header_token, raw_target, read_body_limited, verify_request
from flowcase.hosts.connect.jwt import JwtError, query_string_hash, unverified_header, verify_rs256
from flowcase.hosts.connect.keys import InstallKeyProvider, valid_kid
from flowcase.hosts.siteurl import SitePolicy, SiteUrlError

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024
_TEXT_FIELDS = {
    "publicKey": ("public_key", 4096),
    "serverVersion": ("server_version", 64),
    "pluginsVersion": ("plugins_version", 64),
    "displayUrl": ("display_url", 255),
    "productType": ("product_type", 32),
    "oauthClientId": ("oauth_client_id", 255),
    "installationId": ("installation_id", 255),
}


class BadPayload(ValueError):
    pass


def refused(exc: JwtError, request: Request, event: str) -> Response:
    log.warning("connect %s refused (%s): %s", event, exc.status, exc.reason)
    return JSONResponse({"error": exc.reason}, status_code=exc.status)


async def _read_body(request: Request) -> dict[str, Any]:
    body = await read_body_limited(request, MAX_BODY)
    request.state.lifecycle_body = body
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise BadPayload("payload is not JSON") from None
    if not isinstance(data, dict):
        raise BadPayload("payload is not a JSON object")
    return data


def _text(data: dict[str, Any], name: str, limit: int, *, required: bool) -> str | None:
    value = data.get(name)
    if value is None or value == "":
        if required:
            raise BadPayload(f"missing {name}")
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise BadPayload(f"invalid {name}")
    return value


def _site_url(value: str, name: str, settings: Settings) -> str:
    parts = urlsplit(value)
    local = parts.hostname in ("127.0.0.1", "localhost", "::1")
    if parts.scheme != "https" and not (parts.scheme == "http" and (local or settings.env != "production")):
        raise BadPayload(f"invalid {name}")
    if not parts.hostname or parts.query or parts.fragment or parts.username or parts.password:
        raise BadPayload(f"invalid {name}")
    return value.rstrip("/")


def parse_install(data: dict[str, Any], settings: Settings, *, need_secret: bool) -> InstallationData:
    key = _text(data, "key", 80, required=True)
    if key != settings.app_key:
        raise BadPayload("payload is for another app")
    client_key = _text(data, "clientKey", 255, required=True)
    base_url = _site_url(_text(data, "baseUrl", 255, required=True) or "", "baseUrl", settings)
    try:
        SitePolicy.connect(settings).check(base_url)
    except SiteUrlError as exc:
        raise BadPayload(f"invalid baseUrl: {exc}") from None
    secret = _text(data, "sharedSecret", 1024, required=need_secret)
    extra = {attr: _text(data, field, limit, required=False) for field, (attr, limit) in _TEXT_FIELDS.items()}
    if extra["display_url"] is not None:
        extra["display_url"] = _site_url(extra["display_url"], "displayUrl", settings)
    assert client_key is not None
    return InstallationData(client_key=client_key, app_key=key, base_url=base_url, shared_secret=secret or "", **extra)


async def verify_signed_install(
    request: Request, data: dict[str, Any], settings: Settings, keys: InstallKeyProvider
) -> dict[str, Any]:
    token = header_token(request)
    if token is None:
        raise JwtError("signed install required")
    header = unverified_header(token)
    if header.get("alg") != "RS256":
        raise JwtError("signed install required")
    if not valid_kid(header.get("kid")):
        raise JwtError("invalid key id")
    key = await keys.get(header["kid"])
    claims = verify_rs256(
        token,
        key,
        audience=settings.base_url,
        expected_qsh=query_string_hash(request.method, raw_target(request), settings.base_url),
        leeway=settings.jwt_leeway_seconds,
    )
    if claims.get("iss") != data.get("clientKey"):
        raise JwtError("issuer is not the installing site")
    return claims


def _event_digest(token: str, body: bytes) -> str:
    """What identifies one delivery of a signed event: its token and its exact body (kept as a hash only)."""
    return hashlib.sha256(token.encode() + b"\0" + body).hexdigest()


def _event_time(claims: dict[str, Any]) -> datetime:
    return datetime.fromtimestamp(float(claims["iat"]), UTC)


class LifecycleHandlers:
    def __init__(self, settings: Settings, store: InstallationStore, keys: InstallKeyProvider) -> None:
        self.settings = settings
        self.store = store
        self.keys = keys

    async def installed(self, request: Request) -> Response:
        return await self._signed(request, "installed")

    async def uninstalled(self, request: Request) -> Response:
        return await self._signed(request, "uninstalled")

    async def enabled(self, request: Request) -> Response:
        return await self._toggle(request, True)

    async def disabled(self, request: Request) -> Response:
        return await self._toggle(request, False)

    async def _signed(self, request: Request, event: str) -> Response:
        try:
            # Cheap header checks first: an unsigned or HS256 install is refused before the body is read.
            token = header_token(request)
            if token is None or unverified_header(token).get("alg") != "RS256":
                raise JwtError("signed install required")
            data = await _read_body(request)
            install = parse_install(data, self.settings, need_secret=event == "installed")
            claims = await verify_signed_install(request, data, self.settings, self.keys)
        except JwtError as exc:
            return refused(exc, request, event)
        except BadPayload as exc:
            log.warning("connect %s refused (400): %s", event, exc)
            return JSONResponse({"error": str(exc)}, status_code=400)
        digest = _event_digest(token, request.state.lifecycle_body)
        try:
            if event == "installed":
                applied = await run_in_threadpool(self.store.installed, install, _event_time(claims), digest)
            else:
                applied = await run_in_threadpool(
                    self.store.uninstalled, install.client_key, _event_time(claims), digest
                )
        except ReplayRefused as exc:
            log.warning("connect %s refused (409): %s: %s", event, install.client_key, exc)
            return JSONResponse({"error": str(exc)}, status_code=409)
        log.info("connect %s: %s (%s)", event, install.client_key, "applied" if applied else "no change")
        return Response(status_code=204)

    async def _toggle(self, request: Request, enabled: bool) -> Response:
        event = "enabled" if enabled else "disabled"
        try:
            verified = await verify_request(
                request,
                self.store,
                base_url=self.settings.base_url,
                mode="url",
                leeway=self.settings.jwt_leeway_seconds,
                allow_disabled=True,
            )
            data = await _read_body(request)
            if data.get("clientKey") != verified.client_key or data.get("key") != self.settings.app_key:
                raise JwtError("payload does not match the token", status=403)
        except JwtError as exc:
            return refused(exc, request, event)
        except BadPayload as exc:
            log.warning("connect %s refused (400): %s", event, exc)
            return JSONResponse({"error": str(exc)}, status_code=400)
        applied = await run_in_threadpool(
            self.store.set_enabled, verified.client_key, enabled, _event_time(verified.claims)
        )
        log.info("connect %s: %s (%s)", event, verified.client_key, "applied" if applied else "no change")
        return Response(status_code=204)
