"""Turning walks into test cases: steps, stable ids, readable names, data, and the final feasibility check."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from flowcase.generate.graph import FlatGraph
from flowcase.generate.suite import TestCase, TestStep
from flowcase.model.expr import EvalError, Value, evaluate, parse_assignments, parse_condition
from flowcase.model.naming import humanize, is_generated_id
from flowcase.model.types import LEVELS, Level, Model, Node, Scalar


def model_hash(model: Model) -> str:
    text = json.dumps(model.to_data(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def path_key(graph: FlatGraph, walk: Sequence[int]) -> str:
    """The identity of a test: its decisions (qualified) and the end reached."""
    edges = graph.edges
    refs = [edges[e].ref for e in walk if edges[e].decision is not None]  # (not synthetic)
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
    graph: FlatGraph,
    walk: Sequence[int],
    data: dict[str, Scalar],
    variants: tuple[dict[str, Scalar], ...],
    key: str | None = None,
) -> TestCase:
    """The test case of ``walk``; ``key`` is the walk's :func:`path_key` when the caller has it already."""
    steps: list[TestStep] = []
    objectives: dict[str, None] = {}  # ordered sets: walks can be very long (constant-time membership)
    phrases: list[str] = []  # the objectives as the name reads them
    requirements: dict[str, None] = {}
    tags: set[str] = set()
    priorities: list[Level | None] = []
    risks: list[Level | None] = []
    made: dict[int, TestStep] = {}  # steps are immutable: a decision the walk passes again is the same step
    for e in walk:
        edge = graph.edges[e]
        if edge.node is None or edge.decision is None:
            continue
        d = edge.decision
        step = made.get(e)
        if step is None:
            step = made[e] = TestStep.trusted(  # every value comes from the validated model, of its type already
                workflow=edge.instance,
                node=edge.node.id,
                decision=d.id or "",
                name=edge.node.label,
                action=d.action,
                expected=d.expected,
                condition=d.when,
                objective=d.objective,
                requirements=d.requirements,
            )
        steps.append(step)
        if d.objective and d.objective not in objectives:
            objectives[d.objective] = None
            phrases.append(objective_phrase(edge.node, d.objective))
        requirements.update(dict.fromkeys(d.requirements))
        tags.update(d.tags)
        priorities.append(d.priority)
        risks.append(d.risk)
    end_vertex = graph.edges[walk[-1]].src
    end = graph.main_ends[end_vertex]
    return TestCase(
        id=test_id(path_key(graph, walk) if key is None else key),
        name=_name(graph.model, steps, phrases, end.label),
        steps=tuple(steps),
        end=end.id,
        end_name=end.name,
        data=data,
        variants=variants,
        objectives=tuple(objectives),
        requirements=tuple(requirements),
        tags=tuple(sorted(tags)),
        priority=_max_level(priorities),
        risk=_max_level(risks),
    )


#: Jira's summary holds 255 characters; names stay well under it and are cut at a word boundary.
MAX_NAME = 200


@dataclass(frozen=True, slots=True)
class Choice:
    """A choice a test makes where a table has several rows, in a tester's words (never a raw condition)."""

    phrase: str
    main: bool  # the table's first row: the way a step goes unless the test asks otherwise


def choices(model: Model, steps: Sequence[TestStep]) -> list[Choice]:
    """The test's choices, in path order, once each: ``Node: row name``, or ``Node -> next node`` for unnamed rows."""
    return list(iter_choices(model, steps))


def iter_choices(model: Model, steps: Sequence[TestStep]) -> Iterator[Choice]:
    """:func:`choices` one at a time, so that a caller needing only the first few stops early (walks can be very
    long). A step seen before (same workflow, node and row) gives the same choice, so it is looked up once."""
    seen: set[tuple[str, str, str]] = set()
    out: set[Choice] = set()
    for step in steps:
        key = (step.workflow, step.node, step.decision)
        if key in seen:
            continue
        seen.add(key)
        choice = _choice(model, step)
        if choice is not None and choice not in out:
            out.add(choice)
            yield choice


def _choice(model: Model, step: TestStep) -> Choice | None:
    workflow = model.workflows_by_id.get(step.workflow.rsplit(">", 1)[-1])
    node = workflow.by_id.get(step.node) if workflow else None
    if workflow is None or node is None or len(node.table) < 2:
        return None
    index = next((i for i, d in enumerate(node.table) if (d.id or "") == step.decision), None)
    if index is None:
        return None
    row = node.table[index]
    label = "" if is_generated_id(node.label) else node.label
    if row.id and not is_generated_id(row.id):
        phrase = f"{label}: {humanize(row.id)}" if label else humanize(row.id)
    else:
        target = workflow.by_id.get(row.next)
        phrase = f"{label or 'then'} \u2192 {target.label if target else row.next}"
    return Choice(phrase, index == 0)


def objective_phrase(node: Node, objective: str) -> str:
    """An objective as a test name reads it. A short label on one branch of a choice ("yes", "more than 1000",
    "3 days": what BPMN flows carry) means little alone, so the node's question or name comes first:
    "Approved? yes", "Manager approval: 3 days". Sentences ("A declined card creates no order") stand alone."""
    if len(objective.split()) > 3 or len(node.table) < 2:
        return objective
    label = node.label.strip()
    if not label or (label == node.id and is_generated_id(label)):
        return objective
    return f"{label} {objective}" if label.endswith("?") else f"{label}: {objective}"


def cut(text: str, limit: int = MAX_NAME) -> str:
    """``text`` on one line, cut at a word boundary to at most ``limit`` characters (an ellipsis marks a cut)."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    if " " in head and not text[limit - 1].isspace():
        head = head.rsplit(" ", 1)[0]
    return head.rstrip(" ,;:") + "\u2026"


def _name(model: Model, steps: Sequence[TestStep], objectives: list[str], end_label: str) -> str:
    """From the objectives, else from the choices that leave a table's first row, else the main path."""
    if objectives:
        return cut("; ".join(objectives))
    taken: list[str] = []
    length = 0
    for c in iter_choices(model, steps):
        if c.main:
            continue
        taken.append(c.phrase)
        length += len(c.phrase) + 2
        # the name is cut to MAX_NAME characters: once the choices so far fill more than that (with spaces
        # collapsed, as cut() does), the later ones cannot change it (only what is past the cut)
        if length > MAX_NAME + 2 and len(" ".join(", ".join(taken).split())) > MAX_NAME:
            return cut(", ".join(taken))
    if taken:
        return cut(f"{', '.join(taken)} \u2192 {end_label}")
    return cut(f"Main path to {end_label}")


def unique_names(tests: list[TestCase], model: Model | None = None) -> list[TestCase]:
    """Make names unique the way a tester would: add, in brackets, the choices that tell same-named tests
    apart, then what their data differ in; the stable id only as the last resort (never a counter)."""
    groups: dict[str, list[int]] = {}
    for i, t in enumerate(tests):
        groups.setdefault(t.name.casefold(), []).append(i)
    out = list(tests)
    taken = {t.name.casefold() for t in tests}
    for members in groups.values():
        if len(members) < 2:
            continue
        phrases = {i: [c.phrase for c in choices(model, tests[i].steps)] if model else [] for i in members}
        for i in members:
            test = tests[i]
            others = [phrases[j] for j in members if j != i]
            own = [p for p in phrases[i] if not all(p in o for o in others)]
            data = [
                f"{k} = {v}"
                for k, v in test.data.items()
                if not all(tests[j].data.get(k) == v for j in members if j != i)
            ]
            for extra in (", ".join(own), ", ".join(data), test.id):
                if not extra:
                    continue
                suffix = f" ({cut(extra, MAX_NAME // 2)})"
                candidate = cut(test.name, MAX_NAME - len(suffix)) + suffix
                if candidate.casefold() not in taken:
                    taken.add(candidate.casefold())
                    out[i] = test.model_copy(update={"name": candidate})
                    break
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
            condition = parse_condition(edge.decision.when)
            if condition is not None and evaluate(condition, env) is not True:
                return f"condition of {edge.ref} does not hold"
            assignments = parse_assignments(edge.decision.set)
            if not assignments:  # most steps change nothing: no copy of the state for them
                continue
            after = dict(env)
            for a in assignments:
                value = evaluate(a.expr, env)
                if isinstance(value, tuple):
                    return f"assignment of {edge.ref} gives a list"
                after[a.target] = value
            env = after
        except EvalError as exc:
            return f"{edge.ref}: {exc}"
    return None
