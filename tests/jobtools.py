"""Helpers for the publish-job tests (the fixtures are in conftest.py)."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from builders import jira_client
from flowcase.db.engine import make_engine, session_factory
from flowcase.db.migrate import upgrade
from flowcase.generate.suite import Suite
from flowcase.jira.client import JiraClient
from flowcase.jira.jobs import DONE, FAILED, JobStore, JobView, Worker, submit
from flowcase.jira.queue import Executor, PublishQueue, WorkerTiming
from flowcase.jira.storage import save_model
from flowcase.model.types import Model
from flowcase.sandbox.testing import RunningSandbox


async def submit_revision(
    client: JiraClient,
    store: JobStore,
    story: str,
    revision: int,
    model: Model,
    suite: Suite,
    *,
    project: str = "DEMO",
    site_id: str = "sandbox",
) -> str:
    """Record a publish job of ``suite`` for revision ``revision`` of ``model`` (saved on ``story``) for
    ``site_id`` (the sandbox's site); returns the job id."""
    return await submit(
        store,
        client,
        site_id=site_id,
        story_key=story,
        project_key=project,
        revision=revision,
        model=model,
        suite=suite,
    )


async def save_and_submit(
    client: JiraClient, store: JobStore, story: str, model: Model, suite: Suite, **where: str
) -> tuple[str, int]:
    """Save ``model`` on ``story`` (a new model there), then :func:`submit_revision` (``where``: its ``project``
    and ``site_id``); returns the job id and the model's revision."""
    revision = await save_model(client, story, model, None)
    job = await submit_revision(client, store, story, revision, model, suite, **where)
    return job, revision


class Clock:
    """A job store's clock that a test moves on."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def sqlite_job_store(tmp_path: Path) -> tuple[str, JobStore, Clock]:
    """A migrated SQLite app database in ``tmp_path``, and a job store on it whose clock the test moves on."""
    url = f"sqlite:///{tmp_path}/app.db"
    upgrade(url)
    clock = Clock()
    return url, JobStore(session_factory(make_engine(url)), clock=clock), clock


def submit_sync(sb: RunningSandbox, store: JobStore, story: str, model: Model, suite: Suite) -> str:
    """:func:`save_and_submit` from synchronous code; returns the job id."""

    async def go() -> str:
        async with jira_client(sb) as c:
            job, _ = await save_and_submit(c, store, story, model, suite)
            return job

    return asyncio.run(go())


def vendor_worker(sb: RunningSandbox, store: JobStore, worker_id: str, lease_seconds: float) -> Worker:
    """A job worker publishing into the sandbox with the stand-ins' credentials."""
    return Worker(
        store,
        lambda job: jira_client(sb),
        worker_id=worker_id,
        lease_seconds=lease_seconds,
        settle_seconds=0.05,
        access=sb.vendor_access(),
    )


def drop_publish_lease(sb: RunningSandbox, story: str) -> None:
    """What the expiry of a dead worker's publish lease on ``story`` does."""
    httpx.delete(f"{sb.base_url}/rest/api/3/issue/{story}/properties/flowcase-lease-publish", auth=sb.basic_auth())


class Crash(BaseException):
    """A worker dying mid-job (a BaseException: nothing in the worker catches it)."""


def crash_first_worker(
    sb: RunningSandbox, store: JobStore, job_id: str, owner: object, name: str, crashing: object
) -> None:
    """A first worker runs job ``job_id`` with ``owner.name`` replaced by ``crashing`` (which raises
    :class:`Crash`) and dies of it; ``owner.name`` is restored after."""
    first = vendor_worker(sb, store, "first", lease_seconds=60)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(owner, name, crashing)
        with pytest.raises(Crash):
            asyncio.run(first.execute(job_id))


def resume_after_crash(sb: RunningSandbox, store: JobStore, clock: Clock, story: str, job_id: str) -> JobView | None:
    """The dead worker's lease on the job and on ``story`` expire; a second worker runs the job (with the sandbox's
    calls cleared first, so that a test counts only the second worker's)."""
    clock.advance(61)
    drop_publish_lease(sb, story)
    sb.clear_calls()
    second = vendor_worker(sb, store, "second", lease_seconds=5)
    return asyncio.run(second.execute(job_id))


async def work_until_settled(
    queue: PublishQueue,
    store: JobStore,
    job_id: str,
    execute: Executor,
    *,
    timing: WorkerTiming,
    seconds: float,
) -> JobView | None:
    """Run a worker of ``queue`` until job ``job_id`` is done or failed (its view), the worker stops by itself, or
    ``seconds`` pass (None); the worker is stopped before this returns."""
    stop = asyncio.Event()
    running = asyncio.create_task(queue.run_worker(execute, timing=timing, stop=stop, install_signal_handlers=False))
    try:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not running.done():
            view = await asyncio.to_thread(store.get, job_id)
            if view is not None and view.state in (DONE, FAILED):
                return view
            await asyncio.sleep(0.1)
        return None
    finally:
        stop.set()
        await running
