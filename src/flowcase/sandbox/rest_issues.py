"""REST: issues (create, bulk create, get, edit), issue links and attachments."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from flowcase.sandbox import catalog
from flowcase.sandbox.adf import AdfError, validate_adf
from flowcase.sandbox.auth import require
from flowcase.sandbox.catalog import next_id
from flowcase.sandbox.errors import JiraHTTPError
from flowcase.sandbox.index import snapshot
from flowcase.sandbox.issues import (
    add_link,
    attachment_json,
    create_issue,
    edit_issue,
    find_issue,
    get_issue,
    iso,
    issue_json,
    link_type_json,
    link_type_of,
    parse_field_list,
)
from flowcase.sandbox.models import Attachment, Comment, Issue, IssueLink
from flowcase.sandbox.site import Principal, Sandbox, now, sandbox_of

R = TypeVar("R")

BULK_LIMIT = 50


def authorized(request: Request) -> Sandbox:
    """The sandbox, once the caller is authenticated and has the scope for this request (:func:`require`)."""
    require(request)
    return sandbox_of(request)


async def read_json(request: Request) -> Any:
    raw = await request.body()
    if not raw.strip():
        raise JiraHTTPError(400, "No content to map due to end-of-input")
    try:
        return json.loads(raw)
    except ValueError:
        raise JiraHTTPError(400, "Unexpected character in the request body: it is not valid JSON.") from None


def _created(base: str, issue: Issue) -> dict[str, str]:
    return {"id": str(issue.id), "key": issue.key, "self": f"{base}/rest/api/3/issue/{issue.id}"}


async def create(request: Request) -> Response:
    require(request)
    body = await read_json(request)
    sandbox = sandbox_of(request)
    with sandbox.session() as s:
        issue = create_issue(s, body, link_limit=sandbox.config.max_links_per_issue)
        sandbox.index.created(issue.id)
        return JSONResponse(_created(sandbox.base_url, issue), status_code=201)


async def bulk_create(request: Request) -> Response:
    require(request)
    body = await read_json(request)
    updates = body.get("issueUpdates") if isinstance(body, dict) else None
    if not isinstance(updates, list) or not updates:
        raise JiraHTTPError(400, "issueUpdates must be a non-empty list.")
    if len(updates) > BULK_LIMIT:
        raise JiraHTTPError(400, f"The number of issues to create is {len(updates)}; the limit is {BULK_LIMIT}.")
    sandbox = sandbox_of(request)
    issues: list[dict[str, str]] = []
    errors: list[dict[str, Any]] = []
    for index, update in enumerate(updates):
        try:
            with sandbox.session() as s:
                issue = create_issue(s, update, link_limit=sandbox.config.max_links_per_issue)
                sandbox.index.created(issue.id)
                issues.append(_created(sandbox.base_url, issue))
        except JiraHTTPError as exc:
            errors.append({"status": exc.status, "elementErrors": exc.body(), "failedElementNumber": index})
    return JSONResponse({"issues": issues, "errors": errors}, status_code=201 if issues else 400)


async def get(request: Request) -> Response:
    sandbox = authorized(request)
    wanted = parse_field_list(request.query_params.getlist("fields"))
    props = [p for v in request.query_params.getlist("properties") for p in v.split(",") if p.strip()]
    with sandbox.session() as s:
        issue = get_issue(s, request.path_params["key"])
        return JSONResponse(issue_json(s, sandbox.base_url, issue, wanted, props))


def check_notify(request: Request, principal: Principal) -> None:
    """``notifyUsers=false`` needs Administer Jira or Administer Projects; Jira refuses it otherwise."""
    if request.query_params.get("notifyUsers", "true").lower() == "false" and not (
        {"ADMINISTER", "ADMINISTER_PROJECTS"} & principal.user.permissions
    ):
        raise JiraHTTPError(
            403, "To discard the user notification either admin or project admin permissions are required."
        )


BULK_FETCH_LIMIT = 100


async def bulk_fetch(request: Request) -> Response:
    """``POST /issue/bulkfetch``: up to 100 issues by id or key, always current (not through the search index);
    issues that do not exist are simply left out."""
    require(request)
    body = await read_json(request)
    refs = body.get("issueIdsOrKeys") if isinstance(body, dict) else None
    if not isinstance(refs, list) or not refs or not all(isinstance(r, str) for r in refs):
        raise JiraHTTPError(400, "issueIdsOrKeys must be a non-empty list of issue ids or keys.")
    if len(refs) > BULK_FETCH_LIMIT:
        raise JiraHTTPError(400, f"At most {BULK_FETCH_LIMIT} issues can be fetched at once.")
    fields = body.get("fields") or ["*navigable"]
    props = body.get("properties") or []
    if not isinstance(fields, list) or not isinstance(props, list):
        raise JiraHTTPError(400, "fields and properties must be lists of strings.")
    wanted = parse_field_list([str(f) for f in fields])
    sandbox = sandbox_of(request)
    with sandbox.session() as s:
        found = {issue.id: issue for ref in refs if (issue := find_issue(s, ref.strip())) is not None}
        issues = [issue_json(s, sandbox.base_url, found[i], wanted, [str(p) for p in props]) for i in sorted(found)]
    return JSONResponse({"issues": issues, "issueErrors": []})


async def edit(request: Request) -> Response:
    principal = require(request)
    check_notify(request, principal)
    body = await read_json(request)
    sandbox = sandbox_of(request)
    with sandbox.session() as s:
        issue = get_issue(s, request.path_params["key"])
        sandbox.index.changing(issue.id, lambda: snapshot(s, issue))
        edit_issue(s, issue, body)
    return Response(status_code=204)


async def comments(request: Request) -> Response:
    principal = require(request)
    sandbox = sandbox_of(request)
    base = sandbox.base_url
    if request.method == "POST":
        body = await read_json(request)
        adf = body.get("body") if isinstance(body, dict) else None
        try:
            validate_adf(adf)
        except AdfError as exc:
            raise JiraHTTPError(400, errors={"comment": str(exc)}) from None
    with sandbox.session() as s:
        issue = get_issue(s, request.path_params["key"])
        if request.method == "POST":
            row = Comment(
                id=next_id(s, Comment.id, 10000),
                issue_id=issue.id,
                author=principal.user.account_id,
                body=json.dumps(adf),
                created=now(),
            )
            s.add(row)
            s.flush()
            return JSONResponse(comment_json(base, issue, row), status_code=201)
        rows = list(s.scalars(select(Comment).where(Comment.issue_id == issue.id).order_by(Comment.id)))
        return JSONResponse(
            {
                "startAt": 0,
                "maxResults": len(rows),
                "total": len(rows),
                "comments": [comment_json(base, issue, r) for r in rows],
            }
        )


def comment_json(base: str, issue: Issue, row: Comment) -> dict[str, Any]:
    return {
        "self": f"{base}/rest/api/3/issue/{issue.id}/comment/{row.id}",
        "id": str(row.id),
        "author": {"accountId": row.author},
        "body": json.loads(row.body),
        "created": iso(row.created),
        "updated": iso(row.created),
    }


def require_admin(request: Request) -> Principal:
    """Administer Jira: the global permission for a user, the ADMIN scope for an app."""
    principal = require(request)
    if principal.is_app and "ADMIN" not in principal.scopes:
        raise JiraHTTPError(403, f"The app '{principal.app_key}' does not have the ADMIN scope for this request.")
    if "ADMINISTER" not in principal.user.permissions:
        raise JiraHTTPError(403, "You don't have permission to perform this action (Administer Jira is required).")
    return principal


async def link_types(request: Request) -> Response:
    sandbox = sandbox_of(request)
    base = sandbox.base_url
    if request.method == "GET":
        require(request)
        with sandbox.session() as s:
            return JSONResponse({"issueLinkTypes": [link_type_json(base, lt) for lt in catalog.link_types(s)]})
    require_admin(request)
    body = await read_json(request)
    values = {k: body.get(k) if isinstance(body, dict) else None for k in ("name", "inward", "outward")}
    errors = {
        k: f"The issue link type {k} is required." for k, v in values.items() if not isinstance(v, str) or not v.strip()
    }
    if errors:
        raise JiraHTTPError(400, errors=errors)
    with sandbox.session() as s:
        if catalog.link_type(s, values["name"]) is not None:
            raise JiraHTTPError(400, f"An issue link type with the name '{values['name']}' already exists.")
        lt = catalog.create_link_type(
            s, str(values["name"]).strip(), str(values["inward"]).strip(), str(values["outward"]).strip()
        )
        return JSONResponse(link_type_json(base, lt), status_code=201)


def _issue_ref(s: Any, value: Any) -> Issue | None:
    if isinstance(value, dict):
        ref = value.get("key") or value.get("id")
        if ref is not None:
            return find_issue(s, str(ref))
    return None


async def create_link(request: Request) -> Response:
    require(request)
    body = await read_json(request)
    sandbox = sandbox_of(request)
    if not isinstance(body, dict):
        raise JiraHTTPError(400, "The request body must be a JSON object.")
    type_ref = body.get("type", {}) if isinstance(body.get("type"), dict) else {}
    with sandbox.session() as s:
        lt = catalog.link_type(s, type_ref.get("name") or type_ref.get("id") or "")
        if lt is None:
            raise JiraHTTPError(
                404, f"No issue link type with name '{type_ref.get('name') or type_ref.get('id')}' found."
            )
        inward, outward = _issue_ref(s, body.get("inwardIssue")), _issue_ref(s, body.get("outwardIssue"))
        if inward is None or outward is None:
            raise JiraHTTPError(404, "Issue does not exist or you do not have permission to see it.")
        # Jira's POST names the link's source ``inwardIssue``: it shows the outward description ("blocks").
        # An identical link already there: answered as created, nothing added.
        add_link(s, lt, inward, outward, sandbox.config.max_links_per_issue)
    return Response(status_code=201)


def _get_or_delete(
    model: type[R], param: str, missing: str, show: Callable[[Request, Sandbox, Session, R], Response]
) -> Callable[[Request], Awaitable[Response]]:
    """The endpoint of one row of ``model`` by the numeric id in the URL: DELETE removes it, GET answers
    ``show(...)``; an unknown id is Jira's 404 (``missing`` with the id for ``{}``)."""

    async def endpoint(request: Request) -> Response:
        require(request)
        sandbox = sandbox_of(request)
        raw_id = request.path_params[param]
        with sandbox.session() as s:
            row = s.get(model, int(raw_id)) if raw_id.isdigit() else None
            if row is None:
                raise JiraHTTPError(404, missing.format(raw_id))
            if request.method == "DELETE":
                s.delete(row)
                return Response(status_code=204)
            return show(request, sandbox, s, row)

    return endpoint


def _link_json(_request: Request, sandbox: Sandbox, s: Session, row: IssueLink) -> Response:
    inward, outward = s.get(Issue, row.inward_issue_id), s.get(Issue, row.outward_issue_id)
    lt = link_type_of(s, row)
    base = sandbox.base_url
    return JSONResponse(
        {
            "id": str(row.id),
            "self": f"{base}/rest/api/3/issueLink/{row.id}",
            "type": link_type_json(base, lt),
            "inwardIssue": {"id": str(row.inward_issue_id), "key": inward.key if inward else None},
            "outwardIssue": {"id": str(row.outward_issue_id), "key": outward.key if outward else None},
        }
    )


link = _get_or_delete(IssueLink, "link_id", "No issue link with id '{}' exists.", _link_json)


async def add_attachments(request: Request) -> Response:
    require(request)
    if request.headers.get("x-atlassian-token", "").lower() != "no-check":
        raise JiraHTTPError(403, "XSRF check failed")
    sandbox = sandbox_of(request)
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise JiraHTTPError(415, "Attachments must be sent as multipart/form-data.")
    async with request.form(max_files=60, max_part_size=sandbox.config.max_attachment_bytes) as form:
        files = [f for name, f in form.multi_items() if name == "file" and not isinstance(f, str)]
        if not files:
            raise JiraHTTPError(400, "No attachment was given in the 'file' field.")
        with sandbox.session() as s:
            issue = get_issue(s, request.path_params["key"])
            created = []
            for upload in files:
                content = await upload.read()
                if len(content) > sandbox.config.max_attachment_bytes:
                    raise JiraHTTPError(413, "The attachment is larger than the attachment size limit.")
                att = Attachment(
                    id=next_id(s, Attachment.id, 10000),
                    issue_id=issue.id,
                    filename=(upload.filename or "attachment")[:255],
                    mime_type=upload.content_type or "application/octet-stream",
                    size=len(content),
                    content=content,
                    created=now(),
                )
                s.add(att)
                s.flush()
                created.append(attachment_json(sandbox.base_url, att))
            issue.updated = now()
    return JSONResponse(created)


def _attachment(request: Request, sandbox: Sandbox, _s: Session, att: Attachment) -> Response:
    if request.url.path.startswith("/rest/api/3/attachment/content/"):
        if request.query_params.get("redirect", "true").lower() == "false":
            return _content(att)
        # Jira answers 303 to a pre-signed media URL (no credentials needed there, short-lived).
        expires = int(time.time()) + MEDIA_TTL
        sig = _media_sig(sandbox, att.id, expires)
        location = f"{sandbox.base_url}/_sandbox/media/{att.id}?expires={expires}&sig={sig}"
        return Response(status_code=303, headers={"Location": location})
    return JSONResponse(attachment_json(sandbox.base_url, att))


attachment = _get_or_delete(Attachment, "att_id", "The attachment with id '{}' does not exist.", _attachment)


MEDIA_TTL = 300


def _media_sig(sandbox: Sandbox, att_id: int, expires: int) -> str:
    return hmac.new(sandbox.page_secret, f"media:{att_id}:{expires}".encode(), hashlib.sha256).hexdigest()[:32]


def _content(att: Attachment) -> Response:
    disposition = "attachment; filename*=UTF-8''" + _quote(att.filename)
    return Response(att.content, media_type=att.mime_type, headers={"Content-Disposition": disposition})


async def media(request: Request) -> Response:
    """The media store a 303 points at: a pre-signed URL, no Authorization header (and none needed)."""
    sandbox = sandbox_of(request)
    att_id = int(request.path_params["att_id"])
    try:
        expires = int(request.query_params.get("expires", "0"))
    except ValueError:
        expires = 0
    sig = request.query_params.get("sig", "")
    if expires < time.time() or not hmac.compare_digest(sig, _media_sig(sandbox, att_id, expires)):
        return JSONResponse({"error": "the link has expired or is not valid"}, status_code=403)
    with sandbox.session() as s:
        att = s.get(Attachment, att_id)
        if att is None:
            return JSONResponse({"error": "not found"}, status_code=404)
        return _content(att)


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name, safe="")


routes = [
    Route("/rest/api/3/issue", create, methods=["POST"]),
    Route("/rest/api/3/issue/bulk", bulk_create, methods=["POST"]),
    Route("/rest/api/3/issue/bulkfetch", bulk_fetch, methods=["POST"]),
    Route("/rest/api/3/issue/{key}", get, methods=["GET"]),
    Route("/rest/api/3/issue/{key}", edit, methods=["PUT"]),
    Route("/rest/api/3/issue/{key}/attachments", add_attachments, methods=["POST"]),
    Route("/rest/api/3/issue/{key}/comment", comments, methods=["GET", "POST"]),
    Route("/rest/api/3/issueLinkType", link_types, methods=["GET", "POST"]),
    Route("/rest/api/3/issueLink", create_link, methods=["POST"]),
    Route("/rest/api/3/issueLink/{link_id}", link, methods=["GET", "DELETE"]),
    Route("/rest/api/3/attachment/content/{att_id}", attachment, methods=["GET"]),
    Route("/rest/api/3/attachment/{att_id}", attachment, methods=["GET", "DELETE"]),
    Route("/_sandbox/media/{att_id:int}", media, methods=["GET"]),
]
