"""Server side of the AP bridge: context tokens, dialog URLs and ``AP.request`` proxied as the app.

The host page script calls these with its page token (``X-Sandbox-Page``) from the sandbox's own origin.
``AP.request`` is forwarded to the sandbox's REST API in-process, signed as the app (HS256, qsh of the exact
request), so it passes through the same authentication, limits, fault injection and call log as any app call.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from flowcase.sandbox.connect import InstallError, app_request_token, context_token, install, uninstall
from flowcase.sandbox.errors import JiraHTTPError
from flowcase.sandbox.modules import find_module
from flowcase.sandbox.pages import frame_for, origin_of, read_page_token
from flowcase.sandbox.rest_issues import read_json
from flowcase.sandbox.site import Sandbox

ALLOWED_METHODS = {"GET", "POST", "PUT", "DELETE"}


def _guard(request: Request) -> tuple[Sandbox, Any]:
    sandbox: Sandbox = request.app.state.sandbox
    origin = request.headers.get("origin")
    if origin != origin_of(sandbox.base_url):
        raise JiraHTTPError(403, "Bridge calls are only accepted from the sandbox's own pages.")
    context = read_page_token(sandbox, request.headers.get("x-sandbox-page", ""))
    return sandbox, context


async def _installation(sandbox: Sandbox, body: Any) -> Any:
    app_key = body.get("app") if isinstance(body, dict) else None
    inst = sandbox.installation(str(app_key)) if app_key else None
    if inst is None:
        raise JiraHTTPError(404, "No such installed app.")
    return inst


async def token(request: Request) -> Response:
    sandbox, context = _guard(request)
    body = await read_json(request)
    inst = await _installation(sandbox, body)
    return JSONResponse({"token": context_token(sandbox, inst, context)})


async def frame(request: Request) -> Response:
    """A signed iframe for a dialog or page module of the calling app (``AP.dialog.create``)."""
    sandbox, context = _guard(request)
    body = await read_json(request)
    inst = await _installation(sandbox, body)
    module = find_module(inst, str(body.get("module", "")))
    if module is None:
        raise JiraHTTPError(404, f"The app has no module '{body.get('module')}'.")
    return JSONResponse(frame_for(sandbox, inst, module, context))


async def app_request(request: Request) -> Response:
    sandbox, _context = _guard(request)
    body = await read_json(request)
    inst = await _installation(sandbox, body)
    url = str(body.get("url", ""))
    method = str(body.get("type", "GET")).upper()
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or not parts.path.startswith("/rest/"):
        raise JiraHTTPError(400, "AP.request only reaches this site's /rest/ API (a relative URL).")
    if method not in ALLOWED_METHODS:
        raise JiraHTTPError(400, f"Unsupported method {method}.")
    data = body.get("data")
    content: bytes | None = None
    headers = {"Accept": "application/json"}
    target = url
    if method == "GET" and isinstance(data, dict) and data:
        target += ("&" if parts.query else "?") + urlencode(data, doseq=True)
    elif data is not None and method != "GET":
        content = data.encode() if isinstance(data, str) else json.dumps(data).encode()
        headers["Content-Type"] = str(body.get("contentType") or "application/json")
    for name, value in (body.get("headers") or {}).items():
        if str(name).lower() in ("accept", "x-atlassian-token"):
            headers[str(name)] = str(value)
    headers["Authorization"] = f"JWT {app_request_token(sandbox, inst, method, target)}"
    transport = httpx.ASGITransport(app=request.app.state.outer_app)
    async with httpx.AsyncClient(transport=transport, base_url=sandbox.base_url) as client:
        try:
            response = await client.request(method, target, content=content, headers=headers)
        except (httpx.HTTPError, ConnectionError):
            return JSONResponse({"status": 0, "body": "", "contentType": "", "statusText": "network error"})
    return JSONResponse(
        {
            "status": response.status_code,
            "body": response.text,
            "contentType": response.headers.get("content-type", ""),
            "statusText": response.reason_phrase,
        }
    )


async def manage_app(request: Request) -> Response:
    """The admin page's "Upload app" and "Uninstall" (like UPM): install from a descriptor URL, or remove."""
    sandbox, _context = _guard(request)
    body = await read_json(request)
    if not isinstance(body, dict):
        raise JiraHTTPError(400, "The request body must be a JSON object.")
    try:
        if body.get("uninstall"):
            await uninstall(sandbox, str(body["uninstall"]))
            return JSONResponse({"uninstalled": str(body["uninstall"])})
        inst = await install(sandbox, str(body.get("descriptorUrl", "")))
    except InstallError as exc:
        raise JiraHTTPError(400, f"Installation failed: {exc}") from None
    return JSONResponse({"installed": inst.app_key})


routes = [
    Route("/_sandbox/bridge/apps", manage_app, methods=["POST"]),
    Route("/_sandbox/bridge/token", token, methods=["POST"]),
    Route("/_sandbox/bridge/frame", frame, methods=["POST"]),
    Route("/_sandbox/bridge/request", app_request, methods=["POST"]),
]
