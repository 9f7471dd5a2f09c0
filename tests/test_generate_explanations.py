"""What generation says about what it cannot cover (dead end, contradictory conditions, unreachable state,
search budget), and the validation warnings for dead-end decisions."""

from __future__ import annotations

from flowcase.generate import GenerateOptions, generate
from flowcase.model.types import Decision, Model, Node, Parameter, Variable, Workflow
from flowcase.model.validate import validate


def _model(*nodes: Node) -> Model:
    return Model(
        id="m",
        parameters=(Parameter(name="a", values=(1, 2)),),
        variables=(Variable(name="v", initial=0),),
        workflows=(Workflow(id="w", nodes=nodes),),
    )


# s --x (a == 1; v = 1)--> n --ok (v == 0)--> e ; s --y (a == 2)--> n ; n --late (v == 2)--> e
DEAD_END = _model(
    Node(
        id="s",
        kind="start",
        decisions=(Decision(id="x", when="a == 1", set="v = 1", next="n"), Decision(id="y", when="a == 2", next="n")),
    ),
    Node(
        id="n",
        kind="step",
        decisions=(Decision(id="ok", when="v == 0", next="e"), Decision(id="late", when="v == 2", next="e")),
    ),
    Node(id="e", kind="end"),
)


def _reasons(model: Model, options: GenerateOptions | None = None) -> dict[str, str]:
    suite = generate(model, options)
    return {c.ref: c.reason or "" for c in suite.coverage if not c.covered_by}


def test_a_decision_that_holds_but_leads_to_a_dead_end_says_so() -> None:
    reasons = _reasons(DEAD_END)
    assert reasons["w/s#x"] == (
        "dead end: it can be taken (with a = 1; after it: v = 1), but no end can be "
        "reached after it (the conditions further on never let a test finish)"
    )
    assert reasons["w/n#late"] == (
        "contradictory conditions: 'n' is reached, but its condition 'v == 2' never holds there"
    )
    assert set(reasons) == {"w/s#x", "w/n#late"}


def test_a_step_only_reachable_through_contradictions_is_an_unreachable_state() -> None:
    model = _model(
        Node(id="s", kind="start", decisions=(Decision(id="x", when="a == 1", set="v = 1", next="gate"),)),
        Node(
            id="gate",
            kind="step",
            decisions=(Decision(id="in", when="v == 0", next="room"), Decision(id="out", next="e")),
        ),
        Node(id="room", kind="step", decisions=(Decision(id="leave", next="e"),)),
        Node(id="e", kind="end"),
    )
    reasons = _reasons(model)
    assert reasons["w/gate#in"] == (
        "contradictory conditions: 'gate' is reached, but its condition 'v == 0' never holds there"
    )
    assert reasons["w/room#leave"] == (
        "unreachable state: no feasible path reaches 'room' (the conditions before it contradict each other)"
    )
    steps = _reasons(model, GenerateOptions(criterion="all-steps"))
    assert steps["w/room"].startswith("unreachable state: no feasible path reaches 'room'")


def test_running_out_of_search_budget_is_named() -> None:
    reasons = {ref: r for ref, r in _reasons(DEAD_END, GenerateOptions(search_budget=1)).items() if "#" in ref}
    assert reasons and all(r.startswith("search budget: ") for r in reasons.values())


def test_validate_warns_about_dead_end_decisions() -> None:
    warnings = [(d.code, d.element, d.message) for d in validate(DEAD_END) if d.code == "dead-end-decision"]
    assert warnings == [
        (
            "dead-end-decision",
            "start 's', decision 'x'",
            "can be taken, but then no row of 'n' applies (v = 1): a dead end",
        )
    ]
    structural = _model(
        Node(id="s", kind="start", decisions=(Decision(id="go", next="e"), Decision(id="trap", next="pit"))),
        Node(id="pit", kind="step", next="pit"),
        Node(id="e", kind="end"),
    )
    found = [(d.code, d.element, d.message) for d in validate(structural) if d.severity == "warning"]
    trap = ("dead-end-decision", "start 's', decision 'trap'", "leads to 'pit', from which no end can be reached")
    assert trap in found
    assert ("dead-end", "step 'pit'", "no end can be reached from here") in found
