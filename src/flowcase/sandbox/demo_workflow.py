"""Storing the example workflow on the demo story the way the app stores models (``flowcase.jira.storage``)."""

from __future__ import annotations

import importlib

from flowcase.sandbox.demo import WORKFLOW_STORY
from flowcase.sandbox.site import Sandbox


async def store_demo_workflow(sandbox: Sandbox, app_key: str) -> str:
    """Save the checkout example on DEMO-1 through the sandbox REST API; returns a one-line status."""
    try:
        importlib.import_module("flowcase.jira.storage")
    except ImportError:
        return f"Example workflow not stored on {WORKFLOW_STORY}: flowcase.jira.storage is not available yet."
    return f"Example workflow storage for {WORKFLOW_STORY} is not wired yet."
