"""Publishing from the web app: start a publish, poll its progress.

Two implementations of one small interface:

- :class:`QueuedPublisher` (the app's database is PostgreSQL): the model is saved on the story first
  (revision-checked), the job is recorded in ``flowcase.jira.jobs`` (ids, hashes and counts only) and queued on
  procrastinate (``flowcase.jira.queue``); ``flowcase worker`` processes run it, so a crash, a restart or a
  deploy resumes it without duplicates and without anyone clicking again.
- :class:`MemoryPublisher` (no database, or SQLite in tests and development): the publish runs as a task of
  this process and its progress is kept in memory.

Both answer with the same JSON: ``{id, issueKey, state, done, total, message, result}``.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from flowcase.errors import FlowcaseError
from flowcase.generate.suite import Suite
from flowcase.hosts.base import Caller, Host
from flowcase.model.types import Model
from flowcase.web import jira_ops
from flowcase.web.errors import ApiError

if TYPE_CHECKING:
    from flowcase.jira.jobs import JobStore, JobView
    from flowcase.jira.queue import PublishQueue
    from flowcase.targets import VendorAccess

#: (site id, Jira base URL) -> that site's vendor credentials (blocking: reads the app database).
AccessFor = Callable[[str, str], "VendorAccess"]

PHASES = {
    "queued": "Queued",
    "waiting": "Jira is unavailable; retrying soon",
    "search": "Looking for published tests",
    "update": "Updating changed tests",
    "create": "Creating new tests",
    "link": "Linking tests to the story",
    "obsolete": "Marking obsolete tests",
}
ERRORS = {
    "model-missing": "the story has no saved workflow",
    "model-changed": "the workflow changed meanwhile",
    "recipe-changed": "a newer publish was requested",
    "suite-changed": "the tests changed meanwhile",
    "bad-input": "the saved workflow cannot be read",
    "jira-refused": "Jira refused the changes",
    "jira-unavailable": "Jira is unavailable",
    "jira-error": "Jira failed",
    "queue-unavailable": "the publish queue was unavailable",
    "too-many-attempts": "it failed too many times",
    "internal-error": "an internal error stopped it",
}


class Publisher(Protocol):
    async def start(
        self, host: Host, caller: Caller, issue_key: str, model: Model, suite: Suite, app_key: str
    ) -> dict[str, Any]: ...

    async def status(self, job_id: str, site_id: str) -> dict[str, Any] | None: ...


def project_of(issue_key: str) -> str:
    return issue_key.rsplit("-", 1)[0]


def done_message(
    issue_key: str, total: int, created: int, updated: int, unchanged: int, obsoleted: int, failed: int
) -> str:
    parts = [f"{created} created", f"{updated} updated", f"{unchanged} unchanged"]
    if obsoleted:
        parts.append(f"{obsoleted} obsolete")
    if failed:
        parts.append(f"{failed} refused by Jira")
    return f"Published {total} tests to {issue_key}: " + ", ".join(parts)


# --- durable: flowcase.jira.jobs on the procrastinate queue --------------------------------------------------


class QueuedPublisher:
    """Publishing through the job queue (PostgreSQL): this process only queues jobs and reads their progress;
    ``flowcase worker`` processes run them (Procfile ``worker``). Every database call runs in a thread."""

    def __init__(
        self,
        store: JobStore,
        queue: PublishQueue,
        in_process: Callable[[str], bool] = lambda _site: False,
        access_for: AccessFor | None = None,
    ) -> None:
        self.store = store
        self.queue = queue
        # Sites whose Jira calls need what only this process holds (Forge's tokens come with each invocation and
        # are kept in memory): their publishes run here, as without a database.
        self.in_process = in_process
        self.local = MemoryPublisher(access_for)

    async def start(
        self, host: Host, caller: Caller, issue_key: str, model: Model, suite: Suite, app_key: str
    ) -> dict[str, Any]:
        from flowcase.jira.jobs import submit

        if self.in_process(caller.site_id):
            return await self.local.start(host, caller, issue_key, model, suite, app_key)
        from flowcase.jira.storage import load_model, model_sha256

        async with jira_ops.client(host, caller) as jira:
            stored = await load_model(jira, issue_key)
            revision = stored.revision if stored else None
            if stored is None or stored.sha256 != await asyncio.to_thread(model_sha256, model):
                revision = await jira_ops.save_model(jira, issue_key, model, revision)
            assert revision is not None
            job_id = await submit(
                self.store,
                jira,
                site_id=caller.site_id,
                story_key=issue_key,
                project_key=project_of(issue_key),
                revision=revision,
                model=model,
                suite=suite,
            )
        try:
            queue_job = await self.queue.defer(job_id, caller.site_id, issue_key)
        except Exception as exc:
            await asyncio.to_thread(self.store.abandon, job_id, "queue-unavailable")
            raise ApiError(503, "queue-unavailable", "the publish queue is unavailable; try again") from exc
        await asyncio.to_thread(self.store.set_queue_job, job_id, queue_job)
        status = await self.status(job_id, caller.site_id)
        assert status is not None
        return status

    async def status(self, job_id: str, site_id: str) -> dict[str, Any] | None:
        local = await self.local.status(job_id, site_id)
        if local is not None:
            return local
        view = await asyncio.to_thread(self.store.get, job_id, site_id)
        return None if view is None else job_status(view)


def job_status(view: JobView) -> dict[str, Any]:
    result = None
    if view.state == "done":
        message = done_message(
            view.story_key, view.done, view.created, view.updated, view.unchanged, view.obsoleted, view.failed
        )
        result = {
            "created": view.created,
            "updated": view.updated,
            "unchanged": view.unchanged,
            "obsoleted": view.obsoleted,
            "failed": view.failed,
            "total": view.done,
        }
    elif view.state == "failed":
        why = ERRORS.get(view.error_code or "", view.error_code or "unknown error")
        message = f"Publishing to {view.story_key} failed: {why}" + (
            f" (HTTP {view.error_status})" if view.error_status else ""
        )
    else:
        message = PHASES.get(view.phase, view.phase)
        if view.total and view.phase not in ("queued", "waiting"):
            message += f" ({view.done}/{view.total})"
    return {
        "id": view.id,
        "issueKey": view.story_key,
        "state": view.state,
        "done": view.done,
        "total": view.total,
        "message": message,
        "result": result,
        "attempts": view.attempts,
    }


# --- in memory --------------------------------------------------------------------------------------------------


@dataclass
class MemoryJob:
    id: str
    site_id: str
    issue_key: str
    state: str = "queued"
    done: int = 0
    total: int = 0
    message: str = "Queued"
    result: dict[str, Any] | None = None
    task: asyncio.Task[None] | None = field(default=None, repr=False)

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "issueKey": self.issue_key,
            "state": self.state,
            "done": self.done,
            "total": self.total,
            "message": self.message,
            "result": self.result,
        }


class MemoryPublisher:
    MAX_JOBS = 200

    def __init__(self, access_for: AccessFor | None = None) -> None:
        self.jobs: dict[str, MemoryJob] = {}
        self.access_for = access_for  # the site's vendor credentials (None: the deployment's, for their site only)

    async def start(
        self, host: Host, caller: Caller, issue_key: str, model: Model, suite: Suite, app_key: str
    ) -> dict[str, Any]:
        running = [
            j
            for j in self.jobs.values()
            if j.site_id == caller.site_id and j.issue_key == issue_key and j.state in ("queued", "running")
        ]
        if running:
            raise ApiError(409, "already-publishing", f"{issue_key} is being published already", job=running[0].id)
        while len(self.jobs) >= self.MAX_JOBS:
            self.jobs.pop(next(iter(self.jobs)))
        job = MemoryJob(secrets.token_urlsafe(12), caller.site_id, issue_key, total=len(suite.tests))
        self.jobs[job.id] = job
        job.task = asyncio.create_task(self._run(host, caller, job, model, suite, app_key))
        return job.as_json()

    async def status(self, job_id: str, site_id: str) -> dict[str, Any] | None:
        job = self.jobs.get(job_id)
        return job.as_json() if job is not None and job.site_id == site_id else None

    async def _run(self, host: Host, caller: Caller, job: MemoryJob, model: Model, suite: Suite, app_key: str) -> None:
        from flowcase.jira.publish import Progress
        from flowcase.targets import PublishCall, publish_to_target, site_access

        def progress(p: Progress) -> None:
            job.done, job.total = p.done, max(p.total, 1)
            job.message = f"{PHASES.get(p.phase, p.phase)} ({p.done}/{p.total})"

        job.state, job.message = "running", "Starting"
        try:
            async with jira_ops.client(host, caller) as jira:
                project = project_of(job.issue_key)
                settings = await jira_ops.publish_settings(jira, app_key, project)
                access_for = self.access_for or (lambda site, url: site_access(None, site, url))
                access = None
                if settings.target != "jira":
                    access = await asyncio.to_thread(access_for, caller.site_id, jira.base_url)
                call = PublishCall(jira, model, suite, job.issue_key, project, settings, progress)
                result = await publish_to_target(call, access)
        except FlowcaseError as exc:
            job.state, job.message = "failed", exc.api_message()
            return
        except ApiError as exc:
            job.state, job.message = "failed", exc.message
            return
        job.result = result.as_json()
        job.done = job.total
        job.state = "done" if not result.failed else "failed"
        job.message = done_message(
            job.issue_key,
            result.total,
            result.created,
            result.updated,
            result.unchanged,
            result.obsoleted,
            len(result.failed),
        )
