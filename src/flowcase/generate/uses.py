"""Which parameters a test uses: those read by the conditions and assignments of the decisions on its path.

The tests view and the published lineage show a test's data limited to these, so that a tester reads only the
values that matter to that path (a parameter no decision on the path reads cannot change what the test does).
"""

from __future__ import annotations

from flowcase.generate.suite import TestCase
from flowcase.model.expr import ExprError, names, parse_assignments, parse_condition
from flowcase.model.types import Decision, Model


def _decisions(model: Model) -> dict[tuple[str, str, str], Decision]:
    out: dict[tuple[str, str, str], Decision] = {}
    for workflow in model.workflows:
        for node in workflow.nodes:
            for d in node.table:
                out[(workflow.id, node.id, d.id or "")] = d
    return out


def _read(decision: Decision) -> set[str]:
    read: set[str] = set()
    try:
        read.update(n.name for n in names(parse_condition(decision.when)))
        for assignment in parse_assignments(decision.set):
            read.update(n.name for n in names(assignment.expr))
    except ExprError:  # an invalid cell reads nothing (validation reports it)
        pass
    return read


def parameters_used(model: Model, tests: tuple[TestCase, ...] | list[TestCase]) -> dict[str, list[str]]:
    """For each test id, the parameters its path reads, in the model's parameter order."""
    table = _decisions(model)
    order = [p.name for p in model.parameters]
    cache: dict[tuple[str, str, str], set[str]] = {}
    out: dict[str, list[str]] = {}
    for test in tests:
        read: set[str] = set()
        for step in test.steps:
            key = (step.workflow.rsplit(">", 1)[-1], step.node, step.decision)
            if key not in cache:
                decision = table.get(key)
                cache[key] = _read(decision) if decision is not None else set()
            read |= cache[key]
        out[test.id] = [name for name in order if name in read]
    return out


__all__ = ["parameters_used"]
