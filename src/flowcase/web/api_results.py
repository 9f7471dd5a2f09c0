"""``POST /api/results/remote``: a story's execution results read straight from Xray or Zephyr Scale.

The body is the story's key and the model (as for diff and publish: the suite is generated from it), and
optionally ``source`` (``xray`` or ``zephyr``; default: the project's publishing target; a project that publishes
plain Jira issues answers ``{"source": null, "message": ...}``). The tests published for
the story are found by the identity the publish wrote, the latest execution of each gives its status
(:mod:`flowcase.targets.results_remote`), and the answer is what ``POST /api/results`` answers (status per test,
heat per diagram element) plus ``sources`` (per test: its key, the execution, its date and the tool's status) and
``source``. Only this site's own vendor credentials are used (``targets.site_access``: what its admin stored, else the
deployment's when they name this site); nothing read is stored
or logged.
"""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from flowcase.web import jira_ops, vendor_api, work
from flowcase.web.api_jira import _allowed_issue, _project_of
from flowcase.web.api_models import compute, max_nodes
from flowcase.web.auth import authenticate, current_host
from flowcase.web.errors import ApiError, read_json_bytes


async def remote_results(request: Request) -> Response:
    from flowcase.targets.results_remote import RemoteResultsError, read_remote

    caller = await authenticate(request)
    raw = await read_json_bytes(request)
    issue_key, source, model, suite = await compute(request).run(
        caller.site_id, work.remote_results_request, raw, max_nodes(request)
    )
    _allowed_issue(request, issue_key)
    project = _project_of(issue_key)
    async with jira_ops.client(current_host(request), caller) as jira:
        if source is None:
            settings = await jira_ops.publish_settings(jira, request.app.state.settings.app_key, project)
            if settings.target == "jira":  # a normal case, not an error: there is nothing to read
                return JSONResponse(
                    {
                        "source": None,
                        "message": f"project {project} publishes plain Jira issues, which hold no executions: "
                        "results come from Xray or Zephyr Scale (or import a results file in the editor)",
                    }
                )
            source = settings.target
        access = await asyncio.to_thread(vendor_api.access_for, request, caller, jira.base_url)
        why = access.missing(source)  # type: ignore[arg-type]
        if why:
            raise ApiError(503, "target-not-configured", why)
        try:
            remote = await read_remote(source, jira, access, project, issue_key, model.id)  # type: ignore[arg-type]
        except RemoteResultsError as exc:
            raise ApiError(502, f"{source}-error", str(exc)) from None
    results = remote.results(suite)
    extra: dict[str, Any] = {"source": source, "published": len(remote.keys)}
    answer = await compute(request).run(caller.site_id, work.results_answer, model, suite, results, extra)
    return Response(answer, media_type="application/json")
