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


# --- storage, publish, settings: filled in against flowcase.jira as it lands -----------------------------------

def _missing(what: str) -> ApiError:
    return ApiError(501, "not-available", f"{what} is not available in this build")


async def load_model(jira: JiraClient, issue_key: str) -> tuple[Model, int] | None:
    raise _missing("loading a model from Jira")


async def save_model(jira: JiraClient, issue_key: str, model: Model, revision: int | None) -> int:
    raise _missing("saving a model to Jira")


async def published_summary(jira: JiraClient, issue_key: str) -> dict[str, Any] | None:
    return None


async def diff(jira: JiraClient, issue_key: str, model: Model, suite: Suite) -> dict[str, Any]:
    raise _missing("comparing with the published tests")


def start_publish(app: Starlette, host: Host, caller: Caller, issue_key: str, model: Model,
                  suite: Suite) -> PublishJob:
    raise _missing("publishing")


async def project_workflows(jira: JiraClient, project_key: str) -> list[dict[str, Any]]:
    raise _missing("listing the project's workflows")


async def load_settings(jira: JiraClient) -> dict[str, Any]:
    raise _missing("reading settings")


async def save_settings(jira: JiraClient, values: dict[str, Any]) -> dict[str, Any]:
    raise _missing("saving settings")


_ = secrets
