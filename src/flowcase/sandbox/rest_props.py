"""REST: issue entity properties and Connect app properties (Jira's key and 32,768-character limits)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from flowcase.sandbox.auth import require
from flowcase.sandbox.errors import JiraHTTPError
from flowcase.sandbox.index import snapshot
from flowcase.sandbox.issues import (
    APP_PROPERTY_KEY_LIMIT,
    ISSUE_PROPERTY_KEY_LIMIT,
    check_property,
    get_issue,
    get_project,
)
from flowcase.sandbox.models import AppProperty, IssueProperty, ProjectProperty
from flowcase.sandbox.rest_issues import authorized
from flowcase.sandbox.site import now, sandbox_of


def _missing(key: str) -> JiraHTTPError:
    return JiraHTTPError(404, f"The property with key '{key}' does not exist.")


def _keys_json(
    s: Any, base: str, model: type[IssueProperty | ProjectProperty | AppProperty], **owner: int | str
) -> Response:
    """The answer to a list of the property keys of one owner (``base``: the URL of its properties, with its ending
    '/'; ``owner``: the owner's id, ``issue_id=``, ``project_id=`` or ``addon_key=``)."""
    rows: Iterable[IssueProperty | ProjectProperty | AppProperty] = s.scalars(
        select(model).filter_by(**owner).order_by(model.key)
    )
    return JSONResponse({"keys": [{"self": base + quote(r.key, safe=""), "key": r.key} for r in rows]})


async def _property_request(request: Request) -> tuple[str, str]:
    """The property key of the URL and the body of a PUT (empty for GET and DELETE)."""
    raw = (await request.body()).decode("utf-8", "replace") if request.method == "PUT" else ""
    return request.path_params["prop"], raw


async def entity_property_keys(request: Request) -> Response:
    """The property keys of an issue (``/issue/{key}/properties``) or of a project (``/project/{project}/...``)."""
    sandbox = authorized(request)
    api = f"{sandbox.base_url}/rest/api/3"
    with sandbox.session() as s:
        if "key" in request.path_params:
            issue = get_issue(s, request.path_params["key"])
            return _keys_json(s, f"{api}/issue/{issue.id}/properties/", IssueProperty, issue_id=issue.id)
        project = get_project(s, request.path_params["project"])
        return _keys_json(s, f"{api}/project/{project.id}/properties/", ProjectProperty, project_id=project.id)


async def issue_property(request: Request) -> Response:
    sandbox = authorized(request)
    key, raw = await _property_request(request)
    with sandbox.session() as s:
        issue = get_issue(s, request.path_params["key"])
        if request.method in ("PUT", "DELETE"):
            sandbox.index.changing(issue.id, lambda: snapshot(s, issue))
        if request.method == "PUT":
            issue.updated = now()  # rolled back with the session if the value is refused
        return _entity_property(s, request.method, key, raw, IssueProperty, issue_id=issue.id)


def _entity_property(
    s: Any, method: str, key: str, raw: str, model: type[IssueProperty | ProjectProperty], **owner: int
) -> Response:
    """GET, PUT or DELETE one issue or project property, answering as Jira does (``owner``: the owner's id,
    ``issue_id=`` or ``project_id=``)."""
    row: IssueProperty | ProjectProperty | None = s.get(model, (*owner.values(), key))
    if method == "GET":
        if row is None:
            raise _missing(key)
        return JSONResponse({"key": key, "value": json.loads(row.value)})
    if method == "DELETE":
        if row is None:
            raise _missing(key)
        s.delete(row)
        return Response(status_code=204)
    text = json.dumps(check_property(key, raw, ISSUE_PROPERTY_KEY_LIMIT), separators=(",", ":"))
    if row is None:
        s.add(model(**owner, key=key, value=text))
        return Response(status_code=201)
    row.value = text
    return Response(status_code=200)


async def project_property(request: Request) -> Response:
    sandbox = authorized(request)
    key, raw = await _property_request(request)
    with sandbox.session() as s:
        project = get_project(s, request.path_params["project"])
        return _entity_property(s, request.method, key, raw, ProjectProperty, project_id=project.id)


def _app_guard(request: Request) -> str:
    """Only the app itself reaches its app properties; Jira answers anyone else (a user's API token, another
    app) 401, as the REST description documents."""
    principal = require(request)
    addon = str(request.path_params["addon"])
    if principal.app_key != addon:
        raise JiraHTTPError(401, "Access to this resource must be authenticated as the app that owns it.")
    return addon


async def app_property_keys(request: Request) -> Response:
    addon = _app_guard(request)
    sandbox = sandbox_of(request)
    with sandbox.session() as s:
        base = f"{sandbox.base_url}/rest/atlassian-connect/1/addons/{addon}/properties/"
        return _keys_json(s, base, AppProperty, addon_key=addon)


async def app_property(request: Request) -> Response:
    addon = _app_guard(request)
    sandbox = sandbox_of(request)
    key, raw = await _property_request(request)
    with sandbox.session() as s:
        row = s.get(AppProperty, (addon, key))
        if request.method == "GET":
            if row is None:
                raise _missing(key)
            url = f"{sandbox.base_url}/rest/atlassian-connect/1/addons/{addon}/properties/{quote(key, safe='')}"
            return JSONResponse({"key": key, "value": json.loads(row.value), "self": url})
        if request.method == "DELETE":
            if row is None:
                raise _missing(key)
            s.delete(row)
            return Response(status_code=204)
        value = check_property(key, raw, APP_PROPERTY_KEY_LIMIT)
        text = json.dumps(value, separators=(",", ":"))
        if row is None:
            s.add(AppProperty(addon_key=addon, key=key, value=text))
            return JSONResponse({"message": "Property created."}, status_code=201)
        row.value = text
        return JSONResponse({"message": "Property updated."}, status_code=200)


routes = [
    Route("/rest/api/3/issue/{key}/properties", entity_property_keys, methods=["GET"]),
    Route("/rest/api/3/issue/{key}/properties/{prop}", issue_property, methods=["GET", "PUT", "DELETE"]),
    Route("/rest/api/3/project/{project}/properties", entity_property_keys, methods=["GET"]),
    Route("/rest/api/3/project/{project}/properties/{prop}", project_property, methods=["GET", "PUT", "DELETE"]),
    Route("/rest/atlassian-connect/1/addons/{addon}/properties", app_property_keys, methods=["GET"]),
    Route("/rest/atlassian-connect/1/addons/{addon}/properties/{prop}", app_property, methods=["GET", "PUT", "DELETE"]),
]
