"""The laptop host: the same pages at ``/app/...``, one local Jira site, a random local access token.

Configuration comes from :class:`flowcase.config.Settings`: ``FLOWCASE_JIRA_URL``, ``FLOWCASE_JIRA_EMAIL``,
``FLOWCASE_JIRA_TOKEN`` (Basic auth with an API token; without them the editor works on local files only)
and optionally ``FLOWCASE_LOCAL_TOKEN`` (otherwise a random token is made at start and printed once).

The browser proves it holds the token once (``/app/login?token=...`` or the login form); the server then
sets an HttpOnly, SameSite=Strict cookie and redirects to a URL without the token. API calls must also send
``X-Flowcase-Client: web`` (a header a cross-site form cannot add), so a page on another origin cannot
drive the API with the cookie.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from starlette.exceptions import HTTPException

from flowcase.errors import ConfigError
from flowcase.hosts.base import Caller

if TYPE_CHECKING:
    from starlette.requests import Request

    from flowcase.config import Settings
    from flowcase.jira.client import JiraClient

COOKIE = "flowcase_local"
CLIENT_HEADER = "x-flowcase-client"


@dataclass(frozen=True)
class JiraSite:
    """A Jira site reached with Basic auth (account email + API token)."""

    base_url: str
    email: str
    token: str = field(repr=False)

    def __post_init__(self) -> None:
        parts = urlsplit(self.base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError(f"FLOWCASE_JIRA_URL must be an http(s) URL, got {self.base_url!r}")


class StandaloneHost:
    """:class:`flowcase.hosts.base.Host` for one user on their own machine."""

    name = "standalone"

    def __init__(self, site: JiraSite | None, token: str | None = None, *, is_admin: bool = True) -> None:
        self.site = site
        self.token = token or secrets.token_urlsafe(24)
        self.is_admin = is_admin

    @classmethod
    def from_settings(cls, settings: Settings) -> StandaloneHost:
        url = settings.jira_url.strip().rstrip("/")
        email = settings.jira_email.strip()
        token = settings.jira_token.get_secret_value().strip() if settings.jira_token else ""
        if url and not (email and token):
            raise ConfigError("FLOWCASE_JIRA_URL needs FLOWCASE_JIRA_EMAIL and FLOWCASE_JIRA_TOKEN too")
        site = JiraSite(url, email, token) if url else None
        local = settings.local_token.get_secret_value().strip() if settings.local_token else ""
        return cls(site, local or None)

    @property
    def site_id(self) -> str:
        return f"standalone:{self.site.base_url}" if self.site else "standalone:local"

    def check_token(self, presented: str | None) -> bool:
        return presented is not None and hmac.compare_digest(presented.encode(), self.token.encode())

    def presented_token(self, request: Request) -> str | None:
        auth = request.headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            return auth[7:].strip()
        return request.cookies.get(COOKIE)

    async def authenticate(self, request: Request) -> Caller:
        if not self.check_token(self.presented_token(request)):
            raise HTTPException(401, "sign in with the local access token printed when flowcase started")
        is_api = request.url.path.startswith("/api/")
        if is_api and "authorization" not in request.headers and request.headers.get(CLIENT_HEADER) != "web":
            raise HTTPException(403, "API calls from the browser must send X-Flowcase-Client: web")
        params = request.path_params
        issue = params.get("issue_key") or request.query_params.get("issueKey")
        project = params.get("project_key") or request.query_params.get("projectKey")
        if issue and not project and "-" in issue:
            project = issue.rsplit("-", 1)[0]
        return Caller(
            site_id=self.site_id,
            base_url=self.site.base_url if self.site else "",
            account_id=None,
            issue_key=issue,
            project_key=project,
            is_admin=self.is_admin,
        )

    def jira(self, caller: Caller) -> JiraClient:
        if self.site is None:
            raise HTTPException(
                503, "no Jira site configured: set FLOWCASE_JIRA_URL, FLOWCASE_JIRA_EMAIL, FLOWCASE_JIRA_TOKEN"
            )
        from flowcase.jira.auth import ApiTokenAuth
        from flowcase.jira.client import JiraClient

        return JiraClient(self.site.base_url, ApiTokenAuth(self.site.email, self.site.token))
