"""The sandbox's Forge mode: Forge apps installed with a remote, Custom UI pages in iframes, remote calls forwarded.

What Forge does for a Custom UI app with a remote backend, done locally:

* ``install_forge_app`` registers an app (id, Connect key, remote URL, built resource folders), gives it an
  installation id and product tokens, and calls the remote's lifecycle trigger with a signed FIT.
* ``/forge/browse/{key}``, ``/forge/projects/{key}``, ``/forge/admin`` render Jira-like pages whose modules are
  iframes of ``/_forge/cdn/{app}/{resource}/index.html`` (the resource files, with the bridge stand-in injected).
* ``/_forge/bridge.js`` is the stand-in for the Forge host bridge (``window.__bridge.callBridge``): getContext,
  invoke (``invokeRemote``), openModal, close, showFlag. ``invokeRemote`` posts to ``/_forge/invoke``, which signs a
  FIT (``/_forge/jwks.json``) and forwards the call to the remote with ``x-forge-oauth-system``/``-user`` tokens.
* The sandbox REST API accepts those tokens as ``Authorization: Bearer`` (see ``check_forge_token``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import secrets
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from flowcase.sandbox.errors import JiraHTTPError
from flowcase.sandbox.forge_jwks import ForgeSigner, fit_claims
from flowcase.sandbox.issues import issue_with_project
from flowcase.sandbox.models import Project
from flowcase.sandbox.site import DEMO_USER, Principal, Sandbox, User, sandbox_of

STATIC = Path(__file__).parent / "static"
TOKEN_SECONDS = 3600
MODULES = {
    "issue-panel": "jira:issuePanel",
    "editor": "jira:issuePanel",
    "project-page": "jira:projectPage",
    "admin-page": "jira:adminPage",
}
FORWARD_HEADERS = ("content-type", "accept", "x-flowcase-client")


@dataclass
class ForgeApp:
    app_id: str
    connect_key: str
    remote_url: str
    resources: Path
    installation_id: str = field(default_factory=lambda: f"ari:cloud:ecosystem::installation/{uuid.uuid4()}")
    system_token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    user_token: str = field(default_factory=lambda: secrets.token_urlsafe(24))


@dataclass
class ForgeMode:
    signer: ForgeSigner = field(default_factory=ForgeSigner)
    apps: dict[str, ForgeApp] = field(default_factory=dict)
    cloud_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    secret: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    issued: float = field(default_factory=time.time)


_MODES: dict[int, tuple[Sandbox, ForgeMode]] = {}


def forge_mode(sandbox: Sandbox) -> ForgeMode:
    """The Forge state of ``sandbox`` (created on first use; lives as long as the process)."""
    entry = _MODES.get(id(sandbox))
    if entry is None or entry[0] is not sandbox:
        entry = (sandbox, ForgeMode())
        _MODES[id(sandbox)] = entry
    return entry[1]


def check_forge_token(sandbox: Sandbox, token: str) -> Any:
    """The REST principal for a product token Forge handed to a remote (user token: acts as the demo user)."""
    mode = forge_mode(sandbox)
    for app in mode.apps.values():
        for kind, expected in (("user", app.user_token), ("system", app.system_token)):
            if hmac.compare_digest(token.encode(), expected.encode()):
                if time.time() > mode.issued + TOKEN_SECONDS:
                    raise JiraHTTPError(401, "The Forge token has expired.")
                user = (
                    DEMO_USER
                    if kind == "user"
                    else User(f"app:{app.app_id}", "", app.connect_key, DEMO_USER.permissions)
                )
                return Principal(user=user, app_key=app.connect_key, scopes=frozenset({"READ", "WRITE", "DELETE"}))
    raise JiraHTTPError(401, "Unknown or revoked bearer token.")


# --- install ------------------------------------------------------------------------------------------------


def sign_invocation(
    sandbox: Sandbox,
    app: ForgeApp,
    *,
    module_key: str,
    extension: dict[str, Any],
    account_id: str | None = DEMO_USER.account_id,
) -> str:
    mode = forge_mode(sandbox)
    claims = fit_claims(
        app_id=app.app_id,
        installation_id=app.installation_id,
        api_base_url=sandbox.base_url,
        cloud_id=mode.cloud_id,
        account_id=account_id,
        module_key=module_key,
        extension=extension,
    )
    return mode.signer.sign(claims)


def remote_headers(app: ForgeApp, fit: str) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {fit}",
        "x-forge-oauth-system": app.system_token,
        "x-forge-oauth-user": app.user_token,
    }


def install_forge_app(
    sandbox: Sandbox, *, app_id: str, remote_url: str, resources: Path, connect_key: str = "flowcase"
) -> ForgeApp:
    """Install a Forge app: record it and send ``avi:forge:installed:app`` to ``{remote}/forge/lifecycle``."""
    app = ForgeApp(app_id, connect_key, remote_url.rstrip("/"), resources)
    forge_mode(sandbox).apps[app_id] = app
    fit = sign_invocation(sandbox, app, module_key="lifecycle", extension={}, account_id=None)
    body = {"eventType": "avi:forge:installed:app", "context": {"cloudId": forge_mode(sandbox).cloud_id}}
    response = httpx.post(
        f"{app.remote_url}/forge/lifecycle", json=body, headers=remote_headers(app, fit), timeout=15.0
    )
    if response.status_code >= 300:
        raise RuntimeError(f"the remote refused the install ({response.status_code})")
    return app


# --- frame context tokens (what the iframe may claim about itself) ------------------------------------------


def frame_token(sandbox: Sandbox, data: dict[str, Any]) -> str:
    body = base64.urlsafe_b64encode(json.dumps(data, sort_keys=True).encode()).decode().rstrip("=")
    mac = hmac.new(forge_mode(sandbox).secret, body.encode(), hashlib.sha256).hexdigest()
    return f"{body}.{mac}"


def read_frame_token(sandbox: Sandbox, token: str) -> dict[str, Any]:
    body, _, mac = token.partition(".")
    expected = hmac.new(forge_mode(sandbox).secret, body.encode(), hashlib.sha256).hexdigest()
    if not body or not hmac.compare_digest(mac, expected):
        raise JiraHTTPError(403, "Invalid Forge frame context.")
    data: dict[str, Any] = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    return data


def frame_src(sandbox: Sandbox, app: ForgeApp, resource: str, extension: dict[str, Any]) -> str:
    token = frame_token(sandbox, {"app": app.app_id, "resource": resource, "extension": extension})
    return f"/_forge/cdn/{app.connect_key}/{resource}/index.html?ctx={token}"


# --- pages --------------------------------------------------------------------------------------------------


def _same_origin(request: Request, sandbox: Sandbox) -> None:
    """Bridge calls come from the sandbox's own frames, never from another site in the visitor's browser."""
    origin = request.headers.get("origin")
    if origin is None or origin.rstrip("/") != sandbox.base_url.rstrip("/"):
        raise JiraHTTPError(403, "Forge bridge calls must come from the sandbox's own pages.")


def _page(title: str, frames: list[tuple[str, str]], body: str = "") -> Response:
    iframes = "\n".join(
        f'<iframe class="forge-frame" data-forge-resource="{html.escape(r)}" src="{html.escape(src)}" '
        f'title="{html.escape(r)}"></iframe>'
        for r, src in frames
    )
    page = f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<link rel="stylesheet" href="/_sandbox/static/sandbox.css"><link rel="stylesheet" href="/_forge/page.css">
<script src="/_forge/page.js"></script></head>
<body class="forge-sandbox"><header class="forge-top">Sandbox Jira · Forge mode</header>
<main><h1>{html.escape(title)}</h1>{body}{iframes}</main></body></html>"""
    csp = (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "frame-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'"
    )
    return HTMLResponse(page, headers={"Content-Security-Policy": csp, "Cache-Control": "no-store"})


def _apps(sandbox: Sandbox) -> list[ForgeApp]:
    return list(forge_mode(sandbox).apps.values())


_T = TypeVar("_T")


def _found(value: _T | None, message: str) -> _T:
    if value is None:
        raise JiraHTTPError(404, message)
    return value


async def browse(request: Request) -> Response:
    sandbox = sandbox_of(request)
    key = request.path_params["key"].upper()
    with sandbox.session() as s:
        issue, project = _found(issue_with_project(s, key), f"Issue {key} does not exist.")
        extension = {
            "type": MODULES["issue-panel"],
            "issue": {"key": issue.key, "id": str(issue.id)},
            "project": {"key": project.key, "id": str(project.id)},
        }
        summary = issue.summary
    frames = [("issue-panel", frame_src(sandbox, app, "issue-panel", extension)) for app in _apps(sandbox)]
    return _page(f"{key}: {summary}", frames)


async def project_page(request: Request) -> Response:
    sandbox = sandbox_of(request)
    key = request.path_params["key"].upper()
    with sandbox.session() as s:
        project = _found(s.scalar(select(Project).where(Project.key == key)), f"Project {key} does not exist.")
        extension = {"type": MODULES["project-page"], "project": {"key": project.key, "id": str(project.id)}}
    frames = [("project-page", frame_src(sandbox, app, "project-page", extension)) for app in _apps(sandbox)]
    return _page(f"Project {key}", frames)


async def admin_page(request: Request) -> Response:
    sandbox = sandbox_of(request)
    frames = [
        ("admin-page", frame_src(sandbox, app, "admin-page", {"type": MODULES["admin-page"]})) for app in _apps(sandbox)
    ]
    return _page("Apps · settings", frames)


# --- Custom UI resources and the bridge stand-in ------------------------------------------------------------


async def cdn(request: Request) -> Response:
    sandbox = sandbox_of(request)
    app = next((a for a in _apps(sandbox) if a.connect_key == request.path_params["app"]), None)
    resource = request.path_params["resource"]
    if app is None or resource not in MODULES:
        raise JiraHTTPError(404, "No such Custom UI resource.")
    root = (app.resources / resource).resolve()
    path = (root / request.path_params["path"]).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        raise JiraHTTPError(404, "No such file.")
    if path.name == "index.html":
        standin = '<head>\n  <script src="/_forge/bridge.js"></script>'
        page = path.read_text(encoding="utf-8").replace("<head>", standin, 1)
        return HTMLResponse(page, headers={"Cache-Control": "no-store"})
    return FileResponse(path)


async def static_file(request: Request) -> Response:
    name = {"bridge.js": "forge-bridge-standin.js", "page.js": "forge-page.js", "page.css": "forge-page.css"}
    file = name.get(request.path_params["name"])
    if file is None:
        raise JiraHTTPError(404, "No such file.")
    return FileResponse(STATIC / file, headers={"Cache-Control": "no-cache"})


async def jwks(request: Request) -> Response:
    return JSONResponse(forge_mode(sandbox_of(request)).signer.jwks())


async def context(request: Request) -> Response:
    sandbox = sandbox_of(request)
    data = read_frame_token(sandbox, request.query_params.get("ctx", ""))
    app = forge_mode(sandbox).apps.get(str(data.get("app")))
    if app is None:
        raise JiraHTTPError(404, "The app is not installed.")
    return JSONResponse(
        {
            "cloudId": forge_mode(sandbox).cloud_id,
            "siteUrl": sandbox.base_url,
            "accountId": DEMO_USER.account_id,
            "localId": data["resource"],
            "moduleKey": data["resource"],
            "extension": data["extension"],
            "environmentType": "DEVELOPMENT",
            "locale": "en-US",
            "timezone": "UTC",
        }
    )


async def _frame_call(request: Request) -> tuple[Sandbox, dict[str, Any], dict[str, Any], ForgeApp | None]:
    """A call from a Custom UI frame (same origin only): the sandbox, the call's JSON, what the frame's token says
    and the frame's app (None: no longer installed)."""
    sandbox = sandbox_of(request)
    _same_origin(request, sandbox)
    payload = await request.json()
    data = read_frame_token(sandbox, str(payload.get("ctx", "")))
    return sandbox, payload, data, forge_mode(sandbox).apps.get(str(data.get("app")))


async def modal(request: Request) -> Response:
    """A frame URL for ``openModal``: the opener's extension plus ``modal`` = the context it passed."""
    sandbox, payload, data, app = await _frame_call(request)
    resource = str(payload.get("resource") or data["resource"])
    if app is None or resource not in MODULES:
        raise JiraHTTPError(404, "No such Custom UI resource.")
    extension = {**data["extension"], "modal": payload.get("context") or {}}
    return JSONResponse({"src": frame_src(sandbox, app, resource, extension)})


async def invoke(request: Request) -> Response:
    """``invokeRemote``: sign a FIT for the frame's context and forward the call to the app's remote."""
    sandbox, payload, data, app = await _frame_call(request)
    path, method = str(payload.get("path", "")), str(payload.get("method", "GET")).upper()
    if app is None:
        raise JiraHTTPError(404, "The app is not installed.")
    if not path.startswith("/") or "//" in path or method not in ("GET", "POST", "PUT", "DELETE", "PATCH"):
        raise JiraHTTPError(400, "invokeRemote needs a path starting with / and an HTTP method.")
    fit = sign_invocation(sandbox, app, module_key=str(data["resource"]), extension=data["extension"])
    headers = {k: str(v) for k, v in (payload.get("headers") or {}).items() if k.lower() in FORWARD_HEADERS}
    body = payload.get("body")
    async with httpx.AsyncClient(timeout=60.0) as client:
        response = await client.request(
            method,
            app.remote_url + path,
            headers={**headers, **remote_headers(app, fit)},
            content=body.encode() if isinstance(body, str) else None,
        )
    answer = {
        "status": response.status_code,
        "headers": {k: [v] for k, v in response.headers.items()},
        "body": response.text,
    }
    ok = 200 <= response.status_code < 300
    return JSONResponse({"success": ok, "payload": answer} if ok else {"success": False, "error": answer})


routes = [
    Route("/forge/browse/{key}", browse),
    Route("/forge/projects/{key}", project_page),
    Route("/forge/admin", admin_page),
    Route("/_forge/jwks.json", jwks),
    Route("/_forge/context", context),
    Route("/_forge/modal", modal, methods=["POST"]),
    Route("/_forge/invoke", invoke, methods=["POST"]),
    Route("/_forge/cdn/{app}/{resource}/{path:path}", cdn),
    Route("/_forge/{name}", static_file),
]
