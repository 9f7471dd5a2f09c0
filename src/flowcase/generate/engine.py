"""``generate(model, options)``: the suite for a criterion, minimal where provable, feasible always."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from flowcase.gcpause import paused_gc
from flowcase.generate import assemble, data, paths
from flowcase.generate.cover import covered_by, digraph, lower_bound, passed, reached, structural_cover
from flowcase.generate.graph import FlatGraph, NoRoute, flatten
from flowcase.generate.guards import Found, Goal, Logic, Searcher, Waypoint
from flowcase.generate.options import GenerateOptions, GenerationError
from flowcase.generate.suite import CoverageItem, Suite, TestCase
from flowcase.generate.targets import Target, filtered, focus_pairs, matches, pairs, step_vertices, targets
from flowcase.model.expr import EvalError, Value, evaluate, format_value, parse_assignments
from flowcase.model.types import Model

Progress = Callable[[str, int, int], None]
SEARCH_LIMIT = 20_000  # node expansions per target search


@dataclass
class Context:
    """The state of one generation run."""

    model: Model
    options: GenerateOptions
    graph: FlatGraph
    logic: Logic
    alive_v: list[bool]
    alive_e: list[bool]
    searcher: Searcher
    reach: list[bool]
    progress: Progress | None = None
    notes: list[str] = field(default_factory=list)
    structural_count: int | None = None  # the proven minimum, when the guard-free cover was feasible as it is

    @classmethod
    def create(cls, model: Model, options: GenerateOptions, progress: Progress | None = None) -> Context:
        options.check()
        graph = flatten(model)
        logic = Logic(graph, options.max_candidates)
        dg = digraph(graph)
        alive_v, alive_e = dg.alive()
        budget = options.search_budget or max(200_000, 200 * len(graph.edges))
        searcher = Searcher(logic, alive_v, budget)
        return cls(model, options, graph, logic, alive_v, alive_e, searcher, dg.reach(), progress)

    def feasible(self, walk: list[int]) -> Found | None:
        for chunk in range(min(self.logic.chunks(), 8)):
            space = self.logic.space(chunk)
            mask = self.logic.feasible(walk, space)
            if mask:
                return Found(walk, space, mask)
        return None

    def search(self, goal: Goal) -> tuple[Found | None, str]:
        """A feasible walk for ``goal``, or the reason there is none."""
        exhausted_all = True
        chunks = min(self.logic.chunks(), 8)
        for chunk in range(chunks):
            found, exhausted = self.searcher.search(goal, self.logic.space(chunk), SEARCH_LIMIT)
            if found is not None:
                return found, ""
            exhausted_all &= exhausted
            if self.searcher.used > self.searcher.budget:
                break
        if not exhausted_all:
            return None, (
                f"search budget: no feasible path found within the search budget ({SEARCH_LIMIT} expansions per target)"
            )
        if self.logic.chunks() > chunks:
            tried = chunks * self.options.max_candidates
            return None, f"search budget: no feasible path found among the first {tried} parameter combinations"
        return None, self.explain(goal)

    def _prefix(self, waypoints: tuple[Waypoint, ...]) -> tuple[Found | None, bool]:
        """A feasible walk from the start through ``waypoints`` that need not reach an end."""
        exhausted_all = True
        for chunk in range(min(self.logic.chunks(), 8)):
            found, exhausted = self.searcher.search(Goal(waypoints, prefix=True), self.logic.space(chunk), SEARCH_LIMIT)
            if found is not None:
                return found, True
            exhausted_all &= exhausted
        return None, exhausted_all

    def explain(self, goal: Goal) -> str:
        """Why no feasible start-to-end walk meets ``goal``: a dead end, contradictory conditions or an unreachable
        state (each search exhausted); the general sentence when the explaining searches run out of budget."""
        general = "no feasible path: the conditions along every path through it contradict each other"
        if len(goal.waypoints) != 1 or goal.avoid_edges or goal.avoid_vertices or goal.ends is not None:
            return general
        g = self.graph
        wp = goal.waypoints[0]
        anchor = wp.vertex if wp.vertex >= 0 else g.edges[wp.edges[0]].src
        place = g.vertices[anchor]
        node = f"'{place.node.label}'" if place.node is not None else "its node"
        through, done = self._prefix(goal.waypoints)
        if through is not None:
            state = self._state_after(through)
            return (
                f"dead end: it can be taken{state}, but no end can be reached after it "
                "(the conditions further on never let a test finish)"
            )
        if not done:
            return general
        if wp.vertex >= 0:
            return (
                f"unreachable state: no feasible path reaches {node} (the conditions before it contradict each other)"
            )
        reached, done = self._prefix((Waypoint(vertex=anchor),))
        if reached is not None:
            if len(wp.edges) == 2:
                return (
                    f"contradictory conditions: {node} is reached, but these two decisions never follow each "
                    "other with their conditions holding"
                )
            decision = g.edges[wp.edges[0]].decision
            when = decision.when if decision is not None else ""
            return f"contradictory conditions: {node} is reached, but its condition '{when}' never holds there"
        if not done:
            return general
        return f"unreachable state: no feasible path reaches {node} (the conditions before it contradict each other)"

    def _state_after(self, found: Found) -> str:
        """' (with a = 1, after it: v = 2)' for the first candidate of a found walk; empty when nothing to say."""
        index = (found.mask & -found.mask).bit_length() - 1
        data = found.space.assignment(index) if found.space.params else {}
        env: dict[str, Value] = {**data, **self.model.initial_state}
        for e in found.walk:
            decision = self.graph.edges[e].decision
            if decision is None or not decision.set:
                continue
            after = dict(env)
            for a in parse_assignments(decision.set):
                try:
                    value = evaluate(a.expr, env)
                except EvalError:
                    return ""
                if not isinstance(value, tuple):
                    after[a.target] = value
            env = after
        parts = [", ".join(f"{k} = {format_value(v)}" for k, v in data.items())]
        variables = ", ".join(f"{v.name} = {format_value(env[v.name])}" for v in self.model.variables)
        if variables:
            parts.append(f"after it: {variables}")
        text = "; ".join(p for p in parts if p)
        return f" (with {text})" if text else ""

    def structural_reason(self, target: Target) -> str | None:
        g = self.graph
        wp = target.waypoint
        vertices = [wp.vertex] if wp.vertex >= 0 else [g.edges[e].src for e in wp.edges]
        edges = list(wp.edges)
        for v in vertices:
            if not self.reach[v]:
                return "not reachable from the start"
        for e in edges:
            if not self.alive_e[e]:
                return "no end of the main workflow can be reached after it"
        for v in vertices:
            if not self.alive_v[v]:
                return "no end of the main workflow can be reached after it"
        for e in edges:
            if self.logic.never(e):
                decision = g.edges[e].decision
                return f"condition '{decision.when if decision else ''}' can never hold"
        return None


def generate(
    model: Model,
    options: GenerateOptions | None = None,
    progress: Progress | None = None,
    pins: Sequence[TestCase] = (),
) -> Suite:
    """Generate the test suite of ``model`` for ``options`` (default: all decisions, one data row per test).

    ``pins`` are tests a user pinned: they are kept exactly (path, data, id, name) and the rest of the suite is
    the fewest tests covering what they do not; a pin that no longer fits the model is a :class:`GenerationError`.
    """
    with paused_gc():
        return _generate(model, options, progress, pins)


def pinned_walks(ctx: Context, pins: Sequence[TestCase]) -> list[Found]:
    """The walks of pinned tests, each checked against the model with its own data."""
    found = []
    for pin in pins:
        try:
            walk = walk_of(ctx.graph, pin)
        except PathGone:
            raise GenerationError(
                f"pinned test {pin.id} no longer fits the model: its path is gone; unpin it or restore the path"
            ) from None
        for row in (pin.data, *pin.variants):
            failure = assemble.check_feasible(ctx.model, ctx.graph, walk, row)
            if failure is not None:
                raise GenerationError(
                    f"pinned test {pin.id} no longer fits the model: {failure}; unpin it or change its data"
                )
        feasible = ctx.feasible(walk)
        if feasible is None:  # pragma: no cover - its own data makes it feasible
            raise GenerationError(f"pinned test {pin.id} is infeasible")
        found.append(feasible)
    return found


def _generate(
    model: Model, options: GenerateOptions | None, progress: Progress | None, pins: Sequence[TestCase] = ()
) -> Suite:
    ctx = Context.create(model, options or GenerateOptions(), progress)
    if pins:
        if ctx.options.criterion in ("all-paths", "purposes"):
            raise GenerationError(
                f"pinned tests work with all-steps, all-decisions and all-pairs, not {ctx.options.criterion}"
            )
        return _generate_pinned(ctx, pins)
    criterion = ctx.options.criterion
    if criterion == "all-paths":
        found, items = paths.all_paths(ctx)
        return finish(ctx, found, {}, len(found), [], extra_items=items)
    if criterion == "purposes":
        items, tests = paths.purposes(ctx)
        return finish(ctx, [], {}, None, [], extra_items=items, tests=tests)
    found, reasons, wanted = cover_targets(ctx, targets(ctx.graph, ctx.options), previous=())
    bound = ctx.structural_count
    if bound is None:
        bound = lower_bound(ctx.graph, [t for t in wanted if t.ref not in reasons])
    return finish(ctx, found, reasons, bound, wanted)


def _generate_pinned(ctx: Context, pins: Sequence[TestCase]) -> Suite:
    fixed = pinned_walks(ctx, pins)
    found, reasons, wanted = cover_targets(ctx, targets(ctx.graph, ctx.options), previous=fixed, pinned=len(fixed))
    done: set[str] = set()
    for f in fixed:
        done |= covered_by(ctx.graph, f.walk)
    rest = [t for t in wanted if t.ref not in reasons and t.ref not in done]
    if ctx.options.criterion == "all-pairs":
        rest += [
            t
            for t in targets(
                ctx.graph, GenerateOptions(priority=ctx.options.priority, risk=ctx.options.risk, tags=ctx.options.tags)
            )
            if t.ref not in reasons and t.ref not in done
        ]
    bound = len(fixed) + (lower_bound(ctx.graph, rest) if rest else 0)
    return finish(ctx, found, reasons, bound, wanted, pins=pins)


def cover_targets(
    ctx: Context, wanted: list[Target], previous: Sequence[Found], pinned: int = 0
) -> tuple[list[Found], dict[str, str], list[Target]]:
    """Feasible walks covering every coverable target, starting from ``previous`` (kept as they are)."""
    if ctx.options.criterion == "all-pairs":
        wanted = [
            *wanted,
            *targets(
                ctx.graph,
                GenerateOptions(
                    criterion="all-decisions",
                    priority=ctx.options.priority,
                    risk=ctx.options.risk,
                    tags=ctx.options.tags,
                ),
            ),
        ]
    reasons: dict[str, str] = {}
    candidates = []
    for t in wanted:
        why = ctx.structural_reason(t)
        if why is None:
            candidates.append(t)
        else:
            reasons[t.ref] = why
    kept: list[Found] = list(previous)
    done: set[str] = set()  # refs only matter as far as they are candidates'
    with_pairs = _pairs_among(candidates)
    for f in kept:
        done |= covered_by(ctx.graph, f.walk, with_pairs)
    todo = [t for t in candidates if t.ref not in done]
    if todo:
        cover = structural_cover(ctx.graph, todo)
        if not cover.length_optimal:
            ctx.notes.append("the model has loops: the total length of the tests may not be minimal")
        infeasible = []
        for walk in cover.walks:
            feasible = ctx.feasible(walk)
            if feasible is not None:
                kept.append(feasible)
                done |= covered_by(ctx.graph, walk, with_pairs)
            else:
                infeasible.append(walk)
        if not infeasible and not previous and len(todo) == len(wanted):
            ctx.structural_count = cover.count
            return kept, reasons, wanted
        by_ref = {t.ref: t for t in candidates}
        for i, walk in enumerate(infeasible):  # keep as many of the walk's targets together as conditions allow
            if ctx.progress:
                ctx.progress("repairing infeasible paths", i, len(infeasible))
            on_walk = [by_ref[r] for r in reached(ctx.graph, walk) if r in by_ref and r not in done]
            packed = _pack(ctx, on_walk)
            if packed is not None:
                kept.append(packed)
                done |= covered_by(ctx.graph, packed.walk, with_pairs)
    todo = [t for t in candidates if t.ref not in done]
    for i, t in enumerate(todo):
        if ctx.progress:
            ctx.progress("searching feasible paths", i, len(todo))
        if t.ref in done:
            continue
        searched, why = ctx.search(Goal((t.waypoint,)))
        if searched is None:
            reasons[t.ref] = why
            continue
        kept.append(searched)
        done |= covered_by(ctx.graph, searched.walk, with_pairs)
    fixed = len(previous)
    return fixed_then_pruned(ctx, kept, fixed, [t for t in candidates if t.ref not in reasons], pinned), reasons, wanted


def _pack(ctx: Context, wanted: list[Target]) -> Found | None:
    """A feasible walk through as many of ``wanted`` (in order) as possible, adding them one at a time."""
    best: Found | None = None
    waypoints: list[Waypoint] = []
    for t in wanted:
        if best is not None and t.ref in covered_by(ctx.graph, best.walk):
            continue
        found, _ = ctx.search(Goal((*waypoints, t.waypoint)))
        if found is not None:
            best = found
            waypoints.append(t.waypoint)
    return best


def _pairs_among(targets: Sequence[Target]) -> bool:
    """Whether a pair of decisions is among the targets (only then do covered refs need pairs)."""
    return any(len(t.waypoint.edges) == 2 for t in targets)


def fixed_then_pruned(
    ctx: Context, walks: list[Found], fixed: int, wanted: list[Target], pinned: int = 0
) -> list[Found]:
    """Drop walks (newest first) whose wanted targets the other walks cover too; the first ``pinned`` stay."""
    refs = {t.ref for t in wanted}
    with_pairs = _pairs_among(wanted)
    cover = [covered_by(ctx.graph, f.walk, with_pairs) & refs for f in walks]
    count: dict[str, int] = {}
    for c in cover:
        for ref in c:
            count[ref] = count.get(ref, 0) + 1
    keep = [True] * len(walks)
    for i in reversed(range(pinned, len(walks))):
        if all(count[ref] >= 2 for ref in cover[i]):
            keep[i] = False
            for ref in cover[i]:
                count[ref] -= 1
    return [w for w, k in zip(walks, keep, strict=True) if k]


def finish(
    ctx: Context,
    found: list[Found],
    reasons: dict[str, str],
    bound: int | None,
    wanted: list[Target],
    extra_items: Sequence[CoverageItem] = (),
    tests: list[TestCase] | None = None,
    pins: Sequence[TestCase] = (),
) -> Suite:
    """Build the tests, check each against the model, and assemble the suite with its coverage."""
    g = ctx.graph
    if tests is None:
        found = sorted(found, key=lambda f: f.walk)
        unique: dict[str, Found] = {}  # by path key, the first of each
        for f in found:
            unique.setdefault(assemble.path_key(g, f.walk), f)
        tests = [data.make_test(ctx, f, key) for key, f in unique.items()]
        keys = list(unique)
        tests = assemble.unique_ids(assemble.unique_names(tests, g.model), keys)
        walks = [f.walk for f in unique.values()]  # each test was built from its walk
        if pins:  # pinned tests stay exactly as they were pinned
            by_key = {assemble.path_key(g, walk_of(g, p)): p.model_copy(update={"pinned": True}) for p in pins}
            tests = [by_key.get(k, t) for t, k in zip(tests, keys, strict=True)]
            walks = [walk_of(g, t) if t.pinned else w for t, w in zip(tests, walks, strict=True)]
    else:
        walks = [walk_of(g, t) for t in tests]
    for t, walk in zip(tests, walks, strict=True):
        for row in (t.data, *t.variants):
            failure = assemble.check_feasible(ctx.model, g, walk, row)
            if failure is not None:
                raise RuntimeError(f"internal error: generated test {t.id} is infeasible: {failure}")
    coverage = _coverage(ctx, tests, walks, reasons, wanted, extra_items)
    optimal = bound is not None and len(tests) == bound
    return Suite(
        model=ctx.model.id,
        model_name=ctx.model.name,
        model_hash=assemble.model_hash(ctx.model),
        criterion=ctx.options.criterion,
        options=ctx.options.to_suite_options(),
        tests=tuple(tests),
        coverage=tuple(coverage),
        lower_bound=bound,
        optimal=optimal,
        notes=tuple(sorted(set(ctx.notes))),
    )


class PathGone(LookupError):
    """A test's path is not in the model any more: a step is gone, the steps do not connect, or it ends elsewhere."""


def walk_of(g: FlatGraph, test: TestCase) -> list[int]:
    """The walk of a test's steps in ``g``; raises :class:`PathGone` when a step no longer exists or does not
    connect."""
    walk: list[int] = []
    here = g.source
    known: dict[int, int] = {}  # a step object met before -> its edge (a long walk passes decisions again)
    for step in test.steps:
        e = known.get(id(step))
        if e is None:
            e = g.edge_by_ref.get(f"{step.workflow}/{step.node}#{step.decision}")
            if e is None:
                raise PathGone(f"step {step.workflow}/{step.node}#{step.decision} is gone")
            known[id(step)] = e
        try:
            walk += g.synthetic_route(here, g.edges[e].src) if here != g.edges[e].src else []
        except NoRoute:
            raise PathGone(f"step {step.node} no longer follows the previous one") from None
        walk.append(e)
        here = g.edges[e].dst
    try:
        walk += g.synthetic_route(here, g.sink)
    except NoRoute:
        raise PathGone("the path does not end at an end of the main workflow") from None
    end = g.main_ends.get(g.edges[walk[-1]].src) if walk else None
    if end is None or end.id != test.end:
        raise PathGone("the path ends elsewhere")
    return walk


def _coverage(
    ctx: Context,
    tests: list[TestCase],
    walks: list[list[int]],
    reasons: dict[str, str],
    wanted: list[Target],
    extra: Sequence[CoverageItem],
) -> list[CoverageItem]:
    g = ctx.graph
    criterion = ctx.options.criterion
    with_pairs = criterion == "all-pairs" or bool(ctx.options.focus)  # pair items are listed only then
    tests_of = _pair_tests(g, tests, walks) if with_pairs else _element_tests(g, tests, walks)

    wanted_refs = {t.ref for t in wanted}
    if criterion == "all-pairs":
        wanted_refs |= {e.ref for e in g.decision_edges}

    def item(
        kind: Literal["step", "decision", "pair"], ref: str, default_reason: str | None = None, *, at: int = -1
    ) -> CoverageItem:
        ids = tests_of(ref, at)
        if ids:
            return CoverageItem.trusted_covered(kind, ref, ids)
        reason = reasons.get(ref)
        if reason is None:
            reason = (
                _structural(ctx, ref)
                or default_reason
                or (
                    "excluded by the filters"
                    if filtered(ctx.options)
                    and ref not in wanted_refs
                    and criterion in ("all-steps", "all-decisions", "all-pairs")
                    else f"not required by {criterion}"
                )
            )
        return CoverageItem(kind=kind, ref=ref, reason=reason)

    items = [item("step", g.vertices[v].ref, at=v) for v in step_vertices(g)]
    items += [item("decision", e.ref, at=e.index + len(g.vertices)) for e in g.decision_edges]
    if criterion == "all-pairs":
        items += [item("pair", f"{a.ref}>{b.ref}") for a, b in pairs(g)]
    elif ctx.options.focus:
        items += [item("pair", t.ref) for t in focus_pairs(g, ctx.options)]
    requirement_tests: dict[str, set[str]] = {}
    for e in g.decision_edges:
        if e.decision is None:
            continue
        for req in e.decision.requirements:
            requirement_tests.setdefault(req, set()).update(tests_of(e.ref, e.index + len(g.vertices)))
    for req in sorted(requirement_tests):
        ids = tuple(sorted(requirement_tests[req]))
        items.append(
            CoverageItem(
                kind="requirement",
                ref=req,
                covered_by=ids,
                reason=None if ids else "no test passes a decision linked to it",
            )
        )
    return [*items, *extra]


TestsOf = Callable[[str, int], tuple[str, ...]]  # (ref, element index or -1) -> ids of the tests covering it, sorted


class _Recorded:
    """The tests covering each slot (an element or a ref): the first one, and all of them where several do."""

    def __init__(self, size: int = 0) -> None:
        self.first: list[str | None] = [None] * size
        self.more: dict[int, list[str]] = {}
        self.alone: dict[str, tuple[str, ...]] = {}  # a slot covered by one test (most, in a large model) shares

    def add(self, slot: int, test: str) -> None:
        first = self.first[slot]
        if first is None:
            self.first[slot] = test
        else:
            self.more.setdefault(slot, [first]).append(test)

    def tests(self, slot: int) -> tuple[str, ...]:
        several = self.more.get(slot)
        if several is not None:
            return tuple(sorted(set(several)))
        test = self.first[slot]
        return () if test is None else self.alone.setdefault(test, (test,))


def _element_tests(g: FlatGraph, tests: list[TestCase], walks: list[list[int]]) -> TestsOf:
    """The tests covering each step vertex and decision edge, recorded by index (vertices first, then edges): a
    large model has 150,000 of them, and lists indexed by number stay in the caches where dicts by ref did not."""
    recorded = _Recorded(len(g.vertices) + len(g.edges))
    offset = len(g.vertices)
    for t, walk in zip(tests, walks, strict=True):
        vertices, decisions = passed(g, walk)
        for slot in (*vertices, *(offset + e for e in decisions)):
            recorded.add(slot, t.id)
    return lambda _ref, at: recorded.tests(at) if at >= 0 else ()


def _pair_tests(g: FlatGraph, tests: list[TestCase], walks: list[list[int]]) -> TestsOf:
    """The tests covering each ref, pairs of decisions included."""
    slot_of: dict[str, int] = {}
    recorded = _Recorded()
    for t, walk in zip(tests, walks, strict=True):
        for ref in covered_by(g, walk, True):
            slot = slot_of.setdefault(ref, len(recorded.first))
            if slot == len(recorded.first):
                recorded.first.append(None)
            recorded.add(slot, t.id)
    return lambda ref, _at: recorded.tests(slot_of[ref]) if ref in slot_of else ()


def _structural(ctx: Context, ref: str) -> str | None:
    g = ctx.graph
    if ref in g.edge_by_ref:
        e = g.edge_by_ref[ref]
        return ctx.structural_reason(Target("decision", ref, Waypoint(edges=(e,))))
    if ref in g.vertex_by_ref:
        return ctx.structural_reason(Target("step", ref, Waypoint(vertex=g.vertex_by_ref[ref])))
    return None


__all__ = ["Context", "GenerateOptions", "GenerationError", "generate", "matches"]
