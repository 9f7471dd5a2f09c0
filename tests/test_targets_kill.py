"""Must show (issue 20): "kill the worker once" per target, for real. A ``flowcase`` job worker process (the job
queue on PostgreSQL, as in production) publishes to Xray Cloud or Zephyr Scale Cloud through the sandbox's
stand-ins with the site's own credentials read from the app database; it is killed with SIGKILL mid-publish;
another worker picks the stalled job up and finishes it: every test exists exactly once, complete (steps, hash,
coverage links, Xray's test set), and nothing is lost."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet

from builders import all_decisions, checkout_model, create_story, jira_client, project_target, xray_graphql, zephyr_get
from flowcase.db.crypto import SecretBox
from flowcase.db.engine import make_engine, session_factory
from flowcase.db.vendor import VendorCredentialStore
from flowcase.jira.jobs import DONE, JobStore, JobView, Worker
from flowcase.jira.publish import TEST_PROPERTY, model_label
from flowcase.jira.queue import PublishQueue, WorkerTiming
from flowcase.model.types import Model
from flowcase.sandbox.testing import RunningSandbox
from flowcase.web.app import vendor_access_for
from jobtools import save_and_submit, work_until_settled

pytestmark = pytest.mark.sandbox(setup=True)

PROJECT = "DEMO"
SITE = "site-with-its-own-credentials"
KEY = Fernet.generate_key().decode()
ZEPHYR_CREATE = "/zephyr/v2/testcases"
XRAY_GRAPHQL = "/xray/api/v2/graphql"
BULK = "/rest/api/3/issue/bulk"

# A worker process of the queue (what `flowcase worker` runs, minus the Connect wiring): each job's site's vendor
# credentials come from the app database; heartbeats every 0.5 s, so it is declared stalled 2 s after it dies.
WORKER_SCRIPT = textwrap.dedent("""
    import asyncio, os, sys
    from flowcase.db.crypto import SecretBox
    from flowcase.db.engine import make_engine, session_factory
    from flowcase.db.vendor import VendorCredentialStore
    from flowcase.jira.auth import ApiTokenAuth
    from flowcase.jira.client import JiraClient
    from flowcase.jira.jobs import JobStore, Worker
    from flowcase.jira.queue import PublishQueue, WorkerTiming
    from flowcase.web.app import vendor_access_for

    db, base, email, token = sys.argv[1:5]
    engine = make_engine(db)
    vendor = VendorCredentialStore(engine, SecretBox(os.environ["FLOWCASE_SECRET_KEYS"].split(",")))
    worker = Worker(JobStore(session_factory(engine)), lambda job: JiraClient(base, ApiTokenAuth(email, token)),
                    access_for=vendor_access_for(vendor), worker_id="doomed", lease_seconds=4.0, settle_seconds=0.2)
    print("working", flush=True)
    asyncio.run(PublishQueue(db).run_worker(worker.execute, timing=WorkerTiming(heartbeat=0.5, stalled_after=2.0)))
""")
FAST = WorkerTiming(heartbeat=0.5, stalled_after=2.0, sweep_every=0.5, poll=0.2)


@pytest.fixture
def pg_url(pg_url: str, sb: RunningSandbox) -> str:
    """The app database (conftest: this worker's own, migrated and emptied), holding the sandbox's vendor
    credentials for :data:`SITE`."""
    engine = make_engine(pg_url)
    cfg = sb.sandbox.config
    vendor = VendorCredentialStore(engine, SecretBox([KEY]))
    vendor.set_zephyr(SITE, cfg.zephyr_token)
    vendor.set_xray(SITE, cfg.xray_client_id, cfg.xray_client_secret)
    engine.dispose()
    return pg_url


@pytest.fixture
def vendor_urls(sb: RunningSandbox, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The deployment's vendor URLs point at the stand-ins; it has no credentials of its own."""
    urls = {"FLOWCASE_ZEPHYR_URL": sb.zephyr_url, "FLOWCASE_XRAY_URL": sb.xray_url}
    for name, value in urls.items():
        monkeypatch.setenv(name, value)
    for name in ("FLOWCASE_ZEPHYR_TOKEN", "FLOWCASE_XRAY_CLIENT_ID", "FLOWCASE_XRAY_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    return urls


@pytest.fixture
def target(sb: RunningSandbox) -> Iterator[Callable[[str], None]]:
    """Set the project's publish target (builders.project_target); its settings are removed after the test."""
    with ExitStack() as stack:
        yield lambda name: stack.enter_context(project_target(sb, name))


def model_of(model_id: str, n: int) -> Model:
    return checkout_model(model_id, n, pay_from=0)


def queue_job(sb: RunningSandbox, db_url: str, model: Model) -> tuple[str, str, int]:
    """A story, its saved model and a queued publish job of :data:`SITE`: (story, job id, queue job id)."""
    suite = all_decisions(model)
    engine = make_engine(db_url)
    store = JobStore(session_factory(engine))

    async def go() -> tuple[str, str, int]:
        async with jira_client(sb) as c:
            key = await create_story(c)
            job, _ = await save_and_submit(c, store, key, model, suite, site_id=SITE)
        queue = PublishQueue(db_url)
        try:
            return key, job, await queue.defer(job, SITE, key)
        finally:
            await queue.close()

    try:
        return asyncio.run(go())
    finally:
        engine.dispose()


def kill_worker_once(
    sb: RunningSandbox, db_url: str, env: dict[str, str], job_id: str, landed: Callable[[], bool]
) -> None:
    """Start a worker process and SIGKILL it once ``landed()`` says it is mid-publish."""
    doomed = subprocess.Popen(
        [sys.executable, "-c", WORKER_SCRIPT, db_url, sb.base_url, sb.email, sb.api_token],
        env={
            **os.environ,
            **env,
            "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src"),
            "FLOWCASE_SECRET_KEYS": KEY,
            "FLOWCASE_PUBLISH_LEASE_SECONDS": "6",  # the dead worker's story lease frees the story after 6 s
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    with doomed:  # its pipes are closed, however the test ends
        try:
            deadline = time.monotonic() + 180  # a busy machine starts the worker slowly
            while not landed():
                assert doomed.poll() is None, doomed.stderr.read().decode() if doomed.stderr else ""
                assert time.monotonic() < deadline, "the first worker never got going"
                time.sleep(0.02)
            os.kill(doomed.pid, signal.SIGKILL)
        finally:
            if doomed.poll() is None:
                doomed.kill()
            doomed.wait(timeout=10)
    assert doomed.returncode == -signal.SIGKILL
    time.sleep(1.0)  # a call in flight when the worker died may still land
    engine = make_engine(db_url)
    halfway = JobStore(session_factory(engine)).get(job_id)
    engine.dispose()
    assert halfway is not None and halfway.state == "running" and halfway.attempts == 1


def queue_and_kill(
    sb: RunningSandbox,
    db_url: str,
    env: dict[str, str],
    model: Model,
    slow: str,
    latency_ms: int,
    landed: Callable[[], bool],
) -> tuple[str, str, int]:
    """:func:`queue_job`, then with the sandbox's calls cleared and its POSTs under ``slow`` delayed by
    ``latency_ms``, :func:`kill_worker_once` when ``landed()``; returns what queue_job did."""
    story, job_id, queue_id = queue_job(sb, db_url, model)
    sb.clear_calls()
    sb.add_fault(kind="latency", path_prefix=slow, method="POST", latency_ms=latency_ms)
    kill_worker_once(sb, db_url, env, job_id, landed)
    return story, job_id, queue_id


def rescue(sb: RunningSandbox, db_url: str, job_id: str, queue_job: int) -> JobView:
    """Another worker starts; nobody touches the job: the queue finds it stalled and runs it again."""
    engine = make_engine(db_url)
    store = JobStore(session_factory(engine))
    vendor = VendorCredentialStore(engine, SecretBox([KEY]))
    rescuer = Worker(store, lambda job: jira_client(sb), access_for=vendor_access_for(vendor), settle_seconds=0.05)

    async def go() -> JobView | None:
        queue = PublishQueue(db_url)
        try:
            assert await queue.status(queue_job) == "doing"  # still held by the dead worker
            return await work_until_settled(queue, store, job_id, rescuer.execute, timing=FAST, seconds=90)
        finally:
            await queue.close()

    try:
        final = asyncio.run(go())
    finally:
        engine.dispose()
    assert final is not None and final.id == job_id
    assert final.state == DONE and final.error_code is None and final.attempts == 2, final
    return final


def test_zephyr_publish_survives_a_killed_worker(
    sb: RunningSandbox, pg_url: str, vendor_urls: dict[str, str], target: Callable[[str], None]
) -> None:
    n = 12
    target("zephyr")
    model = model_of("zkill", n)
    story, job_id, queue_id = queue_and_kill(
        sb, pg_url, vendor_urls, model, ZEPHYR_CREATE, 300, lambda: sb.count_calls("POST", ZEPHYR_CREATE, 201) >= 4
    )
    before = sb.count_calls("POST", ZEPHYR_CREATE, 201)
    assert 4 <= before < n

    sb.clear_faults()
    final = rescue(sb, pg_url, job_id, queue_id)

    # Nothing created twice: exactly n creates in all, by both workers together; every test case is complete.
    assert sb.count_calls("POST", ZEPHYR_CREATE, 201) == n
    rows = zephyr_get(sb, "/testcases", projectKey=PROJECT, maxResults=1000)["values"]
    cases = [r for r in rows if f"flowcase-s:{story}" in r["labels"]]
    ids = [lb for c in cases for lb in c["labels"] if lb.startswith("flowcase-id:")]
    assert len(cases) == n and len(set(ids)) == n
    assert all(any(lb.startswith("flowcase-h:") for lb in c["labels"]) for c in cases)  # steps and links written
    assert not any("flowcase-duplicate" in c["labels"] or "flowcase-obsolete" in c["labels"] for c in cases)
    for case in cases:
        steps = zephyr_get(sb, f"/testcases/{case['key']}/teststeps")
        assert len(steps["values"]) == 2
        links = zephyr_get(sb, f"/testcases/{case['key']}/links")
        assert len(links["issues"]) == 1  # the story, once
    assert final.created + final.updated + final.unchanged == n and final.created == n - before


def test_xray_publish_survives_a_killed_worker(
    sb: RunningSandbox, pg_url: str, vendor_urls: dict[str, str], target: Callable[[str], None]
) -> None:
    n = 60  # two bulk creates (50 + 10)
    sb.setup_xray(PROJECT)
    target("xray")
    model = model_of("xkill", n)
    # Killed while writing the manual steps of the first 50 Test issues (created, identity without hash yet).
    _story, job_id, queue_id = queue_and_kill(
        sb, pg_url, vendor_urls, model, XRAY_GRAPHQL, 100, lambda: sb.count_calls("POST", XRAY_GRAPHQL, 200) >= 15
    )
    assert sb.count_calls("POST", BULK, 201) == 1

    sb.clear_faults()
    rescue(sb, pg_url, job_id, queue_id)

    async def issues() -> list[dict[str, Any]]:
        async with jira_client(sb) as c:
            return await c.search_all(
                f'project = {PROJECT} AND labels = "{model_label("xkill")}" ORDER BY key',
                fields=("labels", "issuelinks", "issuetype"),
                properties=(TEST_PROPERTY, "flowcase-testset"),
            )

    found = asyncio.run(issues())
    tests = [i for i in found if i["fields"]["issuetype"]["name"] == "Test"]
    sets = [i for i in found if i["fields"]["issuetype"]["name"] == "Test Set"]
    assert len(tests) == n and len({i["properties"][TEST_PROPERTY]["id"] for i in tests}) == n
    assert all(i["properties"][TEST_PROPERTY]["hash"] for i in tests)  # the steps of every test were written
    assert sb.count_calls("POST", BULK, 201) == 2  # 50 by the killed worker, 10 by the rescuer: none twice
    assert len(sets) == 1

    for issue in tests:
        steps = xray_graphql(
            sb, "query($id: String) { getTest(issueId: $id) { steps { action } } }", {"id": issue["id"]}
        )
        assert len(steps["getTest"]["steps"]) == 2  # replaced, never appended twice
    members = xray_graphql(
        sb,
        "query($id: String) { getTestSet(issueId: $id) { tests(limit: 100) { results { issueId } } } }",
        {"id": sets[0]["id"]},
    )
    assert {r["issueId"] for r in members["getTestSet"]["tests"]["results"]} == {i["id"] for i in tests}
