"""Demo data: project DEMO (company-managed; a fresh site: no "Test" issue type) with a few stories; DEMO-1
gets the example checkout workflow, stored on the issue exactly as the app stores it (``flowcase.jira.storage``),
through the sandbox's own REST API."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import select

from flowcase.sandbox.catalog import create_project
from flowcase.sandbox.issues import create_issue
from flowcase.sandbox.models import Project
from flowcase.sandbox.site import Sandbox

DEMO_PROJECT = ("DEMO", "Demo shop")
WORKFLOW_STORY = "DEMO-1"
STORIES: tuple[tuple[str, str, list[str]], ...] = (
    (
        "Checkout with coupons, address correction and three payment methods",
        "As a signed-in customer I want to check out my cart with a coupon and my preferred payment method, so "
        "that I pay the right amount and get my order.",
        ["checkout", "payments"],
    ),
    (
        "Password reset by email",
        "As a customer who forgot the password I want a reset link by email, valid for 30 minutes.",
        ["account"],
    ),
    (
        "Search products by category and price range",
        "As a shopper I want to filter the catalogue by category and price so that I find products quickly.",
        ["search"],
    ),
    (
        "Export order history as CSV",
        "As a customer I want to download my orders of the last 12 months as a CSV file.",
        ["account", "export"],
    ),
)


def _adf(text: str) -> dict[str, Any]:
    paragraph = {"type": "paragraph", "content": [{"type": "text", "text": text}]}
    return {"type": "doc", "version": 1, "content": [paragraph]}


def load_demo_projects(sandbox: Sandbox) -> bool:
    """Create project DEMO and its stories unless it exists; True when something was created."""
    key, name = DEMO_PROJECT
    with sandbox.session() as s:
        if s.scalar(select(Project).where(Project.key == key)) is not None:
            return False
        create_project(s, key, name, project_id=10000)
        for summary, text, labels in STORIES:
            create_issue(
                s,
                {
                    "fields": {
                        "project": {"key": key},
                        "issuetype": {"name": "Story"},
                        "summary": summary,
                        "description": _adf(text),
                        "labels": labels,
                    }
                },
            )
    return True


def demo_model_json() -> str:
    return (Path(__file__).parent / "demo_checkout.json").read_text(encoding="utf-8")


def demo_model_dict() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(demo_model_json())
    return data
