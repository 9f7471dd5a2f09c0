"""What the rest of the app may ask a host: who is calling, for which site, and a Jira client for it.

Every host adapter (Connect, Forge Remote, standalone) implements :class:`Host`. Nothing outside
``flowcase.hosts`` checks which host it runs on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

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
