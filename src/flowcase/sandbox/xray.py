"""A stand-in for Xray Cloud's API (the parts flowcase uses), under ``/xray/api/v2``.

- ``POST /xray/api/v2/authenticate`` with ``{"client_id", "client_secret"}`` (an Xray API key) answers a token
  as a JSON string, valid for 24 hours; anything else is a 401;
- ``POST /xray/api/v2/graphql`` (``Authorization: Bearer <token>``) runs GraphQL against
  ``xray_schema.graphql``, the subset of Xray's schema flowcase uses, itself checked against Xray's published
  schema by ``tests/test_xray_contract.py``. Queries that are not valid for that schema are refused as Xray
  refuses them (``errors``). Tests, Test Sets and Test Executions are issues of the sandbox's Jira of type
  "Test", "Test Set" and "Test Execution" (what installing Xray adds:
  :meth:`flowcase.sandbox.testing.RunningSandbox.setup_xray`); Xray keeps their manual steps or Gherkin definition
  (test types Manual and Cucumber), test set membership and test runs (in memory here);
- test executions: ``createTestExecution`` makes a Test Execution issue with one test run per test (status
  ``TODO``), ``updateTestRunStatus`` records a run's status (a final status sets ``finishedOn``), and
  ``getTestExecution(s)`` / ``getTestRuns`` read them back, as Xray's API does.
"""

from __future__ import annotations

import hmac
import json
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

from graphql import GraphQLError, GraphQLSchema, build_schema, graphql_sync
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from flowcase.sandbox.errors import JiraHTTPError
from flowcase.sandbox.issues import create_issue, find_issue, type_of
from flowcase.sandbox.site import sandbox_of
from flowcase.sandbox.vendor_state import XrayState

T = TypeVar("T")

PREFIX = "/xray/api/v2"
TOKEN_SECONDS = 24 * 3600
MAX_LIMIT = 100
SCHEMA_FILE = Path(__file__).with_name("xray_schema.graphql")
TEST_TYPES = {
    "manual": {"id": "manual", "name": "Manual", "kind": "Steps"},
    "cucumber": {"id": "cucumber", "name": "Cucumber", "kind": "Gherkin"},
    "generic": {"id": "generic", "name": "Generic", "kind": "Unstructured"},
}
TEST_TYPE = TEST_TYPES["manual"]
EXECUTION_TYPE = "Test Execution"
# Xray's built-in test run statuses (custom ones are a site's own): name -> (final, color, description)
RUN_STATUSES = {
    "TODO": (False, "#A2A6AE", "The test run has not started"),
    "EXECUTING": (False, "#F1E069", "The test run is currently being executed"),
    "PASSED": (True, "#95C160", "The test run has passed"),
    "FAILED": (True, "#D45D52", "The test run has failed"),
    "ABORTED": (True, "#111111", "The test run was aborted"),
}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@cache
def schema() -> GraphQLSchema:
    return build_schema(SCHEMA_FILE.read_text(encoding="utf-8"))


async def authenticate(request: Request) -> Response:
    sandbox = sandbox_of(request)
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

    def _kind(self, issue: Any) -> dict[str, str]:
        with self.state.lock:
            return TEST_TYPES[self.state.test_types.get(issue.id, "manual")]

    def _test(self, issue: Any) -> dict[str, Any]:
        with self.state.lock:
            steps = [dict(s) for s in self.state.steps.get(issue.id, [])]
            gherkin = self.state.gherkin.get(issue.id)
        kind = self._kind(issue)
        return {
            "issueId": str(issue.id),
            "projectId": str(issue.project_id),
            "jira": self._jira(issue),
            "testType": kind,
            "steps": steps if kind["kind"] == "Steps" else [],
            "gherkin": gherkin if kind["kind"] == "Gherkin" else None,
            "lastModified": issue.updated.isoformat(),
        }

    def _execution(self, issue: Any) -> dict[str, Any]:
        def runs(_info: Any, limit: int, start: int | None = None) -> dict[str, Any]:
            with self.state.lock:
                rows = [r for r in self.state.runs.values() if r["exec"] == issue.id]
            return self._page(rows, limit, start, self._run)

        def tests(
            _info: Any, limit: int, issueIds: list[str] | None = None, start: int | None = None
        ) -> dict[str, Any]:
            with self.state.lock:
                ids = [r["test"] for r in self.state.runs.values() if r["exec"] == issue.id]
            if issueIds is not None:
                ids = [i for i in ids if str(i) in issueIds]
            return self._results(ids, limit, start)

        return {
            "issueId": str(issue.id),
            "projectId": str(issue.project_id),
            "jira": self._jira(issue),
            "lastModified": issue.updated.isoformat(),
            "testEnvironments": [],
            "tests": tests,
            "testRuns": runs,
        }

    def _run(self, row: dict[str, Any]) -> dict[str, Any]:
        final, color, description = RUN_STATUSES[row["status"]]
        test = self._issue(str(row["test"]), "Test")
        execution = self._issue(str(row["exec"]), EXECUTION_TYPE)
        return {
            "id": row["id"],
            "status": {"name": row["status"], "color": color, "description": description, "final": final},
            "comment": row["comment"],
            "startedOn": row["startedOn"],
            "finishedOn": row["finishedOn"],
            "lastModified": row["lastModified"],
            "test": None if test is None else self._test(test),
            "testExecution": None if execution is None else self._execution(execution),
        }

    @staticmethod
    def _page(items: list[T], limit: int, start: int | None, render: Callable[[T], dict[str, Any]]) -> dict[str, Any]:
        """One page of a list result (``limit`` items from ``start``), as Xray's GraphQL API pages them."""
        if not 1 <= limit <= MAX_LIMIT:
            raise GraphQLError(f"limit must be between 1 and {MAX_LIMIT}")
        first = start or 0
        return {
            "total": len(items),
            "start": first,
            "limit": limit,
            "results": [render(item) for item in items[first : first + limit]],
        }

    def _results(self, ids: list[int], limit: int, start: int | None) -> dict[str, Any]:
        tests = [t for t in (self._issue(str(i), "Test") for i in ids) if t is not None]
        return {**self._page(tests, limit, start, self._test), "warnings": []}

    def _listing(
        self,
        kind: str,
        render: Callable[[Any], dict[str, Any]],
        limit: int,
        issueIds: list[str] | None = None,
        jql: str | None = None,
        start: int | None = None,
    ) -> dict[str, Any]:
        """A page of the issues of this type among ``issueIds`` (one that is not such an issue is left out), as
        getTests and getTestExecutions answer (the schema has checked the arguments' names); JQL is refused."""
        if jql is not None:
            raise GraphQLError("jql is not supported by the sandbox's Xray; pass issueIds")
        issues = [i for i in (self._issue(raw, kind) for raw in issueIds or []) if i is not None]
        return self._page(issues, limit, start, render)

    # -- Query ---------------------------------------------------------------------------------------------------

    def getTest(self, _info: Any, issueId: str | None = None) -> dict[str, Any] | None:
        issue = self._issue(issueId, "Test")
        return None if issue is None else self._test(issue)

    def getTests(self, _info: Any, limit: int, **query: Any) -> dict[str, Any]:
        return {**self._listing("Test", self._test, limit, **query), "warnings": []}

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

    def getTestExecution(self, _info: Any, issueId: str | None = None) -> dict[str, Any] | None:
        issue = self._issue(issueId, EXECUTION_TYPE)
        return None if issue is None else self._execution(issue)

    def getTestExecutions(self, _info: Any, limit: int, **query: Any) -> dict[str, Any]:
        return self._listing(EXECUTION_TYPE, self._execution, limit, **query)

    def getTestRuns(
        self,
        _info: Any,
        limit: int,
        start: int | None = None,
        testExecIssueIds: list[str] | None = None,
        testIssueIds: list[str] | None = None,
    ) -> dict[str, Any]:
        if testExecIssueIds is None and testIssueIds is None:
            raise GraphQLError("testIssueIds or testExecIssueIds are required")
        with self.state.lock:
            rows = [
                r
                for r in self.state.runs.values()
                if (testIssueIds is None or str(r["test"]) in testIssueIds)
                and (testExecIssueIds is None or str(r["exec"]) in testExecIssueIds)
            ]
        return self._page(rows, limit, start, self._run)

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
        if self._kind(issue)["kind"] != "Steps":
            raise GraphQLError(f"Test with id {issueId} is not a test of kind Steps: it has no steps")
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

    def updateTestType(
        self, _info: Any, issueId: str, testType: dict[str, Any], versionId: int | None = None
    ) -> dict[str, Any]:
        issue = self._test_or_error(issueId)
        wanted = next(
            (
                key
                for key, t in TEST_TYPES.items()
                if testType.get("id") == t["id"] or str(testType.get("name") or "").lower() == t["name"].lower()
            ),
            None,
        )
        if wanted is None:
            raise GraphQLError(f"Test Type {testType.get('name') or testType.get('id')} was not found!")
        with self.state.lock:
            if self.state.test_types.get(issue.id, "manual") != wanted:  # the definition belongs to the old type
                self.state.test_types[issue.id] = wanted
                self.state.steps.pop(issue.id, None)
                self.state.gherkin.pop(issue.id, None)
        return self._test(issue)

    def updateGherkinTestDefinition(
        self, _info: Any, gherkin: str, issueId: str, versionId: int | None = None
    ) -> dict[str, Any]:
        issue = self._test_or_error(issueId)
        if self._kind(issue)["kind"] != "Gherkin":
            raise GraphQLError(f"Test with id {issueId} is not a test of kind Gherkin")
        with self.state.lock:
            self.state.gherkin[issue.id] = gherkin
        return self._test(issue)

    def createTestExecution(
        self,
        _info: Any,
        jira: Any,
        testEnvironments: list[str | None] | None = None,
        testIssueIds: list[str | None] | None = None,
    ) -> dict[str, Any]:
        fields = jira.get("fields") if isinstance(jira, dict) else None
        if not isinstance(fields, dict):
            raise GraphQLError("jira.fields is required")
        try:
            with self.sandbox.session() as s:
                made = create_issue(s, {"fields": {**fields, "issuetype": {"name": EXECUTION_TYPE}}})
                self.sandbox.index.created(made.id)
                issue_id = str(made.id)
        except JiraHTTPError as exc:
            raise GraphQLError(
                "the Test Execution cannot be created: " + "; ".join([*exc.messages, *exc.errors.values()])
            ) from None
        execution = self._issue(issue_id, EXECUTION_TYPE)
        warnings: list[str] = []
        for raw in testIssueIds or []:
            test = self._issue(raw, "Test")
            if test is None:
                warnings.append(f"Test with id {raw} was not found and was not added to the Test Execution.")
                continue
            with self.state.lock:
                run_id = secrets.token_hex(12)
                self.state.runs[run_id] = {
                    "id": run_id,
                    "test": test.id,
                    "exec": int(issue_id),
                    "status": "TODO",
                    "comment": None,
                    "startedOn": None,
                    "finishedOn": None,
                    "lastModified": _now(),
                }
        return {
            "testExecution": None if execution is None else self._execution(execution),
            "warnings": warnings,
            "createdTestEnvironments": [],
        }

    def updateTestRunStatus(self, _info: Any, id: str, status: str) -> str:
        if status not in RUN_STATUSES:
            raise GraphQLError(f"Status {status} was not found!")
        with self.state.lock:
            run = self.state.runs.get(id)
            if run is None:
                raise GraphQLError(f"Test Run with id {id} was not found!")
            stamp = _now()
            run["status"], run["lastModified"] = status, stamp
            if status != "TODO":
                run["startedOn"] = run["startedOn"] or stamp
            run["finishedOn"] = stamp if RUN_STATUSES[status][0] else None
        return f"Test Run status updated to {status}."

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
    sandbox = sandbox_of(request)
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
