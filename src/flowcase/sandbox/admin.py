"""The sandbox's own control API under ``/_sandbox/`` (localhost only, ``Authorization: Bearer <admin token>``),
and the install key server ``/connect-keys/{kid}`` that apps use to verify signed installs."""

from __future__ import annotations

import hmac
import re
from dataclasses import asdict

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from flowcase.sandbox.catalog import create_project
from flowcase.sandbox.connect import InstallError, install, uninstall
from flowcase.sandbox.errors import JiraHTTPError
from flowcase.sandbox.faults import Fault, FaultSpecError
from flowcase.sandbox.issues import find_project
from flowcase.sandbox.rest_issues import read_json
from flowcase.sandbox.site import Sandbox

LOCAL_CLIENTS = {"127.0.0.1", "::1", "localhost", "testclient"}


def _admin(request: Request) -> Sandbox:
    sandbox: Sandbox = request.app.state.sandbox
    client = request.client.host if request.client else ""
    if client not in LOCAL_CLIENTS:
        raise JiraHTTPError(403, "The sandbox control API only answers local clients.")
    scheme, _, supplied = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(supplied.strip(), sandbox.config.admin_token):
        raise JiraHTTPError(401, "The sandbox admin token is required (Authorization: Bearer ...).")
    return sandbox


async def faults(request: Request) -> Response:
    sandbox = _admin(request)
    if request.method == "POST":
        body = await read_json(request)
        try:
            specs = body if isinstance(body, list) else [body]
            added = [sandbox.faults.add(Fault.from_json(spec)) for spec in specs]
        except FaultSpecError as exc:
            raise JiraHTTPError(400, str(exc)) from None
        return JSONResponse([f.to_json() for f in added], status_code=201)
    if request.method == "DELETE":
        sandbox.faults.clear()
        return Response(status_code=204)
    return JSONResponse([f.to_json() for f in sandbox.faults.list()])


async def fault(request: Request) -> Response:
    sandbox = _admin(request)
    fault_id = request.path_params["fault_id"]
    if not sandbox.faults.remove(fault_id):
        raise JiraHTTPError(404, f"No fault with id {fault_id}.")
    return Response(status_code=204)


async def calls(request: Request) -> Response:
    sandbox = _admin(request)
    if request.method == "DELETE":
        sandbox.calls.clear()
        return Response(status_code=204)
    return JSONResponse([asdict(c) for c in sandbox.calls.list()])


async def apps(request: Request) -> Response:
    sandbox = _admin(request)
    if request.method == "POST":
        body = await read_json(request)
        url = body.get("descriptorUrl") if isinstance(body, dict) else None
        if not isinstance(url, str):
            raise JiraHTTPError(400, "descriptorUrl is required.")
        try:
            inst = await install(sandbox, url)
        except InstallError as exc:
            raise JiraHTTPError(400, f"Installation failed: {exc}") from None
        return JSONResponse({"key": inst.app_key, "baseUrl": inst.base_url}, status_code=201)
    return JSONResponse([{"key": i.app_key, "baseUrl": i.base_url} for i in sandbox.installations()])


async def app(request: Request) -> Response:
    sandbox = _admin(request)
    try:
        await uninstall(sandbox, request.path_params["key"])
    except InstallError as exc:
        raise JiraHTTPError(404, str(exc)) from None
    return Response(status_code=204)


async def index(request: Request) -> Response:
    """``GET``: the search index lag; ``PUT {"lag": seconds}``: change it; ``POST``: let everything be indexed now."""
    sandbox = _admin(request)
    if request.method == "PUT":
        body = await read_json(request)
        lag = body.get("lag") if isinstance(body, dict) else None
        if not isinstance(lag, int | float) or isinstance(lag, bool) or not 0 <= lag <= 600:
            raise JiraHTTPError(400, "lag must be a number of seconds between 0 and 600.")
        sandbox.index.lag = float(lag)
    elif request.method == "POST":
        sandbox.index.settle()
    return JSONResponse({"lag": sandbox.index.lag})


async def projects(request: Request) -> Response:
    """``POST {"key", "name", "style": "classic"|"next-gen", "hiddenFields": [...]}``: a new project, as a site
    admin would create it (company-managed or team-managed; fields missing from its create screen)."""
    sandbox = _admin(request)
    body = await read_json(request)
    if not isinstance(body, dict):
        raise JiraHTTPError(400, "The request body must be a JSON object.")
    key, name = body.get("key"), body.get("name") or body.get("key")
    style, hidden = body.get("style", "classic"), body.get("hiddenFields", [])
    if not isinstance(key, str) or not re.fullmatch(r"[A-Z][A-Z0-9]{1,9}", key):
        raise JiraHTTPError(
            400, errors={"key": "Project keys are 2-10 capital letters or digits, starting with a letter."}
        )
    if style not in ("classic", "next-gen") or not isinstance(hidden, list):
        raise JiraHTTPError(400, "style must be classic or next-gen; hiddenFields a list of field ids.")
    with sandbox.session() as s:
        if find_project(s, key) is not None:
            raise JiraHTTPError(400, errors={"key": f"A project with key '{key}' already exists."})
        project = create_project(s, key, str(name), style=style, hidden_fields=[str(f) for f in hidden])
        return JSONResponse({"id": project.id, "key": project.key, "style": project.style}, status_code=201)


async def install_key(request: Request) -> Response:
    sandbox: Sandbox = request.app.state.sandbox
    if request.path_params["kid"] != sandbox.signing_key.kid:
        return PlainTextResponse("Not found", status_code=404)
    return PlainTextResponse(sandbox.signing_key.public_pem.decode(), media_type="application/x-pem-file")


routes = [
    Route("/_sandbox/faults", faults, methods=["GET", "POST", "DELETE"]),
    Route("/_sandbox/faults/{fault_id:int}", fault, methods=["DELETE"]),
    Route("/_sandbox/calls", calls, methods=["GET", "DELETE"]),
    Route("/_sandbox/apps", apps, methods=["GET", "POST"]),
    Route("/_sandbox/index", index, methods=["GET", "PUT", "POST"]),
    Route("/_sandbox/projects", projects, methods=["POST"]),
    Route("/_sandbox/apps/{key}", app, methods=["DELETE"]),
    Route("/connect-keys/{kid:path}", install_key, methods=["GET"]),
]
