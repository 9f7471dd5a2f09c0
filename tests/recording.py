"""A sandbox Jira behind a recorder: every HTTP exchange under a path prefix, exactly as sent and answered, for the
contract tests that check them against the vendors' own descriptions (test_jira_contract.py,
test_zephyr_contract.py, test_xray_contract.py); and the parts of their oracles that are the same (an OpenAPI
description's operations, the problems found in a log)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from flowcase.sandbox.app import create_sandbox_app
from flowcase.sandbox.server import bind, serve_in_thread
from flowcase.sandbox.site import SandboxConfig
from flowcase.sandbox.testing import RunningSandbox


@dataclass
class Exchange:
    method: str
    path: str  # without what the recorder strips
    query: list[tuple[str, str]]
    request: bytes
    status: int
    response: bytes
    request_type: str = ""
    response_type: str = ""


class Recorder:
    """ASGI middleware recording every exchange whose path starts with ``prefix`` (its path recorded without the
    leading ``strip``)."""

    def __init__(self, app: Any, log: list[Exchange], prefix: str, *, strip: str = "") -> None:
        self.app, self.log, self.prefix, self.strip = app, log, prefix, strip

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        body, out, state = bytearray(), bytearray(), {"status": 0, "type": ""}

        async def recv() -> Any:
            message = await receive()
            if message["type"] == "http.request":
                body.extend(message.get("body", b""))
            return message

        async def snd(message: Any) -> None:
            if message["type"] == "http.response.start":
                state["status"] = message["status"]
                state["type"] = dict(message.get("headers", [])).get(b"content-type", b"").decode()
            elif message["type"] == "http.response.body":
                out.extend(message.get("body", b""))
            await send(message)

        await self.app(scope, recv, snd)
        headers = dict(scope.get("headers", []))
        path = scope["path"].removeprefix(self.strip)
        self.log.append(
            Exchange(
                scope["method"],
                path,
                parse_qsl(scope.get("query_string", b"").decode(), keep_blank_values=True),
                bytes(body),
                int(state["status"]),
                bytes(out),
                headers.get(b"content-type", b"").decode(),
                str(state["type"]),
            )
        )


@contextmanager
def recording_sandbox(log: list[Exchange], prefix: str, *, strip: str = "", **config: Any) -> Iterator[RunningSandbox]:
    """A sandbox with the demo data (``config``: more of :class:`SandboxConfig`) whose exchanges under ``prefix``
    are appended to ``log`` (see :class:`Recorder`)."""
    sock = bind()
    port = sock.getsockname()[1]
    app = create_sandbox_app(SandboxConfig(base_url=f"http://127.0.0.1:{port}", demo_data=True, **config))
    app.app = Recorder(app.app, log, prefix, strip=strip)
    with serve_in_thread(app, sock=sock) as url:
        yield RunningSandbox(url, app, app.sandbox)


def problems_in(log: Iterable[Exchange], problems_of: Callable[[Exchange], list[str]]) -> list[str]:
    """Every problem an oracle (``problems_of``) finds in the exchanges of ``log``, each once, sorted."""
    return sorted({p for ex in log for p in problems_of(ex)})


Operation = tuple[re.Pattern[str], str, dict[str, Any], list[dict[str, Any]]]


def openapi_operations(paths: dict[str, Any], *, named: bool = False) -> list[Operation]:
    """The operations of an OpenAPI description's ``paths``: (a pattern of the path, the method, the operation,
    the path item's shared parameters), literal paths before templated ones (``/issue/bulk`` is not
    ``/issue/{issueIdOrKey}``); with ``named``, a path parameter is a named group of the pattern."""
    out = []
    for template, item in paths.items():
        parameter = r"(?P<\1>[^/]+)" if named else "[^/]+"
        pattern = re.compile("^" + re.sub(r"\\\{([^}]+)\\\}", parameter, re.escape(template)) + "$")
        for method, op in item.items():
            if isinstance(op, dict) and "responses" in op:
                out.append((pattern, method.upper(), op, list(item.get("parameters") or [])))
    out.sort(key=lambda o: o[0].pattern.count("[^/]+"))
    return out
