"""BPMN 2.0 export: deterministic XML with DI that bpmn.io and Camunda Modeler open, our data in extensions.

A model read from BPMN is written back as it was drawn: each node as the element it was read from
(``Node.bpmn``), each decision as its sequence flow with its route (``Decision.bpmn``), embedded sub-processes
inside their parent, boundary events on their activity, and the pools, lanes, message flows and artifacts kept
in ``Model.bpmn``. What import added (an implicit start or end, a main workflow over the pools) is written as
plain elements. An annotation that no longer fits the model (a boundary event whose activity lost the row leading
to it, a user task turned into a choice) is not used: the node is written as the default element of its kind.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET  # building and writing only; parsing goes through defusedxml
from dataclasses import dataclass, field

from flowcase.model.bpmn.common import (
    _ATTRIBUTE,
    _ELEMENT_OF,
    _GATEWAYS,
    _SUBPROCESSES,
    _TASKS,
    BPMNDI,
    DC,
    DI,
    PREFIXES,
    TARGET_NAMESPACE,
    XSI,
    _b,
    _default_label,
    _f,
    _q,
    _scalar_text,
    _scalar_type,
)
from flowcase.model.diagnostics import Diagnostic, ModelError
from flowcase.model.layout import edge_label, layout_of, place_labels, routes, text_size
from flowcase.model.types import (
    FORMAT_VERSION,
    BpmnArtifact,
    BpmnLane,
    Decision,
    Layout,
    Model,
    Node,
    NodeKind,
    Point,
    Workflow,
)

_ACTIVITIES = frozenset({*_TASKS, *_SUBPROCESSES, "callActivity"})
_CATCH_EVENTS = frozenset({"startEvent", "boundaryEvent", "intermediateCatchEvent"})
_THROW_EVENTS = frozenset({"endEvent", "intermediateThrowEvent"})
# the kind import gives each element by itself; a node of another kind says its kind in flowcase:kind
_NATURAL: dict[str, NodeKind] = {
    "startEvent": "start",
    "endEvent": "end",
    "callActivity": "call",
    **{t: "call" for t in _SUBPROCESSES},
    **{t: "choice" for t in _GATEWAYS},
}
_FITS: dict[NodeKind, frozenset[str]] = {
    "start": frozenset({"startEvent"}),
    "end": frozenset({"endEvent"}),
    "choice": _GATEWAYS,
    "call": frozenset({"callActivity", *_SUBPROCESSES}),
    "step": frozenset(
        {
            *_TASKS,
            *_SUBPROCESSES,
            "callActivity",
            "startEvent",
            "boundaryEvent",
            "intermediateCatchEvent",
            "intermediateThrowEvent",
        }
    ),
}
_FLOW_ARTIFACTS = ("dataObject", "dataObjectReference", "dataStoreReference")  # flow elements of a process
_DRAWN_ARTIFACTS = ("textAnnotation", "group", "association")  # artifacts proper, after the flow elements
_NEAR = 20.0  # how far a kept edge end or label may be from its shape and still be used


class _Ids:
    """Document-wide unique XML ids, chosen deterministically: the wanted id, else ``wanted_2``, ..."""

    def __init__(self) -> None:
        self.used: set[str] = set()

    def take(self, wanted: str) -> str:
        candidate, n = wanted, 1
        while candidate in self.used:
            n += 1
            candidate = f"{wanted}_{n}"
        self.used.add(candidate)
        return candidate


NodeKey = tuple[str, str]  # workflow id, node id
RowKey = tuple[str, str, str]  # workflow id, node id, row id


@dataclass
class _Plan:
    """What to write: each node's element, which rows BPMN implies, which workflows are embedded, every XML id."""

    model: Model
    ids: _Ids = field(default_factory=_Ids)
    tags: dict[NodeKey, str] = field(default_factory=dict)
    xml: dict[NodeKey, str] = field(default_factory=dict)
    process_ids: dict[str, str] = field(default_factory=dict)  # workflows written as processes
    embedded: dict[str, NodeKey] = field(default_factory=dict)  # workflow -> the sub-process node holding it
    implied: dict[RowKey, str] = field(default_factory=dict)  # rows BPMN implies -> the target's XML id
    attached: dict[NodeKey, str] = field(default_factory=dict)  # boundary event -> its activity's node id
    loops: set[NodeKey] = field(default_factory=set)
    triggered: set[NodeKey] = field(default_factory=set)
    flow_ids: dict[RowKey, str] = field(default_factory=dict)
    artifacts: dict[str, BpmnArtifact] = field(default_factory=dict)  # the ones written, by XML id
    decisions: dict[str, ET.Element] = field(default_factory=dict)  # flow XML id -> its flowcase:decision

    def node_xml(self, workflow: str, node: str) -> str:
        return self.xml[(workflow, node)]

    def resolve(self, ref: str | None) -> str | None:
        """The XML id a reference of the diagram annotation stands for, if it is written."""
        if ref is None:
            return None
        parts = ref.split("/")
        if len(parts) == 2:
            return self.xml.get((parts[0], parts[1]))
        if len(parts) == 3:
            return self.flow_ids.get((parts[0], parts[1], parts[2]))
        return ref if ref in self.ids.used else None


def dumps(model: Model) -> str:
    """The model as pretty-printed, deterministic BPMN 2.0 XML with DI for every process."""
    for prefix, uri in PREFIXES.items():
        ET.register_namespace(prefix, uri)
    plan = _plan(model)
    root = ET.Element(
        _b("definitions"),
        {
            "id": plan.ids.take("Definitions_" + model.id),
            **({"name": model.name} if model.name else {}),
            "targetNamespace": TARGET_NAMESPACE,
            "exporter": "flowcase",
            "exporterVersion": FORMAT_VERSION,
        },
    )
    _export_definitions(root, plan)
    for workflow in model.workflows:
        if workflow.id in plan.process_ids:
            _export_process(root, plan, workflow)
    _export_diagrams(root, plan)
    ET.indent(root, space="  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


# -- the plan ------------------------------------------------------------------------------------------


def _plan(model: Model) -> _Plan:
    plan = _Plan(model)
    diagram = model.bpmn
    if diagram is not None:  # the ids the source file gave its pools, lanes, message flows and artifacts
        for collaboration in diagram.collaborations:
            plan.ids.take(collaboration.id)
            for participant in collaboration.participants:
                plan.ids.take(participant.id)
            for flow in collaboration.message_flows:
                plan.ids.take(flow.id)
        for lane in diagram.lanes:
            if lane.lane_set not in plan.ids.used:
                plan.ids.take(lane.lane_set)
            plan.ids.take(lane.id)
        for artifact in _all_artifacts(model):
            plan.ids.take(artifact.id)
    _plan_embedding(plan)
    for workflow in model.workflows:
        if workflow.id not in plan.embedded:
            plan.process_ids[workflow.id] = plan.ids.take(workflow.id)
    for workflow in model.workflows:
        for node in workflow.nodes:
            plan.xml[(workflow.id, node.id)] = plan.ids.take(node.bpmn.id if node.bpmn and node.bpmn.id else node.id)
    for workflow in model.workflows:
        _plan_elements(plan, workflow)
    for workflow in model.workflows:
        for node, decision in workflow.edges():
            assert decision.id is not None  # node.table fills ids in
            key = (workflow.id, node.id, decision.id)
            if key in plan.implied:
                continue
            wanted = decision.bpmn.id if decision.bpmn else f"Flow_{plan.node_xml(workflow.id, node.id)}_{decision.id}"
            plan.flow_ids[key] = plan.ids.take(wanted)
    return plan


def _plan_embedding(plan: _Plan) -> None:
    """A workflow read from an embedded sub-process goes back inside it while it is that node's alone."""
    model = plan.model
    callers: dict[str, list[NodeKey]] = {}
    for workflow in model.workflows:
        for node in workflow.nodes:
            if node.kind == "call" and node.workflow:
                callers.setdefault(node.workflow, []).append((workflow.id, node.id))
    for workflow in model.workflows[1:]:
        found = callers.get(workflow.id, [])
        if len(found) != 1:
            continue
        caller = model.workflow(found[0][0]).node(found[0][1])
        if caller.bpmn is not None and caller.bpmn.type in _SUBPROCESSES:
            plan.embedded[workflow.id] = found[0]
    # every embedded workflow must hang from a process, not from a ring of sub-processes
    for workflow_id in list(plan.embedded):
        seen, current = {workflow_id}, plan.embedded[workflow_id][0]
        while current in plan.embedded:
            if current in seen:
                del plan.embedded[workflow_id]
                break
            seen.add(current)
            current = plan.embedded[current][0]


def _plan_elements(plan: _Plan, workflow: Workflow) -> None:
    """Each node's element, and the rows its element implies (written as BPMN, not as flows)."""
    holds = {key[1]: wid for wid, key in plan.embedded.items() if key[0] == workflow.id}
    for node in workflow.nodes:
        key = (workflow.id, node.id)
        tag = _ELEMENT_OF[node.kind]
        b = node.bpmn
        if b is not None and b.type in _FITS[node.kind]:
            tag = b.type
            if node.kind == "call" and tag in _SUBPROCESSES and node.id not in holds:
                tag = "callActivity"
            if tag == "boundaryEvent":
                tag = "boundaryEvent" if _attach(plan, workflow, node) else _ELEMENT_OF[node.kind]
        plan.tags[key] = tag
    starts = [n for n in workflow.nodes if n.kind == "start"]
    for node in workflow.nodes:
        b, tag = node.bpmn, plan.tags[(workflow.id, node.id)]
        if b is None:
            continue
        if b.loop == "standard" and tag in _ACTIVITIES:
            row = next((d for d in node.table if d.next == node.id), None)
            if row is not None:
                assert row.id is not None
                plan.loops.add((workflow.id, node.id))
                plan.implied[(workflow.id, node.id, row.id)] = plan.node_xml(workflow.id, node.id)
        if b.triggered_by_event and tag in _SUBPROCESSES and starts:
            row = next((d for d in starts[0].table if d.next == node.id), None)
            if row is not None:
                assert row.id is not None
                plan.triggered.add((workflow.id, node.id))
                plan.implied[(workflow.id, starts[0].id, row.id)] = plan.node_xml(workflow.id, node.id)
    _plan_links(plan, workflow)
    _plan_compensation(plan, workflow)


def _attach(plan: _Plan, workflow: Workflow, node: Node) -> bool:
    """A boundary event stays one while its activity is an activity and has the row leading to it."""
    assert node.bpmn is not None
    host_id = node.bpmn.attached_to
    host = workflow.by_id.get(host_id or "")
    if host is None or host.kind not in ("step", "call"):
        return False
    if host.bpmn is not None and host.bpmn.type in _FITS[host.kind] and host.bpmn.type not in _ACTIVITIES:
        return False  # an event or a start read as a step
    row = next((d for d in host.table if d.next == node.id), None)
    if row is None:
        return False
    assert row.id is not None and host_id is not None
    plan.attached[(workflow.id, node.id)] = host_id
    plan.implied[(workflow.id, host_id, row.id)] = node.bpmn.id or node.id
    return True


def _link_name(node: Node) -> str | None:
    return None if node.bpmn is None else (node.bpmn.link or node.name)


def _plan_links(plan: _Plan, workflow: Workflow) -> None:
    """A throwing link event whose only row goes to the catching one of its name (how import reads links)."""
    catches: dict[str, Node] = {}
    for node in workflow.nodes:
        catching = plan.tags[(workflow.id, node.id)] == "intermediateCatchEvent"
        if catching and node.bpmn and "link" in node.bpmn.events and (name := _link_name(node)):
            catches[name] = node
    for node in workflow.nodes:
        if plan.tags[(workflow.id, node.id)] != "intermediateThrowEvent" or not node.bpmn:
            continue
        name = _link_name(node)
        if (
            "link" in node.bpmn.events
            and name in catches
            and len(node.table) == 1
            and node.table[0].next == catches[name].id
        ):
            row = node.table[0]
            assert row.id is not None
            plan.implied[(workflow.id, node.id, row.id)] = plan.node_xml(workflow.id, catches[name].id)


def _plan_compensation(plan: _Plan, workflow: Workflow) -> None:
    """A compensation boundary event's rows to the handlers it is associated with."""
    if plan.model.bpmn is None:
        return
    pairs = {
        (a.source, a.target)
        for a in plan.model.bpmn.artifacts
        if a.type == "association" and a.container == workflow.id
    }
    for node in workflow.nodes:
        if (workflow.id, node.id) not in plan.attached or not node.bpmn or "compensate" not in node.bpmn.events:
            continue
        for row in node.table:
            assert row.id is not None
            if (f"{workflow.id}/{node.id}", f"{workflow.id}/{row.next}") in pairs:
                plan.implied[(workflow.id, node.id, row.id)] = plan.node_xml(workflow.id, row.next)


# -- the semantic part ---------------------------------------------------------------------------------


def _export_definitions(root: ET.Element, plan: _Plan) -> None:
    """Root elements the artifacts refer to (data stores, group categories), then the collaborations."""
    diagram = plan.model.bpmn
    if diagram is None:
        return
    for artifact in _all_artifacts(plan.model):
        if artifact.type == "dataStoreReference" and artifact.ref and artifact.ref not in plan.ids.used:
            plan.ids.take(artifact.ref)
            ET.SubElement(root, _b("dataStore"), {"id": artifact.ref, **_named(artifact.name)})
        if artifact.type == "group" and artifact.ref and artifact.ref not in plan.ids.used:
            plan.ids.take(artifact.ref)
            category = ET.SubElement(root, _b("category"), {"id": plan.ids.take(f"Category_{artifact.ref}")})
            ET.SubElement(category, _b("categoryValue"), {"id": artifact.ref, "value": artifact.name})
    # artifacts first (their ids are taken), so that associations and data associations can point at them
    for artifact in _all_artifacts(plan.model):
        if artifact.type not in ("association", "dataInputAssociation", "dataOutputAssociation"):
            plan.artifacts[artifact.id] = artifact
    for collaboration in diagram.collaborations:
        element = ET.SubElement(root, _b("collaboration"), {"id": collaboration.id, **_named(collaboration.name)})
        for participant in collaboration.participants:
            attrs = {"id": participant.id, **_named(participant.name)}
            if participant.workflow in plan.process_ids:
                attrs["processRef"] = plan.process_ids[participant.workflow]
            ET.SubElement(element, _b("participant"), attrs)
        for flow in collaboration.message_flows:
            source, target = plan.resolve(flow.source), plan.resolve(flow.target)
            if source and target:
                ET.SubElement(
                    element,
                    _b("messageFlow"),
                    {"id": flow.id, **_named(flow.name), "sourceRef": source, "targetRef": target},
                )
        _export_artifacts(element, plan, collaboration.artifacts)


def _all_artifacts(model: Model) -> list[BpmnArtifact]:
    if model.bpmn is None:
        return []
    return [*(a for c in model.bpmn.collaborations for a in c.artifacts), *model.bpmn.artifacts]


def _of(plan: _Plan, workflow_id: str) -> list[BpmnArtifact]:
    return [a for a in plan.model.bpmn.artifacts if a.container == workflow_id] if plan.model.bpmn else []


def _named(name: str) -> dict[str, str]:
    return {"name": name} if name else {}


def _export_process(root: ET.Element, plan: _Plan, workflow: Workflow) -> None:
    model = plan.model
    process_id = plan.process_ids[workflow.id]
    attrs = {"id": process_id}
    if workflow.name:
        attrs["name"] = workflow.name
    attrs["isExecutable"] = "false"
    if process_id != workflow.id:
        attrs[_f("id")] = workflow.id
    if workflow.stop_anywhere:  # a test may stop at any node (GraphWalker's semantics); BPMN has no word for it
        attrs[_f("stopAnywhere")] = "true"
    process = ET.SubElement(root, _b("process"), attrs)
    if workflow.description:
        ET.SubElement(process, _b("documentation")).text = workflow.description
    if workflow is model.main:
        ext = ET.SubElement(process, _b("extensionElements"))
        ext.append(_model_extension(model))
    _export_content(process, plan, workflow)


def _export_content(parent: ET.Element, plan: _Plan, workflow: Workflow) -> None:
    """Lanes, flow nodes (sub-processes with their content), data objects, sequence flows, artifacts."""
    if workflow.id in plan.process_ids:
        _export_io(parent, plan, workflow.id)
    if plan.model.bpmn is not None:
        _export_lanes(parent, plan, workflow, [ln for ln in plan.model.bpmn.lanes if ln.workflow == workflow.id])
    known = workflow.by_id
    incoming: dict[str, list[str]] = {n.id: [] for n in workflow.nodes}
    flows: list[tuple[Node, Decision, str]] = []
    for node, decision in workflow.edges():
        if decision.next not in known:
            raise ModelError(
                [
                    Diagnostic(
                        "error",
                        "unknown-target",
                        f"decision {decision.id!r} leads to unknown node "
                        f"{decision.next!r}; fix the model before exporting to BPMN",
                        workflow.id,
                        f"{node.kind} {node.id!r}",
                        "next",
                    )
                ]
            )
        assert decision.id is not None
        flow_id = plan.flow_ids.get((workflow.id, node.id, decision.id))
        if flow_id is not None:
            incoming[decision.next].append(flow_id)
            flows.append((node, decision, flow_id))

    holds = {key[1]: wid for wid, key in plan.embedded.items() if key[0] == workflow.id}
    for node in workflow.nodes:
        _export_node(parent, plan, workflow, node, incoming[node.id], holds.get(node.id))
    _export_artifacts(parent, plan, _of(plan, workflow.id), _FLOW_ARTIFACTS)

    for node, decision, flow_id in flows:
        attrs = {"id": flow_id}
        label = decision.objective or decision.when
        if label:
            attrs["name"] = label
        attrs["sourceRef"] = plan.node_xml(workflow.id, node.id)
        attrs["targetRef"] = plan.node_xml(workflow.id, decision.next)
        flow = ET.SubElement(parent, _b("sequenceFlow"), attrs)
        ext = ET.SubElement(flow, _b("extensionElements"))
        plan.decisions[flow_id] = _decision_extension(decision)
        ext.append(plan.decisions[flow_id])
        # conditional flows are allowed from activities and gateways, not from events
        if decision.when.strip() and not plan.tags[(workflow.id, node.id)].endswith("Event"):
            condition = ET.SubElement(flow, _b("conditionExpression"), {_q(XSI, "type"): "bpmn:tFormalExpression"})
            condition.text = decision.when
    _export_artifacts(parent, plan, _of(plan, workflow.id), _DRAWN_ARTIFACTS)


def _export_node(
    parent: ET.Element, plan: _Plan, workflow: Workflow, node: Node, incoming: list[str], holds: str | None
) -> None:
    key = (workflow.id, node.id)
    tag, xml_id, b = plan.tags[key], plan.xml[key], node.bpmn
    attrs = {"id": xml_id}
    if node.name:
        attrs["name"] = node.name
    if tag == "callActivity":
        if node.kind == "call" and node.workflow:
            attrs["calledElement"] = plan.process_ids.get(node.workflow, node.workflow)
        elif b is not None and b.called:
            attrs["calledElement"] = b.called
    if key in plan.attached:
        attrs["attachedToRef"] = plan.node_xml(workflow.id, plan.attached[key])
        if b is not None and not b.interrupting:
            attrs["cancelActivity"] = "false"
    if tag == "startEvent" and b is not None and not b.interrupting:
        attrs["isInterrupting"] = "false"
    if key in plan.triggered:
        attrs["triggeredByEvent"] = "true"
    if b is not None and b.for_compensation and tag in _ACTIVITIES:
        attrs["isForCompensation"] = "true"
    if b is not None and b.default and (tag in _ACTIVITIES or tag in _GATEWAYS):
        default = next(
            (
                plan.flow_ids.get((workflow.id, node.id, d.id or ""))
                for d in node.table
                if d.bpmn is not None and d.bpmn.id == b.default
            ),
            None,
        )
        if default:
            attrs["default"] = default
    if xml_id != node.id:
        attrs[_f("id")] = node.id
    if _NATURAL.get(tag, "step") != node.kind:
        attrs[_f("kind")] = node.kind
    if holds is not None and holds != xml_id:
        attrs[_f("workflow")] = holds
    element = ET.SubElement(parent, _b(tag), attrs)
    if node.description:
        ET.SubElement(element, _b("documentation")).text = node.description
    implied = [
        (d, plan.implied[(workflow.id, node.id, d.id or "")])
        for d in node.table
        if (workflow.id, node.id, d.id or "") in plan.implied
    ]
    if implied:  # rows the element implies keep their data here (flowcase:decision to=<target>)
        ext = ET.SubElement(element, _b("extensionElements"))
        for decision, target in implied:
            ours = _decision_extension(decision)
            ours.set("to", target)
            ext.append(ours)
    for flow_id in incoming:
        ET.SubElement(element, _b("incoming")).text = flow_id
    for decision in node.table:
        outgoing = plan.flow_ids.get((workflow.id, node.id, decision.id or ""))
        if outgoing is not None:
            ET.SubElement(element, _b("outgoing")).text = outgoing
    _export_data_associations(element, plan, workflow, node, tag)
    if tag in _ACTIVITIES and b is not None:
        if key in plan.loops:
            ET.SubElement(element, _b("standardLoopCharacteristics"))
        elif b.loop in ("parallel", "sequential"):
            ET.SubElement(
                element,
                _b("multiInstanceLoopCharacteristics"),
                {"isSequential": "true"} if b.loop == "sequential" else {},
            )
    if tag.endswith("Event") and b is not None:
        for kind in b.events:
            if kind == "terminate" and tag != "endEvent":
                continue
            definition = ET.SubElement(
                element, _b(f"{kind}EventDefinition"), {"name": b.link or ""} if kind == "link" else {}
            )
            if kind == "conditional":  # the schema asks for a condition
                ET.SubElement(definition, _b("condition"), {_q(XSI, "type"): "bpmn:tFormalExpression"})
    if holds is not None:
        _export_content(element, plan, plan.model.workflow(holds))


def _export_data_associations(element: ET.Element, plan: _Plan, workflow: Workflow, node: Node, tag: str) -> None:
    """Data associations at their node: inputs into activities and throw events, outputs of activities and catch
    events (in the order BPMN's schema asks for)."""
    if plan.model.bpmn is None:
        return
    me = f"{workflow.id}/{node.id}"
    inputs = [
        a
        for a in plan.model.bpmn.artifacts
        if a.type == "dataInputAssociation" and a.target == me and a.container == workflow.id and plan.resolve(a.source)
    ]
    outputs = [
        a
        for a in plan.model.bpmn.artifacts
        if a.type == "dataOutputAssociation"
        and a.source == me
        and a.container == workflow.id
        and plan.resolve(a.target)
    ]
    if tag not in _ACTIVITIES and tag not in _THROW_EVENTS:
        inputs = []
    if tag not in _ACTIVITIES and tag not in _CATCH_EVENTS:
        outputs = []
    placeholders = [(a, plan.ids.take(f"{a.id}_target")) for a in inputs]
    for _, placeholder in placeholders:
        if tag in _ACTIVITIES:
            ET.SubElement(element, _b("property"), {"id": placeholder, "name": "__targetRef_placeholder"})
        else:
            ET.SubElement(element, _b("dataInput"), {"id": placeholder})
    for artifact, placeholder in placeholders:
        association = ET.SubElement(element, _b("dataInputAssociation"), {"id": artifact.id})
        ET.SubElement(association, _b("sourceRef")).text = plan.resolve(artifact.source)
        ET.SubElement(association, _b("targetRef")).text = placeholder
        plan.artifacts[artifact.id] = artifact
    for artifact in outputs:
        association = ET.SubElement(element, _b("dataOutputAssociation"), {"id": artifact.id})
        ET.SubElement(association, _b("targetRef")).text = plan.resolve(artifact.target)
        plan.artifacts[artifact.id] = artifact


def _export_io(parent: ET.Element, plan: _Plan, workflow_id: str) -> None:
    """A process's data inputs and outputs (BPMN asks for an input set and an output set with them)."""
    artifacts = _of(plan, workflow_id)
    inputs = [a for a in artifacts if a.type == "dataInput"]
    outputs = [a for a in artifacts if a.type == "dataOutput"]
    if not inputs and not outputs:
        return
    io = ET.SubElement(parent, _b("ioSpecification"), {"id": plan.ids.take(f"ioSpecification_{workflow_id}")})
    for artifact in [*inputs, *outputs]:
        ET.SubElement(
            io,
            _b(artifact.type),
            {"id": artifact.id, **_named(artifact.name), **({"isCollection": "true"} if artifact.collection else {})},
        )
        plan.artifacts[artifact.id] = artifact
    for set_tag, refs_tag, members in (("inputSet", "dataInputRefs", inputs), ("outputSet", "dataOutputRefs", outputs)):
        data_set = ET.SubElement(io, _b(set_tag), {"id": plan.ids.take(f"{set_tag}_{workflow_id}")})
        for artifact in members:
            ET.SubElement(data_set, _b(refs_tag)).text = artifact.id


def _export_lanes(parent: ET.Element, plan: _Plan, workflow: Workflow, lanes: list[BpmnLane]) -> None:
    def write(into: ET.Element, lane_parent: str | None) -> None:
        by_set: dict[str, list[BpmnLane]] = {}
        for lane in lanes:
            if lane.parent == lane_parent:
                by_set.setdefault(lane.lane_set, []).append(lane)
        for set_id, members in by_set.items():
            lane_set = ET.SubElement(into, _b("laneSet" if lane_parent is None else "childLaneSet"), {"id": set_id})
            for lane in members:
                element = ET.SubElement(lane_set, _b("lane"), {"id": lane.id, **_named(lane.name)})
                for node_id in lane.nodes:
                    if (workflow.id, node_id) in plan.xml:
                        ET.SubElement(element, _b("flowNodeRef")).text = plan.node_xml(workflow.id, node_id)
                write(element, lane.id)

    write(parent, None)


def _export_artifacts(
    parent: ET.Element,
    plan: _Plan,
    artifacts: list[BpmnArtifact] | tuple[BpmnArtifact, ...],
    types: tuple[str, ...] = _DRAWN_ARTIFACTS,
) -> None:
    for artifact in artifacts:
        if artifact.type not in types:
            continue
        attrs = {"id": artifact.id}
        if artifact.type == "association":
            source, target = plan.resolve(artifact.source), plan.resolve(artifact.target)
            if not source or not target:
                continue
            attrs |= {"sourceRef": source, "targetRef": target}
        elif artifact.type == "dataObject":
            attrs |= _named(artifact.name) | ({"isCollection": "true"} if artifact.collection else {})
        elif artifact.type == "dataObjectReference":
            attrs |= _named(artifact.name)
            if artifact.ref and plan.artifacts.get(artifact.ref, None) is not None:
                attrs["dataObjectRef"] = artifact.ref
        elif artifact.type == "dataStoreReference":
            attrs |= _named(artifact.name) | ({"dataStoreRef": artifact.ref} if artifact.ref else {})
        elif artifact.type == "group" and artifact.ref:
            attrs["categoryValueRef"] = artifact.ref
        element = ET.SubElement(parent, _b(artifact.type), attrs)
        if artifact.type == "textAnnotation":
            ET.SubElement(element, _b("text")).text = artifact.text
        plan.artifacts[artifact.id] = artifact


def _model_extension(model: Model) -> ET.Element:
    attrs = {"id": model.id}
    if model.name:
        attrs["name"] = model.name
    attrs["version"] = FORMAT_VERSION
    element = ET.Element(_f("model"), attrs)
    if model.description:
        ET.SubElement(element, _f("description")).text = model.description
    for parameter in model.parameters:
        p = ET.SubElement(element, _f("parameter"), {"name": parameter.name})
        if parameter.description:
            p.set("description", parameter.description)
        for value in parameter.values:
            ET.SubElement(p, _f("value"), {"type": _scalar_type(value)}).text = _scalar_text(value)
    for variable in model.variables:
        initial = variable.initial
        attrs = {"name": variable.name, "type": _scalar_type(initial), "initial": _scalar_text(initial)}
        if variable.description:
            attrs["description"] = variable.description
        ET.SubElement(element, _f("variable"), attrs)
    if model.pins:  # the tests a user pinned are saved with the model: an export keeps them (as JSON text)
        ET.SubElement(element, _f("pins")).text = json.dumps(list(model.pins), ensure_ascii=False, sort_keys=True)
    return element


def _decision_extension(decision: Decision) -> ET.Element:
    attrs: dict[str, str] = {"id": decision.id or ""}
    for name in ("when", "set", "after", "priority", "risk"):
        value = getattr(decision, name)
        if value:
            attrs[_ATTRIBUTE.get(name, name)] = value
    element = ET.Element(_f("decision"), attrs)
    for name in ("action", "expected", "objective"):
        value = getattr(decision, name)
        if value:
            ET.SubElement(element, _f(name)).text = value
    for key in decision.requirements:
        ET.SubElement(element, _f("requirement")).text = key
    for tag in decision.tags:
        ET.SubElement(element, _f("tag")).text = tag
    for key, value in decision.custom.items():
        ET.SubElement(element, _f("custom"), {"name": key, "type": _scalar_type(value)}).text = _scalar_text(value)
    return element


# -- the diagrams ----------------------------------------------------------------------------------------


@dataclass
class _Canvas:
    """One BPMNPlane being filled."""

    plane: ET.Element


def _export_diagrams(root: ET.Element, plan: _Plan) -> None:
    """One diagram per collaboration (its pools, lanes, their processes and message flows), one per other process,
    and one per collapsed sub-process."""
    model, drawn = plan.model, set()
    diagram = model.bpmn
    pending: list[tuple[str, str]] = []  # (plane element, workflow) for collapsed sub-processes
    pooled = {p.workflow for c in diagram.collaborations for p in c.participants} if diagram else set()
    # a process with lanes but no pool is drawn in the collaboration's diagram (as the MIWG files do; bpmn.io
    # draws such a process there, and only such a one)
    free = [
        w.id
        for w in model.workflows
        if w.id in plan.process_ids
        and w.id not in pooled
        and diagram is not None
        and any(ln.workflow == w.id for ln in diagram.lanes)
    ]
    for index, collaboration in enumerate(diagram.collaborations if diagram else ()):
        workflows = [
            p.workflow for p in collaboration.participants if p.workflow in plan.process_ids and p.workflow not in drawn
        ] + (free if index == 0 else [])
        canvas = _canvas(root, plan, collaboration.id)
        for participant in collaboration.participants:
            if participant.layout is not None:
                _shape(
                    canvas,
                    plan,
                    participant.id,
                    participant.layout,
                    {} if participant.horizontal is None else {"isHorizontal": _bool(participant.horizontal)},
                )
        for workflow_id in workflows:
            assert workflow_id is not None
            drawn.add(workflow_id)
            _draw_lanes(canvas, plan, workflow_id)
            pending += _draw_workflow(canvas, plan, model.workflow(workflow_id), (0.0, 0.0))
        _draw_artifacts(canvas, plan, collaboration.artifacts)
        for flow in collaboration.message_flows:
            source, target = plan.resolve(flow.source), plan.resolve(flow.target)
            if source and target and flow.waypoints:  # drawn as it was; not drawn if it was not
                _edge(canvas, plan, flow.id, flow.waypoints, flow.label)
        _finish(canvas)
    for workflow in model.workflows:
        if workflow.id in plan.process_ids and workflow.id not in drawn:
            canvas = _canvas(root, plan, plan.process_ids[workflow.id])
            _draw_lanes(canvas, plan, workflow.id)
            pending += _draw_workflow(canvas, plan, workflow, (0.0, 0.0))
            _finish(canvas)
    while pending:
        element, workflow_id = pending.pop(0)
        canvas = _canvas(root, plan, element)
        pending += _draw_workflow(canvas, plan, model.workflow(workflow_id), (0.0, 0.0))
        _finish(canvas)


def _canvas(root: ET.Element, plan: _Plan, element: str) -> _Canvas:
    diagram = ET.SubElement(root, _q(BPMNDI, "BPMNDiagram"), {"id": plan.ids.take(f"BPMNDiagram_{element}")})
    plane = ET.SubElement(
        diagram, _q(BPMNDI, "BPMNPlane"), {"id": plan.ids.take(f"BPMNPlane_{element}"), "bpmnElement": element}
    )
    return _Canvas(plane)


def _finish(canvas: _Canvas) -> None:
    """Edges after shapes: move the BPMNEdges written so far to the end of the plane."""
    edges = [e for e in canvas.plane if e.tag == _q(BPMNDI, "BPMNEdge")]
    for edge in edges:
        canvas.plane.remove(edge)
        canvas.plane.append(edge)


def _draw_lanes(canvas: _Canvas, plan: _Plan, workflow_id: str) -> None:
    for lane in plan.model.bpmn.lanes if plan.model.bpmn else ():
        if lane.workflow == workflow_id and lane.layout is not None:
            _shape(
                canvas,
                plan,
                lane.id,
                lane.layout,
                {} if lane.horizontal is None else {"isHorizontal": _bool(lane.horizontal)},
            )


def _draw_workflow(canvas: _Canvas, plan: _Plan, workflow: Workflow, offset: Point) -> list[tuple[str, str]]:
    """Shapes of the nodes and edges of the flows; expanded sub-processes drawn inside. Returns the collapsed ones."""
    layouts = {k: _moved(v, offset) for k, v in layout_of(workflow).items()}
    arrows = routes(workflow, layouts)
    pending: list[tuple[str, str]] = []
    holds = {key[1]: wid for wid, key in plan.embedded.items() if key[0] == workflow.id}
    node_labels: list[Layout] = []
    for node in workflow.nodes:
        key = (workflow.id, node.id)
        tag, xml_id, lay, b = plan.tags[key], plan.xml[key], layouts[node.id], node.bpmn
        attrs: dict[str, str] = {}
        if tag == "exclusiveGateway":
            attrs["isMarkerVisible"] = "true"
        sub = holds.get(node.id)
        if tag in _SUBPROCESSES and b is not None and b.expanded is not None:
            attrs["isExpanded"] = _bool(b.expanded)
        label = b.label if b is not None and b.label is not None and _near(b.label, lay, 200.0) else None
        if label is None and (tag.endswith("Event") or tag in _GATEWAYS) and node.name:
            label = _default_label(lay)  # events and gateways have their label outside, below the shape
        if label is not None and node.name:  # as bpmn-js draws it: the name wrapped at 90 px from the top
            node_labels.append(label.model_copy(update={"height": max(label.height or 0.0, text_size(node.name)[1])}))
        _shape(canvas, plan, xml_id, lay, attrs, label)
    for node in workflow.nodes:
        sub = holds.get(node.id)
        if sub is None:
            continue
        b = node.bpmn
        if b is not None and b.expanded:
            pending += _draw_workflow(canvas, plan, plan.model.workflow(sub), b.origin or (0.0, 0.0))
        else:
            pending.append((plan.node_xml(workflow.id, node.id), sub))
    drawn: list[tuple[str, tuple[str, str], tuple[Point, ...]]] = []
    fixed: dict[tuple[str, str], Layout] = {}  # labels kept where the modeler drew them, with the route they belong to
    for node, decision in workflow.edges():
        flow_id = plan.flow_ids.get((workflow.id, node.id, decision.id or ""))
        if flow_id is None:
            continue
        key = (node.id, decision.id or "")
        source, target = layouts[node.id], layouts[decision.next]
        kept = decision.bpmn
        if (
            kept is not None
            and len(kept.waypoints) >= 2
            and _near_point(kept.waypoints[0], source)
            and _near_point(kept.waypoints[-1], target)
        ):
            points: tuple[Point, ...] = kept.waypoints
            if kept.label is not None:
                fixed[key] = kept.label
        else:
            # orthogonal, around every other node and label (model/layout.py)
            points = tuple((x + 0.0, y + 0.0) for x, y in arrows[key])
            if kept is not None and not kept.waypoints and kept.label is not None:
                fixed[key] = kept.label  # the route by default, the label where the user dropped it
        drawn.append((flow_id, key, points))
    # the other arrow labels beside their routes, clear of nodes, node labels and one another (model/layout.py)
    placed = place_labels(
        {key: list(points) for _, key, points in drawn},
        {(n.id, d.id or ""): edge_label(d) for n, d in workflow.edges()},
        [*layouts.values(), *node_labels],
        fixed,
    )
    for flow_id, key, points in drawn:
        label = placed.get(key)
        _edge(canvas, plan, flow_id, points, label)
        if label is not None and key not in fixed and flow_id in plan.decisions:
            # where export put the label itself: import tells a label the user moved from one left in place
            plan.decisions[flow_id].set("labelPlaced", f"{_num(label.x)} {_num(label.y)}")
    _draw_artifacts(canvas, plan, _of(plan, workflow.id))
    return pending


def _draw_artifacts(canvas: _Canvas, plan: _Plan, artifacts: list[BpmnArtifact] | tuple[BpmnArtifact, ...]) -> None:
    for artifact in artifacts:
        if artifact.id not in plan.artifacts:
            continue
        if artifact.layout is not None:
            _shape(canvas, plan, artifact.id, artifact.layout, {}, artifact.label)
        elif artifact.waypoints:
            _edge(canvas, plan, artifact.id, artifact.waypoints, artifact.label)


def _shape(
    canvas: _Canvas, plan: _Plan, element: str, lay: Layout, attrs: dict[str, str], label: Layout | None = None
) -> None:
    shape = ET.SubElement(
        canvas.plane, _q(BPMNDI, "BPMNShape"), {"id": plan.ids.take(f"{element}_di"), "bpmnElement": element, **attrs}
    )
    ET.SubElement(shape, _q(DC, "Bounds"), _bounds(lay))
    if label is not None:
        ET.SubElement(ET.SubElement(shape, _q(BPMNDI, "BPMNLabel")), _q(DC, "Bounds"), _bounds(label))


def _edge(canvas: _Canvas, plan: _Plan, element: str, points: tuple[Point, ...], label: Layout | None) -> None:
    edge = ET.SubElement(
        canvas.plane, _q(BPMNDI, "BPMNEdge"), {"id": plan.ids.take(f"{element}_di"), "bpmnElement": element}
    )
    for x, y in points:
        ET.SubElement(edge, _q(DI, "waypoint"), {"x": _num(x), "y": _num(y)})
    if label is not None:
        ET.SubElement(ET.SubElement(edge, _q(BPMNDI, "BPMNLabel")), _q(DC, "Bounds"), _bounds(label))


def _moved(lay: Layout, offset: Point) -> Layout:
    if offset == (0.0, 0.0):
        return lay
    return lay.model_copy(update={"x": lay.x + offset[0], "y": lay.y + offset[1]})


def _near(label: Layout, lay: Layout, margin: float) -> bool:
    return (
        lay.x - margin <= label.x <= lay.x + (lay.width or 0.0) + margin
        and lay.y - margin <= label.y <= lay.y + (lay.height or 0.0) + margin
    )


def _near_point(point: Point, lay: Layout) -> bool:
    x, y = point
    return (
        lay.x - _NEAR <= x <= lay.x + (lay.width or 0.0) + _NEAR
        and lay.y - _NEAR <= y <= lay.y + (lay.height or 0.0) + _NEAR
    )


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _bounds(lay: Layout) -> dict[str, str]:
    return {
        "x": _num(lay.x),
        "y": _num(lay.y),
        "width": _num(lay.width if lay.width is not None else 100.0),
        "height": _num(lay.height if lay.height is not None else 80.0),
    }


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))
