"""Helpers for the publish-job tests (the fixtures are in conftest.py)."""

from __future__ import annotations

from flowcase.generate.suite import Suite
from flowcase.jira.client import JiraClient
from flowcase.jira.jobs import JobStore, submit
from flowcase.jira.storage import save_model
from flowcase.model.types import Model


async def save_and_submit(
    client: JiraClient, store: JobStore, story: str, model: Model, suite: Suite, *, project: str = "DEMO"
) -> tuple[str, int]:
    """Save ``model`` on ``story`` (a new model there), then record a publish job of ``suite`` for the sandbox's
    site; returns the job id and the model's revision."""
    revision = await save_model(client, story, model, None)
    job = await submit(
        store,
        client,
        site_id="sandbox",
        story_key=story,
        project_key=project,
        revision=revision,
        model=model,
        suite=suite,
    )
    return job, revision
