"""Wiring from settings: the store, the Connect host and its routes (used by ``create_app``)."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.routing import BaseRoute

from flowcase.config import Settings
from flowcase.db.crypto import SecretBox
from flowcase.db.engine import make_engine
from flowcase.db.store import InstallationStore
from flowcase.hosts.connect.host import ConnectHost
from flowcase.hosts.connect.routes import connect_routes


@dataclass(frozen=True)
class ConnectSetup:
    host: ConnectHost
    routes: list[BaseRoute]
    store: InstallationStore


def store_from_settings(settings: Settings) -> InstallationStore:
    """The tenant store for ``settings.database_url``; raises ``ConfigError`` without encryption keys."""
    return InstallationStore(
        make_engine(settings.database_url),
        SecretBox(settings.encryption_keys()),
        cache_seconds=settings.installations_cache_seconds,
    )


def connect_from_settings(settings: Settings, store: InstallationStore | None = None) -> ConnectSetup:
    store = store or store_from_settings(settings)
    return ConnectSetup(ConnectHost(settings, store), connect_routes(settings, store), store)
