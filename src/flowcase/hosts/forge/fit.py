"""Forge Invocation Token (FIT) verification: RS256 by JWKS ``kid``, ``iss``, ``aud`` = the app's ARI, ``exp``.

The installation id, API base URL, cloud id, user and module context are read from the verified token only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import jwt

from flowcase.errors import AuthError
from flowcase.hosts.forge.jwks import JwksCache, JwksUnavailableError

ISSUER = "forge/invocation-token"
APP_ARI = "ari:cloud:ecosystem::app/"
_KEY = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
_ID = re.compile(r"^[A-Za-z0-9:/._-]{1,255}$")


class FitError(AuthError):
    """A Forge Invocation Token was refused; ``status`` is the HTTP status to answer with."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.http_status = status


@dataclass(frozen=True, slots=True)
class Invocation:
    """What a verified FIT says (nothing else from the request is trusted)."""

    installation_id: str
    api_base_url: str
    cloud_id: str | None
    app_id: str
    account_id: str | None
    issue_key: str | None
    project_key: str | None
    module_key: str | None
    token_id: str | None
    claims: dict[str, Any]


def app_audience(app_id: str) -> str:
    """``aud`` for an app id given as a uuid or as its full ARI."""
    return app_id if app_id.startswith(APP_ARI) else APP_ARI + app_id


def _str(value: object, pattern: re.Pattern[str]) -> str | None:
    return value if isinstance(value, str) and pattern.match(value) else None


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


async def verify_fit(token: str, keys: JwksCache, *, app_id: str, leeway: float = 0) -> Invocation:
    """Verify ``token``; raises :class:`FitError` (401) for anything not a valid FIT for this app."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise FitError(401, "not a JWT") from None
    if header.get("alg") != "RS256":
        raise FitError(401, "only RS256 invocation tokens are accepted")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise FitError(401, "the token names no signing key")
    try:
        key = await keys.key(kid)
    except JwksUnavailableError as exc:
        raise FitError(503, str(exc)) from None
    if key is None:
        raise FitError(401, "unknown signing key")
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key.key,
            algorithms=["RS256"],
            audience=app_audience(app_id),
            issuer=ISSUER,
            leeway=leeway,
            options={"require": ["exp", "iss", "aud"]},
        )
    except jwt.ExpiredSignatureError:
        raise FitError(401, "the token has expired") from None
    except jwt.InvalidAudienceError:
        raise FitError(401, "the token is for another app") from None
    except jwt.InvalidIssuerError:
        raise FitError(401, "the token was not issued by Forge") from None
    except jwt.PyJWTError:
        raise FitError(401, "invalid token") from None
    return _invocation(claims, app_id)


def _invocation(claims: dict[str, Any], app_id: str) -> Invocation:
    app = _dict(claims.get("app"))
    installation_id = _str(app.get("installationId"), _ID)
    base_url = app.get("apiBaseUrl")
    if installation_id is None or not isinstance(base_url, str) or not base_url.startswith(("https://", "http://")):
        raise FitError(401, "the token names no installation")
    context = _dict(claims.get("context"))
    extension = _dict(context.get("extension"))
    principal = claims.get("principal")
    return Invocation(
        installation_id=installation_id,
        api_base_url=base_url.rstrip("/"),
        cloud_id=_str(context.get("cloudId"), _ID),
        app_id=app_id,
        account_id=_str(principal, _ID),
        issue_key=_str(_dict(extension.get("issue")).get("key"), _KEY),
        project_key=_str(_dict(extension.get("project")).get("key"), _KEY),
        module_key=_str(context.get("moduleKey"), _KEY),
        token_id=_str(claims.get("jti"), _ID),
        claims=claims,
    )
