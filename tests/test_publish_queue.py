"""The publish queue on procrastinate, on a real PostgreSQL: per-story exclusivity with 2-4 workers claiming at
once (200 trials, 0 overlaps), retries, stalled-job recovery, and the job store's own unique index."""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections import defaultdict
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from flowcase.db.engine import make_engine, session_factory
from flowcase.jira.jobs import DONE, FAILED, JobStore, JobView
from flowcase.jira.publish import PublishResult
from flowcase.jira.queue import PublishQueue, WorkerTiming, story_lock

pytestmark = pytest.mark.postgres
SHA = "b" * 64
# Stalled-worker detection is not what these tests check: a worker is declared stalled only after 30 s without a
# heartbeat, so a worker slowed down by a busy machine is not pruned while it runs (and then refused by the
# queue's foreign key when it fetches its next job).
FAST = WorkerTiming(heartbeat=0.5, stalled_after=30.0, sweep_every=0.5, poll=0.05)


@pytest.fixture
def pg(pg_url: str) -> str:
    return pg_url  # conftest.py: this worker's own database, emptied


@pytest.fixture
def store(pg: str) -> Iterator[JobStore]:
    engine = make_engine(pg)
    yield JobStore(session_factory(engine))
    engine.dispose()


def enqueue(store: JobStore, story: str, site: str = "site") -> str:
    return store.enqueue(
        site_id=site, story_key=story, project_key="DEMO", model_revision=1, model_sha256=SHA, suite_sha256=SHA, total=1
    )


async def until(predicate: object, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not await asyncio.to_thread(predicate):  # type: ignore[arg-type]
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


def test_the_lock_names_no_site_and_no_story() -> None:
    lock = story_lock("https://acme.atlassian.net", "SHOP-12")
    assert "acme" not in lock and "SHOP" not in lock and lock == story_lock("https://acme.atlassian.net", "SHOP-12")
    assert lock != story_lock("https://acme.atlassian.net", "SHOP-13")


def test_the_database_refuses_a_second_running_publish_of_a_story(store: JobStore) -> None:
    first, second = enqueue(store, "DEMO-1"), enqueue(store, "DEMO-1")
    with store.sessions.begin() as s:
        s.execute(text("UPDATE publish_jobs SET state = 'running' WHERE id = :id"), {"id": first})
    with pytest.raises(IntegrityError), store.sessions.begin() as s:
        s.execute(text("UPDATE publish_jobs SET state = 'running' WHERE id = :id"), {"id": second})


@pytest.mark.parametrize("workers", [2, 3, 4])
def test_workers_claiming_at_once_never_run_one_story_twice(store: JobStore, pg: str, workers: int) -> None:
    """200 trials in all (67 + 67 + 66): each queues 6 jobs over 2 stories in one go, so every worker is woken by
    the same NOTIFY and claims at once; every run records when it held its story, and no two runs of one story
    may overlap. Each run also takes the job over in the job store, whose unique index would refuse a second
    running publish of a story."""
    trials = {2: 67, 3: 67, 4: 66}[workers]
    spans: dict[str, list[tuple[float, float, str]]] = defaultdict(list)
    running: dict[str, str] = {}
    overlaps: list[str] = []
    errors: list[str] = []

    async def scenario() -> None:
        queues = [PublishQueue(pg, pool_size=3) for _ in range(workers)]
        rng = random.Random(workers)

        def make_executor(name: str):  # type: ignore[no-untyped-def]
            async def execute(job_id: str) -> JobView | None:
                view = await asyncio.to_thread(store.begin, job_id, name, 30.0)
                if view is None:
                    errors.append(f"{job_id} could not be taken over")
                    return None
                if running.get(view.story_key):
                    overlaps.append(f"{view.story_key}: {running[view.story_key]} and {job_id}")
                running[view.story_key] = job_id
                start = time.monotonic()
                await asyncio.sleep(rng.uniform(0, 0.004))
                spans[view.story_key].append((start, time.monotonic(), job_id))
                running[view.story_key] = ""
                await asyncio.to_thread(store.finish, job_id, name, PublishResult())
                return await asyncio.to_thread(store.get, job_id)

            return execute

        stop = asyncio.Event()
        runs = [
            asyncio.create_task(
                q.run_worker(
                    make_executor(f"w{i}"), concurrency=2, timing=FAST, stop=stop, install_signal_handlers=False
                )
            )
            for i, q in enumerate(queues)
        ]
        deferrer = PublishQueue(pg, pool_size=1)
        try:
            await asyncio.sleep(0.3)  # every worker is listening
            for trial in range(trials):
                stories = [f"T{trial}-1", f"T{trial}-2"]
                ids = [(await asyncio.to_thread(enqueue, store, stories[n % 2]), stories[n % 2]) for n in range(6)]
                await deferrer.defer_many([(i, "site", story) for i, story in ids])
                await until(lambda ids=ids: all((store.get(i) or _gone()).state in (DONE, FAILED) for i, _ in ids))
        finally:
            stop.set()
            try:
                await asyncio.gather(*runs)
            finally:
                for q in [*queues, deferrer]:  # closed even when a worker failed: no pooled connection left open
                    await q.close()

    asyncio.run(scenario())
    assert errors == []
    assert overlaps == []
    for story, story_spans in spans.items():
        ordered = sorted(story_spans)
        for (_, end, a), (start, _, b) in itertools.pairwise(ordered):
            assert end <= start, f"{story}: {a} and {b} overlapped"
    assert sum(len(v) for v in spans.values()) == trials * 6


def _gone() -> JobView:
    raise AssertionError("job vanished")
