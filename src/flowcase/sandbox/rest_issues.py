"""REST: issues (create, bulk create, get, edit), issue links and attachments."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, or_, select
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from flowcase.sandbox.adf import AdfError, validate_adf
from flowcase.sandbox.auth import require
from flowcase.sandbox.catalog import LINK_TYPES, link_type
from flowcase.sandbox.errors import JiraHTTPError
from flowcase.sandbox.issues import (
    attachment_json,
    create_issue,
    edit_issue,
    find_issue,
    get_issue,
    iso,
    issue_json,
    link_type_json,
    next_id,
    parse_field_list,
)
from flowcase.sandbox.models import Attachment, Comment, Issue, IssueLink
from flowcase.sandbox.site import Sandbox, now

BULK_LIMIT = 50


def sandbox_of(request: Request) -> Sandbox:
    sandbox: Sandbox = request.app.state.sandbox
    return sandbox


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
        issue = create_issue(s, body)
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
                issues.append(_created(sandbox.base_url, create_issue(s, update)))
        except JiraHTTPError as exc:
            errors.append({"status": exc.status, "elementErrors": exc.body(), "failedElementNumber": index})
    return JSONResponse({"issues": issues, "errors": errors}, status_code=201 if issues else 400)


async def get(request: Request) -> Response:
    require(request)
    sandbox = sandbox_of(request)
    wanted = parse_field_list(request.query_params.getlist("fields"))
    props = [p for v in request.query_params.getlist("properties") for p in v.split(",") if p.strip()]
    with sandbox.session() as s:
        issue = get_issue(s, request.path_params["key"])
        return JSONResponse(issue_json(s, sandbox.base_url, issue, wanted, props))


async def edit(request: Request) -> Response:
    require(request)
    body = await read_json(request)
    sandbox = sandbox_of(request)
    with sandbox.session() as s:
        edit_issue(s, get_issue(s, request.path_params["key"]), body)
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
            row = Comment(id=next_id(s, Comment.id, 10000), issue_id=issue.id, author=principal.user.account_id,
                          body=json.dumps(adf), created=now())  # fmt: skip
            s.add(row)
            s.flush()
            return JSONResponse(comment_json(base, issue, row), status_code=201)
        rows = list(s.scalars(select(Comment).where(Comment.issue_id == issue.id).order_by(Comment.id)))
        return JSONResponse({"startAt": 0, "maxResults": len(rows), "total": len(rows),
                             "comments": [comment_json(base, issue, r) for r in rows]})  # fmt: skip


def comment_json(base: str, issue: Issue, row: Comment) -> dict[str, Any]:
    return {"self": f"{base}/rest/api/3/issue/{issue.id}/comment/{row.id}", "id": str(row.id),
            "author": {"accountId": row.author}, "body": json.loads(row.body), "created": iso(row.created),
            "updated": iso(row.created)}  # fmt: skip


async def link_types(request: Request) -> Response:
    require(request)
    base = sandbox_of(request).base_url
    return JSONResponse({"issueLinkTypes": [link_type_json(base, lt) for lt in LINK_TYPES]})


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
    lt = link_type(type_ref.get("name") or type_ref.get("id") or "")
    if lt is None:
        raise JiraHTTPError(404, f"No issue link type with name '{type_ref.get('name') or type_ref.get('id')}' found.")
    with sandbox.session() as s:
        inward, outward = _issue_ref(s, body.get("inwardIssue")), _issue_ref(s, body.get("outwardIssue"))
        if inward is None or outward is None:
            raise JiraHTTPError(404, "Issue does not exist or you do not have permission to see it.")
        for issue in (inward, outward):
            count = s.scalar(
                select(func.count()).select_from(IssueLink).where(
                    or_(IssueLink.inward_issue_id == issue.id, IssueLink.outward_issue_id == issue.id)
                )
            )
            if (count or 0) >= sandbox.config.max_links_per_issue:
                raise JiraHTTPError(
                    413, f"Issue {issue.key} has reached the limit of {sandbox.config.max_links_per_issue} links."
                )
        s.add(IssueLink(id=next_id(s, IssueLink.id, 10000), type_id=lt.id,
                        inward_issue_id=inward.id, outward_issue_id=outward.id))  # fmt: skip
    return Response(status_code=201)


async def link(request: Request) -> Response:
    require(request)
    sandbox = sandbox_of(request)
    link_id = request.path_params["link_id"]
    with sandbox.session() as s:
        row = s.get(IssueLink, int(link_id)) if link_id.isdigit() else None
        if row is None:
            raise JiraHTTPError(404, f"No issue link with id '{link_id}' exists.")
        if request.method == "DELETE":
            s.delete(row)
            return Response(status_code=204)
        inward, outward = s.get(Issue, row.inward_issue_id), s.get(Issue, row.outward_issue_id)
        lt = next(t for t in LINK_TYPES if t.id == row.type_id)
        base = sandbox.base_url
        return JSONResponse({
            "id": str(row.id), "self": f"{base}/rest/api/3/issueLink/{row.id}", "type": link_type_json(base, lt),
            "inwardIssue": {"id": str(row.inward_issue_id), "key": inward.key if inward else None},
            "outwardIssue": {"id": str(row.outward_issue_id), "key": outward.key if outward else None},
        })  # fmt: skip


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
                    id=next_id(s, Attachment.id, 10000), issue_id=issue.id,
                    filename=(upload.filename or "attachment")[:255],
                    mime_type=upload.content_type or "application/octet-stream",
                    size=len(content), content=content, created=now(),
                )  # fmt: skip
                s.add(att)
                s.flush()
                created.append(attachment_json(sandbox.base_url, att))
            issue.updated = now()
    return JSONResponse(created)


async def attachment(request: Request) -> Response:
    require(request)
    sandbox = sandbox_of(request)
    att_id = request.path_params["att_id"]
    with sandbox.session() as s:
        att = s.get(Attachment, int(att_id)) if att_id.isdigit() else None
        if att is None:
            raise JiraHTTPError(404, f"The attachment with id '{att_id}' does not exist.")
        if request.method == "DELETE":
            s.delete(att)
            return Response(status_code=204)
        if request.url.path.startswith("/rest/api/3/attachment/content/"):
            disposition = "attachment; filename*=UTF-8''" + _quote(att.filename)
            return Response(att.content, media_type=att.mime_type, headers={"Content-Disposition": disposition})
        return JSONResponse(attachment_json(sandbox.base_url, att))


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name, safe="")


routes = [
    Route("/rest/api/3/issue", create, methods=["POST"]),
    Route("/rest/api/3/issue/bulk", bulk_create, methods=["POST"]),
    Route("/rest/api/3/issue/{key}", get, methods=["GET"]),
    Route("/rest/api/3/issue/{key}", edit, methods=["PUT"]),
    Route("/rest/api/3/issue/{key}/attachments", add_attachments, methods=["POST"]),
    Route("/rest/api/3/issue/{key}/comment", comments, methods=["GET", "POST"]),
    Route("/rest/api/3/issueLinkType", link_types, methods=["GET"]),
    Route("/rest/api/3/issueLink", create_link, methods=["POST"]),
    Route("/rest/api/3/issueLink/{link_id}", link, methods=["GET", "DELETE"]),
    Route("/rest/api/3/attachment/content/{att_id}", attachment, methods=["GET"]),
    Route("/rest/api/3/attachment/{att_id}", attachment, methods=["GET", "DELETE"]),
]
