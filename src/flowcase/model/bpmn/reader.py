"""BPMN 2.0 import: our own files exactly; any valid BPMN 2.0 process from a modelling tool with a test semantics.

Everything approximated or left out is a warning naming the element; the mapping is in ``docs/formats.md``.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException
from pydantic import ValidationError

from flowcase.model.bpmn.common import BPMN, BPMNDI, DC, _b, _f, _q, _scalar_from
from flowcase.model.diagnostics import Diagnostic, ModelError
from flowcase.model.expr import BinOp, ExprError, Not, names, parse_condition
from flowcase.model.io import Loaded
from flowcase.model.types import Decision, Layout, Model, Node, NodeKind, Parameter, Scalar, Variable, Workflow

_TASKS = frozenset(
    {"task", "userTask", "serviceTask", "manualTask", "scriptTask", "sendTask", "receiveTask", "businessRuleTask"}
)
_OTHER_GATEWAYS = frozenset({"parallelGateway", "inclusiveGateway", "complexGateway", "eventBasedGateway"})
_SUBPROCESSES = frozenset({"subProcess", "transaction", "adHocSubProcess"})
_INTERMEDIATE = frozenset({"intermediateCatchEvent", "intermediateThrowEvent"})
_ARTIFACTS = frozenset(
    {"textAnnotation", "association", "group", "dataObject", "dataObjectReference", "dataStoreReference",
     "dataInputAssociation", "dataOutputAssociation", "ioSpecification", "property"}
)
# root elements that only define things other elements refer to; what refers to them is warned about there
_DEFINITIONS_ONLY = frozenset(
    {"message", "signal", "error", "escalation", "itemDefinition", "category", "interface", "dataStore",
     "import", "extension", "resource", "eventDefinition", "correlationProperty", "partnerRole", "partnerEntity"}
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
    element: ET.Element
    workflow: str | None = None
    layout: Layout | None = None
    decisions: list[Decision] = field(default_factory=list)


@dataclass
class _Shape:
    layout: Layout
    plane: str


@dataclass
class _Reader:
    source: str | None
    warnings: list[Diagnostic] = field(default_factory=list)
    shapes: dict[str, _Shape] = field(default_factory=dict)
    workflows: list[Workflow] = field(default_factory=list)
    workflow_ids: set[str] = field(default_factory=set)
    process_workflow: dict[str, str] = field(default_factory=dict)  # process XML id -> workflow id

    def warn(self, code: str, message: str, workflow: str | None = None, element: str | None = None) -> None:
        self.warnings.append(Diagnostic("warning", code, message, workflow, element))

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
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise reader.error("bpmn-invalid", f"the flowcase data in this file is invalid at {exc.title}"
                           f"{'.' + where if where else ''}: {first['msg']}") from None
    except ValueError as exc:  # a typed value that does not read as its type
        raise reader.error("bpmn-invalid", f"the flowcase data in this file is invalid: {exc}") from None


def _load(text: str, reader: _Reader) -> Loaded:
    root = _parse(text, reader)
    _read_shapes(root, reader)
    processes = _processes(root, reader)
    model_ext = next(
        (m for p in processes if (m := p.find(f"{_b('extensionElements')}/{_f('model')}")) is not None), None
    )
    if model_ext is not None:  # our own file: its main process goes first
        processes.sort(key=lambda p: p.find(f"{_b('extensionElements')}/{_f('model')}") is None)
    for process in processes:
        wanted = process.get(_f("id")) or sanitise_id(process.get("id") or "process")
        reader.process_workflow[process.get("id") or ""] = _unique(wanted, reader.workflow_ids)
    for process in processes:
        workflow_id = reader.process_workflow[process.get("id") or ""]
        if process.get(_f("id")) is None and workflow_id != process.get("id"):
            reader.warn("bpmn-renamed", f"process id {process.get('id')!r} is not a valid flowcase identifier; "
                        f"read as {workflow_id!r}", workflow_id)
        _read_container(process, workflow_id, process.get("name") or "", None, reader)
    if not reader.workflows:
        raise reader.error("bpmn-empty", "the BPMN document has no process with flow elements")
    main_id = reader.process_workflow[processes[0].get("id") or ""]
    ordered = sorted(reader.workflows, key=lambda w: w.id != main_id)  # stable: main first, the rest as read
    model = _build_model(root, model_ext, ordered, processes[0], reader)
    if model_ext is None:
        _warn_undeclared(model, reader)
    return Loaded(model, tuple(reader.warnings))


def _warn_undeclared(model: Model, reader: _Reader) -> None:
    """Conditions read from plain BPMN name things that no parameter or variable declares yet."""
    found: dict[str, None] = {}
    for workflow in model.workflows:
        for _, decision in workflow.edges():
            try:
                found.update((n.name, None) for n in names(parse_condition(decision.when)))
            except ExprError:
                continue
    if found:
        reader.warn("bpmn-undeclared", f"conditions use {', '.join(repr(n) for n in found)}: declare each as a "
                    "parameter (with its values) or a variable before generating tests")


def _parse(text: str, reader: _Reader) -> ET.Element:
    try:
        root: ET.Element = SafeET.fromstring(text, forbid_dtd=True)
    except ET.ParseError as exc:
        line, column = exc.position
        message = str(exc).split(":")[0]
        raise reader.error("syntax", f"invalid XML: {message}", line, column + 1) from None
    except DefusedXmlException:
        raise reader.error("unsafe-xml", "XML with a DTD, entities or external references is not accepted") from None
    ns, name = _local(root.tag)
    if (ns, name) != (BPMN, "definitions"):
        raise reader.error(
            "not-bpmn", f"not a BPMN 2.0 document: the root element is {name!r} in namespace {ns or 'none'!r}, "
            f"expected 'definitions' in {BPMN!r}"
        )
    return root


def _read_shapes(root: ET.Element, reader: _Reader) -> None:
    for plane in root.iter(_q(BPMNDI, "BPMNPlane")):
        plane_of = plane.get("bpmnElement") or ""
        for shape in plane.iter(_q(BPMNDI, "BPMNShape")):
            bounds = shape.find(_q(DC, "Bounds"))
            element = shape.get("bpmnElement")
            if bounds is None or not element:
                continue
            try:
                lay = Layout(
                    x=float(bounds.get("x", "")),
                    y=float(bounds.get("y", "")),
                    width=float(bounds.get("width", "")),
                    height=float(bounds.get("height", "")),
                )
            except ValueError:
                reader.warn("bpmn-layout", f"shape of {element!r} has unreadable bounds; it will be laid out anew")
                continue
            reader.shapes.setdefault(element, _Shape(lay, plane_of))


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
    for participant in participants:
        process = by_id.get(participant.get("processRef"))
        label = participant.get("name") or participant.get("id") or "?"
        if process is None:
            reader.warn("bpmn-ignored", f"pool {label!r} has no process (a black-box pool); ignored")
        elif process not in ordered:
            ordered.append(process)
    if len(participants) > 1:
        reader.warn("bpmn-approximated", f"collaboration with {len(participants)} pools: each pool's process is "
                    "read as a separate workflow; the first is the main one")
    for child in collaboration:
        _, name = _local(child.tag)
        if name in ("participant", "extensionElements", "documentation"):
            continue
        what = "message flow" if name == "messageFlow" else repr(name)
        reader.warn("bpmn-ignored", f"{what} {child.get('id') or '?'!r} in the collaboration is not supported; ignored")
    return ordered


def _read_container(
    container: ET.Element, workflow_id: str, name: str, parent_plane: str | None, reader: _Reader
) -> None:
    """Read a process or an embedded sub-process into a workflow (sub-processes become further workflows)."""
    drafts: dict[str, _NodeDraft] = {}
    used: set[str] = set()
    flows: list[ET.Element] = []
    description = ""
    subprocesses: list[tuple[ET.Element, str]] = []
    skipped: set[str] = set()

    def element_label(el: ET.Element) -> str:
        return f"{_local(el.tag)[1]} {el.get('id') or '?'!r}"

    for child in container:
        ns, tag = _local(child.tag)
        if ns != BPMN:
            continue
        xml_id = child.get("id") or ""
        kind: NodeKind | None = None
        if tag == "documentation":
            description = description or child.text or ""
            continue
        if tag in ("extensionElements", "incoming", "outgoing"):
            continue
        if tag == "sequenceFlow":
            flows.append(child)
            continue
        if tag == "laneSet":
            lanes = [lane.get("name") or lane.get("id") or "?" for lane in child.iter(_b("lane"))]
            reader.warn("bpmn-ignored", f"lanes {', '.join(repr(x) for x in lanes)} are not supported; their elements "
                        "are read, the lanes are ignored", workflow_id)
            continue
        if tag == "startEvent":
            kind = "start"
            _warn_event_definitions(child, tag, workflow_id, reader, allowed=())
        elif tag == "endEvent":
            kind = "end"
            _warn_event_definitions(child, tag, workflow_id, reader, allowed=("terminateEventDefinition",))
        elif tag in _TASKS:
            kind = "step"
        elif tag == "exclusiveGateway":
            kind = "choice"
        elif tag in _OTHER_GATEWAYS:
            kind = "choice"
            reader.warn("bpmn-approximated", f"{tag} is read as an exclusive choice: each outgoing flow becomes one "
                        "alternative", workflow_id, element_label(child))
        elif tag == "callActivity":
            kind = "call"
        elif tag in _SUBPROCESSES:
            kind = "call"
            if tag != "subProcess" or child.get("triggeredByEvent") == "true":
                reader.warn("bpmn-approximated", f"{'event sub-process' if tag == 'subProcess' else tag} is read as "
                            "an ordinary embedded sub-process", workflow_id, element_label(child))
        elif tag in _INTERMEDIATE:
            kind = "step"
            reader.warn("bpmn-approximated", "intermediate event is read as a step", workflow_id, element_label(child))
        elif tag == "boundaryEvent":
            reader.warn("bpmn-ignored", f"boundary event on {child.get('attachedToRef')!r} is not supported; it and "
                        "the flows leaving it are ignored", workflow_id, element_label(child))
            skipped.add(xml_id)
            continue
        elif tag in _ARTIFACTS:
            reader.warn("bpmn-ignored", f"{tag} is not part of a workflow; ignored", workflow_id, element_label(child))
            skipped.add(xml_id)
            continue
        else:
            reader.warn("bpmn-ignored", f"{tag} is not supported; ignored", workflow_id, element_label(child))
            skipped.add(xml_id)
            continue
        if child.find(_b("loopCharacteristics")) is not None or child.find(
            _b("multiInstanceLoopCharacteristics")
        ) is not None:
            reader.warn("bpmn-approximated", "loop / multi-instance marker is ignored: the activity is done once",
                        workflow_id, element_label(child))
        node_id = _node_id(child, used, workflow_id, reader)
        drafts[xml_id] = _NodeDraft(
            xml_id, node_id, kind, child.get("name") or "", child.findtext(_b("documentation")) or "", child
        )
        if tag in _SUBPROCESSES:
            sub_id = _unique(sanitise_id(xml_id or "subprocess"), reader.workflow_ids)
            drafts[xml_id].workflow = sub_id
            subprocesses.append((child, sub_id))
        elif tag == "callActivity":
            drafts[xml_id].workflow = _called_workflow(child, workflow_id, reader)

    _place(drafts, parent_plane, reader)
    _read_flows(flows, drafts, skipped, workflow_id, reader)
    nodes = _finish_nodes(list(drafts.values()), workflow_id, reader)
    reader.workflows.append(Workflow(id=workflow_id, name=name, description=description, nodes=tuple(nodes)))
    plane = container.get("id") or ""
    for element, sub_id in subprocesses:
        _read_container(element, sub_id, element.get("name") or "", plane, reader)


def _warn_event_definitions(
    element: ET.Element, tag: str, workflow_id: str, reader: _Reader, allowed: tuple[str, ...]
) -> None:
    for child in element:
        ns, name = _local(child.tag)
        if ns == BPMN and name.endswith("EventDefinition") and name not in allowed:
            kind = name.removesuffix("EventDefinition")
            reader.warn("bpmn-approximated", f"{kind} {tag} is read as a plain {tag}", workflow_id,
                        f"{tag} {element.get('id') or '?'!r}")


def _node_id(element: ET.Element, used: set[str], workflow_id: str, reader: _Reader) -> str:
    raw = element.get("id") or ""
    ours = element.get(_f("id"))
    if ours and _IDENTIFIER.match(ours) and ours not in used:
        used.add(ours)
        return ours
    wanted = sanitise_id(raw or "node")
    node_id = _unique(wanted, used)
    if node_id != raw:
        reader.warn("bpmn-renamed", f"id {raw!r} is not a valid or unique flowcase identifier; read as {node_id!r}",
                    workflow_id, f"{_local(element.tag)[1]} {raw!r}")
    return node_id


def _called_workflow(element: ET.Element, workflow_id: str, reader: _Reader) -> str:
    called = element.get("calledElement") or ""
    if called in reader.process_workflow:
        return reader.process_workflow[called]
    label = f"callActivity {element.get('id') or '?'!r}"
    if not called:
        reader.warn("bpmn-approximated", "call activity names no called process", workflow_id, label)
        return sanitise_id(element.get("id") or "called")
    reader.warn("bpmn-approximated", f"calls process {called!r}, which is not in this file", workflow_id, label)
    return sanitise_id(called.rpartition(":")[2])


def _place(drafts: dict[str, _NodeDraft], parent_plane: str | None, reader: _Reader) -> None:
    """Layouts from DI. Children of an expanded sub-process drawn in the parent's plane are moved to the origin."""
    found = {x: reader.shapes[x] for x in drafts if x in reader.shapes}
    for xml_id, shape in found.items():
        drafts[xml_id].layout = shape.layout
    if parent_plane is None or not found:
        return
    inline = [x for x, s in found.items() if s.plane == parent_plane]
    if not inline:
        return
    dx = min(found[x].layout.x for x in inline) - 40.0
    dy = min(found[x].layout.y for x in inline) - 40.0
    for xml_id in inline:
        lay = found[xml_id].layout
        drafts[xml_id].layout = lay.model_copy(update={"x": lay.x - dx, "y": lay.y - dy})


def _read_flows(
    flows: list[ET.Element], drafts: dict[str, _NodeDraft], skipped: set[str], workflow_id: str, reader: _Reader
) -> None:
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
        listed = [_text(o) for o in draft.element.findall(_b("outgoing"))]
        outgoing.sort(key=lambda f: listed.index(f.get("id") or "") if f.get("id") in listed else len(listed))
        for flow in outgoing:
            draft.decisions.append(_decision(flow, draft, drafts, workflow_id, reader))
        _default_flow(draft, outgoing)


def _decision(
    flow: ET.Element, draft: _NodeDraft, drafts: dict[str, _NodeDraft], workflow_id: str, reader: _Reader
) -> Decision:
    target = drafts[flow.get("targetRef") or ""].id
    ours = flow.find(f"{_b('extensionElements')}/{_f('decision')}")
    if ours is not None:
        return _our_decision(ours, target, flow, workflow_id, reader)
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
            reader.warn("bpmn-approximated", f"condition {raw!r} is not in flowcase's expression language; kept as "
                        "the objective, the decision has no condition", workflow_id, where)
    elif label and (parsed := _condition_text(label, bare_name_ok=False)):
        when, objective = parsed, ""
    elif (
        label
        and draft.kind == "choice"
        and draft.element.get("default") != flow.get("id")  # the default flow gets the others' negation
        and len(draft.element.findall(_b("outgoing"))) > 1
    ):
        reader.warn("bpmn-approximated", f"label {label!r} is not a condition; kept as the objective, the "
                    "decision has no condition", workflow_id, where)
    if objective == when:
        objective = ""
    return Decision(when=when, objective=objective, next=target)


def _condition_text(raw: str, *, bare_name_ok: bool) -> str | None:
    """The condition in a label or condition expression (``${...}``, ``#{...}``, FEEL ``=...``), if it parses."""
    text = raw.strip()
    match = re.fullmatch(r"[$#]\{(.*)\}", text, re.DOTALL)
    if match:
        text = match.group(1).strip()
    elif text.startswith("=") and not text.startswith("=="):
        text = text[1:].strip()
    try:
        expr = parse_condition(text)
    except ExprError:
        return None
    if expr is None:
        return None
    if not bare_name_ok and not isinstance(expr, BinOp | Not):
        return None
    return text


def _default_flow(draft: _NodeDraft, outgoing: list[ET.Element]) -> None:
    """A gateway's default flow gets the negation of the other flows' conditions when they all have one."""
    default = draft.element.get("default")
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


def _our_decision(ours: ET.Element, target: str, flow: ET.Element, workflow_id: str, reader: _Reader) -> Decision:
    where = f"sequence flow {flow.get('id') or '?'!r}"
    row_id = ours.get("id") or None
    if row_id is not None and not _ROW_ID.match(row_id):
        reader.warn("bpmn-renamed", f"decision id {row_id!r} is not valid; replaced by its row number", workflow_id,
                    where)
        row_id = None
    levels: dict[str, str | None] = {}
    for name in ("priority", "risk"):
        value = ours.get(name)
        if value and value not in _LEVELS:
            reader.warn("bpmn-ignored", f"{name} {value!r} is not one of {', '.join(_LEVELS)}; ignored", workflow_id,
                        where)
            value = None
        levels[name] = value or None
    custom: dict[str, Scalar] = {}
    for item in ours.findall(_f("custom")):
        key = item.get("name") or ""
        try:
            custom[key] = _scalar_from(item.get("type"), item.text or "")
        except ValueError:
            reader.warn("bpmn-approximated", f"custom attribute {key!r} is not a {item.get('type')}; read as text",
                        workflow_id, where)
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


def _finish_nodes(drafts: list[_NodeDraft], workflow_id: str, reader: _Reader) -> list[Node]:
    starts = [d for d in drafts if d.kind == "start"]
    for extra in starts[1:]:
        extra.kind = "step"
        reader.warn("bpmn-approximated", "a workflow has one start: this further start event is read as a step "
                    "that nothing reaches", workflow_id, f"startEvent {extra.xml_id!r}")
    nodes: list[Node] = []
    if not starts and drafts:
        targets = {d.next for draft in drafts for d in draft.decisions}
        entries = [d for d in drafts if d.id not in targets] or drafts[:1]
        start_id = _unique("start", {d.id for d in drafts})
        nodes.append(Node(id=start_id, kind="start", decisions=tuple(Decision(next=d.id) for d in entries)))
        reader.warn("bpmn-approximated", f"no start event: added {start_id!r} leading to "
                    f"{', '.join(repr(d.id) for d in entries)}", workflow_id)
    for draft in drafts:
        decisions = tuple(
            d.model_copy(update={"id": None}) if d.id == str(i + 1) else d for i, d in enumerate(draft.decisions)
        )
        shorthand = len(decisions) == 1 and decisions[0] == Decision(next=decisions[0].next)
        if draft.kind == "end" and decisions:
            reader.warn("bpmn-ignored", "flows leaving an end event are ignored", workflow_id,
                        f"endEvent {draft.xml_id!r}")
            decisions = ()
        nodes.append(
            Node(
                id=draft.id,
                kind=draft.kind,
                name=draft.name,
                description=draft.description,
                decisions=() if shorthand else decisions,
                next=decisions[0].next if shorthand else None,
                workflow=draft.workflow,
                layout=draft.layout,
            )
        )
    return nodes


def _build_model(
    root: ET.Element, ext: ET.Element | None, workflows: list[Workflow], main: ET.Element, reader: _Reader
) -> Model:
    parameters: list[Parameter] = []
    variables: list[Variable] = []
    model_id = sanitise_id(root.get("id") or "model")
    name = root.get("name") or main.get("name") or ""
    description = ""
    if ext is not None:
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
    )
