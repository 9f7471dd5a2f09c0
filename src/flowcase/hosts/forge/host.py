"""``ForgeHost``: the Forge Remote implementation of :class:`flowcase.hosts.base.Host`.

Forge calls the backend (``invokeRemote`` from the Custom UI, lifecycle triggers) with
``Authorization: Bearer <FIT>`` plus the product tokens ``x-forge-oauth-system`` / ``x-forge-oauth-user``.
The caller comes from the verified token only; the installation must be recorded and active, and the token's
API base URL and cloud id must match the record (a token minted for one installation cannot act on another).
Product tokens are held in memory only, per installation (and user), until they expire; never stored or logged.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from typing import TYPE_CHECKING

import httpx
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request

from flowcase.errors import TenantUnavailableError
from flowcase.hosts.base import Caller, ask_global_permission
from flowcase.hosts.forge.auth import ForgeTokenAuth, ForgeTokenMissingError
from flowcase.hosts.forge.fit import FitError, Invocation, verify_fit
from flowcase.hosts.forge.jwks import JwksCache
from flowcase.hosts.forge.store import ForgeStore
from flowcase.hosts.siteurl import SitePolicy, SiteUrlError, guarded

if TYPE_CHECKING:
    from flowcase.jira.client import JiraClient

log = logging.getLogger(__name__)

ADMIN_PATHS = ("/api/admin",)
FORGE_PATHS = ("/api/", "/forge/")
TOKEN_SECONDS = 50 * 60.0  # Forge's product tokens are short-lived; never reuse one beyond this
ADMIN_CACHE_SECONDS = 60.0
SYSTEM_HEADER = "x-forge-oauth-system"
USER_HEADER = "x-forge-oauth-user"
FORGE_INSTALLATION = "ari:cloud:ecosystem::installation/"


def bearer(request: Request) -> str | None:
    value = request.headers.get("authorization", "")
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


class ForgeHost:
    name = "forge"

    def __init__(
        self,
        app_id: str,
        keys: JwksCache,
        store: ForgeStore,
        *,
        leeway: float = 30,
        jira_transport: httpx.AsyncBaseTransport | None = None,
        policy: SitePolicy | None = None,
    ) -> None:
        self.app_id = app_id
        self.keys = keys
        self.store = store
        self.leeway = leeway
        # Where calls may go: Atlassian's API host(s) only, checked before every call in production.
        self.policy = policy or SitePolicy("forge", ("api.atlassian.com",), enforce=False)
        self._raw_transport = jira_transport
        self._tokens: dict[tuple[str, str | None], tuple[str, float]] = {}
        self._permission_cache: dict[tuple[str, str, str], tuple[bool, float]] = {}

    async def verify(self, request: Request) -> Invocation:
        """The verified invocation of ``request`` (no installation check); raises HTTPException 401/503."""
        path: str = request.scope["path"]
        token = bearer(request)
        if token is None or not path.startswith(FORGE_PATHS):
            raise HTTPException(401, "not a Forge invocation")
        try:
            invocation = await verify_fit(token, self.keys, app_id=self.app_id, leeway=self.leeway)
            self.policy.check(invocation.api_base_url)
            return invocation
        except SiteUrlError as exc:
            log.warning("forge: %s %s refused (403): apiBaseUrl: %s", request.method, path, exc)
            raise HTTPException(403, "the token's API base URL is not an Atlassian API host") from None
        except FitError as exc:
            log.warning("forge: %s %s refused (%s): %s", request.method, path, exc.status, exc.reason)
            raise HTTPException(exc.status, exc.reason) from None

    async def authenticate(self, request: Request) -> Caller:
        invocation = await self.verify(request)
        path: str = request.scope["path"]
        record = await run_in_threadpool(self.store.get, invocation.installation_id)
        if record is None or not record.active:
            log.warning("forge: %s %s refused (403): unknown installation", request.method, path)
            raise HTTPException(403, "the app is not installed for this installation")
        if record.base_url != invocation.api_base_url or (
            record.cloud_id is not None and invocation.cloud_id != record.cloud_id
        ):
            log.warning("forge: %s %s refused (403): token does not match its installation", request.method, path)
            raise HTTPException(403, "the token does not match its installation")
        self._remember(invocation, request)
        caller = Caller(
            site_id=invocation.installation_id,
            base_url=invocation.api_base_url,
            account_id=invocation.account_id,
            issue_key=invocation.issue_key,
            project_key=invocation.project_key,
        )
        if path.startswith(ADMIN_PATHS):
            if caller.account_id is None or not await self.has_global_permission(caller, "ADMINISTER"):
                log.warning("forge: %s %s refused (403): not a Jira administrator", request.method, path)
                raise HTTPException(403, "Jira administrators only")
            caller = replace(caller, is_admin=True)
        request.state.licence = "unchecked"
        return caller

    def _transport(self) -> httpx.AsyncBaseTransport | None:
        return guarded(self.policy, self._raw_transport)

    def _remember(self, invocation: Invocation, request: Request) -> None:
        expires = time.monotonic() + TOKEN_SECONDS
        if len(self._tokens) > 10_000:
            self._tokens.clear()
        system = request.headers.get(SYSTEM_HEADER)
        if system:
            self._tokens[(invocation.installation_id, None)] = (system, expires)
        user = request.headers.get(USER_HEADER)
        if user and invocation.account_id:
            self._tokens[(invocation.installation_id, invocation.account_id)] = (user, expires)

    def token(self, site_id: str, account_id: str | None) -> str | None:
        """The user's token when Forge sent one, else the app's system token (None once expired)."""
        for key in ((site_id, account_id), (site_id, None)) if account_id else ((site_id, None),):
            held = self._tokens.get(key)
            if held is not None and held[1] > time.monotonic():
                return held[0]
        return None

    def auth_for(self, caller: Caller, *, system: bool = False) -> ForgeTokenAuth:
        account = None if system else caller.account_id
        return ForgeTokenAuth(lambda: self.token(caller.site_id, account))

    def jira(self, caller: Caller) -> JiraClient:
        from flowcase.jira.client import JiraClient

        return JiraClient(caller.base_url, self.auth_for(caller), transport=self._transport())

    def jira_for_site(self, site_id: str) -> JiraClient:
        """A client for background work (publish jobs): the app's system token, while Forge's last one is valid."""
        record = self.store.get(site_id)
        if record is None or not record.active:
            raise TenantUnavailableError("the app is no longer installed on this site")
        return self.jira(Caller(site_id=site_id, base_url=record.base_url))

    async def has_global_permission(self, caller: Caller, permission: str) -> bool:
        key = (caller.site_id, caller.account_id or "", permission)  # one answer per permission asked
        cached = self._permission_cache.get(key)
        if cached is not None and time.monotonic() - cached[1] < ADMIN_CACHE_SECONDS:
            return cached[0]
        try:
            auth = self.auth_for(caller, system=True)
            response = await ask_global_permission(caller.base_url, auth, self._transport(), caller, permission)
        except (httpx.HTTPError, ForgeTokenMissingError, SiteUrlError) as exc:
            log.warning("forge: permission check for %s failed (%s)", caller.site_id, type(exc).__name__)
            return False
        if response.status_code != 200:
            return False
        try:
            answer = response.json()
        except ValueError:
            log.warning("forge: permission check for %s: the answer is not JSON", caller.site_id)
            return False
        granted_list = answer.get("globalPermissions", []) if isinstance(answer, dict) else None
        granted = isinstance(granted_list, list) and permission in granted_list
        if len(self._permission_cache) > 10_000:
            self._permission_cache.clear()
        self._permission_cache[key] = (granted, time.monotonic())
        return granted
