"""Publishing from the web app: start a publish, poll its progress.

Two implementations of one small interface:

- :class:`DurablePublisher` (whenever the app has a database, i.e. with the Connect host): the model is saved on
  the story first (revision-checked), the job is queued in ``flowcase.jira.jobs`` (ids, hashes and counts only)
  and an in-process worker runs it with leases, so a crash or restart resumes without duplicates.
- :class:`MemoryPublisher` (standalone without a database): the publish runs as a task of this process and its
  progress is kept in memory.

Both answer with the same JSON: ``{id, issueKey, state, done, total, message, result}``.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from flowcase.generate.suite import Suite
from flowcase.hosts.base import Caller, Host
from flowcase.model.types import Model
from flowcase.web import jira_ops
from flowcase.web.errors import ApiError

if TYPE_CHECKING:
    from flowcase.jira.client import JiraClient
    from flowcase.jira.jobs import Generator, JobStore, JobView

PHASES = {"queued": "Queued", "waiting": "Jira is unavailable; retrying soon", "search": "Looking for published tests",
          "update": "Updating changed tests", "create": "Creating new tests", "link": "Linking tests to the story",
          "obsolete": "Marking obsolete tests"}
ERRORS = {"model-missing": "the story has no saved workflow", "model-changed": "the workflow changed meanwhile",
          "recipe-changed": "a newer publish was requested", "suite-changed": "the tests changed meanwhile",
          "bad-input": "the saved workflow cannot be read", "jira-refused": "Jira refused the changes",
          "jira-unavailable": "Jira is unavailable", "jira-error": "Jira failed"}


class Publisher(Protocol):
    async def start(self, host: Host, caller: Caller, issue_key: str, model: Model, suite: Suite,
                    app_key: str) -> dict[str, Any]: ...

    def status(self, job_id: str, site_id: str) -> dict[str, Any] | None: ...


def project_of(issue_key: str) -> str:
    return issue_key.rsplit("-", 1)[0]


def done_message(issue_key: str, total: int, created: int, updated: int, unchanged: int, obsoleted: int,
                 failed: int) -> str:
    parts = [f"{created} created", f"{updated} updated", f"{unchanged} unchanged"]
    if obsoleted:
        parts.append(f"{obsoleted} obsolete")
    if failed:
        parts.append(f"{failed} refused by Jira")
    return f"Published {total} tests to {issue_key}: " + ", ".join(parts)


# --- durable: flowcase.jira.jobs -------------------------------------------------------------------------------

class DurablePublisher:
    def __init__(self, store: JobStore, client_for: Callable[[JobView], JiraClient], app_key: str,
                 generator: Generator | None = None) -> None:
        from flowcase.jira.jobs import Worker, make_resolver

        self.store = store
        self.worker = Worker(store, client_for, resolve=make_resolver(app_key, generator), lease_seconds=30.0,
                             settle_seconds=2.0, retry_in=15.0)
        self.stop = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    def ensure_worker(self) -> None:
        """Run the worker in this process (started lazily, so it also runs where no lifespan event is sent)."""
        if self.task is None or self.task.done():
            self.stop = asyncio.Event()
            self.task = asyncio.create_task(self.worker.run(self.stop, poll_seconds=0.5))

    async def start(self, host: Host, caller: Caller, issue_key: str, model: Model, suite: Suite,
                    app_key: str) -> dict[str, Any]:
        from flowcase.jira.jobs import submit
        from flowcase.jira.storage import canonical_json, load_model

        async with jira_ops.client(host, caller) as jira:
            stored = await load_model(jira, issue_key)
            revision = stored.revision if stored else None
            if stored is None or stored.sha256 != hashlib.sha256(canonical_json(model)).hexdigest():
                revision = await jira_ops.save_model(jira, issue_key, model, revision)
            assert revision is not None
            job_id = await submit(self.store, jira, site_id=caller.site_id, story_key=issue_key,
                                  project_key=project_of(issue_key), revision=revision, model=model, suite=suite)
        self.ensure_worker()
        status = self.status(job_id, caller.site_id)
        assert status is not None
        return status

    def status(self, job_id: str, site_id: str) -> dict[str, Any] | None:
        self.ensure_worker()
        view = self.store.get(job_id, site_id)
        if view is None:
            return None
        result = None
        if view.state == "done":
            message = done_message(view.story_key, view.done, view.created, view.updated, view.unchanged,
                                   view.obsoleted, view.failed)
            result = {"created": view.created, "updated": view.updated, "unchanged": view.unchanged,
                      "obsoleted": view.obsoleted, "failed": view.failed, "total": view.done}
        elif view.state == "failed":
            why = ERRORS.get(view.error_code or "", view.error_code or "unknown error")
            message = f"Publishing to {view.story_key} failed: {why}" + (
                f" (HTTP {view.error_status})" if view.error_status else "")
        else:
            message = PHASES.get(view.phase, view.phase)
            if view.total and view.phase not in ("queued", "waiting"):
                message += f" ({view.done}/{view.total})"
        return {"id": view.id, "issueKey": view.story_key, "state": view.state, "done": view.done,
                "total": view.total, "message": message, "result": result, "attempts": view.attempts}


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
        return {"id": self.id, "issueKey": self.issue_key, "state": self.state, "done": self.done,
                "total": self.total, "message": self.message, "result": self.result}


class MemoryPublisher:
    MAX_JOBS = 200

    def __init__(self) -> None:
        self.jobs: dict[str, MemoryJob] = {}

    async def start(self, host: Host, caller: Caller, issue_key: str, model: Model, suite: Suite,
                    app_key: str) -> dict[str, Any]:
        running = [j for j in self.jobs.values() if j.site_id == caller.site_id and j.issue_key == issue_key
                   and j.state in ("queued", "running")]
        if running:
            raise ApiError(409, "already-publishing", f"{issue_key} is being published already", job=running[0].id)
        while len(self.jobs) >= self.MAX_JOBS:
            self.jobs.pop(next(iter(self.jobs)))
        job = MemoryJob(secrets.token_urlsafe(12), caller.site_id, issue_key, total=len(suite.tests))
        self.jobs[job.id] = job
        job.task = asyncio.create_task(self._run(host, caller, job, model, suite, app_key))
        return job.as_json()

    def status(self, job_id: str, site_id: str) -> dict[str, Any] | None:
        job = self.jobs.get(job_id)
        return job.as_json() if job is not None and job.site_id == site_id else None

    async def _run(self, host: Host, caller: Caller, job: MemoryJob, model: Model, suite: Suite,
                   app_key: str) -> None:
        from flowcase.jira.client import JiraError
        from flowcase.jira.publish import Progress, PublishError, publish

        def progress(p: Progress) -> None:
            job.done, job.total = p.done, max(p.total, 1)
            job.message = f"{PHASES.get(p.phase, p.phase)} ({p.done}/{p.total})"

        job.state, job.message = "running", "Starting"
        try:
            async with jira_ops.client(host, caller) as jira:
                project = project_of(job.issue_key)
                settings = await jira_ops.publish_settings(jira, app_key, project)
                result = await publish(jira, model, suite, job.issue_key, project, settings, progress)
        except (PublishError, JiraError) as exc:
            job.state, job.message = "failed", str(exc)
            return
        except ApiError as exc:
            job.state, job.message = "failed", exc.message
            return
        job.result = result.as_json()
        job.done = job.total
        job.state = "done" if not result.failed else "failed"
        job.message = done_message(job.issue_key, result.total, result.created, result.updated, result.unchanged,
                                   result.obsoleted, len(result.failed))
