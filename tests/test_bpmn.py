"""BPMN 2.0: export valid against the OMG schema and complete for bpmn.io, lossless own round trip,
import of plain files from bpmn.io / Camunda Modeler with a warning for everything approximated."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from bpmn_io import IMPORT_AND_SAVE, bpmn_io_page
from flowcase.model import io
from flowcase.model.bpmn import BPMN, FLOWCASE, dumps, loads
from flowcase.model.diagnostics import ModelError
from flowcase.model.io import load_path
from flowcase.model.semantics import same_meaning
from flowcase.model.types import Decision, Model, Node, Workflow
from flowcase.model.validate import validate

DATA = Path(__file__).parent / "data" / "bpmn"
ROOT = Path(__file__).parent.parent
SAMPLES = sorted((DATA / "models").glob("*.yaml"))
EXAMPLES = sorted([*ROOT.glob("examples/*.json"), *ROOT.glob("examples/*.yaml"), *ROOT.glob("examples/*.yml")])
NS = {
    "bpmn": BPMN,
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
    "flowcase": FLOWCASE,
}
FLOW_NODES = ("startEvent", "task", "exclusiveGateway", "callActivity", "endEvent")


@pytest.fixture(scope="module")
def schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(DATA / "xsd" / "BPMN20.xsd")))


def _models() -> list[tuple[str, Model]]:
    return [(p.name, load_path(p).model) for p in [*SAMPLES, *EXAMPLES]]


MODELS = _models()


@pytest.mark.parametrize(("name", "model"), MODELS, ids=[n for n, _ in MODELS])
def test_export_is_valid_bpmn_20(name: str, model: Model, schema: etree.XMLSchema) -> None:
    doc = etree.fromstring(dumps(model).encode())
    assert schema.validate(doc), schema.error_log.last_error


@pytest.mark.parametrize(("name", "model"), MODELS, ids=[n for n, _ in MODELS])
def test_export_structure_is_complete_for_modelling_tools(name: str, model: Model) -> None:
    doc = etree.fromstring(dumps(model).encode())
    ids = [e.get("id") for e in doc.iter() if e.get("id") is not None and e.tag.startswith("{http://www.omg")]
    assert len(ids) == len(set(ids)), [i for i, n in Counter(ids).items() if n > 1]
    processes = doc.findall("bpmn:process", NS)
    assert len(processes) == len(model.workflows)
    assert all(p.get("isExecutable") == "false" for p in processes)
    shapes = {s.get("bpmnElement"): s for s in doc.iterfind(".//bpmndi:BPMNShape", NS)}
    edges = {e.get("bpmnElement"): e for e in doc.iterfind(".//bpmndi:BPMNEdge", NS)}
    planes = [p.get("bpmnElement") for p in doc.iterfind(".//bpmndi:BPMNPlane", NS)]
    assert planes == [p.get("id") for p in processes]
    for process in processes:
        nodes = {e.get("id"): e for tag in FLOW_NODES for e in process.findall(f"bpmn:{tag}", NS)}
        flows = process.findall("bpmn:sequenceFlow", NS)
        for flow in flows:
            source, target = flow.get("sourceRef"), flow.get("targetRef")
            assert source in nodes and target in nodes
            assert flow.get("id") in [o.text for o in nodes[source].findall("bpmn:outgoing", NS)]
            assert flow.get("id") in [i.text for i in nodes[target].findall("bpmn:incoming", NS)]
            assert len(edges[flow.get("id")].findall("di:waypoint", NS)) >= 2
            assert flow.find("bpmn:extensionElements/flowcase:decision", NS) is not None
        flow_ids = {f.get("id") for f in flows}
        for node in nodes.values():
            refs = [r.text for r in node.findall("bpmn:incoming", NS) + node.findall("bpmn:outgoing", NS)]
            assert set(refs) <= flow_ids
            bounds = shapes[node.get("id")].find("dc:Bounds", NS)
            assert bounds is not None and float(bounds.get("width")) > 0
        for call in process.findall("bpmn:callActivity", NS):
            assert call.get("calledElement") in {p.get("id") for p in processes}


@pytest.mark.parametrize(("name", "model"), MODELS, ids=[n for n, _ in MODELS])
def test_round_trip_keeps_meaning_and_descriptions(name: str, model: Model) -> None:
    text = dumps(model)
    back = loads(text, "x.bpmn")
    assert back.warnings == ()
    assert same_meaning(model, back.model, descriptions=True) == []
    assert dumps(back.model) == text  # deterministic and stable once layouts are written


def test_export_is_deterministic() -> None:
    model = load_path(SAMPLES[0]).model
    assert dumps(model) == dumps(load_path(SAMPLES[0]).model)


def test_repeated_node_ids_across_workflows_get_unique_xml_ids_and_come_back() -> None:
    model = load_path(DATA / "models" / "claim-with-subworkflow.yaml").model
    doc = etree.fromstring(dumps(model).encode())
    sub = doc.findall("bpmn:process", NS)[1]
    start = sub.find("bpmn:startEvent", NS)
    assert start is not None and start.get("id") == "start_2" and start.get(f"{{{FLOWCASE}}}id") == "start"
    back = loads(dumps(model)).model
    assert [n.id for n in back.workflow("assessment").nodes] == ["start", "visit", "approved", "rejected"]


def test_decision_fields_travel_in_the_extension_and_the_label_is_human() -> None:
    model = load_path(DATA / "models" / "claim-with-subworkflow.yaml").model
    doc = etree.fromstring(dumps(model).encode())
    flow = doc.find(".//bpmn:sequenceFlow[@id='Flow_register_web']", NS)
    assert flow is not None and flow.get("name") == "Register a web claim"
    ext = flow.find("bpmn:extensionElements/flowcase:decision", NS)
    assert ext is not None
    assert ext.get("when") == 'channel == "web"' and ext.get("priority") == "high"
    assert [r.text for r in ext.findall("flowcase:requirement", NS)] == ["CLM-1", "CLM-2"]
    custom = {c.get("name"): (c.get("type"), c.text) for c in ext.findall("flowcase:custom", NS)}
    assert custom["effort"] == ("int", "3") and custom["automated"] == ("bool", "true")
    condition = flow.find("bpmn:conditionExpression", NS)
    assert condition is not None and condition.text == 'channel == "web"'
    # a condition-only flow is labelled with its condition
    cover = doc.find(".//bpmn:sequenceFlow[@sourceRef='cover']", NS)
    assert cover is not None and cover.get("name") == "covered"


def test_exporting_a_decision_to_an_unknown_node_is_a_clear_error() -> None:
    model = Model(
        id="m",
        workflows=(Workflow(id="w", nodes=(Node(id="s", kind="start", next="nowhere"), Node(id="e", kind="end"))),),
    )
    with pytest.raises(ModelError, match="unknown node 'nowhere'"):
        dumps(model)


# -- plain BPMN from modelling tools -------------------------------------------------------------------


def _codes(loaded_warnings: tuple[object, ...]) -> list[str]:
    return [w.message for w in loaded_warnings]  # type: ignore[attr-defined]


def test_import_camunda_order_approval() -> None:
    loaded = load_path(DATA / "camunda-order-approval.bpmn")
    wf = loaded.model.main
    # the generated definitions id 'Definitions_1k9v3xq' names nothing: the model's name gives its id
    assert loaded.model.id == "order_approval" and wf.id == "Process_OrderApproval"
    assert [(n.id, n.kind) for n in wf.nodes] == [
        ("StartEvent_1", "start"),
        ("Activity_CheckOrder", "step"),
        ("Gateway_Amount", "choice"),
        ("Activity_ManagerApproval", "step"),
        ("Gateway_Approved", "choice"),
        ("Activity_Ship", "step"),
        ("Event_Shipped", "end"),
        ("Event_Rejected", "end"),
        ("Event_ApprovalTimeout", "step"),
    ]
    assert wf.node("Activity_CheckOrder").description.startswith("A clerk checks")
    amount = wf.node("Gateway_Amount").table
    assert [(d.when, d.objective, d.next) for d in amount] == [
        ("amount > 1000", "more than 1000", "Activity_ManagerApproval"),
        ("not (amount > 1000)", "otherwise", "Activity_Ship"),  # the default flow: negation of the others
    ]
    approved = wf.node("Gateway_Approved").table
    assert approved[0].when == "approved" and approved[0].objective == "yes"
    # JUEL: execution.getVariable("approved") eq false
    assert approved[1].when == "approved == false" and approved[1].objective == "no"
    # the timer boundary event is an alternative flow of the task it is attached to
    assert [(d.objective, d.next) for d in wf.node("Activity_ManagerApproval").table] == [
        ("", "Gateway_Approved"),
        ("3 days", "Event_ApprovalTimeout"),
    ]
    assert [d.next for d in wf.node("Event_ApprovalTimeout").table] == ["Event_Rejected"]
    assert wf.node("Gateway_Amount").layout is not None and wf.node("Gateway_Amount").layout.x == 425
    messages = "\n".join(_codes(loaded.warnings))
    assert (
        "(kept in the diagram): textAnnotation 'TextAnnotation_0y4v3rb', association 'Association_1x0c9lq'" in messages
    )
    assert "label 'otherwise'" not in messages
    # names nothing declares become parameters with the values the conditions need, each with a warning
    assert [(p.name, p.values) for p in loaded.model.parameters] == [
        ("amount", (1000, 1001)),
        ("approved", (True, False)),
    ]
    inferred = [w for w in loaded.warnings if w.code == "bpmn-inferred"]
    assert [w.element for w in inferred] == ["choice 'Gateway_Amount'", "choice 'Gateway_Approved'"]
    assert "declare it to choose its values" in inferred[0].message
    assert [d for d in validate(loaded.model) if d.severity == "error"] == []


def test_import_bpmnio_support_ticket_inlines_the_sub_process() -> None:
    loaded = load_path(DATA / "bpmnio-support-ticket.bpmn")
    model = loaded.model
    assert [w.id for w in model.workflows] == ["Process_1", "Activity_0investigate"]
    call = model.main.node("Activity_0investigate")
    assert call.kind == "call" and call.workflow == "Activity_0investigate"
    sub = model.workflow("Activity_0investigate")
    assert sub.start is not None and sub.start.id == "Event_0substart"
    assert [e.name for e in sub.ends] == ["fix found", "cannot reproduce"]
    assert [d.when for d in sub.node("Gateway_0repro").table] == ["attempts < 3", "attempts >= 3"]
    # children of the expanded sub-process are moved to the origin of their own diagram
    layouts = [n.layout for n in sub.nodes if n.layout]
    assert min(lay.x for lay in layouts) == 40 and min(lay.y for lay in layouts) == 40
    assert model.main.node("Event_0wait").kind == "step"
    assert [d.objective for d in model.main.node("Gateway_1mv7r4z").table] == ["yes", "no"]
    messages = "\n".join(_codes(loaded.warnings))
    assert "intermediate event is read as a step" in messages
    assert "parallel gateway: its branches are test-visible alternatives" in messages
    assert "label 'yes' is not a condition" in messages


def test_import_collaboration_with_pools_lanes_and_a_call_activity() -> None:
    loaded = load_path(DATA / "camunda-collaboration-claim.bpmn")
    model = loaded.model
    assert model.name == "Insurance claim"
    assert [w.id for w in model.workflows] == ["Process_Claim", "Process_Assess"]
    assert model.main.node("Activity_Assess").workflow == "Process_Assess"
    assert model.main.node("Activity_Register").name == "Register claim"
    assert [d.when for d in model.main.node("Gateway_Cover").table] == ["covered = true", "covered = false"]
    messages = "\n".join(_codes(loaded.warnings))
    for expected in (
        "pool 'Customer' has no process",
        "message flow 'Flow_Msg_Claim' (",
        "lanes 'Claims desk'",
        "message startEvent",
        "3 pools",
    ):
        assert expected in messages


@pytest.mark.parametrize(
    "name", ["camunda-order-approval.bpmn", "bpmnio-support-ticket.bpmn", "camunda-collaboration-claim.bpmn"]
)
def test_imported_plain_files_export_again_as_valid_bpmn(name: str, schema: etree.XMLSchema) -> None:
    model = load_path(DATA / name).model
    text = dumps(model)
    assert schema.validate(etree.fromstring(text.encode())), schema.error_log.last_error
    assert same_meaning(model, loads(text).model) == []


def test_plain_process_without_start_event_gets_one_with_a_warning() -> None:
    text = f"""<bpmn:definitions xmlns:bpmn="{BPMN}" id="D" targetNamespace="x">
      <bpmn:process id="P"><bpmn:task id="A" name="Do"><bpmn:outgoing>F</bpmn:outgoing></bpmn:task>
      <bpmn:endEvent id="E"/><bpmn:sequenceFlow id="F" sourceRef="A" targetRef="E"/></bpmn:process>
    </bpmn:definitions>"""
    loaded = loads(text)
    start = loaded.model.main.start
    assert start is not None and start.id == "start" and [d.next for d in start.table] == ["A"]
    assert any("no start event" in w.message for w in loaded.warnings)
    # no DI: the layout module places the nodes on export
    assert "<dc:Bounds" in dumps(loaded.model)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<bpmn:definitions", "invalid XML"),
        ('<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaa">]><d>&a;</d>', "DTD"),
        ("<definitions/>", "not a BPMN 2.0 document"),
        (f'<bpmn:definitions xmlns:bpmn="{BPMN}" targetNamespace="x"/>', "no process"),
    ],
)
def test_bad_input_is_a_one_line_error(text: str, expected: str) -> None:
    with pytest.raises(ModelError) as info:
        loads(text, "bad.bpmn")
    message = str(info.value)
    assert expected in message and "\n" not in message and message.startswith("bad.bpmn")


def test_malformed_xml_points_at_line_and_column() -> None:
    with pytest.raises(ModelError) as info:
        loads(f'<bpmn:definitions xmlns:bpmn="{BPMN}">\n  <bpmn:process id="p">\n</bpmn:definitions>', "f.bpmn")
    diagnostic = info.value.diagnostics[0]
    assert diagnostic.line == 3 and diagnostic.column is not None


def test_single_default_decision_comes_back_as_the_next_shorthand() -> None:
    model = Model(
        id="m",
        workflows=(
            Workflow(
                id="w",
                nodes=(
                    Node(id="s", kind="start", decisions=(Decision(id="1", next="e"),)),
                    Node(id="e", kind="end"),
                ),
            ),
        ),
    )
    back = loads(dumps(model)).model
    assert back.main.node("s").next == "e" and back.main.node("s").decisions == ()


def test_invalid_flowcase_data_in_our_extension_is_a_one_line_error() -> None:
    text = dumps(load_path(DATA / "models" / "order-loop.yaml").model)
    broken = text.replace('<flowcase:model id="order-lifecycle"', '<flowcase:model id="not an id"')
    with pytest.raises(ModelError) as info:
        loads(broken, "m.bpmn")
    assert "invalid at Model.id" in str(info.value) and "\n" not in str(info.value)
    typed = text.replace('type="int" initial="0"', 'type="int" initial="zero"')
    with pytest.raises(ModelError, match="invalid"):
        loads(typed, "m.bpmn")


@pytest.mark.parametrize(
    ("pins", "expected"),
    [
        ("[{", "the pinned tests in this file: invalid JSON"),
        ('{"id": "TC-1"}', "the pinned tests in this file are not a list of tests"),
        ("[1, 2]", "the pinned tests in this file are not a list of tests"),
        ("[" * 500 + "]" * 500, "the pinned tests in this file: the document nests deeper than"),
    ],
)
def test_broken_pinned_tests_in_our_extension_are_a_one_line_error(pins: str, expected: str) -> None:
    text = dumps(load_path(DATA / "models" / "order-loop.yaml").model)
    broken = text.replace("</flowcase:model>", f"<flowcase:pins>{pins}</flowcase:pins></flowcase:model>", 1)
    assert broken != text
    with pytest.raises(ModelError) as info:
        loads(broken, "m.bpmn")
    assert expected in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize(("name", "model"), MODELS, ids=[n for n, _ in MODELS])
def test_json_text_to_bpmn_text_to_json_text_keeps_meaning(name: str, model: Model) -> None:
    json_text = io.dumps(model, "json")
    bpmn_text = io.dumps(io.loads(json_text, "json").model, "bpmn")
    again = io.loads(io.dumps(io.loads(bpmn_text, "bpmn").model, "json"), "json").model
    assert same_meaning(model, again, descriptions=True) == []


# -- bpmn.io itself (the vendored bpmn-js modeler in headless Chromium) --------------------------------


@pytest.fixture(scope="module")
def bpmn_io() -> Iterator[Any]:
    yield from bpmn_io_page()


@pytest.mark.browser
@pytest.mark.parametrize(("name", "model"), MODELS, ids=[n for n, _ in MODELS])
def test_bpmn_io_opens_the_export_without_warnings_and_keeps_our_data(name: str, model: Model, bpmn_io: Any) -> None:
    text = dumps(model)
    result = bpmn_io.evaluate(IMPORT_AND_SAVE, text)
    assert result["warnings"] == []
    doc = etree.fromstring(text.encode())
    main = doc.find("bpmn:process", NS)
    assert main is not None
    drawn = {e.get("id") for e in main if e.tag != f"{{{BPMN}}}extensionElements" and e.get("id")}
    assert drawn <= set(result["elements"])  # every node and flow of the main process is on the canvas
    # what bpmn.io saves again (its own serialisation) still reads back to the same model
    assert same_meaning(model, loads(result["xml"]).model, descriptions=True) == []


FIXTURES = ["camunda-order-approval.bpmn", "bpmnio-support-ticket.bpmn", "camunda-collaboration-claim.bpmn"]


@pytest.mark.parametrize("name", FIXTURES)
def test_fixtures_are_schema_valid_bpmn(name: str, schema: etree.XMLSchema) -> None:
    assert schema.validate(etree.parse(str(DATA / name))), schema.error_log.last_error


@pytest.mark.browser
@pytest.mark.parametrize("name", FIXTURES)
def test_fixtures_open_in_bpmn_io_and_so_does_their_conversion(name: str, bpmn_io: Any) -> None:
    assert bpmn_io.evaluate(IMPORT_AND_SAVE, (DATA / name).read_text(encoding="utf-8"))["warnings"] == []
    converted = dumps(load_path(DATA / name).model)
    assert bpmn_io.evaluate(IMPORT_AND_SAVE, converted)["warnings"] == []


def test_ids_other_tools_allow_are_sanitised_deterministically() -> None:
    text = f"""<definitions xmlns="{BPMN}" id="Définitions" targetNamespace="x">
      <process id="Prozeß"><startEvent id="Début"><outgoing>f1</outgoing></startEvent>
      <task id="Tâche-1" name="Enregistrer"><incoming>f1</incoming><outgoing>f2</outgoing></task>
      <task id="Tâche_1"><outgoing>f3</outgoing></task>
      <endEvent id="Fin"><incoming>f2</incoming></endEvent>
      <sequenceFlow id="f1" sourceRef="Début" targetRef="Tâche-1"/>
      <sequenceFlow id="f2" sourceRef="Tâche-1" targetRef="Fin"/>
      <sequenceFlow id="f3" sourceRef="Tâche_1" targetRef="Fin"/></process>
    </definitions>"""
    loaded = loads(text)
    assert loaded.model.id == "D_finitions" and loaded.model.main.id == "Proze_"
    assert [n.id for n in loaded.model.main.nodes] == ["D_but", "T_che-1", "T_che_1", "Fin"]
    assert [d.next for d in loaded.model.main.node("D_but").table] == ["T_che-1"]
    renamed = [w.message for w in loaded.warnings if w.code == "bpmn-renamed"]
    assert len(renamed) == 4 and "'Tâche_1' is not a valid or unique flowcase identifier" in renamed[-1]
    assert loads(text).model == loaded.model
