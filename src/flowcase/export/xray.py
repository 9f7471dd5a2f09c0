"""Xray Cloud's "import tests in bulk" JSON (``POST /api/v2/import/test/bulk``): one Manual test per test.

Each entry has ``testtype`` Manual, the Jira ``fields`` (summary, project when known, labels carrying the stable
id, a plain-text description, priority), ``steps`` with ``action``/``data``/``result``, the
``xray_test_repository_folder`` and, in ``update.issuelinks``, a "Tests" link to every requirement key.
"""

from __future__ import annotations

import json
from typing import Any

from flowcase.export.common import JIRA_PRIORITY, data_text, folder_of, manual_steps, tool_fields
from flowcase.generate.suite import Suite, TestCase

SUMMARY_LIMIT = 255
LINK_TYPE = "Tests"


def summary(test: TestCase) -> str:
    text = tool_fields(test).name
    return text if len(text) <= SUMMARY_LIMIT else text[: SUMMARY_LIMIT - 1] + "\u2026"


def entry(test: TestCase, *, project: str | None, folder: str) -> dict[str, Any]:
    about = tool_fields(test)
    fields: dict[str, Any] = {"summary": summary(test)}
    if project:
        fields["project"] = {"key": project}
    fields["labels"] = about.labels
    fields["description"] = about.description
    if about.priority:
        fields["priority"] = {"name": JIRA_PRIORITY[about.priority]}
    steps = [{"action": s.action, "data": data_text(s.data), "result": s.expected} for s in manual_steps(test)]
    if not steps:
        steps = [{"action": summary(test), "data": "", "result": ""}]
    result: dict[str, Any] = {
        "testtype": "Manual",
        "fields": fields,
        "steps": steps,
        "xray_test_repository_folder": folder,
    }
    if about.links:
        result["update"] = {
            "issuelinks": [{"add": {"type": {"name": LINK_TYPE}, "outwardIssue": {"key": k}}} for k in about.links]
        }
    return result


def render(suite: Suite, *, project: str | None = None, folder: str | None = None) -> str:
    where = folder_of(suite.model_name or suite.model, folder)
    tests = [entry(t, project=project, folder=where) for t in suite.tests]
    return json.dumps(tests, indent=2, ensure_ascii=False) + "\n"
