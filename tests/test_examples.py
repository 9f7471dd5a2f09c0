"""The bundled examples: each loads, validates without errors or warnings, has the features it is there to
show, and every decision in it lies on at least one feasible start-to-end path.

Feasibility is checked here by an independent, brute-force explorer (not the generator): parameters are fixed
for a whole test (one value each, as in ``TestCase.data``); variables start at their initial values and change
by the assignments of the rows taken; a call node runs the called workflow from its start and, at one of its
ends, continues with the call node's rows whose ``after`` names that end (or is omitted).
"""

from __future__ import annotations

import functools
import itertools
from collections import deque
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from flowcase.model.expr import Value, evaluate, parse_assignments, parse_condition
from flowcase.model.io import dumps, load_path, loads
from flowcase.model.semantics import same_meaning
from flowcase.model.types import Decision, Model, Node
from flowcase.model.validate import validate

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
NAMES = ("login", "atm-withdrawal", "checkout", "insurance-claim", "order-lifecycle", "password-reset")
MAX_STATES = 200_000

Frame = tuple[str, str]  # (workflow id, node id)
State = tuple[tuple[Frame, ...], tuple[tuple[str, Value], ...]]
Label = tuple[str, str, str]  # (workflow id, node id, decision id)


@functools.cache
def load(name: str) -> Model:
    return load_path(EXAMPLES / f"{name}.yaml").model


@functools.cache
def feasible_in_example(name: str) -> frozenset[Label]:
    return frozenset(feasible_decisions(load(name)))


def _holds(decision: Decision, env: Mapping[str, Value]) -> bool:
    return evaluate(parse_condition(decision.when), env) is True


def _apply(decision: Decision, variables: dict[str, Value], params: Mapping[str, Value]) -> dict[str, Value]:
    before = {**params, **variables}
    after = dict(variables)
    for assignment in parse_assignments(decision.set):
        result = evaluate(assignment.expr, before)
        assert not isinstance(result, tuple)
        after[assignment.target] = result
    return after


def _moves(model: Model, state: State, params: Mapping[str, Value]) -> Iterator[tuple[Label | None, State]]:
    frames, frozen = state
    variables = dict(frozen)
    workflow_id, node_id = frames[-1]
    node = model.workflow(workflow_id).node(node_id)

    def take(owner: Node, owner_workflow: str, decision: Decision, rest: tuple[Frame, ...]) -> tuple[Label, State]:
        new_vars = _apply(decision, variables, params)
        target = (*rest, (owner_workflow, decision.next))
        assert owner.table and decision.id is not None
        return (owner_workflow, owner.id, decision.id), (target, tuple(sorted(new_vars.items())))

    env = {**params, **variables}
    if node.kind == "end":
        if len(frames) == 1:
            return
        caller_workflow, caller_id = frames[-2]
        caller = model.workflow(caller_workflow).node(caller_id)
        for decision in caller.table:
            if decision.after in (None, node.id, node.name) and _holds(decision, env):
                yield take(caller, caller_workflow, decision, frames[:-2])
    elif node.kind == "call":
        assert node.workflow is not None
        callee = model.workflow(node.workflow)
        assert callee.start is not None
        yield None, ((*frames, (callee.id, callee.start.id)), frozen)
    else:
        for decision in node.table:
            if _holds(decision, env):
                yield take(node, workflow_id, decision, frames[:-1])


def feasible_decisions(model: Model) -> set[Label]:
    """Every decision on some feasible start-to-end path of the main workflow, for some parameter values."""
    names = [p.name for p in model.parameters]
    covered: set[Label] = set()
    start = model.main.start
    assert start is not None
    for values in itertools.product(*(p.values for p in model.parameters)):
        params = dict(zip(names, values, strict=True))
        first: State = (((model.main.id, start.id),), tuple(sorted(model.initial_state.items())))
        edges: dict[State, list[tuple[Label | None, State]]] = {}
        todo = deque([first])
        while todo:
            state = todo.popleft()
            if state in edges:
                continue
            edges[state] = list(_moves(model, state, params))
            assert len(edges) <= MAX_STATES, "state space too large: is every loop bounded by a variable?"
            todo.extend(target for _, target in edges[state] if target not in edges)
        finished = {s for s in edges if len(s[0]) == 1 and model.main.node(s[0][0][1]).kind == "end"}
        backward: dict[State, list[State]] = {}
        for source, moves in edges.items():
            for _, target in moves:
                backward.setdefault(target, []).append(source)
        alive = set(finished)
        stack = list(finished)
        while stack:
            for source in backward.get(stack.pop(), ()):
                if source not in alive:
                    alive.add(source)
                    stack.append(source)
        assert first in alive, f"no path reaches an end with {params}"
        covered |= {label for s, moves in edges.items() for label, t in moves if label and t in alive}
    return covered


def all_decisions(model: Model) -> set[Label]:
    return {(w.id, n.id, d.id or "") for w in model.workflows for n, d in w.edges()}


def test_the_explorer_finds_infeasible_rows_and_follows_sub_workflows() -> None:
    model = Model.model_validate(
        {
            "id": "probe",
            "parameters": [{"name": "p", "values": [1, 2]}],
            "variables": [{"name": "n", "initial": 0}],
            "workflows": [
                {
                    "id": "main",
                    "nodes": [
                        {"id": "s", "kind": "start", "next": "loop"},
                        {
                            "id": "loop",
                            "kind": "step",
                            "decisions": [
                                {"id": "again", "when": "n < 2", "set": "n = n + 1", "next": "loop"},
                                {"id": "out", "when": "n == 2", "next": "sub"},
                                {"id": "never", "when": "n > 2", "next": "sub"},
                            ],
                        },
                        {
                            "id": "sub",
                            "kind": "call",
                            "workflow": "w2",
                            "decisions": [
                                {"id": "yes", "after": "ok", "when": "p == 1", "next": "e"},
                                {"id": "no", "after": "bad", "next": "e"},
                                {"id": "stuck", "after": "ok", "when": "p == 3", "next": "e"},
                            ],
                        },
                        {"id": "e", "kind": "end"},
                    ],
                },
                {
                    "id": "w2",
                    "nodes": [
                        {"id": "s", "kind": "start", "next": "c"},
                        {
                            "id": "c",
                            "kind": "choice",
                            "decisions": [
                                {"id": "good", "when": "p == 1", "next": "ok"},
                                {"id": "bad", "when": "p == 2", "next": "bad"},
                            ],
                        },
                        {"id": "ok", "kind": "end"},
                        {"id": "bad", "kind": "end"},
                    ],
                },
            ],
        }
    )
    assert all_decisions(model) - feasible_decisions(model) == {("main", "loop", "never"), ("main", "sub", "stuck")}


# -- every example --------------------------------------------------------------------------------------------


def test_the_examples_directory_holds_exactly_the_documented_examples() -> None:
    assert sorted(p.stem for p in EXAMPLES.glob("*.yaml")) == sorted(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_example_loads_and_validates_cleanly(name: str) -> None:
    loaded = load_path(EXAMPLES / f"{name}.yaml")
    assert loaded.warnings == ()
    assert loaded.model.id == name
    assert [d.format(name) for d in validate(loaded.model)] == []


@pytest.mark.parametrize("name", NAMES)
def test_every_decision_of_the_example_is_on_a_feasible_path(name: str) -> None:
    assert all_decisions(load(name)) - feasible_in_example(name) == set()


@pytest.mark.parametrize("name", NAMES)
def test_every_row_is_written_for_testers(name: str) -> None:
    """Explicit rows carry an explicit id, an action and an expected result; the implicit ones are plain links."""
    model = load(name)
    for workflow in model.workflows:
        for node in workflow.nodes:
            for decision in node.decisions:
                where = f"{workflow.id}/{node.id}#{decision.id}"
                assert decision.id is not None, where
                assert decision.action.strip() and decision.expected.strip(), where
                assert decision.expected.strip() != decision.action.strip(), where
            if node.kind in ("step", "choice", "call"):
                assert node.name, f"{workflow.id}/{node.id} has no display name"


@pytest.mark.parametrize("name", NAMES)
def test_every_end_is_named_and_reached(name: str) -> None:
    model = load(name)
    reached = {
        (w, d.next) for w, n, r in feasible_in_example(name) for d in model.workflow(w).node(n).table if d.id == r
    }
    for workflow in model.workflows:
        for end in workflow.ends:
            assert end.name, f"{workflow.id}/{end.id} has no name"
            assert (workflow.id, end.id) in reached, f"{workflow.id}/{end.id} is never reached"


# -- the features each example is there to show -------------------------------------------------------------


def rows(model: Model) -> list[Decision]:
    return [d for w in model.workflows for _, d in w.edges()]


def test_the_examples_together_use_every_feature_of_the_format() -> None:
    models = [load(name) for name in NAMES]
    decisions = [d for m in models for d in rows(m)]
    assert all(m.parameters and m.variables for m in models if m.id != "password-reset")
    assert all(p.description for m in models for p in m.parameters)
    assert all(v.description for m in models for v in m.variables)
    for field in ("when", "set", "objective", "requirements", "priority", "risk", "tags", "custom", "after"):
        users = [m.id for m in models if any(getattr(d, field) for d in rows(m))]
        assert len(users) >= (1 if field == "after" else 4), (field, users)
    assert {d.priority for d in decisions} >= {"low", "medium", "high", "critical"}
    assert {d.risk for d in decisions} >= {"low", "medium", "high"}
    assert all(k.startswith("DEMO-") for d in decisions for k in d.requirements)
    assert all(n.layout is None for m in models for w in m.workflows for n in w.nodes), "auto-layout draws them"
    assert all(m.description and m.name for m in models)


def test_login_locks_after_three_wrong_passwords() -> None:
    model = load("login")
    assert {v.name: v.initial for v in model.variables} == {"attempts": 0}
    credentials = model.main.node("credentials")
    assert any(d.next == "credentials" and "attempts + 1" in d.set for d in credentials.table), "loop to the form"
    assert {e.name for e in model.main.ends} == {"success", "locked", "cancelled"}
    lock = next(d for d in credentials.table if d.next == "locked" and "attempts" in d.when)
    # the lock happens on the third failure: exactly two wrong attempts can loop back first
    assert evaluate(parse_condition(lock.when), {"account": "active", "attempts": 2}) is True
    assert evaluate(parse_condition(lock.when), {"account": "active", "attempts": 1}) is False


def test_atm_has_pin_retries_amount_checks_and_receipt_choice() -> None:
    model = load("atm-withdrawal")
    domains = model.parameter_domains
    assert set(domains["card"]) == {"valid", "expired", "blocked"}
    assert {"amount", "balance", "withdrawn_today", "receipt"} <= set(domains)
    pin = model.main.node("enter_pin")
    assert any(d.next == "enter_pin" for d in pin.table)
    amount_rows = model.main.node("choose_amount").table
    assert any("balance" in d.when for d in amount_rows) and any("withdrawn_today" in d.when for d in amount_rows)
    assert {e.name for e in model.main.ends} >= {"success", "retained"}


def test_checkout_covers_every_coupon_case_and_payment_method() -> None:
    model = load("checkout")
    assert set(model.parameter_domains["payment"]) == {"card", "paypal", "invoice"}
    coupon_rows = {d.id for d in model.main.node("coupon").table}
    assert coupon_rows == {"none", "valid", "valid_minimum", "expired", "min_not_reached"}
    assert model.main.node("credit_check").kind == "choice"
    assert {e.name for e in model.main.ends} == {"success", "payment-declined", "abandoned"}


def test_insurance_claim_calls_a_sub_workflow_and_continues_by_its_ends() -> None:
    model = load("insurance-claim")
    assert len(model.workflows) == 2
    calls = [n for n in model.main.nodes if n.kind == "call"]
    assert calls
    for call in calls:
        assert call.workflow in model.workflows_by_id
        callee = model.workflow(call.workflow)
        ends = {e.name for e in callee.ends}
        assert ends == {"approved", "rejected", "needs-expert"}
        assert {d.after for d in call.table} == ends


def test_order_lifecycle_has_bounded_loops_cancellation_and_returns() -> None:
    model = load("order-lifecycle")
    loops = [
        (n.id, d.id)
        for n, d in model.main.edges()
        if d.next == n.id
        or (model.main.node(d.next).kind != "end" and any(x.next == n.id for x in model.main.node(d.next).table))
    ]
    assert loops
    assert {"cancelled", "returned", "completed"} <= {e.name for e in model.main.ends}


def test_password_reset_is_guard_free() -> None:
    model = load("password-reset")
    assert all(not d.when and not d.set for d in rows(model))
    assert not model.variables


# -- BPMN versions ------------------------------------------------------------------------------------------

BPMN_DIR = EXAMPLES / "bpmn"
BPMN_NS = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
DI_NS = "{http://www.omg.org/spec/BPMN/20100524/DI}"
FLOW_NODES = {f"{BPMN_NS}{tag}" for tag in ("startEvent", "endEvent", "task", "exclusiveGateway", "callActivity")}
XSD = ROOT / "tests/data/bpmn/xsd/BPMN20.xsd"
REGENERATE = "out of date: run .venv/bin/python examples/regenerate.py"


def test_every_example_has_exactly_one_committed_json_and_bpmn_version() -> None:
    assert sorted(p.stem for p in EXAMPLES.glob("*.json")) == sorted(NAMES)
    assert sorted(p.stem for p in BPMN_DIR.glob("*.bpmn")) == sorted(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_committed_json_is_the_yaml_source_written_as_json(name: str) -> None:
    committed = (EXAMPLES / f"{name}.json").read_text(encoding="utf-8")
    assert committed == dumps(load(name), "json"), REGENERATE
    assert load_path(EXAMPLES / f"{name}.json").model == load(name)


@pytest.mark.parametrize("name", NAMES)
def test_committed_bpmn_is_what_the_exporter_writes_now(name: str) -> None:
    committed = (BPMN_DIR / f"{name}.bpmn").read_text(encoding="utf-8")
    assert committed == dumps(load(name), "bpmn"), REGENERATE


@pytest.mark.parametrize("name", NAMES)
def test_committed_bpmn_loads_back_to_the_same_model(name: str) -> None:
    loaded = load_path(BPMN_DIR / f"{name}.bpmn")
    assert loaded.warnings == ()
    assert same_meaning(load(name), loaded.model, descriptions=True) == []


@pytest.mark.parametrize("name", NAMES)
def test_committed_bpmn_is_schema_valid_and_fully_drawn(name: str) -> None:
    from lxml import etree  # type: ignore[import-untyped]

    document = etree.parse(str(BPMN_DIR / f"{name}.bpmn"))
    schema = etree.XMLSchema(etree.parse(str(XSD)))
    assert schema.validate(document), schema.error_log.last_error
    root = document.getroot()
    flows = root.findall(f".//{BPMN_NS}process/{BPMN_NS}sequenceFlow")
    elements = [e for p in root.iter(f"{BPMN_NS}process") for e in p if e.tag in FLOW_NODES]
    by_id = {e.get("id"): e for e in elements}
    for flow in flows:
        source, target = by_id[flow.get("sourceRef")], by_id[flow.get("targetRef")]
        assert flow.get("id") in [o.text for o in source.findall(f"{BPMN_NS}outgoing")]
        assert flow.get("id") in [i.text for i in target.findall(f"{BPMN_NS}incoming")]
    drawn = {s.get("bpmnElement") for s in root.iter(f"{DI_NS}BPMNShape")}
    routed = {e.get("bpmnElement") for e in root.iter(f"{DI_NS}BPMNEdge")}
    assert len(by_id) == sum(len(w.nodes) for w in load(name).workflows)
    assert set(by_id) <= drawn
    assert {f.get("id") for f in flows} <= routed
    model = load(name)
    calls = {n.id: n.workflow for w in model.workflows for n in w.nodes if n.kind == "call"}
    for call_id, callee in calls.items():
        assert by_id[call_id].tag == f"{BPMN_NS}callActivity"
        assert by_id[call_id].get("calledElement") == callee


@pytest.mark.parametrize("name", NAMES)
def test_example_round_trips_through_graphwalker(name: str) -> None:
    back = loads(dumps(load(name), "graphwalker"), "graphwalker", f"{name}.json")
    assert back.warnings == ()
    assert same_meaning(load(name), back.model, descriptions=True) == []


@pytest.mark.parametrize("name", NAMES)
def test_the_generator_covers_every_decision_with_tests_that_replay_here(name: str) -> None:
    """The generator's all-decisions suite leaves nothing uncovered, and each of its tests, replayed with its
    data by the explorer above, takes only rows whose conditions hold and finishes at the end it names."""
    from flowcase.generate.engine import generate

    model = load(name)
    suite = generate(model)
    assert [c.ref for c in suite.coverage if c.kind == "decision" and not c.covered_by] == []
    assert suite.lower_bound is not None and len(suite.tests) >= suite.lower_bound
    for test in suite.tests:
        params = {p.name: test.data[p.name] for p in model.parameters}
        start = model.main.start
        assert start is not None
        state: State = (((model.main.id, start.id),), tuple(sorted(model.initial_state.items())))
        for step in test.steps:
            label = (step.workflow.split(">")[-1], step.node, step.decision)
            moves = list(_moves(model, state, params))
            while moves and moves[0][0] is None:  # entering a called workflow
                state = moves[0][1]
                moves = list(_moves(model, state, params))
            following = [target for taken, target in moves if taken == label]
            assert following, f"{test.id}: {label} cannot be taken here"
            state = following[0]
        assert len(state[0]) == 1 and state[0][0] == (model.main.id, test.end), test.id


# -- docs/model.md ------------------------------------------------------------------------------------------


def test_the_complete_example_in_the_model_docs_is_valid_and_coverable() -> None:
    import re

    text = (ROOT / "docs/model.md").read_text(encoding="utf-8")
    first_block = re.search(r"```yaml\n(.*?)```", text, re.DOTALL)
    assert first_block is not None
    loaded = loads(first_block.group(1), "yaml", "docs/model.md")
    assert [d.format() for d in validate(loaded.model)] == []
    assert all_decisions(loaded.model) == feasible_decisions(loaded.model)
    assert len(all_decisions(loaded.model)) == 4


def test_the_documented_arithmetic_is_what_the_language_does() -> None:
    for source, value in (("7 / 2", 3), ("-7 / 2", -3), ("7.0 / 2", 3.5), ("-7 % 2", -1), ("true == 1", False)):
        assert f"`{source}`" in (ROOT / "docs/model.md").read_text(encoding="utf-8")
        assert evaluate(parse_condition(source), {}) == value


def test_assignments_of_one_row_are_simultaneous_as_documented() -> None:
    from flowcase.generate.engine import generate

    assert "`a = b; b = a` swaps two variables" in (ROOT / "docs/model.md").read_text(encoding="utf-8")
    model = Model.model_validate(
        {
            "id": "swap",
            "variables": [{"name": "a", "initial": 1}, {"name": "b", "initial": 2}],
            "workflows": [
                {
                    "id": "main",
                    "nodes": [
                        {
                            "id": "s",
                            "kind": "start",
                            "decisions": [{"id": "swap", "set": "a = b; b = a", "next": "check"}],
                        },
                        {
                            "id": "check",
                            "kind": "choice",
                            "decisions": [
                                {"id": "swapped", "when": "a == 2 and b == 1", "next": "e"},
                                {"id": "not_swapped", "when": "not (a == 2 and b == 1)", "next": "e"},
                            ],
                        },
                        {"id": "e", "kind": "end"},
                    ],
                }
            ],
        }
    )
    assert ("main", "check", "not_swapped") not in feasible_decisions(model)
    suite = generate(model)
    assert {c.ref: bool(c.covered_by) for c in suite.coverage if c.kind == "decision"} == {
        "main/s#swap": True,
        "main/check#swapped": True,
        "main/check#not_swapped": False,
    }
