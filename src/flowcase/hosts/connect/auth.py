"""``ConnectJwtAuth``: signs every outgoing Jira call with a fresh HS256 JWT (iss = app key, aud = [clientKey]).

The token is minted per request (180 s) with the qsh of exactly the URL being sent, relative to the tenant's base
URL path. The shared secret is looked up for each request (from the installations cache, which every process
drops the moment a site changes, or in a thread), so once a site is uninstalled (secret erased) no further call
leaves the app. A GET with a body is refused before sending (Jira answers 403 to those).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable, Generator

import httpx

from flowcase.errors import TenantUnavailableError as TenantUnavailableError
from flowcase.hosts.connect.jwt import outgoing_token

SecretSource = Callable[[], str | None]
AsyncSecretSource = Callable[[], Awaitable[str | None]]


class ConnectJwtAuth(httpx.Auth):
    requires_request_body = False

    def __init__(
        self,
        *,
        app_key: str,
        client_key: str,
        base_url: str,
        secret: str | SecretSource,
        async_secret: AsyncSecretSource | None = None,
    ) -> None:
        self.app_key = app_key
        self.client_key = client_key
        self.base_url = base_url.rstrip("/")
        self._secret = secret
        self._async_secret = async_secret  # used by async clients: never blocks the event loop

    def __repr__(self) -> str:
        return f"ConnectJwtAuth(app_key={self.app_key!r}, client_key={self.client_key!r})"

    def _current_secret(self) -> str:
        secret = self._secret() if callable(self._secret) else self._secret
        if not secret:
            raise TenantUnavailableError(f"site {self.client_key} is not installed: no call made")
        return secret

    def sign(self, request: httpx.Request, secret: str | None = None) -> None:
        has_body = request.headers.get("content-length", "0") not in ("", "0") or "transfer-encoding" in request.headers
        if request.method == "GET" and has_body:
            raise ValueError("refusing to send a body with GET (Jira rejects it)")
        if secret is None:
            secret = self._current_secret()
        token = outgoing_token(
            request.method,
            str(request.url),
            app_key=self.app_key,
            client_key=self.client_key,
            secret=secret,
            base_url=self.base_url,
        )
        request.headers["Authorization"] = f"JWT {token}"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        self.sign(request)
        yield request

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        if self._async_secret is None:
            self.sign(request)
        else:
            secret = await self._async_secret()
            if not secret:
                raise TenantUnavailableError(f"site {self.client_key} is not installed: no call made")
            self.sign(request, secret)
        yield request
