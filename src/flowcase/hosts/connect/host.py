"""``ConnectHost``: the Atlassian Connect implementation of :class:`flowcase.hosts.base.Host`.

Pages under ``/connect/`` accept only URL-bound tokens (``?jwt=`` with the qsh of that page URL); ``/api/``
accepts context tokens (``Authorization: JWT``, ``qsh == "context-qsh"``) or a token bound to that API URL.
Issue and project keys come from signed data only (the qsh-covered query of a page, or the context claim).
Admin rights are never taken from the browser: on admin paths Jira is asked (``permissions/check``).
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import httpx
from starlette.exceptions import HTTPException
from starlette.requests import Request

from flowcase.config import Settings
from flowcase.db.store import InstallationStore
from flowcase.hosts.base import Caller, ask_global_permission
from flowcase.hosts.connect.auth import ConnectJwtAuth, TenantUnavailableError
from flowcase.hosts.connect.incoming import Mode, VerifiedRequest, verify_request
from flowcase.hosts.connect.jwt import JwtError
from flowcase.hosts.connect.licence import check_licence
from flowcase.hosts.siteurl import SitePolicy, SiteUrlError, guarded

if TYPE_CHECKING:
    from flowcase.jira.client import JiraClient

log = logging.getLogger(__name__)

ADMIN_PATHS = ("/connect/admin", "/api/admin")
ADMIN_CACHE_SECONDS = 60.0
_KEY_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


def _key(value: object) -> str | None:
    if isinstance(value, str) and 0 < len(value) <= 255 and set(value) <= _KEY_CHARS:
        return value
    return None


def _context_keys(claims: dict[str, Any]) -> tuple[str | None, str | None]:
    context = claims.get("context")
    jira = context.get("jira") if isinstance(context, dict) else None
    if not isinstance(jira, dict):
        return None, None
    issue, project = jira.get("issue"), jira.get("project")
    return (
        _key(issue.get("key")) if isinstance(issue, dict) else None,
        _key(project.get("key")) if isinstance(project, dict) else None,
    )


class ConnectHost:
    name = "connect"

    def __init__(
        self,
        settings: Settings,
        store: InstallationStore,
        *,
        jira_transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        # In production every call is checked against the site URL policy first (hosts/siteurl.py).
        self._policy = SitePolicy.connect(settings)
        self._raw_transport = jira_transport
        # (site, account, permission) -> (granted, monotonic time): Jira's answer is reused for a minute.
        self._permission_cache: dict[tuple[str, str, str], tuple[bool, float]] = {}

    def _app_path(self, request: Request) -> str:
        path: str = request.scope["path"]
        root = request.scope.get("root_path", "")
        return path[len(root) :] if root and path.startswith(root) else path

    async def authenticate(self, request: Request) -> Caller:
        path = self._app_path(request)
        mode: Mode = "either" if path.startswith("/api/") else "url"
        try:
            verified = await verify_request(
                request,
                self.store,
                base_url=self.settings.base_url,
                mode=mode,
                leeway=self.settings.jwt_leeway_seconds,
            )
            licence = "unchecked"
            if not verified.is_context and not path.startswith("/api/"):  # page loads carry ``lic``
                licence = check_licence(
                    request.query_params.get("lic"), self.settings.licence_policy, client_key=verified.client_key
                )
        except JwtError as exc:
            log.warning("connect: %s %s refused (%s): %s", request.method, path, exc.status, exc.reason)
            raise HTTPException(exc.status, exc.reason) from None
        request.state.licence = licence
        caller = self._caller(request, verified)
        if path.startswith(ADMIN_PATHS):
            if caller.account_id is None or not await self.has_global_permission(caller, "ADMINISTER"):
                log.warning("connect: %s %s refused (403): not a Jira administrator", request.method, path)
                raise HTTPException(403, "Jira administrators only")
            caller = replace(caller, is_admin=True)
        return caller

    def _caller(self, request: Request, verified: VerifiedRequest) -> Caller:
        if verified.is_context:
            issue_key, project_key = _context_keys(verified.claims)
        else:  # the query is covered by the qsh, so these came from Jira
            issue_key = _key(request.query_params.get("issueKey"))
            project_key = _key(request.query_params.get("projectKey"))
        return Caller(
            site_id=verified.client_key,
            base_url=verified.installation.base_url,
            account_id=verified.account_id,
            issue_key=issue_key,
            project_key=project_key,
        )

    def _transport(self) -> httpx.AsyncBaseTransport | None:
        return guarded(self._policy, self._raw_transport)

    def auth_for(self, site_id: str, base_url: str) -> ConnectJwtAuth:
        return ConnectJwtAuth(
            app_key=self.settings.app_key,
            client_key=site_id,
            base_url=base_url,
            secret=lambda: self.store.shared_secret(site_id),
            async_secret=lambda: self.store.ashared_secret(site_id),
        )

    def jira(self, caller: Caller) -> JiraClient:
        from flowcase.jira.client import JiraClient

        return JiraClient(caller.base_url, self.auth_for(caller.site_id, caller.base_url), transport=self._transport())

    async def has_global_permission(self, caller: Caller, permission: str) -> bool:
        """Ask Jira (as the app) whether ``caller``'s user holds a global permission (answers kept 60 s)."""
        key = (caller.site_id, caller.account_id or "", permission)
        cached = self._permission_cache.get(key)
        if cached is not None and time.monotonic() - cached[1] < ADMIN_CACHE_SECONDS:
            return cached[0]
        granted = await self._ask_global_permission(caller, permission)
        if granted is None:  # Jira could not answer: refuse now, ask again next time
            return False
        if len(self._permission_cache) > 10_000:
            self._permission_cache.clear()
        self._permission_cache[key] = (granted, time.monotonic())
        return granted

    async def _ask_global_permission(self, caller: Caller, permission: str) -> bool | None:
        auth = self.auth_for(caller.site_id, caller.base_url)
        try:
            response = await ask_global_permission(caller.base_url, auth, self._transport(), caller, permission)
        except (httpx.HTTPError, TenantUnavailableError, SiteUrlError) as exc:
            log.warning("connect: permission check for %s failed (%s)", caller.site_id, type(exc).__name__)
            return None
        if response.status_code != 200:
            log.warning("connect: permission check for %s answered %s", caller.site_id, response.status_code)
            return None
        try:
            granted = response.json().get("globalPermissions", [])
        except (ValueError, AttributeError):
            log.warning("connect: permission check for %s answered an unreadable body", caller.site_id)
            return None
        return isinstance(granted, list) and permission in granted

    async def installation_active(self, site_id: str) -> bool:
        view, _ = await self.store.acredentials(site_id)
        return view is not None and view.active
