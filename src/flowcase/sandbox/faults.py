"""Run-time fault injection (429, 5xx, latency, dropped connections) and the call log.

Kinds: ``rate_limit`` (429, refused), ``error`` (5xx, refused: nothing was done), ``latency`` (a slow answer),
``drop`` (the connection closes before the request is handled), and the two a client cannot tell apart from a
refusal but which Jira does produce: ``applied_error`` (the request IS carried out, then a 5xx such as a 504 from
the gateway is answered instead of the real response) and ``applied_drop`` (carried out, then the connection is
reset before any answer).

Rules match on a path prefix and a method (``*`` for any) and apply to the next ``count`` matching calls (all of
them when ``count`` is None). The first matching rule wins. ``/_sandbox/`` itself is never faulted.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from starlette.types import ASGIApp, Message, Receive, Scope, Send

FaultKind = Literal["rate_limit", "error", "latency", "drop", "applied_error", "applied_drop"]
KINDS: tuple[str, ...] = ("rate_limit", "error", "latency", "drop", "applied_error", "applied_drop")
_ids = itertools.count(1)


class FaultSpecError(ValueError):
    """A fault rule that cannot be applied (one-line message)."""


@dataclass(slots=True)
class Fault:
    kind: FaultKind
    path_prefix: str = "/rest/"
    method: str = "*"
    count: int | None = None
    status: int = 0
    retry_after: int = 1
    latency_ms: int = 0
    id: int = field(default_factory=lambda: next(_ids))
    hits: int = 0

    @classmethod
    def from_json(cls, data: Any) -> Fault:
        if not isinstance(data, dict):
            raise FaultSpecError("a fault must be a JSON object")
        kind = data.get("kind")
        if kind not in KINDS:
            raise FaultSpecError(f"kind must be one of {', '.join(KINDS)}")
        prefix = data.get("path_prefix", "/rest/")
        if not isinstance(prefix, str) or not prefix.startswith("/"):
            raise FaultSpecError("path_prefix must be a path starting with '/'")
        method = str(data.get("method", "*")).upper()
        count = data.get("count")
        if count is not None and (not isinstance(count, int) or count < 1):
            raise FaultSpecError("count must be a positive integer or null")
        default_status = {"rate_limit": 429, "error": 503, "applied_error": 504}.get(kind, 0)
        status = data.get("status", default_status)
        if kind in ("error", "applied_error") and (not isinstance(status, int) or not 500 <= status <= 599):
            raise FaultSpecError("status of an error fault must be 500-599")
        retry_after = data.get("retry_after", 1)
        latency_ms = data.get("latency_ms", 0)
        for name, value in (("retry_after", retry_after), ("latency_ms", latency_ms)):
            if not isinstance(value, int) or value < 0:
                raise FaultSpecError(f"{name} must be a non-negative integer")
        if kind == "latency" and latency_ms <= 0:
            raise FaultSpecError("a latency fault needs latency_ms > 0")
        return cls(kind, prefix, method, count, int(status), retry_after, latency_ms)

    def matches(self, method: str, path: str) -> bool:
        return path.startswith(self.path_prefix) and self.method in ("*", method)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["remaining"] = None if self.count is None else self.count - self.hits
        return data


class FaultRegistry:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[Fault] = []

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            self._rules.append(fault)
        return fault

    def remove(self, fault_id: int) -> bool:
        with self._lock:
            before = len(self._rules)
            self._rules = [f for f in self._rules if f.id != fault_id]
            return len(self._rules) != before

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def list(self) -> list[Fault]:
        with self._lock:
            return list(self._rules)

    def take(self, method: str, path: str) -> Fault | None:
        """The rule that applies to this call, counting it; exhausted rules are dropped."""
        with self._lock:
            for rule in self._rules:
                if rule.matches(method, path):
                    rule.hits += 1
                    if rule.count is not None and rule.hits >= rule.count:
                        self._rules.remove(rule)
                    return rule
        return None


@dataclass(frozen=True, slots=True)
class Call:
    method: str
    path: str
    status: int  # 0 = connection dropped
    auth: str  # "jwt:<app key>", "basic", "none" or "page"
    at: float


class CallLog:
    def __init__(self, limit: int = 20000) -> None:
        self._lock = threading.Lock()
        self._calls: deque[Call] = deque(maxlen=limit)

    def add(self, call: Call) -> None:
        with self._lock:
            self._calls.append(call)

    def list(self) -> list[Call]:
        with self._lock:
            return list(self._calls)

    def clear(self) -> None:
        with self._lock:
            self._calls.clear()

    def count(self, method: str, path: str, status: int | None = None) -> int:
        return sum(
            1 for c in self.list() if c.method == method and c.path == path and (status is None or c.status == status)
        )


def _rate_limit_headers(fault: Fault) -> list[tuple[bytes, bytes]]:
    reset = (datetime.now(UTC) + timedelta(seconds=max(fault.retry_after, 60))).strftime("%Y-%m-%dT%H:%MZ")
    return [
        (b"retry-after", str(fault.retry_after).encode()),
        (b"x-ratelimit-limit", b"100"),
        (b"x-ratelimit-remaining", b"0"),
        (b"x-ratelimit-reset", reset.encode()),
        (b"x-ratelimit-nearlimit", b"true"),
        (b"ratelimit-reason", b"jira-quota-based"),
    ]


class FaultMiddleware:
    """Outermost ASGI wrapper: applies faults and records every call (method, path, status)."""

    def __init__(self, app: ASGIApp, faults: FaultRegistry, calls: CallLog) -> None:
        self.app = app
        self.faults = faults
        self.calls = calls

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method: str = scope["method"]
        path: str = scope["path"]
        status = {"code": 0}
        auth = _auth_kind(scope)
        started = time.time()
        logged = False

        def log(code: int) -> None:
            nonlocal logged
            if not logged and not path.startswith("/_sandbox/"):
                self.calls.add(Call(method, path, code, auth, started))
            logged = True

        async def recording_send(message: Message) -> None:
            # Logged before the last body chunk leaves, so a client that got its answer sees the entry.
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                log(status["code"])
            await send(message)

        try:
            fault = None if path.startswith("/_sandbox/") else self.faults.take(method, path)
            if fault is not None and fault.kind == "latency":
                await asyncio.sleep(fault.latency_ms / 1000)
                fault = None
            if fault is not None and fault.kind in ("applied_error", "applied_drop"):
                await self.app(scope, receive, _discard)  # carried out; its real answer never reaches the client
                fault = Fault("drop") if fault.kind == "applied_drop" else Fault("error", status=fault.status)
            if fault is None:
                await self.app(scope, receive, recording_send)
            elif fault.kind == "drop":
                log(0)
                await _drop(send)
            else:
                await _send_fault(fault, recording_send)
        finally:
            log(status["code"])


async def _discard(_message: Message) -> None:
    return None


async def _send_fault(fault: Fault, send: Send) -> None:
    if fault.kind == "rate_limit":
        body = {"errorMessages": ["Rate limit exceeded."], "errors": {}}
        headers = _rate_limit_headers(fault)
    else:
        body = {"errorMessages": [f"Injected sandbox fault: HTTP {fault.status}."], "errors": {}}
        headers = [(b"retry-after", str(fault.retry_after).encode())] if fault.status == 503 else []
    raw = json.dumps(body).encode()
    headers += [(b"content-type", b"application/json;charset=UTF-8"), (b"content-length", str(len(raw)).encode())]
    await send({"type": "http.response.start", "status": fault.status, "headers": headers})
    await send({"type": "http.response.body", "body": raw})


async def _drop(send: Send) -> None:
    """Close the connection without any response (uvicorn's h11 cycle exposes its transport)."""
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is None:
        raise ConnectionAbortedError("sandbox fault: dropped connection")
    transport.close()
    await asyncio.sleep(0.01)  # let the server notice the disconnect, so it does not answer 500


def _auth_kind(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            scheme = value.split(b" ", 1)[0].lower()
            return {b"jwt": "jwt", b"basic": "basic", b"bearer": "bearer"}.get(scheme, "other")
    return "none"
