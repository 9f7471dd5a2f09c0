"""Random guard-heavy models: every test is feasible (checked by an independent simulation) and every decision
that a brute-force exploration can take on some start-to-end run is covered."""

from __future__ import annotations

import itertools
from collections import deque

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowcase.generate import generate
from flowcase.model.expr import EvalError, Value, evaluate, parse_assignments, parse_condition
from flowcase.model.types import Decision, Model, Node, Parameter, Variable, Workflow

CONDITIONS = ["", "", "a == 0", "a > 0", "a == 2 and b", "b", "not b", "n < 2", "n >= 1", "n == a"]
SETS = ["", "", "n = n + 1", "n = a", "n = 0"]
CAP = 4  # the brute force ignores runs where n exceeds this


@st.composite
def models(draw: st.DrawFn) -> Model:
    size = draw(st.integers(2, 5))
    nodes = [Node(id="start", kind="start", next="v0")]
    for v in range(size):
        rows = []
        for r in range(draw(st.integers(1, 3))):
            target = draw(st.integers(0, size))
            rows.append(
                Decision(
                    id=f"r{r}",
                    when=draw(st.sampled_from(CONDITIONS)),
                    set=draw(st.sampled_from(SETS)),
                    next="end" if target == size else f"v{target}",
                )
            )
        nodes.append(Node(id=f"v{v}", kind="step", decisions=tuple(rows)))
    nodes.append(Node(id="end", kind="end"))
    return Model(
        id="guarded",
        parameters=(Parameter(name="a", values=(0, 1, 2)), Parameter(name="b", values=(True, False))),
        variables=(Variable(name="n", initial=0),),
        workflows=(Workflow(id="main", nodes=tuple(nodes)),),
    )


def takeable(model: Model) -> set[str]:
    """Decisions taken on at least one complete run (some parameter values, n never above CAP)."""
    wf = model.main
    found: set[str] = set()
    for a, b in itertools.product((0, 1, 2), (True, False)):
        moves: dict[tuple[str, Value], list[tuple[str, tuple[str, Value]]]] = {}
        seen = {("v0", 0)}
        queue = deque([("v0", 0)])
        while queue:
            state = queue.popleft()
            node, n = state
            if node == "end":
                continue
            for d in wf.node(node).table:
                env: dict[str, Value] = {"a": a, "b": b, "n": n}
                try:
                    if evaluate(parse_condition(d.when), env) is not True:
                        continue
                    updates = {x.target: evaluate(x.expr, env) for x in parse_assignments(d.set)}
                except EvalError:
                    continue
                after = updates.get("n", n)
                assert not isinstance(after, tuple)
                if isinstance(after, int) and after > CAP:
                    continue
                nxt = (d.next, after)
                moves.setdefault(state, []).append((f"main/{node}#{d.id}", nxt))
                if nxt not in seen:
                    seen.add(nxt)
                    queue.append(nxt)
        good = {s for s in seen if s[0] == "end"}
        changed = True
        while changed:
            changed = False
            for state, out in moves.items():
                if state not in good and any(nxt in good for _, nxt in out):
                    good.add(state)
                    changed = True
        found |= {ref for state, out in moves.items() for ref, nxt in out if nxt in good}
    return found


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(models())
def test_random_guarded_models(model: Model) -> None:
    suite = generate(model)
    for test in suite.tests:
        env: dict[str, Value] = {**test.data, "n": 0}
        for step in test.steps:
            d = next(x for x in model.main.node(step.node).table if x.id == step.decision)
            assert evaluate(parse_condition(d.when), env) is True
            env.update({x.target: evaluate(x.expr, env) for x in parse_assignments(d.set)})  # type: ignore[misc]
    covered = {c.ref for c in suite.coverage if c.kind == "decision" and c.covered_by}
    missing = takeable(model) - covered
    reasons = {c.ref: c.reason or "" for c in suite.coverage}
    assert all("budget" in reasons[ref] for ref in missing), {ref: reasons[ref] for ref in missing}
    assert suite.lower_bound is None or len(suite.tests) >= suite.lower_bound
