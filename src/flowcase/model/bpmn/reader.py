"""BPMN 2.0 import: our own files exactly; any valid BPMN 2.0 process from a modelling tool with a test semantics.

Everything approximated or left out is a warning naming the element; the mapping is in ``docs/formats.md``.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any, get_args

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException
from pydantic import ValidationError

from flowcase.model import expr as ex
from flowcase.model.bpmn.common import (
    _ELEMENT_OF,
    _GATEWAYS,
    _SUBPROCESSES,
    _TASKS,
    BPMN,
    BPMNDI,
    DC,
    DI,
    BadScalar,
    _b,
    _default_label,
    _f,
    _q,
    _scalar_from,
)
from flowcase.model.diagnostics import Diagnostic, ModelError
from flowcase.model.expr import Expr, ExprError, Value, format_value, names, parse_condition
from flowcase.model.layout import edge_waypoints
from flowcase.model.source import MAX_DEPTH, Loaded, invalid_data, parse_json
from flowcase.model.types import (
    BpmnArtifact,
    BpmnArtifactType,
    BpmnCollaboration,
    BpmnDiagram,
    BpmnEventKind,
    BpmnFlow,
    BpmnLane,
    BpmnMessageFlow,
    BpmnNode,
    BpmnParticipant,
    Decision,
    Layout,
    Model,
    Node,
    NodeKind,
    Parameter,
    Point,
    Scalar,
    Variable,
    Workflow,
)

_OTHER_GATEWAYS = _GATEWAYS - {"exclusiveGateway"}
_INTERMEDIATE = frozenset({"intermediateCatchEvent", "intermediateThrowEvent"})
_FLOW_NODES = frozenset(
    {"startEvent", "endEvent", "boundaryEvent", "callActivity", *_TASKS, *_GATEWAYS, *_SUBPROCESSES, *_INTERMEDIATE}
)
_GLOBAL_TASKS = frozenset(
    {"globalTask", "globalUserTask", "globalManualTask", "globalScriptTask", "globalBusinessRuleTask"}
)
_SPLIT_WARNING = {
    "parallelGateway": "parallel gateway: its branches are test-visible alternatives, each test follows one of them "
    "(the others run alongside and are covered by other tests)",
    "inclusiveGateway": "inclusive gateway: each test follows one of its outgoing flows; combinations of several "
    "are not enumerated",
    "complexGateway": "complex gateway: each test follows one of its outgoing flows",
}
# flow-element tags that are artifacts (the types a model keeps, and the process's data declarations)
_ARTIFACTS = frozenset(get_args(BpmnArtifactType)) | {"ioSpecification", "property"}
# root elements that only define things other elements refer to; what refers to them is warned about there
_DEFINITIONS_ONLY = frozenset(
    {
        "message",
        "signal",
        "error",
        "escalation",
        "itemDefinition",
        "category",
        "interface",
        "dataStore",
        "import",
        "extension",
        "resource",
        "eventDefinition",
        "correlationProperty",
        "partnerRole",
        "partnerEntity",
        *_GLOBAL_TASKS,
    }
)
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,127}$")
_ROW_ID = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$")
_LEVELS = ("low", "medium", "high", "critical")


def _local(tag: str) -> tuple[str, str]:
    """(namespace, local name) of a ``{ns}name`` tag."""
    if tag.startswith("{"):
        ns, _, name = tag[1:].partition("}")
        return ns, name
    return "", tag


def sanitise_id(raw: str) -> str:
    """A valid flowcase identifier made from any text, deterministically."""
    text = re.sub(r"[^A-Za-z0-9_.-]", "_", raw.strip())
    if not text or not re.match(r"[A-Za-z_]", text[0]):
        text = "_" + text
    return text[:128]


def _unique(wanted: str, used: set[str]) -> str:
    candidate, n = wanted, 1
    while candidate in used:
        n += 1
        suffix = f"_{n}"
        candidate = wanted[: 128 - len(suffix)] + suffix
    used.add(candidate)
    return candidate


def _text(element: ET.Element | None) -> str:
    return (element.text or "").strip() if element is not None else ""


@dataclass
class _NodeDraft:
    xml_id: str
    id: str
    kind: NodeKind
    name: str
    description: str
    element: ET.Element | None  # None for the start and end nodes import adds
    workflow: str | None = None
    layout: Layout | None = None
    decisions: list[Decision] = field(default_factory=list)
    bpmn: dict[str, Any] = field(default_factory=dict)  # the BpmnNode fields: how the element was drawn


@dataclass
class _Container:
    """What reading one process or sub-process collects before its nodes are finished."""

    workflow_id: str
    drafts: dict[str, _NodeDraft] = field(default_factory=dict)  # by XML id, in document order
    used: set[str] = field(default_factory=set)
    boundaries: list[ET.Element] = field(default_factory=list)
    associations: list[ET.Element] = field(default_factory=list)
    event_subs: list[str] = field(default_factory=list)
    loops: list[str] = field(default_factory=list)
    handlers: set[str] = field(default_factory=set)
    offset: Point = (0.0, 0.0)  # where an expanded sub-process's content was moved from


@dataclass
class _Shape:
    layout: Layout
    plane: str
    label: Layout | None = None
    expanded: bool | None = None
    horizontal: bool | None = None


@dataclass
class _Edge:
    waypoints: tuple[Point, ...]
    label: Layout | None = None


@dataclass
class _Reader:
    source: str | None
    warnings: list[Diagnostic] = field(default_factory=list)
    shapes: dict[str, _Shape] = field(default_factory=dict)
    workflows: list[Workflow] = field(default_factory=list)
    workflow_ids: set[str] = field(default_factory=set)
    process_workflow: dict[str, str] = field(default_factory=dict)  # process XML id -> workflow id
    global_tasks: dict[str, str] = field(default_factory=dict)  # global task XML id -> its name
    edges: dict[str, _Edge] = field(default_factory=dict)
    # what is kept for the diagram only: pools, lanes, message flows, artifacts (references still XML ids)
    collaborations: list[dict[str, Any]] = field(default_factory=list)
    lanes: list[dict[str, Any]] = field(default_factory=list)
    artifacts: list[dict[str, Any]] = field(default_factory=list)
    category_values: dict[str, str] = field(default_factory=dict)  # categoryValue XML id -> its value
    data_stores: dict[str, str] = field(default_factory=dict)  # dataStore XML id -> its name
    refs: dict[str, str] = field(default_factory=dict)  # XML id of a node or flow -> 'workflow/node[/row]'
    origins: dict[str, Point] = field(default_factory=dict)  # sub-process XML id -> where its content was moved from
    ours: bool = False  # a file flowcase wrote: read back exactly, no BPMN execution semantics added

    def warn(self, code: str, message: str, workflow: str | None = None, element: str | None = None) -> None:
        self.warnings.append(Diagnostic("warning", code, message, workflow, element))

    def note(self, code: str, message: str, workflow: str | None = None, element: str | None = None) -> None:
        """A warning about how BPMN is read for tests: given for another tool's file, not again for ours (our
        export writes back what import read, so the user was told when the file was first imported)."""
        if not self.ours:
            self.warn(code, message, workflow, element)

    def error(self, code: str, message: str, line: int | None = None, column: int | None = None) -> ModelError:
        return ModelError([Diagnostic("error", code, message, line=line, column=column)], self.source)


def loads(text: str, source: str | None = None) -> Loaded:
    """Read BPMN 2.0 XML (ours, or from bpmn.io / Camunda Modeler); anything approximated is a warning."""
    reader = _Reader(source)
    try:
        return _load(text, reader)
    except ModelError:
        raise
    except ValidationError as exc:
        raise reader.error("bpmn-invalid", invalid_data(exc)) from None
    except BadScalar as exc:  # a typed value that does not read as its type
        raise reader.error("bpmn-invalid", f"the flowcase data in this file is invalid: {exc}") from None


def _load(text: str, reader: _Reader) -> Loaded:
    root = _parse(text, reader)
    model_ext = next(
        (m for p in root.iter(_b("process")) if (m := p.find(f"{_b('extensionElements')}/{_f('model')}")) is not None),
        None,
    )
    reader.ours = model_ext is not None
    _read_shapes(root, reader)
    reader.category_values = {v.get("id") or "": v.get("value") or "" for v in root.iter(_b("categoryValue"))}
    reader.data_stores = {d.get("id") or "": d.get("name") or "" for d in root.iter(_b("dataStore"))}
    processes = _processes(root, reader)
    if reader.ours:  # our own file: its main process goes first
        processes.sort(key=lambda p: p.find(f"{_b('extensionElements')}/{_f('model')}") is None)
    else:
        for empty in [p for p in processes if not _has_flow_nodes(p)]:
            processes.remove(empty)
            reader.warn("bpmn-ignored", f"process {empty.get('id')!r} has no flow elements; ignored")
    reader.global_tasks = {
        g.get("id") or "": g.get("name") or "" for g in root if _local(g.tag) in {(BPMN, t) for t in _GLOBAL_TASKS}
    }
    for process in processes:
        wanted = process.get(_f("id")) or sanitise_id(process.get("id") or "process")
        reader.process_workflow[process.get("id") or ""] = _unique(wanted, reader.workflow_ids)
    for process in processes:
        workflow_id = reader.process_workflow[process.get("id") or ""]
        if process.get(_f("id")) is None and workflow_id != process.get("id"):
            reader.warn(
                "bpmn-renamed",
                f"process id {process.get('id')!r} is not a valid flowcase identifier; read as {workflow_id!r}",
                workflow_id,
            )
        _read_container(process, workflow_id, process.get("name") or "", None, reader)
    if not reader.workflows:
        raise reader.error("bpmn-empty", "the BPMN document has no process with flow elements")
    main_id = reader.process_workflow[processes[0].get("id") or ""]
    ordered = sorted(reader.workflows, key=lambda w: w.id != main_id)  # stable: main first, the rest as read
    if not reader.ours:
        ordered = _break_recursion(ordered, reader)
        ordered = _main_for_participants(root, processes, ordered, reader)
    model = _build_model(root, model_ext, ordered, processes[0], reader)
    model = _with_diagram(model, reader)
    if not reader.ours:
        model = _infer_parameters(model, reader)
    return Loaded(model, tuple(reader.warnings))


def _break_recursion(workflows: list[Workflow], reader: _Reader) -> list[Workflow]:
    """A call that would enter a workflow already being run (recursion) is read as a step."""
    by_id = {w.id: w for w in workflows}
    cut: set[tuple[str, str]] = set()

    def visit(workflow: Workflow, stack: tuple[str, ...]) -> None:
        for node in workflow.nodes:
            if node.kind != "call" or node.workflow not in by_id:
                continue
            if node.workflow in stack:
                cut.add((workflow.id, node.id))
            elif (workflow.id, node.id) not in cut:
                visit(by_id[node.workflow], (*stack, node.workflow))

    for workflow in workflows:
        visit(workflow, (workflow.id,))
    if not cut:
        return workflows
    result = []
    for workflow in workflows:
        nodes = tuple(
            n.model_copy(update={"kind": "step", "workflow": None}) if (workflow.id, n.id) in cut else n
            for n in workflow.nodes
        )
        result.append(workflow.model_copy(update={"nodes": nodes}))
    for workflow_id, node_id in sorted(cut):
        reader.warn("bpmn-approximated", "recursive call: read as a step", workflow_id, f"callActivity {node_id!r}")
    return result


def _main_for_participants(
    root: ET.Element, processes: list[ET.Element], workflows: list[Workflow], reader: _Reader
) -> list[Workflow]:
    """Several processes that nothing calls (pools of a collaboration): a main workflow where each test follows one."""
    called = {n.workflow for w in workflows for n in w.nodes if n.kind == "call"}
    labels = {reader.process_workflow[p.get("id") or ""]: p.get("name") or "" for p in processes}
    collaboration = root.find(_b("collaboration"))
    if collaboration is not None:
        for participant in collaboration.findall(_b("participant")):
            workflow_id = reader.process_workflow.get(participant.get("processRef") or "")
            if workflow_id and participant.get("name"):
                labels[workflow_id] = participant.get("name") or ""
    tops = [reader.process_workflow[p.get("id") or ""] for p in processes]
    tops = [t for t in tops if t not in called]
    if len(tops) < 2:
        return workflows
    main_id = _unique(
        sanitise_id((collaboration.get("id") if collaboration is not None else None) or "participants"),
        reader.workflow_ids,
    )
    used = {"start", "end"}
    call_ids = {t: _unique(t, used) for t in tops}
    start = Node(
        id="start", kind="start", decisions=tuple(Decision(next=call_ids[t], objective=labels[t] or t) for t in tops)
    )
    calls = tuple(Node(id=call_ids[t], kind="call", name=labels[t], workflow=t, next="end") for t in tops)
    main = Workflow(
        id=main_id,
        name=(collaboration.get("name") if collaboration is not None else None) or "All participants",
        nodes=(start, *calls, Node(id="end", kind="end")),
    )
    reader.warn(
        "bpmn-approximated",
        f"{len(tops)} processes that nothing calls "
        f"({', '.join(repr(t) for t in tops)}): added the main workflow {main_id!r}, where each test follows "
        "one of them",
        main_id,
    )
    return [main, *workflows]


@dataclass
class _Use:
    """How conditions use a name nothing declares: the constants it is compared with, and where first."""

    where: tuple[str, str]  # workflow id, element
    condition: str
    constants: list[tuple[str, Value]] = field(default_factory=list)  # (operator with the name on the left, value)


_FLIPPED = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}


def _infer_parameters(model: Model, reader: _Reader) -> Model:
    """Names that conditions of plain BPMN use become parameters whose values are the outcomes the conditions need."""
    uses: dict[str, _Use] = {}
    for workflow in model.workflows:
        for node, decision in workflow.edges():
            try:
                expr = parse_condition(decision.when)
            except ExprError:
                continue
            for used in names(expr):
                uses.setdefault(used.name, _Use((workflow.id, f"{node.kind} {node.id!r}"), decision.when))
            _collect(expr, uses)
    parameters = []
    for name, use in uses.items():
        values = _values_for(use)
        parameters.append(Parameter(name=name, values=values))
        shown = ", ".join(format_value(v) for v in values)
        reader.warn(
            "bpmn-inferred",
            f"{name!r} is not declared: read as a parameter with the values {shown}, the "
            f"outcomes the conditions need (first in {use.condition!r}); declare it to choose its values",
            use.where[0],
            use.where[1],
        )
    if not parameters:
        return model
    return model.model_copy(update={"parameters": tuple(parameters)})


def _collect(expr: Expr | None, uses: dict[str, _Use]) -> None:
    if isinstance(expr, ex.Not | ex.Neg):
        _collect(expr.operand, uses)
    elif isinstance(expr, ex.ListExpr):
        for item in expr.items:
            _collect(item, uses)
    elif isinstance(expr, ex.BinOp):
        if isinstance(expr.left, ex.Name) and isinstance(expr.right, ex.Const):
            uses[expr.left.name].constants.append((expr.op, expr.right.value))
        elif isinstance(expr.right, ex.Name) and isinstance(expr.left, ex.Const) and expr.op in _FLIPPED:
            uses[expr.right.name].constants.append((_FLIPPED[expr.op], expr.left.value))
        elif isinstance(expr.left, ex.Name) and isinstance(expr.right, ex.ListExpr) and expr.op in ("in", "not in"):
            for item in expr.right.items:
                if isinstance(item, ex.Const):
                    uses[expr.left.name].constants.append(("==", item.value))
        _collect(expr.left, uses)
        _collect(expr.right, uses)


def _values_for(use: _Use) -> tuple[Scalar, ...]:
    """Values that make each comparison true and false: ``x > 10`` gives 10 and 11, ``x == "a"`` "a" and "other"."""
    constants = [(op, v) for op, v in use.constants if not isinstance(v, bool)]
    if not constants:
        return (True, False)
    if isinstance(constants[0][1], str):
        strings = list(dict.fromkeys(v for _, v in constants if isinstance(v, str)))
        if len(strings) == 1:
            strings.append("other" if strings[0] != "other" else "another")
        return tuple(strings)
    numbers: set[int | float] = set()
    step: int | float = 1 if all(isinstance(v, int) for _, v in constants) else 0.5
    for op, v in constants:
        if isinstance(v, int | float) and not isinstance(v, bool):
            numbers.add(v)
            numbers.add(v + step if op in ("<=", ">", "==", "!=") else v - step)
    return tuple(sorted(numbers))


MAX_XML_ELEMENTS = 500_000
"""Most XML elements a BPMN file may hold (a large real diagram has a few thousand)."""


def _check_xml(root: ET.Element, reader: _Reader) -> None:
    """Refuse XML nested deeper than MAX_DEPTH elements or holding more than MAX_XML_ELEMENTS (iteratively)."""
    stack = [(root, 1)]
    count = 0
    while stack:
        element, depth = stack.pop()
        count += 1
        if depth > MAX_DEPTH:
            raise reader.error("too-deep", f"the document nests deeper than {MAX_DEPTH} XML elements")
        if count > MAX_XML_ELEMENTS:
            raise reader.error("too-large", f"the document holds more than {MAX_XML_ELEMENTS} XML elements")
        stack.extend((child, depth + 1) for child in element)


def _parse(text: str, reader: _Reader) -> ET.Element:
    if text.count("<") > 2 * MAX_XML_ELEMENTS + 16:
        raise reader.error("too-large", f"the document holds more than {MAX_XML_ELEMENTS} XML elements")
    try:
        root: ET.Element = SafeET.fromstring(text, forbid_dtd=True)
    except ET.ParseError as exc:
        line, column = exc.position
        message = str(exc).split(":")[0]
        raise reader.error("syntax", f"invalid XML: {message}", line, column + 1) from None
    except DefusedXmlException:
        raise reader.error("unsafe-xml", "XML with a DTD, entities or external references is not accepted") from None
    _check_xml(root, reader)
    for element in root.iter():  # XML keeps a carriage return written as &#13;; text written back would not
        if element.text and "\r" in element.text:
            element.text = _newlines(element.text)
        for key, value in element.attrib.items():
            if "\r" in value:
                element.set(key, _newlines(value))
    ns, name = _local(root.tag)
    if (ns, name) != (BPMN, "definitions"):
        raise reader.error(
            "not-bpmn",
            f"not a BPMN 2.0 document: the root element is {name!r} in namespace {ns or 'none'!r}, "
            f"expected 'definitions' in {BPMN!r}",
        )
    return root


def _newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _bounds_of(element: ET.Element | None) -> Layout | None:
    """The ``dc:Bounds`` child of a shape or label; None when missing. Raises ValueError when unreadable."""
    bounds = element.find(_q(DC, "Bounds")) if element is not None else None
    if bounds is None:
        return None
    return Layout(
        x=float(bounds.get("x", "")),
        y=float(bounds.get("y", "")),
        width=float(bounds.get("width", "")),
        height=float(bounds.get("height", "")),
    )


def _flag(value: str | None) -> bool | None:
    return None if value is None else value.strip() == "true"


def _read_shapes(root: ET.Element, reader: _Reader) -> None:
    for plane in root.iter(_q(BPMNDI, "BPMNPlane")):
        plane_of = plane.get("bpmnElement") or ""
        for shape in plane.iter(_q(BPMNDI, "BPMNShape")):
            element = shape.get("bpmnElement")
            if not element:
                continue
            try:
                lay = _bounds_of(shape)
                label = _bounds_of(shape.find(_q(BPMNDI, "BPMNLabel")))
            except ValueError:
                reader.warn("bpmn-layout", f"shape of {element!r} has unreadable bounds; it will be laid out anew")
                continue
            if lay is not None:
                reader.shapes.setdefault(
                    element,
                    _Shape(lay, plane_of, label, _flag(shape.get("isExpanded")), _flag(shape.get("isHorizontal"))),
                )
        for edge in plane.iter(_q(BPMNDI, "BPMNEdge")):
            element = edge.get("bpmnElement")
            if not element:
                continue
            try:
                points = tuple((float(w.get("x", "")), float(w.get("y", ""))) for w in edge.iter(_q(DI, "waypoint")))
                label = _bounds_of(edge.find(_q(BPMNDI, "BPMNLabel")))
            except ValueError:
                reader.warn("bpmn-layout", f"edge of {element!r} has unreadable waypoints; it will be drawn anew")
                continue
            reader.edges.setdefault(element, _Edge(points, label))


def _processes(root: ET.Element, reader: _Reader) -> list[ET.Element]:
    processes = [p for p in root if p.tag == _b("process")]
    by_id = {p.get("id"): p for p in processes}
    ordered: list[ET.Element] = []
    for child in root:
        ns, name = _local(child.tag)
        if ns == BPMN and name == "collaboration":
            ordered += _read_collaboration(child, by_id, reader)
        elif ns == BPMN and name not in ("process", *_DEFINITIONS_ONLY):
            reader.warn("bpmn-ignored", f"element {name!r} ({child.get('id') or 'no id'}) is not supported; ignored")
    for process in processes:
        if process not in ordered:
            ordered.append(process)
    return ordered


def _read_collaboration(
    collaboration: ET.Element, by_id: dict[str | None, ET.Element], reader: _Reader
) -> list[ET.Element]:
    ordered: list[ET.Element] = []
    participants = collaboration.findall(_b("participant"))
    kept: dict[str, Any] = {
        "id": collaboration.get("id") or "",
        "name": collaboration.get("name") or "",
        "participants": [],
        "message_flows": [],
        "artifacts": [],
    }
    reader.collaborations.append(kept)
    for participant in participants:
        process = by_id.get(participant.get("processRef"))
        label = participant.get("name") or participant.get("id") or "?"
        shape = reader.shapes.get(participant.get("id") or "")
        kept["participants"].append(
            {
                "id": participant.get("id") or "",
                "name": participant.get("name") or "",
                "process": participant.get("processRef"),
                "layout": shape.layout if shape else None,
                "horizontal": shape.horizontal if shape else None,
            }
        )
        if process is None:
            reader.note(
                "bpmn-ignored",
                f"pool {label!r} has no process (a black-box pool): no test goes through it (kept in the diagram)",
            )
        elif process not in ordered:
            ordered.append(process)
    if len(participants) > 1:
        reader.note(
            "bpmn-approximated",
            f"collaboration with {len(participants)} pools: each pool's process is "
            "read as a separate workflow; the first is the main one",
        )
    for child in collaboration:
        _, name = _local(child.tag)
        if name in ("participant", "extensionElements", "documentation"):
            continue
        if name == "messageFlow":
            edge = reader.edges.get(child.get("id") or "")
            kept["message_flows"].append(
                {
                    "id": child.get("id") or "",
                    "name": child.get("name") or "",
                    "source": child.get("sourceRef") or "",
                    "target": child.get("targetRef") or "",
                    "waypoints": edge.waypoints if edge else (),
                    "label": edge.label if edge else None,
                }
            )
            reader.note(
                "bpmn-ignored",
                f"message flow {child.get('id') or '?'!r} ({child.get('sourceRef')!r} -> "
                f"{child.get('targetRef')!r}) is not followed: its sending and receiving elements are steps of "
                "their own workflows (kept in the diagram)",
            )
        elif name in ("textAnnotation", "association", "group"):
            _keep_artifact(child, name, kept["id"], reader, into=kept["artifacts"])
            reader.note(
                "bpmn-ignored", f"not part of any test (kept in the diagram): {name} {child.get('id') or '?'!r}"
            )
        else:
            reader.warn(
                "bpmn-ignored", f"{name!r} {child.get('id') or '?'!r} in the collaboration is not supported; ignored"
            )
    return ordered


def _keep_artifact(
    element: ET.Element,
    tag: str,
    container: str,
    reader: _Reader,
    into: list[dict[str, Any]] | None = None,
    **fields: Any,
) -> None:
    """Keep a text annotation, association, group, data object or data association with its drawing."""
    xml_id = element.get("id") or ""
    if not xml_id:
        return
    shape, edge = reader.shapes.get(xml_id), reader.edges.get(xml_id)
    kept: dict[str, Any] = {
        "id": xml_id,
        "type": tag,
        "container": container,
        "name": element.get("name") or "",
        "layout": shape.layout if shape else None,
        "waypoints": edge.waypoints if edge else (),
        "label": shape.label if shape else edge.label if edge else None,
    }
    if tag == "textAnnotation":
        kept["text"] = _text(element.find(_b("text")))
    elif tag == "association":
        kept["source"], kept["target"] = element.get("sourceRef"), element.get("targetRef")
    elif tag == "group":
        kept["ref"] = element.get("categoryValueRef")
        kept["name"] = reader.category_values.get(kept["ref"] or "", "")
    elif tag in ("dataObject", "dataInput", "dataOutput"):
        kept["collection"] = element.get("isCollection") == "true"
    elif tag == "dataObjectReference":
        kept["ref"] = element.get("dataObjectRef")
    elif tag == "dataStoreReference":
        kept["ref"] = element.get("dataStoreRef")
        kept["name"] = kept["name"] or reader.data_stores.get(kept["ref"] or "", "")
    (reader.artifacts if into is None else into).append(kept | fields)


def _read_container(
    container: ET.Element, workflow_id: str, name: str, parent_plane: str | None, reader: _Reader
) -> None:
    """Read a process or an embedded sub-process into a workflow (sub-processes become further workflows)."""
    c = _Container(workflow_id)
    flows: list[ET.Element] = []
    description = ""
    subprocesses: list[tuple[ET.Element, str]] = []
    left_out: list[str] = []
    skipped: set[str] = set()
    outgoing_count: dict[str, int] = {}
    for child in container:
        if child.tag == _b("sequenceFlow"):
            source = child.get("sourceRef") or ""
            outgoing_count[source] = outgoing_count.get(source, 0) + 1

    for child in container:
        ns, tag = _local(child.tag)
        if ns != BPMN:
            continue
        xml_id = child.get("id") or ""
        kind: NodeKind | None = None
        if tag == "documentation":
            description = description or child.text or ""
            continue
        if tag == "ioSpecification":  # a process's data inputs and outputs: drawn, kept for the diagram
            for data in child:
                if _local(data.tag) in ((BPMN, "dataInput"), (BPMN, "dataOutput")):
                    _keep_artifact(data, _local(data.tag)[1], workflow_id, reader)
                    left_out.append(f"{_local(data.tag)[1]} {data.get('id') or '?'!r}")
            continue
        if tag in (
            "extensionElements",
            "incoming",
            "outgoing",
            "laneSet",
            "loopCharacteristics",
            "standardLoopCharacteristics",
            "multiInstanceLoopCharacteristics",
            "completionCondition",
        ):
            if tag == "laneSet":
                _keep_lanes(child, workflow_id, None, reader)
                lanes = [lane.get("name") or lane.get("id") or "?" for lane in child.iter(_b("lane"))]
                reader.note(
                    "bpmn-ignored",
                    f"lanes {', '.join(repr(x) for x in lanes)} have no effect on tests: "
                    "their elements are read (the lanes are kept in the diagram)",
                    workflow_id,
                )
            continue
        if tag == "sequenceFlow":
            flows.append(child)
            continue
        if tag == "association":
            c.associations.append(child)
            _keep_artifact(child, tag, workflow_id, reader)
            left_out.append(f"association {xml_id!r}")
            continue
        if tag == "startEvent":
            kind = "start"
            _warn_event_definitions(child, tag, workflow_id, reader, allowed=())
        elif tag == "endEvent":
            kind = "end"
            _warn_event_definitions(child, tag, workflow_id, reader, allowed=("terminateEventDefinition",))
        elif tag in _TASKS:
            kind = "step"
        elif tag in ("exclusiveGateway", "eventBasedGateway"):
            kind = "choice"  # an event-based gateway: exactly one of the following events happens
        elif tag in _OTHER_GATEWAYS:
            kind = "choice"
            if outgoing_count.get(xml_id, 0) > 1:
                reader.note("bpmn-approximated", _SPLIT_WARNING[tag], workflow_id, _label(child))
        elif tag == "callActivity":
            kind = "call"
        elif tag in _SUBPROCESSES:
            kind = "call" if _has_flow_nodes(child) else "step"
            if kind == "step":
                reader.note("bpmn-approximated", f"{tag} has no content: read as a step", workflow_id, _label(child))
            elif child.get("triggeredByEvent") == "true":
                reader.note(
                    "bpmn-approximated",
                    "event sub-process: read as an alternative right after the start of "
                    "its workflow: a test triggers it, does its content, and ends",
                    workflow_id,
                    _label(child),
                )
            elif tag == "transaction":
                reader.note(
                    "bpmn-approximated",
                    "transaction: read as an embedded sub-process (cancellation and compensation are not simulated)",
                    workflow_id,
                    _label(child),
                )
            elif tag == "adHocSubProcess":
                reader.note(
                    "bpmn-approximated",
                    "ad-hoc sub-process: each test does its activities along their "
                    "flows, from one that nothing leads to",
                    workflow_id,
                    _label(child),
                )
        elif tag in _INTERMEDIATE:
            kind = "step"
            reader.note("bpmn-approximated", "intermediate event is read as a step", workflow_id, _label(child))
        elif tag == "boundaryEvent":
            kind = "step"
            c.boundaries.append(child)
        elif tag in _ARTIFACTS:
            if tag in _KEPT_ARTIFACTS:
                _keep_artifact(child, tag, workflow_id, reader)
            left_out.append(f"{tag} {xml_id!r}")
            skipped.add(xml_id)
            continue
        else:
            reader.warn("bpmn-ignored", f"{tag} is not supported; ignored", workflow_id, _label(child))
            skipped.add(xml_id)
            continue
        if child.find(_b("standardLoopCharacteristics")) is not None:
            c.loops.append(xml_id)
        elif child.find(_b("multiInstanceLoopCharacteristics")) is not None:
            reader.note(
                "bpmn-approximated",
                "multi-instance marker: a test does the activity once, standing for all its instances",
                workflow_id,
                _label(child),
            )
        if child.get("isForCompensation") == "true":
            c.handlers.add(xml_id)
        stated = child.get(_f("kind")) if reader.ours else None  # our file says when the element is not the kind's
        if stated in ("start", "step", "choice", "call", "end"):
            kind = stated  # type: ignore[assignment]
        node_id = _node_id(child, c.used, workflow_id, reader)
        draft = _NodeDraft(
            xml_id, node_id, kind, child.get("name") or "", child.findtext(_b("documentation")) or "", child
        )
        draft.bpmn = _element_of(child, tag, reader)
        if node_id != xml_id and not (reader.ours and re.fullmatch(rf"{re.escape(node_id)}_\d+", xml_id)):
            draft.bpmn["id"] = xml_id  # not when our export only made the id unique in the document
        c.drafts[xml_id] = draft
        _keep_data_associations(child, xml_id, workflow_id, reader)
        if kind == "call" and tag in _SUBPROCESSES:
            sub_id = _unique(child.get(_f("workflow")) or sanitise_id(xml_id or "subprocess"), reader.workflow_ids)
            draft.workflow = sub_id
            subprocesses.append((child, sub_id))
            if child.get("triggeredByEvent") == "true":
                c.event_subs.append(xml_id)
        elif tag == "callActivity" and stated == "step":  # our file: a call of a global task or of another file
            draft.bpmn["called"] = child.get("calledElement") or None
        elif tag == "callActivity":
            _resolve_call(draft, workflow_id, reader)

    if left_out:
        reader.note("bpmn-ignored", f"not part of any test (kept in the diagram): {', '.join(left_out)}", workflow_id)
    _place(c.drafts, container.get("id") or "", parent_plane, reader)
    c.offset = reader.origins.get(container.get("id") or "", (0.0, 0.0))
    _read_flows(flows, c, skipped, workflow_id, reader)
    nodes = _finish_nodes(c, workflow_id, reader)
    reader.workflows.append(
        Workflow(
            id=workflow_id,
            name=name,
            description=description,
            stop_anywhere=container.get(_f("stopAnywhere")) == "true",
            nodes=tuple(nodes),
        )
    )
    origins: dict[str, Point] = {}
    for element, sub_id in subprocesses:
        # the sub-process's content is drawn inline when it is in the plane of the sub-process's own shape
        own = reader.shapes.get(element.get("id") or "")
        _read_container(element, sub_id, element.get("name") or "", own.plane if own else None, reader)
        if (origin := reader.origins.get(element.get("id") or "")) is not None:
            origins[c.drafts[element.get("id") or ""].id] = origin
    if origins:  # an expanded sub-process whose content was moved: the call node says from where
        index = next(i for i, w in enumerate(reader.workflows) if w.id == workflow_id)
        workflow = reader.workflows[index]
        reader.workflows[index] = workflow.model_copy(
            update={
                "nodes": tuple(
                    n.model_copy(update={"bpmn": n.bpmn.model_copy(update={"origin": origins[n.id]})})
                    if n.id in origins and n.bpmn is not None
                    else n
                    for n in workflow.nodes
                )
            }
        )


# artifacts are listed by type (as export writes them), each type in document order
_ARTIFACT_ORDER = (
    "dataInput",
    "dataOutput",
    "dataObject",
    "dataObjectReference",
    "dataStoreReference",
    "dataInputAssociation",
    "dataOutputAssociation",
    "textAnnotation",
    "group",
    "association",
)
_KEPT_ARTIFACTS = frozenset({"textAnnotation", "group", "dataObject", "dataObjectReference", "dataStoreReference"})
_EVENT_KINDS = frozenset(get_args(BpmnEventKind))


def _element_of(element: ET.Element, tag: str, reader: _Reader) -> dict[str, Any]:
    """The BpmnNode fields of a flow element: what export needs to write the same element back."""
    kept: dict[str, Any] = {"type": tag}
    events = []
    for child in element:
        ns, name = _local(child.tag)
        if ns == BPMN and name.endswith("EventDefinition") and name.removesuffix("EventDefinition") in _EVENT_KINDS:
            events.append(name.removesuffix("EventDefinition"))
            if name == "linkEventDefinition":
                kept["link"] = child.get("name") or None
    if events:
        kept["events"] = tuple(events)
    if element.get("cancelActivity") == "false" or element.get("isInterrupting") == "false":
        kept["interrupting"] = False
    if element.find(_b("standardLoopCharacteristics")) is not None:
        kept["loop"] = "standard"
    elif (multi := element.find(_b("multiInstanceLoopCharacteristics"))) is not None:
        kept["loop"] = "sequential" if multi.get("isSequential") == "true" else "parallel"
    if element.get("triggeredByEvent") == "true":
        kept["triggered_by_event"] = True
    if element.get("isForCompensation") == "true":
        kept["for_compensation"] = True
    if element.get("default"):
        kept["default"] = element.get("default")
    shape = reader.shapes.get(element.get("id") or "")
    if shape is not None:
        if shape.expanded is not None and tag in _SUBPROCESSES:
            kept["expanded"] = shape.expanded
        if shape.label is not None:
            kept["label"] = shape.label
    return kept


def _keep_lanes(lane_set: ET.Element, workflow_id: str, parent: str | None, reader: _Reader) -> None:
    for lane in lane_set.findall(_b("lane")):
        xml_id = lane.get("id") or ""
        shape = reader.shapes.get(xml_id)
        reader.lanes.append(
            {
                "id": xml_id,
                "name": lane.get("name") or "",
                "workflow": workflow_id,
                "lane_set": lane_set.get("id") or f"{xml_id}_set",
                "parent": parent,
                "nodes": [_text(ref) for ref in lane.findall(_b("flowNodeRef"))],
                "layout": shape.layout if shape else None,
                "horizontal": shape.horizontal if shape else None,
            }
        )
        child_set = lane.find(_b("childLaneSet"))
        if child_set is not None:
            _keep_lanes(child_set, workflow_id, xml_id, reader)


def _keep_data_associations(element: ET.Element, xml_id: str, workflow_id: str, reader: _Reader) -> None:
    """Data associations of an activity or event: kept with the element at their inner end."""
    for child in element:
        ns, tag = _local(child.tag)
        if ns != BPMN or tag not in ("dataInputAssociation", "dataOutputAssociation"):
            continue
        if tag == "dataInputAssociation":
            source = next((_text(r) for r in child.findall(_b("sourceRef")) if _text(r)), None)
            if source is not None:
                _keep_artifact(child, tag, workflow_id, reader, source=source, target=xml_id)
        else:
            target = _text(child.find(_b("targetRef"))) or None
            if target is not None:
                _keep_artifact(child, tag, workflow_id, reader, source=xml_id, target=target)


def _warn_event_definitions(
    element: ET.Element, tag: str, workflow_id: str, reader: _Reader, allowed: tuple[str, ...]
) -> None:
    for child in element:
        ns, name = _local(child.tag)
        if ns == BPMN and name.endswith("EventDefinition") and name not in allowed:
            kind = name.removesuffix("EventDefinition")
            reader.note(
                "bpmn-approximated",
                f"{kind} {tag} is read as a plain {tag}",
                workflow_id,
                f"{tag} {element.get('id') or '?'!r}",
            )


def _node_id(element: ET.Element, used: set[str], workflow_id: str, reader: _Reader) -> str:
    raw = element.get("id") or ""
    ours = element.get(_f("id"))
    if ours and _IDENTIFIER.match(ours) and ours not in used:
        used.add(ours)
        return ours
    wanted = sanitise_id(raw or "node")
    node_id = _unique(wanted, used)
    if node_id != raw:
        reader.warn(
            "bpmn-renamed",
            f"id {raw!r} is not a valid or unique flowcase identifier; read as {node_id!r}",
            workflow_id,
            f"{_local(element.tag)[1]} {raw!r}",
        )
    return node_id


def _place(drafts: dict[str, _NodeDraft], container: str, parent_plane: str | None, reader: _Reader) -> None:
    """Layouts from DI. Children of an expanded sub-process drawn in the parent's plane are moved to the origin."""
    found = {x: reader.shapes[x] for x in drafts if x in reader.shapes}
    for xml_id, shape in found.items():
        drafts[xml_id].layout = shape.layout
    if parent_plane is None or not found:
        return
    inline = [x for x, s in found.items() if s.plane == parent_plane]
    if not inline:
        return
    # whole units, so that adding the origin back on export gives the same coordinates exactly
    dx = float(math.floor(min(found[x].layout.x for x in inline)) - 40)
    dy = float(math.floor(min(found[x].layout.y for x in inline)) - 40)
    reader.origins[container] = (dx, dy)
    for xml_id in inline:
        lay = found[xml_id].layout
        drafts[xml_id].layout = lay.model_copy(update={"x": lay.x - dx, "y": lay.y - dy})


def _read_flows(flows: list[ET.Element], c: _Container, skipped: set[str], workflow_id: str, reader: _Reader) -> None:
    drafts = c.drafts
    by_source: dict[str, list[ET.Element]] = {}
    for flow in flows:
        flow_id, source, target = flow.get("id") or "?", flow.get("sourceRef") or "", flow.get("targetRef") or ""
        if source not in drafts or target not in drafts:
            missing = source if source not in drafts else target
            why = "an ignored element" if missing in skipped else "an unknown element"
            reader.warn("bpmn-ignored", f"sequence flow {flow_id!r} connects {why} ({missing!r}); ignored", workflow_id)
            continue
        by_source.setdefault(source, []).append(flow)
    for source, outgoing in by_source.items():
        draft = drafts[source]
        assert draft.element is not None  # flows connect elements of the file
        listed = [_text(o) for o in draft.element.findall(_b("outgoing"))]
        outgoing.sort(key=lambda f: listed.index(f.get("id") or "") if f.get("id") in listed else len(listed))
        for flow in outgoing:
            draft.decisions.append(_decision(flow, draft, c, workflow_id, reader))
        _default_flow(draft, outgoing)


def _decision(flow: ET.Element, draft: _NodeDraft, c: _Container, workflow_id: str, reader: _Reader) -> Decision:
    drafts = c.drafts
    target_draft = drafts[flow.get("targetRef") or ""]
    target = target_draft.id
    edge = reader.edges.get(flow.get("id") or "")
    drawn = (
        BpmnFlow(id=flow.get("id") or "", waypoints=edge.waypoints if edge else (), label=edge.label if edge else None)
        if flow.get("id")
        else None
    )
    ours = flow.find(f"{_b('extensionElements')}/{_f('decision')}")
    if ours is not None and drawn is not None:
        if drawn.label is not None and _placed(ours.get("labelPlaced")) == (drawn.label.x, drawn.label.y):
            drawn = drawn.model_copy(update={"label": None})  # where export put it: export puts it so again
        if _drawn_by_default(drawn, draft, target_draft, ours.get("id") or "", c.offset):
            # nothing to keep, as export draws it so anyway; or the route so, the label where the user dropped it
            drawn = None if drawn.label is None else BpmnFlow(id=drawn.id, label=drawn.label)
    if ours is not None:
        return _our_decision(ours, target, f"sequence flow {flow.get('id') or '?'!r}", workflow_id, reader).model_copy(
            update={"bpmn": drawn}
        )
    label = (flow.get("name") or "").strip()
    expression = flow.find(_b("conditionExpression"))
    where = f"sequence flow {flow.get('id') or '?'!r}"
    when = ""
    objective = label
    if expression is not None and _text(expression):
        raw = _text(expression)
        when = _condition_text(raw, bare_name_ok=True) or ""
        if not when:
            objective = label or raw
            reader.warn(
                "bpmn-approximated",
                f"condition {raw!r} is not in flowcase's expression language; kept as "
                "the objective, the decision has no condition",
                workflow_id,
                where,
            )
    elif label and (parsed := _condition_text(label, bare_name_ok=False)):
        when, objective = parsed, ""
    elif (
        label
        and draft.kind == "choice"
        and draft.element is not None
        and draft.element.get("default") != flow.get("id")  # the default flow gets the others' negation
        and len(draft.element.findall(_b("outgoing"))) > 1
    ):
        reader.warn(
            "bpmn-approximated",
            f"label {label!r} is not a condition; kept as the objective, the decision has no condition",
            workflow_id,
            where,
        )
    if objective == when:
        objective = ""
    return Decision(when=when, objective=objective, next=target, bpmn=drawn)


def _moved(lay: Layout, offset: Point) -> Layout:
    return lay.model_copy(update={"x": lay.x + offset[0], "y": lay.y + offset[1]}) if offset != (0.0, 0.0) else lay


_PLACED = re.compile(r"\s*(-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)\s+(-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)\s*")


def _placed(text: str | None) -> tuple[float, float] | None:
    """Where export put a flow's label itself (``labelPlaced="x y"``), if it says so."""
    match = _PLACED.fullmatch(text or "")
    return (float(match.group(1)), float(match.group(2))) if match else None


def _drawn_by_default(drawn: BpmnFlow, source: _NodeDraft, target: _NodeDraft, row: str, offset: Point) -> bool:
    """A flow of our file with the id and route export gives a flow it has no drawing for (its label then goes
    where export puts it too: beside the route, clear of the others)."""
    if source.layout is None or target.layout is None:
        return False
    if not re.fullmatch(rf"Flow_{re.escape(source.xml_id)}_{re.escape(row)}(?:_\d+)?", drawn.id):
        return False
    expected = edge_waypoints(_moved(source.layout, offset), _moved(target.layout, offset))
    return drawn.waypoints == tuple((x + 0.0, y + 0.0) for x, y in expected)


def _node_by_default(draft: _NodeDraft, offset: Point) -> bool:
    """A node of our file written as the default element of its kind, with the label export gives it anyway."""
    kept = draft.bpmn
    if set(kept) - {"type", "label"} or kept.get("type") != _ELEMENT_OF[draft.kind]:
        return False
    label = kept.get("label")
    if label is None:
        return True
    return draft.layout is not None and bool(draft.name) and label == _default_label(_moved(draft.layout, offset))


def _condition_text(raw: str, *, bare_name_ok: bool) -> str | None:
    """The condition in a label or condition expression (``${...}``, ``#{...}``, FEEL ``=...``), if it parses.

    What does not parse as it is is translated once: JUEL and JavaScript operators (``!``, ``&&``, ``||``, ``eq``,
    ``ne``, ``lt``, ``gt``, ``le``, ``ge``), ``bpmn:getDataObject('x')``, ``execution.getVariable("x")`` and
    names of several words (``Service Level == 'Premium'`` reads ``Service_Level``)."""
    text = raw.strip()
    match = re.fullmatch(r"[$#]\{(.*)\}", text, re.DOTALL)
    if match:
        text = match.group(1).strip()
    elif text.startswith("=") and not text.startswith("=="):
        text = text[1:].strip()
    for candidate in (text, _translated(text)):
        try:
            expr = parse_condition(candidate)
        except ExprError:
            continue
        if expr is None or (not bare_name_ok and not isinstance(expr, ex.BinOp | ex.Not)):
            return None
        if isinstance(expr, ex.Const) and not isinstance(expr.value, bool):
            return None  # a number or a text is no condition
        return candidate
    return None


_STRING = re.compile(r"""("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')""")
_WORD_OPERATORS = {"eq": "==", "ne": "!=", "lt": "<", "gt": ">", "le": "<=", "ge": ">="}
_KEYWORDS = frozenset({"and", "or", "not", "in", "true", "false"})


def _translated(text: str) -> str:
    text = re.sub(
        r"""(?:\bbpmn:|\bexecution\.)?\b(?:getDataObject|getVariable)\(\s*(["'])(.*?)\1\s*\)""",
        lambda m: sanitise_id(m.group(2)),
        text,
    )
    parts = _STRING.split(text)
    for i in range(0, len(parts), 2):  # outside string literals
        part = parts[i].replace("&&", " and ").replace("||", " or ")
        part = re.sub(r"!(?!=)", " not ", part)
        part = re.sub(r"\b(eq|ne|lt|gt|le|ge)\b", lambda m: _WORD_OPERATORS[m.group(1)], part)
        part = re.sub(r"[A-Za-z_][A-Za-z0-9_]*(?:[ \t]+[A-Za-z_][A-Za-z0-9_]*)+", _join_words, part)
        parts[i] = part
    return re.sub(r"\s+", " ", "".join(parts)).strip()


def _join_words(match: re.Match[str]) -> str:
    """``Vacation Approval`` -> ``Vacation_Approval``; keywords stay separate words."""
    out: list[str] = []
    run: list[str] = []
    for word in match.group(0).split():
        if word in _KEYWORDS:
            if run:
                out.append("_".join(run))
                run = []
            out.append(word)
        else:
            run.append(word)
    if run:
        out.append("_".join(run))
    return " ".join(out)


def _default_flow(draft: _NodeDraft, outgoing: list[ET.Element]) -> None:
    """A gateway's default flow gets the negation of the other flows' conditions when they all have one."""
    default = draft.element.get("default") if draft.element is not None else None
    ids = [f.get("id") for f in outgoing]
    if not default or default not in ids:
        return
    index = ids.index(default)
    decision = draft.decisions[index]
    others = [d.when for i, d in enumerate(draft.decisions) if i != index]
    if decision.when or not others or not all(others):
        return
    negation = "not (" + " or ".join(f"({w})" if len(others) > 1 else w for w in others) + ")"
    draft.decisions[index] = decision.model_copy(update={"when": negation})


def _implied(source: _NodeDraft, target: _NodeDraft, default: Decision, workflow_id: str, reader: _Reader) -> Decision:
    """A row that BPMN implies (to a boundary event, a loop, an event sub-process, a link): the one our file keeps
    in the source element's extension (``flowcase:decision to=...``), else ``default``."""
    if source.element is None or not reader.ours:
        return default
    for ours in source.element.findall(f"{_b('extensionElements')}/{_f('decision')}"):
        if ours.get("to") == target.xml_id:
            return _our_decision(ours, target.id, _label(source.element), workflow_id, reader)
    return default


def _our_decision(ours: ET.Element, target: str, where: str, workflow_id: str, reader: _Reader) -> Decision:
    row_id = ours.get("id") or None
    if row_id is not None and not _ROW_ID.match(row_id):
        reader.warn(
            "bpmn-renamed", f"decision id {row_id!r} is not valid; replaced by its row number", workflow_id, where
        )
        row_id = None
    levels: dict[str, str | None] = {}
    for name in ("priority", "risk"):
        value = ours.get(name)
        if value and value not in _LEVELS:
            reader.warn(
                "bpmn-ignored", f"{name} {value!r} is not one of {', '.join(_LEVELS)}; ignored", workflow_id, where
            )
            value = None
        levels[name] = value or None
    custom: dict[str, Scalar] = {}
    for item in ours.findall(_f("custom")):
        key = item.get("name") or ""
        try:
            custom[key] = _scalar_from(item.get("type"), item.text or "")
        except BadScalar:
            reader.warn(
                "bpmn-approximated",
                f"custom attribute {key!r} is not a {item.get('type')}; read as text",
                workflow_id,
                where,
            )
            custom[key] = item.text or ""
    return Decision.model_validate(
        {
            "id": row_id,
            "when": ours.get("when", ""),
            "set": ours.get("assign", ours.get("set", "")),
            "action": (ours.findtext(_f("action")) or ""),
            "expected": (ours.findtext(_f("expected")) or ""),
            "next": target,
            "after": ours.get("after") or None,
            "objective": (ours.findtext(_f("objective")) or ""),
            "requirements": tuple(x.text or "" for x in ours.findall(_f("requirement"))),
            "priority": levels["priority"],
            "risk": levels["risk"],
            "tags": tuple(x.text or "" for x in ours.findall(_f("tag"))),
            "custom": custom,
        }
    )


def _label(element: ET.Element) -> str:
    return f"{_local(element.tag)[1]} {element.get('id') or '?'!r}"


def _has_flow_nodes(element: ET.Element) -> bool:
    return any(_local(child.tag)[0] == BPMN and _local(child.tag)[1] in _FLOW_NODES for child in element)


def _trigger(element: ET.Element) -> str:
    """The kind of an event's (first) event definition: ``timer``, ``message``, ... or ``""`` for a none event."""
    for child in element:
        ns, name = _local(child.tag)
        if ns == BPMN and name.endswith("EventDefinition"):
            return name.removesuffix("EventDefinition")
    return ""


def _resolve_call(draft: _NodeDraft, workflow_id: str, reader: _Reader) -> None:
    """A call activity calls a process of this file (a call node) or a global task (a step); else it is a step."""
    element = draft.element
    assert element is not None
    called = element.get("calledElement") or ""
    if not called:  # Camunda 8 keeps the called process id in its own extension
        zeebe = next((e for e in element.iter() if _local(e.tag)[1] == "calledElement" and e.get("processId")), None)
        called = zeebe.get("processId") or "" if zeebe is not None else ""
    local = called.rpartition(":")[2] if called not in reader.process_workflow else called
    label = _label(element)
    if local in reader.process_workflow:
        draft.workflow = reader.process_workflow[local]
    elif local in reader.global_tasks:
        draft.kind = "step"  # calling a global task is doing that task
        draft.bpmn["called"] = called
        draft.name = draft.name or reader.global_tasks[local]
    elif not called:
        draft.kind = "step"
        reader.note("bpmn-approximated", "call activity names no called process: read as a step", workflow_id, label)
    else:
        draft.kind = "step"
        draft.bpmn["called"] = called
        reader.note(
            "bpmn-approximated", f"calls {called!r}, which is not in this file: read as a step", workflow_id, label
        )


def _finish_nodes(c: _Container, workflow_id: str, reader: _Reader) -> list[Node]:
    drafts = c.drafts
    # BPMN's own semantics apply to any file; what flowcase adds (implicit start and end) only to other tools' files,
    # so that the editor still says which node has no way out
    _attach_boundaries(c, workflow_id, reader)
    _follow_links(c, workflow_id, reader)
    starts = [d for d in drafts.values() if d.kind == "start"]
    first: list[_NodeDraft] = []
    last: list[_NodeDraft] = []
    taken = {d.id for d in drafts.values()}
    start: _NodeDraft | None = starts[0] if starts else None
    if len(starts) > 1 and reader.ours:
        for extra in starts[1:]:
            extra.kind = "step"
            reader.warn(
                "bpmn-approximated",
                "a workflow has one start: this further start event is read as a step that nothing reaches",
                workflow_id,
                f"startEvent {extra.xml_id!r}",
            )
    elif len(starts) > 1:
        start = _NodeDraft("", _unique("start", taken), "start", "", "", None)
        for s in starts:
            s.kind = "step"
            start.decisions.append(Decision(next=s.id, objective=s.name))
        first.append(start)
        reader.warn(
            "bpmn-approximated",
            f"{len(starts)} start events: added {start.id!r}, from which each test "
            f"starts at one of them ({', '.join(repr(s.id) for s in starts)})",
            workflow_id,
        )
    elif not starts and drafts:
        targets = {d.next for draft in drafts.values() for d in draft.decisions}
        entries = [
            d
            for d in drafts.values()
            if d.id not in targets
            and d.xml_id not in c.handlers
            and d.xml_id not in c.event_subs
            and d.element is not None
            and d.element.tag != _b("boundaryEvent")
        ] or [next(iter(drafts.values()))]
        start = _NodeDraft("", _unique("start", taken), "start", "", "", None)
        start.decisions = [Decision(next=d.id) for d in entries]
        first.append(start)
        reader.warn(
            "bpmn-approximated",
            f"no start event: added {start.id!r} leading to {', '.join(repr(d.id) for d in entries)}",
            workflow_id,
        )
    if start is not None:
        for xml_id in c.event_subs:
            sub = drafts[xml_id]
            row = Decision(next=sub.id, objective=f"{sub.name or 'event sub-process'} triggered")
            start.decisions.append(_implied(start, sub, row, workflow_id, reader))
    open_ended = [d for d in drafts.values() if d.kind != "end" and not d.decisions]
    if open_ended and not reader.ours:
        end = _NodeDraft("", _unique("end", taken), "end", "", "", None)
        for d in open_ended:
            d.decisions.append(Decision(next=end.id))
        last.append(end)
        reader.warn(
            "bpmn-implicit-end",
            f"{', '.join(repr(d.id) for d in open_ended)} "
            f"{'has' if len(open_ended) == 1 else 'have'} no outgoing flow: the path ends there "
            f"(added end {end.id!r})",
            workflow_id,
        )
    for xml_id in c.loops:
        d = drafts[xml_id]
        row = Decision(next=d.id, objective=f"repeat {d.name or d.id} (loop)")
        d.decisions.append(_implied(d, d, row, workflow_id, reader))
    nodes: list[Node] = []
    for draft in [*first, *drafts.values(), *last]:
        decisions = tuple(
            d.model_copy(update={"id": None}) if d.id == str(i + 1) else d for i, d in enumerate(draft.decisions)
        )
        if draft.element is not None:
            reader.refs[draft.xml_id] = f"{workflow_id}/{draft.id}"
        for i, row in enumerate(decisions):
            if row.bpmn is not None:
                reader.refs[row.bpmn.id] = f"{workflow_id}/{draft.id}/{row.id or i + 1}"
        shorthand = len(decisions) == 1 and decisions[0] == Decision(next=decisions[0].next)
        if draft.kind == "end" and decisions:
            reader.warn(
                "bpmn-ignored", "flows leaving an end event are ignored", workflow_id, f"endEvent {draft.xml_id!r}"
            )
            decisions = ()
        nodes.append(
            Node(
                id=draft.id,
                kind=draft.kind,
                name=draft.name,
                description=draft.description,
                decisions=() if shorthand else decisions,
                next=decisions[0].next if shorthand else None,
                workflow=draft.workflow if draft.kind == "call" else None,
                layout=draft.layout,
                bpmn=None
                if not draft.bpmn or _node_by_default(draft, c.offset)
                else BpmnNode.model_validate(draft.bpmn),
            )
        )
    return nodes


def _attach_boundaries(c: _Container, workflow_id: str, reader: _Reader) -> None:
    """A boundary event is an alternative flow of its activity: a row of the activity leading to the event."""
    for element in c.boundaries:
        draft = c.drafts[element.get("id") or ""]
        host = c.drafts.get(element.get("attachedToRef") or "")
        label = _label(element)
        if host is None:
            del c.drafts[draft.xml_id]
            reader.warn(
                "bpmn-ignored",
                f"boundary event on unknown activity {element.get('attachedToRef')!r}; ignored with its flows",
                workflow_id,
                label,
            )
            continue
        trigger = _trigger(element)
        draft.name = draft.name or ""
        objective = draft.name or f"{trigger or 'boundary'} event on {host.name or host.id}"
        draft.bpmn["attached_to"] = host.id
        host.decisions.append(_implied(host, draft, Decision(next=draft.id, objective=objective), workflow_id, reader))
        if trigger == "compensate":
            handlers = [a.get("targetRef") for a in c.associations if a.get("sourceRef") == draft.xml_id]
            for handler in handlers:
                if handler in c.drafts:
                    target = c.drafts[handler]
                    draft.decisions.append(_implied(draft, target, Decision(next=target.id), workflow_id, reader))
            reader.note(
                "bpmn-approximated",
                f"compensation of {host.id!r}: read as an alternative after it, where "
                "the test runs the compensation handler",
                workflow_id,
                label,
            )
        elif element.get("cancelActivity") == "false":
            reader.note(
                "bpmn-approximated",
                f"non-interrupting {trigger or 'boundary'} event: a test that takes it "
                f"follows its flow; {host.id!r}'s own flow is covered by other tests",
                workflow_id,
                label,
            )


def _follow_links(c: _Container, workflow_id: str, reader: _Reader) -> None:
    """A throwing link event continues at the catching link event of the same name."""

    def link_name(d: _NodeDraft) -> str | None:
        if d.element is None:
            return None
        link = d.element.find(_b("linkEventDefinition"))
        return None if link is None else (link.get("name") or d.name)

    catches = {
        n: d
        for d in c.drafts.values()
        if d.element is not None and d.element.tag == _b("intermediateCatchEvent") and (n := link_name(d))
    }
    for d in c.drafts.values():
        name = link_name(d)
        if (
            d.element is not None
            and d.element.tag == _b("intermediateThrowEvent")
            and name in catches
            and not d.decisions
        ):
            catch = catches[name]
            d.decisions.append(_implied(d, catch, Decision(next=catch.id), workflow_id, reader))


def _build_model(
    root: ET.Element, ext: ET.Element | None, workflows: list[Workflow], main: ET.Element, reader: _Reader
) -> Model:
    parameters: list[Parameter] = []
    variables: list[Variable] = []
    model_id = sanitise_id(root.get("id") or "model")
    name = root.get("name") or main.get("name") or ""
    description = ""
    pins: Any = []
    if ext is not None:
        pinned = ext.findtext(_f("pins"))
        if pinned:
            try:
                pins = parse_json(pinned, reader.source)
            except ModelError as exc:
                why = exc.diagnostics[0].message
                raise reader.error("bpmn-invalid", f"the pinned tests in this file: {why}") from None
            if not isinstance(pins, list) or not all(isinstance(p, dict) for p in pins):
                raise reader.error("bpmn-invalid", "the pinned tests in this file are not a list of tests")
        model_id = ext.get("id") or model_id
        name = ext.get("name") or ""
        description = ext.findtext(_f("description")) or ""
        for p in ext.findall(_f("parameter")):
            values = tuple(_scalar_from(v.get("type"), v.text or "") for v in p.findall(_f("value")))
            parameters.append(
                Parameter(name=p.get("name") or "", values=values, description=p.get("description") or "")
            )
        for v in ext.findall(_f("variable")):
            variables.append(
                Variable(
                    name=v.get("name") or "",
                    initial=_scalar_from(v.get("type"), v.get("initial") or ""),
                    description=v.get("description") or "",
                )
            )
    return Model(
        id=model_id,
        name=name,
        description=description,
        parameters=tuple(parameters),
        variables=tuple(variables),
        workflows=tuple(workflows),
        pins=tuple(pins),
    )


def _with_diagram(model: Model, reader: _Reader) -> Model:
    """The model with what is kept for the diagram only (pools, lanes, message flows, artifacts), references to
    nodes and flows written as 'workflow/node' and 'workflow/node/row'."""
    if not (reader.collaborations or reader.lanes or reader.artifacts):
        return model
    workflows = {w.id for w in model.workflows}

    def ref(xml_id: str | None) -> str | None:
        return None if xml_id is None else reader.refs.get(xml_id, xml_id)

    collaborations = []
    for collaboration in reader.collaborations:
        participants = []
        for p in collaboration["participants"]:
            workflow = reader.process_workflow.get(p.pop("process") or "")
            participants.append(BpmnParticipant(**p, workflow=workflow if workflow in workflows else None))
        flows = [
            BpmnMessageFlow(**(m | {"source": ref(m["source"]), "target": ref(m["target"])}))
            for m in collaboration["message_flows"]
        ]
        kept = [
            BpmnArtifact(**(a | {"source": ref(a.get("source")), "target": ref(a.get("target"))}))
            for a in collaboration["artifacts"]
        ]
        collaborations.append(
            BpmnCollaboration(
                id=collaboration["id"],
                name=collaboration["name"],
                participants=tuple(participants),
                message_flows=tuple(flows),
                artifacts=tuple(kept),
            )
        )
    lanes = []
    for lane in reader.lanes:
        prefix = lane["workflow"] + "/"
        refs = [reader.refs.get(x, "") for x in lane["nodes"]]
        nodes = tuple(r[len(prefix) :] for r in refs if r.startswith(prefix) and "/" not in r[len(prefix) :])
        lanes.append(BpmnLane(**(lane | {"nodes": nodes})))
    artifacts = [
        BpmnArtifact(**(a | {"source": ref(a.get("source")), "target": ref(a.get("target"))}))
        for a in sorted(reader.artifacts, key=lambda a: _ARTIFACT_ORDER.index(a["type"]))
    ]
    diagram = BpmnDiagram(collaborations=tuple(collaborations), lanes=tuple(lanes), artifacts=tuple(artifacts))
    return model.model_copy(update={"bpmn": diagram})
