"""Guard-free covers of targets on the flat graph: direct for steps and decisions, on the line graph for pairs."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from flowcase.generate.flow import Digraph, Solver, min_count, min_cover
from flowcase.generate.graph import FlatGraph
from flowcase.generate.targets import Target


@dataclass(slots=True)
class Structural:
    walks: list[list[int]]
    count: int
    length_optimal: bool


def digraph(graph: FlatGraph) -> Digraph:
    """The flat graph as a :class:`Digraph` (made once per flat graph: the graph does not change once built)."""
    made = graph.digraph
    if isinstance(made, Digraph) and made.n == len(graph.vertices) and len(made.src) == len(graph.edges):
        return made
    edges = graph.edges
    made = Digraph(
        len(graph.vertices),
        [e.src for e in edges],
        [e.dst for e in edges],
        [0 if e.decision is None else 1 for e in edges],  # synthetic edges cost nothing
        graph.source,
        graph.sink,
    )
    graph.digraph = made
    return made


class _LineGraph:
    """Decisions as vertices (plus start and end), consecutive decisions as arcs."""

    def __init__(self, graph: FlatGraph) -> None:
        self.graph = graph
        self.decisions = [e.index for e in graph.decision_edges]
        self.pos = {e: 2 + i for i, e in enumerate(self.decisions)}
        src: list[int] = []
        dst: list[int] = []
        cost: list[int] = []
        self.arc: dict[tuple[int, int], int] = {}

        def link(a: int, b: int) -> None:
            self.arc[(a, b)] = len(src)
            src.append(a)
            dst.append(b)
            cost.append(0 if b == 1 else 1)

        for nxt in graph.next_decisions(graph.source):
            link(0, 1 if nxt < 0 else self.pos[nxt])
        for e in self.decisions:
            for nxt in graph.next_decisions(graph.edges[e].dst):
                link(self.pos[e], 1 if nxt < 0 else self.pos[nxt])
        self.digraph = Digraph(2 + len(self.decisions), src, dst, cost, 0, 1)

    def requirements(self, targets: Sequence[Target]) -> tuple[list[int], list[int]]:
        arcs, verts = [], []
        for t in targets:
            seq = t.waypoint.edges
            if len(seq) == 2:
                arcs.append(self.arc[(self.pos[seq[0]], self.pos[seq[1]])])
            elif len(seq) == 1:
                verts.append(self.pos[seq[0]])
        return arcs, verts

    def expand(self, line_walk: list[int]) -> list[int]:
        g = self.graph
        decisions = [self.decisions[self.digraph.dst[a] - 2] for a in line_walk if self.digraph.dst[a] >= 2]
        walk: list[int] = []
        here = g.source
        for d in decisions:
            walk += g.synthetic_route(here, g.edges[d].src)
            walk.append(d)
            here = g.edges[d].dst
        walk += g.synthetic_route(here, g.sink)
        return walk


def _split(targets: Sequence[Target]) -> tuple[list[int], list[int]]:
    edges = [t.waypoint.edges[0] for t in targets if len(t.waypoint.edges) == 1]
    verts = [t.waypoint.vertex for t in targets if t.waypoint.vertex >= 0]
    return edges, verts


def structural_cover(graph: FlatGraph, targets: Sequence[Target], solver: Solver = "auto") -> Structural:
    """The fewest walks (ignoring conditions) covering ``targets``, all of which must lie on some walk."""
    if any(len(t.waypoint.edges) == 2 for t in targets):
        line = _LineGraph(graph)
        arcs, verts = line.requirements(targets)
        cover = min_cover(line.digraph, arcs, verts, solver)
        return Structural([line.expand(w) for w in cover.walks], cover.count, cover.length_optimal)
    edges, verts = _split(targets)
    cover = min_cover(digraph(graph), edges, verts, solver)
    return Structural(cover.walks, cover.count, cover.length_optimal)


def lower_bound(graph: FlatGraph, targets: Sequence[Target], solver: Solver = "auto") -> int:
    """The proven minimum number of walks covering ``targets`` when conditions are ignored."""
    if not targets:
        return 0
    if any(len(t.waypoint.edges) == 2 for t in targets):
        line = _LineGraph(graph)
        arcs, verts = line.requirements(targets)
        return min_count(line.digraph, arcs, verts, solver)
    edges, verts = _split(targets)
    return min_count(digraph(graph), edges, verts, solver)


def reached(graph: FlatGraph, walk: Sequence[int], pairs: bool = True) -> Iterator[str]:
    """Refs of every step, decision and (unless ``pairs`` is false) consecutive decision pair the walk passes, in
    the order it reaches them (again each time it passes one again)."""
    previous = ""
    edges, vertices = graph.edges, graph.vertices
    for e in walk:
        edge = edges[e]
        vertex = vertices[edge.dst]
        if vertex.role == "node":
            yield vertex.ref
        if edge.decision is None:  # synthetic
            continue
        yield edge.ref
        if pairs:
            if previous:
                yield f"{previous}>{edge.ref}"
            previous = edge.ref


def covered_by(graph: FlatGraph, walk: Sequence[int], pairs: bool = True) -> set[str]:
    """Refs of every step, decision and (unless ``pairs`` is false: a caller that needs no pair says so, for the
    walk can be very long) consecutive decision pair the walk passes."""
    if pairs:
        return set(reached(graph, walk, pairs))
    vertices, decisions = passed(graph, walk)
    return {graph.vertices[v].ref for v in vertices} | {graph.edges[e].ref for e in decisions}


def passed(graph: FlatGraph, walk: Sequence[int]) -> tuple[set[int], set[int]]:
    """The step vertices and the decision edges the walk passes, by index: what :func:`reached` names, pairs aside,
    from each edge once however often the walk passes it (a walk of a large strongly connected model passes most
    edges twice or more: 177,097 steps over 100,001 edges)."""
    edges, vertices = graph.edges, graph.vertices
    once = set(walk)
    return (
        {edges[e].dst for e in once if vertices[edges[e].dst].role == "node"},
        {e for e in once if edges[e].decision is not None},
    )
