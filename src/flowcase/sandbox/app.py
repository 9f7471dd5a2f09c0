"""``create_sandbox_app``: the sandbox site as one ASGI application."""

from __future__ import annotations

from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from flowcase.sandbox import (
    admin,
    bridge,
    forge_host,
    pages,
    rest_issues,
    rest_meta,
    rest_props,
    rest_search,
    xray,
    zephyr,
)
from flowcase.sandbox.errors import JiraHTTPError, handle_jira_error
from flowcase.sandbox.faults import FaultMiddleware
from flowcase.sandbox.site import Sandbox, SandboxConfig

STATIC = Path(__file__).parent / "static"


async def all_js(_request: Request) -> Response:
    headers = {
        "Cache-Control": "no-cache",
        "Cross-Origin-Resource-Policy": "cross-origin",
        "X-Content-Type-Options": "nosniff",
    }
    return FileResponse(STATIC / "all.js", media_type="text/javascript", headers=headers)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if request.url.path.startswith("/rest/"):
        message = "null for uri: " + str(request.url) if exc.status_code == 404 else str(exc.detail)
        return JSONResponse({"errorMessages": [message], "errors": {}}, status_code=exc.status_code)
    return PlainTextResponse(str(exc.detail), status_code=exc.status_code)


class _GetBodyGuard:
    """Jira answers 403 to a GET that carries a body (CHANGE-2328)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and scope["path"].startswith("/rest/"):
            headers = dict(scope.get("headers", []))
            length = headers.get(b"content-length", b"0")
            if (length.isdigit() and int(length) > 0) or b"transfer-encoding" in headers:
                response = JSONResponse(
                    {"errorMessages": ["A GET request must not have a body."], "errors": {}}, status_code=403
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def create_sandbox_app(config: SandboxConfig | None = None, *, sandbox: Sandbox | None = None) -> SandboxApp:
    """The sandbox ASGI app (fault injection and call log outermost). ``app.state.sandbox`` holds the site."""
    if sandbox is None:
        sandbox = Sandbox.open(config or SandboxConfig())
        if sandbox.config.demo_data:
            from flowcase.sandbox.demo import load_demo_projects

            load_demo_projects(sandbox)
    routes = [
        *rest_issues.routes,
        *rest_props.routes,
        *rest_meta.routes,
        *rest_search.routes,
        *zephyr.routes,
        *xray.routes,
        *admin.routes,
        *bridge.routes,
        *forge_host.routes,
        *pages.routes,
        Route("/atlassian-connect/all.js", all_js),
        Mount("/_sandbox/static", StaticFiles(directory=STATIC), name="static"),
    ]
    inner = Starlette(routes=routes, exception_handlers={JiraHTTPError: handle_jira_error, HTTPException: _http_error})
    inner.state.sandbox = sandbox
    outer = FaultMiddleware(_GetBodyGuard(inner), sandbox.faults, sandbox.calls)
    inner.state.outer_app = outer
    return SandboxApp(outer, sandbox)


class SandboxApp:
    """The outermost callable; exposes ``.sandbox`` (and ``.state.sandbox``) for servers and tests."""

    def __init__(self, app: ASGIApp, sandbox: Sandbox) -> None:
        self.app = app
        self.sandbox = sandbox

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)
