"""Wiring for ``create_app``: the Forge host and its routes (only when ``FLOWCASE_FORGE_APP_ID`` is set)."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.routing import BaseRoute

from flowcase.config import Settings
from flowcase.db.engine import make_engine
from flowcase.hosts.forge.host import ForgeHost
from flowcase.hosts.forge.jwks import JwksCache
from flowcase.hosts.forge.routes import forge_routes
from flowcase.hosts.forge.store import ForgeStore
from flowcase.hosts.siteurl import SitePolicy


@dataclass(frozen=True)
class ForgeSetup:
    host: ForgeHost
    routes: list[BaseRoute]


def make_forge(
    app_id: str, jwks_url: str, store: ForgeStore, *, leeway: float = 30, policy: SitePolicy | None = None
) -> ForgeSetup:
    host = ForgeHost(app_id, JwksCache(jwks_url), store, leeway=leeway, policy=policy)
    return ForgeSetup(host, forge_routes(host))


def forge_from_settings(settings: Settings) -> ForgeSetup | None:
    if not settings.forge_app_id:
        return None
    store = ForgeStore(make_engine(settings.database_url))
    return make_forge(
        settings.forge_app_id,
        settings.forge_jwks_url,
        store,
        leeway=settings.jwt_leeway_seconds,
        policy=SitePolicy.forge(settings),
    )
