"""Coverage targets per criterion (steps, decisions, consecutive decision pairs), with filters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from flowcase.generate.graph import Edge, FlatGraph
from flowcase.generate.guards import Waypoint
from flowcase.generate.options import GenerateOptions
from flowcase.model.types import LEVELS, Decision

TargetKind = Literal["step", "decision", "pair"]


@dataclass(frozen=True, slots=True)
class Target:
    kind: TargetKind
    ref: str
    waypoint: Waypoint


def matches(decision: Decision, options: GenerateOptions) -> bool:
    """True when a decision passes the priority, risk and tag filters."""
    if options.priority is not None and (
        decision.priority is None or LEVELS.index(decision.priority) < LEVELS.index(options.priority)
    ):
        return False
    if options.risk is not None and (decision.risk is None or LEVELS.index(decision.risk) < LEVELS.index(options.risk)):
        return False
    return not options.tags or any(t in decision.tags for t in options.tags)


def filtered(options: GenerateOptions) -> bool:
    return options.priority is not None or options.risk is not None or bool(options.tags)


def step_vertices(graph: FlatGraph) -> list[int]:
    """Vertices that count as steps: every node of every instance except starts (always passed)."""
    return [v.index for v in graph.vertices if v.role == "node" and v.node is not None and v.node.kind != "start"]


def pairs(graph: FlatGraph) -> list[tuple[Edge, Edge]]:
    """Every two decisions that can follow each other directly, in edge order."""
    found = []
    for e1 in graph.decision_edges:
        for e2 in graph.next_decisions(e1.dst):
            if e2 >= 0:
                found.append((e1, graph.edges[e2]))
    return found


def in_focus(edge: Edge, options: GenerateOptions) -> bool:
    """True when a decision edge matches one of the options' focus selectors."""
    d = edge.decision
    if d is None or edge.node is None:
        return False
    for selector in options.focus:
        kind, _, value = selector.partition(":")
        level = d.risk if kind == "risk" else d.priority if kind == "priority" else None
        if kind in ("risk", "priority") and level is not None and LEVELS.index(level) >= LEVELS.index(value):
            return True
        if (kind == "tag" and value in d.tags) or (kind == "step" and value in (edge.node.id, edge.ref.split("#")[0])):
            return True
    return False


def focus_pairs(graph: FlatGraph, options: GenerateOptions) -> list[Target]:
    """The pairs of consecutive decisions of which at least one is in focus."""
    if not options.focus:
        return []
    return [
        Target("pair", f"{a.ref}>{b.ref}", Waypoint(edges=(a.index, b.index)))
        for a, b in pairs(graph)
        if in_focus(a, options) or in_focus(b, options)
    ]


def targets(graph: FlatGraph, options: GenerateOptions) -> list[Target]:
    """The criterion's targets, plus the focus pairs (risk-based strength) when asked."""
    return [*_targets(graph, options), *focus_pairs(graph, options)]


def _targets(graph: FlatGraph, options: GenerateOptions) -> list[Target]:
    """The items the criterion asks to cover, in a stable order (all-steps, all-decisions, all-pairs)."""
    criterion = options.criterion
    if criterion == "all-steps":
        found = []
        for v in step_vertices(graph):
            vertex = graph.vertices[v]
            decisions = [graph.edges[e].decision for e in graph.out[v]]
            if vertex.node is not None and vertex.node.kind == "call":
                decisions = [d for d in vertex.node.table]
            if filtered(options) and not any(d is not None and matches(d, options) for d in decisions):
                continue
            found.append(Target("step", vertex.ref, Waypoint(vertex=v)))
        return found
    if criterion == "all-pairs":
        return [
            Target("pair", f"{a.ref}>{b.ref}", Waypoint(edges=(a.index, b.index)))
            for a, b in pairs(graph)
            if a.decision is not None
            and b.decision is not None
            and matches(a.decision, options)
            and matches(b.decision, options)
        ]
    return [
        Target("decision", e.ref, Waypoint(edges=(e.index,)))
        for e in graph.decision_edges
        if e.decision is not None and matches(e.decision, options)
    ]
