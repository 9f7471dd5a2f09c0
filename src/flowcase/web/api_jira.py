"""API endpoints that read or write the customer's Jira: the model on the issue, diff, publish, project, admin.

Customer data lives in Jira only (issue properties, published issues, app/project properties); this module
holds nothing but the in-memory progress of running publish jobs (ids and counts).
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from flowcase.generate.suite import Suite
from flowcase.hosts.base import Caller
from flowcase.model.types import Model
from flowcase.web import jira_ops, vendor_api, work
from flowcase.web.api_models import compute, max_nodes
from flowcase.web.auth import authenticate, current_host
from flowcase.web.bodies import RestoreBody, SettingsBody, SetupBody
from flowcase.web.errors import ApiError, read_json, read_json_bytes
from flowcase.web.pages import ISSUE_KEY, PROJECT_KEY
from flowcase.web.publishing import Publisher


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
    editor = await compute(request).run(caller.site_id, work.editor_model, model)
    return JSONResponse({"issueKey": key, "exists": True, "revision": revision, "published": published, **editor})


async def put_model(request: Request) -> Response:
    caller = await authenticate(request)
    key = _issue(request)
    raw = await read_json_bytes(request)
    model, body = await compute(request).run(caller.site_id, work.save_request, raw, max_nodes(request))
    settle = request.app.state.settings.save_settle_seconds
    async with jira_ops.client(current_host(request), caller) as jira:
        revision = await jira_ops.save_model(
            jira,
            key,
            model,
            body.revision,
            saved_by=caller.account_id,
            replace_damaged=body.replace_damaged,
            settle=settle,
        )
    return JSONResponse({"issueKey": key, "revision": revision})


async def restore_model(request: Request) -> Response:
    """Make the previous revision current again (as a new revision, so the restore can be undone the same way)."""
    caller = await authenticate(request)
    key = _issue(request)
    body = await read_json(request, RestoreBody)
    settle = request.app.state.settings.save_settle_seconds
    async with jira_ops.client(current_host(request), caller) as jira:
        revision = await jira_ops.restore_previous(jira, key, body.revision, saved_by=caller.account_id, settle=settle)
        stored = await jira_ops.load_model(jira, key)
    assert stored is not None
    editor = await compute(request).run(caller.site_id, work.editor_model, stored[0])
    return JSONResponse({"issueKey": key, "exists": True, "revision": revision, **editor})


async def _suite_request(request: Request, caller: Caller) -> tuple[str, Model, Suite]:
    """The issue, model and suite of a diff or publish request, once the caller may touch that issue."""
    raw = await read_json_bytes(request)
    issue_key, model, suite = await compute(request).run(caller.site_id, work.suite_request, raw, max_nodes(request))
    _allowed_issue(request, issue_key)
    return issue_key, model, suite


async def diff(request: Request) -> Response:
    caller = await authenticate(request)
    issue_key, model, suite = await _suite_request(request, caller)
    async with jira_ops.client(current_host(request), caller) as jira:
        base_url = jira.base_url
        changes = await jira_ops.diff(
            jira,
            issue_key,
            model,
            suite,
            request.app.state.settings.app_key,
            access_for=lambda: vendor_api.access_for(request, caller, base_url),
        )
    return JSONResponse({"issueKey": issue_key, "diff": changes})


async def lineage(request: Request) -> Response:
    """Where a published test issue comes from: story, workflow revision, its path on a small diagram, and whether
    it is current, outdated or obsolete (``{"isTest": false}`` for any other issue)."""
    caller = await authenticate(request)
    key = _issue(request)
    async with jira_ops.client(current_host(request), caller) as jira:
        facts = await jira_ops.lineage_facts(jira, key, request.app.state.settings.app_key)
    if facts is None:
        return JSONResponse({"issueKey": key, "isTest": False})
    return JSONResponse(await compute(request).run(caller.site_id, work.lineage, facts))


async def start_publish(request: Request) -> Response:
    caller = await authenticate(request)
    issue_key, model, suite = await _suite_request(request, caller)
    # Never queue a publish that cannot create anything: say what the project lacks and how to fix it.
    async with jira_ops.client(current_host(request), caller) as jira:
        readiness = await jira_ops.preflight(jira, request.app.state.settings.app_key, _project_of(issue_key))
    if not readiness.ready:
        from flowcase.jira.publish import PublishNotReady

        raise PublishNotReady(readiness)
    publisher: Publisher = request.app.state.publisher
    job = await publisher.start(
        current_host(request), caller, issue_key, model, suite, request.app.state.settings.app_key
    )
    return JSONResponse(job, 202)


async def publish_status(request: Request) -> Response:
    caller = await authenticate(request)
    publisher: Publisher = request.app.state.publisher
    job = await publisher.status(str(request.path_params["job_id"]), caller.site_id)
    if job is None:
        raise HTTPException(404, "no such publish job")
    return JSONResponse(job)


def _project_of(issue_key: str) -> str:
    return issue_key.rsplit("-", 1)[0]


async def get_preflight(request: Request) -> Response:
    """Is the project ready for publishing? What is missing and how to fix it (GETs only)."""
    caller = await authenticate(request)
    project = str(request.path_params["project_key"])
    if not PROJECT_KEY.match(project):
        raise ApiError(400, "bad-project-key", f"not a project key: {project!r}")
    if not (caller.issue_key is not None and _project_of(caller.issue_key) == project):
        _allowed_project(request, project)
    async with jira_ops.client(current_host(request), caller) as jira:
        readiness = await jira_ops.preflight(jira, request.app.state.settings.app_key, project)
    return JSONResponse(readiness.as_json())


async def admin_setup(request: Request) -> Response:
    """Create what the project lacks (issue type, link types: the ADMIN scope), or map to existing types."""
    caller = await authenticate(request)
    if not caller.is_admin:
        raise HTTPException(403, "only Jira administrators can set up flowcase")
    body = await read_json(request, SetupBody)
    async with jira_ops.client(current_host(request), caller) as jira:
        data = await jira_ops.setup(
            jira, request.app.state.settings.app_key, body.project_key, body.use_issue_type, body.use_link_type
        )
    return JSONResponse(data)


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
