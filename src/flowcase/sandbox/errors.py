"""Errors shaped like Jira's: ``{"errorMessages": [...], "errors": {...}}`` with Jira's status codes."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.requests import Request
from starlette.responses import JSONResponse, Response


class JiraHTTPError(Exception):
    def __init__(
        self,
        status: int,
        messages: list[str] | str | None = None,
        errors: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        if isinstance(messages, str):
            messages = [messages]
        self.status = status
        self.messages = list(messages or [])
        self.errors = dict(errors or {})
        self.headers = dict(headers or {})
        super().__init__(f"{status}: {'; '.join(self.messages) or self.errors}")

    def body(self) -> dict[str, object]:
        return {"errorMessages": self.messages, "errors": self.errors}


def error_response(exc: JiraHTTPError) -> Response:
    return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)


async def handle_jira_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, JiraHTTPError)
    return error_response(exc)


def not_found_issue(key: str) -> JiraHTTPError:
    return JiraHTTPError(404, "Issue does not exist or you do not have permission to see it.")


def bad_request(field: str | None = None, message: str = "") -> JiraHTTPError:
    if field:
        return JiraHTTPError(400, errors={field: message})
    return JiraHTTPError(400, message)
