"""Basic auth with an Atlassian API token, for the CLI and the standalone (laptop) mode.

The token is only ever placed in the ``Authorization`` header: never in a URL, never in ``repr`` or logs. It is
refused over plain ``http://`` except to a loopback address (the local sandbox).
"""

from __future__ import annotations

import base64
from collections.abc import Generator

import httpx

from flowcase.errors import CredentialsError

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


class ApiTokenAuth(httpx.Auth):
    requires_request_body = False

    def __init__(self, email: str, token: str) -> None:
        if not email or not token:
            raise CredentialsError("a Jira e-mail and API token are both required")
        if any(c in email + token for c in "\r\n"):
            raise CredentialsError("the Jira e-mail or token contains a line break")
        self.email = email
        self._header = "Basic " + base64.b64encode(f"{email}:{token}".encode()).decode("ascii")

    def __repr__(self) -> str:
        return f"ApiTokenAuth(email={self.email!r}, token=***)"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if request.url.scheme != "https" and request.url.host not in LOOPBACK:
            raise CredentialsError("refusing to send a Jira API token over plain http (use https)")
        request.headers["Authorization"] = self._header
        yield request
