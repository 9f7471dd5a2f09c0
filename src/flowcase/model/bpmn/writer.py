"""BPMN 2.0 export: deterministic XML with DI that bpmn.io and Camunda Modeler open, our data in extensions."""

from __future__ import annotations

import xml.etree.ElementTree as ET  # building and writing only; parsing goes through defusedxml

from flowcase.model.bpmn.common import (
    _ATTRIBUTE,
    _ELEMENT_OF,
    BPMNDI,
    DC,
    DI,
    PREFIXES,
    TARGET_NAMESPACE,
    XSI,
    _b,
    _f,
    _q,
    _scalar_text,
    _scalar_type,
)
from flowcase.model.diagnostics import Diagnostic, ModelError
from flowcase.model.layout import layout_of, routes
from flowcase.model.types import FORMAT_VERSION, Decision, Layout, Model, Node, Workflow


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


def dumps(model: Model) -> str:
    """The model as pretty-printed, deterministic BPMN 2.0 XML with DI for every process."""
    for prefix, uri in PREFIXES.items():
        ET.register_namespace(prefix, uri)
    ids = _Ids()
    definitions_id = ids.take("Definitions_" + model.id)
    process_ids = {w.id: ids.take(w.id) for w in model.workflows}
    node_ids: dict[tuple[str, str], str] = {}
    flow_ids: dict[tuple[str, str, str], str] = {}
    # node ids first (they are what users see), then flows, then DI
    for workflow in model.workflows:
        for node in workflow.nodes:
            node_ids[(workflow.id, node.id)] = ids.take(node.id)
    for workflow in model.workflows:
        for node, decision in workflow.edges():
            assert decision.id is not None  # node.table fills ids in
            wanted = f"Flow_{node_ids[(workflow.id, node.id)]}_{decision.id}"
            flow_ids[(workflow.id, node.id, decision.id)] = ids.take(wanted)

    root = ET.Element(
        _b("definitions"),
        {
            "id": definitions_id,
            **({"name": model.name} if model.name else {}),
            "targetNamespace": TARGET_NAMESPACE,
            "exporter": "flowcase",
            "exporterVersion": FORMAT_VERSION,
        },
    )
    for workflow in model.workflows:
        _export_process(root, model, workflow, process_ids, node_ids, flow_ids)
    for workflow in model.workflows:
        _export_diagram(root, workflow, process_ids[workflow.id], node_ids, flow_ids, ids)
    ET.indent(root, space="  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _export_process(
    root: ET.Element,
    model: Model,
    workflow: Workflow,
    process_ids: dict[str, str],
    node_ids: dict[tuple[str, str], str],
    flow_ids: dict[tuple[str, str, str], str],
) -> None:
    attrs = {"id": process_ids[workflow.id]}
    if workflow.name:
        attrs["name"] = workflow.name
    attrs["isExecutable"] = "false"
    if process_ids[workflow.id] != workflow.id:
        attrs[_f("id")] = workflow.id
    process = ET.SubElement(root, _b("process"), attrs)
    if workflow.description:
        ET.SubElement(process, _b("documentation")).text = workflow.description
    if workflow is model.main:
        ext = ET.SubElement(process, _b("extensionElements"))
        ext.append(_model_extension(model))

    known = workflow.by_id
    incoming: dict[str, list[str]] = {n.id: [] for n in workflow.nodes}
    flows: list[tuple[Node, Decision, str]] = []
    for node, decision in workflow.edges():
        if decision.next not in known:
            raise ModelError(
                [Diagnostic("error", "unknown-target", f"decision {decision.id!r} leads to unknown node "
                            f"{decision.next!r}; fix the model before exporting to BPMN",
                            workflow.id, f"{node.kind} {node.id!r}", "next")]
            )
        assert decision.id is not None
        flow_id = flow_ids[(workflow.id, node.id, decision.id)]
        incoming[decision.next].append(flow_id)
        flows.append((node, decision, flow_id))

    for node in workflow.nodes:
        xml_id = node_ids[(workflow.id, node.id)]
        attrs = {"id": xml_id}
        if node.name:
            attrs["name"] = node.name
        if node.kind == "call" and node.workflow:
            attrs["calledElement"] = process_ids.get(node.workflow, node.workflow)
        if xml_id != node.id:
            attrs[_f("id")] = node.id
        element = ET.SubElement(process, _b(_ELEMENT_OF[node.kind]), attrs)
        if node.description:
            ET.SubElement(element, _b("documentation")).text = node.description
        for flow_id in incoming[node.id]:
            ET.SubElement(element, _b("incoming")).text = flow_id
        for decision in node.table:
            assert decision.id is not None
            ET.SubElement(element, _b("outgoing")).text = flow_ids[(workflow.id, node.id, decision.id)]

    for node, decision, flow_id in flows:
        attrs = {"id": flow_id}
        label = decision.objective or decision.when
        if label:
            attrs["name"] = label
        attrs["sourceRef"] = node_ids[(workflow.id, node.id)]
        attrs["targetRef"] = node_ids[(workflow.id, decision.next)]
        flow = ET.SubElement(process, _b("sequenceFlow"), attrs)
        ext = ET.SubElement(flow, _b("extensionElements"))
        ext.append(_decision_extension(decision))
        # conditional flows are allowed from activities and gateways, not from events
        if decision.when.strip() and node.kind in ("step", "choice", "call"):
            condition = ET.SubElement(flow, _b("conditionExpression"), {_q(XSI, "type"): "bpmn:tFormalExpression"})
            condition.text = decision.when


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


def _export_diagram(
    root: ET.Element,
    workflow: Workflow,
    process_id: str,
    node_ids: dict[tuple[str, str], str],
    flow_ids: dict[tuple[str, str, str], str],
    ids: _Ids,
) -> None:
    layouts = layout_of(workflow)
    arrows = routes(workflow, layouts)  # orthogonal, around every other node and label
    diagram = ET.SubElement(root, _q(BPMNDI, "BPMNDiagram"), {"id": ids.take(f"BPMNDiagram_{process_id}")})
    plane = ET.SubElement(
        diagram, _q(BPMNDI, "BPMNPlane"), {"id": ids.take(f"BPMNPlane_{process_id}"), "bpmnElement": process_id}
    )
    for node in workflow.nodes:
        xml_id = node_ids[(workflow.id, node.id)]
        shape = ET.SubElement(plane, _q(BPMNDI, "BPMNShape"), {"id": ids.take(f"{xml_id}_di"), "bpmnElement": xml_id})
        if node.kind == "choice":
            shape.set("isMarkerVisible", "true")
        lay = layouts[node.id]
        ET.SubElement(shape, _q(DC, "Bounds"), _bounds(lay))
        if node.kind in ("start", "end", "choice") and node.name:
            # events and gateways have their label outside, below the shape
            assert lay.width is not None and lay.height is not None
            label = ET.SubElement(shape, _q(BPMNDI, "BPMNLabel"))
            ET.SubElement(label, _q(DC, "Bounds"), _bounds(
                Layout(x=lay.x + lay.width / 2 - 45, y=lay.y + lay.height + 7, width=90, height=14)
            ))
    for node, decision in workflow.edges():
        assert decision.id is not None
        flow_id = flow_ids[(workflow.id, node.id, decision.id)]
        edge = ET.SubElement(plane, _q(BPMNDI, "BPMNEdge"), {"id": ids.take(f"{flow_id}_di"), "bpmnElement": flow_id})
        for x, y in arrows[(node.id, decision.id)]:
            ET.SubElement(edge, _q(DI, "waypoint"), {"x": _num(x), "y": _num(y)})


def _bounds(lay: Layout) -> dict[str, str]:
    return {
        "x": _num(lay.x),
        "y": _num(lay.y),
        "width": _num(lay.width if lay.width is not None else 100.0),
        "height": _num(lay.height if lay.height is not None else 80.0),
    }


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))

