"""CSV exports: generic (one row per step), Xray Test Case Importer (Cloud) and TestRail's CSV import.

All three are written with the csv module (RFC 4180 quoting, ``\\r\\n`` row ends, cells may span lines) in
UTF-8, optionally with a byte-order mark for spreadsheet programs that need one.

- generic: ``Test ID`` and ``Test Name`` on every row, the test-level columns on its first row only.
- Xray: the importer's multi-row layout: rows sharing ``Issue Id`` (the stable id) form one test, the first
  carries ``Test Summary``, ``Test Type`` is ``Manual``, each row one step (``Action``/``Data``/``Result``).
  Lists (labels, links) use ';' inside a cell, as the importer's list delimiter.
- TestRail: the "multiple rows per test case" layout: a row with a ``Title`` starts a case, the following rows
  add steps (``Steps (Step)`` / ``Steps (Expected Result)``); template "Test Case (Steps)".
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from flowcase.export.common import (
    JIRA_PRIORITY,
    ManualStep,
    action_of,
    data_text,
    folder_of,
    manual_steps,
    requirements_of,
    step_data,
    tool_fields,
    variants_of,
    visible_steps,
)
from flowcase.generate.suite import Suite, TestCase
from flowcase.model.types import Model

BOM = "\ufeff"

GENERIC_COLUMNS = (
    "Test ID",
    "Test Name",
    "Step",
    "Workflow",
    "Node",
    "Decision",
    "Action",
    "Condition",
    "Expected Result",
    "Step Data",
    "Test Data",
    "Objectives",
    "Requirements",
    "Tags",
    "Priority",
    "Risk",
    "End",
)
XRAY_COLUMNS = (
    "Issue Id",
    "Issue key",
    "Test Type",
    "Test Summary",
    "Test Priority",
    "Action",
    "Data",
    "Result",
    "Labels",
    "Description",
    "Test Repo",
    "Links",
)
TESTRAIL_COLUMNS = (
    "Title",
    "Automation ID",
    "Section",
    "Template",
    "Type",
    "Priority",
    "Preconditions",
    "Steps (Step)",
    "Steps (Expected Result)",
    "References",
)


def write(header: Sequence[str], rows: Iterable[Sequence[str]], *, bom: bool = False) -> str:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return (BOM if bom else "") + out.getvalue()


def _variants_text(test: TestCase) -> str:
    rows = variants_of(test)
    if len(rows) <= 1:
        return data_text(rows[0]) if rows else ""
    return "\n".join(f"{i}: {data_text(row, ', ')}" for i, row in enumerate(rows, 1))


def generic(suite: Suite, *, bom: bool = False) -> str:
    rows: list[list[str]] = []
    for test in suite.tests:
        first = [
            _variants_text(test),
            "\n".join(test.objectives),
            "\n".join(requirements_of(test)),
            "\n".join(test.tags),
            test.priority or "",
            test.risk or "",
            test.end_name or test.end,
        ]
        steps = visible_steps(test)
        if not steps:
            rows.append([test.id, test.name, "", "", "", "", "", "", "", "", *first])
        for n, step in enumerate(steps, 1):
            rest = first if n == 1 else [""] * len(first)
            rows.append(
                [
                    test.id,
                    test.name,
                    str(n),
                    step.workflow,
                    step.node,
                    step.decision,
                    action_of(step),
                    step.condition,
                    step.expected,
                    data_text(step_data(step, test.data)),
                    *rest,
                ]
            )
    return write(GENERIC_COLUMNS, rows, bom=bom)


def xray(suite: Suite, model: Model | None = None, *, folder: str | None = None, bom: bool = False) -> str:
    repo = folder_of(suite.model_name or suite.model, folder)
    rows: list[list[str]] = []
    for test in suite.tests:
        about = tool_fields(test)
        head = [about.name, JIRA_PRIORITY[about.priority] if about.priority else ""]
        extra = [";".join(about.labels), about.description, repo, ";".join(about.links)]
        steps: list[ManualStep | None] = [*manual_steps(test)] or [None]
        for n, step in enumerate(steps):
            cells = ["", "", ""] if step is None else [step.action, data_text(step.data), step.expected]
            if n == 0:
                rows.append([test.id, "", "Manual", *head, *cells, *extra])
            else:
                rows.append([test.id, "", "Manual", "", "", *cells, "", "", "", ""])
    return write(XRAY_COLUMNS, rows, bom=bom)


def testrail(suite: Suite, *, section: str | None = None, bom: bool = False) -> str:
    where = section if section is not None else (suite.model_name or suite.model)
    rows: list[list[str]] = []
    for test in suite.tests:
        about = tool_fields(test)
        pre = about.description
        if len(test.variants) > 1:
            pre += "\nRun once for each data variant:\n" + _variants_text(test)
        head = [about.name, test.id, where, "Test Case (Steps)", "Functional", (about.priority or "").capitalize(), pre]
        refs = ", ".join(requirements_of(test))
        steps: list[ManualStep | None] = [*manual_steps(test)] or [None]
        for n, step in enumerate(steps):
            if step is None:
                cells = ["", ""]
            else:
                cells = [step.action + ("\nData: " + data_text(step.data, ", ") if step.data else ""), step.expected]
            rows.append([*head, *cells, refs] if n == 0 else ["", "", "", "", "", "", "", *cells, ""])
    return write(TESTRAIL_COLUMNS, rows, bom=bom)
