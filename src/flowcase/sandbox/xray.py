"""A stand-in for Xray Cloud's API (the parts flowcase uses), under ``/xray/api/v2``.

- ``POST /xray/api/v2/authenticate`` with ``{"client_id", "client_secret"}`` (an Xray API key) answers a token
  as a JSON string, valid for 24 hours; anything else is a 401;
- ``POST /xray/api/v2/graphql`` (``Authorization: Bearer <token>``) runs GraphQL against
  ``xray_schema.graphql``, the subset of Xray's schema flowcase uses, itself checked against Xray's published
  schema by ``tests/test_xray_contract.py``. Queries that are not valid for that schema are refused as Xray
  refuses them (``errors``). Tests and Test Sets are issues of the sandbox's Jira of type "Test" and "Test Set"
  (what installing Xray adds: :meth:`flowcase.sandbox.testing.RunningSandbox.setup_xray`); Xray keeps their
  manual steps and test set membership (in memory here).
"""

from __future__ import annotations

import hmac
import json
import secrets
import time
from functools import cache
from pathlib import Path
from typing import Any

from graphql import GraphQLError, GraphQLSchema, build_schema, graphql_sync
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from flowcase.sandbox.issues import find_issue, type_of
from flowcase.sandbox.vendor_state import XrayState

PREFIX = "/xray/api/v2"
TOKEN_SECONDS = 24 * 3600
MAX_LIMIT = 100
SCHEMA_FILE = Path(__file__).with_name("xray_schema.graphql")
TEST_TYPE = {"id": "manual", "name": "Manual", "kind": "Steps"}


@cache
def schema() -> GraphQLSchema:
    return build_schema(SCHEMA_FILE.read_text(encoding="utf-8"))


def _sandbox(request: Request) -> Any:
    return request.app.state.sandbox


async def authenticate(request: Request) -> Response:
    sandbox = _sandbox(request)
    try:
        body = await request.json()
    except ValueError:
        body = None
    cfg = sandbox.config
    ok = (
        isinstance(body, dict)
        and isinstance(body.get("client_id"), str)
        and isinstance(body.get("client_secret"), str)
        and hmac.compare_digest(body["client_id"].encode(), cfg.xray_client_id.encode())
        and hmac.compare_digest(body["client_secret"].encode(), cfg.xray_client_secret.encode())
    )
    if not ok:
        return JSONResponse({"error": "Authentication failed. Invalid client credentials!"}, status_code=401)
    state: XrayState = sandbox.xray
    token = secrets.token_urlsafe(32)
    with state.lock:
        now = time.time()
        for old in [t for t, exp in state.tokens.items() if exp < now]:
            del state.tokens[old]
        state.tokens[token] = now + TOKEN_SECONDS
    return JSONResponse(token)


class _Resolvers:
    """Root resolvers over the sandbox's issues (read in one session per request) and the Xray state."""

    def __init__(self, sandbox: Any) -> None:
        self.sandbox = sandbox
        self.state: XrayState = sandbox.xray

    def _issue(self, issue_id: Any, kind: str) -> Any:
        if not isinstance(issue_id, str) or not issue_id.isdigit():
            return None
        with self.sandbox.session() as s:
            issue = find_issue(s, issue_id)
            if issue is None or type_of(s, issue).name.lower() != kind.lower():
                return None
            s.expunge(issue)
            return issue

    def _jira(self, issue: Any) -> Any:
        def jira(_info: Any, fields: list[str] | None = None) -> dict[str, Any]:
            out = {"key": issue.key, "summary": issue.summary, "labels": json.loads(issue.labels or "[]")}
            return {k: v for k, v in out.items() if not fields or k in fields or k == "key"}

        return jira

    def _test(self, issue: Any) -> dict[str, Any]:
        with self.state.lock:
            steps = [dict(s) for s in self.state.steps.get(issue.id, [])]
        return {
            "issueId": str(issue.id),
            "projectId": str(issue.project_id),
            "jira": self._jira(issue),
            "testType": TEST_TYPE,
            "steps": steps,
            "lastModified": issue.updated.isoformat(),
        }

    def _results(self, ids: list[int], limit: int, start: int | None) -> dict[str, Any]:
        if not 1 <= limit <= MAX_LIMIT:
            raise GraphQLError(f"limit must be between 1 and {MAX_LIMIT}")
        first = start or 0
        tests = [t for t in (self._issue(str(i), "Test") for i in ids) if t is not None]
        page = tests[first : first + limit]
        return {
            "total": len(tests),
            "start": first,
            "limit": limit,
            "results": [self._test(t) for t in page],
            "warnings": [],
        }

    # -- Query ---------------------------------------------------------------------------------------------------

    def getTest(self, _info: Any, issueId: str | None = None) -> dict[str, Any] | None:
        issue = self._issue(issueId, "Test")
        return None if issue is None else self._test(issue)

    def getTests(
        self,
        _info: Any,
        limit: int,
        issueIds: list[str] | None = None,
        jql: str | None = None,
        start: int | None = None,
    ) -> dict[str, Any]:
        if jql is not None:
            raise GraphQLError("jql is not supported by the sandbox's Xray; pass issueIds")
        return self._results([int(i) for i in issueIds or [] if i and i.isdigit()], limit, start)

    def getTestSet(self, _info: Any, issueId: str | None = None) -> dict[str, Any] | None:
        issue = self._issue(issueId, "Test Set")
        if issue is None:
            return None

        def tests(
            _info: Any, limit: int, issueIds: list[str] | None = None, start: int | None = None
        ) -> dict[str, Any]:
            with self.state.lock:
                members = list(self.state.test_sets.get(issue.id, []))
            if issueIds is not None:
                members = [m for m in members if str(m) in issueIds]
            return self._results(members, limit, start)

        return {"issueId": str(issue.id), "projectId": str(issue.project_id), "jira": self._jira(issue), "tests": tests}

    # -- Mutation ------------------------------------------------------------------------------------------------

    def _test_or_error(self, issue_id: str) -> Any:
        issue = self._issue(issue_id, "Test")
        if issue is None:
            raise GraphQLError(f"Test with id {issue_id} not found!")
        return issue

    def addTestStep(
        self, _info: Any, issueId: str, step: dict[str, Any], versionId: int | None = None
    ) -> dict[str, Any]:
        issue = self._test_or_error(issueId)
        if not any(step.get(k) for k in ("action", "data", "result")):
            raise GraphQLError("a step needs an action, data or a result")
        with self.state.lock:
            made = {
                "id": f"step-{next(self.state.ids)}",
                "action": step.get("action") or "",
                "data": step.get("data") or "",
                "result": step.get("result") or "",
            }
            self.state.steps.setdefault(issue.id, []).append(made)
        return made

    def removeAllTestSteps(self, _info: Any, issueId: str, versionId: int | None = None) -> str:
        issue = self._test_or_error(issueId)
        with self.state.lock:
            self.state.steps[issue.id] = []
        return "All steps were removed."

    def addTestsToTestSet(self, _info: Any, issueId: str, testIssueIds: list[str | None]) -> dict[str, Any]:
        test_set = self._issue(issueId, "Test Set")
        if test_set is None:
            raise GraphQLError(f"Test Set with id {issueId} not found!")
        added: list[str] = []
        refused: list[str] = []
        for raw in testIssueIds:
            test = self._issue(raw, "Test")
            with self.state.lock:
                members = self.state.test_sets.setdefault(test_set.id, [])
                if test is None:
                    refused.append(str(raw))
                elif test.id not in members:
                    members.append(test.id)
                    added.append(str(test.id))
        warning = f"Tests with ids {', '.join(refused)} were not added: not Test issues." if refused else None
        return {"addedTests": added, "warning": warning}

    def removeTestsFromTestSet(self, _info: Any, issueId: str, testIssueIds: list[str | None]) -> str:
        test_set = self._issue(issueId, "Test Set")
        if test_set is None:
            raise GraphQLError(f"Test Set with id {issueId} not found!")
        gone = {str(i) for i in testIssueIds}
        with self.state.lock:
            members = self.state.test_sets.setdefault(test_set.id, [])
            members[:] = [m for m in members if str(m) not in gone]
        return "Tests removed from the Test Set."


async def graphql_endpoint(request: Request) -> Response:
    sandbox = _sandbox(request)
    state: XrayState = sandbox.xray
    header = request.headers.get("authorization", "")
    token = header[7:] if header.startswith("Bearer ") else ""
    with state.lock:
        expiry = state.tokens.get(token) if token else None
    if expiry is None or expiry < time.time():
        return JSONResponse({"error": "Authentication failed. Invalid or expired token."}, status_code=401)
    try:
        body = await request.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or not isinstance(body.get("query"), str):
        return JSONResponse({"errors": [{"message": "Must provide query string."}]}, status_code=400)
    variables = body.get("variables")
    if variables is not None and not isinstance(variables, dict):
        return JSONResponse({"errors": [{"message": "Variables must be an object."}]}, status_code=400)
    result = graphql_sync(schema(), body["query"], root_value=_Resolvers(sandbox), variable_values=variables)
    out: dict[str, Any] = {"data": result.data}
    if result.errors:
        out["errors"] = [{"message": e.message, **({"path": e.path} if e.path else {})} for e in result.errors]
    return JSONResponse(out, status_code=200 if result.data is not None or not result.errors else 400)


routes = [
    Route(f"{PREFIX}/authenticate", authenticate, methods=["POST"]),
    Route(f"{PREFIX}/graphql", graphql_endpoint, methods=["POST"]),
]
