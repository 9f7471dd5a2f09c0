"""Forge lifecycle endpoint: ``POST /forge/lifecycle`` (a ``trigger`` on the app's remote, FIT-verified).

Only the installation id, cloud id and API base URL from the verified token are stored.
"""

from __future__ import annotations

import json

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from flowcase.hosts.forge.host import ForgeHost

INSTALL_EVENTS = ("avi:forge:installed:app", "avi:forge:upgraded:app")
UNINSTALL_EVENTS = ("avi:forge:uninstalled:app",)


def forge_routes(host: ForgeHost) -> list[BaseRoute]:
    async def lifecycle(request: Request) -> Response:
        invocation = await host.verify(request)
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError:
            return JSONResponse({"error": {"code": "bad-request", "message": "the body is not JSON"}}, 400)
        event = body.get("eventType") if isinstance(body, dict) else None
        if event in INSTALL_EVENTS:
            await run_in_threadpool(
                host.store.installed, invocation.installation_id, invocation.cloud_id, invocation.api_base_url
            )
        elif event in UNINSTALL_EVENTS:
            await run_in_threadpool(host.store.uninstalled, invocation.installation_id)
        else:
            return JSONResponse({"error": {"code": "bad-request", "message": "unknown lifecycle event"}}, 400)
        return Response(status_code=204)

    return [Route("/forge/lifecycle", lifecycle, methods=["POST"])]
