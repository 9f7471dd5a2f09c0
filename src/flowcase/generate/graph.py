"""Inline a model's workflows into one flat graph with stable, qualified ids.

Every node of every (possibly nested) call instance becomes a vertex named ``instance/node``: the main
workflow's instance is its id; a workflow called from node ``pay`` of the main workflow is ``pay>payment``,
and one called from node ``card`` inside it ``pay>payment>card>cards``. Every decision becomes an edge
named ``instance/node#row``. A call node's vertex has one synthetic edge into the callee's start; each end
of the callee gets, as out-edges, the call node's rows whose ``after`` names that end; rows without ``after``
leave from one "return" vertex that every end of the callee reaches through a synthetic edge. The main
workflow's ends lead to one synthetic sink vertex through synthetic edges; when the main workflow has
``stop_anywhere`` (GraphWalker's semantics), every one of its nodes but the start does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from flowcase.generate.options import GenerationError
from flowcase.model.types import Decision, Model, Node, Workflow

SINK = "<end>"


class NoRoute(LookupError):
    """No chain of synthetic edges (call, return, end) joins two vertices: the walk does not connect."""


@dataclass(frozen=True, slots=True)
class Edge:
    index: int
    src: int
    dst: int
    instance: str
    node: Node | None  # None on synthetic edges
    decision: Decision | None  # None on synthetic edges
    ref: str = ""  # 'instance/node#row'; empty on synthetic edges

    @property
    def synthetic(self) -> bool:
        return self.decision is None


@dataclass(slots=True)
class Vertex:
    index: int
    instance: str
    node: Node | None  # None for the sink
    role: Literal["node", "return", "sink"] = "node"
    ref: str = field(init=False, default="")  # 'instance/node', 'instance/node@return' or the sink's; made once

    def __post_init__(self) -> None:
        if self.node is None:
            self.ref = SINK
        else:
            suffix = "@return" if self.role == "return" else ""
            self.ref = f"{self.instance}/{self.node.id}{suffix}"


@dataclass(slots=True)
class FlatGraph:
    model: Model
    vertices: list[Vertex] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    out: list[list[int]] = field(default_factory=list)
    source: int = -1
    sink: int = -1
    vertex_by_ref: dict[str, int] = field(default_factory=dict)
    edge_by_ref: dict[str, int] = field(default_factory=dict)
    main_ends: dict[int, Node] = field(default_factory=dict)
    digraph: object = field(default=None, repr=False, compare=False)  # generate.cover.digraph(self), made once

    def add_vertex(self, instance: str, node: Node | None, role: Literal["node", "return", "sink"] = "node") -> int:
        vertex = Vertex(len(self.vertices), instance, node, role)
        self.vertices.append(vertex)
        self.out.append([])
        self.vertex_by_ref[vertex.ref] = vertex.index
        return vertex.index

    def add_edge(self, src: int, dst: int, instance: str, node: Node | None, decision: Decision | None) -> None:
        ref = "" if node is None or decision is None else f"{instance}/{node.id}#{decision.id}"
        edge = Edge(len(self.edges), src, dst, instance, node, decision, ref)
        self.edges.append(edge)
        self.out[src].append(edge.index)
        if decision is not None:
            self.edge_by_ref[edge.ref] = edge.index

    @property
    def decision_edges(self) -> list[Edge]:
        return [e for e in self.edges if e.decision is not None]  # (not synthetic; no property call per edge)

    def next_decisions(self, vertex: int) -> list[int]:
        """The decision edges that can come next from ``vertex`` through synthetic edges; -1 stands for the sink."""
        found: list[int] = []
        stack = [vertex]
        while stack:
            v = stack.pop()
            if v == self.sink:
                if -1 not in found:
                    found.append(-1)
                continue
            for e in reversed(self.out[v]):
                edge = self.edges[e]
                if edge.synthetic:
                    stack.append(edge.dst)
                elif e not in found:
                    found.append(e)
        return sorted(found)

    def synthetic_route(self, start: int, goal: int) -> list[int]:
        """The synthetic edges leading from ``start`` to ``goal`` (empty when they are the same vertex)."""
        stack: list[tuple[int, list[int]]] = [(start, [])]
        while stack:
            v, route = stack.pop()
            if v == goal:
                return route
            for e in self.out[v]:
                if self.edges[e].synthetic:
                    stack.append((self.edges[e].dst, [*route, e]))
        raise NoRoute(f"no synthetic route from vertex {start} to {goal}")


def flatten(model: Model) -> FlatGraph:
    """Inline every call into one graph; raises :class:`GenerationError` on a structural problem."""
    graph = FlatGraph(model)
    main = model.main
    start, ends = _instantiate(graph, model, main, main.id, (main.id,))
    graph.source = start
    graph.sink = graph.add_vertex(main.id, None, "sink")
    if main.stop_anywhere:  # every vertex of the main workflow but the start may end a test
        ends = [
            (v, node)
            for v, node in ((i, graph.vertices[i].node) for i in range(len(graph.vertices)))
            if node is not None
            and graph.vertices[v].instance == main.id
            and graph.vertices[v].role == "node"
            and node.kind != "start"
        ]
    for end_vertex, end_node in ends:
        graph.main_ends[end_vertex] = end_node
        graph.add_edge(end_vertex, graph.sink, main.id, None, None)
    return graph


def _instantiate(
    graph: FlatGraph, model: Model, workflow: Workflow, instance: str, stack: tuple[str, ...]
) -> tuple[int, list[tuple[int, Node]]]:
    starts = [n for n in workflow.nodes if n.kind == "start"]
    if len(starts) != 1:
        raise GenerationError(f"workflow {workflow.id!r} must have exactly one start node (found {len(starts)})")
    local = {node.id: graph.add_vertex(instance, node) for node in workflow.nodes}

    def target(node: Node, decision: Decision) -> int:
        if decision.next not in local:
            raise GenerationError(
                f"workflow {workflow.id!r}, node {node.id!r}: row {decision.id!r} "
                f"goes to unknown node {decision.next!r}"
            )
        return local[decision.next]

    for node in workflow.nodes:
        here = local[node.id]
        if node.kind == "end":
            continue
        if node.kind != "call":
            for decision in node.table:
                graph.add_edge(here, target(node, decision), instance, node, decision)
            continue
        if node.workflow is None or node.workflow not in model.workflows_by_id:
            raise GenerationError(
                f"workflow {workflow.id!r}, call node {node.id!r}: unknown workflow {node.workflow!r}"
            )
        if node.workflow in stack:
            raise GenerationError(
                f"workflow {workflow.id!r}, call node {node.id!r}: recursive call of {node.workflow!r}"
            )
        callee = model.workflow(node.workflow)
        prefix = "" if instance == model.main.id else instance + ">"
        sub_start, sub_ends = _instantiate(graph, model, callee, f"{prefix}{node.id}>{callee.id}", (*stack, callee.id))
        graph.add_edge(here, sub_start, instance, None, None)
        for end_vertex, end_node in sub_ends:
            for decision in node.table:
                if decision.after is not None and decision.after in (end_node.id, end_node.name):
                    graph.add_edge(end_vertex, target(node, decision), instance, node, decision)
        generic = [d for d in node.table if d.after is None]
        if generic:
            back = graph.add_vertex(instance, node, "return")
            for end_vertex, _ in sub_ends:
                graph.add_edge(end_vertex, back, instance, None, None)
            for decision in generic:
                graph.add_edge(back, target(node, decision), instance, node, decision)
    return local[starts[0].id], [(local[n.id], n) for n in workflow.nodes if n.kind == "end"]
