"""REST: projects, issue types, create metadata, permissions, myself and serverInfo."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from flowcase.sandbox import catalog
from flowcase.sandbox.auth import require
from flowcase.sandbox.errors import JiraHTTPError
from flowcase.sandbox.issues import find_issue, find_project, get_project, issue_type_json, project_json, user_json
from flowcase.sandbox.models import Project
from flowcase.sandbox.rest_issues import authorized, read_json, require_admin
from flowcase.sandbox.site import GLOBAL_PERMISSIONS, USERS, Principal, now, sandbox_of

SERVER_VERSION = "1001.0.0-SNAPSHOT"


def _page(request: Request, default: int = 50) -> tuple[int, int]:
    try:
        start = int(request.query_params.get("startAt", "0"))
        size = int(request.query_params.get("maxResults", str(default)))
    except ValueError:
        raise JiraHTTPError(400, "startAt and maxResults must be integers.") from None
    return max(start, 0), min(max(size, 0), 100)


async def project_search(request: Request) -> Response:
    sandbox = authorized(request)
    start, size = _page(request)
    with sandbox.session() as s:
        projects = list(s.scalars(select(Project).order_by(Project.key)))
        page = projects[start : start + size]
        return JSONResponse(
            {
                "self": f"{sandbox.base_url}/rest/api/3/project/search",
                "startAt": start,
                "maxResults": size,
                "total": len(projects),
                "isLast": start + size >= len(projects),
                "values": [project_json(s, sandbox.base_url, p) for p in page],
            }
        )


async def project(request: Request) -> Response:
    sandbox = authorized(request)
    with sandbox.session() as s:
        return JSONResponse(project_json(s, sandbox.base_url, get_project(s, request.path_params["project"])))


async def issue_types(request: Request) -> Response:
    sandbox = sandbox_of(request)
    base = sandbox.base_url
    if request.method == "GET":
        require(request)
        with sandbox.session() as s:
            return JSONResponse([issue_type_json(base, it) for it in catalog.all_issue_types(s)])
    require_admin(request)
    body = await read_json(request)
    name = body.get("name") if isinstance(body, dict) else None
    if not isinstance(name, str) or not name.strip():
        raise JiraHTTPError(400, errors={"name": "You must specify a unique name for the issue type."})
    if len(name) > 60:
        raise JiraHTTPError(400, errors={"name": "The issue type name must not exceed 60 characters."})
    level = body.get("hierarchyLevel", -1 if body.get("type") == "subtask" else 0)
    if level not in (0, -1):
        raise JiraHTTPError(400, errors={"hierarchyLevel": "The hierarchy level must be 0 or -1."})
    description = body.get("description") if isinstance(body.get("description"), str) else ""
    with sandbox.session() as s:
        if any(it.name.lower() == name.strip().lower() and it.project_id is None for it in catalog.all_issue_types(s)):
            raise JiraHTTPError(409, "An issue type with this name already exists.")
        it = catalog.create_issue_type(s, name.strip(), description, int(level))
        return JSONResponse(issue_type_json(base, it), status_code=201)


async def issue_types_for_project(request: Request) -> Response:
    sandbox = authorized(request)
    ref = request.query_params.get("projectId", "")
    with sandbox.session() as s:
        project = find_project(s, ref) if ref.isdigit() else None
        if project is None:
            raise JiraHTTPError(404, "No project could be found with id '" + ref + "'.")
        return JSONResponse([issue_type_json(sandbox.base_url, it) for it in catalog.project_issue_types(s, project)])


async def scheme_for_project(request: Request) -> Response:
    """``GET /issuetypescheme/project?projectId=``: the issue type scheme of company-managed projects."""
    require_admin(request)
    sandbox = sandbox_of(request)
    start, size = _page(request)
    ids = [v for value in request.query_params.getlist("projectId") for v in value.split(",") if v.strip()]
    if not ids:
        raise JiraHTTPError(400, errors={"projectId": "At least one project ID is required."})
    with sandbox.session() as s:
        by_scheme: dict[int, list[str]] = {}
        for ref in ids:
            project = find_project(s, ref) if ref.isdigit() else None
            if project is not None and project.scheme_id is not None:
                by_scheme.setdefault(project.scheme_id, []).append(str(project.id))
        values = []
        for scheme, projects in sorted(by_scheme.items()):
            owner = s.get(Project, int(projects[0]))
            assert owner is not None
            values.append(
                {
                    "issueTypeScheme": {
                        "id": str(scheme),
                        "name": f"{owner.key}: Software Issue Type Scheme",
                        "description": "",
                        "isDefault": False,
                        "defaultIssueTypeId": "10001",
                    },
                    "projectIds": projects,
                }
            )
    page = values[start : start + size]
    return JSONResponse(
        {
            "self": str(request.url),
            "startAt": start,
            "maxResults": size,
            "total": len(values),
            "isLast": start + size >= len(values),
            "values": page,
        }
    )


async def scheme_add_types(request: Request) -> Response:
    """``PUT /issuetypescheme/{id}/issuetype``: add site-wide issue types to a scheme."""
    require_admin(request)
    sandbox = sandbox_of(request)
    body = await read_json(request)
    ids = body.get("issueTypeIds") if isinstance(body, dict) else None
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) and i.isdigit() for i in ids):
        raise JiraHTTPError(400, errors={"issueTypeIds": "A list of issue type IDs is required."})
    scheme = str(request.path_params["scheme_id"])
    with sandbox.session() as s:
        known = scheme.isdigit() and s.scalar(select(Project).where(Project.scheme_id == int(scheme))) is not None
        if not known:
            raise JiraHTTPError(404, f"The issue type scheme {scheme} is not found.")
        for type_id in ids:
            it = catalog.issue_type_by_id(s, int(type_id))
            if it is None or it.project_id is not None:
                raise JiraHTTPError(404, f"The issue type {type_id} is not found.")
        catalog.add_to_scheme(s, int(scheme), [int(i) for i in ids])
    return Response(status_code=204)


async def createmeta_types(request: Request) -> Response:
    sandbox = authorized(request)
    start, size = _page(request)
    with sandbox.session() as s:
        project = get_project(s, request.path_params["project"])
        types = [issue_type_json(sandbox.base_url, it) for it in catalog.project_issue_types(s, project)]
    page = types[start : start + size]
    return JSONResponse({"issueTypes": page, "maxResults": size, "startAt": start, "total": len(types)})


def _field(key: str, name: str, required: bool, schema: dict[str, Any], ops: list[str]) -> dict[str, Any]:
    return {
        "required": required,
        "schema": schema,
        "name": name,
        "key": key,
        "fieldId": key,
        "hasDefaultValue": False,
        "operations": ops,
    }


async def createmeta_fields(request: Request) -> Response:
    """The fields on the create screen of an issue type in a project (only those the sandbox models)."""
    sandbox = authorized(request)
    start, size = _page(request)
    with sandbox.session() as s:
        project = get_project(s, request.path_params["project"])
        it = catalog.issue_type(s, request.path_params["type_id"], project)
        on_screen = catalog.screen_fields(project)
    if it is None or not str(request.path_params["type_id"]).isdigit():
        raise JiraHTTPError(404, "The issue type with id '" + request.path_params["type_id"] + "' does not exist.")
    known = {
        "summary": _field("summary", "Summary", True, {"type": "string", "system": "summary"}, ["set"]),
        "issuetype": _field("issuetype", "Issue Type", True, {"type": "issuetype", "system": "issuetype"}, []),
        "project": _field("project", "Project", True, {"type": "project", "system": "project"}, ["set"]),
        "description": _field(
            "description", "Description", False, {"type": "string", "system": "description"}, ["set"]
        ),
        "labels": _field(
            "labels",
            "Labels",
            False,
            {"type": "array", "items": "string", "system": "labels"},
            ["add", "set", "remove"],
        ),
        "reporter": _field("reporter", "Reporter", False, {"type": "user", "system": "reporter"}, ["set"]),
        "issuelinks": _field(
            "issuelinks",
            "Linked Issues",
            False,
            {"type": "array", "items": "issuelinks", "system": "issuelinks"},
            ["add"],
        ),
    }
    fields = [known[name] for name in on_screen if name in known]
    page = fields[start : start + size]
    return JSONResponse({"fields": page, "results": page, "maxResults": size, "startAt": start, "total": len(fields)})


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
            results.append(
                {
                    "permission": permission,
                    "projects": found_projects if ok else [],
                    "issues": found_issues if ok else [],
                }
            )
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
    return JSONResponse(
        {
            "baseUrl": sandbox.base_url,
            "displayUrl": sandbox.base_url,
            "version": SERVER_VERSION,
            "versionNumbers": [1001, 0, 0],
            "deploymentType": "Cloud",
            "buildNumber": 100999,
            "buildDate": "2026-11-01T00:00:00.000+0000",
            "serverTime": f"{stamp:%Y-%m-%dT%H:%M:%S}.000+0000",
            "scmInfo": "sandbox",
            "serverTitle": "Jira (flowcase sandbox)",
        }
    )


routes = [
    Route("/rest/api/3/project/search", project_search, methods=["GET"]),
    Route("/rest/api/3/project/{project}", project, methods=["GET"]),
    Route("/rest/api/3/issuetype", issue_types, methods=["GET", "POST"]),
    Route("/rest/api/3/issuetype/project", issue_types_for_project, methods=["GET"]),
    Route("/rest/api/3/issuetypescheme/project", scheme_for_project, methods=["GET"]),
    Route("/rest/api/3/issuetypescheme/{scheme_id}/issuetype", scheme_add_types, methods=["PUT"]),
    Route("/rest/api/3/issue/createmeta/{project}/issuetypes", createmeta_types, methods=["GET"]),
    Route("/rest/api/3/issue/createmeta/{project}/issuetypes/{type_id}", createmeta_fields, methods=["GET"]),
    Route("/rest/api/3/mypermissions", mypermissions, methods=["GET"]),
    Route("/rest/api/3/permissions/check", permissions_check, methods=["POST"]),
    Route("/rest/api/3/myself", myself, methods=["GET"]),
    Route("/rest/api/3/serverInfo", server_info, methods=["GET"]),
]
