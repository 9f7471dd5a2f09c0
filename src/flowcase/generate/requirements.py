"""The requirement coverage matrix: for each requirement key, the decisions that carry it, the tests that pass
one of them, and why nothing covers it when nothing does."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from flowcase.generate.graph import flatten
from flowcase.generate.options import GenerationError
from flowcase.generate.suite import Suite
from flowcase.model.types import Model


@dataclass(frozen=True, slots=True)
class RequirementRow:
    key: str
    decisions: tuple[str, ...]  # qualified refs ('instance/node#row') of the decisions linked to the key
    tests: tuple[str, ...]  # ids of the tests that pass one of those decisions
    reason: str | None = None  # why no test covers it (None when covered)

    @property
    def covered(self) -> bool:
        return bool(self.tests)


def requirement_matrix(suite: Suite, model: Model | None = None, expected: Iterable[str] = ()) -> list[RequirementRow]:
    """One row per requirement key (those of the model's decisions, of the suite's steps, and ``expected``)."""
    decisions: dict[str, list[str]] = {}
    if model is not None:
        try:
            graph = flatten(model)
        except GenerationError:
            graph = None
        if graph is not None:
            for edge in graph.decision_edges:
                for key in edge.decision.requirements if edge.decision is not None else ():
                    decisions.setdefault(key, []).append(edge.ref)
    tests: dict[str, list[str]] = {}
    for test in suite.tests:
        for step in test.steps:
            ref = f"{step.workflow}/{step.node}#{step.decision}"
            for key in step.requirements:
                if ref not in decisions.setdefault(key, []):
                    decisions[key].append(ref)
                if test.id not in tests.setdefault(key, []):
                    tests[key].append(test.id)
    for key in expected:
        decisions.setdefault(key, [])
    reasons = {c.ref: c.reason for c in suite.coverage if c.kind == "decision" and not c.covered_by}
    rows = []
    for key in sorted(decisions):
        ids = tuple(sorted(tests.get(key, ())))
        reason = None
        if not ids:
            if not decisions[key]:
                reason = "no decision of the model is linked to it"
            else:
                why = [f"{ref} ({reasons[ref]})" if reasons.get(ref) else ref for ref in decisions[key]]
                reason = "no test passes a decision linked to it: " + "; ".join(why)
        rows.append(RequirementRow(key, tuple(decisions[key]), ids, reason))
    return rows
