"""API endpoints that read or write the customer's Jira: the model on the issue, diff, publish, project, admin.

Customer data lives in Jira only (issue properties, published issues, app/project properties); this module
holds nothing but the in-memory progress of running publish jobs (ids and counts).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from flowcase.generate.suite import Criterion
from flowcase.hosts.base import Caller
from flowcase.model.types import Scalar
from flowcase.web import jira_ops
from flowcase.web.api_models import build, checked, generate_suite
from flowcase.web.auth import authenticate, current_host
from flowcase.web.documents import EditorDoc, for_editor
from flowcase.web.errors import ApiError, read_json
from flowcase.web.pages import ISSUE_KEY, PROJECT_KEY
from flowcase.web.publishing import Publisher


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SaveBody(_Body):
    doc: EditorDoc
    revision: int | None = Field(default=None, description="The revision the edit started from; None = new.")
    replace_damaged: bool = Field(default=False, alias="replaceDamaged",
                                  description="Replace a stored model that cannot be read back (after the user "
                                              "confirmed); refused when the stored model is healthy.")


class RestoreBody(_Body):
    revision: int | None = Field(description="The current revision (the one being replaced by the previous).")


class SuiteBody(_Body):
    issue_key: str = Field(alias="issueKey", pattern=ISSUE_KEY.pattern)
    doc: EditorDoc
    criterion: Criterion = "all-decisions"
    options: dict[str, Scalar] = Field(default_factory=dict)


class SettingsBody(_Body):
    settings: dict[str, Any]


def _issue(request: Request) -> str:
    key = str(request.path_params["issue_key"])
    if not ISSUE_KEY.match(key):
        raise ApiError(400, "bad-issue-key", f"not an issue key: {key!r}")
    _allowed_issue(request, key)
    return key


def _allowed_issue(request: Request, key: str) -> None:
    """A caller whose signed context names an issue may only touch that issue.

    Inside Jira the app calls Jira as itself, so the user's own context (the issue Jira opened the page for) is
    what limits them; a Connect call without an issue context is refused unless the caller is an admin.
    """
    caller: Caller = request.state.caller
    if caller.issue_key is not None and caller.issue_key != key:
        raise ApiError(403, "wrong-issue", f"this page was opened for {caller.issue_key}, not {key}")
    if caller.issue_key is None and current_host(request).name == "connect" and not caller.is_admin:
        raise ApiError(403, "no-issue-context", "open flowcase from the issue to work on it")


def _allowed_project(request: Request, key: str) -> None:
    caller: Caller = request.state.caller
    if caller.project_key is not None and caller.project_key != key:
        raise ApiError(403, "wrong-project", f"this page was opened for project {caller.project_key}, not {key}")
    if caller.project_key is None and current_host(request).name == "connect" and not caller.is_admin:
        raise ApiError(403, "no-project-context", "open flowcase from the project to list its workflows")


async def get_model(request: Request) -> Response:
    caller = await authenticate(request)
    key = _issue(request)
    async with jira_ops.client(current_host(request), caller) as jira:
        stored = await jira_ops.load_model(jira, key)
        published = await jira_ops.published_summary(jira, key)
    if stored is None:
        return JSONResponse({"issueKey": key, "exists": False, "revision": None, "published": published})
    model, revision = stored
    return JSONResponse({"issueKey": key, "exists": True, "revision": revision, "published": published,
                         **for_editor(model)})


async def put_model(request: Request) -> Response:
    caller = await authenticate(request)
    key = _issue(request)
    body = await read_json(request, SaveBody)
    model, _ = build(body.doc)  # drafts are saved too: only an unreadable model is refused
    settle = request.app.state.settings.save_settle_seconds
    async with jira_ops.client(current_host(request), caller) as jira:
        revision = await jira_ops.save_model(jira, key, model, body.revision, saved_by=caller.account_id,
                                             replace_damaged=body.replace_damaged, settle=settle)  # fmt: skip
    return JSONResponse({"issueKey": key, "revision": revision})


async def restore_model(request: Request) -> Response:
    """Make the previous revision current again (as a new revision, so the restore can be undone the same way)."""
    caller = await authenticate(request)
    key = _issue(request)
    body = await read_json(request, RestoreBody)
    settle = request.app.state.settings.save_settle_seconds
    async with jira_ops.client(current_host(request), caller) as jira:
        revision = await jira_ops.restore_previous(jira, key, body.revision, saved_by=caller.account_id,
                                                   settle=settle)  # fmt: skip
        stored = await jira_ops.load_model(jira, key)
    assert stored is not None
    return JSONResponse({"issueKey": key, "exists": True, "revision": revision, **for_editor(stored[0])})


async def diff(request: Request) -> Response:
    caller = await authenticate(request)
    body = await read_json(request, SuiteBody)
    _allowed_issue(request, body.issue_key)
    model, _ = checked(body.doc)
    suite = generate_suite(model, body.criterion, body.options)
    async with jira_ops.client(current_host(request), caller) as jira:
        changes = await jira_ops.diff(jira, body.issue_key, model, suite, request.app.state.settings.app_key)
    return JSONResponse({"issueKey": body.issue_key, "diff": changes})


async def start_publish(request: Request) -> Response:
    caller = await authenticate(request)
    body = await read_json(request, SuiteBody)
    _allowed_issue(request, body.issue_key)
    model, _ = checked(body.doc)
    suite = generate_suite(model, body.criterion, body.options)
    publisher: Publisher = request.app.state.publisher
    job = await publisher.start(current_host(request), caller, body.issue_key, model, suite,
                                request.app.state.settings.app_key)
    return JSONResponse(job, 202)


async def publish_status(request: Request) -> Response:
    caller = await authenticate(request)
    publisher: Publisher = request.app.state.publisher
    job = await publisher.status(str(request.path_params["job_id"]), caller.site_id)
    if job is None:
        raise HTTPException(404, "no such publish job")
    return JSONResponse(job)


async def project_workflows(request: Request) -> Response:
    caller = await authenticate(request)
    project = str(request.path_params["project_key"])
    if not PROJECT_KEY.match(project):
        raise ApiError(400, "bad-project-key", f"not a project key: {project!r}")
    _allowed_project(request, project)
    async with jira_ops.client(current_host(request), caller) as jira:
        rows = await jira_ops.project_workflows(jira, project)
    return JSONResponse({"projectKey": project, "workflows": rows})


async def get_admin_settings(request: Request) -> Response:
    """Site settings (app property), or a project's (``?projectKey=``) overlaid on them."""
    caller = await authenticate(request)
    project = _project_param(request)
    async with jira_ops.client(current_host(request), caller) as jira:
        values = await jira_ops.load_settings(jira, request.app.state.settings.app_key, project)
    return JSONResponse({"settings": values, "editable": caller.is_admin, "projectKey": project})


def _project_param(request: Request) -> str | None:
    project = request.query_params.get("projectKey")
    if project is not None and not PROJECT_KEY.match(project):
        raise ApiError(400, "bad-project-key", f"not a project key: {project!r}")
    return project


async def put_admin_settings(request: Request) -> Response:
    caller = await authenticate(request)
    if not caller.is_admin:
        raise HTTPException(403, "only Jira administrators can change flowcase settings")
    body = await read_json(request, SettingsBody, limit=64 * 1024)
    project = _project_param(request)
    async with jira_ops.client(current_host(request), caller) as jira:
        values = await jira_ops.save_settings(jira, body.settings, request.app.state.settings.app_key, project)
    return JSONResponse({"settings": values, "editable": True, "projectKey": project})
