"""Gherkin: one Feature per suite, a Scenario per test, a Scenario Outline with Examples for data variants.

Each test's data is a data table on a first ``Given`` step (with ``<placeholders>`` in an outline); every
visible step is a ``When`` (its action) followed by a ``Then`` (its expected result). Tags carry the stable id
(``@id:TC-…``), the requirement keys (bare Jira keys, which Xray links to requirements on import), the test's
tags, priority and risk.
"""

from __future__ import annotations

import re

from flowcase.export.common import (
    ISSUE_KEY,
    action_of,
    columns_of,
    one_line,
    requirements_of,
    scalar_text,
    visible_steps,
    workflow_id,
)
from flowcase.generate.suite import Suite, TestCase
from flowcase.model.types import Model, Scalar

INDENT = "  "


def tag(text: str) -> str:
    """A Gherkin tag: '@' and the text with whitespace and '@' replaced (tags cannot hold them)."""
    return "@" + re.sub(r"[\s@#]+", "_", text.strip())


def cell(text: str) -> str:
    """A table cell: backslash, pipe and newline escaped the way Gherkin reads them."""
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", "\\n")


def table(rows: list[list[str]], indent: str) -> list[str]:
    escaped = [[cell(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in escaped) for i in range(len(escaped[0]))]
    return [indent + "| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |" for row in escaped]


def tags_of(test: TestCase) -> list[str]:
    tags = [tag(f"id:{test.id}")]
    for key in requirements_of(test):
        tags.append(tag(key if ISSUE_KEY.match(key) else f"req:{key}"))
    tags += [tag(t) for t in test.tags if t.strip()]
    if test.priority:
        tags.append(tag(f"priority:{test.priority}"))
    if test.risk:
        tags.append(tag(f"risk:{test.risk}"))
    return list(dict.fromkeys(tags))


def _text(text: str) -> str:
    """Step text: one line; a line that could not start a step is never produced since we add the keyword."""
    return one_line(text) or "-"


_RESERVED = re.compile(
    r"^(Feature|Rule|Background|Scenario Outline|Scenario Template|Scenario|Examples?|Scenarios"
    r"|Given|When|Then|And|But)\b|^[*@#|]|^\"\"\"|^```"
)


def free_text(text: str) -> str:
    """A description line that the parser cannot take for a keyword, tag, comment, table or doc string."""
    line = _text(text)
    return "- " + line if _RESERVED.match(line) else line


def _keyword(previous: str | None, wanted: str) -> str:
    return "And" if previous == wanted else wanted


def scenario(test: TestCase, model: Model | None = None) -> list[str]:
    rows = [dict(v) for v in test.variants]
    outline = len(rows) > 1
    lines = [INDENT + " ".join(tags_of(test))]
    lines.append(INDENT + ("Scenario Outline: " if outline else "Scenario: ") + _text(f"{test.id} {test.name}"))
    for objective in test.objectives:
        lines.append(INDENT * 2 + free_text(f"Objective: {objective}"))
    body: list[str] = []
    previous: str | None = None
    data: dict[str, Scalar] = rows[0] if rows else dict(test.data)
    if data:
        names = columns_of(rows) if outline else list(data)
        body.append(INDENT * 2 + "Given the test data:")
        values = [f"<{n}>" for n in names] if outline else [scalar_text(data[n]) for n in names]
        body += table([names, values], INDENT * 3)
        previous = "Given"
    for step in visible_steps(test):
        where = workflow_id(step.workflow)
        place = f" [{where}]" if model is not None and where != model.main.id else ""
        keyword = _keyword(previous, "When")
        body.append(INDENT * 2 + f"{keyword} {_text(action_of(step))}{place}")
        previous = "When"
        if step.expected:
            keyword = _keyword(previous, "Then")
            body.append(INDENT * 2 + f"{keyword} {_text(step.expected)}")
            previous = "Then"
    ending = test.end_name or test.end
    if ending:
        body.append(INDENT * 2 + f'{_keyword(previous, "Then")} the test ends at "{_text(ending)}"')
    lines += body
    if outline:
        names = columns_of(rows)
        lines.append("")
        lines.append(INDENT * 2 + "Examples:")
        lines += table([names, *[[scalar_text(r[n]) if n in r else "" for n in names] for r in rows]], INDENT * 3)
    return lines


def definition(test: TestCase, model: Model | None = None) -> str:
    """The scenario's steps alone (and its Examples for data variants), left-aligned: what Xray keeps as the
    Gherkin definition of a Cucumber test (the Scenario line is the test's summary, tags are its labels)."""
    lines = scenario(test, model)[2 + len(test.objectives) :]
    return "\n".join(line.removeprefix(INDENT * 2) for line in lines).strip("\n") + "\n"


def render(suite: Suite, model: Model | None = None) -> str:
    """The feature file for the whole suite."""
    name = suite.model_name or (model.label if model else "") or suite.model
    lines = [tag(f"model:{suite.model}"), f"Feature: {_text(name)}"]
    description = model.description if model is not None else ""
    if description:
        lines += [INDENT + free_text(line) for line in description.splitlines() if line.strip()]
    lines.append(INDENT + f"Generated by flowcase ({suite.criterion}, {len(suite.tests)} tests).")
    for test in suite.tests:
        lines.append("")
        lines += scenario(test, model)
    return "\n".join(lines) + "\n"
