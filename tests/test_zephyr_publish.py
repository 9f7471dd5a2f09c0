"""Must show (issue 20): a full publishing cycle to Zephyr Scale Cloud through the sandbox's stand-in: publish,
republish unchanged (0 creates, 0 writes), change the model and republish (updates in place, new test cases,
obsolete ones marked, never deleted), a worker that dies between Zephyr's create and its journal line and an
ambiguous create failure, both resumed without duplicates; the job database holds ids, keys and hashes only."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from builders import (
    PROJECT,
    all_decisions,
    checkout_model,
    jira_client,
    new_story,
    project_target,
    publish_to,
    zephyr_get,
)
from flowcase.db.engine import make_engine, session_factory
from flowcase.jira.jobs import DONE, PublishJobTest
from flowcase.jira.publish import OBSOLETE_LABEL, PublishError, PublishResult
from flowcase.jira.settings_store import PublishSettings
from flowcase.model.types import Model
from flowcase.sandbox.testing import RunningSandbox
from flowcase.targets import VendorAccess
from jobtools import Crash, crash_first_worker, resume_after_crash, sqlite_job_store, submit_sync

CREATE = "/zephyr/v2/testcases"
ZEPHYR = PublishSettings(target="zephyr")
pytestmark = pytest.mark.sandbox(setup=True)  # the shared `sb` fixture (conftest.py)


def model_of(model_id: str, n: int, *, word: str = "Choose", extra_req: bool = True) -> Model:
    """The first product covers DEMO-2 and DEMO-404 (which does not exist) unless ``extra_req`` is False."""
    return checkout_model(
        model_id,
        n,
        action=word + " product {i}",
        pay_from=0,
        requirements=lambda i: ["DEMO-2", "DEMO-404"] if extra_req and i == 0 else [],
    )


def run_publish(sb: RunningSandbox, model: Model, story: str, access: VendorAccess | None = None) -> PublishResult:
    return publish_to(sb, model, story, ZEPHYR, access)


def cases_of(sb: RunningSandbox, story: str) -> list[dict[str, Any]]:
    rows = zephyr_get(sb, "/testcases", projectKey=PROJECT, maxResults=1000)["values"]
    return [r for r in rows if f"flowcase-s:{story}" in r["labels"]]


def story_id(sb: RunningSandbox, story: str) -> int:
    return int(httpx.get(f"{sb.base_url}/rest/api/3/issue/{story}", auth=sb.basic_auth()).json()["id"])


def test_full_cycle_publish_republish_change(sb: RunningSandbox) -> None:
    story = new_story(sb)
    first = run_publish(sb, model_of("zcycle", 4), story)
    assert (first.created, first.updated, first.unchanged, first.obsoleted) == (4, 0, 0, 0)
    assert first.missing_requirements == ["DEMO-404"]
    cases = cases_of(sb, story)
    assert len(cases) == 4 and len({c["key"] for c in cases}) == 4
    assert all(c["key"].startswith("DEMO-T") for c in cases)
    folders = zephyr_get(sb, "/folders", projectKey=PROJECT, folderType="TEST_CASE", maxResults=100)["values"]
    folder = next(f for f in folders if f["name"] == "Checkout zcycle")
    assert {c["folder"]["id"] for c in cases} == {folder["id"]}  # a folder per workflow
    sid = story_id(sb, story)
    demo2 = int(httpx.get(f"{sb.base_url}/rest/api/3/issue/DEMO-2", auth=sb.basic_auth()).json()["id"])
    for case in cases:
        steps = zephyr_get(sb, f"/testcases/{case['key']}/teststeps", maxResults=100)["values"]
        assert [s["inline"]["description"] for s in steps][-1] == "Pay by card"
        assert steps[0]["inline"]["expectedResult"].startswith("Product ")
        linked = {lk["issueId"] for lk in zephyr_get(sb, f"/testcases/{case['key']}/links")["issues"]}
        assert sid in linked  # coverage of the story
        assert (demo2 in linked) == ("Choose product 0" in str(steps))  # and of the requirement that exists
        assert any(lb.startswith("flowcase-h:") for lb in case["labels"])  # complete: the hash label is last

    sb.clear_calls()
    again = run_publish(sb, model_of("zcycle", 4), story)
    assert (again.created, again.updated, again.unchanged, again.create_calls) == (0, 0, 4, 0)
    assert sb.count_calls("POST", CREATE) == 0 and sb.count_calls("PUT", "/zephyr/v2/testcases/") == 0
    assert sb.count_calls("POST", "/zephyr/v2/testcases/") == 0

    # Change: reword every product (updates in place), drop one product (obsolete), the keys stay.
    keys_before = {c["key"] for c in cases}
    sb.clear_calls()
    changed = run_publish(sb, model_of("zcycle", 3, word="Select"), story)
    assert (changed.created, changed.updated, changed.unchanged, changed.obsoleted) == (0, 3, 0, 1)
    assert sb.count_calls("POST", CREATE) == 0
    after = cases_of(sb, story)
    assert {c["key"] for c in after} == keys_before  # nothing deleted, nothing duplicated
    obsolete = [c for c in after if OBSOLETE_LABEL in c["labels"]]
    assert len(obsolete) == changed.obsoleted >= 1
    live = [c for c in after if OBSOLETE_LABEL not in c["labels"]]
    assert len(live) == 3
    for case in live:
        steps = zephyr_get(sb, f"/testcases/{case['key']}/teststeps", maxResults=100)["values"]
        assert steps[0]["inline"]["description"].startswith("Select product")
    # Republishing the changed model is a no-op again.
    sb.clear_calls()
    settled = run_publish(sb, model_of("zcycle", 3, word="Select"), story)
    assert (settled.created, settled.updated, settled.obsoleted) == (0, 0, 0)
    assert sb.count_calls("POST", CREATE) == 0 and sb.count_calls("PUT", "/zephyr/v2/testcases/") == 0


def test_an_ambiguous_create_failure_is_looked_up_before_resending(sb: RunningSandbox) -> None:
    """Zephyr creates the test case but answers 504: the test case is found by its labels, not created again."""
    story = new_story(sb)
    sb.add_fault(kind="applied_error", status=504, path_prefix=CREATE, method="POST", count=1)
    try:
        result = run_publish(sb, model_of("zambig", 3, extra_req=False), story)
    finally:
        sb.clear_faults()
    assert result.created == 3 and result.total == 3
    cases = cases_of(sb, story)
    assert len(cases) == 3 and all(any(lb.startswith("flowcase-h:") for lb in c["labels"]) for c in cases)


def test_refused_without_a_valid_token(sb: RunningSandbox) -> None:
    story = new_story(sb)
    bad = VendorAccess(zephyr_url=sb.zephyr_url, zephyr_token="not-the-token")
    with pytest.raises(PublishError, match="Zephyr Scale refused the API token"):
        run_publish(sb, model_of("zbad", 2), story, bad)
    assert cases_of(sb, story) == []
    r = httpx.get(f"{sb.zephyr_url}/testcases", params={"projectKey": PROJECT})
    assert r.status_code == 401 and r.json()["errorCode"] == 401


def test_a_worker_killed_after_zephyr_created_resumes_without_duplicates(sb: RunningSandbox, tmp_path: Path) -> None:
    """The durable job: the worker "dies" right after Zephyr created a test case, before the journal recorded it;
    the next worker finds it by its labels, completes it and creates only what is missing."""
    url, store, clock = sqlite_job_store(tmp_path)
    model = model_of("zkilled", 5, extra_req=False)
    suite = all_decisions(model)
    story = new_story(sb)

    from flowcase.jira import jobs as jobs_module

    original = jobs_module._DbJournal.created
    seen = {"n": 0}

    def crashing(self: Any, rows: Any) -> None:
        seen["n"] += 1
        if seen["n"] == 3:
            raise Crash  # Zephyr created (and completed) the third test case; nobody recorded it
        original(self, rows)

    with project_target(sb, "zephyr"):
        job_id = submit_sync(sb, store, story, model, suite)
        crash_first_worker(sb, store, job_id, jobs_module._DbJournal, "created", crashing)
        assert store.unconfirmed(job_id)  # the third create was sent but never confirmed
        assert len(cases_of(sb, story)) == 3
        # The story's publish lease of the dead worker expires; the queue hands the job on.
        view = resume_after_crash(sb, store, clock, story, job_id)
    assert view is not None and view.state == DONE, view
    assert sb.count_calls("POST", CREATE) == 2  # only the two never sent
    cases = cases_of(sb, story)
    assert len(cases) == 5 and len({c["key"] for c in cases}) == 5
    ids = [next(lb for lb in c["labels"] if lb.startswith("flowcase-id:")) for c in cases]
    assert len(set(ids)) == 5
    # The job database: test ids, test case keys and hashes only, never a name or a step.
    with session_factory(make_engine(url))() as s:
        rows = list(s.scalars(select(PublishJobTest).where(PublishJobTest.job_id == job_id)))
    assert {r.issue_key for r in rows if r.state == "created"} <= {c["key"] for c in cases}
    dumped = " ".join(f"{r.test_id} {r.issue_key} {r.test_hash}" for r in rows)
    assert "product" not in dumped.lower() and "Checkout" not in dumped


def test_preflight_follows_the_target(sb: RunningSandbox) -> None:
    """A project publishing to Zephyr Scale needs no Jira "Test" issue type or link type; one publishing to Xray
    needs Xray's "Test Set" type."""
    from flowcase.jira.preflight import check

    sb.create_project("ZED", "Zephyr only")

    async def go(target: str) -> list[str]:
        async with jira_client(sb) as c:
            ready = await check(c, "ZED", PublishSettings(target=target))  # type: ignore[arg-type]
            return [p.code for p in ready.problems]

    assert asyncio.run(go("zephyr")) == []
    assert "issue-type-missing" in asyncio.run(go("jira"))
    xray = asyncio.run(go("xray"))
    assert xray.count("issue-type-missing") == 2  # neither "Test" nor Xray's "Test Set"


def test_compare_with_published_reads_zephyr(sb: RunningSandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    from flowcase.web import jira_ops

    story = new_story(sb)
    run_publish(sb, model_of("zdiff", 3, extra_req=False), story)
    monkeypatch.setenv("FLOWCASE_ZEPHYR_URL", sb.zephyr_url)
    monkeypatch.setenv("FLOWCASE_ZEPHYR_TOKEN", sb.sandbox.config.zephyr_token)
    monkeypatch.setenv("FLOWCASE_VENDOR_SITE_URL", sb.base_url)  # the credentials are this site's

    async def diff(model: Model) -> dict[str, Any]:
        async with jira_client(sb) as c:
            return await jira_ops.diff(c, story, model, all_decisions(model), "flowcase")

    with project_target(sb, "zephyr"):
        same = asyncio.run(diff(model_of("zdiff", 3, extra_req=False)))
        fewer = asyncio.run(diff(model_of("zdiff", 2, extra_req=False)))
    assert (len(same["unchanged"]), len(same["updated"]), len(same["new"]), len(same["obsolete"])) == (3, 0, 0, 0)
    assert len(fewer["obsolete"]) == 1 and fewer["obsolete"][0]["key"].startswith("DEMO-T")


def test_deployment_credentials_are_used_for_their_own_site_only() -> None:
    """A multi-tenant app never sends one site's tests with another site's test-tool credentials."""
    from flowcase.targets import VendorAccess

    access = VendorAccess(
        zephyr_token="z-token", xray_client_id="id", xray_client_secret="secret", site_url="https://acme.atlassian.net"
    )
    assert access.for_site("https://acme.atlassian.net/").missing("zephyr") is None
    assert access.for_site("https://ACME.atlassian.net").missing("xray") is None
    other = access.for_site("https://other.atlassian.net")
    assert other.zephyr_token == "" and other.xray_client_secret == ""
    assert "for this Jira site" in (other.missing("zephyr") or "")
    assert VendorAccess(zephyr_token="z").for_site("https://acme.atlassian.net").missing("zephyr") is not None
