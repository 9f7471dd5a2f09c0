"""The Markdown report: summary, diagram (Mermaid, when the model is known), tests, coverage, what is uncovered.

:func:`coverage_summary` and :func:`uncovered` are shared with the HTML report.
"""

from __future__ import annotations

import re

from flowcase.export.common import action_of, columns_of, one_line, requirements_of, scalar_text, visible_steps
from flowcase.generate.suite import CoverageItem, Suite, TestCase
from flowcase.model.types import Model, Workflow

KINDS = ("step", "decision", "pair", "path", "purpose", "requirement")


def coverage_summary(suite: Suite) -> list[tuple[str, int, int]]:
    """(kind, covered, total) for every kind of coverage item the suite reports, in a fixed order."""
    rows = []
    for kind in KINDS:
        items = [c for c in suite.coverage if c.kind == kind]
        if items:
            rows.append((kind, sum(1 for c in items if c.covered_by), len(items)))
    return rows


def uncovered(suite: Suite) -> list[CoverageItem]:
    return [c for c in suite.coverage if not c.covered_by]


def percent(covered: int, total: int) -> str:
    return f"{100 * covered / total:.0f}%" if total else "-"


def headline(suite: Suite) -> list[str]:
    """Facts about the suite, one per line, for both reports."""
    lines = [
        f"Criterion: {suite.criterion}",
        f"Tests: {len(suite.tests)}",
        f"Test steps: {sum(len(visible_steps(t)) for t in suite.tests)}",
    ]
    if suite.lower_bound is not None:
        proof = " (proven minimal)" if suite.optimal else ""
        lines.append(f"Lower bound on the number of tests: {suite.lower_bound}{proof}")
    if suite.options:
        lines.append("Options: " + ", ".join(f"{k} = {scalar_text(v)}" for k, v in sorted(suite.options.items())))
    lines += [f"Note: {one_line(n)}" for n in suite.notes]
    lines.append(f"Model: {suite.model} (sha256 {suite.model_hash[:12]})")
    return lines


def md_cell(text: str) -> str:
    text = one_line(text).replace("\\", "\\\\").replace("|", "\\|")
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") or " "


def _mermaid_id(text: str) -> str:
    return "n_" + re.sub(r"[^A-Za-z0-9_]", "_", text)


def _mermaid_text(text: str) -> str:
    return one_line(text).replace('"', "#quot;") or " "


def mermaid(workflow: Workflow) -> list[str]:
    shapes = {
        "start": ('(("', '"))'),
        "end": ('((("', '")))'),
        "choice": ('{"', '"}'),
        "call": ('[["', '"]]'),
        "step": ('["', '"]'),
    }
    lines = ["```mermaid", "flowchart LR"]
    for node in workflow.nodes:
        left, right = shapes[node.kind]
        lines.append(f"  {_mermaid_id(node.id)}{left}{_mermaid_text(node.label)}{right}")
    for node, row in workflow.edges():
        label = f'|"{_mermaid_text(str(row.id))}"|' if len(node.table) > 1 else ""
        lines.append(f"  {_mermaid_id(node.id)} -->{label} {_mermaid_id(row.next)}")
    lines.append("```")
    return lines


def facts_of(test: TestCase) -> list[str]:
    """Where the test ends, its priority and risk, its requirements: one line each (shared with the HTML report)."""
    facts = [f"Ends at: {test.end_name or test.end}"]
    if test.priority or test.risk:
        facts.append(f"Priority: {test.priority or '-'}, risk: {test.risk or '-'}")
    reqs = requirements_of(test)
    if reqs:
        facts.append("Requirements: " + ", ".join(reqs))
    return facts


def _test_section(test: TestCase) -> list[str]:
    out = [f"### {test.id}: {one_line(test.name)}", ""]
    facts = facts_of(test)
    if test.tags:
        facts.append("Tags: " + ", ".join(test.tags))
    out += [f"- {md_cell(f)}" for f in [*(f"Objective: {o}" for o in test.objectives), *facts]]
    out += ["", "| # | Action | Expected result | Condition |", "|---|---|---|---|"]
    for n, step in enumerate(visible_steps(test), 1):
        out.append(f"| {n} | {md_cell(action_of(step))} | {md_cell(step.expected)} | {md_cell(step.condition)} |")
    rows = [dict(v) for v in test.variants] or ([dict(test.data)] if test.data else [])
    if rows:
        names = columns_of(rows)
        out += ["", "Test data" + (f" ({len(rows)} variants):" if len(rows) > 1 else ":"), ""]
        out.append("| " + " | ".join(md_cell(n) for n in names) + " |")
        out.append("|" + "---|" * len(names))
        out += ["| " + " | ".join(md_cell(scalar_text(r[n])) if n in r else " " for n in names) + " |" for r in rows]
    return [*out, ""]


def markdown(suite: Suite, model: Model | None = None) -> str:
    title = suite.model_name or (model.label if model else "") or suite.model
    out = [f"# Test report: {md_cell(title)}", ""]
    out += [f"- {md_cell(line)}" for line in headline(suite)]
    out.append("")
    if model is not None:
        out += ["## Diagram", ""]
        for workflow in model.workflows:
            out += [f"### {md_cell(workflow.label)}", "", *mermaid(workflow), ""]
    out += ["## Tests", "", "| Id | Name | Steps | Ends at | Priority |", "|---|---|---|---|---|"]
    for test in suite.tests:
        out.append(
            f"| {test.id} | {md_cell(test.name)} | {len(visible_steps(test))} | "
            f"{md_cell(test.end_name or test.end)} | {test.priority or ''} |"
        )
    out.append("")
    for test in suite.tests:
        out += _test_section(test)
    out += ["## Coverage", "", "| Kind | Covered | Total | % |", "|---|---|---|---|"]
    out += [f"| {kind} | {c} | {t} | {percent(c, t)} |" for kind, c, t in coverage_summary(suite)]
    out += ["", "## Not covered", ""]
    missing = uncovered(suite)
    if not missing:
        out.append("Everything the criterion asks for is covered.")
    else:
        out += ["| Kind | Item | Reason |", "|---|---|---|"]
        out += [f"| {c.kind} | {md_cell(c.ref)} | {md_cell(c.reason or 'not covered')} |" for c in missing]
    return "\n".join(out).rstrip("\n") + "\n"
