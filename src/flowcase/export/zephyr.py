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

from flowcase.export.common import (
    action_of,
    columns_of,
    data_text,
    description_of,
    folder_of,
    issue_links_of,
    labels_of,
    one_line,
    scalar_text,
    step_data,
    visible_steps,
)
from flowcase.generate.suite import Suite, TestCase
from flowcase.model.types import Level

PRIORITY: dict[Level, str] = {"critical": "High", "high": "High", "medium": "Normal", "low": "Low"}


def body(test: TestCase, *, project: str | None, folder: str | None) -> dict[str, Any]:
    result: dict[str, Any] = {}
    if project:
        result["projectKey"] = project
    result["name"] = one_line(test.name) or test.id
    objective = "; ".join(one_line(o) for o in test.objectives)
    result["objective"] = (objective + "\n" if objective else "") + f"flowcase id: {test.id}"
    result["precondition"] = description_of(test)
    result["status"] = "Draft"
    if test.priority:
        result["priority"] = PRIORITY[test.priority]
    result["labels"] = labels_of(test)
    links = issue_links_of(test)
    if links:
        result["issueLinks"] = links
    if folder is not None and folder_of("", folder):
        result["folder"] = "/" + folder_of("", folder)
    variants = [dict(v) for v in test.variants]
    parametrised = len(variants) > 1
    steps = []
    for step in visible_steps(test):
        data = step_data(step, test.data)
        text = ", ".join(f"{k} = {{{k}}}" for k in data) if parametrised else data_text(data, ", ")
        steps.append({"description": action_of(step), "testData": text, "expectedResult": step.expected})
    if not steps:
        steps = [{"description": result["name"], "testData": "", "expectedResult": ""}]
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
