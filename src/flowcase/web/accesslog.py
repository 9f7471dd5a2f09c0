"""The access log: method, path, status and time of every request, never a query string.

Jira puts the ``jwt`` of every iframe load in the query string, and the standalone login carries its token there;
uvicorn's own access log prints whole URLs, so production runs it off (``--no-access-log`` in the Procfile) and
this middleware writes the log instead (logger ``flowcase.access``, INFO).
"""

from __future__ import annotations

import logging
import sys
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("flowcase.access")
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(level: str) -> None:
    """Send the ``flowcase`` loggers (access log included) to stderr at ``level``, once per process."""
    root = logging.getLogger("flowcase")
    root.setLevel(level.upper())
    if not any(getattr(h, "flowcase", False) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(FORMAT))
        handler.flowcase = True  # type: ignore[attr-defined]
        root.addHandler(handler)


class AccessLogMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        method, path = scope.get("method", "-"), str(scope.get("path", ""))[:200]  # before routing rewrites it

        async def record(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, record)
        finally:
            log.info("%s %s %s %.0fms", method, path, status, (time.perf_counter() - started) * 1000)
