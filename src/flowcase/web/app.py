"""The web application: pages, JSON API and static files, every request authenticated by a host.

``create_app(settings)`` builds the app from settings alone (configuration comes only from the environment).
Hosts: the Connect host (whenever encryption keys are configured, and always in production) and the
standalone host when ``FLOWCASE_STANDALONE=1`` or in development. Tests pass ``hosts=``/``connect=``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from flowcase.config import Settings, get_settings
from flowcase.errors import FlowcaseError, TenantUnavailableError
from flowcase.hosts.base import Caller, Host
from flowcase.hosts.connect.factory import ConnectSetup, connect_from_settings
from flowcase.hosts.forge.factory import forge_from_settings
from flowcase.hosts.forge.host import FORGE_INSTALLATION, ForgeHost
from flowcase.hosts.standalone import StandaloneHost
from flowcase.web import api_models
from flowcase.web.accesslog import AccessLogMiddleware, configure_logging
from flowcase.web.compute import Compute, Limits
from flowcase.web.errors import (
    ApiError,
    api_error_handler,
    flowcase_error_handler,
    http_error_handler,
    unexpected_error_handler,
)
from flowcase.web.pages import page_routes
from flowcase.web.publishing import MemoryPublisher, Publisher, QueuedPublisher
from flowcase.web.security import SecurityHeadersMiddleware
from flowcase.web.static_urls import STATIC as STATIC

if TYPE_CHECKING:
    from flowcase.db.vendor import VendorCredentialStore
    from flowcase.jira.client import JiraClient
    from flowcase.jira.jobs import JobView
    from flowcase.targets import VendorAccess


def api_routes() -> list[Route]:
    from flowcase.web import api_jira, api_results, vendor_api

    return [
        Route("/api/me", _me, methods=["GET"]),
        Route("/api/models/validate", api_models.validate_model, methods=["POST"]),
        Route("/api/models/import", api_models.import_model, methods=["POST"]),
        Route("/api/models/editor", api_models.editor_document, methods=["POST"]),
        Route("/api/generate", api_models.generate_tests, methods=["POST"]),
        Route("/api/export", api_models.export_file, methods=["POST"]),
        Route("/api/results", api_models.import_results, methods=["POST"]),
        Route("/api/results/remote", api_results.remote_results, methods=["POST"]),
        Route("/api/models/{issue_key}", api_jira.get_model, methods=["GET"]),
        Route("/api/models/{issue_key}", api_jira.put_model, methods=["PUT"]),
        Route("/api/models/{issue_key}/restore", api_jira.restore_model, methods=["POST"]),
        Route("/api/diff", api_jira.diff, methods=["POST"]),
        Route("/api/lineage/{issue_key}", api_jira.lineage, methods=["GET"]),
        Route("/api/publish", api_jira.start_publish, methods=["POST"]),
        Route("/api/publish/{job_id}", api_jira.publish_status, methods=["GET"]),
        Route("/api/projects/{project_key}/workflows", api_jira.project_workflows, methods=["GET"]),
        Route("/api/admin/settings", api_jira.get_admin_settings, methods=["GET"]),
        Route("/api/admin/settings", api_jira.put_admin_settings, methods=["PUT"]),
        Route("/api/admin/setup", api_jira.admin_setup, methods=["POST"]),
        Route("/api/admin/vendor-credentials", vendor_api.get_vendor_credentials, methods=["GET"]),
        Route("/api/admin/vendor-credentials", vendor_api.put_vendor_credentials, methods=["PUT"]),
        Route("/api/admin/vendor-credentials/{vendor}", vendor_api.delete_vendor_credentials, methods=["DELETE"]),
        Route("/api/preflight/{project_key}", api_jira.get_preflight, methods=["GET"]),
        Route("/api/{rest:path}", _api_not_found, methods=["GET", "POST", "PUT", "DELETE", "PATCH"]),
    ]


async def _me(request: Request) -> Response:
    """Who the app sees: host, site and the signed context (the front end's session check; the benchmark's route)."""
    from flowcase.web.auth import authenticate

    caller = await authenticate(request)
    return JSONResponse(
        {
            "host": request.state.host.name,
            "site": caller.site_id,
            "accountId": caller.account_id,
            "issueKey": caller.issue_key,
            "projectKey": caller.project_key,
        }
    )


async def _api_not_found(request: Request) -> Response:
    raise HTTPException(404, f"no API endpoint {request.method} {request.url.path}")


async def _root(request: Request) -> Response:
    return RedirectResponse("/app/", 303)


def standalone_enabled(settings: Settings) -> bool:
    return settings.standalone or settings.env == "development"


def create_app(
    settings: Settings | None = None,
    *,
    hosts: Sequence[Host] | None = None,
    connect: ConnectSetup | None = None,
    extra_routes: Sequence[BaseRoute] = (),
) -> Starlette:
    """The app. By default: Connect (when encryption keys are configured) + standalone (when enabled).

    ``hosts`` replaces the default host list; ``connect`` supplies a ready Connect setup (tests, demo).
    """
    settings = settings or get_settings()
    configure_logging(settings.log_level)
    host_list: list[Host] = list(hosts) if hosts is not None else []
    connect_routes: list[BaseRoute] = []
    owns_connect = False
    if connect is None and hosts is None and (settings.secret_keys or not standalone_enabled(settings)):
        connect = connect_from_settings(settings)
        owns_connect = True
    if connect is not None:
        connect_routes = list(connect.routes)
        if hosts is None:
            host_list.append(connect.host)
    forge = forge_from_settings(settings) if hosts is None else None  # Forge Remote (docs/forge.md)
    if forge is not None:
        host_list.append(forge.host)
        connect_routes += forge.routes
    if hosts is None and standalone_enabled(settings):
        host_list.append(StandaloneHost.from_settings(settings))
    routes: list[BaseRoute] = [
        Route("/", _root),
        *connect_routes,
        *extra_routes,
        *page_routes(),
        *api_routes(),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(AccessLogMiddleware),
            Middleware(SecurityHeadersMiddleware, hsts=settings.base_url.startswith("https://")),
        ],
        exception_handlers={
            ApiError: api_error_handler,
            FlowcaseError: flowcase_error_handler,
            HTTPException: http_error_handler,
            Exception: unexpected_error_handler,
        },
        lifespan=_lifespan,
    )
    app.state.settings = settings
    app.state.compute = Compute(Limits.from_settings(settings))
    app.state.hosts = host_list
    app.state.connect = connect
    app.state.vendor = vendor_store(settings, connect)
    app.state.publisher = make_publisher(
        settings, connect, forge.host if forge is not None else None, vendor=app.state.vendor
    )
    app.state.owns_connect = owns_connect
    return app


def vendor_store(settings: Settings, connect: ConnectSetup | None) -> VendorCredentialStore | None:
    """The sites' own Xray/Zephyr credentials, beside the installations (same database, same keys); None without
    encryption keys (a standalone app then uses FLOWCASE_XRAY_* / FLOWCASE_ZEPHYR_TOKEN only)."""
    from flowcase.db.vendor import VendorCredentialStore

    if connect is not None:
        return VendorCredentialStore(connect.store.engine, connect.store.box)
    if not settings.secret_keys:
        return None
    from flowcase.db.crypto import SecretBox
    from flowcase.db.engine import make_engine

    return VendorCredentialStore(
        make_engine(settings.database_url), SecretBox(settings.encryption_keys()), owns_engine=True
    )


def vendor_access_for(vendor: VendorCredentialStore | None) -> Callable[[str, str], VendorAccess]:
    """(site id, Jira base URL) -> that site's vendor credentials (:func:`flowcase.targets.site_access`)."""
    from flowcase.targets import site_access

    return lambda site_id, base_url: site_access(vendor, site_id, base_url)


@contextlib.asynccontextmanager
async def _lifespan(app: Starlette) -> AsyncIterator[None]:
    yield
    await close_app(app)


async def close_app(app: Starlette) -> None:
    """Close what the app opened (at shutdown): the job queue's connection pool, the installations listener and,
    when the app made the Connect setup or the credential store itself, their database engines' pooled connections."""
    publisher = app.state.publisher
    if isinstance(publisher, QueuedPublisher):
        await publisher.queue.close()
    connect: ConnectSetup | None = app.state.connect
    if connect is not None:
        await connect.store.stop_listening()
        if app.state.owns_connect:
            await asyncio.to_thread(connect.store.engine.dispose)
    vendor: VendorCredentialStore | None = app.state.vendor
    if vendor is not None:
        await asyncio.to_thread(vendor.close)


def is_postgres(database_url: str) -> bool:
    return database_url.startswith(("postgresql", "postgres:"))


def job_clients(connect: ConnectSetup, forge: ForgeHost | None = None) -> Callable[[JobView], JiraClient]:
    """How a publish job reaches its site's Jira: the Connect installation's signed calls or Forge's tokens.

    Blocking (it reads the installation): the worker calls it in a thread."""
    setup = connect

    def client_for(job: JobView) -> JiraClient:
        if forge is not None and job.site_id.startswith(FORGE_INSTALLATION):  # Forge installation ids are ARIs
            return forge.jira_for_site(job.site_id)
        installation = setup.store.get(job.site_id)
        if installation is None or not installation.active:
            raise TenantUnavailableError("the app is no longer installed on this site")
        return setup.host.jira(Caller(site_id=job.site_id, base_url=installation.base_url))

    return client_for


def make_publisher(
    settings: Settings,
    connect: ConnectSetup | None,
    forge: ForgeHost | None = None,
    *,
    vendor: VendorCredentialStore | None = None,
) -> Publisher:
    """Durable jobs on the queue when the app's database is PostgreSQL (production, demo); otherwise (no database,
    or SQLite in tests and development) publishing runs in this process."""
    if connect is None or not is_postgres(settings.database_url):
        return MemoryPublisher(vendor_access_for(vendor))
    from flowcase.db.engine import session_factory
    from flowcase.jira.jobs import JobStore
    from flowcase.jira.queue import PublishQueue

    return QueuedPublisher(
        JobStore(session_factory(connect.store.engine)),
        PublishQueue(settings.database_url),
        in_process=lambda site: forge is not None and site.startswith(FORGE_INSTALLATION),
        access_for=vendor_access_for(vendor),
    )
