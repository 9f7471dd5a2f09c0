"""Starlette routes of the Connect host: the descriptor and the four lifecycle callbacks."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from flowcase.config import Settings
from flowcase.db.store import InstallationStore
from flowcase.hosts.connect.descriptor import LIFECYCLE_PATHS, build_descriptor
from flowcase.hosts.connect.keys import InstallKeyProvider
from flowcase.hosts.connect.lifecycle import LifecycleHandlers


def connect_routes(
    settings: Settings, store: InstallationStore, *, keys: InstallKeyProvider | None = None
) -> list[BaseRoute]:
    """``GET /atlassian-connect.json`` and ``POST /connect/lifecycle/{installed,uninstalled,enabled,disabled}``."""
    handlers = LifecycleHandlers(settings, store, keys or InstallKeyProvider(settings.connect_key_server))
    descriptor = build_descriptor(settings)

    async def serve_descriptor(_request: Request) -> Response:
        return JSONResponse(descriptor, headers={"Cache-Control": "no-cache"})

    return [
        Route("/atlassian-connect.json", serve_descriptor, methods=["GET"], name="connect_descriptor"),
        Route(LIFECYCLE_PATHS["installed"], handlers.installed, methods=["POST"], name="connect_installed"),
        Route(LIFECYCLE_PATHS["uninstalled"], handlers.uninstalled, methods=["POST"], name="connect_uninstalled"),
        Route(LIFECYCLE_PATHS["enabled"], handlers.enabled, methods=["POST"], name="connect_enabled"),
        Route(LIFECYCLE_PATHS["disabled"], handlers.disabled, methods=["POST"], name="connect_disabled"),
    ]
