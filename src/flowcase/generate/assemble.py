"""Turning walks into test cases: steps, stable ids, readable names, data, and the final feasibility check."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

from flowcase.generate.graph import FlatGraph
from flowcase.generate.suite import TestCase, TestStep
from flowcase.model.expr import EvalError, Value, evaluate, parse_assignments, parse_condition
from flowcase.model.types import LEVELS, Level, Model, Scalar

MAX_NAME = 100


def model_hash(model: Model) -> str:
    text = json.dumps(model.to_data(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def path_key(graph: FlatGraph, walk: Sequence[int]) -> str:
    """The identity of a test: its decisions (qualified) and the end reached."""
    refs = [graph.edges[e].ref for e in walk if not graph.edges[e].synthetic]
    end = graph.edges[walk[-1]].src if walk else graph.source
    end_node = graph.main_ends.get(end)
    refs.append("end:" + (end_node.id if end_node else "?"))
    return "\n".join(refs)


def test_id(key: str, length: int = 8) -> str:
    return "TC-" + hashlib.sha256(key.encode()).hexdigest()[:length]


def _max_level(levels: list[Level | None]) -> Level | None:
    present = [lv for lv in levels if lv is not None]
    return max(present, key=LEVELS.index) if present else None


def build_test(
    graph: FlatGraph, walk: Sequence[int], data: dict[str, Scalar], variants: tuple[dict[str, Scalar], ...]
) -> TestCase:
    steps: list[TestStep] = []
    objectives: list[str] = []
    requirements: list[str] = []
    tags: set[str] = set()
    priorities: list[Level | None] = []
    risks: list[Level | None] = []
    for e in walk:
        edge = graph.edges[e]
        if edge.node is None or edge.decision is None:
            continue
        d = edge.decision
        steps.append(
            TestStep(
                workflow=edge.instance, node=edge.node.id, decision=d.id or "", name=edge.node.label,
                action=d.action, expected=d.expected, condition=d.when, objective=d.objective,
                requirements=d.requirements,
            )
        )
        if d.objective and d.objective not in objectives:
            objectives.append(d.objective)
        requirements += [r for r in d.requirements if r not in requirements]
        tags.update(d.tags)
        priorities.append(d.priority)
        risks.append(d.risk)
    end_vertex = graph.edges[walk[-1]].src
    end = graph.main_ends[end_vertex]
    return TestCase(
        id=test_id(path_key(graph, walk)), name=_name(graph, walk, objectives, end.label), steps=tuple(steps),
        end=end.id, end_name=end.name, data=data, variants=variants, objectives=tuple(objectives),
        requirements=tuple(requirements), tags=tuple(sorted(tags)), priority=_max_level(priorities),
        risk=_max_level(risks),
    )


def key_decisions(graph: FlatGraph, walk: Sequence[int]) -> list[str]:
    """The choices made where a table has more than one row, as 'node: condition' labels."""
    keys: dict[str, None] = {}  # ordered, with constant-time membership (walks can be very long)
    for e in walk:
        edge = graph.edges[e]
        if edge.node is None or edge.decision is None or len(edge.node.table) < 2:
            continue
        d = edge.decision
        # the condition or a named row id says which branch in a few words; the action is a sentence, the fallback
        named = d.id if d.id and not d.id.isdigit() else None
        label = f"{edge.node.label}: {d.when or named or d.action or d.id}"
        keys.setdefault(label, None)
    return list(keys)


def _short(name: str) -> str:
    return name if len(name) <= MAX_NAME else name[: MAX_NAME - 1].rstrip() + "…"


def _name(graph: FlatGraph, walk: Sequence[int], objectives: list[str], end_label: str) -> str:
    if objectives:
        return _short("; ".join(objectives))
    keys = key_decisions(graph, walk)
    return _short(f"{end_label} via {', '.join(keys)}" if keys else end_label)


def unique_names(tests: list[TestCase], walks: Sequence[Sequence[int]] | None = None,
                 graph: FlatGraph | None = None) -> list[TestCase]:
    """Make names unique: first by adding the key decisions, then a counter."""
    counts: dict[str, int] = {}
    for t in tests:
        counts[t.name] = counts.get(t.name, 0) + 1
    named = []
    for i, t in enumerate(tests):
        if counts[t.name] > 1 and walks is not None and graph is not None and t.objectives:
            keys = key_decisions(graph, walks[i])
            if keys:
                t = t.model_copy(update={"name": _short(f"{t.name} ({', '.join(keys)})")})
        named.append(t)
    seen: dict[str, int] = {}
    out = []
    for t in named:
        count = seen.get(t.name, 0) + 1
        seen[t.name] = count
        out.append(t if count == 1 else t.model_copy(update={"name": f"{t.name} ({count})"}))
    return out


def unique_ids(tests: list[TestCase], keys: list[str]) -> list[TestCase]:
    """Lengthen ids in the (unlikely) case two paths hash to the same short id."""
    ids = [t.id for t in tests]
    length = 8
    while len(set(ids)) < len(ids) and length < 64:
        length += 4
        ids = [test_id(k, length) for k in keys]
    return [t if t.id == i else t.model_copy(update={"id": i}) for t, i in zip(tests, ids, strict=True)]


def check_feasible(model: Model, graph: FlatGraph, walk: Sequence[int], data: dict[str, Scalar]) -> str | None:
    """Re-simulate a test with concrete data; the reason it fails, or None when every condition holds."""
    env: dict[str, Value] = dict(data)
    env.update(model.initial_state)
    if not walk or graph.edges[walk[-1]].dst != graph.sink:
        return "the path does not reach an end of the main workflow"
    here = graph.source
    for e in walk:
        edge = graph.edges[e]
        if edge.src != here:
            return f"step {edge.ref or e} does not continue the path"
        here = edge.dst
        if edge.decision is None:
            continue
        try:
            if evaluate(parse_condition(edge.decision.when), env) is not True:
                return f"condition of {edge.ref} does not hold"
            after = dict(env)
            for a in parse_assignments(edge.decision.set):
                value = evaluate(a.expr, env)
                if isinstance(value, tuple):
                    return f"assignment of {edge.ref} gives a list"
                after[a.target] = value
            env = after
        except EvalError as exc:
            return f"{edge.ref}: {exc}"
    return None
