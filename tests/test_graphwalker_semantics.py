"""GraphWalker's own models (tests/data/graphwalker/project) import with GraphWalker's semantics: one machine
for all models of a file, shared states as one state, shared start elements, and walks that may stop at any
vertex; generation then gives what GraphWalker users expect (SuperLarge: one walk of 1,820 traversals)."""

from __future__ import annotations

import json
from pathlib import Path

from flowcase.generate import GenerateOptions, generate
from flowcase.generate.graph import flatten
from flowcase.model import graphwalker, io
from flowcase.model.io import load_path
from flowcase.model.semantics import same_meaning
from flowcase.model.types import Decision, Model, Node, Workflow
from flowcase.model.validate import validate

PROJECT = Path(__file__).parent / "data" / "graphwalker" / "project"


def _gw_edges(path: Path) -> tuple[int, int, set[str]]:
    data = json.loads(path.read_text())
    models = data["models"]
    edges = [e for m in models for e in m["edges"]]
    vertices = [v for m in models for v in m["vertices"]]
    return len(vertices), len(edges), {str(e["id"]) for e in edges}


def test_superlarge_all_edges_is_one_walk_of_1820_traversals() -> None:
    loaded = load_path(PROJECT / "SuperLarge.json", "graphwalker")
    assert loaded.warnings == ()
    model = loaded.model
    vertices, edges, _ = _gw_edges(PROJECT / "SuperLarge.json")
    assert (vertices, edges) == (787, 1550)
    assert model.main.stop_anywhere and len(model.main.nodes) == 788  # the vertices and one start
    assert [d for d in validate(model) if d.severity == "error"] == []
    suite = generate(model)  # all decisions = GraphWalker's edge_coverage(100)
    assert len(suite.tests) == 1 and suite.lower_bound == 1 and suite.optimal
    assert len(suite.tests[0].steps) == 1820  # the start edge and 1,819 more, every edge at least once
    assert all(item.covered_by for item in suite.coverage if item.kind == "decision")
    assert not [n for n in suite.notes if "may not be minimal" in n]


def test_superlarge_all_vertices_is_one_walk() -> None:
    model = load_path(PROJECT / "SuperLarge.json", "graphwalker").model
    suite = generate(model, GenerateOptions(criterion="all-steps"))  # vertex_coverage(100)
    assert len(suite.tests) == 1 and suite.optimal
    assert all(item.covered_by for item in suite.coverage if item.kind == "step")


def test_petclinic_models_sharing_one_start_element_make_one_machine() -> None:
    loaded = load_path(PROJECT / "PetClinic.json", "graphwalker")
    model = loaded.model
    data = json.loads((PROJECT / "PetClinic.json").read_text())
    starts = {m["startElementId"] for m in data["models"]}
    assert len(starts) == 1 and len(data["models"]) == 5  # every model names the edge of PetClinicSharedState
    assert loaded.warnings == ()
    wf = model.main
    assert [w.id for w in model.workflows] == ["FindOwnersSharedState"] and wf.stop_anywhere
    # 16 vertices, 7 shared states: 9 nodes for the states, 3 unshared vertices... and the start
    shared = {v.get("sharedState") for m in data["models"] for v in m["vertices"] if v.get("sharedState")}
    unshared = [v for m in data["models"] for v in m["vertices"] if not v.get("sharedState")]
    assert len(wf.nodes) == 1 + len(shared) + len(unshared)
    assert wf.start is not None and [d.id for d in wf.start.table] == ["66e424c4-ae4e-11e6-80f5-76304dec7eb7"]
    owner = wf.node("v_OwnerInformation")  # in NewOwnerSharedState and OwnerInformationSharedState: one state
    assert {d.action for d in owner.table} == {"e_AddNewPet", "e_EditPet", "e_AddVisit", "e_FindOwners"}
    assert next(d for d in owner.table if d.action == "e_EditPet").when == "numOfPets > 0"
    assert [(v.name, v.initial) for v in model.variables] == [("numOfPets", 0)]
    suite = generate(model)
    _, edges, _ = _gw_edges(PROJECT / "PetClinic.json")
    decisions = [c for c in suite.coverage if c.kind == "decision"]
    assert len(decisions) == edges  # the start edge is a decision of the start node
    assert all(c.covered_by for c in decisions)
    assert len(suite.tests) == 1 and suite.optimal  # guards included: the one walk is feasible


def test_a_walk_may_stop_at_any_vertex_without_an_extra_step() -> None:
    model = load_path(PROJECT / "UC01.json", "graphwalker").model
    assert not any(d.id == "stop" for _, d in model.main.edges())
    suite = generate(model, GenerateOptions(criterion="all-steps"))
    assert len(suite.tests) == 1
    test = suite.tests[0]
    assert test.end == "v_ShoppingCart" and model.main.node(test.end).kind == "step"  # stopped at a step
    requirements = {c.ref: c.covered_by for c in suite.coverage if c.kind == "requirement"}
    assert set(requirements) == {"UC01 2.2.1", "UC01 2.2.2", "UC01 2.2.3", "UC01 2.3"}
    assert all(requirements.values())


def _open_model(stop_anywhere: bool) -> Model:
    nodes = (
        Node(id="s", kind="start", next="a"),
        Node(id="a", kind="step", decisions=(Decision(id="x", next="b"), Decision(id="y", next="a"))),
        Node(id="b", kind="step", next="a"),
    )
    return Model(id="m", workflows=(Workflow(id="w", stop_anywhere=stop_anywhere, nodes=nodes),))


def test_stop_anywhere_makes_a_model_without_ends_valid_and_walks_end_anywhere() -> None:
    assert [d.code for d in validate(_open_model(False)) if d.severity == "error"] == ["no-end"]
    assert [d for d in validate(_open_model(True)) if d.severity == "error"] == []
    graph = flatten(_open_model(True))
    assert sorted(n.id for n in graph.main_ends.values()) == ["a", "b"]
    suite = generate(_open_model(True))
    assert len(suite.tests) == 1 and suite.optimal
    test = suite.tests[0]
    assert [(s.node, s.decision) for s in test.steps] == [("s", "1"), ("a", "x"), ("b", "1"), ("a", "y")]
    assert test.end == "a"  # the walk stops where its last step leads, with no step added to stop


def test_stop_anywhere_round_trips_through_json_bpmn_and_graphwalker() -> None:
    model = _open_model(True)
    for fmt in ("json", "yaml", "graphwalker", "bpmn"):
        back = io.loads(io.dumps(model, fmt), fmt).model
        assert back.main.stop_anywhere and same_meaning(model, back) == [], fmt
    assert same_meaning(model, _open_model(False)) != []
    assert graphwalker.loads(graphwalker.dumps(model)).warnings == ()


def test_an_imported_graphwalker_model_keeps_stop_anywhere_through_bpmn() -> None:
    model = load_path(PROJECT / "UC01.json", "graphwalker").model
    text = io.dumps(model, "bpmn")
    assert 'flowcase:stopAnywhere="true"' in text
    back = io.loads(text, "bpmn")
    assert back.model.main.stop_anywhere and same_meaning(model, back.model) == []
    assert [d for d in validate(back.model) if d.severity == "error"] == []
    assert [t.steps for t in generate(back.model).tests] == [t.steps for t in generate(model).tests]
    closed = io.loads(io.dumps(_open_model(False), "bpmn"), "bpmn").model
    assert not closed.main.stop_anywhere


def test_a_long_walk_is_named_and_stepped_as_if_built_in_full() -> None:
    """SuperLarge's one walk of 1,820 traversals: its name stops reading choices once the name is full, and its
    steps are built without validation; both are exactly what the full construction gives."""
    from flowcase.generate import assemble
    from flowcase.generate.suite import TestStep

    model = load_path(PROJECT / "SuperLarge.json").model
    (test,) = generate(model).tests
    taken = [c.phrase for c in assemble.choices(model, test.steps) if not c.main]
    assert len(taken) > 20  # many more choices than the name can hold
    end = model.main.by_id[test.end].label
    assert test.name == assemble.cut(f"{', '.join(taken)} \u2192 {end}")
    assert test.name.endswith("\u2026") and len(test.name) <= assemble.MAX_NAME
    for step in test.steps:
        validated = TestStep.model_validate(step.model_dump())
        assert step == validated and step.model_dump_json() == validated.model_dump_json()
        assert step.model_fields_set == validated.model_fields_set
    changed = test.steps[0].model_copy(update={"name": "other"})
    assert changed.name == "other" and test.steps[1].model_fields_set == set(TestStep.model_fields)
