"""The OMG BPMN Model Interchange Working Group test suite: every reference model and every bpmn.io export of it
imports, validates, generates tests and survives flowcase's own BPMN round trip; bpmn.io opens what we write.

The files are in ``tests/data/bpmn-miwg`` (CC BY 3.0, source commit in its README).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from lxml import etree

from bpmn_io import IMPORT_AND_SAVE, IMPORT_EVERY_DIAGRAM, bpmn_io_page
from flowcase.generate.engine import generate
from flowcase.model.bpmn import BPMN, dumps, loads
from flowcase.model.bpmn.reader import sanitise_id
from flowcase.model.diagnostics import ModelError
from flowcase.model.io import dumps as dump_text
from flowcase.model.io import load_path
from flowcase.model.io import loads as load_text
from flowcase.model.schema import model_schema
from flowcase.model.semantics import same_meaning
from flowcase.model.types import Model
from flowcase.model.validate import validate

DATA = Path(__file__).parent / "data" / "bpmn-miwg"
XSD = Path(__file__).parent / "data" / "bpmn" / "xsd" / "BPMN20.xsd"
REFERENCE = sorted((DATA / "reference").glob("*.bpmn"))
BPMN_IO = sorted((DATA / "bpmn.io").glob("*-export.bpmn"))
FILES = [*REFERENCE, *BPMN_IO]
IDS = [f"{p.parent.name}/{p.name}" for p in FILES]
# what a process or sub-process may hold that a test can pass through, or that import must name when it leaves it out
FLOW_NODES = {
    "startEvent",
    "endEvent",
    "boundaryEvent",
    "intermediateCatchEvent",
    "intermediateThrowEvent",
    "task",
    "userTask",
    "serviceTask",
    "manualTask",
    "scriptTask",
    "sendTask",
    "receiveTask",
    "businessRuleTask",
    "callActivity",
    "subProcess",
    "transaction",
    "adHocSubProcess",
    "exclusiveGateway",
    "parallelGateway",
    "inclusiveGateway",
    "complexGateway",
    "eventBasedGateway",
}
ARTIFACTS = {"textAnnotation", "association", "group", "dataObject", "dataObjectReference", "dataStoreReference"}
# what the MIWG round trip must keep besides the flow nodes
KEPT = {
    *FLOW_NODES,
    *ARTIFACTS,
    "process",
    "sequenceFlow",
    "collaboration",
    "participant",
    "lane",
    "messageFlow",
    "dataInputAssociation",
    "dataOutputAssociation",
}
BPMNDI = "http://www.omg.org/spec/BPMN/20100524/DI"
DC = "http://www.omg.org/spec/DD/20100524/DC"
DI = "http://www.omg.org/spec/DD/20100524/DI"


def test_the_suite_is_complete() -> None:
    assert len(REFERENCE) == 21 and len(BPMN_IO) == 21
    assert {p.name for p in REFERENCE} == {p.name.replace("-export", "") for p in BPMN_IO}


@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_imports_validates_and_generates_tests(path: Path) -> None:
    loaded = load_path(path)
    errors = [d for d in validate(loaded.model) if d.severity == "error"]
    assert errors == []
    suite = generate(loaded.model)
    assert len(suite.tests) >= 1
    assert all(t.steps for t in suite.tests)


@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_round_trip_through_flowcase_bpmn_gives_the_same_workflows(path: Path) -> None:
    model = load_path(path).model
    text = dumps(model)
    again = loads(text, "again.bpmn")
    assert again.warnings == ()  # our own file: read back exactly
    assert same_meaning(model, again.model, descriptions=True) == []
    for workflow in model.workflows:  # what was drawn stays where it was; the rest is placed once, then kept
        for node in workflow.nodes:
            if node.layout is not None:
                assert again.model.workflow(workflow.id).node(node.id).layout == node.layout
    assert dumps(again.model) == text


@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_the_export_is_schema_valid(path: Path) -> None:
    schema = etree.XMLSchema(etree.parse(str(XSD)))
    doc = etree.fromstring(dumps(load_path(path).model).encode())
    assert schema.validate(doc), schema.error_log.last_error


def _elements(doc: Any) -> dict[str, str]:
    """Every element the MIWG round trip compares, by id: its type."""
    return {
        e.get("id"): etree.QName(e).localname
        for e in doc.iter()
        if isinstance(e.tag, str)
        and etree.QName(e).namespace == BPMN
        and e.get("id")
        and etree.QName(e).localname in KEPT
    }


def _shapes(doc: Any) -> dict[str, tuple[float, ...]]:
    return {
        s.get("bpmnElement"): tuple(float(b.get(k)) for k in ("x", "y", "width", "height"))
        for s in doc.iter(f"{{{BPMNDI}}}BPMNShape")
        if (b := s.find(f"{{{DC}}}Bounds")) is not None
    }


def _edges(doc: Any) -> dict[str, tuple[tuple[float, float], ...]]:
    return {
        e.get("bpmnElement"): tuple((float(w.get("x")), float(w.get("y"))) for w in e.iter(f"{{{DI}}}waypoint"))
        for e in doc.iter(f"{{{BPMNDI}}}BPMNEdge")
    }


@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_round_trip_keeps_every_element_and_its_diagram(path: Path) -> None:
    """The MIWG round trip: import, export; every flow element keeps its id and type, every pool, lane, message flow
    and artifact is there, every shape keeps its bounds and every edge its waypoints. What import added for the test
    semantics (an implicit start or end, a start before several start events, a main workflow over the pools) is
    there too, as plain events, call activities and flows."""
    source = etree.parse(str(path))
    model = load_path(path).model
    exported = etree.fromstring(dumps(model).encode())
    before, after = _elements(source), _elements(exported)
    assert {i: t for i, t in before.items() if after.get(i) != t} == {}
    added = {i: t for i, t in after.items() if i not in before}
    assert set(added.values()) <= {"process", "startEvent", "endEvent", "callActivity", "sequenceFlow"}
    shapes, edges = _shapes(source), _edges(source)
    shapes_after, edges_after = _shapes(exported), _edges(exported)
    assert {i: b for i, b in shapes.items() if i in before and shapes_after.get(i) != b} == {}
    assert {i: w for i, w in edges.items() if i in before and edges_after.get(i) != w} == {}
    # our own file of it reads back with the same annotations
    again = loads(dumps(model), "again.bpmn").model
    assert again.bpmn == model.bpmn
    for workflow in model.workflows:
        for node in workflow.nodes:
            if node.bpmn is not None:
                assert again.workflow(workflow.id).node(node.id).bpmn == node.bpmn


def _without_bpmn(model: Model) -> Model:
    """The model as it was before BPMN import kept the drawing: no annotation anywhere."""
    return model.model_copy(
        update={
            "bpmn": None,
            "workflows": tuple(
                w.model_copy(
                    update={
                        "nodes": tuple(
                            n.model_copy(
                                update={
                                    "bpmn": None,
                                    "decisions": tuple(d.model_copy(update={"bpmn": None}) for d in n.decisions),
                                }
                            )
                            for n in w.nodes
                        )
                    }
                )
                for w in model.workflows
            ),
        }
    )


@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_the_drawing_kept_changes_no_test_and_survives_json(path: Path) -> None:
    model = load_path(path).model
    # the generator ignores the annotations: the same tests, step for step, with or without them
    plain = _without_bpmn(model)
    assert generate(model).tests == generate(plain).tests
    assert dumps(plain) != dumps(model)  # (what the annotations are for)
    # they are in the published schema, and JSON and YAML keep them
    jsonschema.Draft202012Validator(model_schema()).validate(model.to_data())
    for fmt in ("json", "yaml"):
        again = load_text(dump_text(model, fmt), fmt).model
        assert again == model and dumps(again) == dumps(model)


@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_nothing_is_dropped_silently(path: Path) -> None:
    """Every flow element and artifact of every process is a node of a workflow or named in a warning."""
    loaded = load_path(path)
    node_ids = {n.id for w in loaded.model.workflows for n in w.nodes}
    warned = "\n".join(f"{w.element or ''} {w.message}" for w in loaded.warnings)
    doc = etree.parse(str(path))
    missing = []
    for container in doc.iter(
        f"{{{BPMN}}}process", f"{{{BPMN}}}subProcess", f"{{{BPMN}}}transaction", f"{{{BPMN}}}adHocSubProcess"
    ):
        for child in container:
            tag = etree.QName(child).localname if isinstance(child.tag, str) else ""
            xml_id = child.get("id") or ""
            if tag in FLOW_NODES and sanitise_id(xml_id) not in node_ids and repr(xml_id) not in warned:
                missing.append(f"{tag} {xml_id}")
            if tag in ARTIFACTS and repr(xml_id) not in warned:
                missing.append(f"{tag} {xml_id}")
    assert missing == []


def test_what_a_test_does_in_the_reference_models() -> None:
    # C.1.0: JUEL conditions over undeclared process variables become parameters with the outcomes needed
    loaded = load_path(DATA / "reference" / "C.1.0.bpmn")
    assert {(p.name, p.values) for p in loaded.model.parameters} == {
        ("approved", (True, False)),
        ("clarified", ("yes", "no")),
    }
    assert sum(w.code == "bpmn-inferred" for w in loaded.warnings) == 2
    # C.1.1: the same with bpmn:getDataObject('clarified') = 'no'
    c11 = load_path(DATA / "reference" / "C.1.1.bpmn").model
    whens = {d.when for w in c11.workflows for _, d in w.edges() if d.when}
    assert {"approved", "not(approved)", "clarified = 'yes'", "clarified = 'no'"} <= whens
    # B.1.0: a call activity to a global task is a step; one to a process of the file a call node
    b10 = load_path(DATA / "reference" / "B.1.0.bpmn").model
    nodes = {n.id: n for w in b10.workflows for n in w.nodes}
    assert nodes["_fa3a8e53-5be0-4f0b-8680-d2498e255209"].kind == "step"
    assert nodes["_1237e756-d53c-4591-a731-dafffbf0b3f9"].kind == "call"
    # A.3.0: each boundary event is an alternative flow (a row) of the sub-process it is attached to
    a30 = load_path(DATA / "reference" / "A.3.0.bpmn").model
    sub = a30.main.node("_1ae31d1b-2559-4f78-a3ec-47986a49db48")
    rows = {d.next: d.objective for d in sub.table}
    assert rows["_428dcbf5-8e5e-48e0-9c0c-d93003fa8c82"] == "Boundary Intermediate Event Non-Interrupting Message"
    assert rows["_178e16eb-4c9e-4ea0-9644-7c5fb2b71825"] == "Boundary Intermediate Event Interrupting Escalation"
    # C.3.0: a FEEL condition over a name of two words
    c30 = load_path(DATA / "reference" / "C.3.0.bpmn").model
    assert "Service_Level == 'Premium'" in {d.when for _, d in c30.main.edges()}


def test_a_process_without_start_or_end_events_gets_them_implicitly() -> None:
    text = f"""<definitions xmlns="{BPMN}" id="D" targetNamespace="x">
      <process id="P"><task id="A"/><task id="B"/><task id="C"/>
        <sequenceFlow id="f" sourceRef="A" targetRef="C"/></process></definitions>"""
    loaded = loads(text)
    wf = loaded.model.main
    assert wf.node("start").table[0].next == "A" and wf.node("start").table[1].next == "B"
    assert wf.node("C").next == "end" and wf.node("B").next == "end" and wf.node("end").kind == "end"
    assert {w.code for w in loaded.warnings} == {"bpmn-approximated", "bpmn-implicit-end"}
    assert len(generate(loaded.model).tests) == 2


def test_boundary_events_loops_and_event_sub_processes() -> None:
    text = f"""<definitions xmlns="{BPMN}" id="D" targetNamespace="x">
      <process id="P"><startEvent id="S"/><task id="A" name="Pay"><standardLoopCharacteristics/></task>
        <boundaryEvent id="T" name="too late" attachedToRef="A" cancelActivity="false"><timerEventDefinition/>
        </boundaryEvent><task id="R" name="Remind"/><endEvent id="E"/>
        <subProcess id="ES" triggeredByEvent="true" name="Cancel"><startEvent id="S2"><messageEventDefinition/>
          </startEvent><endEvent id="E2"/><sequenceFlow id="g" sourceRef="S2" targetRef="E2"/></subProcess>
        <sequenceFlow id="f1" sourceRef="S" targetRef="A"/><sequenceFlow id="f2" sourceRef="A" targetRef="E"/>
        <sequenceFlow id="f3" sourceRef="T" targetRef="R"/></process></definitions>"""
    loaded = loads(text)
    wf = loaded.model.main
    assert [(d.next, d.objective) for d in wf.node("A").table] == [
        ("E", ""),
        ("T", "too late"),
        ("A", "repeat Pay (loop)"),
    ]
    assert [(d.next, d.objective) for d in wf.node("S").table] == [("A", ""), ("ES", "Cancel triggered")]
    assert wf.node("ES").kind == "call" and wf.node("ES").workflow == "ES"
    assert wf.node("R").next == "end" and wf.node("ES").next == "end"
    messages = [w.message for w in loaded.warnings]
    assert any(m.startswith("non-interrupting timer event") for m in messages)
    assert any(m.startswith("event sub-process") for m in messages)
    suite = generate(loaded.model)
    taken = {s.node for t in suite.tests for s in t.steps}
    assert {"T", "R", "ES"} <= {x.rpartition("/")[2] for x in taken}


def test_pools_that_nothing_calls_get_a_main_workflow_with_one_participant_per_test() -> None:
    text = f"""<definitions xmlns="{BPMN}" id="D" targetNamespace="x">
      <collaboration id="C" name="Order"><participant id="p1" name="Shop" processRef="P1"/>
        <participant id="p2" name="Bank" processRef="P2"/>
        <messageFlow id="m" sourceRef="A" targetRef="B"/></collaboration>
      <process id="P1"><startEvent id="S1"/><sendTask id="A"/><sequenceFlow id="f1" sourceRef="S1" targetRef="A"/>
      </process>
      <process id="P2"><startEvent id="S2"/><receiveTask id="B"/><sequenceFlow id="f2" sourceRef="S2" targetRef="B"/>
      </process></definitions>"""
    loaded = loads(text)
    model = loaded.model
    assert [w.id for w in model.workflows] == ["C", "P1", "P2"]
    assert [(d.objective, d.next) for d in model.main.node("start").table] == [("Shop", "P1"), ("Bank", "P2")]
    assert any("message flow 'm'" in w.message for w in loaded.warnings)
    assert len(generate(model).tests) == 2


@pytest.fixture(scope="module")
def bpmn_io() -> Iterator[Any]:
    yield from bpmn_io_page()


@pytest.mark.browser
@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_bpmn_io_opens_our_export_of_every_model(path: Path, bpmn_io: Any) -> None:
    model = load_path(path).model
    text = dumps(model)
    result = bpmn_io.evaluate(IMPORT_EVERY_DIAGRAM, text)
    assert result["warnings"] == []
    doc = etree.fromstring(text.encode())
    wanted = {
        e.get("id")
        for p in doc.iterfind(f"{{{BPMN}}}process")
        for e in p
        if e.get("id") and etree.QName(e).localname not in ("extensionElements", "ioSpecification", "laneSet")
    }
    wanted -= {e.get("id") for e in doc.iter(f"{{{BPMN}}}dataObject")}  # data objects are drawn by reference
    assert wanted - set(result["elements"]) == set()  # every node and flow of every process is drawn
    # and so is everything the source file draws: pools, lanes, message flows, artifacts, sub-process content
    source = etree.parse(str(path))
    drawn = set(_shapes(source)) | set(_edges(source))
    assert {i for i in _elements(source) if i in drawn} - set(result["elements"]) == set()
    # what bpmn.io saves of it (editing it in Camunda Modeler) reads back to the same model and the same export
    saved = loads(bpmn_io.evaluate(IMPORT_AND_SAVE, text)["xml"], "saved.bpmn")
    assert saved.warnings == () and saved.model.bpmn == model.bpmn and dumps(saved.model) == text


DRAWN = f"""<definitions xmlns="{BPMN}" xmlns:bpmndi="{BPMNDI}" xmlns:dc="{DC}" xmlns:di="{DI}" id="D"
    targetNamespace="x">
  <collaboration id="C"><participant id="pool" name="Shop" processRef="P"/>
    <participant id="bank" name="Bank"/>
    <messageFlow id="m" sourceRef="A" targetRef="bank"/>
  </collaboration>
  <process id="P">
    <laneSet id="ls"><lane id="l1" name="Clerk"><flowNodeRef>S</flowNodeRef><flowNodeRef>A</flowNodeRef></lane>
      <lane id="l2" name="Boss"><flowNodeRef>G</flowNodeRef><flowNodeRef>E</flowNodeRef>
        <flowNodeRef>T</flowNodeRef></lane></laneSet>
    <startEvent id="S"/><userTask id="A" name="Check"/><parallelGateway id="G"/><endEvent id="E"/>
    <boundaryEvent id="T" name="late" attachedToRef="A"><timerEventDefinition/></boundaryEvent>
    <dataObject id="DO"/><dataObjectReference id="DR" name="Order" dataObjectRef="DO"/>
    <sequenceFlow id="f1" sourceRef="S" targetRef="A"/><sequenceFlow id="f2" sourceRef="A" targetRef="G"/>
    <sequenceFlow id="f3" sourceRef="G" targetRef="E"/><sequenceFlow id="f4" sourceRef="T" targetRef="E"/>
    <textAnnotation id="N"><text>ask twice</text></textAnnotation>
    <association id="as" sourceRef="N" targetRef="A"/>
  </process>
  <bpmndi:BPMNDiagram id="d"><bpmndi:BPMNPlane id="pl" bpmnElement="C">
    <bpmndi:BPMNShape id="pool_di" bpmnElement="pool" isHorizontal="true">
      <dc:Bounds x="0" y="0" width="600" height="300"/></bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="bank_di" bpmnElement="bank" isHorizontal="true">
      <dc:Bounds x="0" y="400" width="600" height="60"/></bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="l1_di" bpmnElement="l1"><dc:Bounds x="30" y="0" width="570" height="150"/>
      </bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="l2_di" bpmnElement="l2"><dc:Bounds x="30" y="150" width="570" height="150"/>
      </bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="S_di" bpmnElement="S"><dc:Bounds x="60" y="60" width="36" height="36"/></bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="A_di" bpmnElement="A"><dc:Bounds x="140" y="40" width="100" height="80"/>
      </bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="T_di" bpmnElement="T"><dc:Bounds x="200" y="102" width="36" height="36"/>
      </bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="G_di" bpmnElement="G"><dc:Bounds x="300" y="175" width="50" height="50"/>
      </bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="E_di" bpmnElement="E"><dc:Bounds x="420" y="182" width="36" height="36"/>
      </bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="DR_di" bpmnElement="DR"><dc:Bounds x="500" y="40" width="36" height="50"/>
      </bpmndi:BPMNShape>
    <bpmndi:BPMNShape id="N_di" bpmnElement="N"><dc:Bounds x="300" y="20" width="100" height="30"/>
      </bpmndi:BPMNShape>
    <bpmndi:BPMNEdge id="f1_di" bpmnElement="f1"><di:waypoint x="96" y="78"/><di:waypoint x="140" y="80"/>
      </bpmndi:BPMNEdge>
    <bpmndi:BPMNEdge id="f2_di" bpmnElement="f2"><di:waypoint x="240" y="80"/><di:waypoint x="325" y="80"/>
      <di:waypoint x="325" y="175"/></bpmndi:BPMNEdge>
    <bpmndi:BPMNEdge id="m_di" bpmnElement="m"><di:waypoint x="190" y="120"/><di:waypoint x="190" y="400"/>
      </bpmndi:BPMNEdge>
    <bpmndi:BPMNEdge id="as_di" bpmnElement="as"><di:waypoint x="300" y="35"/><di:waypoint x="240" y="60"/>
      </bpmndi:BPMNEdge>
  </bpmndi:BPMNPlane></bpmndi:BPMNDiagram>
</definitions>"""


def test_what_a_user_drew_comes_back_as_drawn() -> None:
    loaded = loads(DRAWN, "drawn.bpmn")
    wf = loaded.model.main
    # what the tests see is unchanged: the boundary event is a row of the task, the gateway a choice
    assert wf.node("A").kind == "step" and [d.next for d in wf.node("A").table] == ["G", "T"]
    assert wf.node("G").kind == "choice" and wf.node("T").kind == "step"
    # what the drawing was is kept
    assert wf.node("A").bpmn is not None and wf.node("A").bpmn.type == "userTask"
    assert wf.node("T").bpmn is not None and (
        wf.node("T").bpmn.type,
        wf.node("T").bpmn.attached_to,
        wf.node("T").bpmn.events,
    ) == ("boundaryEvent", "A", ("timer",))
    assert wf.node("A").table[0].bpmn is not None and wf.node("A").table[0].bpmn.id == "f2"
    diagram = loaded.model.bpmn
    assert diagram is not None
    assert [(p.id, p.workflow) for p in diagram.collaborations[0].participants] == [("pool", "P"), ("bank", None)]
    assert [(m.source, m.target) for m in diagram.collaborations[0].message_flows] == [("P/A", "bank")]
    assert [(ln.id, ln.nodes) for ln in diagram.lanes] == [("l1", ("S", "A")), ("l2", ("G", "E", "T"))]
    assert [(a.id, a.type) for a in diagram.artifacts] == [
        ("DO", "dataObject"),
        ("DR", "dataObjectReference"),
        ("N", "textAnnotation"),
        ("as", "association"),
    ]
    assert next(a for a in diagram.artifacts if a.id == "as").target == "P/A"
    # and export writes it back as it was
    doc = etree.fromstring(dumps(loaded.model).encode())
    assert _elements(doc) == _elements(etree.fromstring(DRAWN.encode()))
    boundary = doc.find(f".//{{{BPMN}}}boundaryEvent")
    assert boundary is not None and boundary.get("attachedToRef") == "A"
    assert boundary.find(f"{{{BPMN}}}timerEventDefinition") is not None
    assert doc.find(f".//{{{BPMN}}}participant[@id='pool']").get("processRef") == "P"
    assert doc.find(f".//{{{BPMN}}}participant[@id='bank']").get("processRef") is None
    assert _edges(doc)["f2"] == ((240, 80), (325, 80), (325, 175))
    assert _shapes(doc)["l2"] == (30, 150, 570, 150)


def test_an_annotation_that_no_longer_fits_is_not_used() -> None:
    model = loads(DRAWN, "drawn.bpmn").model
    wf = model.main
    # the user turns the parallel gateway into a step and removes the task's row to the boundary event
    nodes = tuple(
        n.model_copy(update={"kind": "step"})
        if n.id == "G"
        else n.model_copy(update={"decisions": n.decisions[:1]})
        if n.id == "A"
        else n
        for n in wf.nodes
    )
    edited = model.model_copy(update={"workflows": (wf.model_copy(update={"nodes": nodes}),)})
    doc = etree.fromstring(dumps(edited).encode())
    types = _elements(doc)
    assert types["G"] == "task" and types["T"] == "task" and types["A"] == "userTask"
    again = loads(dumps(edited), "again.bpmn")
    assert same_meaning(edited, again.model) == [] and again.warnings == ()


def test_a_model_drawn_in_flowcase_keeps_no_annotation_through_bpmn() -> None:
    model = load_path(Path(__file__).parent.parent / "examples" / "login.yaml").model
    again = loads(dumps(model), "login.bpmn").model
    assert again.bpmn is None
    assert all(n.bpmn is None and all(d.bpmn is None for d in n.decisions) for w in again.workflows for n in w.nodes)


@pytest.mark.browser
def test_bpmn_io_opens_what_a_user_drew_after_the_round_trip(bpmn_io: Any) -> None:
    text = dumps(loads(DRAWN, "drawn.bpmn").model)
    result = bpmn_io.evaluate(IMPORT_EVERY_DIAGRAM, text)
    assert result["warnings"] == []
    assert set(_elements(etree.fromstring(DRAWN.encode()))) - {"P", "C", "DO", "ls"} <= set(result["elements"])


def test_a_kept_drawing_with_an_id_used_twice_is_a_friendly_error() -> None:
    data = loads(DRAWN, "drawn.bpmn").model.to_data()
    data["bpmn"]["lanes"][1]["id"] = "l1"
    with pytest.raises(ModelError, match="the BPMN id 'l1' is used twice"):
        load_text(json.dumps(data), "json")
