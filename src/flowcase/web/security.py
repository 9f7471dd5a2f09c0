"""Security headers for every response (pure ASGI middleware).

- ``Content-Security-Policy``: ``default-src 'self'``; scripts only from the app itself plus, on Connect pages,
  the origin of Atlassian's ``all.js`` (``request.state.script_sources``); inline styles allowed (bpmn-js sets
  them), inline scripts, ``eval`` and plugins not; ``connect-src 'self'``; ``frame-ancestors`` = 'self' plus the
  calling tenant's Jira base URL (from ``request.state.caller``) so pages can be framed only by that site.
- ``Strict-Transport-Security`` (one year, subdomains) when the app's public URL is https.
- ``Cache-Control: no-store`` on every authenticated response (``request.state.caller`` was set).
- ``X-Content-Type-Options: nosniff`` and ``Referrer-Policy`` (no URLs with JWTs leak via Referer).

An endpoint may set ``request.state.frame_ancestors`` (a list of origins) to override the tenant default.
"""

from __future__ import annotations

from collections.abc import Iterable, MutableMapping
from typing import Any
from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HSTS_VALUE = "max-age=31536000; includeSubDomains"
REFERRER_POLICY = "strict-origin-when-cross-origin"


def origin_of(url: str) -> str | None:
    """``scheme://host[:port]`` of an http(s) URL, or None (never lets a path or quote into the header)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname
    if not all(c.isalnum() or c in "-." for c in host):
        return None
    return f"{parts.scheme}://{host}" + (f":{parts.port}" if parts.port else "")


def _sources(urls: Iterable[str]) -> str:
    return " ".join(["'self'", *dict.fromkeys(o for o in (origin_of(u) for u in urls) if o)])


def content_security_policy(ancestors: Iterable[str], scripts: Iterable[str] = ()) -> str:
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src {_sources(scripts)}",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data: blob:",
            "font-src 'self' data:",
            "connect-src 'self'",
            f"frame-ancestors {_sources(ancestors)}",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
        ]
    )


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, *, hsts: bool = True, extra_frame_ancestors: Iterable[str] = ()) -> None:
        self.app = app
        self.hsts = hsts
        self.extra = tuple(extra_frame_ancestors)

    @classmethod
    def for_base_url(cls, app: ASGIApp, base_url: str) -> SecurityHeadersMiddleware:
        return cls(app, hsts=base_url.startswith("https://"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                self._apply(MutableHeaders(scope=message), scope.get("state") or {})
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _apply(self, headers: MutableHeaders, state: MutableMapping[str, Any]) -> None:
        caller = state.get("caller")
        override = state.get("frame_ancestors")
        if override is not None:
            ancestors = list(override)
        else:
            tenant = getattr(caller, "base_url", None)
            ancestors = [*self.extra, *([tenant] if isinstance(tenant, str) else [])]
        scripts = state.get("script_sources") or ()
        headers["Content-Security-Policy"] = content_security_policy(ancestors, scripts)
        headers["X-Content-Type-Options"] = "nosniff"
        headers["Referrer-Policy"] = REFERRER_POLICY
        if self.hsts:
            headers["Strict-Transport-Security"] = HSTS_VALUE
        if caller is not None:
            headers["Cache-Control"] = "no-store"
