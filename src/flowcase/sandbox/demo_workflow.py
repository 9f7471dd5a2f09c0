"""Storing the example workflow on the demo story exactly as the app stores models: through
``flowcase.jira.storage.save_model`` over the sandbox's own REST API (in-process, as the demo user)."""

from __future__ import annotations

import httpx

from flowcase.sandbox.app import SandboxApp
from flowcase.sandbox.demo import WORKFLOW_STORY, demo_model_json


async def store_demo_workflow(app: SandboxApp) -> str:
    """Save the checkout example on DEMO-1 unless a model is already there; returns a one-line status."""
    try:
        from flowcase.jira.client import JiraClient, JiraError
        from flowcase.jira.storage import ConflictError, StorageError, load_model, save_model
    except ImportError:
        return f"Example workflow not stored on {WORKFLOW_STORY}: flowcase.jira.storage is not available."
    from flowcase.model.io import loads

    sandbox = app.sandbox
    model = loads(demo_model_json(), "json", "demo_checkout.json").model
    auth = httpx.BasicAuth(sandbox.config.user_email, sandbox.config.api_token)
    transport = httpx.ASGITransport(app=app)
    async with JiraClient(sandbox.base_url, auth, transport=transport, max_retries=2) as client:
        try:
            existing = await load_model(client, WORKFLOW_STORY)
            if existing is not None:
                return f"Example workflow already on {WORKFLOW_STORY} (revision {existing.revision})."
            revision = await save_model(client, WORKFLOW_STORY, model, None)
        except (JiraError, StorageError, ConflictError) as exc:
            return f"Example workflow not stored on {WORKFLOW_STORY}: {exc}"
    return f"Stored the example workflow '{model.label}' on {WORKFLOW_STORY} (revision {revision})."


async def set_up_demo_project(app: SandboxApp) -> list[str]:
    """Run flowcase's admin setup on the fresh demo site (project DEMO), as a Jira admin would from the admin page
    or ``flowcase jira setup``: it creates the "Test" issue type and link type. Returns what was done, one line
    each (nothing on a site that is set up already)."""
    from flowcase.jira.client import JiraClient, JiraError
    from flowcase.jira.preflight import setup
    from flowcase.jira.settings_store import load_settings
    from flowcase.sandbox.demo import DEMO_PROJECT

    sandbox = app.sandbox
    project = DEMO_PROJECT[0]
    auth = httpx.BasicAuth(sandbox.config.user_email, sandbox.config.api_token)
    transport = httpx.ASGITransport(app=app)
    async with JiraClient(sandbox.base_url, auth, transport=transport, max_retries=2) as client:
        try:
            done = await setup(client, project, await load_settings(client, project_key=project))
        except JiraError as exc:
            return [f"flowcase setup of {project} failed: {exc}"]
    lines = [
        f"flowcase setup of {project} (what the admin page's 'Create what is missing' does): {a}" for a in done.actions
    ]
    lines.append(done.readiness.summary().splitlines()[0])
    return lines
