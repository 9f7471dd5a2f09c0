"""REST: projects, issue types, create metadata, permissions, myself and serverInfo."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from flowcase.sandbox.auth import Principal, require
from flowcase.sandbox.catalog import ISSUE_TYPES, issue_type
from flowcase.sandbox.errors import JiraHTTPError
from flowcase.sandbox.issues import find_issue, find_project, issue_type_json, project_json, user_json
from flowcase.sandbox.models import Project
from flowcase.sandbox.rest_issues import read_json, sandbox_of
from flowcase.sandbox.site import GLOBAL_PERMISSIONS, USERS, now

SERVER_VERSION = "1001.0.0-SNAPSHOT"


def _page(request: Request, default: int = 50) -> tuple[int, int]:
    try:
        start = int(request.query_params.get("startAt", "0"))
        size = int(request.query_params.get("maxResults", str(default)))
    except ValueError:
        raise JiraHTTPError(400, "startAt and maxResults must be integers.") from None
    return max(start, 0), min(max(size, 0), 100)


async def project_search(request: Request) -> Response:
    require(request)
    sandbox = sandbox_of(request)
    start, size = _page(request)
    with sandbox.session() as s:
        projects = list(s.scalars(select(Project).order_by(Project.key)))
        page = projects[start : start + size]
        return JSONResponse({
            "self": f"{sandbox.base_url}/rest/api/3/project/search", "startAt": start, "maxResults": size,
            "total": len(projects), "isLast": start + size >= len(projects),
            "values": [project_json(sandbox.base_url, p) for p in page],
        })  # fmt: skip


def _project(request: Request, s: Any) -> Project:
    ref = request.path_params["project"]
    project = find_project(s, ref)
    if project is None:
        raise JiraHTTPError(404, f"No project could be found with key '{ref}'.")
    return project


async def project(request: Request) -> Response:
    require(request)
    sandbox = sandbox_of(request)
    with sandbox.session() as s:
        return JSONResponse(project_json(sandbox.base_url, _project(request, s)))


async def issue_types(request: Request) -> Response:
    require(request)
    base = sandbox_of(request).base_url
    return JSONResponse([issue_type_json(base, it) for it in ISSUE_TYPES])


async def issue_types_for_project(request: Request) -> Response:
    require(request)
    sandbox = sandbox_of(request)
    ref = request.query_params.get("projectId", "")
    with sandbox.session() as s:
        project = find_project(s, ref) if ref.isdigit() else None
        if project is None:
            raise JiraHTTPError(404, "No project could be found with id '" + ref + "'.")
        return JSONResponse([issue_type_json(sandbox.base_url, it, project) for it in ISSUE_TYPES])


async def createmeta_types(request: Request) -> Response:
    require(request)
    sandbox = sandbox_of(request)
    start, size = _page(request)
    with sandbox.session() as s:
        project = _project(request, s)
        types = [issue_type_json(sandbox.base_url, it, project) for it in ISSUE_TYPES if it.hierarchy_level == 0]
    page = types[start : start + size]
    return JSONResponse({"issueTypes": page, "maxResults": size, "startAt": start, "total": len(types)})


def _field(key: str, name: str, required: bool, schema: dict[str, Any], ops: list[str]) -> dict[str, Any]:
    return {"required": required, "schema": schema, "name": name, "key": key, "fieldId": key,
            "hasDefaultValue": False, "operations": ops}  # fmt: skip


async def createmeta_fields(request: Request) -> Response:
    require(request)
    sandbox = sandbox_of(request)
    with sandbox.session() as s:
        _project(request, s)
    it = issue_type(request.path_params["type_id"])
    if it is None:
        raise JiraHTTPError(404, "The issue type with id '" + request.path_params["type_id"] + "' does not exist.")
    fields = [
        _field("summary", "Summary", True, {"type": "string", "system": "summary"}, ["set"]),
        _field("issuetype", "Issue Type", True, {"type": "issuetype", "system": "issuetype"}, []),
        _field("project", "Project", True, {"type": "project", "system": "project"}, ["set"]),
        _field("description", "Description", False, {"type": "string", "system": "description"}, ["set"]),
        _field("labels", "Labels", False, {"type": "array", "items": "string", "system": "labels"}, ["add", "set"]),
        _field("reporter", "Reporter", False, {"type": "user", "system": "reporter"}, ["set"]),
    ]
    return JSONResponse({"fields": fields, "results": fields, "maxResults": 50, "startAt": 0, "total": len(fields)})


def _has(principal: Principal, permission: str) -> bool:
    return permission in principal.user.permissions


async def mypermissions(request: Request) -> Response:
    principal = require(request)
    wanted = [p.strip() for p in request.query_params.get("permissions", "").split(",") if p.strip()]
    if not wanted:
        raise JiraHTTPError(400, "The permissions query parameter is required.")
    out = {
        p: {
            "id": str(i),
            "key": p,
            "name": p.replace("_", " ").title(),
            "type": "GLOBAL" if p in GLOBAL_PERMISSIONS else "PROJECT",
            "description": "",
            "havePermission": _has(principal, p),
        }
        for i, p in enumerate(wanted, start=1)
    }
    return JSONResponse({"permissions": out})


async def permissions_check(request: Request) -> Response:
    principal = require(request)
    body = await read_json(request)
    if not isinstance(body, dict):
        raise JiraHTTPError(400, "The request body must be a JSON object.")
    account = body.get("accountId")
    user = principal.user
    if account is not None:
        user = USERS.get(str(account)) or user.__class__(str(account), "", "", frozenset())
    sandbox = sandbox_of(request)
    global_wanted = body.get("globalPermissions") or []
    granted_global = [p for p in global_wanted if p in user.permissions]
    results = []
    for entry in body.get("projectPermissions") or []:
        projects, issues = entry.get("projects") or [], entry.get("issues") or []
        if len(projects) > 1000 or len(issues) > 1000:
            raise JiraHTTPError(400, "At most 1000 projects and 1000 issues can be checked at once.")
        for permission in entry.get("permissions") or []:
            ok = permission in user.permissions
            with sandbox.session() as s:
                found_projects = [p for p in projects if find_project(s, p) is not None]
                found_issues = [i for i in issues if find_issue(s, str(i)) is not None]
            results.append({"permission": permission, "projects": found_projects if ok else [],
                            "issues": found_issues if ok else []})  # fmt: skip
    return JSONResponse({"globalPermissions": granted_global, "projectPermissions": results})


async def myself(request: Request) -> Response:
    principal = require(request)
    base = sandbox_of(request).base_url
    data = user_json(base, principal.user.account_id, principal.user.display_name)
    if principal.is_app:
        data["accountType"] = "app"
    else:
        data["emailAddress"] = principal.user.email
    data.update({"timeZone": "Etc/UTC", "locale": "en_US", "groups": {"size": 1, "items": []}})
    return JSONResponse(data)


async def server_info(request: Request) -> Response:
    sandbox = sandbox_of(request)
    stamp = now()
    return JSONResponse({
        "baseUrl": sandbox.base_url, "displayUrl": sandbox.base_url, "version": SERVER_VERSION,
        "versionNumbers": [1001, 0, 0], "deploymentType": "Cloud", "buildNumber": 100999,
        "buildDate": "2026-11-01T00:00:00.000+0000", "serverTime": f"{stamp:%Y-%m-%dT%H:%M:%S}.000+0000",
        "scmInfo": "sandbox", "serverTitle": "Jira (flowcase sandbox)",
    })  # fmt: skip


routes = [
    Route("/rest/api/3/project/search", project_search, methods=["GET"]),
    Route("/rest/api/3/project/{project}", project, methods=["GET"]),
    Route("/rest/api/3/issuetype", issue_types, methods=["GET"]),
    Route("/rest/api/3/issuetype/project", issue_types_for_project, methods=["GET"]),
    Route("/rest/api/3/issue/createmeta/{project}/issuetypes", createmeta_types, methods=["GET"]),
    Route("/rest/api/3/issue/createmeta/{project}/issuetypes/{type_id}", createmeta_fields, methods=["GET"]),
    Route("/rest/api/3/mypermissions", mypermissions, methods=["GET"]),
    Route("/rest/api/3/permissions/check", permissions_check, methods=["POST"]),
    Route("/rest/api/3/myself", myself, methods=["GET"]),
    Route("/rest/api/3/serverInfo", server_info, methods=["GET"]),
]
