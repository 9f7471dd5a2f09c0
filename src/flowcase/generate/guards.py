"""Conditions and assignments along walks: candidate parameter assignments as bit masks, and a bounded search.

A test fixes one assignment of parameters (from their finite domains) and starts with the variables' initial
values; the assignments of a row (``set``) all read the state before the row (simultaneous assignment). The
parameters that some condition or assignment reads span the candidate space (their domains' product, in domain
order, at most ``max_candidates`` at a time: larger spaces are walked in chunks). A set of candidates is a
Python int used as a bit mask, so a condition filters all candidates at once. Variables stay concrete: when an
assignment reads a parameter, the state splits by the values it produces.
"""

from __future__ import annotations

import itertools
import math
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import reduce

from flowcase.generate.graph import FlatGraph
from flowcase.model.expr import (
    Assignment,
    EvalError,
    Expr,
    Value,
    evaluate,
    names,
    parse_assignments,
    parse_condition,
)

VarState = tuple[Value, ...]


@dataclass(frozen=True, slots=True)
class _Logic:
    cond: Expr | None
    cond_params: tuple[str, ...]
    cond_vars: bool
    sets: tuple[Assignment, ...]
    set_params: tuple[str, ...]


class Space:
    """One chunk of candidate parameter assignments, over the parameters that decisions read."""

    def __init__(self, params: tuple[str, ...], domains: tuple[tuple[Value, ...], ...], cap: int, chunk: int) -> None:
        self.params = params
        self.total = math.prod(len(d) for d in domains)
        self.chunk = chunk
        self.rows = list(itertools.islice(itertools.product(*domains), chunk * cap, (chunk + 1) * cap))
        self.full = (1 << len(self.rows)) - 1
        self.truncated = self.total > cap
        self._pos = {p: i for i, p in enumerate(params)}
        self._projections: dict[tuple[str, ...], list[tuple[tuple[Value, ...], int]]] = {}

    def projection(self, names_: tuple[str, ...]) -> list[tuple[tuple[Value, ...], int]]:
        """Each distinct value tuple of ``names_`` with the mask of candidates that have it (first-seen order)."""
        cached = self._projections.get(names_)
        if cached is None:
            cols = [self._pos[n] for n in names_]
            masks: dict[tuple[Value, ...], int] = {}
            for i, row in enumerate(self.rows):
                key = tuple(row[c] for c in cols)
                masks[key] = masks.get(key, 0) | (1 << i)
            cached = self._projections[names_] = list(masks.items())
        return cached

    def assignment(self, index: int) -> dict[str, Value]:
        return dict(zip(self.params, self.rows[index], strict=True))


def lowest(mask: int) -> int:
    return (mask & -mask).bit_length() - 1


def indices(mask: int) -> Iterator[int]:
    while mask:
        low = mask & -mask
        yield low.bit_length() - 1
        mask ^= low


@dataclass
class Logic:
    """Everything about the model's conditions and assignments that the search needs, with caches."""

    graph: FlatGraph
    max_candidates: int
    var_names: tuple[str, ...] = ()
    initial: VarState = ()
    params: tuple[str, ...] = ()
    domains: tuple[tuple[Value, ...], ...] = ()
    edges: list[_Logic | None] = field(default_factory=list)
    guarded: bool = False
    _spaces: dict[int, Space] = field(default_factory=dict)
    _cond: dict[tuple[int, int, VarState | None], int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        model = self.graph.model
        self.var_names = tuple(v.name for v in model.variables)
        self.initial = tuple(v.initial for v in model.variables)
        param_names = {p.name for p in model.parameters}
        read: set[str] = set()
        made: dict[tuple[str, str], _Logic] = {}  # one (immutable) _Logic per condition and assignments text
        for edge in self.graph.edges:
            if edge.decision is None:
                self.edges.append(None)
                continue
            text = (edge.decision.when, edge.decision.set)
            logic = made.get(text)
            if logic is None:
                cond = _parse_cond(edge.decision.when)
                sets = _parse_sets(edge.decision.set)
                cond_names = {n.name for n in names(cond)}
                set_names = {n.name for a in sets for n in names(a.expr)}
                cond_params = tuple(sorted(cond_names & param_names))
                set_params = tuple(sorted(set_names & param_names))
                read |= set(cond_params) | set(set_params)
                self.guarded |= cond is not None
                logic = made[text] = _Logic(cond, cond_params, bool(cond_names - param_names), sets, set_params)
            self.edges.append(logic)
        self.params = tuple(p.name for p in model.parameters if p.name in read)
        self.domains = tuple(p.values for p in model.parameters if p.name in read)

    def space(self, chunk: int = 0) -> Space:
        if chunk not in self._spaces:
            self._spaces[chunk] = Space(self.params, self.domains, self.max_candidates, chunk)
        return self._spaces[chunk]

    def chunks(self) -> int:
        total = math.prod(len(d) for d in self.domains)
        return max(1, -(-total // self.max_candidates))

    def env(self, state: VarState) -> dict[str, Value]:
        return dict(zip(self.var_names, state, strict=True))

    def cond_mask(self, space: Space, edge: int, state: VarState) -> int:
        logic = self.edges[edge]
        if logic is None or logic.cond is None:
            return space.full
        key = (space.chunk, edge, state if logic.cond_vars else None)
        cached = self._cond.get(key)
        if cached is not None:
            return cached
        env = self.env(state)
        mask = 0
        for values, m in space.projection(logic.cond_params):
            env.update(zip(logic.cond_params, values, strict=True))
            if _holds(logic.cond, env):
                mask |= m
        self._cond[key] = mask
        return mask

    def apply(self, space: Space, edge: int, state: VarState, mask: int) -> list[tuple[VarState, int]]:
        """The states after ``edge``'s assignments, each with the candidates that lead to it."""
        logic = self.edges[edge]
        if logic is None or not logic.sets:
            return [(state, mask)]
        if not logic.set_params:
            after = self._assign(logic.sets, self.env(state))
            return [] if after is None else [(after, mask)]
        groups: dict[VarState, int] = {}
        for values, m in space.projection(logic.set_params):
            sub = m & mask
            if not sub:
                continue
            env = self.env(state)
            env.update(zip(logic.set_params, values, strict=True))
            after = self._assign(logic.sets, env)
            if after is not None:
                groups[after] = groups.get(after, 0) | sub
        return list(groups.items())

    def _assign(self, sets: tuple[Assignment, ...], env: dict[str, Value]) -> VarState | None:
        after = dict(env)
        for a in sets:
            try:
                value = evaluate(a.expr, env)
            except EvalError:
                return None
            if isinstance(value, tuple):
                return None
            after[a.target] = value
        return tuple(after[n] for n in self.var_names)

    def feasible(self, walk: list[int], space: Space) -> int:
        """The candidates (mask) for which ``walk`` is feasible."""
        branches = [(self.initial, space.full)]
        for e in walk:
            logic = self.edges[e]
            if logic is None or (logic.cond is None and not logic.sets):  # the branches stay as they are
                continue
            nxt: dict[VarState, int] = {}
            for state, mask in branches:
                m = mask & self.cond_mask(space, e, state)
                if m:
                    for after, sub in self.apply(space, e, state, m):
                        nxt[after] = nxt.get(after, 0) | sub
            branches = list(nxt.items())
            if not branches:
                return 0
        return reduce(lambda a, b: a | b[1], branches, 0)

    def never(self, edge: int) -> bool:
        """True when the condition of ``edge`` holds for no parameter value, whatever the variables."""
        logic = self.edges[edge]
        if logic is None or logic.cond is None or logic.cond_vars:
            return False
        return all(self.cond_mask(self.space(c), edge, self.initial) == 0 for c in range(min(self.chunks(), 8)))


def _parse_cond(text: str) -> Expr | None:
    return parse_condition(text)


def _parse_sets(text: str) -> tuple[Assignment, ...]:
    return parse_assignments(text)


def _holds(expr: Expr, env: dict[str, Value]) -> bool:
    try:
        return evaluate(expr, env) is True
    except EvalError:
        return False


@dataclass(frozen=True, slots=True)
class Waypoint:
    """Something a walk must pass: an edge, two consecutive decision edges, or a vertex."""

    edges: tuple[int, ...] = ()
    vertex: int = -1


@dataclass(frozen=True, slots=True)
class Goal:
    waypoints: tuple[Waypoint, ...]
    avoid_edges: frozenset[int] = frozenset()
    avoid_vertices: frozenset[int] = frozenset()
    ends: frozenset[int] | None = None  # main end vertices allowed; None for any
    prefix: bool = False  # done as soon as every waypoint is passed (no end needed): for explaining failures


@dataclass(frozen=True, slots=True)
class Found:
    walk: list[int]
    space: Space
    mask: int


class Searcher:
    """Shortest feasible walks through waypoints, by uniform-cost search over (vertex, variables, candidates).

    A state whose candidates were all reached before at the same vertex, variables and progress is dropped: any
    walk on from it is also a walk on from those earlier states, which were no longer to reach.
    """

    def __init__(self, logic: Logic, alive: list[bool], budget: int) -> None:
        self.logic = logic
        self.graph = logic.graph
        self.alive = alive
        self.budget = budget
        self.used = 0
        self._reach_cache: dict[int, list[bool]] = {}

    def _reaches(self, vertex: int) -> list[bool]:
        cached = self._reach_cache.get(vertex)
        if cached is None:
            g = self.graph
            inc: list[list[int]] = [[] for _ in g.vertices]
            for edge in g.edges:
                inc[edge.dst].append(edge.index)
            seen = [False] * len(g.vertices)
            seen[vertex] = True
            queue = deque([vertex])
            while queue:
                v = queue.popleft()
                for e in inc[v]:
                    u = g.edges[e].src
                    if not seen[u]:
                        seen[u] = True
                        queue.append(u)
            cached = self._reach_cache[vertex] = seen
        return cached

    def _anchor(self, wp: Waypoint) -> int:
        return wp.vertex if wp.vertex >= 0 else self.graph.edges[wp.edges[0]].src

    def search(self, goal: Goal, space: Space, limit: int) -> tuple[Found | None, bool]:
        """(the walk, or None; whether the search space was exhausted rather than the budget)."""
        g, logic = self.graph, self.logic
        wps = goal.waypoints
        reach = [self._reaches(self._anchor(w)) for w in wps]

        def advance(progress: int, edge: int | None, vertex: int) -> int:
            idx, half = divmod(progress, 2)
            if edge is not None and idx < len(wps) and wps[idx].edges:
                seq = wps[idx].edges
                if len(seq) == 1 and edge == seq[0]:
                    idx, half = idx + 1, 0
                elif len(seq) == 2 and not g.edges[edge].synthetic:
                    if half and edge == seq[1]:
                        idx, half = idx + 1, 0
                    else:
                        half = int(edge == seq[0])
            while idx < len(wps) and wps[idx].vertex == vertex:
                idx, half = idx + 1, 0
            return idx * 2 + half

        start = (g.source, logic.initial, space.full, advance(0, None, g.source))
        if start[0] in goal.avoid_vertices:
            return None, True
        states = [start]
        parent: list[tuple[int, int]] = [(-1, -1)]
        seen: dict[tuple[int, VarState, int], int] = {(start[0], start[1], start[3]): start[2]}
        queue: deque[int] = deque([0])
        final = len(wps) * 2
        expanded = 0
        while queue:
            sid = queue.popleft()
            vertex, state, mask, progress = states[sid]
            if vertex == g.sink or (goal.prefix and progress == final):
                if progress == final:
                    walk = []
                    while parent[sid][0] >= 0:
                        walk.append(parent[sid][1])
                        sid = parent[sid][0]
                    return Found(walk[::-1], space, mask), True
                continue
            expanded += 1
            self.used += 1
            if expanded > limit or self.used > self.budget:
                return None, False
            for e in g.out[vertex]:
                edge = g.edges[e]
                w = edge.dst
                if not self.alive[w] or e in goal.avoid_edges or w in goal.avoid_vertices:
                    continue
                if w == g.sink and goal.ends is not None and vertex not in goal.ends:
                    continue
                if edge.synthetic:
                    successors = [(state, mask)]
                else:
                    m = mask & logic.cond_mask(space, e, state)
                    successors = logic.apply(space, e, state, m) if m else []
                for after, sub in successors:
                    prog = advance(progress, e, w)
                    idx = prog // 2
                    if idx < len(wps) and not prog % 2 and not reach[idx][w]:
                        continue
                    place = (w, after, prog)
                    known = seen.get(place, 0)
                    if not sub & ~known:  # every candidate here was already reached as early: nothing new
                        continue
                    seen[place] = known | sub
                    states.append((w, after, sub, prog))
                    parent.append((sid, e))
                    if edge.synthetic:
                        queue.appendleft(len(states) - 1)
                    else:
                        queue.append(len(states) - 1)
        return None, True
