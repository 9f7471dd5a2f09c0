"""Minimum path covers: the fewest start-to-end walks through required edges and vertices.

The exact method: condense the strongly connected components (a walk can tour a whole component once it is
inside), then solve a minimum flow with lower bounds on the condensation, a DAG: node-split arcs carry a lower
bound of 1 for components holding a requirement, cross arcs for required edges. Phase 1 minimises the flow on
the return arc (the number of walks, a proven minimum); phase 2 fixes it and minimises the total cost (number
of steps). Both phases are minimum-cost flows: small networks go to a pure-Python successive shortest paths,
larger ones to a primal-dual method over scipy's compiled Dijkstra and maximum flow (near-linear in practice);
HiGHS (a linear program over the network matrix, whose basic solutions are integral) and networkx's network
simplex (a dev dependency: a production install does not have it) are comparison solvers. The flow is decomposed
into paths of the condensation and each is lifted to a walk, touring the required items inside components.
On acyclic graphs the total length is minimal too; inside cyclic components the tours are greedy.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import numpy as np
    from scipy.sparse import csr_matrix  # type: ignore[import-untyped]

# scipy is imported where it is used: it takes most of a second to load, and only generation needs it (not
# every `flowcase` command that imports this package). numpy is loaded by generate.pairwise with the package.

Solver = Literal["auto", "primal-dual", "highs", "networkx", "ssp"]
SMALL = 400  # arcs: up to this size the pure-Python successive shortest paths beat the vectorised set-up cost
IPM_ARCS = 60_000  # arcs: above this size HiGHS's interior point method (with crossover) replaces dual simplex
INT32 = 2**31 - 1  # scipy's maximum flow takes 32-bit capacities


@dataclass(slots=True)
class Digraph:
    """A directed multigraph: edge ``i`` goes ``src[i] -> dst[i]`` and costs ``cost[i]`` steps."""

    n: int
    src: list[int]
    dst: list[int]
    cost: list[int]
    s: int
    t: int
    out: list[list[int]] = field(default_factory=list)
    inc: list[list[int]] = field(default_factory=list)
    _alive: tuple[list[bool], list[bool]] | None = field(default=None, init=False, repr=False, compare=False)
    _reach: list[bool] | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.out = [[] for _ in range(self.n)]
        self.inc = [[] for _ in range(self.n)]
        for i, (a, b) in enumerate(zip(self.src, self.dst, strict=True)):
            self.out[a].append(i)
            self.inc[b].append(i)

    def reach(self) -> list[bool]:
        """Vertices reachable from the start (computed once: the lists returned are shared, never changed)."""
        if self._reach is None:
            self._reach = _reachable(self.n, self.s, self.out, self.src, self.dst)
        return self._reach

    def coreach(self) -> list[bool]:
        return _reachable(self.n, self.t, self.inc, self.dst, self.src)

    def alive(self) -> tuple[list[bool], list[bool]]:
        """(vertex on some s-t walk, edge on some s-t walk), computed once."""
        if self._alive is None:
            fwd, bwd = self.reach(), self.coreach()
            vertices = [f and b for f, b in zip(fwd, bwd, strict=True)]
            edges = [vertices[a] and vertices[b] for a, b in zip(self.src, self.dst, strict=True)]
            self._alive = vertices, edges
        return self._alive


BFS_SCIPY = 2_000  # edges: above this size scipy's compiled search beats a Python loop (both give the same set)


def _reachable(n: int, start: int, adj: list[list[int]], tails: list[int], heads: list[int]) -> list[bool]:
    """The vertices reachable from ``start`` over the edges ``tails[i] -> heads[i]`` (``adj``: each vertex's
    edges out). Large graphs go to scipy: the Python search grew faster than the graph (x39 from 15,000 to
    150,000 edges)."""
    if len(tails) <= BFS_SCIPY:
        return _bfs(n, start, adj, heads)
    import numpy as np

    rows = np.array(tails, dtype=np.int32)
    order = np.argsort(rows, kind="stable")
    graph = _csr_by_rows(rows[order], np.array(heads, dtype=np.int32)[order], np.ones(len(rows), dtype=np.int8), n)
    reached: list[bool] = _reached_from(graph, start).tolist()
    return reached


def _csr_by_rows(rows: np.ndarray, cols: np.ndarray, data: np.ndarray, n: int) -> csr_matrix:
    """The ``n`` x ``n`` sparse matrix of entries ``(rows[i], cols[i]) = data[i]``, ``rows`` sorted ascending."""
    import numpy as np
    from scipy.sparse import csr_matrix

    pointer = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(np.bincount(rows, minlength=n), out=pointer[1:])
    return csr_matrix((data, cols, pointer), shape=(n, n))


def _reached_from(graph: csr_matrix, start: int) -> np.ndarray:
    """A mask of the nodes of ``graph`` reachable from ``start`` (scipy's compiled breadth-first search)."""
    import numpy as np
    from scipy.sparse.csgraph import breadth_first_order  # type: ignore[import-untyped]

    seen = np.zeros(graph.shape[0], dtype=bool)
    seen[breadth_first_order(graph, start, directed=True, return_predecessors=False)] = True
    return seen


def _bfs(n: int, start: int, adj: list[list[int]], head: list[int]) -> list[bool]:
    seen = [False] * n
    seen[start] = True
    queue = deque([start])
    while queue:
        v = queue.popleft()
        for e in adj[v]:
            w = head[e]
            if not seen[w]:
                seen[w] = True
                queue.append(w)
    return seen


@dataclass(slots=True)
class Cover:
    walks: list[list[int]]
    count: int
    length_optimal: bool


@dataclass(slots=True)
class _Network:
    nodes: int
    tail: list[int]
    head: list[int]
    lower: list[int]
    cost: list[int]
    edge: list[int]  # original edge per arc, -1 for split and return arcs
    ret: int
    comp: list[int]
    comp_internal: dict[int, list[int]]


def _network(
    g: Digraph, req_edges: set[int], req_vertices: set[int], alive_v: list[bool], alive_e: list[bool]
) -> _Network:
    idx = [i for i in range(g.n) if alive_v[i]]
    pos = {v: k for k, v in enumerate(idx)}
    live_edges = [e for e in range(len(g.src)) if alive_e[e]]
    import numpy as np
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components

    if live_edges:
        rows = np.fromiter((pos[g.src[e]] for e in live_edges), dtype=np.int64, count=len(live_edges))
        cols = np.fromiter((pos[g.dst[e]] for e in live_edges), dtype=np.int64, count=len(live_edges))
        matrix = csr_matrix((np.ones(len(live_edges)), (rows, cols)), shape=(len(idx), len(idx)))
        _, labels = connected_components(matrix, directed=True, connection="strong")
    else:
        labels = np.zeros(len(idx), dtype=np.int64)
    comp = [-1] * g.n
    for k, v in enumerate(idx):
        comp[v] = int(labels[k])
    ncomp = int(labels.max()) + 1 if len(idx) else 0
    required_comp = [False] * ncomp
    for v in req_vertices:
        required_comp[comp[v]] = True
    internal: dict[int, list[int]] = {}
    tail: list[int] = []
    head: list[int] = []
    lower: list[int] = []
    cost: list[int] = []
    edge: list[int] = []
    for e in live_edges:
        a, b = comp[g.src[e]], comp[g.dst[e]]
        if a == b:
            internal.setdefault(a, []).append(e)
            if e in req_edges:
                required_comp[a] = True
            continue
        tail.append(2 * a + 1)
        head.append(2 * b)
        lower.append(1 if e in req_edges else 0)
        cost.append(g.cost[e])
        edge.append(e)
    for c in range(ncomp):
        tail.append(2 * c)
        head.append(2 * c + 1)
        lower.append(1 if required_comp[c] else 0)
        cost.append(0)
        edge.append(-1)
    ret = len(tail)
    tail.append(2 * comp[g.t] + 1)
    head.append(2 * comp[g.s])
    lower.append(0)
    cost.append(0)
    edge.append(-1)
    return _Network(2 * ncomp, tail, head, lower, cost, edge, ret, comp, internal)


def _solve_highs(net: _Network, objective: Sequence[int], fixed_return: int | None) -> list[int]:
    import numpy as np
    from scipy.optimize import linprog  # type: ignore[import-untyped]
    from scipy.sparse import coo_matrix

    m = len(net.tail)
    rows = np.array(net.head + net.tail, dtype=np.int64)
    cols = np.concatenate([np.arange(m), np.arange(m)])
    vals = np.concatenate([np.ones(m), -np.ones(m)])
    a_eq = coo_matrix((vals, (rows, cols)), shape=(net.nodes, m)).tocsr()
    lb = np.array(net.lower, dtype=float)
    ub = np.full(m, np.inf)
    if fixed_return is not None:
        lb[net.ret] = ub[net.ret] = fixed_return
    # dual simplex is fastest on small and medium networks; on large ones it grows much faster than the network,
    # so the interior point method with crossover (which ends at a vertex: an integral flow) takes over
    methods = ["highs-ipm", "highs-ds"] if m > IPM_ARCS else ["highs-ds"]
    for method in methods:
        result = linprog(
            np.array(objective, dtype=float),
            A_eq=a_eq,
            b_eq=np.zeros(net.nodes),
            bounds=np.column_stack([lb, ub]),
            method=method,
        )
        if result.status != 0:  # pragma: no cover - the problem is always feasible and bounded
            raise RuntimeError(f"flow solver failed: {result.message}")
        flow = np.rint(result.x)
        if np.abs(flow - result.x).max(initial=0) < 1e-6 and not np.any(a_eq @ flow):
            break  # integral and conserved (always so for dual simplex; checked for the interior point)
    return [int(x) for x in flow]


def _solve_primal_dual(net: _Network, objective: Sequence[int], fixed_return: int | None) -> list[int]:
    """Min-cost circulation with lower bounds by the primal-dual method, exact in integers.

    Every arc but a fixed return arc is uncapacitated above its lower bound and costs ``objective[i] >= 0``.
    Sending the lower bounds leaves an excess at some nodes and a deficit at others; the extra flow that balances
    them at least cost is found in phases: a multi-source Dijkstra on reduced costs from every node with excess
    raises the node potentials by the distances (reduced costs stay non-negative, and the arcs of every shortest
    path become of reduced cost zero), then a maximum flow on the arcs of reduced cost zero moves as much as it
    can from the excess to the deficit. Flow moved along arcs of reduced cost zero keeps every residual arc's
    reduced cost non-negative, so the flow is a minimum once nothing is left to move. Both steps are scipy's
    compiled graph routines over one sparse pattern built once (each pair of nodes joined by arcs in either
    direction, plus a super source and sink; the maximum flow runs on the part that can carry flow, see
    :func:`_useful`); a phase is linear in the network, and the phases grow slowly with it: 15 at 5,000
    GraphWalker vertices, 24 at 50,000 (benchmarks/graphwalker_scale.py).
    """
    import numpy as np
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import dijkstra, maximum_flow

    n, m = net.nodes, len(net.tail)
    tail = np.array(net.tail, dtype=np.int64)
    head = np.array(net.head, dtype=np.int64)
    low = np.array(net.lower, dtype=np.int64)
    cost = np.array(objective, dtype=np.int64)
    free = tail != head  # a loop never helps: its cost is non-negative
    if fixed_return is not None:
        low[net.ret] = fixed_return
        free[net.ret] = False
    # > 0: the lower bounds bring that much more into the node than they take out of it
    balance = (np.bincount(head, weights=low, minlength=n) - np.bincount(tail, weights=low, minlength=n)).astype(
        np.int64
    )
    total = int(balance[balance > 0].sum())
    if total >= INT32:  # pragma: no cover - beyond any model we can hold
        return _solve_highs(net, objective, fixed_return)
    extra = np.zeros(m, dtype=np.int64)
    arcs = np.flatnonzero(free)
    size, source, sink = n + 2, n, n + 1
    everyone = np.arange(n, dtype=np.int64)
    forward_keys = tail[arcs] * size + head[arcs]
    backward_keys = head[arcs] * size + tail[arcs]
    keys = _sorted_unique(
        np.concatenate([forward_keys, backward_keys, source * size + everyone, everyone * size + sink])
    )
    rows, cols = keys // size, keys % size
    cols32 = cols.astype(np.int32)  # 32-bit indices: scipy takes them as they are (64-bit ones it converts, slowly)
    pairs = len(keys)
    inner = (rows < n) & (cols < n)  # pairs of two network nodes (not the super source's or sink's)

    row_start = np.searchsorted(rows, np.arange(size + 1))  # the pairs are sorted by row: row r's first pair
    counted = np.zeros(pairs + 1, dtype=np.int32)

    def matrix(data: np.ndarray, kept: np.ndarray) -> csr_matrix:
        """The pairs ``kept`` (a mask) as a sparse matrix holding ``data``."""
        np.cumsum(kept, out=counted[1:])  # kept pairs before each pair: the row pointers, at each row's start
        return csr_matrix((data, cols32[kept], counted[row_start]), shape=(size, size))

    fpair = np.searchsorted(keys, forward_keys)
    bpair = np.searchsorted(keys, backward_keys)
    from_source = np.searchsorted(keys, source * size + everyone)
    to_sink = np.searchsorted(keys, everyone * size + sink)
    # the cheapest arc of each pair carries what goes forward (costs are fixed, potentials are per node)
    by_cost = np.lexsort((cost[arcs], fpair))
    cheapest = np.ones(len(by_cost), dtype=bool)
    cheapest[1:] = fpair[by_cost][1:] != fpair[by_cost][:-1]
    representative = np.full(pairs, -1, dtype=np.int64)
    representative[fpair[by_cost][cheapest]] = arcs[by_cost][cheapest]
    forward = representative >= 0
    pair_cost = np.where(forward, cost[np.maximum(representative, 0)], 0)
    # the arcs whose extra flow a pair can take back, grouped by that pair
    back_order = np.argsort(bpair, kind="stable")
    back_pair, back_arc = bpair[back_order], arcs[back_order]
    group_start = np.searchsorted(back_pair, back_pair)
    reverse_of = np.full(m, -1, dtype=np.int64)  # arc -> the pair that can take its extra flow back
    reverse_of[arcs] = bpair
    potential = np.zeros(size, dtype=np.int64)
    left = balance.copy()  # what each node still has to send (> 0) or receive (< 0)
    back_cap = np.zeros(pairs, dtype=np.int64)  # per pair: the extra flow its reverse arcs can take back
    reduced = pair_cost + potential[rows] - potential[cols]  # kept up to date as the potentials rise
    while True:
        excess, deficit = np.flatnonzero(left > 0), np.flatnonzero(left < 0)
        if not len(excess):
            break
        backward = back_cap > 0  # backward residual arcs have reduced cost 0 (complementary slackness)
        usable = forward | backward
        weight = np.where(backward, 0.0, reduced)[usable]
        dist = dijkstra(matrix(weight, usable), directed=True, indices=excess, min_only=True)
        if not np.isfinite(dist[deficit]).any():  # pragma: no cover - every lower bound lies on a start-to-end walk
            raise RuntimeError("flow solver failed: infeasible")
        # potentials rise by the whole distance (capped for nodes out of reach), not just up to the nearest deficit:
        # reduced costs stay non-negative all the same, and every shortest path to every deficit becomes tight, so
        # one maximum flow serves deficits at all distances (pushing along tight paths keeps the flow optimal)
        reach = float(dist[:n][np.isfinite(dist[:n])].max())
        potential[:n] += np.rint(np.minimum(dist[:n], reach)).astype(np.int64)
        big = int(left[excess].sum())
        capacity = back_cap.copy()
        reduced = pair_cost + potential[rows] - potential[cols]
        capacity[forward & (reduced == 0)] = big
        capacity[from_source[excess]] = left[excess]
        capacity[to_sink[deficit]] = -left[deficit]
        np.minimum(capacity, big, out=capacity)
        some = capacity > 0  # zero capacities would only slow the maximum flow down
        graph, kept_nodes = _useful(matrix(capacity[some].astype(np.int32), some), source, sink)
        result = maximum_flow(graph, graph.shape[0] - 2, graph.shape[0] - 1, method="dinic")
        if result.flow_value == 0:  # pragma: no cover - the Dijkstra step always opens an augmenting path
            raise RuntimeError("flow solver failed: no progress")
        flow = result.flow.tocoo()
        positive = flow.data > 0
        flow_keys = kept_nodes[flow.row[positive]] * size + kept_nodes[flow.col[positive]]
        at = np.searchsorted(keys, flow_keys)
        if np.any(at >= pairs) or np.any(keys[np.minimum(at, pairs - 1)] != flow_keys):  # pragma: no cover
            raise RuntimeError("flow solver failed: flow off the network")
        amount = np.zeros(pairs, dtype=np.int64)
        amount[at] = flow.data[positive]
        left -= amount[from_source]
        left += amount[to_sink]
        # a pair's flow first takes back extra flow on the reverse arcs, then goes on the pair's cheapest arc
        available = extra[back_arc]
        before = np.cumsum(available) - available
        before -= before[group_start]
        taken = np.clip(amount[back_pair] - before, 0, available)
        extra[back_arc] -= taken
        given_back = np.bincount(back_pair, weights=taken, minlength=pairs).astype(np.int64)
        amount -= given_back
        back_cap -= given_back
        rest = np.flatnonzero((amount > 0) & inner)
        if np.any(representative[rest] < 0):  # pragma: no cover - scipy kept every capacity
            raise RuntimeError("flow solver failed: flow on no admissible arc")
        extra[representative[rest]] += amount[rest]
        back_cap[reverse_of[representative[rest]]] += amount[rest]
    flows: list[int] = (low + extra).tolist()  # Python ints at once (int() per element: 15 times slower)
    return flows


def _useful(graph: csr_matrix, source: int, sink: int) -> tuple[csr_matrix, np.ndarray]:
    """The part of a capacity graph that a maximum flow from ``source`` to ``sink`` can use, renumbered.

    Only nodes reachable from the source and reaching the sink (over arcs of positive capacity) are kept, in
    their order (so every row keeps its arcs in the same order); the source and the sink come last, as in the
    solver's graphs. Dinic's method (scipy's) gives the same flow on this part as on the whole graph: a node off
    every source-to-sink path never gets on one (a residual arc appears only against flow pushed along such a
    path), its level does not change the levels on the paths, and the depth-first search only backs out of it,
    pushing nothing. The part is much smaller than the graph, and each of Dinic's rounds resets arrays over
    every node: 0.43 s -> 0.13 s of maximum flows at 50,000 GraphWalker vertices. Returns the part and the
    original number of each of its nodes.
    """
    import numpy as np

    size = graph.shape[0]
    useful = _reached_from(graph, source) & _reached_from(graph.T.tocsr(), sink)
    useful[[source, sink]] = True  # (when the sink is out of reach, the flow is zero all the same)
    kept_nodes = np.flatnonzero(useful)
    number = np.cumsum(useful, dtype=np.int32) - 1
    rows = np.repeat(np.arange(size, dtype=np.int32), np.diff(graph.indptr))
    cols = graph.indices
    kept = useful[rows] & useful[cols]
    part = _csr_by_rows(number[rows[kept]], number[cols[kept]], graph.data[kept], len(kept_nodes))
    return part, kept_nodes.astype(np.int64)


def _sorted_unique(values: np.ndarray) -> np.ndarray:
    """``np.unique(values)`` by a sort: numpy 2's ``unique`` hashes first and then sorts anyway, 100 times slower
    on the 400,000 keys of a 50,000-vertex model (0.3 s against 3 ms, more than every Dijkstra together)."""
    import numpy as np

    ordered = np.sort(values)
    if len(ordered) < 2:
        return ordered
    distinct = np.empty(len(ordered), dtype=bool)
    distinct[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=distinct[1:])
    return ordered[distinct]


def _solve_networkx(net: _Network, objective: Sequence[int], fixed_return: int | None) -> list[int]:
    import networkx as nx  # type: ignore[import-untyped]

    graph = nx.MultiDiGraph()
    demand = [0] * net.nodes
    lower = list(net.lower)
    upper: list[int | None] = [None] * len(lower)
    if fixed_return is not None:
        lower[net.ret] = fixed_return
        upper[net.ret] = fixed_return
    for i, (a, b) in enumerate(zip(net.tail, net.head, strict=True)):
        demand[a] += lower[i]
        demand[b] -= lower[i]
    graph.add_nodes_from((v, {"demand": demand[v]}) for v in range(net.nodes))
    keys = []
    for i, (a, b) in enumerate(zip(net.tail, net.head, strict=True)):
        attrs: dict[str, int] = {"weight": int(objective[i])}
        cap = upper[i]
        if cap is not None:
            attrs["capacity"] = cap - lower[i]
        keys.append((a, b, graph.add_edge(a, b, **attrs)))
    _, flow = nx.network_simplex(graph)
    return [lower[i] + flow[a][b][k] for i, (a, b, k) in enumerate(keys)]


def _solve_ssp(net: _Network, objective: Sequence[int], fixed_return: int | None) -> list[int]:
    """Min-cost circulation with lower bounds by successive shortest paths (SPFA), exact in integers."""
    n = net.nodes + 2
    source, sink = n - 2, n - 1
    head: list[int] = []
    cap: list[int] = []
    cost: list[int] = []
    adj: list[list[int]] = [[] for _ in range(n)]
    big = 1 + (sum(net.lower) + (fixed_return or 0)) * 2 + 1

    def arc(a: int, b: int, c: int, w: int) -> int:
        adj[a].append(len(head))
        head.append(b)
        cap.append(c)
        cost.append(w)
        adj[b].append(len(head))
        head.append(a)
        cap.append(0)
        cost.append(-w)
        return len(head) - 2

    excess = [0] * net.nodes
    ids = []
    for i, (a, b) in enumerate(zip(net.tail, net.head, strict=True)):
        low = net.lower[i]
        if i == net.ret and fixed_return is not None:
            low = fixed_return
            ids.append(arc(a, b, 0, objective[i]))
        else:
            ids.append(arc(a, b, big, objective[i]))
        excess[b] += low
        excess[a] -= low
    need = 0
    for v, x in enumerate(excess):
        if x > 0:
            arc(source, v, x, 0)
            need += x
        elif x < 0:
            arc(v, sink, -x, 0)
    while need:
        dist: list[int | None] = [None] * n
        via = [-1] * n
        dist[source] = 0
        queue = deque([source])
        queued = [False] * n
        queued[source] = True
        while queue:
            v = queue.popleft()
            queued[v] = False
            dv = dist[v]
            assert dv is not None
            for a in adj[v]:
                if cap[a] > 0:
                    w = head[a]
                    nd = dv + cost[a]
                    dw = dist[w]
                    if dw is None or nd < dw:
                        dist[w] = nd
                        via[w] = a
                        if not queued[w]:
                            queued[w] = True
                            queue.append(w)
        if dist[sink] is None:  # pragma: no cover - every lower bound lies on a start-to-end walk
            raise RuntimeError("flow solver failed: infeasible")
        push = need
        v = sink
        while v != source:
            a = via[v]
            push = min(push, cap[a])
            v = head[a ^ 1]
        v = sink
        while v != source:
            a = via[v]
            cap[a] -= push
            cap[a ^ 1] += push
            v = head[a ^ 1]
        need -= push
    lows = [fixed_return if i == net.ret and fixed_return is not None else low for i, low in enumerate(net.lower)]
    return [lows[i] + cap[a ^ 1] for i, a in enumerate(ids)]


def _solver(solver: Solver) -> Callable[[_Network, Sequence[int], int | None], list[int]]:
    return {"highs": _solve_highs, "networkx": _solve_networkx}.get(solver, _solve_primal_dual)


def _solve(net: _Network, solver: Solver, length: bool) -> list[int]:
    if solver == "ssp" or (solver == "auto" and len(net.tail) <= SMALL):
        objective = [0] * len(net.tail)
        if length:
            weight = 1 + sum(net.cost) * max(1, sum(net.lower))
            objective = list(net.cost)
            objective[net.ret] = weight
        else:
            objective[net.ret] = 1
        return _solve_ssp(net, objective, None)
    solve = _solver(solver)
    phase1 = [0] * len(net.tail)
    phase1[net.ret] = 1
    flow = solve(net, phase1, None)
    if not length:
        return flow
    return solve(net, net.cost, flow[net.ret])


def min_count(g: Digraph, req_edges: Iterable[int], req_vertices: Iterable[int] = (), solver: Solver = "auto") -> int:
    """The minimum number of s-t walks covering the required items (all must lie on some s-t walk)."""
    alive_v, alive_e = g.alive()
    net = _network(g, set(req_edges), set(req_vertices), alive_v, alive_e)
    return _solve(net, solver, length=False)[net.ret]


def min_cover(g: Digraph, req_edges: Iterable[int], req_vertices: Iterable[int] = (), solver: Solver = "auto") -> Cover:
    """The fewest s-t walks covering every required edge and vertex, shortest in total among those."""
    redges, rverts = set(req_edges), set(req_vertices)
    alive_v, alive_e = g.alive()
    for e in redges:
        if not alive_e[e]:
            raise ValueError(f"required edge {e} is on no start-to-end walk")
    for v in rverts:
        if not alive_v[v]:
            raise ValueError(f"required vertex {v} is on no start-to-end walk")
    net = _network(g, redges, rverts, alive_v, alive_e)
    flow = _solve(net, solver, length=True)
    count = flow[net.ret]
    if net.comp_internal and count:
        exact = _shortest_walks(g, redges, rverts, alive_v, alive_e, count, solver)
        if exact is not None:
            return Cover(exact, count, length_optimal=True)
    paths = _decompose(net, flow, count)
    walks = _lift(g, net, paths, redges, rverts, alive_e)
    return Cover(walks, count, length_optimal=not net.comp_internal)


def _shortest_walks(
    g: Digraph, redges: set[int], rverts: set[int], alive_v: list[bool], alive_e: list[bool], count: int, solver: Solver
) -> list[list[int]] | None:
    """On a graph with loops: the minimum-length circulation on the graph itself with ``count`` walks.

    Any ``count`` covering walks form such a circulation, so its cost bounds their total length from below. When
    the arcs it uses are connected, an Euler circuit through them, cut at the return arc, gives ``count`` walks
    of exactly that length: the bound is met. Otherwise (a loop the flow tours on its own) return None.
    """
    # vertices are split (in -> out, lower bound 1) only when some must be passed; otherwise a vertex is one node
    split = 2 if rverts else 1
    out_of = 1 if rverts else 0
    live = [e for e in range(len(g.src)) if alive_e[e]]
    tail = [2 * v for v in range(g.n)] if rverts else []
    head = [2 * v + 1 for v in range(g.n)] if rverts else []
    lower = [1 if v in rverts else 0 for v in range(g.n)] if rverts else []
    cost = [0] * len(tail)
    edge = [-1] * len(tail)
    src, dst = g.src, g.dst
    tail += [split * src[e] + out_of for e in live]
    head += [split * dst[e] for e in live]
    lower += [1 if e in redges else 0 for e in live]
    cost += [g.cost[e] for e in live]
    edge += live
    ret = len(tail)
    tail.append(split * g.t + out_of)
    head.append(split * g.s)
    lower.append(0)
    cost.append(0)
    edge.append(-1)
    net = _Network(split * g.n, tail, head, lower, cost, edge, ret, list(range(g.n)), {})
    if solver == "ssp" or (solver == "auto" and len(tail) <= SMALL):
        flow = _solve_ssp(net, cost, count)
    else:
        flow = _solver(solver)(net, cost, count)
    used = [i for i, f in enumerate(flow) if f > 0]
    if not _connected(net.nodes, [tail[i] for i in used], [head[i] for i in used]):
        return None
    # Hierholzer's method from the start; at each node the arcs are taken in the order of their numbers, each as
    # often as its flow: a list per node of what is left, in reverse (taken from its end)
    left: list[list[int]] = [[] for _ in range(net.nodes)]
    for i in reversed(used):
        left[tail[i]] += [i] * flow[i]
    nodes, vias = [split * g.s], [-1]
    circuit: list[int] = []
    while nodes:
        arcs = left[nodes[-1]]
        if arcs:
            a = arcs.pop()
            nodes.append(head[a])
            vias.append(a)
        else:
            nodes.pop()
            via = vias.pop()
            if via >= 0:
                circuit.append(via)
    circuit.reverse()
    last = len(circuit) - 1 - circuit[::-1].index(ret)  # the last return
    circuit = circuit[last + 1 :] + circuit[: last + 1]
    walks: list[list[int]] = []
    current: list[int] = []
    for a in circuit:
        if a == ret:
            walks.append(current)
            current = []
        elif edge[a] >= 0:
            current.append(edge[a])
    return walks


def _connected(nodes: int, tails: list[int], heads: list[int]) -> bool:
    """Whether the arcs ``tails[i] -> heads[i]`` (at least one) are all in one weakly connected component."""
    import numpy as np
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    rows = np.array(tails, dtype=np.int32)
    graph = coo_matrix((np.ones(len(rows), dtype=np.int8), (rows, np.array(heads, dtype=np.int32))), (nodes, nodes))
    _, labels = connected_components(graph.tocsr(), directed=True, connection="weak")
    return bool(len(rows)) and bool((labels[rows] == labels[rows[0]]).all())


def _decompose(net: _Network, flow: list[int], count: int) -> list[list[int]]:
    out: list[list[int]] = [[] for _ in range(net.nodes)]
    for i, a in enumerate(net.tail):
        if i != net.ret and flow[i] > 0:
            out[a].append(i)
    remaining = list(flow)
    start, end = net.head[net.ret], net.tail[net.ret]
    paths: list[list[int]] = []
    for _ in range(count):
        v, arcs = start, []
        while v != end:
            arc = next((i for i in out[v] if remaining[i] > 0), None)
            if arc is None:
                break
            remaining[arc] -= 1
            if net.edge[arc] >= 0:
                arcs.append(net.edge[arc])
            v = net.head[arc]
        paths.append(arcs)
    return paths


def _lift(
    g: Digraph, net: _Network, paths: list[list[int]], redges: set[int], rverts: set[int], alive_e: list[bool]
) -> list[list[int]]:
    todo_e: dict[int, set[int]] = {}
    todo_v: dict[int, set[int]] = {}
    for e in redges:
        c = net.comp[g.src[e]]
        if c == net.comp[g.dst[e]]:
            todo_e.setdefault(c, set()).add(e)
    for v in rverts:
        c = net.comp[v]
        if c in net.comp_internal:
            todo_v.setdefault(c, set()).add(v)
    walks: list[list[int]] = []
    for path in paths:
        walk: list[int] = []
        here = g.s
        for e in [*path, -1]:
            exit_vertex = g.t if e < 0 else g.src[e]
            c = net.comp[here]
            if c in net.comp_internal:
                walk += _tour(g, net, c, here, exit_vertex, todo_e.pop(c, set()), todo_v.pop(c, set()))
            if e >= 0:
                walk.append(e)
                here = g.dst[e]
        walks.append(walk)
    return walks


def _tour(g: Digraph, net: _Network, c: int, start: int, finish: int, edges: set[int], vertices: set[int]) -> list[int]:
    """A walk inside component ``c`` from ``start`` to ``finish`` through every item given (greedy)."""
    inside = set(net.comp_internal[c])
    walk: list[int] = []
    here = start
    vertices.discard(here)

    def step(e: int) -> None:
        nonlocal here
        walk.append(e)
        edges.discard(e)
        here = g.dst[e]
        vertices.discard(here)

    while edges or vertices:
        direct = next((e for e in g.out[here] if e in edges), None)
        if direct is not None:
            step(direct)
            continue
        for e in _route(g, inside, here, lambda v: v in vertices or any(x in edges for x in g.out[v])):
            step(e)
    for e in _route(g, inside, here, lambda v: v == finish):
        step(e)
    return walk


def _route(g: Digraph, inside: set[int], start: int, goal: Callable[[int], bool]) -> list[int]:
    """Shortest edge sequence (inside the component) from ``start`` to the first vertex satisfying ``goal``."""
    if goal(start):
        return []
    parent: dict[int, int] = {start: -1}
    queue = deque([start])
    while queue:
        v = queue.popleft()
        for e in g.out[v]:
            if e not in inside:
                continue
            w = g.dst[e]
            if w in parent:
                continue
            parent[w] = e
            if goal(w):
                route = []
                while w != start:
                    e2 = parent[w]
                    route.append(e2)
                    w = g.src[e2]
                return route[::-1]
            queue.append(w)
    raise RuntimeError("component is not strongly connected")  # pragma: no cover
