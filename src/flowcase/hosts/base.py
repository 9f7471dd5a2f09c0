"""What the rest of the app may ask a host: who is calling, for which site, and a Jira client for it.

Every host adapter (Connect, Forge Remote, standalone) implements :class:`Host`. Nothing outside
``flowcase.hosts`` checks which host it runs on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import httpx

if TYPE_CHECKING:
    from starlette.requests import Request

    from flowcase.jira.client import JiraClient


@dataclass(frozen=True, slots=True)
class Caller:
    """An authenticated caller. ``site_id`` is the tenant key: every lookup of site data is scoped by it."""

    site_id: str
    base_url: str
    account_id: str | None = None
    issue_key: str | None = None
    project_key: str | None = None
    is_admin: bool = False


class Host(Protocol):
    name: str

    async def authenticate(self, request: Request) -> Caller:
        """The caller of ``request``; raises ``starlette.exceptions.HTTPException`` (401/403) otherwise."""
        ...

    def jira(self, caller: Caller) -> JiraClient:
        """A Jira client that acts for ``caller``'s site (and user, where the host allows)."""
        ...


async def ask_global_permission(
    base_url: str, auth: httpx.Auth, transport: httpx.AsyncBaseTransport | None, caller: Caller, permission: str
) -> httpx.Response:
    """Jira's answer (as the app, with ``auth``) to whether ``caller``'s user holds a global permission; what the
    answer means, and what a failure does, is each host's to decide."""
    body = {"accountId": caller.account_id, "globalPermissions": [permission]}
    async with httpx.AsyncClient(base_url=base_url, auth=auth, transport=transport, timeout=10.0) as client:
        return await client.post("/rest/api/3/permissions/check", json=body)
