"""Jira-like pages (issue, project, admin, general app pages) embedding the installed apps' modules.

Pages are for the local demo user (the sandbox listens on 127.0.0.1). Each page carries a short-lived page token
(HMAC of the page context) that the host script sends with bridge calls; bridge calls also need the sandbox's own
Origin, so another site cannot drive them from a visitor's browser.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from flowcase.sandbox.adf_html import adf_html
from flowcase.sandbox.catalog import all_issue_types
from flowcase.sandbox.connect import PageContext, signed_iframe_url
from flowcase.sandbox.errors import JiraHTTPError
from flowcase.sandbox.issues import find_project, issue_fields, issue_with_project
from flowcase.sandbox.models import Installation, Issue, Project
from flowcase.sandbox.modules import Module, all_hold, find_module, modules_of, raw_modules
from flowcase.sandbox.site import DEMO_USER, Sandbox, sandbox_of

TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
PAGE_TOKEN_SECONDS = 8 * 3600


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def page_token(sandbox: Sandbox, context: PageContext) -> str:
    payload = json.dumps({"v": context.variables(), "e": int(time.time()) + PAGE_TOKEN_SECONDS})
    body = base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")
    mac = hmac.new(sandbox.page_secret, body.encode(), hashlib.sha256).hexdigest()
    return f"{body}.{mac}"


def read_page_token(sandbox: Sandbox, token: str) -> PageContext:
    body, _, mac = token.partition(".")
    expected = hmac.new(sandbox.page_secret, body.encode(), hashlib.sha256).hexdigest()
    if not body or not hmac.compare_digest(mac, expected):
        raise JiraHTTPError(403, "Invalid page token.")
    data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    if int(data.get("e", 0)) < time.time():
        raise JiraHTTPError(403, "The page has expired; reload it.")
    v = data.get("v") or {}
    return PageContext(
        v.get("issue.key", ""),
        v.get("issue.id", ""),
        v.get("project.key", ""),
        v.get("project.id", ""),
        v.get("issuetype.id", ""),
    )


def frame_for(
    sandbox: Sandbox,
    installation: Installation,
    module: Module,
    context: PageContext,
    extra: dict[str, str] | None = None,
) -> dict[str, Any]:
    url = module.url
    if extra:
        url += ("&" if "?" in url else "?") + urlencode(extra)
    return {
        "app": installation.app_key,
        "module": module.key,
        "name": module.name,
        "kind": module.kind,
        "origin": origin_of(installation.base_url),
        "src": signed_iframe_url(sandbox, installation, module.key, url, context),
    }


def _render(request: Request, sandbox: Sandbox, template: str, context: PageContext, **values: Any) -> Response:
    installations = sandbox.installations()
    frame_origins = sorted({origin_of(i.base_url) for i in installations})
    host_config = {
        "token": page_token(sandbox, context),
        "context": context.jira(),
        "apps": {i.app_key: origin_of(i.base_url) for i in installations},
        "base": sandbox.base_url,
    }
    html = TEMPLATES.get_template(template).render(
        base=sandbox.base_url,
        user=DEMO_USER,
        host_config=json.dumps(host_config).replace("<", "\\u003c"),
        **values,
    )
    frames = " ".join(frame_origins) or "'none'"
    csp = (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        f"img-src 'self' data: {' '.join(frame_origins)}; frame-src {frames}; "
        "object-src 'none'; base-uri 'self'; frame-ancestors 'none'"
    )
    headers = {
        "Content-Security-Policy": csp,
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store",
        "Referrer-Policy": "no-referrer",
    }
    return HTMLResponse(html, headers=headers)


async def home(request: Request) -> Response:
    sandbox = sandbox_of(request)
    with sandbox.session() as s:
        projects = list(s.scalars(select(Project).order_by(Project.key)))
    return _render(
        request, sandbox, "home.html", PageContext(), projects=projects, installations=sandbox.installations()
    )


async def browse(request: Request) -> Response:
    sandbox = sandbox_of(request)
    key = request.path_params["key"].upper()
    with sandbox.session() as s:
        found = issue_with_project(s, key)
        if found is None:
            return _not_found(request, sandbox, f"Issue {key} does not exist.")
        issue, project = found
        fields = issue_fields(s, sandbox.base_url, issue, None)
        context = PageContext(issue.key, str(issue.id), project.key, str(project.id), str(issue.issuetype_id))
        contents, panels = [], []
        for inst in sandbox.installations():
            for raw in raw_modules(inst, "jiraIssueContents"):
                if all_hold(s, raw.get("contentPresentConditions"), issue.id) and all_hold(
                    s, raw.get("conditions"), issue.id
                ):
                    module = next(m for m in modules_of(inst, "jiraIssueContents") if m.key == raw.get("key"))
                    contents.append(frame_for(sandbox, inst, module, context))
            for raw in raw_modules(inst, "webPanels"):
                if str(raw.get("location", "")).startswith("atl.jira.view.issue") and all_hold(
                    s, raw.get("conditions"), issue.id
                ):
                    module = next(m for m in modules_of(inst, "webPanels") if m.key == raw.get("key"))
                    panels.append(frame_for(sandbox, inst, module, context))
        description = adf_html(fields.get("description")) if fields.get("description") else ""
    return _render(
        request,
        sandbox,
        "issue.html",
        context,
        issue=issue,
        project=project,
        fields=fields,
        description=description,
        contents=contents,
        panels=panels,
    )


async def project_page(request: Request) -> Response:
    sandbox = sandbox_of(request)
    with sandbox.session() as s:
        project = find_project(s, request.path_params["key"])
        if project is None:
            return _not_found(request, sandbox, f"Project {request.path_params['key']} does not exist.")
        issues = list(s.scalars(select(Issue).where(Issue.project_id == project.id).order_by(Issue.number)))
    context = PageContext(project_key=project.key, project_id=str(project.id))
    tabs = [m for inst in sandbox.installations() for m in modules_of(inst, "jiraProjectPages")]
    frame, found = _app_frame(request, sandbox, context)
    if not found:
        return _not_found(request, sandbox, "This app page does not exist.")
    with sandbox.session() as s:
        types = {it.id: it.name for it in all_issue_types(s)}
    return _render(
        request, sandbox, "project.html", context, project=project, issues=issues, types=types, tabs=tabs, frame=frame
    )


def _app_frame(request: Request, sandbox: Sandbox, context: PageContext) -> tuple[dict[str, Any] | None, bool]:
    """The frame of the app page the URL names (``{app}/{module}``), None when it names none; and whether that
    page exists."""
    app_key, module_key = request.path_params.get("app"), request.path_params.get("module")
    if not (app_key and module_key):
        return None, True
    inst = sandbox.installation(app_key)
    module = find_module(inst, module_key) if inst else None
    if inst is None or module is None:
        return None, False
    return frame_for(sandbox, inst, module, context), True


async def admin_page(request: Request) -> Response:
    sandbox = sandbox_of(request)
    installations = sandbox.installations()
    pages = [m for inst in installations for m in modules_of(inst, "adminPages")]
    frame, found = _app_frame(request, sandbox, PageContext())
    if not found:
        return _not_found(request, sandbox, "This app page does not exist.")
    return _render(request, sandbox, "admin.html", PageContext(), installations=installations, pages=pages, frame=frame)


async def general_page(request: Request) -> Response:
    """``/plugins/servlet/ac/{app}/{module}``: context from ``issue.key``/``project.key``, ``ac.*`` forwarded."""
    sandbox = sandbox_of(request)
    inst = sandbox.installation(request.path_params["app"])
    module = find_module(inst, request.path_params["module"]) if inst else None
    if inst is None or module is None:
        return _not_found(request, sandbox, "This app page does not exist.")
    q = request.query_params
    context = PageContext()
    with sandbox.session() as s:
        issue_key = q.get("issue.key", "").upper()
        issue = s.scalar(select(Issue).where(Issue.key == issue_key)) if issue_key else None
        project = find_project(s, q.get("project.key", "")) if q.get("project.key") else None
        if issue is not None:
            project = s.get(Project, issue.project_id)
            assert project is not None
            context = PageContext(issue.key, str(issue.id), project.key, str(project.id), str(issue.issuetype_id))
        elif project is not None:
            context = PageContext(project_key=project.key, project_id=str(project.id))
    extra = {k: v for k, v in q.items() if k.startswith("ac.")}
    frame = frame_for(sandbox, inst, module, context, extra)
    return _render(request, sandbox, "general.html", context, frame=frame, module=module)


def _not_found(request: Request, sandbox: Sandbox, message: str) -> Response:
    response = _render(request, sandbox, "notfound.html", PageContext(), message=message)
    response.status_code = 404
    return response


async def root(_request: Request) -> Response:
    return RedirectResponse("/jira", status_code=302)


routes = [
    Route("/", root),
    Route("/jira", home),
    Route("/browse/{key}", browse),
    Route("/projects/{key}", project_page),
    Route("/projects/{key}/apps/{app}/{module}", project_page),
    Route("/admin", admin_page),
    Route("/admin/apps/{app}/{module}", admin_page),
    Route("/plugins/servlet/ac/{app}/{module}", general_page),
]
