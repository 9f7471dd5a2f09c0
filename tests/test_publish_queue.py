"""The publish queue on procrastinate, on a real PostgreSQL: per-story exclusivity with 2-4 workers claiming at
once (200 trials, 0 overlaps), retries, stalled-job recovery, a late (paused) worker process, and the job store's
own unique index."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import random
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from flowcase.db.engine import make_engine, session_factory
from flowcase.jira.jobs import DONE, FAILED, JobStore, JobView
from flowcase.jira.publish import PublishResult
from flowcase.jira.queue import PublishQueue, WorkerTiming, story_lock

pytestmark = pytest.mark.postgres
SHA = "b" * 64
# Stalled-worker detection is not what the claiming tests check: a worker is declared stalled only after 30 s
# without a heartbeat, so the job of a worker slowed down by a busy machine is not handed to another worker while
# it runs (the late-worker tests at the end of this file do that on purpose).
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


# A worker process of its own (worker "A"): it takes each job over in the job store, holds the first one for
# 5 s (time to pause it mid-job), reports on stdout what it begun, ran or lost, and heartbeats every 0.3 s.
PAUSED_WORKER = textwrap.dedent("""
    import asyncio, sys, time
    from flowcase.db.engine import make_engine, session_factory
    from flowcase.jira.jobs import JobStore, LeaseLost
    from flowcase.jira.publish import PublishResult
    from flowcase.jira.queue import PublishQueue, WorkerTiming

    db = sys.argv[1]
    store = JobStore(session_factory(make_engine(db)))
    held = []

    async def execute(job_id):
        view = await asyncio.to_thread(store.begin, job_id, "A", 30.0)
        if view is None:
            return None
        print("begun", job_id, flush=True)
        await asyncio.sleep(0.0 if held else 5.0)
        held.append(job_id)
        try:
            await asyncio.to_thread(store.finish, job_id, "A", PublishResult())
            print("ran", job_id, flush=True)
        except LeaseLost:
            print("lost", job_id, flush=True)
        return await asyncio.to_thread(store.get, job_id)

    timing = WorkerTiming(heartbeat=0.3, stalled_after=3.0, sweep_every=0.3, poll=0.05)
    asyncio.run(PublishQueue(db, pool_size=2).run_worker(execute, concurrency=1, timing=timing))
""")
SHORT = WorkerTiming(heartbeat=0.3, stalled_after=3.0, sweep_every=0.3, poll=0.05)


@contextlib.contextmanager
def worker_a(pg: str) -> Iterator[tuple[subprocess.Popen[str], list[str]]]:
    """Runs PAUSED_WORKER; yields the process and the lines it printed so far, once it is registered."""
    lines: list[str] = []
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    with subprocess.Popen(
        [sys.executable, "-c", PAUSED_WORKER, pg], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as a:
        reader = threading.Thread(target=lambda: lines.extend(a.stdout or []), daemon=True)
        reader.start()
        try:
            asyncio.run(until(lambda: registered(pg) == 1, timeout=120))  # a busy machine starts a process slowly
            yield a, lines
        finally:
            a.send_signal(signal.SIGCONT)  # a failed test may leave it paused
            a.terminate()
            a.wait(timeout=60)
            reader.join(timeout=10)


def sql(pg: str, query: str, **params: object) -> list[tuple[object, ...]]:
    engine = make_engine(pg)
    try:
        with engine.connect() as c:
            return [tuple(row) for row in c.execute(text(query), params)]
    finally:
        engine.dispose()


def registered(pg: str) -> int:
    return int(str(sql(pg, "SELECT count(*) FROM procrastinate_workers")[0][0]))


def queue_row(pg: str, queue_job: int) -> tuple[object, ...] | None:
    rows = sql(pg, "SELECT status, worker_id FROM procrastinate_jobs WHERE id = :id", id=queue_job)
    return rows[0] if rows else None


async def defer(pg: str, job_id: str, story: str) -> int:
    q = PublishQueue(pg, pool_size=1)
    try:
        return await q.defer(job_id, "site", story)
    finally:
        await q.close()


def state_of(store: JobStore, job_id: str) -> str:
    view = store.get(job_id)
    assert view is not None
    return view.state


def test_a_paused_worker_is_not_pruned_hands_its_job_over_and_keeps_serving(store: JobStore, pg: str) -> None:
    """Worker A (a process) is paused with SIGSTOP in the middle of a job for longer than ``stalled_after``. Worker
    B's sweep puts A's job back to ``todo`` and runs it; A's registration stays (only workers silent for
    ``prune_after`` are pruned), so after SIGCONT A loses the job's lease instead of finishing it a second time,
    and then runs the next job: it used to crash there, refused by the queue's foreign key on its pruned worker
    row."""

    async def run_b(first: str) -> None:
        async def execute(job_id: str) -> JobView | None:
            view = await asyncio.to_thread(store.begin, job_id, "B", 30.0)
            if view is not None:
                await asyncio.to_thread(store.finish, job_id, "B", PublishResult())
            return await asyncio.to_thread(store.get, job_id)

        q, stop = PublishQueue(pg, pool_size=2), asyncio.Event()
        run = asyncio.create_task(
            q.run_worker(execute, concurrency=1, timing=SHORT, stop=stop, install_signal_handlers=False)
        )
        try:
            await until(lambda: state_of(store, first) == DONE)
            await asyncio.sleep(1.5)  # several more sweeps of B while A is still paused
        finally:
            stop.set()
            try:
                await run
            finally:
                await q.close()

    first, second = enqueue(store, "DEMO-1"), enqueue(store, "DEMO-2")
    with worker_a(pg) as (a, lines):
        asyncio.run(defer(pg, first, "DEMO-1"))
        asyncio.run(until(lambda: f"begun {first}\n" in lines))
        a.send_signal(signal.SIGSTOP)
        try:
            asyncio.run(run_b(first))  # B's sweep finds A's job stalled; B runs it to the end
        finally:
            a.send_signal(signal.SIGCONT)
        asyncio.run(until(lambda: f"lost {first}\n" in lines))
        asyncio.run(defer(pg, second, "DEMO-2"))  # only A is running now
        asyncio.run(until(lambda: state_of(store, second) == DONE or a.poll() is not None))
        assert a.poll() is None, a.stderr.read() if a.stderr else ""
        assert f"ran {second}\n" in lines and f"ran {first}\n" not in lines
        assert registered(pg) == 1  # A is still registered (B unregistered when it stopped)
    done = store.get(first)
    assert done is not None and done.state == DONE and done.attempts == 2  # A's run, then B's: once each


def test_a_late_worker_does_not_end_the_queue_job_another_worker_runs(store: JobStore, pg: str) -> None:
    """As above, but B still runs A's job when A resumes. A loses the job store's lease and its task returns; the
    queue job is B's now, so A must not end it: procrastinate's finish goes by job id alone and would delete the
    job B runs, which frees the story's lock (a second job of the story would start beside B)."""
    first, later = enqueue(store, "DEMO-1"), enqueue(store, "DEMO-1")
    release = asyncio.Event()

    async def scenario(a: subprocess.Popen[str], lines: list[str]) -> None:
        queue_job = await defer(pg, first, "DEMO-1")
        await until(lambda: f"begun {first}\n" in lines)
        a_id = (queue_row(pg, queue_job) or (None, None))[1]
        assert a_id is not None

        async def execute(job_id: str) -> JobView | None:
            view = await asyncio.to_thread(store.begin, job_id, "B", 30.0)
            if view is not None:
                if job_id == first:
                    await release.wait()
                await asyncio.to_thread(store.finish, job_id, "B", PublishResult())
            return await asyncio.to_thread(store.get, job_id)

        q, stop = PublishQueue(pg, pool_size=2), asyncio.Event()
        a.send_signal(signal.SIGSTOP)
        run = asyncio.create_task(
            q.run_worker(execute, concurrency=2, timing=SHORT, stop=stop, install_signal_handlers=False)
        )
        try:
            # B's sweep requeues A's job, B takes it over and holds it
            await until(lambda: (store.get(first) or _gone()).attempts == 2)
            a.send_signal(signal.SIGCONT)
            await until(lambda: f"lost {first}\n" in lines)
            await defer(pg, later, "DEMO-1")
            await asyncio.sleep(1.5)  # A's task has ended; a wrongly freed lock would let `later` start by now
            row = queue_row(pg, queue_job)
            assert row is not None and row[0] == "doing" and row[1] not in (None, a_id), row
            assert state_of(store, later) == "queued"
            assert state_of(store, first) == "running"
            release.set()
            await until(lambda: state_of(store, first) == DONE and state_of(store, later) == DONE)
            assert queue_row(pg, queue_job) is None  # B's success deleted it
            assert a.poll() is None, a.stderr.read() if a.stderr else ""
        finally:
            release.set()
            stop.set()
            try:
                await run
            finally:
                await q.close()

    with worker_a(pg) as (a, lines):
        asyncio.run(scenario(a, lines))
        assert f"ran {first}\n" not in lines
