"""Publish a suite to Xray Cloud: Test issues with manual steps, a Test Set per workflow, coverage of the story.

Xray's tests are Jira issues of type "Test", so this target is Jira publishing (:mod:`flowcase.jira.publish`:
identity property set in the create call, bulk creates, the story's lease, the journal, reconciliation of
ambiguous creates, obsolete label, links) with :class:`XrayExtras` (docs/targets.md):

- the manual steps (action, data, expected result) go through Xray's GraphQL API (``removeAllTestSteps`` then
  ``addTestStep``, several in one request); the issue's description holds the objectives, data and requirements;
- the steps are part of the test's hash; a new issue is created with an empty hash and gets its hash only after
  its steps are written, so a run that dies in between leaves a test whose steps the next run writes again;
- the link from each Test to the story (link type "Test": the story "is tested by" it) is what Xray reads as
  requirement coverage;
- one Test Set per workflow (issue type "Test Set", property ``flowcase-testset`` = {model, story}, linked to the
  story so the story's links find it at once): current tests are added, tests marked obsolete removed.

Authentication: Xray's API key (client id and secret) is exchanged for a token at ``/api/v2/authenticate``; the
token is renewed once when Xray answers 401. Neither is logged or put in a URL.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Sequence
from typing import Any

import httpx

from flowcase.export import zephyr as zephyr_export
from flowcase.export.common import description_of
from flowcase.generate.suite import Suite, TestCase
from flowcase.jira import adf
from flowcase.jira.client import JiraClient, JiraError, JsonObj
from flowcase.jira.publish import LABEL, PublishCall, PublishError, PublishResult, model_label, publish_call
from flowcase.jira.settings_store import PublishSettings
from flowcase.model.types import Model

log = logging.getLogger("flowcase.targets.xray")

TEST_SET_TYPE = "Test Set"
TEST_SET_PROPERTY = "flowcase-testset"
TEST_SET_LINK = "Relates"
STEPS_PER_CALL = 50
MANUAL_TYPE = 'type: updateTestType(issueId: $id, testType: {name: "Manual"}) { issueId }'
PAGE = 100


class XrayError(JiraError):
    """Xray refused a request or answered GraphQL errors (one-line messages, no secrets)."""

    def summary(self) -> str:
        text = "; ".join(self.messages) or "no details"
        return f"Xray answered {self.status}: {text}" if self.status else f"Xray unreachable: {text}"


class XrayAuth(httpx.Auth):
    """Exchanges the API key for a token on first use (and once more when Xray answers 401)."""

    def __init__(self, base_url: str, client_id: str, client_secret: str) -> None:
        if not client_id or not client_secret:
            raise ValueError("an Xray client id and secret are both required")
        self.base_url = base_url.rstrip("/")
        self._key = {"client_id": client_id, "client_secret": client_secret}
        self._token: str | None = None

    def __repr__(self) -> str:
        return "XrayAuth(client_id=***, client_secret=***)"

    def _authenticate(self) -> httpx.Request:
        return httpx.Request(
            "POST", f"{self.base_url}/api/v2/authenticate", json=self._key, headers={"Accept": "application/json"}
        )

    def _take(self, response: httpx.Response) -> None:
        if response.status_code != 200:
            raise XrayError(response.status_code, ["authentication failed: check the Xray client id and secret"])
        token = response.json()
        if not isinstance(token, str) or not token:
            raise XrayError(response.status_code, ["authentication answered no token"])
        self._token = token

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        from flowcase.jira.auth import LOOPBACK

        if request.url.scheme != "https" and request.url.host not in LOOPBACK:
            raise ValueError("refusing to send Xray credentials over plain http (use https)")
        if self._token is None:
            answer = yield self._authenticate()
            await answer.aread()
            self._take(answer)
        request.headers["Authorization"] = f"Bearer {self._token}"
        response = yield request
        if response.status_code == 401:  # the token expired: one new token, one more try
            answer = yield self._authenticate()
            await answer.aread()
            self._take(answer)
            request.headers["Authorization"] = f"Bearer {self._token}"
            yield request


class XrayClient:
    def __init__(self, url: str, client_id: str, client_secret: str) -> None:
        self.http = JiraClient(url, XrayAuth(url, client_id, client_secret))
        self.calls = 0

    async def close(self) -> None:
        await self.http.close()

    async def __aenter__(self) -> XrayClient:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    async def graphql(self, query: str, variables: JsonObj | None = None) -> JsonObj:
        """Run one GraphQL document; Xray's ``errors`` raise :class:`XrayError`."""
        self.calls += 1
        try:
            body = await self.http.json("POST", "/api/v2/graphql", json={"query": query, "variables": variables or {}})
        except XrayError:
            raise
        except JiraError as exc:
            raise XrayError(exc.status, list(exc.messages), exc.response) from exc
        if not isinstance(body, dict):
            raise XrayError(200, ["GraphQL answered no object"])
        if body.get("errors"):
            raise XrayError(200, [str(e.get("message", e))[:300] for e in body["errors"] if isinstance(e, dict)])
        data = body.get("data")
        return data if isinstance(data, dict) else {}


def _steps(test: TestCase) -> list[JsonObj]:
    body = zephyr_export.body(test, project=None, folder=None)
    return [
        {"action": s["description"], "data": s["testData"], "result": s["expectedResult"]}
        for s in body["testScript"]["steps"]
    ]


class XrayExtras:
    """Manual steps per Test and the workflow's Test Set (see the module docs)."""

    def __init__(
        self,
        xray: XrayClient,
        jira: JiraClient,
        model: Model,
        suite: Suite,
        story_key: str,
        project_key: str,
        settings: PublishSettings,
    ) -> None:
        self.xray, self.jira, self.model, self.story, self.project = xray, jira, model, story_key, project_key
        self.settings, self.suite = settings, suite
        self.steps = {t.id: _steps(t) for t in suite.tests}
        self.test_set: str | None = None  # issue id
        self.test_set_key: str | None = None

    def description(self, test: TestCase) -> JsonObj | None:
        lines = [line for line in description_of(test).split("\n") if line]
        return adf.doc([adf.paragraph(line) for line in lines] + [adf.paragraph(f"Workflow: {self.model.label}")])

    def content(self, test: TestCase) -> Any:
        return self.steps.get(test.id, [])

    async def write(self, key: str, issue_id: str, test_id: str) -> None:
        steps = self.steps.get(test_id, [])
        for n in range(0, max(len(steps), 1), STEPS_PER_CALL):
            chunk = steps[n : n + STEPS_PER_CALL]
            args = ", ".join(["$id: String!"] + [f"$s{i}: CreateStepInput!" for i in range(len(chunk))])
            # a Test that was published as a Cucumber test becomes a manual one again (a no-op for manual Tests)
            fields = [MANUAL_TYPE, "clear: removeAllTestSteps(issueId: $id)"] if n == 0 else []
            fields += [f"s{i}: addTestStep(issueId: $id, step: $s{i}) {{ id }}" for i in range(len(chunk))]
            variables: JsonObj = {"id": issue_id, **{f"s{i}": step for i, step in enumerate(chunk)}}
            await self.xray.graphql(f"mutation Steps({args}) {{ {' '.join(fields)} }}", variables)

    async def _find_test_set(self) -> tuple[str, str] | None:
        story = await self.jira.get_issue(self.story, fields=("issuelinks",))
        ids = sorted(
            {
                str((lk.get("inwardIssue") or lk.get("outwardIssue") or {}).get("id"))
                for lk in ((story or {}).get("fields") or {}).get("issuelinks") or []
            }
            - {"None"}
        )
        if not ids:
            return None
        found = await self.jira.fetch_issues(ids, fields=("issuetype",), properties=(TEST_SET_PROPERTY,))
        for issue in sorted(found, key=lambda i: int(i.get("id", 0))):
            ident = (issue.get("properties") or {}).get(TEST_SET_PROPERTY)
            if isinstance(ident, dict) and ident.get("story") == self.story and ident.get("model") == self.model.id:
                return str(issue["id"]), str(issue["key"])
        return None

    async def _ensure_test_set(self) -> str:
        found = await self._find_test_set()
        if found is None:
            fields: JsonObj = {
                "project": {"key": self.project},
                "issuetype": {"name": TEST_SET_TYPE},
                "summary": f"{self.model.label} (flowcase tests)"[:255],
                "labels": sorted({LABEL, model_label(self.model.id), *self.settings.labels}),
            }
            try:
                made = await self.jira.create_issue(
                    fields,
                    properties=[{"key": TEST_SET_PROPERTY, "value": {"model": self.model.id, "story": self.story}}],
                )
            except JiraError as exc:
                if exc.status == 400:
                    raise PublishError(
                        f"project {self.project} has no '{TEST_SET_TYPE}' issue type: is Xray "
                        "installed and enabled on it?",
                        status=409,
                    ) from exc
                raise
            await self.jira.link_issues(TEST_SET_LINK, source=str(made["key"]), target=self.story)
            found = (str(made["id"]), str(made["key"]))
        self.test_set, self.test_set_key = found
        return found[0]

    async def _members(self, test_set: str) -> set[str]:
        members: set[str] = set()
        start = 0
        query = (
            "query Members($id: String, $start: Int) { getTestSet(issueId: $id) { tests(limit: 100, "
            "start: $start) { total results { issueId } } } }"
        )
        while True:
            data = await self.xray.graphql(query, {"id": test_set, "start": start})
            tests = ((data.get("getTestSet") or {}).get("tests")) or {}
            rows = [str(r.get("issueId")) for r in tests.get("results") or [] if r]
            members.update(rows)
            start += PAGE
            if not rows or start >= int(tests.get("total") or 0):
                return members

    async def after(self, ids: dict[str, str], obsolete: Sequence[str]) -> None:
        test_set = await self._ensure_test_set()
        members = await self._members(test_set)
        missing = [i for i in ids.values() if i not in members]
        for n in range(0, len(missing), PAGE):
            await self.xray.graphql(
                "mutation Add($id: String!, $tests: [String]!) { addTestsToTestSet(issueId: $id, "
                "testIssueIds: $tests) { addedTests warning } }",
                {"id": test_set, "tests": missing[n : n + PAGE]},
            )
        gone = [i for i in obsolete if i in members]
        if gone:
            await self.xray.graphql(
                "mutation Remove($id: String!, $tests: [String]!) { "
                "removeTestsFromTestSet(issueId: $id, testIssueIds: $tests) }",
                {"id": test_set, "tests": gone},
            )


async def publish(call: PublishCall, access: Any, extras_class: type[XrayExtras] | None = None) -> PublishResult:
    """Publish ``call.suite`` as Xray tests of the story (see the module docs); ``extras_class`` writes what a Test
    holds (default: manual steps; :mod:`flowcase.targets.xray_gherkin` for Cucumber tests)."""
    async with XrayClient(access.xray_url, access.xray_client_id, access.xray_client_secret) as xray:
        try:
            await xray.graphql("query Ping { getTests(limit: 1, issueIds: []) { total } }")
        except XrayError as exc:
            raise PublishError(
                f"Xray: {exc.summary().removeprefix('Xray ')}", status=exc.status or 502, retryable=exc.retryable
            ) from exc
        extras = (extras_class or XrayExtras)(
            xray, call.jira, call.model, call.suite, call.story_key, call.project_key, call.settings
        )
        # Xray's failures are JiraErrors whose summary names Xray: publish reports them as it reports Jira's.
        result = await publish_call(call, extras)
        log.info("xray publish of %s: %d GraphQL calls, test set %s", call.story_key, xray.calls, extras.test_set_key)
        return result


__all__ = ["XrayAuth", "XrayClient", "XrayError", "XrayExtras", "publish"]
