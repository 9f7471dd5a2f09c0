"""Durable publish jobs: a job table (ids, hashes, counts and timestamps only) and workers that lease jobs.

Nothing a customer wrote is stored: the job names the story (issue key), the model revision and the sha256 of
the model and of the generated suite. A worker reloads the model from the story, regenerates the suite from the
recipe kept next to it in Jira (property ``flowcase-publish``: criterion and options) and checks both hashes, so
a job can only ever publish exactly what was asked.

Leases: a worker claims a job for ``lease_seconds`` and renews the lease while it works. A worker that dies stops
renewing; once the lease expires any other worker claims the job and runs publish again. Publishing is
idempotent (see :mod:`flowcase.jira.publish`), and the per-test journal (table ``publish_job_tests``) tells the
next worker which creates were sent but never confirmed, so it waits for Jira's search index before deciding
that those tests are missing. A worker that lost its lease stops at its next checkpoint.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import re
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    CursorResult,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    delete,
    select,
    text,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from flowcase.db.engine import Base
from flowcase.errors import AuthError, GenerationError, ModelError, SettingsError
from flowcase.generate.suite import Suite
from flowcase.jira.client import JiraClient, JiraError
from flowcase.jira.publish import Progress, PublishError, PublishResult
from flowcase.jira.settings_store import PublishSettings, load_settings
from flowcase.jira.storage import StorageError, load_composite
from flowcase.model.types import Model

log = logging.getLogger("flowcase.jira.jobs")

RECIPE_KEY = "flowcase-publish"
SAFE_ID = re.compile(r"[A-Za-z0-9_.:\-]{1,64}")
ISSUE_KEY = re.compile(r"[A-Z][A-Z0-9_]{0,30}-[1-9][0-9]{0,15}")
# What a journal line may name: a Jira issue key (Jira, Xray) or a Zephyr Scale test case key (``DEMO-T12``).
TEST_KEY = re.compile(r"[A-Z][A-Z0-9_]{0,30}-T?[1-9][0-9]{0,15}")

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
_RUNNING = "state = 'running'"
_FINISHED = "state IN ('done', 'failed')"


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime) -> datetime:
    """SQLite hands back naive datetimes (stored as UTC); PostgreSQL aware ones."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class PublishJob(Base):
    __tablename__ = "publish_jobs"
    __table_args__ = (  # migration 0005_job_indexes
        Index("ix_publish_jobs_story", "site_id", "story_key", "state"),
        Index("ix_publish_jobs_due", "state", "run_after"),
        Index(
            "ix_publish_jobs_finished", "finished_at", postgresql_where=text(_FINISHED), sqlite_where=text(_FINISHED)
        ),
        Index(
            "uq_publish_jobs_running_story",
            "site_id",
            "story_key",
            unique=True,
            postgresql_where=text(_RUNNING),
            sqlite_where=text(_RUNNING),
        ),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    site_id: Mapped[str] = mapped_column(String(255))
    story_key: Mapped[str] = mapped_column(String(64))
    project_key: Mapped[str] = mapped_column(String(32))
    model_revision: Mapped[int] = mapped_column(Integer)
    model_sha256: Mapped[str] = mapped_column(String(64))
    suite_sha256: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))
    phase: Mapped[str] = mapped_column(String(16))
    total: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    created: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    obsoleted: Mapped[int] = mapped_column(Integer, default=0)
    failed_count: Mapped[int] = mapped_column(Integer, default=0)
    create_calls: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    lease_expires: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    run_after: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    error_code: Mapped[str | None] = mapped_column(String(32))  # a fixed vocabulary, never Jira's text
    error_status: Mapped[int | None] = mapped_column(Integer)
    queue_job_id: Mapped[int | None] = mapped_column(BigInteger)  # the procrastinate job (migration 0006)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class PublishJobTest(Base):
    """One line per test a job sent to Jira: ``sending`` before the create call, ``created`` once confirmed."""

    __tablename__ = "publish_job_tests"

    job_id: Mapped[str] = mapped_column(String(32), ForeignKey("publish_jobs.id", ondelete="CASCADE"), primary_key=True)
    test_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    test_hash: Mapped[str | None] = mapped_column(String(64))
    issue_key: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))


@dataclass(frozen=True, slots=True)
class JobView:
    """What the API shows about a job (ids and counts)."""

    id: str
    site_id: str
    story_key: str
    state: str
    phase: str
    total: int
    done: int
    created: int
    updated: int
    unchanged: int
    obsoleted: int
    failed: int
    create_calls: int
    attempts: int
    error_code: str | None
    error_status: int | None
    retry_in: float | None = None  # queued: seconds until it is due again

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "storyKey": self.story_key,
            "state": self.state,
            "phase": self.phase,
            "total": self.total,
            "done": self.done,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "obsoleted": self.obsoleted,
            "failed": self.failed,
            "createCalls": self.create_calls,
            "attempts": self.attempts,
            "error": self.error_code,
            "errorStatus": self.error_status,
        }


def _view(row: PublishJob) -> JobView:
    due = max(0.0, (_aware(row.run_after) - _now()).total_seconds()) if row.state == QUEUED else None
    return JobView(
        row.id,
        row.site_id,
        row.story_key,
        row.state,
        row.phase,
        row.total,
        row.done,
        row.created,
        row.updated,
        row.unchanged,
        row.obsoleted,
        row.failed_count,
        row.create_calls,
        row.attempts,
        row.error_code,
        row.error_status,
        due,
    )


class LeaseLost(Exception):
    """Another worker owns the job now: stop without writing anything more."""


def suite_sha256(suite: Suite) -> str:
    return hashlib.sha256(suite.model_dump_json().encode("utf-8")).hexdigest()


class JobStore:
    def __init__(
        self, sessions: sessionmaker[Session], *, clock: Callable[[], datetime] = _now, max_attempts: int = 5
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.max_attempts = max_attempts

    def enqueue(
        self,
        *,
        site_id: str,
        story_key: str,
        project_key: str,
        model_revision: int,
        model_sha256: str,
        suite_sha256: str,
        total: int,
    ) -> str:
        if not ISSUE_KEY.fullmatch(story_key) or not re.fullmatch(r"[A-Z][A-Z0-9_]{0,30}", project_key):
            raise ValueError("story and project must be Jira keys")
        if not re.fullmatch(r"[0-9a-f]{64}", model_sha256) or not re.fullmatch(r"[0-9a-f]{64}", suite_sha256):
            raise ValueError("hashes must be sha256 hex digests")
        now = self.clock()
        job = PublishJob(
            id=uuid.uuid4().hex,
            site_id=site_id[:255],
            story_key=story_key,
            project_key=project_key,
            model_revision=model_revision,
            model_sha256=model_sha256,
            suite_sha256=suite_sha256,
            state=QUEUED,
            phase="queued",
            total=total,
            done=0,
            created=0,
            updated=0,
            unchanged=0,
            obsoleted=0,
            failed_count=0,
            create_calls=0,
            attempts=0,
            run_after=now,
            created_at=now,
            updated_at=now,
        )
        with self.sessions.begin() as s:
            s.add(job)
        return job.id

    def get(self, job_id: str, site_id: str | None = None) -> JobView | None:
        with self.sessions() as s:
            row = s.get(PublishJob, job_id)
            if row is None or (site_id is not None and row.site_id != site_id):
                return None
            return _view(row)

    def begin(self, job_id: str, worker_id: str, lease_seconds: float) -> JobView | None:
        """Take job ``job_id`` over for ``worker_id``; None when it is unknown or already finished.

        The caller holds the queue's lock of the job's story (:mod:`flowcase.jira.queue`: one running job per
        story), so another row of the same story still marked running belongs to a worker that died or was declared
        stalled: it goes back to queued, and that worker, if it is still alive, loses its lease at its next
        checkpoint. The partial unique index ``uq_publish_jobs_running_story`` makes a second running publish of
        one story impossible even without the lock. A job whose workers keep dying is given up after
        ``max_attempts``.
        """
        now = self.clock()
        with self.sessions.begin() as s:
            row = s.get(PublishJob, job_id, with_for_update=True)
            if row is None or row.state in (DONE, FAILED):
                return None
            s.execute(
                update(PublishJob)
                .where(
                    PublishJob.site_id == row.site_id,
                    PublishJob.story_key == row.story_key,
                    PublishJob.state == RUNNING,
                    PublishJob.id != job_id,
                )
                .values(state=QUEUED, phase="queued", lease_owner=None, lease_expires=None, updated_at=now)
            )
            row.state, row.lease_owner = RUNNING, worker_id
            row.lease_expires = now + timedelta(seconds=lease_seconds)
            row.attempts += 1
            row.updated_at = now
            attempts = row.attempts
        if attempts > self.max_attempts:
            # Workers keep dying on this job (or it keeps failing): stop instead of looping forever.
            self.finish(job_id, worker_id, None, error_code="too-many-attempts")
            return None
        return self.get(job_id)

    def row(self, job_id: str) -> PublishJob | None:
        """The job's row, detached from its session."""
        with self.sessions() as s:
            row = s.get(PublishJob, job_id)
            if row is not None:
                s.expunge(row)
            return row

    def abandon(self, job_id: str, error_code: str) -> None:
        """A queued job that could not be handed to the queue: failed, with ``error_code``."""
        now = self.clock()
        with self.sessions.begin() as s:
            s.execute(
                update(PublishJob)
                .where(PublishJob.id == job_id, PublishJob.state == QUEUED)
                .values(state=FAILED, phase=FAILED, error_code=error_code, updated_at=now, finished_at=now)
            )

    def set_queue_job(self, job_id: str, queue_job_id: int) -> None:
        with self.sessions.begin() as s:
            s.execute(update(PublishJob).where(PublishJob.id == job_id).values(queue_job_id=queue_job_id))

    def _owned(self, s: Session, job_id: str, worker_id: str) -> PublishJob:
        row = s.get(PublishJob, job_id, with_for_update=True)
        if row is None or row.lease_owner != worker_id or row.state != RUNNING:
            raise LeaseLost(job_id)
        return row

    def _renewed(self, s: Session, job_id: str, worker_id: str, lease_seconds: float) -> PublishJob:
        """The job's row with its lease renewed for ``lease_seconds``; LeaseLost if the worker's lease is gone."""
        now = self.clock()
        row = self._owned(s, job_id, worker_id)
        if row.lease_expires is not None and _aware(row.lease_expires) < now:
            raise LeaseLost(job_id)
        row.lease_expires = now + timedelta(seconds=lease_seconds)
        row.updated_at = now
        return row

    def renew(self, job_id: str, worker_id: str, lease_seconds: float) -> None:
        with self.sessions.begin() as s:
            self._renewed(s, job_id, worker_id, lease_seconds)

    def checkpoint(self, job_id: str, worker_id: str, lease_seconds: float, progress: Progress) -> None:
        """Renew the lease and record progress in one transaction."""
        with self.sessions.begin() as s:
            row = self._renewed(s, job_id, worker_id, lease_seconds)
            row.phase = progress.phase[:16]
            row.done = progress.done
            row.total = progress.total

    def progress(self, job_id: str, worker_id: str, progress: Progress) -> None:
        with self.sessions.begin() as s:
            row = self._owned(s, job_id, worker_id)
            row.phase = progress.phase[:16]
            row.done = progress.done
            row.total = progress.total
            row.updated_at = self.clock()

    def mark_sending(self, job_id: str, worker_id: str, test_ids: Sequence[str]) -> None:
        with self.sessions.begin() as s:
            self._owned(s, job_id, worker_id)
            known = set(
                s.scalars(
                    select(PublishJobTest.test_id).where(
                        PublishJobTest.job_id == job_id, PublishJobTest.test_id.in_(test_ids)
                    )
                )
            )
            for test_id in test_ids:
                if test_id not in known and SAFE_ID.fullmatch(test_id):
                    s.add(PublishJobTest(job_id=job_id, test_id=test_id, state="sending"))

    def mark_created(self, job_id: str, worker_id: str, rows: Sequence[tuple[str, str, str]]) -> None:
        with self.sessions.begin() as s:
            self._owned(s, job_id, worker_id)
            for test_id, key, digest in rows:
                if not (SAFE_ID.fullmatch(test_id) and TEST_KEY.fullmatch(key)):
                    continue
                row = s.get(PublishJobTest, (job_id, test_id))
                if row is None:
                    row = PublishJobTest(job_id=job_id, test_id=test_id)
                    s.add(row)
                row.issue_key, row.test_hash, row.state = key, digest[:64], "created"

    def unconfirmed(self, job_id: str) -> set[str]:
        with self.sessions() as s:
            return set(
                s.scalars(
                    select(PublishJobTest.test_id).where(
                        PublishJobTest.job_id == job_id, PublishJobTest.state == "sending"
                    )
                )
            )

    def finish(
        self,
        job_id: str,
        worker_id: str,
        result: PublishResult | None,
        *,
        error_code: str | None = None,
        error_status: int | None = None,
        retry_in: float | None = None,
        max_attempts: int | None = None,
    ) -> None:
        """Record the outcome. ``retry_in`` re-queues the job (Jira outage) unless attempts are used up."""
        now = self.clock()
        with self.sessions.begin() as s:
            row = self._owned(s, job_id, worker_id)
            if result is not None:
                row.created, row.updated, row.unchanged = result.created, result.updated, result.unchanged
                row.obsoleted, row.failed_count = result.obsoleted, len(result.failed)
                row.create_calls += result.create_calls
                row.done = result.total
            row.error_code, row.error_status = error_code, error_status
            row.lease_owner, row.lease_expires, row.updated_at = None, None, now
            if retry_in is not None and row.attempts < (max_attempts or self.max_attempts):
                row.state, row.phase = QUEUED, "waiting"
                row.run_after = now + timedelta(seconds=retry_in)
            else:
                row.state = FAILED if error_code or (result and result.failed) else DONE
                row.phase = row.state
                row.finished_at = now

    def purge_finished(self, older_than: timedelta) -> int:
        """Delete finished jobs (and their test lines) older than ``older_than``."""
        cutoff = self.clock() - older_than
        with self.sessions.begin() as s:
            old = select(PublishJob.id).where(PublishJob.state.in_((DONE, FAILED)), PublishJob.finished_at < cutoff)
            s.execute(delete(PublishJobTest).where(PublishJobTest.job_id.in_(old)))
            gone = cast(CursorResult[Any], s.execute(delete(PublishJob).where(PublishJob.id.in_(old))))
            return int(gone.rowcount or 0)


class _DbJournal:
    """The job's journal, written from a worker thread so that the event loop never waits on the database.

    Writes are queued in order and done by one task; ``flush()`` (awaited by :func:`flowcase.jira.publish.publish`
    after ``sending`` and before each create call) waits until every queued write has landed, so the write-ahead
    line is durable before Jira is asked. The first failed write (a lost lease) is raised by the next call.
    """

    def __init__(self, store: JobStore, job_id: str, worker_id: str, lease_seconds: float, uncertain: set[str]) -> None:
        self.store, self.job_id, self.worker_id, self.lease_seconds = store, job_id, worker_id, lease_seconds
        self._uncertain = uncertain
        self._queue: asyncio.Queue[Callable[[], None]] = asyncio.Queue()
        self._error: BaseException | None = None
        self._writer = asyncio.create_task(self._write())

    async def _write(self) -> None:
        while True:
            write = await self._queue.get()
            try:
                if self._error is None:
                    await asyncio.to_thread(write)
            except Exception as exc:
                self._error = exc
            finally:
                self._queue.task_done()

    def _submit(self, write: Callable[[], None]) -> None:
        if self._error is not None:
            raise self._error
        self._queue.put_nowait(write)

    async def flush(self) -> None:
        await self._queue.join()
        if self._error is not None:
            raise self._error

    async def close(self) -> None:
        try:
            await self.flush()
        finally:
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer

    def uncertain(self) -> set[str]:
        return set(self._uncertain)

    def sending(self, test_ids: Sequence[str]) -> None:
        ids = list(test_ids)

        def write() -> None:
            self.store.renew(self.job_id, self.worker_id, self.lease_seconds)
            self.store.mark_sending(self.job_id, self.worker_id, ids)

        self._submit(write)

    def created(self, rows: Sequence[tuple[str, str, str]]) -> None:
        confirmed = list(rows)
        self._submit(lambda: self.store.mark_created(self.job_id, self.worker_id, confirmed))

    def checkpoint(self, progress: Progress) -> None:
        self._submit(lambda: self.store.checkpoint(self.job_id, self.worker_id, self.lease_seconds, progress))


# -- what a job publishes ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Work:
    model: Model
    suite: Suite
    settings: PublishSettings


Resolver = Callable[[JiraClient, JobView, PublishJob], Awaitable[Work]]
# Generation off the event loop: (site id, model, criterion, options) -> suite. The ``flowcase worker`` process runs
# it in a compute pool (``web/worker.py``: killable, memory-capped, fair to sites); the default runs it in a thread.
Generator = Callable[[str, Model, Any, dict[str, Any]], Awaitable[Suite]]


def generate_recipe(model: Model, criterion: Any, options: dict[str, Any]) -> Suite:
    """The suite of a job's recipe (blocking, CPU-heavy: run it in a thread or a compute worker process)."""
    from flowcase.generate import GenerateOptions, generate

    return generate(model, GenerateOptions.from_suite_options(criterion, options))


async def _generate_in_thread(site_id: str, model: Model, criterion: Any, options: dict[str, Any]) -> Suite:
    return await asyncio.to_thread(generate_recipe, model, criterion, options)


class JobInputError(Exception):
    """The story no longer holds what the job was created for; ``code`` is recorded on the job."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class JobDeferred(Exception):
    """The job cannot run now (every generation worker is busy); ``code`` is recorded and the job runs again
    later, like one Jira asked to wait."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


async def submit(
    store: JobStore,
    client: JiraClient,
    *,
    site_id: str,
    story_key: str,
    project_key: str,
    revision: int,
    model: Model,
    suite: Suite,
) -> str:
    """Queue a publish of ``suite`` for the model saved on ``story_key`` at ``revision``.

    The generation recipe (criterion and options) is written to the story's ``flowcase-publish`` property, in
    Jira, so the job row needs nothing but hashes.
    """
    from flowcase.jira.storage import model_sha256

    # both digests serialise the whole model or suite: CPU work, off the event loop
    digest = await asyncio.to_thread(suite_sha256, suite)
    model_digest = await asyncio.to_thread(model_sha256, model)
    recipe = {
        "criterion": suite.criterion,
        "options": dict(suite.options),
        "modelRevision": revision,
        "suiteSha256": digest,
    }
    await client.put_property("issue", story_key, RECIPE_KEY, recipe)
    return await asyncio.to_thread(
        store.enqueue,
        site_id=site_id,
        story_key=story_key,
        project_key=project_key,
        model_revision=revision,
        model_sha256=model_digest,
        suite_sha256=digest,
        total=len(suite.tests),
    )


def make_resolver(app_key: str | None = None, generator: Generator | None = None) -> Resolver:
    run_generation = generator or _generate_in_thread

    async def resolve(client: JiraClient, job: JobView, row: PublishJob) -> Work:
        stored = await load_composite(client, job.story_key)
        if stored is None:
            raise JobInputError("model-missing", f"{job.story_key} has no model")
        if stored.revision != row.model_revision or stored.sha256 != row.model_sha256:
            raise JobInputError("model-changed", f"the model on {job.story_key} changed since the job was queued")
        recipe = await client.get_property("issue", job.story_key, RECIPE_KEY)
        if not isinstance(recipe, dict) or recipe.get("suiteSha256") != row.suite_sha256:
            raise JobInputError("recipe-changed", f"a newer publish was requested for {job.story_key}")
        suite = await run_generation(job.site_id, stored.model, recipe["criterion"], recipe["options"])
        if await asyncio.to_thread(suite_sha256, suite) != row.suite_sha256:
            raise JobInputError("suite-changed", "generation gave a different suite than when the job was queued")
        settings = await load_settings(client, app_key=app_key, project_key=row.project_key)
        return Work(stored.model, suite, settings)

    return resolve


class Worker:
    """Runs publish jobs by id (the queue, :mod:`flowcase.jira.queue`, decides which and when).

    Every database call goes through a worker thread; the event loop only talks to Jira.
    """

    def __init__(
        self,
        store: JobStore,
        client_for: Callable[[JobView], JiraClient],
        *,
        resolve: Resolver | None = None,
        worker_id: str | None = None,
        lease_seconds: float = 60.0,
        settle_seconds: float = 5.0,
        retry_in: float = 30.0,
        access: Any = None,
        access_for: Callable[[str, str], Any] | None = None,
    ) -> None:
        self.store = store
        self.access = access  # flowcase.targets.VendorAccess: the vendors' credentials (None: from configuration)
        # (site id, Jira base URL) -> that site's VendorAccess (flowcase.targets.site_access over the app
        # database); blocking, called in a thread. None: the deployment's credentials, for their own site only.
        self.access_for = access_for
        self.client_for = client_for
        self.resolve = resolve or make_resolver()
        self.worker_id = worker_id or uuid.uuid4().hex[:16]
        self.lease_seconds = lease_seconds
        self.settle_seconds = settle_seconds
        self.retry_in = retry_in

    async def execute(self, job_id: str) -> JobView | None:
        """Run job ``job_id`` once; returns its view afterwards (state ``queued`` means: retry in ``retry_in``)."""
        job = await asyncio.to_thread(self.store.begin, job_id, self.worker_id, self.lease_seconds)
        if job is not None:
            log.info("worker %s runs job %s (attempt %d)", self.worker_id, job.id, job.attempts)
            try:
                await self._run(job)
            except LeaseLost:
                log.warning("worker %s lost the lease of job %s", self.worker_id, job.id)
        return await asyncio.to_thread(self.store.get, job_id)

    async def _finish(self, job_id: str, result: PublishResult | None, **kwargs: Any) -> None:
        await asyncio.to_thread(self.store.finish, job_id, self.worker_id, result, **kwargs)

    async def _run(self, job: JobView) -> None:
        from flowcase.targets import PublishCall, publish_to_target

        row = await asyncio.to_thread(self.store.row, job.id)
        assert row is not None
        uncertain = await asyncio.to_thread(self.store.unconfirmed, job.id)
        journal = _DbJournal(self.store, job.id, self.worker_id, self.lease_seconds, uncertain)
        heartbeat = asyncio.create_task(self._heartbeat(job.id))
        try:
            client = await asyncio.to_thread(self.client_for, job)
            async with client:
                work = await self.resolve(client, job, row)
                access = self.access
                if access is None and work.settings.target != "jira":
                    access = await asyncio.to_thread(self._access, job.site_id, client.base_url)
                call = PublishCall(
                    client,
                    work.model,
                    work.suite,
                    job.story_key,
                    row.project_key,
                    work.settings,
                    journal=journal,
                    settle_seconds=self.settle_seconds,
                )
                result = await publish_to_target(call, access)
            await journal.flush()
        except JobInputError as exc:
            await self._finish(job.id, None, error_code=exc.code)
        except JobDeferred as exc:
            await self._finish(job.id, None, error_code=exc.code, retry_in=self.retry_in)
        except (StorageError, ModelError, GenerationError, SettingsError, AuthError):  # not any ValueError (a bug)
            await self._finish(job.id, None, error_code="bad-input")
        except PublishError as exc:
            code = "jira-unavailable" if exc.retryable else "jira-refused"
            await self._finish(
                job.id,
                None,
                error_code=code,
                error_status=exc.status,
                retry_in=self.retry_in if exc.retryable else None,
            )
        except JiraError as exc:
            await self._finish(
                job.id,
                None,
                error_code="jira-error",
                error_status=exc.status,
                retry_in=self.retry_in if exc.retryable else None,
            )
        except LeaseLost:
            raise
        except Exception as exc:  # a job must end in a recorded state, never hang
            log.exception("job %s failed unexpectedly (%s)", job.id, type(exc).__name__)
            await self._finish(job.id, None, error_code="internal-error")
        else:
            await self._finish(job.id, result)
        finally:
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat
            with contextlib.suppress(Exception):
                await journal.close()

    def _access(self, site_id: str, base_url: str) -> Any:
        """The job's site's vendor credentials: its own (app database), else the deployment's for that site."""
        if self.access_for is not None:
            return self.access_for(site_id, base_url)
        from flowcase.targets import VendorAccess

        return VendorAccess.configured().for_site(base_url)

    async def _heartbeat(self, job_id: str) -> None:
        while True:
            await asyncio.sleep(self.lease_seconds / 3)
            try:
                await asyncio.to_thread(self.store.renew, job_id, self.worker_id, self.lease_seconds)
            except LeaseLost:
                return
