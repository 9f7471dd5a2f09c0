"""The all-paths criterion (with a loop bound, counted before enumerating) and test purposes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flowcase.generate import assemble, data
from flowcase.generate.guards import Found, Goal, Waypoint
from flowcase.generate.options import GenerationError, Purpose
from flowcase.generate.suite import CoverageItem, TestCase

if TYPE_CHECKING:
    from flowcase.generate.engine import Context
    from flowcase.generate.graph import FlatGraph


def back_edges(graph: FlatGraph) -> set[int]:
    """Edges closing a loop: those that lead to a vertex on the depth-first stack (from the start, in edge order)."""
    state = [0] * len(graph.vertices)  # 0 new, 1 on stack, 2 done
    back: set[int] = set()
    stack: list[tuple[int, int]] = [(graph.source, 0)]
    state[graph.source] = 1
    while stack:
        v, i = stack[-1]
        if i < len(graph.out[v]):
            stack[-1] = (v, i + 1)
            e = graph.out[v][i]
            w = graph.edges[e].dst
            if state[w] == 1:
                back.add(e)
            elif state[w] == 0:
                state[w] = 1
                stack.append((w, 0))
        else:
            state[v] = 2
            stack.pop()
    return back


def count_paths(graph: FlatGraph, loop_bound: int) -> tuple[list[list[int]], set[int]]:
    """``counts[j][v]``: walks from ``v`` to the end that may still go back around loops ``loop_bound - j`` times."""
    back = back_edges(graph)
    n = len(graph.vertices)
    indegree = [0] * n
    for edge in graph.edges:
        if edge.index not in back:
            indegree[edge.dst] += 1
    order, ready = [], [v for v in range(n) if indegree[v] == 0]
    while ready:
        v = ready.pop()
        order.append(v)
        for e in graph.out[v]:
            if e not in back:
                w = graph.edges[e].dst
                indegree[w] -= 1
                if indegree[w] == 0:
                    ready.append(w)
    counts = [[0] * n for _ in range(loop_bound + 1)]
    for j in range(loop_bound, -1, -1):
        row = counts[j]
        for v in reversed(order):
            if v == graph.sink:
                row[v] = 1
                continue
            total = 0
            for e in graph.out[v]:
                w = graph.edges[e].dst
                if e in back:
                    total += counts[j + 1][w] if j < loop_bound else 0
                else:
                    total += row[w]
            row[v] = total
    return counts, back


def all_paths(ctx: Context) -> tuple[list[Found], list[CoverageItem]]:
    """The feasible paths up to the loop bound, and a coverage item for each path (the engine finishes the suite)."""
    g, k = ctx.graph, ctx.options.loop_bound
    counts, back = count_paths(g, k)
    total = counts[0][g.source]
    if total > ctx.options.max_paths:
        raise GenerationError(
            f"all-paths with loop bound {k} gives {total} paths, more than the limit of {ctx.options.max_paths}; "
            "lower the loop bound, raise the limit or choose another criterion"
        )
    walks: list[list[int]] = []
    stack: list[tuple[int, int, list[int]]] = [(g.source, 0, [])]
    while stack:
        v, j, walk = stack.pop()
        if v == g.sink:
            walks.append(walk)
            continue
        for e in reversed(g.out[v]):
            w = g.edges[e].dst
            jj = j + 1 if e in back else j
            if jj <= k and counts[jj][w] > 0:
                stack.append((w, jj, [*walk, e]))
    found: list[Found] = []
    items = []
    for walk in walks:
        ref = " > ".join(assemble.path_key(g, walk).split("\n"))
        f = ctx.feasible(walk)
        if f is None:
            items.append(CoverageItem(kind="path", ref=ref, reason="infeasible: its conditions contradict each other"))
            continue
        found.append(f)
        items.append(CoverageItem(kind="path", ref=ref, covered_by=(assemble.test_id(assemble.path_key(g, walk)),)))
    if len(found) < len(walks):
        ctx.notes.append(f"{len(walks) - len(found)} of {len(walks)} paths are infeasible and left out")
    return found, items


def resolve(graph: FlatGraph, ref: str) -> Waypoint:
    """A node or decision reference (``node``, ``node#row``, ``instance/node#row``) as a waypoint."""
    node_ref, _, row = ref.partition("#")
    candidates = [node_ref] if "/" in node_ref else [f"{graph.model.main.id}/{node_ref}"]
    if node_ref not in graph.vertex_by_ref and "/" not in node_ref:
        candidates += sorted(
            r for r, v in graph.vertex_by_ref.items() if r.endswith("/" + node_ref) and graph.vertices[v].role == "node"
        )
    for candidate in candidates:
        if row:
            full = f"{candidate}#{row}"
            if full in graph.edge_by_ref:
                return Waypoint(edges=(graph.edge_by_ref[full],))
        elif candidate in graph.vertex_by_ref:
            return Waypoint(vertex=graph.vertex_by_ref[candidate])
    raise GenerationError(f"purpose refers to {ref!r}, which is no node or decision of the model")


def _goal(graph: FlatGraph, purpose: Purpose) -> Goal:
    passes = tuple(resolve(graph, r) for r in purpose.passes)
    avoid = [resolve(graph, r) for r in purpose.avoid]
    ends = None
    if purpose.reach is not None:
        ends = frozenset(v for v, node in graph.main_ends.items() if purpose.reach in (node.id, node.name))
        if not ends:
            raise GenerationError(f"purpose wants to reach {purpose.reach!r}, which is no end of the main workflow")
    return Goal(
        passes,
        frozenset(e for w in avoid for e in w.edges),
        frozenset(w.vertex for w in avoid if w.vertex >= 0),
        ends,
    )


def purposes(ctx: Context) -> tuple[list[CoverageItem], list[TestCase]]:
    """One test per group of purposes one path serves, and a coverage item per purpose (the engine finishes)."""
    g = ctx.graph
    goals = [(p, _goal(g, p)) for p in ctx.options.purposes]
    by_key: dict[str, tuple[Found, list[Purpose]]] = {}
    items = []
    for i, (purpose, goal) in enumerate(goals):
        if ctx.progress:
            ctx.progress("searching purposes", i, len(goals))
        f, why = ctx.search(goal)
        if f is None:
            items.append(CoverageItem(kind="purpose", ref=purpose.describe(), reason=why))
            continue
        key = assemble.path_key(g, f.walk)
        by_key.setdefault(key, (f, []))[1].append(purpose)
        items.append(CoverageItem(kind="purpose", ref=purpose.describe(), covered_by=(assemble.test_id(key),)))
    tests = []
    for key in sorted(by_key, key=lambda k: by_key[k][0].walk):
        f, served = by_key[key]
        test = data.make_test(ctx, f)
        named = [p.name for p in served if p.name]
        if named:
            test = test.model_copy(update={"name": assemble.cut("; ".join(named))})
        objectives = tuple(dict.fromkeys([*(p.describe() for p in served), *test.objectives]))
        tests.append(test.model_copy(update={"objectives": objectives}))
    tests = assemble.unique_names(tests, g.model)
    return items, tests
