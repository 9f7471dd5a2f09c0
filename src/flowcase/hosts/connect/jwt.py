"""Atlassian Connect JWT: canonical request / query-string hash, HS256 signing and strict verification.

The canonical request is ``METHOD&PATH&QUERY`` (see docs/connect.md): the path relative to the base URL's path,
used as sent; the query form-decoded, ``jwt`` dropped, names and values RFC 3986 encoded, repeated values sorted
by decoded value and joined by ``,``, parameters sorted by encoded name. Verification never trusts the token
header: the algorithm is fixed by the caller, and every failure is a :class:`JwtError` with a short reason that
contains neither the token nor a secret.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import jwt as pyjwt

from flowcase.errors import AuthError

CONTEXT_QSH = "context-qsh"
MAX_TOKEN_LENGTH = 8192
OUTGOING_TTL_SECONDS = 180


class JwtError(AuthError):
    """A token was refused. ``status`` is 401 (not authenticated) or 403 (authenticated but not allowed here)."""

    def __init__(self, reason: str, status: int = 401) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.http_status = status
        if status == 403:
            self.api_code = "forbidden"


def _pct(text: str) -> str:
    return quote(text, safe="-._~")


def canonical_uri(path: str, base_path: str = "") -> str:
    base = base_path.rstrip("/")
    if base and (path == base or path.startswith(base + "/")):
        path = path[len(base) :]
    if not path:
        path = "/"
    if len(path) > 1 and path.endswith("/"):
        path = path[:-1]
    path = path.replace("&", "%26")
    return path if path.startswith("/") else "/" + path


def canonical_query(query: str) -> str:
    params: dict[str, list[str]] = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        if key != "jwt":
            params.setdefault(key, []).append(value)
    items = [(_pct(k), ",".join(_pct(v) for v in sorted(vs))) for k, vs in params.items()]
    items.sort(key=lambda kv: kv[0] + " " + kv[1])
    return "&".join(f"{k}={v}" for k, v in items)


def canonical_request(method: str, url: str, base_url: str = "") -> str:
    """``METHOD&/path&query`` for ``url`` (absolute, or a raw path with query) relative to ``base_url``'s path."""
    parts = urlsplit(url)
    base_path = urlsplit(base_url).path if base_url else ""
    return f"{method.upper()}&{canonical_uri(parts.path, base_path)}&{canonical_query(parts.query)}"


def query_string_hash(method: str, url: str, base_url: str = "") -> str:
    """Lower-case hex SHA-256 of :func:`canonical_request` (the ``qsh`` claim)."""
    return hashlib.sha256(canonical_request(method, url, base_url).encode("utf-8")).hexdigest()


def encode_hs256(claims: Mapping[str, Any], secret: str) -> str:
    return pyjwt.encode(dict(claims), secret, algorithm="HS256")


def outgoing_token(
    method: str, url: str, *, app_key: str, client_key: str, secret: str, base_url: str, now: int | None = None
) -> str:
    """The JWT for an app -> Jira call: iss = app key, aud = [clientKey], 180 s, qsh of exactly this URL."""
    issued = int(time.time()) if now is None else now
    claims = {
        "iss": app_key,
        "aud": [client_key],
        "iat": issued,
        "exp": issued + OUTGOING_TTL_SECONDS,
        "qsh": query_string_hash(method, url, base_url),
    }
    return encode_hs256(claims, secret)


def _check_shape(token: str) -> None:
    if not token or len(token) > MAX_TOKEN_LENGTH or token.count(".") != 2:
        raise JwtError("malformed token")


def unverified_header(token: str) -> dict[str, Any]:
    _check_shape(token)
    try:
        header = pyjwt.get_unverified_header(token)
    except pyjwt.PyJWTError:
        raise JwtError("malformed token") from None
    return header


def unverified_claims(token: str) -> dict[str, Any]:
    """Claims without checking the signature: only to find out which tenant's secret to verify with."""
    _check_shape(token)
    try:
        claims = pyjwt.decode(token, options={"verify_signature": False})
    except pyjwt.PyJWTError:
        raise JwtError("malformed token") from None
    if not isinstance(claims, dict):
        raise JwtError("malformed token")
    return claims


def unverified_issuer(token: str) -> str:
    iss = unverified_claims(token).get("iss")
    if not isinstance(iss, str) or not iss or len(iss) > 255:
        raise JwtError("token has no issuer")
    return iss


def _check_times(claims: Mapping[str, Any], *, leeway: int, now: float | None) -> None:
    current = time.time() if now is None else now
    exp, iat = claims.get("exp"), claims.get("iat")
    if not isinstance(exp, int | float) or not isinstance(iat, int | float):
        raise JwtError("invalid time claims")
    if current >= exp + leeway:
        raise JwtError("token expired")
    if iat > current + leeway:
        raise JwtError("token issued in the future")


def _check_qsh(claims: Mapping[str, Any], expected_qsh: str | None, *, allow_context: bool) -> None:
    qsh = claims.get("qsh")
    if not isinstance(qsh, str) or not qsh:
        raise JwtError("missing qsh")
    if qsh == CONTEXT_QSH:
        if not allow_context:
            raise JwtError("context token not accepted here", status=403)
        return
    if expected_qsh is None:
        raise JwtError("only context tokens are accepted here", status=403)
    if not hmac.compare_digest(qsh.encode(), expected_qsh.encode()):
        raise JwtError("qsh does not match the request")


def verify_hs256(
    token: str,
    secret: str,
    *,
    expected_qsh: str | None,
    allow_context: bool = False,
    leeway: int = 30,
    now: float | None = None,
) -> dict[str, Any]:
    """Verify a Jira-issued HS256 token: signature, iss, exp/iat (with ``leeway``), and qsh.

    ``expected_qsh`` is the hash of the request being served (None: the endpoint accepts only context
    tokens). ``allow_context`` lets a token with ``qsh == "context-qsh"`` through instead.
    """
    claims = _decode_times_manually(token, secret, "HS256")
    _check_times(claims, leeway=leeway, now=now)
    _check_qsh(claims, expected_qsh, allow_context=allow_context)
    return claims


def verify_rs256(
    token: str,
    public_key: Any,
    *,
    audience: str | list[str],
    expected_qsh: str,
    leeway: int = 30,
    now: float | None = None,
) -> dict[str, Any]:
    """Verify a signed-install token: RS256 signature, aud (one of ``audience``), exp/iat, qsh."""
    claims = _decode_times_manually(token, public_key, "RS256")
    audiences = [audience] if isinstance(audience, str) else list(audience)
    wanted = {a.rstrip("/") for a in audiences}
    aud = claims.get("aud")
    got = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
    if not any(isinstance(a, str) and a.rstrip("/") in wanted for a in got):
        raise JwtError("wrong audience")
    _check_times(claims, leeway=leeway, now=now)
    _check_qsh(claims, expected_qsh, allow_context=False)
    return claims


def _decode_times_manually(token: str, key: Any, algorithm: str) -> dict[str, Any]:
    """Signature and algorithm check only; times, aud and qsh are checked by the callers (one clock)."""
    header = unverified_header(token)
    if header.get("alg") != algorithm:
        raise JwtError("algorithm not allowed")
    try:
        claims = pyjwt.decode(
            token,
            key,
            algorithms=[algorithm],
            options={"verify_exp": False, "verify_iat": False, "verify_nbf": False, "verify_aud": False},
        )
    except pyjwt.InvalidSignatureError:
        raise JwtError("bad signature") from None
    except (pyjwt.PyJWTError, ValueError, TypeError):
        raise JwtError("invalid token") from None
    if not isinstance(claims, dict) or not isinstance(claims.get("iss"), str) or not claims["iss"]:
        raise JwtError("token has no issuer")
    return claims
