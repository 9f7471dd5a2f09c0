"""Where the app may send a tenant's calls: the site's own Atlassian host, never anywhere else.

A signed install names the site's ``baseUrl`` and a Forge token its ``apiBaseUrl``; both come from outside, so in
production they are held to a policy before they are stored and again before every call (DNS can change between
the two):

- ``https`` only, no user info, no port other than 443, no query or fragment;
- Connect: the host is under one of the configured suffixes (``*.atlassian.net``, ``*.jira.com``,
  ``*.jira-dev.com`` by default); Forge: the host is one of Atlassian's API hosts (``api.atlassian.com``);
- no IP literals, and every address the host resolves to is public (no loopback, private, link-local, reserved).

Outside production (the demo and the tests talk to the local sandbox) the policy is not enforced.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

import httpx

from flowcase.config import Settings
from flowcase.errors import AuthError


class SiteUrlError(AuthError, status=403, code="site-refused"):
    """A tenant URL outside the policy: refused before anything is sent there."""

    def api_message(self) -> str:
        return f"this site's Jira address is not allowed: {self}"


@dataclass(frozen=True)
class SitePolicy:
    kind: Literal["connect", "forge"]
    hosts: tuple[str, ...]
    """Connect: allowed host suffixes (``.atlassian.net``); Forge: allowed exact hosts."""
    enforce: bool = True

    @classmethod
    def connect(cls, settings: Settings) -> SitePolicy:
        return cls("connect", settings.tenant_host_suffixes, settings.env == "production")

    @classmethod
    def forge(cls, settings: Settings) -> SitePolicy:
        return cls("forge", settings.forge_api_hosts, settings.env == "production")

    def check(self, url: str) -> str:
        """``url`` (without a trailing slash) when it names an allowed site; :class:`SiteUrlError` otherwise."""
        if self.enforce:
            self._check_parts(url)
        return url.rstrip("/")

    def _check_parts(self, url: str) -> None:
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            raise SiteUrlError("not a URL") from None
        host = (parts.hostname or "").lower()
        if parts.scheme != "https":
            raise SiteUrlError("only https site URLs are accepted")
        if parts.username or parts.password or parts.query or parts.fragment or port not in (None, 443):
            raise SiteUrlError("the site URL may not carry a user, port, query or fragment")
        if not host or _is_ip(host):
            raise SiteUrlError("the site URL must name a host, not an IP address")
        if self.kind == "forge":
            if host not in self.hosts:
                raise SiteUrlError(f"the Forge API base URL must be on {', '.join(self.hosts)}")
        elif not any(host.endswith(suffix) and len(host) > len(suffix) for suffix in self.hosts):
            raise SiteUrlError(f"the site must be under {', '.join('*' + s for s in self.hosts)}")

    async def check_target(self, url: httpx.URL) -> None:
        """Check a request about to be sent: the URL's parts, then every address its host resolves to."""
        if not self.enforce:
            return
        self._check_parts(str(url))
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(url.host, 443, type=socket.SOCK_STREAM)
        except OSError:
            raise SiteUrlError(f"{url.host} does not resolve") from None
        for info in infos:
            address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
            if not address.is_global:
                raise SiteUrlError(f"{url.host} resolves to a non-public address")


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


class GuardedTransport(httpx.AsyncBaseTransport):
    """An httpx transport that checks every request against a :class:`SitePolicy` before sending it."""

    def __init__(self, policy: SitePolicy, inner: httpx.AsyncBaseTransport | None = None) -> None:
        self.policy = policy
        self._owned = inner is None  # a shared transport given to us is closed by its owner
        self.inner = inner or httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await self.policy.check_target(request.url)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        if self._owned:
            await self.inner.aclose()


def guarded(policy: SitePolicy, transport: httpx.AsyncBaseTransport | None) -> httpx.AsyncBaseTransport | None:
    """``transport`` wrapped in the policy when it is enforced (production); as given otherwise.

    Call it once per client: without a ``transport`` the wrapper opens (and closes) a connection pool of its own.
    """
    return GuardedTransport(policy, transport) if policy.enforce else transport
