"""Execution results read straight from the test tools: Xray test runs and Zephyr Scale test executions.

The tests flowcase published for a story are found by the identity the publish wrote with them (the same lookup
a republish does: Xray Tests by their ``flowcase-test`` issue property, Zephyr Scale test cases by their
``flowcase-id:`` labels), so every execution is mapped to a test id without guessing. Then:

- Xray Cloud: ``getTestRuns(testIssueIds: ...)`` (GraphQL, 100 tests and 100 runs per page) gives every run of
  those Tests in every Test Execution, with its status, start and finish dates and its Test Execution's key;
- Zephyr Scale Cloud: ``GET /testexecutions?projectKey=...&onlyLastExecutions=true`` (1000 per page) gives the
  last execution of each test case in each test cycle; ``GET /statuses?statusType=TEST_EXECUTION`` names their
  statuses.

The **latest** execution of a test wins (by finish date, else start date, else last change; the younger
execution on a tie): a test that failed last week and passed today is passed. Each test's status says where it
comes from (:class:`Run`: the execution's key, its date, the tool's own status name). Tests without an
execution are "not run". Nothing read here is stored: the answer goes to the caller only.

Status names: Xray's as in :data:`flowcase.export.results.XRAY_STATUS` (custom statuses: ``final`` ones that are
not PASSED count as failed, others as not run); Zephyr Scale's ``Pass`` is passed, ``Fail`` failed, anything else
(Not Executed, In Progress, Blocked, custom) not run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from flowcase.export.results import XRAY_STATUS, Results, Status
from flowcase.generate.suite import Suite
from flowcase.jira.client import JiraClient, JiraError, JsonObj

Source = Literal["xray", "zephyr"]
SOURCES: tuple[Source, ...] = ("xray", "zephyr")
XRAY_PAGE = 100
ZEPHYR_PAGE = 1000
_CASE_SELF = re.compile(r"/testcases/([^/?#]+)")

ZEPHYR_STATUS: dict[str, Status] = {"pass": "passed", "fail": "failed"}


class RemoteResultsError(Exception):
    """The tool could not be read (one-line message naming the tool, no secrets); ``status`` as the tool answered."""

    def __init__(self, message: str, status: int = 502) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True, slots=True)
class Run:
    """The execution a test's status comes from."""

    test_id: str
    test_key: str  # the Xray Test's issue key or the Zephyr test case key
    status: Status
    status_name: str  # as the tool names it (PASSED, Fail, ...)
    execution: str  # the Test Execution's issue key (Xray) or the test execution's key (Zephyr)
    at: str  # ISO 8601 date of the execution ("" when the tool gives none)
    comment: str = ""

    def as_json(self) -> dict[str, str]:
        return {
            "key": self.test_key,
            "status": self.status_name,
            "execution": self.execution,
            "at": self.at,
        }


@dataclass(slots=True)
class RemoteResults:
    source: Source
    keys: dict[str, str]  # test id -> published key (every published, current test)
    runs: dict[str, Run]  # test id -> its latest execution

    def results(self, suite: Suite) -> Results:
        """The statuses of ``suite``'s tests (a test without an execution: not run). Executions of published tests
        that ``suite`` does not hold (generated otherwise) are listed as unmatched, by their key."""
        out = Results()
        wanted = {t.id for t in suite.tests}
        out.unmatched = sorted(run.test_key for test_id, run in self.runs.items() if test_id not in wanted)
        for test in suite.tests:
            run = self.runs.get(test.id)
            out.tests[test.id] = run.status if run else "not-run"
            if run is not None:
                out.matched += 1
                out.sources[test.id] = run.as_json()
                if run.status == "failed" and run.comment:
                    out.messages[test.id] = run.comment
        return out


def _when(text: str) -> float:
    """A tool's ISO 8601 date as a timestamp (``Z`` or an offset; no zone: UTC); 0 when there is none."""
    try:
        stamp = datetime.fromisoformat(text.strip())
    except ValueError:
        return 0.0
    return (stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)).timestamp()


def _latest(runs: list[tuple[tuple[float, int, str], Run]]) -> dict[str, Run]:
    best: dict[str, tuple[tuple[float, int, str], Run]] = {}
    for order, run in runs:
        have = best.get(run.test_id)
        if have is None or order > have[0]:
            best[run.test_id] = (order, run)
    return {test_id: run for test_id, (_, run) in best.items()}


def _first_line(text: Any) -> str:
    return " ".join(str(text or "").strip().split("\n", 1)[0].split())[:300]


# -- Xray ----------------------------------------------------------------------------------------------------------

RUNS_QUERY = (
    "query Runs($tests: [String], $start: Int) { getTestRuns(testIssueIds: $tests, limit: 100, start: $start) "
    "{ total results { id status { name final } comment startedOn finishedOn lastModified test { issueId } "
    'testExecution { issueId jira(fields: ["key"]) } } } }'
)


def xray_status(name: str, final: bool | None) -> Status:
    known = XRAY_STATUS.get(name.upper())
    if known is not None:
        return known
    return "failed" if final else "not-run"


async def read_xray(jira: JiraClient, xray: Any, project_key: str, story_key: str, model_id: str) -> RemoteResults:
    """The latest Xray test run of each Test published for ``story_key``'s model (``xray``: an
    :class:`flowcase.targets.xray.XrayClient`)."""
    from flowcase.jira.publish import OBSOLETE_LABEL, find_existing
    from flowcase.targets.xray import XrayError

    found: list[tuple[tuple[float, int, str], Run]] = []
    try:
        existing, _ = await find_existing(jira, project_key, story_key, model_id)
        current = {t: e for t, e in existing.items() if OBSOLETE_LABEL not in e.labels}
        by_issue = {str(e.issue_id): (t, e.key) for t, e in current.items()}
        issue_ids = sorted(by_issue, key=int)
        for n in range(0, len(issue_ids), XRAY_PAGE):
            chunk = issue_ids[n : n + XRAY_PAGE]
            start = 0
            while True:
                data = await xray.graphql(RUNS_QUERY, {"tests": chunk, "start": start})
                page = data.get("getTestRuns") or {}
                rows = [r for r in page.get("results") or [] if isinstance(r, dict)]
                for row in rows:
                    issue_id = str((row.get("test") or {}).get("issueId") or "")
                    if issue_id not in by_issue:
                        continue
                    test_id, key = by_issue[issue_id]
                    status = row.get("status") or {}
                    name = str(status.get("name") or "TODO")
                    execution = row.get("testExecution") or {}
                    exec_jira: JsonObj = execution["jira"] if isinstance(execution.get("jira"), dict) else {}
                    exec_id = str(execution.get("issueId") or "0")
                    at = str(row.get("finishedOn") or row.get("startedOn") or row.get("lastModified") or "")
                    found.append(
                        (
                            (_when(at), int(exec_id) if exec_id.isdigit() else 0, str(row.get("id") or "")),
                            Run(
                                test_id,
                                key,
                                xray_status(name, status.get("final")),
                                name,
                                str(exec_jira.get("key") or exec_id),
                                at,
                                _first_line(row.get("comment")),
                            ),
                        )
                    )
                start += XRAY_PAGE
                if not rows or start >= int(page.get("total") or 0):
                    break
    except XrayError as exc:
        raise RemoteResultsError(exc.summary(), exc.status or 502) from exc
    except JiraError as exc:
        raise RemoteResultsError(f"Jira: {exc.summary().replace('Jira ', '', 1)}", exc.status or 502) from exc
    return RemoteResults("xray", {t: e.key for t, e in current.items()}, _latest(found))


# -- Zephyr Scale --------------------------------------------------------------------------------------------------


async def _pages(z: JiraClient, path: str, params: JsonObj) -> list[JsonObj]:
    rows: list[JsonObj] = []
    start = 0
    while True:
        page = await z.json("GET", path, params={**params, "maxResults": ZEPHYR_PAGE, "startAt": start})
        values = [v for v in (page or {}).get("values") or [] if isinstance(v, dict)]
        rows.extend(values)
        if not values or (page or {}).get("isLast", True):
            return rows
        start += int((page or {}).get("maxResults") or len(values))


def zephyr_status(name: str) -> Status:
    return ZEPHYR_STATUS.get(name.strip().lower(), "not-run")


async def read_zephyr(z: JiraClient, project_key: str, story_key: str, model_id: str) -> RemoteResults:
    """The latest Zephyr Scale execution of each test case published for ``story_key``'s model (``z``: the client
    of :func:`flowcase.targets.zephyr.zephyr_client`)."""
    from flowcase.jira.publish import OBSOLETE_LABEL
    from flowcase.targets.zephyr import find_existing

    try:
        existing, _ = await find_existing(z, project_key, story_key, model_id)
        current = {t: e for t, e in existing.items() if OBSOLETE_LABEL not in e.labels}
        by_key = {e.key: t for t, e in current.items()}
        by_id = {e.id: t for t, e in current.items()}
        names = {
            int(s["id"]): str(s.get("name") or "")
            for s in await _pages(z, "/statuses", {"projectKey": project_key, "statusType": "TEST_EXECUTION"})
            if isinstance(s.get("id"), int)
        }
        executions = (
            await _pages(z, "/testexecutions", {"projectKey": project_key, "onlyLastExecutions": "true"})
            if current
            else []
        )
    except JiraError as exc:
        raise RemoteResultsError(f"Zephyr Scale: {exc.summary().replace('Jira ', '', 1)}", exc.status or 502) from exc
    found: list[tuple[tuple[float, int, str], Run]] = []
    for row in executions:
        case = row.get("testCase") or {}
        self_key = _CASE_SELF.search(str(case.get("self") or ""))
        key = self_key.group(1) if self_key else ""
        test_id = by_key.get(key) or by_id.get(int(case.get("id") or 0))
        if test_id is None:
            continue
        status_id = (row.get("testExecutionStatus") or {}).get("id")
        name = names.get(int(status_id or 0), "")
        at = str(row.get("actualEndDate") or "")
        ident = int(row.get("id") or 0)
        found.append(
            (
                (_when(at), ident, ""),
                Run(
                    test_id,
                    current[test_id].key,
                    zephyr_status(name),
                    name or f"status {status_id}",
                    str(row.get("key") or ident),
                    at,
                    _first_line(row.get("comment")),
                ),
            )
        )
    return RemoteResults("zephyr", {t: e.key for t, e in current.items()}, _latest(found))


async def read_remote(
    source: Source, jira: JiraClient, access: Any, project_key: str, story_key: str, model_id: str
) -> RemoteResults:
    """Read the story's results from ``source`` with ``access`` (a :class:`flowcase.targets.VendorAccess`)."""
    why = access.missing(source)
    if why:
        raise RemoteResultsError(why, 401)
    if source == "xray":
        from flowcase.targets.xray import XrayClient

        async with XrayClient(access.xray_url, access.xray_client_id, access.xray_client_secret) as xray:
            return await read_xray(jira, xray, project_key, story_key, model_id)
    from flowcase.targets.zephyr import zephyr_client

    z = zephyr_client(access.zephyr_url, access.zephyr_token)
    try:
        return await read_zephyr(z, project_key, story_key, model_id)
    finally:
        await z.close()


__all__ = [
    "SOURCES",
    "RemoteResults",
    "RemoteResultsError",
    "Run",
    "Source",
    "read_remote",
    "read_xray",
    "read_zephyr",
    "xray_status",
    "zephyr_status",
]
