"""Minimality, checked by brute force: on small random graphs (acyclic and cyclic) the min-flow cover has as few
walks as the best cover found by exhaustive search, and on acyclic models the fewest total steps too."""

from __future__ import annotations

import heapq
import itertools
import random
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from flowcase.generate import GenerateOptions, diff, generate
from flowcase.generate.flow import Cover, Digraph, min_count, min_cover
from flowcase.model.types import Decision, Model, Node, Workflow

SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]
)


@st.composite
def graphs(draw: st.DrawFn, cyclic: bool) -> Digraph:
    n = draw(st.integers(3, 6))
    pairs = [(a, b) for a in range(n - 1) for b in range(1, n) if a != b and (cyclic or a < b)]
    chosen = draw(st.lists(st.sampled_from(pairs), min_size=2, max_size=8))
    src = [a for a, _ in chosen] + [a for a in range(n - 1)]  # every vertex can move on
    dst = [b for _, b in chosen] + [a + 1 for a in range(n - 1)]
    return Digraph(n, src, dst, [1] * len(src), 0, n - 1)


def walks(g: Digraph, max_use: int) -> list[list[int]]:
    """Every s-t walk using each edge at most ``max_use`` times (all s-t paths when max_use is 1 on a DAG)."""
    found: list[list[int]] = []
    stack: list[tuple[int, list[int]]] = [(g.s, [])]
    steps = 0
    while stack and steps < 20_000:
        steps += 1
        v, walk = stack.pop()
        if v == g.t:
            found.append(walk)
            continue
        for e in g.out[v]:
            if walk.count(e) < max_use:
                stack.append((g.dst[e], [*walk, e]))
    return found


def brute_min(required: set[str] | set[int], candidates: list[tuple[set[Any], int]]) -> tuple[int, int] | None:
    """(fewest walks covering ``required``, fewest total steps among such covers), or None if none covers.

    Exhaustive: a shortest-path search over the sets of covered items, each walk adding (1, its length)."""
    best_walk: dict[frozenset[Any], int] = {}
    for items, length in candidates:
        key = frozenset(items & required)
        if key and (key not in best_walk or length < best_walk[key]):
            best_walk[key] = length
    goal = frozenset(required)
    dist: dict[frozenset[Any], tuple[int, int]] = {frozenset(): (0, 0)}
    heap: list[tuple[int, int, int, frozenset[Any]]] = [(0, 0, 0, frozenset())]
    tie = 0
    while heap:
        count, length, _, covered = heapq.heappop(heap)
        if covered == goal:
            return count, length
        if dist[covered] < (count, length):
            continue
        for items, walk_length in best_walk.items():
            nxt = covered | items
            if nxt == covered:
                continue
            cost = (count + 1, length + walk_length)
            if nxt not in dist or cost < dist[nxt]:
                dist[nxt] = cost
                tie += 1
                heapq.heappush(heap, (*cost, tie, nxt))
    return None


def live_edges(g: Digraph) -> set[int]:
    """The edges on some path from the start to the end: what a cover must cover."""
    _, alive = g.alive()
    return {e for e in range(len(g.src)) if alive[e]}


def check_walks(g: Digraph, result: list[list[int]], required: set[int]) -> None:
    covered: set[int] = set()
    for walk in result:
        here = g.s
        for e in walk:
            assert g.src[e] == here
            here = g.dst[e]
        assert here == g.t
        covered |= set(walk)
    assert required <= covered


def checked_cover(g: Digraph) -> tuple[set[int], Cover]:
    """The live edges of ``g`` and their minimal cover, whose walks are checked to be walks covering them."""
    required = live_edges(g)
    cover = min_cover(g, required)
    check_walks(g, cover.walks, required)
    return required, cover


@SETTINGS
@given(graphs(cyclic=False))
def test_acyclic_cover_is_minimal_in_count_then_length(g: Digraph) -> None:
    required, cover = checked_cover(g)
    best = brute_min(required, [(set(w), len(w)) for w in walks(g, 1)])
    assert best is not None
    assert (cover.count, sum(map(len, cover.walks))) == best
    assert cover.count == len(cover.walks) == min_count(g, required)
    assert cover.length_optimal


@SETTINGS
@given(graphs(cyclic=True))
def test_cyclic_cover_is_valid_and_never_beaten(g: Digraph) -> None:
    required, cover = checked_cover(g)
    assert cover.count == len(cover.walks)
    best = brute_min(required, [(set(w), len(w)) for w in walks(g, 2)])
    if best is not None:
        assert cover.count <= best[0]
        if cover.length_optimal and cover.count == best[0]:
            assert sum(map(len, cover.walks)) <= best[1]


@SETTINGS
@given(graphs(cyclic=True))
def test_all_solvers_agree(g: Digraph) -> None:
    required = live_edges(g)
    covers = [min_cover(g, required, solver=s) for s in ("ssp", "primal-dual", "highs", "networkx")]
    assert len({c.count for c in covers}) == 1
    if all(c.length_optimal for c in covers):
        assert len({sum(map(len, c.walks)) for c in covers}) == 1


def dag_model(g: Digraph, changed: int = -1) -> Model:
    nodes = [Node(id="start", kind="start", next="v0")]
    for v in range(g.n - 1):
        rows = tuple(
            Decision(id=f"e{e}", action="changed" if e == changed else f"go {e}", next=f"v{g.dst[e]}") for e in g.out[v]
        )
        nodes.append(Node(id=f"v{v}", kind="step", decisions=rows))
    nodes.append(Node(id=f"v{g.n - 1}", kind="end"))
    return Model(id="random", workflows=(Workflow(id="main", nodes=tuple(nodes)),))


@SETTINGS
@given(graphs(cyclic=False), st.sampled_from(["all-decisions", "all-steps", "all-pairs"]))
def test_generated_suites_match_brute_force(g: Digraph, criterion: str) -> None:
    paths = walks(g, 1)
    assume(len(paths) <= 10)  # keeps the exhaustive search small
    model = dag_model(g)
    suite = generate(model, GenerateOptions(criterion=criterion))  # type: ignore[arg-type]
    coverable = [
        c
        for c in suite.coverage
        if c.kind in ("decision", "step", "pair") and (c.covered_by or not (c.reason or "").startswith("not required"))
    ]
    assert all(c.covered_by or "reached" in (c.reason or "") for c in coverable)

    def items(walk: list[int]) -> set[str]:
        refs = {f"v{g.dst[e]}" for e in walk} if criterion == "all-steps" else {f"e{e}" for e in walk}
        if criterion == "all-pairs":
            refs |= {f"e{a}>e{b}" for a, b in itertools.pairwise(walk)}
        return refs

    required: set[str] = set().union(*(items(w) for w in paths))
    best = brute_min(required, [(items(w), len(w)) for w in paths])
    assert best is not None
    total = sum(len(t.steps) for t in suite.tests) - len(suite.tests)  # minus the start row of each test
    assert (len(suite.tests), total) == best
    assert suite.optimal and suite.lower_bound == len(suite.tests)


@SETTINGS
@given(graphs(cyclic=False), st.data())
def test_text_edits_keep_ids_and_diff_sees_only_updates(g: Digraph, data: st.DataObject) -> None:
    model = dag_model(g)
    suite = generate(model)
    edge = data.draw(st.sampled_from(range(len(g.src))))
    node = f"v{g.src[edge]}"
    edited = dag_model(g, changed=edge)
    result = diff(model, edited, suite)
    touched = {t.id for t in suite.tests if any(s.node == node and s.decision == f"e{edge}" for s in t.steps)}
    assert set(result.updated) == touched
    assert set(result.unchanged) == {t.id for t in suite.tests} - touched
    assert not result.new and not result.obsolete
    assert [t.id for t in generate(edited).tests] == [t.id for t in suite.tests]


@pytest.mark.parametrize("seed", range(12))
def test_primal_dual_matches_highs_on_larger_cyclic_graphs(seed: int) -> None:
    """The default solver above 400 arcs against HiGHS's linear program (an independent optimum), on random cyclic
    graphs with zero and unequal step costs: same number of walks and, when both are proven, the same length."""
    rng = random.Random(seed)
    n = rng.randint(20, 80)
    m = rng.randint(2 * n, 6 * n)
    src = [rng.randrange(n - 1) for _ in range(m)] + list(range(n - 1))
    dst = [rng.randrange(1, n) for _ in range(m)] + [a + 1 for a in range(n - 1)]
    g = Digraph(n, src, dst, [rng.choice([0, 1, 1, 2, 5]) for _ in src], 0, n - 1)
    _, alive = g.alive()
    required = {e for e in range(len(src)) if alive[e] and rng.random() < 0.7}
    exact, ours = min_cover(g, required, solver="highs"), min_cover(g, required, solver="primal-dual")
    check_walks(g, ours.walks, required)
    assert ours.count == exact.count == min_count(g, required, solver="primal-dual")
    assert ours.length_optimal == exact.length_optimal
    if ours.length_optimal:
        assert sum(g.cost[e] for w in ours.walks for e in w) == sum(g.cost[e] for w in exact.walks for e in w)
