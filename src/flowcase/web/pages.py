"""HTML pages: the same templates for Jira (Connect iframes at ``/connect/...``) and standalone (``/app/...``).

Pages carry no customer data: they render a shell with the context (mode, issue/project key) and the
browser fetches everything through the authenticated JSON API. The Connect ``all.js`` script is included
only when Jira opened the page (a ``jwt`` query parameter was verified by the Connect host); standalone
pages never reference a CDN.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from flowcase.hosts.standalone import COOKIE, StandaloneHost
from flowcase.web.api_models import export_choices
from flowcase.web.auth import authenticate, current_host, hosts_of
from flowcase.web.bodies import ISSUE_KEY_PATTERN, PROJECT_KEY_PATTERN
from flowcase.web.static_urls import StaticUrls, for_root_path

TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
ISSUE_KEY = re.compile(ISSUE_KEY_PATTERN)
PROJECT_KEY = re.compile(PROJECT_KEY_PATTERN)
ALL_JS = "https://connect-cdn.atl-paas.net/all.js"


def _key(value: str | None, pattern: re.Pattern[str], what: str) -> str:
    if not value or not pattern.match(value):
        raise HTTPException(400, f"a valid {what} is required")
    return value


async def _render(request: Request, template: str, title: str, **context: Any) -> Response:
    caller = await authenticate(request)
    host = current_host(request)
    mode = "connect" if host.name == "connect" else "standalone"
    page_context = {
        "mode": mode,
        "page": template.removesuffix(".html"),
        "issueKey": context.get("issue_key"),
        "projectKey": context.get("project_key") or caller.project_key,
        "isAdmin": caller.is_admin,
        "exports": export_choices() if template == "editor.html" else [],
        "links": _links(mode),
        "jiraUrl": caller.base_url,
        "appKey": request.app.state.settings.app_key,
    }
    all_js = all_js_url(caller.base_url) if mode == "connect" else None
    if all_js:
        request.state.script_sources = [all_js]  # the CSP lets this one script origin in (web/security.py)
    html = TEMPLATES.get_template(template).render(
        **static_urls(request).globals(),
        title=title,
        mode=mode,
        all_js=all_js,
        context_json=json.dumps(page_context).replace("<", "\\u003c"),
        size_to_parent=template == "editor.html",
        **context,
    )
    return HTMLResponse(html)


def static_urls(request: Request) -> StaticUrls:
    """Static file URLs for this request's mount point (``root_path``), content-hashed."""
    return for_root_path(str(request.scope.get("root_path", "")))


def all_js_url(jira_base_url: str) -> str:
    """Where the Connect JS API comes from: the Atlassian CDN for Jira Cloud, else the Jira site itself."""
    host = urlsplit(jira_base_url).hostname or ""
    if host.endswith((".atlassian.net", ".jira.com", ".jira-dev.com")):
        return ALL_JS
    return jira_base_url.rstrip("/") + "/atlassian-connect/all.js"


def _links(mode: str) -> dict[str, str]:
    if mode == "connect":
        return {"editor": "/connect/editor?issueKey={issue}", "issue": "", "project": "", "admin": ""}
    return {
        "editor": "/app/editor/{issue}",
        "issue": "/app/issue/{issue}",
        "project": "/app/project/{project}",
        "admin": "/app/admin",
    }


# --- Connect module URLs (the descriptor points here; Jira adds jwt, xdm_e, ...) ---------------------------


async def connect_issue_panel(request: Request) -> Response:
    issue = _key(request.query_params.get("issueKey"), ISSUE_KEY, "issueKey")
    return await _render(
        request,
        "issue.html",
        f"flowcase · {issue}",
        issue_key=issue,
        project_key=request.query_params.get("projectKey"),
    )


async def connect_editor(request: Request) -> Response:
    issue = _key(request.query_params.get("issueKey"), ISSUE_KEY, "issueKey")
    return await _render(request, "editor.html", f"flowcase editor · {issue}", issue_key=issue)


async def connect_project(request: Request) -> Response:
    project = _key(request.query_params.get("projectKey"), PROJECT_KEY, "projectKey")
    return await _render(request, "project.html", f"flowcase · {project}", project_key=project)


async def connect_admin(request: Request) -> Response:
    return await _render(request, "admin.html", "flowcase settings")


# --- standalone pages ---------------------------------------------------------------------------------------


async def app_issue(request: Request) -> Response:
    issue = _key(request.path_params["issue_key"], ISSUE_KEY, "issue key")
    return await _render(request, "issue.html", f"flowcase · {issue}", issue_key=issue)


async def app_editor(request: Request) -> Response:
    issue = request.path_params.get("issue_key")
    if issue is not None:
        _key(issue, ISSUE_KEY, "issue key")
    return await _render(request, "editor.html", f"flowcase editor · {issue or 'local model'}", issue_key=issue)


async def app_project(request: Request) -> Response:
    project = _key(request.path_params["project_key"], PROJECT_KEY, "project key")
    return await _render(request, "project.html", f"flowcase · {project}", project_key=project)


async def app_admin(request: Request) -> Response:
    return await _render(request, "admin.html", "flowcase settings")


async def app_home(request: Request) -> Response:
    try:
        return await _render(request, "home.html", "flowcase")
    except HTTPException as exc:
        if exc.status_code != 401:
            raise
        return RedirectResponse("/app/login", 303)


def _standalone(request: Request) -> StandaloneHost:
    for host in hosts_of(request):
        if isinstance(host, StandaloneHost):
            return host
    raise HTTPException(404, "standalone mode is not enabled")


async def app_login(request: Request) -> Response:
    """Exchange the local access token for a cookie, then go on to ``next`` (a local path) without it."""
    host = _standalone(request)
    if request.method == "POST":
        form = await request.form()
        token, target = form.get("token"), form.get("next")
    else:
        token, target = request.query_params.get("token"), request.query_params.get("next")
    target = target if isinstance(target, str) and target.startswith("/") and not target.startswith("//") else "/app/"
    if token is None:
        html = TEMPLATES.get_template("login.html").render(
            **static_urls(request).globals(), title="flowcase · sign in", next=target, error=None
        )
        return HTMLResponse(html)
    if not isinstance(token, str) or not host.check_token(token.strip()):
        html = TEMPLATES.get_template("login.html").render(
            **static_urls(request).globals(),
            title="flowcase · sign in",
            next=target,
            error="That is not the access token printed at start.",
        )
        return HTMLResponse(html, 401)
    response = RedirectResponse(quote(target, safe="/?=&-_.~"), 303)
    response.set_cookie(
        COOKIE, host.token, httponly=True, samesite="strict", path="/", secure=request.url.scheme == "https"
    )
    return response


def page_routes() -> list[Route]:
    return [
        Route("/connect/issue-panel", connect_issue_panel),
        Route("/connect/editor", connect_editor),
        Route("/connect/project", connect_project),
        Route("/connect/admin", connect_admin),
        Route("/app/", app_home),
        Route("/app/login", app_login, methods=["GET", "POST"]),
        Route("/app/issue/{issue_key}", app_issue),
        Route("/app/editor", app_editor),
        Route("/app/editor/{issue_key}", app_editor),
        Route("/app/project/{project_key}", app_project),
        Route("/app/admin", app_admin),
    ]
