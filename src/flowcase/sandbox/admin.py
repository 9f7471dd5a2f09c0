"""The sandbox's own control API under ``/_sandbox/`` (localhost only, ``Authorization: Bearer <admin token>``),
and the install key server ``/connect-keys/{kid}`` that apps use to verify signed installs."""

from __future__ import annotations

import hmac
from dataclasses import asdict

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from flowcase.sandbox.connect import InstallError, install, uninstall
from flowcase.sandbox.errors import JiraHTTPError
from flowcase.sandbox.faults import Fault, FaultSpecError
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
    Route("/_sandbox/apps/{key}", app, methods=["DELETE"]),
    Route("/connect-keys/{kid:path}", install_key, methods=["GET"]),
]
