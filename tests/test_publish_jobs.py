"""Must show (issues 7 and 15): 300 tests published into the sandbox through the durable job on PostgreSQL and the
procrastinate queue, with injected 429s and 5xx and a worker process killed mid-job (a real SIGKILL), end with
exactly 300 test issues, all linked, once the queue has found the stalled job and another worker finished it; a
second publish makes zero create calls. Also: a crash between Jira accepting a create and the job recording it
does not duplicate.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from builders import all_decisions, checkout_model, create_story, jira_client
from flowcase.db.engine import session_factory
from flowcase.db.migrate import upgrade
from flowcase.generate.suite import Suite
from flowcase.jira.client import JiraClient
from flowcase.jira.jobs import DONE, JobStore, JobView, PublishJob, Worker
from flowcase.jira.publish import LABEL, OBSOLETE_LABEL, TEST_PROPERTY, model_label, publish
from flowcase.jira.queue import PublishQueue, WorkerTiming
from flowcase.jira.settings_store import PublishSettings
from flowcase.jira.storage import save_model
from flowcase.model.types import Model
from flowcase.sandbox.testing import RunningSandbox
from jobtools import save_and_submit, work_until_settled

PROJECT = "DEMO"
BULK = "/rest/api/3/issue/bulk"


def big_model(model_id: str, n: int = 300) -> Model:
    """A model whose all-decisions suite has exactly ``n`` tests (one per product choice)."""
    return checkout_model(
        model_id,
        n,
        name="Big checkout",
        pick="Pick a product",
        action="Choose product number {i}",
        expected="Product {i} is in the basket",
    )


class RecordingSleep:
    """Records every back-off the client asks for; waits a little (the sandbox does not enforce the wait)."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        await asyncio.sleep(0.01)


pytestmark = pytest.mark.sandbox(setup=True)  # the shared `sb` fixture (conftest.py): a site set up for publishing


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path}/app.db"
    upgrade(url)
    return url


def client_for(sb: RunningSandbox, sleep: Any = None) -> JiraClient:
    return jira_client(sb, sleep=sleep) if sleep else jira_client(sb)


async def new_story(sb: RunningSandbox, summary: str = "Checkout story") -> str:
    async with client_for(sb) as c:
        return await create_story(c, PROJECT, summary)


async def published(sb: RunningSandbox, model_id: str) -> list[dict[str, Any]]:
    async with client_for(sb) as c:
        return await c.search_all(
            f'project = {PROJECT} AND labels = "{model_label(model_id)}" ORDER BY key',
            fields=("labels", "issuelinks", "summary"),
            properties=(TEST_PROPERTY,),
        )


def story_links(issue: dict[str, Any], story: str) -> list[str]:
    return [
        str(link["type"]["name"])
        for link in issue["fields"]["issuelinks"]
        if (link.get("inwardIssue") or link.get("outwardIssue") or {}).get("key") == story
    ]


# A worker process of the queue: heartbeats every 0.5 s, so it is declared stalled 2 s after it dies.
WORKER_SCRIPT = textwrap.dedent("""
    import asyncio, sys
    from flowcase.db.engine import make_engine, session_factory
    from flowcase.jira.auth import ApiTokenAuth
    from flowcase.jira.client import JiraClient
    from flowcase.jira.jobs import JobStore, Worker
    from flowcase.jira.queue import PublishQueue, WorkerTiming

    db, base, email, token = sys.argv[1:5]
    store = JobStore(session_factory(make_engine(db)))
    worker = Worker(store, lambda job: JiraClient(base, ApiTokenAuth(email, token)), worker_id="doomed",
                    lease_seconds=4.0, settle_seconds=0.2)
    print("working", flush=True)
    asyncio.run(PublishQueue(db).run_worker(worker.execute, timing=WorkerTiming(heartbeat=0.5, stalled_after=2.0)))
""")
FAST = WorkerTiming(heartbeat=0.5, stalled_after=2.0, sweep_every=0.5, poll=0.2)


def test_300_tests_survive_faults_and_a_killed_worker(
    sb: RunningSandbox, pg_url: str, engine_of: Callable[[str], Engine]
) -> None:
    db_url = pg_url
    model = big_model("bigcheckout")
    suite = all_decisions(model)
    assert len(suite.tests) == 300
    story = asyncio.run(new_story(sb))
    store = JobStore(session_factory(engine_of(db_url)))

    async def prepare() -> tuple[str, int]:
        async with client_for(sb) as c:
            job, _ = await save_and_submit(c, store, story, model, suite, project=PROJECT)
        queue = PublishQueue(db_url)
        try:
            return job, await queue.defer(job, "sandbox", story)
        finally:
            await queue.close()

    job_id, queue_job = asyncio.run(prepare())
    sb.clear_calls()

    # Worker 1: a separate process, slowed down on bulk creates, killed with SIGKILL after two chunks landed.
    sb.add_fault(kind="latency", path_prefix=BULK, method="POST", latency_ms=400, count=3)
    # The story's publish lease of the killed worker frees the story after 6 s (FLOWCASE_PUBLISH_LEASE_SECONDS).
    env = {
        **os.environ,
        "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src"),
        "FLOWCASE_PUBLISH_LEASE_SECONDS": "6",
    }
    with subprocess.Popen(  # leaving the block waits for it and closes its pipes
        [sys.executable, "-c", WORKER_SCRIPT, db_url, sb.base_url, sb.email, sb.api_token],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as doomed:
        try:
            deadline = time.monotonic() + 180  # a bound on a hang, not a speed test: a busy machine starts it slowly
            while sb.count_calls("POST", BULK, 201) < 2:
                assert doomed.poll() is None, doomed.stderr.read().decode() if doomed.stderr else ""
                assert time.monotonic() < deadline, "the first worker never got going"
                time.sleep(0.05)
        finally:
            doomed.kill()
    assert doomed.returncode == -signal.SIGKILL
    time.sleep(1.0)  # a bulk call in flight when the worker died may still land: Jira applied it, nobody recorded it
    halfway = store.get(job_id)
    # (a busy machine can time a call of the doomed worker out before the kill: one more attempt, retried by it)
    assert halfway is not None and halfway.state == "running" and halfway.attempts >= 1
    made_before = len(asyncio.run(published(sb, "bigcheckout")))
    doomed_calls = sb.count_calls("POST", BULK, 201)
    assert made_before == 50 * doomed_calls
    assert 100 <= made_before < 300

    # Jira misbehaves for the second worker: 429s and 503s with Retry-After, a 502 on search, a 500 on a link.
    sb.clear_faults()
    sb.add_fault(kind="rate_limit", path_prefix=BULK, method="POST", count=2, retry_after=2)
    sb.add_fault(kind="error", status=503, path_prefix=BULK, method="POST", count=1, retry_after=1)
    sb.add_fault(kind="error", status=502, path_prefix="/rest/api/3/search/jql", method="GET", count=1)
    sb.add_fault(kind="error", status=500, path_prefix="/rest/api/3/issueLink", method="POST", count=1)
    sleep = RecordingSleep()
    rescuer = Worker(
        store, lambda job: client_for(sb, sleep), worker_id="rescuer", lease_seconds=5.0, settle_seconds=0.05
    )

    async def rescue() -> tuple[JobView | None, str | None]:
        """Another worker process starts; nobody touches the job: the queue finds it stalled and runs it again."""
        queue = PublishQueue(db_url)
        try:
            assert await queue.status(queue_job) == "doing"  # still held by the dead worker
            view = await work_until_settled(queue, store, job_id, rescuer.execute, timing=FAST, seconds=60)
            return view, (await queue.status(queue_job) if view is not None else None)
        finally:
            await queue.close()

    final, queue_state = asyncio.run(rescue())
    assert queue_state in (None, "doing", "succeeded")  # finished (and deleted once done) by the rescuer
    assert final is not None and final.id == job_id
    assert final.state == DONE and final.error_code is None and final.attempts == halfway.attempts + 1
    assert sb.count_calls("POST", BULK, 429) == 2 and sb.count_calls("POST", BULK, 503) == 1
    assert sb.count_calls("GET", "/rest/api/3/search/jql", 502) == 1
    # Retry-After honoured (plus at most 30 % jitter), then exponential backoff for the 502 on search.
    assert sum(1 for d in sleep.delays if 2.0 <= d <= 2.6) == 2 and any(1.0 <= d <= 1.3 for d in sleep.delays)

    issues = asyncio.run(published(sb, "bigcheckout"))
    assert len(issues) == 300
    ids = {i["properties"][TEST_PROPERTY]["id"] for i in issues}
    assert ids == {t.id for t in suite.tests}
    assert all(story_links(i, story) == ["Test"] for i in issues)
    assert all(LABEL in i["fields"]["labels"] and OBSOLETE_LABEL not in i["fields"]["labels"] for i in issues)
    assert final.created == 300 - made_before and final.unchanged == made_before
    # ceil((300 - made_before) / 50) successful bulk calls by the rescuer (plus the refused ones it retried).
    rescued_calls = sb.count_calls("POST", BULK, 201) - doomed_calls
    assert rescued_calls == -(-(300 - made_before) // 50)

    async def story_link_count() -> int:
        async with client_for(sb) as c:
            return len(await c.issue_links(story))

    assert asyncio.run(story_link_count()) == 300

    # A second publish of the same suite: nothing to create, update or link.
    sb.clear_faults()
    sb.clear_calls()

    async def again() -> Any:
        async with client_for(sb) as c:
            return await publish(c, model, suite, story, PROJECT, PublishSettings())

    result = asyncio.run(again())
    assert (result.created, result.updated, result.unchanged, result.create_calls) == (0, 0, 300, 0)
    assert sb.count_calls("POST", BULK) == 0 and sb.count_calls("POST", "/rest/api/3/issue") == 0
    assert sb.count_calls("POST", "/rest/api/3/issueLink") == 0 and sb.count_calls("PUT", "/rest/api/3/issue/") == 0


def test_crash_after_jira_accepted_a_create_does_not_duplicate(
    sb: RunningSandbox, db_url: str, engine_of: Callable[[str], Engine]
) -> None:
    """The worker dies right after Jira answered a bulk create, before recording it: the next worker finds those
    issues by their identity property and creates none of them again."""
    model = big_model("crashy", 70)
    suite = all_decisions(model)
    story = asyncio.run(new_story(sb))
    clock = {"now": datetime.now(UTC)}
    store = JobStore(session_factory(engine_of(db_url)), clock=lambda: clock["now"])

    async def prepare() -> str:
        async with client_for(sb) as c:
            job, _ = await save_and_submit(c, store, story, model, suite, project=PROJECT)
            return job

    job_id = asyncio.run(prepare())

    class Crash(BaseException):
        pass

    def crash_on_second_chunk(original: Any) -> Any:
        seen = {"n": 0}

        def created(self: Any, rows: Any) -> None:
            seen["n"] += 1
            if seen["n"] == 2:
                raise Crash  # the process "dies" here: Jira created chunk 2, nobody recorded it
            original(self, rows)

        return created

    from flowcase.jira import jobs as jobs_module

    first = Worker(store, lambda job: client_for(sb), worker_id="first", lease_seconds=60, settle_seconds=0.05)
    original = jobs_module._DbJournal.created
    jobs_module._DbJournal.created = crash_on_second_chunk(original)  # type: ignore[method-assign]
    try:
        with pytest.raises(Crash):
            asyncio.run(first.execute(job_id))
    finally:
        jobs_module._DbJournal.created = original  # type: ignore[method-assign]
    assert store.unconfirmed(job_id)  # chunk 2 was sent but never confirmed
    assert len(asyncio.run(published(sb, "crashy"))) == 70  # all of them exist, 20 unrecorded

    clock["now"] += timedelta(seconds=61)  # the queue found the "dead" worker stalled and hands the job on
    sb.clear_calls()
    second = Worker(store, lambda job: client_for(sb), worker_id="second", lease_seconds=5, settle_seconds=0.05)
    view = asyncio.run(second.execute(job_id))
    assert view is not None and view.state == DONE
    assert sb.count_calls("POST", BULK) == 0  # the unrecorded 20 were found, not created again
    issues = asyncio.run(published(sb, "crashy"))
    assert len(issues) == 70
    assert len({i["properties"][TEST_PROPERTY]["id"] for i in issues}) == 70
    assert all(story_links(i, story) == ["Test"] for i in issues)


def test_job_refuses_a_model_changed_after_queueing(
    sb: RunningSandbox, db_url: str, engine_of: Callable[[str], Engine]
) -> None:
    model = big_model("moving", 3)
    suite: Suite = all_decisions(model)
    story = asyncio.run(new_story(sb))
    store = JobStore(session_factory(engine_of(db_url)))

    async def prepare() -> str:
        async with client_for(sb) as c:
            job, revision = await save_and_submit(c, store, story, model, suite, project=PROJECT)
            await save_model(c, story, big_model("moving", 4), revision)
            return job

    job_id = asyncio.run(prepare())
    view = asyncio.run(Worker(store, lambda job: client_for(sb), settle_seconds=0).execute(job_id))
    assert view is not None and view.id == job_id
    assert (view.state, view.error_code, view.created) == ("failed", "model-changed", 0)
    assert asyncio.run(published(sb, "moving")) == []
    with session_factory(engine_of(db_url))() as s:
        row = s.get(PublishJob, job_id)
        assert row is not None and row.lease_owner is None and row.finished_at is not None


@pytest.mark.parametrize("fault", [{"kind": "error", "status": 500}, {"kind": "drop"}])
def test_an_ambiguous_bulk_failure_is_reconciled_before_resending(sb: RunningSandbox, fault: dict[str, Any]) -> None:
    """A 500 or a dropped connection on a bulk create is not resent blindly: publish looks the tests up first."""
    model_id = f"ambiguous{fault['kind']}"
    model = big_model(model_id, 55)
    suite = all_decisions(model)
    story = asyncio.run(new_story(sb))
    sb.clear_calls()
    sb.add_fault(path_prefix=BULK, method="POST", count=1, **fault)
    searches_before = sb.count_calls("GET", "/rest/api/3/search/jql")

    async def go() -> Any:
        async with client_for(sb, RecordingSleep()) as c:
            return await publish(c, model, suite, story, PROJECT, PublishSettings(), settle_seconds=0)

    try:
        result = asyncio.run(go())
    finally:
        sb.clear_faults()
    assert result.created == 55 and not result.failed
    assert result.create_calls == 3  # the failed call, then ceil(55/50) = 2
    assert sb.count_calls("GET", "/rest/api/3/search/jql") - searches_before == 2  # initial + reconcile
    assert len(asyncio.run(published(sb, model_id))) == 55


def test_obsolete_tests_are_marked_not_deleted_and_come_back(sb: RunningSandbox) -> None:
    story = asyncio.run(new_story(sb))
    full, trimmed = big_model("cycle", 3), big_model("cycle", 2)
    suite_full = all_decisions(full)
    suite_trimmed = all_decisions(trimmed)
    dropped = ({t.id for t in suite_full.tests} - {t.id for t in suite_trimmed.tests}).pop()

    async def go() -> list[Any]:
        async with client_for(sb) as c:
            results = [await publish(c, full, suite_full, story, PROJECT, PublishSettings())]
            results.append(await publish(c, trimmed, suite_trimmed, story, PROJECT, PublishSettings()))
            results.append(await publish(c, trimmed, suite_trimmed, story, PROJECT, PublishSettings()))
            labels_after_drop = {
                i["properties"][TEST_PROPERTY]["id"]: i["fields"]["labels"] for i in await published(sb, "cycle")
            }
            results.append(await publish(c, full, suite_full, story, PROJECT, PublishSettings()))
            return [*results, labels_after_drop]

    first, drop, again, back, labels = asyncio.run(go())
    assert (first.created, drop.obsoleted, drop.created) == (3, 1, 0)
    assert OBSOLETE_LABEL in labels[dropped] and len(labels) == 3  # marked, not deleted
    assert again.obsoleted == 0 and again.updated == 0  # already marked: nothing to do
    assert (back.created, back.updated, back.unchanged) == (0, 1, 2)  # the same issue is revived
    revived = {i["properties"][TEST_PROPERTY]["id"]: i["fields"]["labels"] for i in asyncio.run(published(sb, "cycle"))}
    assert OBSOLETE_LABEL not in revived[dropped]


def test_the_worker_process_generates_in_the_compute_pool_within_its_limits(
    sb: RunningSandbox, db_url: str, engine_of: Callable[[str], Engine]
) -> None:
    """``flowcase worker`` regenerates each job's suite in a compute worker process (web/worker.py): the job is
    published; a model that cannot be generated within the time limit fails its job as ``too-large`` (the process
    is stopped, nothing is published, no thread is left running it); with every compute worker busy the job waits
    its turn (``busy``, queued again)."""
    from flowcase.jira.jobs import FAILED, QUEUED, make_resolver
    from flowcase.web.compute import Compute, Limits
    from flowcase.web.worker import pooled_generation

    store = JobStore(session_factory(engine_of(db_url)))

    def run(model: Model, limits: Limits, hold: bool = False) -> JobView:
        story = asyncio.run(new_story(sb))

        async def prepare() -> str:
            async with client_for(sb) as c:
                job, _ = await save_and_submit(c, store, story, model, all_decisions(model), project=PROJECT)
                return job

        job_id = asyncio.run(prepare())
        compute = Compute(limits)
        if hold:
            assert compute._admit("sandbox")  # another generation of the same site holds the only worker
        resolve = make_resolver(generator=pooled_generation(compute))
        worker = Worker(store, lambda job: client_for(sb), resolve=resolve, settle_seconds=0, retry_in=60)
        view = asyncio.run(worker.execute(job_id))
        assert view is not None
        return view

    roomy = Limits(workers=1, per_tenant=1, timeout=120.0, queue_wait=60.0, memory_mb=0)
    done = run(big_model("pooled", 3), roomy)
    assert (done.state, done.created) == (DONE, 3)
    assert len(asyncio.run(published(sb, "pooled"))) == 3

    tight = Limits(workers=1, per_tenant=1, timeout=0.05, queue_wait=60.0, memory_mb=0)
    too_large = run(big_model("pooled-slow", 2000), tight)  # about 0.5 s to generate
    assert (too_large.state, too_large.error_code, too_large.created) == (FAILED, "too-large", 0)
    assert asyncio.run(published(sb, "pooled-slow")) == []

    busy = run(big_model("pooled-busy", 3), Limits(workers=1, per_tenant=1, timeout=60.0, queue_wait=0.2), hold=True)
    assert (busy.state, busy.error_code, busy.created) == (QUEUED, "busy", 0)
