"""Must show (issue 20): a full publishing cycle to Xray Cloud through the sandbox's stand-in: Test issues with
manual steps, a Test Set per workflow, the coverage link to the story; republish unchanged (0 creates, 0 writes),
change the model (steps rewritten in place, obsolete tests marked and taken out of the set, never deleted), a
worker that dies between Jira's create and the steps resumed without duplicates."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest

from builders import (
    PROJECT,
    all_decisions,
    checkout_model,
    jira_client,
    new_story,
    project_target,
    publish_to,
    xray_graphql,
    xray_token,
)
from flowcase.jira.jobs import DONE
from flowcase.jira.publish import OBSOLETE_LABEL, TEST_PROPERTY, PublishError, PublishResult, model_label
from flowcase.jira.settings_store import PublishSettings
from flowcase.model.types import Model
from flowcase.sandbox.testing import RunningSandbox
from flowcase.targets import VendorAccess
from jobtools import Crash, crash_first_worker, resume_after_crash, sqlite_job_store, submit_sync

BULK = "/rest/api/3/issue/bulk"
GRAPHQL = "/xray/api/v2/graphql"
XRAY = PublishSettings(target="xray")
pytestmark = pytest.mark.sandbox(setup=True, xray=True)  # the shared `sb` fixture (conftest.py)


def model_of(model_id: str, n: int, *, word: str = "Choose") -> Model:
    return checkout_model(model_id, n, action=word + " product {i}", pay_from=0)


def run_publish(sb: RunningSandbox, model: Model, story: str, access: VendorAccess | None = None) -> PublishResult:
    return publish_to(sb, model, story, XRAY, access, settle_seconds=0)


def issues_of(sb: RunningSandbox, model_id: str) -> list[dict[str, Any]]:
    async def go() -> list[dict[str, Any]]:
        async with jira_client(sb) as c:
            return await c.search_all(
                f'project = {PROJECT} AND labels = "{model_label(model_id)}" ORDER BY key',
                fields=("labels", "issuelinks", "issuetype", "summary"),
                properties=(TEST_PROPERTY, "flowcase-testset"),
            )

    return asyncio.run(go())


def steps_of(sb: RunningSandbox, issue_id: str) -> list[dict[str, Any]]:
    data = xray_graphql(
        sb, "query($id: String) { getTest(issueId: $id) { steps { action data result } } }", {"id": issue_id}
    )
    return list(data["getTest"]["steps"])


def set_members(sb: RunningSandbox, set_id: str) -> set[str]:
    data = xray_graphql(
        sb,
        "query($id: String) { getTestSet(issueId: $id) { tests(limit: 100) { results { issueId } } } }",
        {"id": set_id},
    )
    return {r["issueId"] for r in data["getTestSet"]["tests"]["results"]}


def test_full_cycle_publish_republish_change(sb: RunningSandbox) -> None:
    story = new_story(sb)
    first = run_publish(sb, model_of("xcycle", 4), story)
    assert (first.created, first.updated, first.unchanged, first.obsoleted) == (4, 0, 0, 0)
    issues = issues_of(sb, "xcycle")
    tests = [i for i in issues if i["fields"]["issuetype"]["name"] == "Test"]
    sets = [i for i in issues if i["fields"]["issuetype"]["name"] == "Test Set"]
    assert len(tests) == 4 and len(sets) == 1
    for issue in tests:
        assert issue["properties"][TEST_PROPERTY]["hash"]  # complete: steps written, then the hash
        steps = steps_of(sb, issue["id"])
        assert [s["action"] for s in steps][-1] == "Pay by card" and steps[0]["result"].startswith("Product ")
        coverage = [lk for lk in issue["fields"]["issuelinks"] if (lk.get("outwardIssue") or {}).get("key") == story]
        assert [lk["type"]["name"] for lk in coverage] == ["Test"]  # the story "is tested by" it: Xray's coverage
    assert set_members(sb, sets[0]["id"]) == {i["id"] for i in tests}

    sb.clear_calls()
    again = run_publish(sb, model_of("xcycle", 4), story)
    assert (again.created, again.updated, again.unchanged, again.create_calls) == (0, 0, 4, 0)
    assert sb.count_calls("POST", BULK) == 0 and sb.count_calls("PUT", "/rest/api/3/issue/") == 0
    assert sb.count_calls("POST", "/rest/api/3/issue") == 0
    # Xray: the ping and the test set's members, nothing written.
    assert sb.count_calls("POST", GRAPHQL) == 2

    sb.clear_calls()
    changed = run_publish(sb, model_of("xcycle", 3, word="Select"), story)
    assert (changed.created, changed.updated, changed.unchanged, changed.obsoleted) == (0, 3, 0, 1)
    assert sb.count_calls("POST", BULK) == 0
    after = [i for i in issues_of(sb, "xcycle") if i["fields"]["issuetype"]["name"] == "Test"]
    assert {i["key"] for i in after} == {i["key"] for i in tests}  # updated in place, nothing deleted
    obsolete = [i for i in after if OBSOLETE_LABEL in i["fields"]["labels"]]
    assert len(obsolete) == 1
    live = [i for i in after if OBSOLETE_LABEL not in i["fields"]["labels"]]
    for issue in live:
        assert steps_of(sb, issue["id"])[0]["action"].startswith("Select product")
    assert set_members(sb, sets[0]["id"]) == {i["id"] for i in live}  # the obsolete test left the set
    sb.clear_calls()
    settled = run_publish(sb, model_of("xcycle", 3, word="Select"), story)
    assert (settled.created, settled.updated, settled.obsoleted) == (0, 0, 0)
    assert sb.count_calls("POST", GRAPHQL) == 2


def test_bad_credentials_are_refused_before_anything_is_written(sb: RunningSandbox) -> None:
    story = new_story(sb)
    sb.clear_calls()
    bad = VendorAccess(xray_url=sb.xray_url, xray_client_id="nobody", xray_client_secret="nothing")
    with pytest.raises(PublishError, match="client id and secret"):
        run_publish(sb, model_of("xbad", 2), story, bad)
    assert sb.count_calls("POST", BULK) == 0
    assert httpx.post(f"{sb.xray_url}/api/v2/graphql", json={"query": "{ getTest { issueId } }"}).status_code == 401


def test_a_worker_killed_before_the_steps_resumes_without_duplicates(sb: RunningSandbox, tmp_path: Path) -> None:
    """The durable job: the worker "dies" right after Jira created a chunk of Tests and before their steps were
    written; the next worker finds them by their identity, writes their steps and creates nothing twice."""
    _url, store, clock = sqlite_job_store(tmp_path)
    model = model_of("xkilled", 5)
    suite = all_decisions(model)
    story = new_story(sb)

    from flowcase.targets import xray as xray_module

    async def crashing(self: Any, key: str, issue_id: str, test_id: str) -> None:
        raise Crash  # Jira created the Tests; not one step was written

    with project_target(sb, "xray"):
        job_id = submit_sync(sb, store, story, model, suite)
        crash_first_worker(sb, store, job_id, xray_module.XrayExtras, "write", crashing)
        made = [i for i in issues_of(sb, "xkilled") if i["fields"]["issuetype"]["name"] == "Test"]
        assert len(made) == 5 and all(i["properties"][TEST_PROPERTY]["hash"] == "" for i in made)
        view = resume_after_crash(sb, store, clock, story, job_id)
    assert view is not None and view.state == DONE, view
    assert sb.count_calls("POST", BULK) == 0  # nothing created again
    tests = [i for i in issues_of(sb, "xkilled") if i["fields"]["issuetype"]["name"] == "Test"]
    assert len(tests) == 5 and len({i["properties"][TEST_PROPERTY]["id"] for i in tests}) == 5
    for issue in tests:
        assert issue["properties"][TEST_PROPERTY]["hash"]
        assert steps_of(sb, issue["id"])[-1]["action"] == "Pay by card"


def test_compare_with_published_counts_the_steps(sb: RunningSandbox) -> None:
    """The editor's "Compare with published" on an Xray project: unchanged right after a publish, "to update"
    when only a step's text changed."""
    from flowcase.web import jira_ops

    story = new_story(sb)
    run_publish(sb, model_of("xdiff", 3), story)

    async def diff(model: Model) -> dict[str, Any]:
        async with jira_client(sb) as c:
            return await jira_ops.diff(c, story, model, all_decisions(model), "flowcase")

    with project_target(sb, "xray"):
        same = asyncio.run(diff(model_of("xdiff", 3)))
        reworded = asyncio.run(diff(model_of("xdiff", 3, word="Select")))
    assert (len(same["unchanged"]), len(same["updated"]), len(same["new"])) == (3, 0, 0)
    assert (len(reworded["unchanged"]), len(reworded["updated"])) == (0, 3)


def test_get_tests_and_executions_list_only_issues_of_their_type(sb: RunningSandbox) -> None:
    run_publish(sb, model_of("xlists", 2), new_story(sb))
    issues = issues_of(sb, "xlists")
    tests = sorted(i["id"] for i in issues if i["fields"]["issuetype"]["name"] == "Test")
    set_id = next(i["id"] for i in issues if i["fields"]["issuetype"]["name"] == "Test Set")
    asked = [*tests, set_id, "DEMO-x", ""]
    data = xray_graphql(
        sb,
        "query($ids: [String]) { getTests(issueIds: $ids, limit: 10) { total results { issueId } warnings }"
        " getTestExecutions(issueIds: $ids, limit: 10) { total results { issueId } } }",
        {"ids": asked},
    )
    assert data["getTests"] == {"total": 2, "results": [{"issueId": i} for i in tests], "warnings": []}
    assert data["getTestExecutions"] == {"total": 0, "results": []}
    token = xray_token(sb)
    for query in ("getTests", "getTestExecutions"):
        body = httpx.post(
            f"{sb.xray_url}/api/v2/graphql",
            json={"query": f'{{ {query}(jql: "project = DEMO", limit: 10) {{ total }} }}'},
            headers={"Authorization": f"Bearer {token}"},
        ).json()
        assert body["errors"][0]["message"] == "jql is not supported by the sandbox's Xray; pass issueIds"
