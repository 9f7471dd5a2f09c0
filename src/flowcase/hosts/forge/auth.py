"""``ForgeTokenAuth``: calls Jira with the OAuth token Forge sent with the invocation (``Bearer``)."""

from __future__ import annotations

from collections.abc import Callable, Generator

import httpx

from flowcase.errors import AuthError


class ForgeTokenMissingError(AuthError):
    """No unexpired token from Forge is held for this installation: no call is made."""


class ForgeTokenAuth(httpx.Auth):
    requires_request_body = False

    def __init__(self, token: str | Callable[[], str | None]) -> None:
        self._token = token

    def __repr__(self) -> str:  # never shows the token
        return "ForgeTokenAuth()"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        token = self._token() if callable(self._token) else self._token
        if not token:
            raise ForgeTokenMissingError("no Forge token for this installation (open the app in Jira again)")
        if request.method == "GET" and request.content:
            raise ValueError("a GET request must not carry a body")
        request.headers["Authorization"] = f"Bearer {token}"
        yield request
