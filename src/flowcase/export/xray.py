"""Xray Cloud's "import tests in bulk" JSON (``POST /api/v2/import/test/bulk``): one Manual test per test.

Each entry has ``testtype`` Manual, the Jira ``fields`` (summary, project when known, labels carrying the stable
id, a plain-text description, priority), ``steps`` with ``action``/``data``/``result``, the
``xray_test_repository_folder`` and, in ``update.issuelinks``, a "Tests" link to every requirement key.
"""

from __future__ import annotations

import json
from typing import Any

from flowcase.export.common import (
    JIRA_PRIORITY,
    action_of,
    data_text,
    description_of,
    folder_of,
    issue_links_of,
    labels_of,
    one_line,
    step_data,
    visible_steps,
)
from flowcase.generate.suite import Suite, TestCase

SUMMARY_LIMIT = 255
LINK_TYPE = "Tests"


def summary(test: TestCase) -> str:
    text = one_line(test.name) or test.id
    return text if len(text) <= SUMMARY_LIMIT else text[: SUMMARY_LIMIT - 1] + "\u2026"


def entry(test: TestCase, *, project: str | None, folder: str) -> dict[str, Any]:
    fields: dict[str, Any] = {"summary": summary(test)}
    if project:
        fields["project"] = {"key": project}
    fields["labels"] = labels_of(test)
    fields["description"] = description_of(test)
    if test.priority:
        fields["priority"] = {"name": JIRA_PRIORITY[test.priority]}
    steps = [
        {"action": action_of(s), "data": data_text(step_data(s, test.data)), "result": s.expected}
        for s in visible_steps(test)
    ]
    if not steps:
        steps = [{"action": summary(test), "data": "", "result": ""}]
    result: dict[str, Any] = {
        "testtype": "Manual",
        "fields": fields,
        "steps": steps,
        "xray_test_repository_folder": folder,
    }
    links = issue_links_of(test)
    if links:
        result["update"] = {
            "issuelinks": [{"add": {"type": {"name": LINK_TYPE}, "outwardIssue": {"key": k}}} for k in links]
        }
    return result


def render(suite: Suite, *, project: str | None = None, folder: str | None = None) -> str:
    where = folder_of(suite.model_name or suite.model, folder)
    tests = [entry(t, project=project, folder=where) for t in suite.tests]
    return json.dumps(tests, indent=2, ensure_ascii=False) + "\n"
