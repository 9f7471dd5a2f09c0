"""The publish queue on procrastinate (PostgreSQL): who runs which publish job, when, and after a crash.

procrastinate gives what a job queue must: jobs in PostgreSQL, picked up at once through LISTEN/NOTIFY (polling
only as a fallback), ``FOR UPDATE SKIP LOCKED`` fetching, a per-story ``lock`` (procrastinate's unique index on
the lock of running jobs: never two publishes of one story at a time, and a story's jobs run in the order they
were queued), retries, and worker heartbeats from which stalled jobs are found. Our code on top
(:mod:`flowcase.jira.jobs`) keeps the per-test journal, the progress the web process reads, and the
reconciliation with Jira that makes a re-run never duplicate an issue.

The queue's job carries only the publish job id (a random hex string); its lock is a hash of the site and the
story key. Stalled jobs, whose worker stopped sending heartbeats (killed, lost its machine), are put back to
``todo`` by :meth:`PublishQueue.recover_stalled`, which every worker runs when it starts and then periodically.
A worker that was only late keeps its registration (pruned after ``WorkerTiming.prune_after``) and serves other
jobs; it ends the queue job it lost only if no other worker has it (:class:`_OwnJobsManager`).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from procrastinate import App, BaseRetryStrategy, PsycopgConnector, RetryDecision
from procrastinate.jobs import Job, Status
from procrastinate.manager import JobManager
from sqlalchemy.engine import make_url

from flowcase.jira.jobs import QUEUED, JobView

log = logging.getLogger("flowcase.jira.queue")

TASK = "flowcase.publish"
QUEUE = "publish"


def conninfo(database_url: str) -> str:
    """A libpq URL (``postgresql://``) for a SQLAlchemy one (``postgresql+psycopg://``)."""
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        raise ValueError("the publish queue needs PostgreSQL")
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def story_lock(site_id: str, story_key: str) -> str:
    """The queue lock of a story: no site or story text in the queue's tables, only a hash."""
    return "publish:" + hashlib.sha256(f"{site_id}\n{story_key}".encode()).hexdigest()[:32]


class RetryLater(Exception):
    """Jira was unavailable: the job is queued again in ``seconds``."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"retry in {seconds:g} s")
        self.seconds = seconds


class _Retry(BaseRetryStrategy):
    """Retry only what asked for it; how many attempts a job gets is decided by the job store."""

    def get_retry_decision(self, *, exception: BaseException, job: Job) -> RetryDecision | None:
        if isinstance(exception, RetryLater):
            return RetryDecision(retry_in={"seconds": max(0, round(exception.seconds))})
        return None


Executor = Callable[[str], Awaitable[JobView | None]]


@dataclass(frozen=True, slots=True)
class WorkerTiming:
    """Heartbeats and the stalled-job sweep.

    The jobs of a worker silent for ``stalled_after`` seconds are put back to ``todo`` (it may be dead); its
    registration (procrastinate's ``procrastinate_workers`` row) is deleted only once it has been silent for
    ``prune_after`` seconds. A worker that was only late (a busy machine, a long pause of its process) thus keeps
    its row and carries on: procrastinate's worker never re-registers, and its next fetch of a job would be refused
    by the queue's foreign key on a deleted row, stopping the worker. ``prune_after`` bounds how long a dead
    worker's row stays; nothing reads it but the stalled-job query, which goes by the heartbeat's age.
    """

    heartbeat: float = 10.0
    stalled_after: float = 30.0
    sweep_every: float = 15.0
    prune_after: float = 3600.0
    # LISTEN/NOTIFY wakes workers when a job is queued; polling finds the next job of a story once the one before
    # it ended (procrastinate sends no notification then)
    poll: float = 1.0


# A job is still a worker's own while it is running with that worker's id on it. Another worker's sweep puts the job
# of a late worker back to ``todo`` (keeping the id) and a worker that fetches it puts its own id on it.
_FINISH_OWN = """
SELECT procrastinate_finish_job_v1(own.id, %(status)s, %(delete_job)s)
  FROM (SELECT id FROM procrastinate_jobs
         WHERE id = %(job_id)s AND status = 'doing' AND worker_id = %(worker_id)s FOR UPDATE) AS own
"""
_RETRY_OWN = """
SELECT procrastinate_retry_job_v2(own.id, %(retry_at)s, %(new_priority)s, %(new_queue_name)s, %(new_lock)s)
  FROM (SELECT id FROM procrastinate_jobs
         WHERE id = %(job_id)s AND status = 'doing' AND worker_id = %(worker_id)s FOR UPDATE) AS own
"""


class _OwnJobsManager(JobManager):
    """procrastinate's job manager, except that a worker ends (finishes or retries) only a job still its own.

    procrastinate's ``finish_job`` and ``retry_job`` go by the job's id alone. A worker that was late by more than
    ``stalled_after`` (its job put back to ``todo`` by another worker's sweep, perhaps already fetched by a third)
    would, when its task returns, delete or re-queue the job another worker is running and so free the story's
    lock. Here it leaves the job alone: the worker that has it ends it. The check and the change are one
    statement, the job's row locked in between.
    """

    async def finish_job(self, job: Job, status: Status, delete_job: bool) -> None:
        if job.worker_id is None:  # not fetched by a worker (procrastinate's own callers): as procrastinate does
            await super().finish_job(job, status, delete_job)
            return
        rows = await self.connector.execute_query_all_async(
            query=_FINISH_OWN, job_id=job.id, worker_id=job.worker_id, status=status.value, delete_job=delete_job
        )
        if not rows:
            log.warning("queue job %s was handed to another worker while this one ran it: left to that worker", job.id)

    async def retry_job(
        self,
        job: Job,
        retry_at: datetime | None = None,
        priority: int | None = None,
        queue: str | None = None,
        lock: str | None = None,
    ) -> None:
        if job.worker_id is None:
            await super().retry_job(job, retry_at, priority, queue, lock)
            return
        rows = await self.connector.execute_query_all_async(
            query=_RETRY_OWN,
            job_id=job.id,
            worker_id=job.worker_id,
            retry_at=retry_at or datetime.now(UTC),
            new_priority=priority,
            new_queue_name=queue,
            new_lock=lock,
        )
        if not rows:
            log.warning("queue job %s was handed to another worker while this one ran it: left to that worker", job.id)


class PublishQueue:
    """procrastinate's app for publish jobs: defer from the web process, run in ``flowcase worker``."""

    def __init__(self, database_url: str, *, pool_size: int = 4) -> None:
        self.connector = PsycopgConnector(conninfo=conninfo(database_url), min_size=1, max_size=pool_size)
        self.app = App(connector=self.connector)
        self.app.job_manager = _OwnJobsManager(connector=self.connector)  # workers end jobs through it
        self._executor: Executor | None = None
        self._open_lock = asyncio.Lock()
        self._opened = False
        self.task = self.app.task(name=TASK, queue=QUEUE, retry=_Retry())(self._run)

    async def open(self) -> None:
        async with self._open_lock:
            if not self._opened:
                await self.app.open_async()
                self._opened = True

    async def close(self) -> None:
        async with self._open_lock:
            if self._opened:
                await self.app.close_async()
                self._opened = False

    async def defer(self, job_id: str, site_id: str, story_key: str) -> int:
        """Queue publish job ``job_id``; returns the queue's job id. Workers are woken by NOTIFY."""
        await self.open()
        return await self.task.configure(lock=story_lock(site_id, story_key)).defer_async(job_id=job_id)

    async def defer_many(self, jobs: list[tuple[str, str, str]]) -> list[int]:
        """Queue several publish jobs ``(job_id, site_id, story_key)`` in one statement (one NOTIFY wakes all)."""
        await self.open()
        made = [
            self.task.configure(lock=story_lock(site, story)).make_new_job(job_id=job_id)
            for job_id, site, story in jobs
        ]
        deferred = await self.app.job_manager.batch_defer_jobs_async(made)
        return [job.id for job in deferred if job.id is not None]

    async def status(self, queue_job_id: int) -> str | None:
        """The queue's view of a job (todo, doing, succeeded, failed...), for operators and tests."""
        await self.open()
        try:
            return (await self.app.job_manager.get_job_status_async(queue_job_id)).value
        except Exception:  # procrastinate raises when the job is gone (deleted after success)
            return None

    async def _run(self, job_id: str) -> None:
        if self._executor is None:
            raise RuntimeError("this process runs no publish worker")
        view = await self._executor(job_id)
        if view is not None and view.state == QUEUED:
            raise RetryLater(view_retry_seconds(view))

    async def recover_stalled(self, stalled_after: float, prune_after: float | None = None) -> int:
        """Put back to ``todo`` every running job whose worker sent no heartbeat for ``stalled_after`` seconds,
        then delete the registration of workers silent for ``prune_after`` seconds (default: a ``WorkerTiming``'s).

        A live worker late by more than ``stalled_after`` loses its job (another worker runs it; the job store's
        lease stops the late one at its next write) but not its registration, so it keeps fetching jobs.
        """
        if prune_after is None:
            prune_after = WorkerTiming().prune_after
        if prune_after < stalled_after:
            raise ValueError("prune_after must not be shorter than stalled_after")
        await self.open()
        stalled = list(
            await self.app.job_manager.get_stalled_jobs(task_name=TASK, seconds_since_heartbeat=stalled_after)
        )
        for job in stalled:
            log.warning("job %s was left by a stalled worker: queued again", job.id)
            await self.app.job_manager.retry_job(job)
        await self.app.job_manager.prune_stalled_workers(prune_after)
        return len(stalled)

    async def run_worker(
        self,
        execute: Executor,
        *,
        concurrency: int = 4,
        timing: WorkerTiming | None = None,
        stop: asyncio.Event | None = None,
        install_signal_handlers: bool = True,
    ) -> None:
        """Run publish jobs until ``stop`` is set (or SIGINT/SIGTERM with ``install_signal_handlers``)."""
        timing = timing or WorkerTiming()
        self._executor = execute
        await self.open()
        await self.recover_stalled(timing.stalled_after, timing.prune_after)
        worker = asyncio.create_task(
            self.app.run_worker_async(
                queues=[QUEUE],
                concurrency=concurrency,
                name="flowcase-publish",
                wait=True,
                fetch_job_polling_interval=timing.poll,
                update_heartbeat_interval=timing.heartbeat,
                # procrastinate prunes workers silent for this long when it starts (nothing else)
                stalled_worker_timeout=timing.prune_after,
                install_signal_handlers=install_signal_handlers,
                delete_jobs="successful",
            )
        )
        sweeper = asyncio.create_task(self._sweep(timing))
        waits: list[asyncio.Future[Any]] = [worker]
        if stop is not None:
            waits.append(asyncio.ensure_future(stop.wait()))
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            sweeper.cancel()
            for waiting in waits[1:]:
                waiting.cancel()
            if not worker.done():
                worker.cancel()  # procrastinate stops gracefully: running jobs finish first
            try:
                with contextlib.suppress(asyncio.CancelledError):
                    await worker  # raises what stopped procrastinate's worker, if anything did
            finally:
                # even then: the sweeper and the stop waiter are awaited, none is left pending on the loop
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.gather(sweeper, *waits[1:])
                self._executor = None

    async def _sweep(self, timing: WorkerTiming) -> None:
        while True:
            await asyncio.sleep(timing.sweep_every)
            try:
                await self.recover_stalled(timing.stalled_after, timing.prune_after)
            except Exception as exc:  # the database may be briefly unreachable: try again next round
                log.warning("stalled-job sweep failed (%s)", type(exc).__name__)


def view_retry_seconds(view: JobView) -> float:
    """How long a job re-queued by the store waits; the store sets it, the queue carries it out."""
    return view.retry_in if view.retry_in is not None else 30.0
