"""JSON errors for the API: one shape everywhere, ``{"error": {"code", "message", "diagnostics"?}}``.

The errors of the :mod:`flowcase.errors` tree are translated here and nowhere else (:func:`api_error`, used by
the app's exception handler and by the compute workers): each class names its HTTP status, code and details.
:class:`ApiError` is for what only the web layer knows (a request that is too large, a page opened for another
issue).
"""

from __future__ import annotations

import logging
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from flowcase.errors import FlowcaseError
from flowcase.model.diagnostics import Diagnostic

log = logging.getLogger(__name__)
MAX_BODY_BYTES = 4 * 1024 * 1024
T = TypeVar("T", bound=BaseModel)


class ApiError(Exception):
    """An expected failure, reported to the caller as JSON with ``status``."""

    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra

    def response(self) -> JSONResponse:
        retry = self.extra.get("retryAfter")
        headers = {"Retry-After": str(retry)} if isinstance(retry, int) else None
        return JSONResponse(
            {"error": {"code": self.code, "message": self.message, **self.extra}}, self.status, headers=headers
        )


def diagnostic_json(d: Diagnostic) -> dict[str, Any]:
    return d.as_json()


def api_error(exc: FlowcaseError) -> ApiError:
    """THE translation of an expected failure into the API's answer (status, code, message, details)."""
    return ApiError(exc.http_status, exc.api_code, exc.api_message(), **exc.api_details())


async def read_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The request body, refusing anything larger than ``limit`` bytes without reading it all."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        raise ApiError(413, "too-large", f"request body is larger than {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(413, "too-large", f"request body is larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def read_json(request: Request, schema: type[T], limit: int = MAX_BODY_BYTES) -> T:
    """Parse and validate a JSON body; a clear 400/415/422 otherwise."""
    return parse_json_body(schema, await read_json_bytes(request, limit))


async def read_json_bytes(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """A JSON body, unparsed (bounded; 415 for another media type): parsed later, off the event loop."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "application/json":
        raise ApiError(415, "unsupported-media-type", "send the body as application/json")
    return await read_body(request, limit)


def parse_json_body(schema: type[T], body: bytes) -> T:
    """Validate a JSON body against ``schema``; a clear 400/422 otherwise."""
    try:
        return schema.model_validate_json(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        if first["type"] == "json_invalid":
            raise ApiError(400, "bad-json", f"the body is not valid JSON: {first['msg']}") from None
        fields = [{"loc": [str(p) for p in e["loc"]], "message": e["msg"]} for e in exc.errors()]
        raise ApiError(422, "bad-request", f"{where}: {first['msg']}", fields=fields) from None


async def api_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return exc.response()


async def flowcase_error_handler(request: Request, exc: Exception) -> Response:
    """An expected failure from the layers below (Jira, storage, models...): its class says how to answer.

    Only the class name is logged (messages may quote customer content)."""
    assert isinstance(exc, FlowcaseError)
    if exc.http_status >= 500:
        log.warning("%s on %s %s", type(exc).__name__, request.method, request.url.path)
    if not request.url.path.startswith("/api/"):
        return Response(f"{exc.http_status}: {exc.api_message()}\n", exc.http_status, media_type="text/plain")
    return api_error(exc).response()


async def unexpected_error_handler(request: Request, exc: Exception) -> Response:
    """A bug, not bad input: logged with its traceback on the server, one JSON line for the caller."""
    log.error("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": {"code": "internal", "message": "unexpected error; it was logged"}}, 500)
    return Response("500: unexpected error; it was logged\n", 500, media_type="text/plain")


async def http_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if request.url.path.startswith("/api/"):
        code = {401: "unauthenticated", 403: "forbidden", 404: "not-found", 405: "method-not-allowed"}
        return JSONResponse(
            {"error": {"code": code.get(exc.status_code, "http-error"), "message": exc.detail}},
            exc.status_code,
            headers=exc.headers,
        )
    return Response(f"{exc.status_code}: {exc.detail}\n", exc.status_code, headers=exc.headers, media_type="text/plain")
