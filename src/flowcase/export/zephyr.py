"""Zephyr Scale test cases as JSON: a list of bodies for ``POST /rest/atm/1.0/testcase``.

Each body has ``projectKey`` (when known), ``name``, ``objective``, ``precondition``, ``status`` Draft,
``priority`` (High / Normal / Low), ``labels`` (with the stable id), ``issueLinks`` (requirement keys), an
optional ``folder`` and a ``testScript`` of type STEP_BY_STEP whose steps have ``description``, ``testData``
and ``expectedResult``. A test with data variants gets Zephyr ``parameters`` (one FREE_TEXT variable per
parameter, one entry per variant) and its steps refer to them as ``{name}``.
"""

from __future__ import annotations

import json
from typing import Any

from flowcase.export.common import columns_of, data_text, folder_of, manual_steps, one_line, scalar_text, tool_fields
from flowcase.generate.suite import Suite, TestCase
from flowcase.model.types import Level

PRIORITY: dict[Level, str] = {"critical": "High", "high": "High", "medium": "Normal", "low": "Low"}


def body(test: TestCase, *, project: str | None, folder: str | None) -> dict[str, Any]:
    about = tool_fields(test)
    result: dict[str, Any] = {}
    if project:
        result["projectKey"] = project
    result["name"] = about.name
    objective = "; ".join(one_line(o) for o in test.objectives)
    result["objective"] = (objective + "\n" if objective else "") + f"flowcase id: {test.id}"
    result["precondition"] = about.description
    result["status"] = "Draft"
    if about.priority:
        result["priority"] = PRIORITY[about.priority]
    result["labels"] = about.labels
    if about.links:
        result["issueLinks"] = about.links
    if folder is not None and folder_of("", folder):
        result["folder"] = "/" + folder_of("", folder)
    variants = [dict(v) for v in test.variants]
    parametrised = len(variants) > 1
    steps = []
    for step in manual_steps(test):
        text = ", ".join(f"{k} = {{{k}}}" for k in step.data) if parametrised else data_text(step.data, ", ")
        steps.append({"description": step.action, "testData": text, "expectedResult": step.expected})
    if not steps:
        steps = [{"description": about.name, "testData": "", "expectedResult": ""}]
    result["testScript"] = {"type": "STEP_BY_STEP", "steps": steps}
    if parametrised:
        names = columns_of(variants)
        result["parameters"] = {
            "variables": [{"name": n, "type": "FREE_TEXT"} for n in names],
            "entries": [{n: scalar_text(v[n]) if n in v else "" for n in names} for v in variants],
        }
    return result


def render(suite: Suite, *, project: str | None = None, folder: str | None = None) -> str:
    cases = [body(t, project=project, folder=folder) for t in suite.tests]
    return json.dumps(cases, indent=2, ensure_ascii=False) + "\n"
