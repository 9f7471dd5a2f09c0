"""The editor's document and the model: what the user draws on the diagram (routes, labels) is what is saved,
whatever layout the decision tables carried when the page opened."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from flowcase.model.io import load_path
from flowcase.model.types import Decision, Model
from flowcase.web.documents import EditorDoc, for_editor, to_model

ROOT = Path(__file__).parent.parent
DI = "{http://www.omg.org/spec/BPMN/20100524/DI}"
DC = "{http://www.omg.org/spec/DD/20100524/DC}"
WAYPOINT = "{http://www.omg.org/spec/DD/20100524/DI}waypoint"
BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
FC = "{https://flowcase.dev/schema/bpmn/1}"


def _labelled_flow(xml: str) -> tuple[str, str]:
    """The XML id of a sequence flow that has a label, and its decision's id."""
    root = ET.fromstring(xml)
    for flow in root.iter(f"{BPMN}sequenceFlow"):
        decision = flow.find(f"{BPMN}extensionElements/{FC}decision")
        if flow.get("name") and decision is not None:
            edge = next(e for e in root.iter(f"{DI}BPMNEdge") if e.get("bpmnElement") == flow.get("id"))
            if edge.find(f"{DI}BPMNLabel/{DC}Bounds") is not None:
                return flow.get("id") or "", decision.get("id") or ""
    raise AssertionError("no labelled flow")


def _drag(xml: str, flow_id: str, dx: float, dy: float) -> tuple[str, tuple[float, float]]:
    """The XML with the flow's label moved by (dx, dy), as bpmn-js writes it after a drag; the new place."""
    root = ET.fromstring(xml)
    edge = next(e for e in root.iter(f"{DI}BPMNEdge") if e.get("bpmnElement") == flow_id)
    bounds = edge.find(f"{DI}BPMNLabel/{DC}Bounds")
    assert bounds is not None
    x, y = float(bounds.get("x") or 0) + dx, float(bounds.get("y") or 0) + dy
    bounds.set("x", str(x))
    bounds.set("y", str(y))
    return ET.tostring(root, encoding="unicode"), (x, y)


def _save(data: dict[str, Any], xml: str) -> Model:
    """What the editor sends on save: the diagram's XML and the tables it opened with."""
    model = data["model"]
    doc = EditorDoc(
        bpmn=xml,
        tables=data["tables"],
        parameters=model.get("parameters", []),
        variables=model.get("variables", []),
        id=model["id"],
        name=model.get("name", ""),
    )
    saved, _ = to_model(doc)
    return saved


def _decision(model: Model, decision_id: str) -> Decision:
    return next(d for w in model.workflows for _, d in w.edges() if d.id == decision_id)


def test_a_dragged_label_stays_where_it_was_dropped_after_save_and_reload() -> None:
    opened = for_editor(load_path(ROOT / "examples" / "login.yaml").model)
    flow_id, decision_id = _labelled_flow(opened["bpmn"])
    moved, place = _drag(opened["bpmn"], flow_id, 37.0, -23.0)
    saved = _save(opened, moved)
    kept = _decision(saved, decision_id).bpmn
    assert kept is not None and kept.label is not None
    assert (kept.label.x, kept.label.y) == place
    # the page opens again with the label where the user dropped it
    reopened = for_editor(saved)
    _, again = _drag(reopened["bpmn"], flow_id, 0.0, 0.0)
    assert again == place
    # and a second drag wins too, even over rows that carry a drawing of their own (as pages opened before the
    # tables left drawings out send them): the diagram says where routes and labels are
    assert all("bpmn" not in row for rows in reopened["tables"].values() for row in rows)
    stale = {"id": flow_id, "label": {"x": 1.0, "y": 2.0, "width": 90.0, "height": 20.0}}
    for rows in reopened["tables"].values():
        for row in rows:
            if row.get("id") == decision_id:
                row["bpmn"] = stale
    moved_twice, place_twice = _drag(reopened["bpmn"], flow_id, -11.0, 52.0)
    kept_twice = _decision(_save(reopened, moved_twice), decision_id).bpmn
    assert kept_twice is not None and kept_twice.label is not None
    assert (kept_twice.label.x, kept_twice.label.y) == place_twice


def test_saving_an_untouched_diagram_changes_nothing_in_the_tables() -> None:
    model = load_path(ROOT / "examples" / "checkout.yaml").model
    opened = for_editor(model)
    saved = _save(opened, opened["bpmn"])
    for workflow, again in zip(model.workflows, saved.workflows, strict=True):
        for (node, decision), (node_again, decision_again) in zip(workflow.edges(), again.edges(), strict=True):
            assert node.id == node_again.id
            assert decision.model_copy(update={"bpmn": None}) == decision_again.model_copy(update={"bpmn": None})


def test_an_arrow_bent_on_the_diagram_keeps_its_route() -> None:
    opened = for_editor(load_path(ROOT / "examples" / "login.yaml").model)
    flow_id, decision_id = _labelled_flow(opened["bpmn"])
    root = ET.fromstring(opened["bpmn"])
    edge = next(e for e in root.iter(f"{DI}BPMNEdge") if e.get("bpmnElement") == flow_id)
    points = edge.findall(WAYPOINT)
    first, last = points[0], points[-1]
    for p in points[1:-1]:
        edge.remove(p)
    bend = [(float(first.get("x") or 0), 400.0), (float(last.get("x") or 0), 400.0)]
    for i, (x, y) in enumerate(bend):  # down to y=400 and back up: a route export would not draw
        point = ET.Element(WAYPOINT, {"x": str(x), "y": str(y)})
        edge.insert(list(edge).index(first) + 1 + i, point)
    saved = _save(opened, ET.tostring(root, encoding="unicode"))
    kept = _decision(saved, decision_id).bpmn
    assert kept is not None
    start = (float(first.get("x") or 0), float(first.get("y") or 0))
    end = (float(last.get("x") or 0), float(last.get("y") or 0))
    assert kept.waypoints == (start, *bend, end)
