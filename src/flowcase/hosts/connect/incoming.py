"""Authenticating requests from Jira: token extraction, tenant lookup, HS256 + qsh verification.

Tokens are looked for in the ``jwt`` query parameter, the ``jwt`` form field and ``Authorization: JWT <token>``;
two different tokens in one request are refused. The qsh is computed from the raw path and query as received,
relative to the path of the app's base URL. Refusals raise :class:`JwtError` (401/403); their reasons never
contain the token or a secret.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode

from starlette.requests import Request

from flowcase.db.models import InstallationState
from flowcase.db.store import InstallationStore, InstallationView
from flowcase.hosts.connect.jwt import JwtError, query_string_hash, unverified_issuer, verify_hs256

TokenSource = Literal["query", "form", "header"]
Mode = Literal["url", "context", "either"]
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
MAX_FORM_BODY = 1_000_000


@dataclass(frozen=True, slots=True)
class VerifiedRequest:
    installation: InstallationView
    claims: dict[str, Any] = field(repr=False)
    source: TokenSource
    is_context: bool

    @property
    def client_key(self) -> str:
        return self.installation.client_key

    @property
    def account_id(self) -> str | None:
        sub = self.claims.get("sub")
        return sub if isinstance(sub, str) and sub else None


def raw_target(request: Request) -> str:
    """The request path and query exactly as sent (no decoding or re-encoding)."""
    raw_path = request.scope.get("raw_path") or request.scope["path"].encode("utf-8")
    path = raw_path.decode("latin-1") if isinstance(raw_path, bytes) else str(raw_path)
    query = request.scope.get("query_string", b"").decode("latin-1")
    return f"{path}?{query}" if query else path


def header_token(request: Request) -> str | None:
    values = request.headers.getlist("authorization")
    if not values:
        return None
    if len(values) > 1:
        raise JwtError("more than one Authorization header")
    scheme, _, token = values[0].partition(" ")
    if scheme.lower() != "jwt":
        return None
    token = token.strip()
    if not token:
        raise JwtError("empty token")
    return token


async def _form_params(request: Request) -> list[tuple[str, str]]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if request.method not in ("POST", "PUT") or content_type != FORM_TYPES[0]:
        return []
    body = await read_body_limited(request, MAX_FORM_BODY)
    return parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)


async def extract_token(request: Request) -> tuple[str, TokenSource, list[tuple[str, str]]]:
    """(token, where it was, form params). Several distinct tokens, or none, is a refusal."""
    query_tokens = request.query_params.getlist("jwt")
    form = await _form_params(request)
    form_tokens = [v for k, v in form if k == "jwt"]
    header = header_token(request)
    if len(query_tokens) > 1 or len(form_tokens) > 1:
        raise JwtError("more than one jwt parameter")
    if query_tokens and form_tokens:
        raise JwtError("token in both query and body")
    found: list[tuple[str, TokenSource]] = []
    if query_tokens:
        found.append((query_tokens[0], "query"))
    if form_tokens:
        found.append((form_tokens[0], "form"))
    if header is not None:
        found.append((header, "header"))
    if not found:
        raise JwtError("no token")
    if len({t for t, _ in found}) > 1:
        raise JwtError("different tokens in one request")
    token, source = found[0]
    return token, source, form


async def verify_request(
    request: Request,
    store: InstallationStore,
    *,
    base_url: str,
    mode: Mode,
    leeway: int = 30,
    allow_disabled: bool = False,
) -> VerifiedRequest:
    """Verify a Jira-signed request against the tenant named by its ``iss`` (see module doc).

    ``mode``: ``url`` accepts only tokens bound to this URL (qsh), ``context`` only context tokens
    (``qsh == "context-qsh"``), ``either`` both.
    """
    token, source, form = await extract_token(request)
    client_key = unverified_issuer(token)
    installation, secret = await store.acredentials(client_key)  # one lookup, usually none (cached)
    if installation is None:
        raise JwtError("unknown tenant")
    if installation.state == InstallationState.UNINSTALLED or not installation.has_secret or secret is None:
        raise JwtError("tenant uninstalled")
    if installation.state == InstallationState.DISABLED and not allow_disabled:
        raise JwtError("app disabled for this tenant", status=403)
    target = raw_target(request)
    expected: str | None = None if mode == "context" else query_string_hash(request.method, target, base_url)
    try:
        claims = verify_hs256(token, secret, expected_qsh=expected, allow_context=mode != "url", leeway=leeway)
    except JwtError as first:
        # Form posts may carry their parameters in the body (Connect's form fallback).
        if source != "form" or expected is None or first.reason != "qsh does not match the request":
            raise
        params = [(k, v) for k, v in form if k != "jwt"]
        path = target.split("?", 1)[0]
        query = "&".join(p for p in (target.partition("?")[2], urlencode(params)) if p)
        claims = verify_hs256(
            token,
            secret,
            expected_qsh=query_string_hash(request.method, f"{path}?{query}", base_url),
            allow_context=False,
            leeway=leeway,
        )
    return VerifiedRequest(installation, claims, source, claims.get("qsh") == "context-qsh")


class BodyTooLarge(JwtError, status=413, code="too-large"):
    """A signed request whose body is larger than the app accepts (refused before it is read)."""

    def __init__(self) -> None:
        super().__init__("request body too large", status=413)


async def read_body_limited(request: Request, limit: int) -> bytes:
    """The request body, refusing (413) more than ``limit`` bytes without reading it all into memory first."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise BodyTooLarge()
    cached = getattr(request, "_body", None)
    if isinstance(cached, bytes):
        return cached
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge()
        chunks.append(chunk)
    body = b"".join(chunks)
    request._body = body  # later readers (request.body(), .json(), .form()) get the same bytes
    return body
