"""The web app's calls into the Jira layer (``flowcase.jira``): storage, publish, settings, project search.

One place adapts the Jira layer's functions to what the API returns, and turns Jira failures into clear
JSON errors (a Jira outage is a 502 with Jira's message, a revision conflict a 409).
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette

from flowcase.generate.suite import Suite
from flowcase.hosts.base import Caller, Host
from flowcase.model.types import Model
from flowcase.web.errors import ApiError

if TYPE_CHECKING:
    from flowcase.jira.client import JiraClient


@asynccontextmanager
async def client(host: Host, caller: Caller) -> AsyncIterator[JiraClient]:
    """The caller's Jira client, closed afterwards; Jira errors become :class:`ApiError`."""
    from flowcase.jira.client import JiraError

    jira = host.jira(caller)
    try:
        yield jira
    except JiraError as exc:
        raise jira_error(exc) from None
    finally:
        await jira.close()


def jira_error(exc: Any) -> ApiError:
    status = int(getattr(exc, "status", 0) or 0)
    messages = getattr(exc, "messages", None) or [str(exc)]
    text = "; ".join(str(m) for m in messages)[:500]
    if status == 404:
        return ApiError(404, "jira-not-found", f"Jira: {text}")
    if status in (401, 403):
        return ApiError(403, "jira-forbidden", f"Jira refused: {text}")
    return ApiError(502, "jira-error", f"Jira failed ({status or 'no answer'}): {text}")


# --- publish jobs: progress kept in memory (ids and counts only) ---------------------------------------------

@dataclass
class PublishJob:
    id: str
    site_id: str
    issue_key: str
    state: str = "queued"  # queued | running | done | failed
    done: int = 0
    total: int = 0
    message: str = ""
    result: dict[str, Any] | None = None
    started: float = field(default_factory=time.time)
    task: asyncio.Task[None] | None = field(default=None, repr=False)

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "issueKey": self.issue_key, "state": self.state, "done": self.done,
                "total": self.total, "message": self.message, "result": self.result}


MAX_JOBS = 200


def _jobs(app: Starlette) -> dict[str, PublishJob]:
    jobs: dict[str, PublishJob] | None = getattr(app.state, "publish_jobs", None)
    if jobs is None:
        jobs = {}
        app.state.publish_jobs = jobs
    return jobs


def find_job(app: Starlette, job_id: str, site_id: str) -> PublishJob | None:
    job = _jobs(app).get(job_id)
    return job if job is not None and job.site_id == site_id else None


# --- the model on the issue ---------------------------------------------------------------------------------

async def load_model(jira: JiraClient, issue_key: str) -> tuple[Model, int] | None:
    from flowcase.jira.storage import StorageError
    from flowcase.jira.storage import load_model as load

    try:
        stored = await load(jira, issue_key)
    except StorageError as exc:
        raise ApiError(502, "storage-error", f"the workflow stored on {issue_key} cannot be read: {exc}") from None
    return None if stored is None else (stored.model, stored.revision)


async def save_model(jira: JiraClient, issue_key: str, model: Model, revision: int | None) -> int:
    from flowcase.jira.storage import ConflictError
    from flowcase.jira.storage import save_model as save

    try:
        return await save(jira, issue_key, model, revision)
    except ConflictError as exc:
        raise ApiError(409, "conflict", str(exc), revision=exc.actual) from None


async def published_summary(jira: JiraClient, issue_key: str) -> dict[str, Any] | None:
    from flowcase.jira.storage import read_summary

    summary = await read_summary(jira, issue_key)
    if not summary:
        return None
    return {"status": summary.get("status"), "at": summary.get("lastPublish"), "tests": summary.get("testCount"),
            "coverage": summary.get("coverage"), "revision": summary.get("revision")}


# --- diff and publish -----------------------------------------------------------------------------------------

def _project_of(issue_key: str) -> str:
    return issue_key.rsplit("-", 1)[0]


async def publish_settings(jira: JiraClient, app_key: str, project_key: str) -> Any:
    from flowcase.jira.settings_store import SettingsError, load_settings

    try:
        return await load_settings(jira, app_key=app_key, project_key=project_key)
    except SettingsError as exc:
        raise ApiError(422, "bad-settings", str(exc)) from None


async def diff(jira: JiraClient, issue_key: str, model: Model, suite: Suite, app_key: str) -> dict[str, Any]:
    """What publishing would do, without doing it: the published test issues compared with the new suite."""
    from flowcase.jira.publish import OBSOLETE_LABEL, find_existing, plan

    project = _project_of(issue_key)
    settings = await publish_settings(jira, app_key, project)
    existing, _ = await find_existing(jira, project, issue_key, model.id)
    planned = plan(model, suite, project, settings)
    names = {t.id: t.name for t in suite.tests}
    out: dict[str, list[dict[str, str]]] = {"unchanged": [], "updated": [], "new": [], "obsolete": []}
    for p in planned:
        have = existing.get(p.test_id)
        row = {"id": p.test_id, "name": names.get(p.test_id, ""), "key": have.key if have else ""}
        if have is None:
            out["new"].append(row)
        elif have.hash == p.hash and OBSOLETE_LABEL not in have.labels:
            out["unchanged"].append(row)
        else:
            out["updated"].append(row)
    wanted = {p.test_id for p in planned}
    for test_id, have in sorted(existing.items()):
        if test_id not in wanted and OBSOLETE_LABEL not in have.labels:
            out["obsolete"].append({"id": test_id, "name": "", "key": have.key})
    return out


PHASES = {"search": "Looking for published tests", "update": "Updating changed tests", "create": "Creating new tests",
          "link": "Linking tests to the story", "obsolete": "Marking obsolete tests", "done": "Done"}


def start_publish(app: Starlette, host: Host, caller: Caller, issue_key: str, model: Model,
                  suite: Suite) -> PublishJob:
    """Start publishing in the background; the caller polls :func:`find_job` for progress."""
    jobs = _jobs(app)
    running = [j for j in jobs.values() if j.site_id == caller.site_id and j.issue_key == issue_key
               and j.state in ("queued", "running")]
    if running:
        raise ApiError(409, "already-publishing", f"{issue_key} is being published already", job=running[0].id)
    while len(jobs) >= MAX_JOBS:
        jobs.pop(next(iter(jobs)))
    job = PublishJob(id=secrets.token_urlsafe(12), site_id=caller.site_id, issue_key=issue_key,
                     total=len(suite.tests), message="Queued")
    jobs[job.id] = job
    job.task = asyncio.create_task(_run_publish(app, host, caller, job, model, suite))
    return job


async def _run_publish(app: Starlette, host: Host, caller: Caller, job: PublishJob, model: Model,
                       suite: Suite) -> None:
    from flowcase.jira.client import JiraError
    from flowcase.jira.publish import Progress, PublishError, publish

    def progress(p: Progress) -> None:
        job.done, job.total = p.done, max(p.total, 1)
        job.message = f"{PHASES.get(p.phase, p.phase)} ({p.done}/{p.total})"

    job.state, job.message = "running", "Starting"
    try:
        async with client(host, caller) as jira:
            project = _project_of(job.issue_key)
            settings = await publish_settings(jira, app.state.settings.app_key, project)
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
    parts = [f"{result.created} created", f"{result.updated} updated", f"{result.unchanged} unchanged"]
    if result.obsoleted:
        parts.append(f"{result.obsoleted} obsolete")
    if result.failed:
        parts.append(f"{len(result.failed)} refused by Jira")
    job.message = f"Published {result.total} tests to {job.issue_key}: " + ", ".join(parts)


# --- project page and settings --------------------------------------------------------------------------------

async def project_workflows(jira: JiraClient, project_key: str) -> list[dict[str, Any]]:
    from flowcase.jira.storage import SUMMARY_KEY

    jql = f'project = "{project_key}" AND issue.property[{SUMMARY_KEY}].model IS NOT EMPTY ORDER BY key ASC'
    rows = []
    async for issue in jira.search(jql, fields=("summary",), properties=(SUMMARY_KEY,)):
        summary = (issue.get("properties") or {}).get(SUMMARY_KEY) or {}
        rows.append({
            "issueKey": issue.get("key"), "summary": (issue.get("fields") or {}).get("summary", ""),
            "model": summary.get("model"), "name": summary.get("name"), "steps": summary.get("steps"),
            "tests": summary.get("testCount"), "coverage": summary.get("coverage"), "status": summary.get("status"),
            "updated": summary.get("updatedAt"), "revision": summary.get("revision"),
        })
        if len(rows) >= 500:
            break
    return rows


async def load_settings(jira: JiraClient, app_key: str, project_key: str | None) -> dict[str, Any]:
    settings = await publish_settings(jira, app_key, project_key or "")
    data: dict[str, Any] = settings.model_dump(mode="json")
    return data


async def save_settings(jira: JiraClient, values: dict[str, Any], app_key: str, project_key: str | None
                        ) -> dict[str, Any]:
    from flowcase.jira.settings_store import SettingsError
    from flowcase.jira.settings_store import save_settings as save

    try:
        saved = await save(jira, values, app_key=app_key, project_key=project_key)
    except SettingsError as exc:
        raise ApiError(422, "bad-settings", str(exc)) from None
    data: dict[str, Any] = saved.model_dump(mode="json")
    return data
