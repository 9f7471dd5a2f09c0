"""What every export shares: which steps a reader sees, their wording, data rows, labels and names.

A path step that carries no text at all (a start node, an unnamed ``next``) is routing, not a test step:
:func:`visible_steps` leaves it out. A step without an action is described by its node's name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from flowcase.generate.suite import Suite, TestCase, TestStep
from flowcase.model.expr import ExprError, names, parse_condition
from flowcase.model.types import Level, Scalar

ISSUE_KEY = re.compile(r"^[A-Z][A-Z0-9_]+-[1-9][0-9]*$")
_SPACES = re.compile(r"\s+")
_NOT_WORD = re.compile(r"[^A-Za-z0-9]+")


def one_line(text: str) -> str:
    """The text with every run of whitespace (newlines included) turned into one space."""
    return _SPACES.sub(" ", text).strip()


def visible_steps(test: TestCase) -> list[TestStep]:
    """The steps a tester performs (:meth:`TestCase.test_steps`, the one definition of a step)."""
    return list(test.test_steps())


def action_of(step: TestStep) -> str:
    return step.action or step.name or step.node


def step_ref(step: TestStep) -> str:
    """``workflow/node#decision``: the same reference the suite's coverage items use."""
    return f"{step.workflow}/{step.node}#{step.decision}"


def workflow_id(instance: str) -> str:
    """The workflow of a step's instance: ``fraud>fraud_assessment`` -> ``fraud_assessment``."""
    return instance.rsplit(">", 1)[-1]


def step_key(step: TestStep) -> str:
    """``workflow/node#decision`` by the step's workflow (not its instance): the steps a skeleton writes once."""
    return f"{workflow_id(step.workflow)}/{step.node}#{step.decision}"


def distinct_steps(suite: Suite) -> dict[str, TestStep]:
    """Every distinct visible step of the suite by :func:`step_key`, in the order the tests first take them."""
    steps: dict[str, TestStep] = {}
    for test in suite.tests:
        for step in visible_steps(test):
            steps.setdefault(step_key(step), step)
    return steps


def scalar_text(value: Scalar) -> str:
    """A value as a tester types it: booleans as true/false, numbers without a trailing '.0' only if whole."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def variants_of(test: TestCase) -> list[dict[str, Scalar]]:
    """Every data row of the test: its variants, or its single data row (possibly empty)."""
    return [dict(v) for v in test.variants] if test.variants else [dict(test.data)]


def columns_of(rows: Iterable[Mapping[str, Scalar]]) -> list[str]:
    """Parameter names in first-seen order."""
    return list(dict.fromkeys(name for row in rows for name in row))


def data_text(data: Mapping[str, Scalar], sep: str = "\n") -> str:
    return sep.join(f"{name} = {scalar_text(value)}" for name, value in data.items())


def step_data(step: TestStep, data: Mapping[str, Scalar]) -> dict[str, Scalar]:
    """The test data a step's condition reads (in the order the condition names it)."""
    try:
        read = [n.name for n in names(parse_condition(step.condition))]
    except ExprError:
        return {}
    return {name: data[name] for name in dict.fromkeys(read) if name in data}


JIRA_PRIORITY: dict[Level, str] = {"critical": "Highest", "high": "High", "medium": "Medium", "low": "Low"}


def requirements_of(test: TestCase) -> list[str]:
    """The test's requirement keys and its steps', once each, in order."""
    keys = [*test.requirements, *(r for s in test.steps for r in s.requirements)]
    return list(dict.fromkeys(keys))


def issue_links_of(test: TestCase) -> list[str]:
    """The requirement keys that are Jira issue keys: those a test tool links the test to."""
    return [k for k in requirements_of(test) if ISSUE_KEY.match(k)]


def id_label(test: TestCase) -> str:
    """The Jira label carrying the stable id (labels cannot hold spaces)."""
    return f"flowcase-id:{test.id}"


def labels_of(test: TestCase) -> list[str]:
    """Jira labels: the stable id label, then the test's tags (spaces replaced by '_')."""
    tags = [re.sub(r"\s+", "_", t.strip()) for t in test.tags if t.strip()]
    return list(dict.fromkeys([id_label(test), *tags]))


def folder_of(suite_name: str, folder: str | None) -> str:
    """A test repository folder path without leading or trailing '/': the given one, or the model's name."""
    if folder is not None:
        return "/".join(part.strip() for part in folder.split("/") if part.strip())
    return suite_name.replace("/", "-").strip() or "flowcase"


def slug(text: str, default: str = "x") -> str:
    """Lower-case words joined by '_' (for identifiers and file names)."""
    out = _NOT_WORD.sub("_", text).strip("_").lower()
    return out or default


def unique_names(wanted: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Map keys to their wanted names, suffixing ``_2``, ``_3``... where two keys want the same name."""
    result: dict[str, str] = {}
    taken: set[str] = set()
    for key, name in wanted:
        if key in result:
            continue
        candidate, n = name, 1
        while candidate.lower() in taken:
            n += 1
            candidate = f"{name}_{n}"
        taken.add(candidate.lower())
        result[key] = candidate
    return result


def description_of(test: TestCase) -> str:
    """A plain-text description: objectives, data, end, requirements and the stable id."""
    lines: list[str] = []
    if test.objectives:
        lines.append("Objectives: " + "; ".join(one_line(o) for o in test.objectives))
    if test.data:
        lines.append("Test data: " + data_text(test.data, ", "))
    if len(test.variants) > 1:
        lines.append(f"Data variants: {len(test.variants)}")
    ending = test.end_name or test.end
    if ending:
        lines.append(f"Ends at: {ending}")
    reqs = requirements_of(test)
    if reqs:
        lines.append("Requirements: " + ", ".join(reqs))
    lines.append(f"flowcase id: {test.id}")
    return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class ToolFields:
    """What a test-management tool keeps about a test besides its steps, the same for every tool."""

    name: str  # on one line; the id when the test has no name
    priority: Level | None
    labels: list[str]
    description: str
    links: list[str]  # the requirement keys that are Jira issue keys


def tool_fields(test: TestCase) -> ToolFields:
    return ToolFields(
        one_line(test.name) or test.id, test.priority, labels_of(test), description_of(test), issue_links_of(test)
    )


@dataclass(frozen=True, slots=True)
class ManualStep:
    """A step as a manual test tool shows it: what to do, the data its condition reads, what to expect."""

    action: str
    data: dict[str, Scalar]
    expected: str


def manual_steps(test: TestCase) -> list[ManualStep]:
    return [ManualStep(action_of(s), step_data(s, test.data), s.expected) for s in visible_steps(test)]
