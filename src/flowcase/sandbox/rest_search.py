"""REST: ``/rest/api/3/search/jql`` (bounded JQL, ``nextPageToken`` paging) and approximate counts."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

from sqlalchemy import select
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from flowcase.sandbox import catalog, jql
from flowcase.sandbox.errors import JiraHTTPError
from flowcase.sandbox.index import MAX_RECONCILE, row_of
from flowcase.sandbox.issues import issue_json, issue_properties, parse_field_list
from flowcase.sandbox.models import Issue, IssueProperty, Project
from flowcase.sandbox.rest_issues import authorized, read_json
from flowcase.sandbox.site import Sandbox

MAX_PAGE_FIELDS = 100
MAX_PAGE_IDS = 5000


def _rows(sandbox: Sandbox, s: Any, property_keys: set[str], reconcile: set[int]) -> list[jql.Row]:
    """What search sees: every issue as the (lagging) index holds it; ``reconcile`` ids as they are now."""
    projects = {p.id: p for p in s.scalars(select(Project))}
    names = {it.id: it.name for it in catalog.all_issue_types(s)}
    props: dict[int, dict[str, Any]] = {}
    if property_keys:
        for row in s.scalars(select(IssueProperty).where(IssueProperty.key.in_(property_keys))):
            props.setdefault(row.issue_id, {})[row.key] = json.loads(row.value)
    current = [
        row_of(s, issue, projects[issue.project_id], names, props.get(issue.id, {}))
        for issue in s.scalars(select(Issue))
    ]
    return sandbox.index.visible(current, reconcile)


def _resolver(sandbox: Sandbox, s: Any) -> jql.Resolver:
    projects = {p.key: p.id for p in s.scalars(select(Project))}
    keys = set(s.scalars(select(Issue.key)))
    aliases = jql.aliases_from_descriptors(sandbox.descriptors())
    return jql.Resolver(projects, {it.name: it.id for it in catalog.all_issue_types(s)}, keys, aliases)


def _fingerprint(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _decode_token(token: str, query: str) -> int:
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode() + b"=" * (-len(token) % 4)))
        offset, fingerprint = int(data["o"]), str(data["q"])
    except (ValueError, KeyError, TypeError):
        raise JiraHTTPError(400, "The provided next page token is invalid or expired.") from None
    if fingerprint != _fingerprint(query) or offset < 0:
        raise JiraHTTPError(400, "The provided next page token is invalid or expired.")
    return offset


def _encode_token(offset: int, query: str) -> str:
    raw = json.dumps({"o": offset, "q": _fingerprint(query)}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    raise JiraHTTPError(400, "fields and properties must be lists of strings.")


async def _params(request: Request) -> dict[str, Any]:
    if request.method == "POST":
        body = await read_json(request)
        if not isinstance(body, dict):
            raise JiraHTTPError(400, "The request body must be a JSON object.")
        reconcile = body.get("reconcileIssues") or []
        if not isinstance(reconcile, list) or not all(isinstance(i, int) for i in reconcile):
            raise JiraHTTPError(400, "reconcileIssues must be a list of issue ids (integers).")
        return {
            "jql": body.get("jql"),
            "token": body.get("nextPageToken"),
            "max": body.get("maxResults"),
            "fields": _list(body.get("fields")),
            "properties": _list(body.get("properties")),
            "reconcile": reconcile,
        }
    q = request.query_params
    raw = [v for value in q.getlist("reconcileIssues") for v in value.split(",") if v.strip()]
    if not all(v.strip().isdigit() for v in raw):
        raise JiraHTTPError(400, "reconcileIssues must be a list of issue ids (integers).")
    return {
        "jql": q.get("jql"),
        "token": q.get("nextPageToken"),
        "max": q.get("maxResults"),
        "fields": q.getlist("fields"),
        "properties": q.getlist("properties"),
        "reconcile": [int(v) for v in raw],
    }


async def search(request: Request) -> Response:
    sandbox = authorized(request)
    p = await _params(request)
    text = p["jql"]
    if not isinstance(text, str) or not text.strip():
        raise JiraHTTPError(
            400, "Unbounded JQL queries are not allowed here. Please add a search restriction to your query."
        )
    field_names = [f for v in p["fields"] for f in v.split(",") if f.strip()]
    ids_only = all(f.strip() in ("id", "key") for f in field_names)
    wanted = parse_field_list(field_names) if field_names else set()
    properties = [k for v in p["properties"] for k in v.split(",") if k.strip()]
    if len(properties) > 5:
        raise JiraHTTPError(400, "At most 5 issue properties can be requested.")
    limit = MAX_PAGE_IDS if ids_only else MAX_PAGE_FIELDS
    try:
        size = int(p["max"]) if p["max"] is not None else 50
    except (TypeError, ValueError):
        raise JiraHTTPError(400, "maxResults must be an integer.") from None
    size = min(max(size, 1), limit)
    if len(p["reconcile"]) > MAX_RECONCILE:
        raise JiraHTTPError(400, f"reconcileIssues accepts at most {MAX_RECONCILE} issue ids.")
    with sandbox.session() as s:
        resolver = _resolver(sandbox, s)
        query = jql.parse(text, resolver)
        matched = query.apply(_rows(sandbox, s, resolver.property_keys, set(p["reconcile"])))
        offset = _decode_token(p["token"], text) if p["token"] else 0
        page = matched[offset : offset + size]
        issues: list[dict[str, Any]] = []
        for row in page:
            issue = s.get(Issue, row.id)
            assert issue is not None
            if not field_names and not properties:
                issues.append({"id": str(issue.id)})
                continue
            data = issue_json(s, sandbox.base_url, issue, wanted)
            data["fields"] = {k: v for k, v in data["fields"].items() if k not in ("id", "key")}
            if properties:
                data["properties"] = issue_properties(s, issue, properties)
            issues.append(data)
    result: dict[str, Any] = {"issues": issues, "isLast": offset + size >= len(matched)}
    if not result["isLast"]:
        result["nextPageToken"] = _encode_token(offset + size, text)
    return JSONResponse(result)


async def approximate_count(request: Request) -> Response:
    sandbox = authorized(request)
    body = await read_json(request)
    text = body.get("jql") if isinstance(body, dict) else None
    if not isinstance(text, str) or not text.strip():
        raise JiraHTTPError(400, "Unbounded JQL queries are not allowed here. Please add a search restriction.")
    with sandbox.session() as s:
        resolver = _resolver(sandbox, s)
        query = jql.parse(text, resolver)
        return JSONResponse({"count": len(query.apply(_rows(sandbox, s, resolver.property_keys, set())))})


async def removed_search(request: Request) -> Response:
    raise JiraHTTPError(410, "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API.")


routes = [
    Route("/rest/api/3/search/jql", search, methods=["GET", "POST"]),
    Route("/rest/api/3/search/approximate-count", approximate_count, methods=["POST"]),
    Route("/rest/api/3/search", removed_search, methods=["GET", "POST"]),
]
