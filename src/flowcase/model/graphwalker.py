"""GraphWalker JSON: export for GraphWalker (vertices, edges, JavaScript guards and actions, shared states)
and import of our own files (lossless) and of plain GraphWalker models (with warnings where meaning is
approximated). The mapping is described in ``docs/formats.md``.

Nodes are vertices and decisions are edges. Conditions become JavaScript guards and assignments become
JavaScript actions; flowcase's own fields (and the exact expressions) travel in ``properties.flowcase``
so our round trip loses nothing. Each workflow is one GraphWalker model; a call vertex, the called
model's start vertex and its end vertices share a state named after the called workflow.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from flowcase.model.diagnostics import Diagnostic, ModelError
from flowcase.model.expr import (
    BinOp,
    Const,
    Expr,
    ExprError,
    ListExpr,
    Name,
    Neg,
    Not,
    format_value,
    names,
    parse_assignments,
    parse_condition,
)
from flowcase.model.io import Loaded, parse_json
from flowcase.model.layout import layout_of
from flowcase.model.semantics import format_expr
from flowcase.model.types import Decision, Layout, Model, Node, NodeKind, Parameter, Scalar, Variable, Workflow

GENERATOR = "random(edge_coverage(100))"
_DECISION_FIELDS = ("when", "set", "action", "expected", "after", "objective", "priority", "risk")

__all__ = ["condition_to_js", "dumps", "js_to_assignments", "js_to_condition", "loads"]


# -- expressions: flowcase <-> JavaScript ---------------------------------------------------------------

_JS_OPS = {"and": "&&", "or": "||", "==": "==", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">=",
           "+": "+", "-": "-", "*": "*", "/": "/", "%": "%"}


def _js(expr: Expr) -> str:
    """JavaScript for an expression, fully parenthesised where precedence could differ."""
    if isinstance(expr, Const):
        return json.dumps(expr.value, ensure_ascii=False) if isinstance(expr.value, str) else format_value(expr.value)
    if isinstance(expr, Name):
        return expr.name
    if isinstance(expr, ListExpr):
        return "[" + ", ".join(_js(i) for i in expr.items) + "]"
    if isinstance(expr, Not):
        return f"!({_js(expr.operand)})" if not isinstance(expr.operand, Name) else f"!{expr.operand.name}"
    if isinstance(expr, Neg):
        return f"-({_js(expr.operand)})"
    if expr.op in ("in", "not in"):
        found = f"{_js(expr.right)}.indexOf({_js(expr.left)})"
        return f"({found} {'>=' if expr.op == 'in' else '<'} 0)"
    return f"{_operand(expr.left)} {_JS_OPS[expr.op]} {_operand(expr.right)}"


def _operand(expr: Expr) -> str:
    return f"({_js(expr)})" if isinstance(expr, BinOp) and expr.op not in ("in", "not in") else _js(expr)


def condition_to_js(text: str) -> str:
    """A flowcase condition as a GraphWalker (JavaScript) guard; empty for an always-true condition."""
    expr = parse_condition(text)
    return "" if expr is None else _js(expr)


def assignments_to_js(text: str) -> list[str]:
    """Flowcase assignments as GraphWalker actions, one ``name = value;`` statement each."""
    return [f"{a.target} = {_js(a.expr)};" for a in parse_assignments(text)]


def _negations(js: str) -> str:
    """JavaScript's ``!`` binds tighter than comparisons, flowcase's ``not`` looser: make it explicit."""
    out: list[str] = []
    i = 0
    while i < len(js):
        char = js[i]
        if char == "!" and not js.startswith("!=", i):
            j = i + 1
            while j < len(js) and js[j].isspace():
                j += 1
            if j < len(js) and js[j] == "(":
                depth, k = 0, j
                while k < len(js):
                    depth += {"(": 1, ")": -1}.get(js[k], 0)
                    if depth == 0:
                        break
                    k += 1
                out.append(f"(not {_negations(js[j:k + 1])})")
                i = k + 1
                continue
            match = re.match(r"[A-Za-z_$][\w.$]*", js[j:])
            if match:
                out.append(f"(not {match.group()})")
                i = j + match.end()
                continue
        if char in "\"'":  # copy string literals unchanged
            end = i + 1
            while end < len(js) and js[end] != char:
                end += 2 if js[end] == "\\" else 1
            out.append(js[i:end + 1])
            i = end + 1
            continue
        out.append(char)
        i += 1
    return "".join(out)


def js_to_condition(js: str) -> str | None:
    """A GraphWalker guard in flowcase's language (normal form), or ``None`` when it cannot be read."""
    text = _negations(js.strip().rstrip(";").replace("===", "==").replace("!==", "!="))
    try:
        expr = parse_condition(text)
    except ExprError:
        return None
    return "" if expr is None else format_expr(expr)


_STATEMENT = re.compile(r"^\s*([A-Za-z_][\w.]*)\s*(\+\+|--|\+=|-=|\*=|=)\s*(.*?)\s*$", re.DOTALL)


def js_to_assignments(actions: list[str]) -> tuple[str, list[str]]:
    """GraphWalker actions as flowcase assignments, plus the statements that could not be read."""
    done: list[str] = []
    unread: list[str] = []
    for action in actions:
        for statement in _statements(action):
            match = _STATEMENT.match(statement)
            if match is None or statement.strip().startswith(("var ", "let ", "const ")):
                unread.append(statement.strip())
                continue
            target, op, rest = match.groups()
            if op in ("++", "--"):
                value: str | None = f"{target} {op[0]} 1" if not rest else None
            else:
                value = js_to_condition(rest)
                if value and op != "=":
                    value = f"{target} {op[0]} ({value})"
            if not value:
                unread.append(statement.strip())
                continue
            done.append(f"{target} = {value}")
    text = "; ".join(done)
    try:
        parsed = parse_assignments(text)
    except ExprError:  # e.g. the same variable assigned twice
        return "", [s for a in actions for s in _statements(a)]
    return "; ".join(f"{a.target} = {format_expr(a.expr)}" for a in parsed), unread


def _statements(action: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    quote = ""
    for char in action:
        if quote:
            quote = "" if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char == ";":
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    return [p for p in parts if p.strip()]


# -- export --------------------------------------------------------------------------------------------


def _identifier(text: str) -> str:
    words = re.findall(r"[A-Za-z0-9]+", text)
    return "".join(w[:1].upper() + w[1:] for w in words) or "X"


def dumps(model: Model) -> str:
    """The model as GraphWalker JSON: one model per workflow, deterministic."""
    models = [_export_workflow(model, w) for w in model.workflows]
    return json.dumps({"models": models}, indent=2, ensure_ascii=False) + "\n"


def _export_workflow(model: Model, workflow: Workflow) -> dict[str, Any]:
    layouts = layout_of(workflow)
    callers = {n.workflow for w in model.workflows for n in w.nodes if n.kind == "call"}
    vertex_ids = {n.id for n in workflow.nodes}
    vertices = []
    for node in workflow.nodes:
        lay = layouts[node.id]
        ours: dict[str, Any] = {"id": node.id, "kind": node.kind}
        if node.name:
            ours["name"] = node.name
        if node.workflow:
            ours["workflow"] = node.workflow
        if lay.width is not None and lay.height is not None:
            ours["size"] = [lay.width, lay.height]
        properties: dict[str, Any] = {"x": lay.x, "y": lay.y}
        if node.description:
            properties["description"] = node.description
        properties["flowcase"] = ours
        vertex: dict[str, Any] = {"id": node.id, "name": f"v_{_identifier(node.name or node.id)}"}
        shared = _shared_state(node, workflow, callers)
        if shared:
            vertex["sharedState"] = shared
        vertex["properties"] = properties
        vertices.append(vertex)
    edges = []
    used = set(vertex_ids)
    for node, decision in workflow.edges():
        edge_id = _unique(f"{node.id}.{decision.id}", used)
        ours = {"id": decision.id}
        for name in _DECISION_FIELDS:
            value = getattr(decision, name)
            if value:
                ours[name] = value
        for name in ("requirements", "tags"):
            if getattr(decision, name):
                ours[name] = list(getattr(decision, name))
        if decision.custom:
            ours["custom"] = dict(decision.custom)
        edge: dict[str, Any] = {
            "id": edge_id,
            "name": f"e_{_identifier(decision.objective or f'{node.id} {decision.id}')}",
            "sourceVertexId": node.id,
            "targetVertexId": decision.next,
        }
        guard = _try(condition_to_js, decision.when)
        if guard:
            edge["guard"] = guard
        edge["actions"] = _try(assignments_to_js, decision.set) or []
        if decision.requirements:
            edge["requirements"] = list(decision.requirements)
        edge["properties"] = {**({"description": decision.action} if decision.action else {}), "flowcase": ours}
        edges.append(edge)
    result: dict[str, Any] = {"id": workflow.id, "name": workflow.name or workflow.id, "generator": GENERATOR}
    if workflow.start is not None:
        result["startElementId"] = workflow.start.id
    result["vertices"] = vertices
    result["edges"] = edges
    initial = [f"{v.name} = {_js(Const(v.initial))};" for v in model.variables]
    result["actions"] = initial if workflow is model.main else []
    ours_model: dict[str, Any] = {"workflow": {"id": workflow.id, "name": workflow.name,
                                               "description": workflow.description}}
    if workflow is model.main:
        ours_model["model"] = {
            "id": model.id,
            "name": model.name,
            "description": model.description,
            "parameters": [p.model_dump(mode="json", exclude_defaults=True) for p in model.parameters],
            "variables": [v.model_dump(mode="json", exclude_defaults=True) for v in model.variables],
        }
    result["properties"] = {"flowcase": ours_model}
    return result


def _shared_state(node: Node, workflow: Workflow, callers: set[str | None]) -> str | None:
    """Call vertices, the called model's start and its ends share a state named after the called workflow."""
    if node.kind == "call" and node.workflow:
        return node.workflow
    if node.kind in ("start", "end") and workflow.id in callers:
        return workflow.id
    return None


def _try(convert: Any, text: str) -> Any:
    try:
        return convert(text)
    except ExprError:
        return None


def _unique(wanted: str, used: set[str]) -> str:
    candidate, n = wanted, 1
    while candidate in used:
        n += 1
        candidate = f"{wanted}_{n}"
    used.add(candidate)
    return candidate


# -- import --------------------------------------------------------------------------------------------

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,127}$")


def _sanitise(raw: str) -> str:
    text = re.sub(r"[^A-Za-z0-9_.-]", "_", raw.strip())
    if not text or not re.match(r"[A-Za-z_]", text[0]):
        text = "_" + text
    return text[:128]


@dataclass
class _Reader:
    source: str | None
    warnings: list[Diagnostic] = field(default_factory=list)

    def warn(self, code: str, message: str, workflow: str | None = None, element: str | None = None) -> None:
        self.warnings.append(Diagnostic("warning", code, message, workflow, element))

    def fail(self, message: str, code: str = "graphwalker") -> ModelError:
        return ModelError([Diagnostic("error", code, message)], self.source)


def _ours(item: dict[str, Any]) -> dict[str, Any] | None:
    properties = item.get("properties")
    found = properties.get("flowcase") if isinstance(properties, dict) else None
    return found if isinstance(found, dict) else None


def _properties(item: dict[str, Any]) -> dict[str, Any]:
    properties = item.get("properties")
    return properties if isinstance(properties, dict) else {}


def loads(text: str, source: str | None = None) -> Loaded:
    """Read GraphWalker JSON (ours, or any GraphWalker 4 model file)."""
    reader = _Reader(source)
    data = parse_json(text, source)
    if isinstance(data, dict) and "models" not in data and "vertices" in data:
        data = {"models": [data]}  # a single model, as older files have it
    if not isinstance(data, dict) or not isinstance(data.get("models"), list) or not data["models"]:
        raise reader.fail("not a GraphWalker document: expected an object with a non-empty 'models' list")
    models = data["models"]
    for i, gw in enumerate(models):
        if not isinstance(gw, dict):
            raise reader.fail(f"model #{i + 1} must be an object")
        for key in ("vertices", "edges", "actions"):
            if not isinstance(gw.get(key, []), list):
                raise reader.fail(f"{key!r} of model #{i + 1} must be a list")
        for key in ("vertices", "edges"):
            for j, item in enumerate(gw.get(key, [])):
                if not isinstance(item, dict) or not isinstance(item.get("id", ""), str):
                    raise reader.fail(f"{key[:-1]} #{j + 1} of model #{i + 1} must be an object with a text 'id'")
    try:
        if any(_ours(gw) is not None for gw in models):
            model = _read_ours(models, reader)
        else:
            model = _read_plain(models, reader)
    except ModelError:
        raise
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise reader.fail(f"the flowcase data in this file is invalid at {exc.title}"
                          f"{'.' + where if where else ''}: {first['msg']}") from None
    except (TypeError, KeyError, IndexError, AttributeError, ValueError) as exc:
        # a value of the wrong shape somewhere in the properties (a list where an object belongs, ...)
        raise reader.fail(f"malformed GraphWalker data ({type(exc).__name__}: {exc})") from None
    return Loaded(model, tuple(reader.warnings))


def _read_ours(models: list[dict[str, Any]], reader: _Reader) -> Model:
    ordered = sorted(models, key=lambda gw: "model" not in (_ours(gw) or {}))
    workflows: list[Workflow] = []
    info: dict[str, Any] = {}
    for gw in ordered:
        ours = _ours(gw) or {}
        info = info or ours.get("model", {})
        meta = ours.get("workflow", {})
        if _ours(gw) is None:
            reader.warn("graphwalker-approximated", f"model {gw.get('name')!r} has no flowcase data; read as plain")
            workflows.extend(_read_plain([gw], reader).workflows)
            continue
        nodes = []
        edges_by_source: dict[str, list[dict[str, Any]]] = {}
        for edge in gw.get("edges", []):
            edges_by_source.setdefault(str(edge.get("sourceVertexId", "")), []).append(edge)
        for vertex in gw.get("vertices", []):
            v = _ours(vertex) or {}
            props = _properties(vertex)
            size = v.get("size") or [None, None]
            layout = None
            if isinstance(props.get("x"), int | float) and isinstance(props.get("y"), int | float):
                layout = Layout(x=props["x"], y=props["y"], width=size[0], height=size[1])
            decisions = []
            for i, edge in enumerate(edges_by_source.get(str(vertex.get("id")), [])):
                d = dict(_ours(edge) or {})
                d["next"] = _vertex_node_id(gw, edge.get("targetVertexId"))
                if d.get("id") == str(i + 1):
                    d["id"] = None
                decisions.append(Decision.model_validate(d))
            shorthand = len(decisions) == 1 and decisions[0] == Decision(next=decisions[0].next)
            nodes.append(
                Node(
                    id=v.get("id", vertex.get("id")),
                    kind=v.get("kind", "step"),
                    name=v.get("name", ""),
                    description=props.get("description", ""),
                    decisions=() if shorthand else tuple(decisions),
                    next=decisions[0].next if shorthand else None,
                    workflow=v.get("workflow"),
                    layout=layout,
                )
            )
        workflows.append(
            Workflow(id=meta.get("id", gw.get("id")), name=meta.get("name", ""),
                     description=meta.get("description", ""), nodes=tuple(nodes))
        )
    return Model(
        id=info.get("id", "model"),
        name=info.get("name", ""),
        description=info.get("description", ""),
        parameters=tuple(Parameter.model_validate(p) for p in info.get("parameters", [])),
        variables=tuple(Variable.model_validate(v) for v in info.get("variables", [])),
        workflows=tuple(workflows),
    )


def _vertex_node_id(gw: dict[str, Any], vertex_id: Any) -> str:
    for vertex in gw.get("vertices", []):
        if vertex.get("id") == vertex_id:
            return str((_ours(vertex) or {}).get("id", vertex_id))
    return str(vertex_id)


# -- plain GraphWalker ---------------------------------------------------------------------------------


@dataclass
class _Draft:
    id: str
    kind: NodeKind
    name: str
    description: str
    layout: Layout | None
    shared: str | None
    decisions: list[Decision] = field(default_factory=list)
    workflow: str | None = None


@dataclass
class _PlainModel:
    gw: dict[str, Any]
    id: str
    drafts: dict[str, _Draft]  # vertex id -> draft
    entries: list[str]  # vertex ids where the model is entered
    start_edge: dict[str, Any] | None


def _read_plain(models: list[dict[str, Any]], reader: _Reader) -> Model:
    used_workflows: set[str] = set()
    plain = [_plain_model(gw, used_workflows, reader) for gw in models]
    plain.sort(key=lambda p: p.gw.get("startElementId") is None)  # the main model has a start element
    assigned: dict[str, Scalar] = {}
    initial: dict[str, Scalar] = {}
    for p in plain:
        model_actions = [a for a in p.gw.get("actions", []) if isinstance(a, str)]
        if p.start_edge is not None:  # what the start edge sets to a constant is where a variable starts
            model_actions += [a for a in p.start_edge.get("actions") or [] if isinstance(a, str)]
        else:
            model_actions += [a for e in p.gw.get("edges", []) for a in e.get("actions") or []
                              if isinstance(a, str) and str(e.get("sourceVertexId")) in p.entries
                              and e.get("id") == p.gw.get("startElementId")]
        sets, unread = js_to_assignments(model_actions)
        for name, value in _constant_assignments(sets).items():
            initial.setdefault(name, value)
        for statement in unread:
            reader.warn("graphwalker-approximated", f"model action {statement!r} cannot be read; ignored", p.id)
    for index, p in enumerate(plain):
        _plain_edges(p, reader, assigned)
        _plain_calls(p, plain[index + 1:], reader)
    workflows = [_plain_workflow(p, index == 0, reader) for index, p in enumerate(plain)]
    variables = []
    for name, value in {**assigned, **initial}.items():
        if name not in initial:
            start = _default_of(value)
            reader.warn("graphwalker-approximated", f"variable {name!r} has no initial value in the model actions; "
                        f"it starts at {format_value(start)}")
            initial[name] = start
        variables.append(Variable(name=name, initial=initial[name]))
    model = Model(
        id=_sanitise(str(models[0].get("name") or models[0].get("id") or "graphwalker")),
        name=str(models[0].get("name") or ""),
        variables=tuple(variables),
        workflows=tuple(workflows),
    )
    _warn_undeclared(model, reader)
    return model


def _plain_model(gw: dict[str, Any], used_workflows: set[str], reader: _Reader) -> _PlainModel:
    workflow_id = _unique(_sanitise(str(gw.get("name") or gw.get("id") or "model")), used_workflows)
    vertices = gw.get("vertices", [])
    names = [str(v.get("name") or "") for v in vertices]
    used: set[str] = set()
    drafts: dict[str, _Draft] = {}
    for vertex, name in zip(vertices, names, strict=True):
        raw = name if name and names.count(name) == 1 else str(vertex.get("id") or "vertex")
        node_id = _unique(_sanitise(raw), used)
        props = _properties(vertex)
        layout = None
        if isinstance(props.get("x"), int | float) and isinstance(props.get("y"), int | float):
            layout = Layout(x=props["x"], y=props["y"])
        if vertex.get("actions"):
            reader.warn("graphwalker-ignored", "vertex actions are not supported; ignored", workflow_id,
                        f"vertex {vertex.get('id')!r}")
        drafts[str(vertex.get("id"))] = _Draft(node_id, "step", name, str(props.get("description") or ""), layout,
                                               vertex.get("sharedState") or None)
    start_id = gw.get("startElementId")
    start_edge = next((e for e in gw.get("edges", []) if e.get("id") == start_id), None)
    entries: list[str] = []
    targets = {str(e.get("targetVertexId")) for e in gw.get("edges", [])}
    source = str(start_edge.get("sourceVertexId")) if start_edge is not None else ""
    if source in drafts and source not in targets and not drafts[source].shared:
        # the start edge leaves a start vertex (GraphWalker Studio's "Start"): that vertex is the start node
        entries, start_edge = [source], None
    elif start_edge is not None and str(start_edge.get("targetVertexId")) in drafts:
        entries = [str(start_edge["targetVertexId"])]
    elif start_id in drafts:
        entries = [str(start_id)]
    elif start_id is not None:
        raise reader.fail(f"startElementId {start_id!r} of model {workflow_id!r} is neither a vertex nor an edge")
    else:
        named = [vid for vid, d in drafts.items() if d.name.lower() == "start"]
        entries = named or [vid for vid, d in drafts.items() if d.shared]
    return _PlainModel(gw, workflow_id, drafts, entries, start_edge)


def _plain_edges(p: _PlainModel, reader: _Reader, assigned: dict[str, Scalar]) -> None:
    incoming_requirements: dict[str, list[str]] = {}
    for vertex in p.gw.get("vertices", []):
        for key in vertex.get("requirements") or []:
            incoming_requirements.setdefault(str(vertex.get("id")), []).append(str(key))
    for edge in p.gw.get("edges", []):
        source, target = edge.get("sourceVertexId"), str(edge.get("targetVertexId"))
        where = f"edge {edge.get('id')!r}"
        if target not in p.drafts:
            reader.warn("graphwalker-ignored", f"edge leads to unknown vertex {target!r}; ignored", p.id, where)
            continue
        if source is None:
            if edge is not p.start_edge:
                reader.warn("graphwalker-ignored", "edge without a source that is not the start; ignored", p.id, where)
            continue
        if str(source) not in p.drafts:
            reader.warn("graphwalker-ignored", f"edge from unknown vertex {source!r}; ignored", p.id, where)
            continue
        decision = _plain_decision(edge, p.drafts[target].id, incoming_requirements.get(target, []), p.id, reader)
        _note_assigned(decision.set, assigned)
        p.drafts[str(source)].decisions.append(decision)


def _plain_decision(
    edge: dict[str, Any], target: str, vertex_requirements: list[str], workflow_id: str, reader: _Reader
) -> Decision:
    where = f"edge {edge.get('id')!r}"
    props = _properties(edge)
    guard = str(edge.get("guard") or "").strip()
    when = js_to_condition(guard) if guard else ""
    objective = ""
    if when is None:
        reader.warn("graphwalker-approximated", f"guard {guard!r} cannot be read; kept as the objective, the "
                    "decision has no condition", workflow_id, where)
        when, objective = "", f"when {guard}"
    actions = [a for a in edge.get("actions") or [] if isinstance(a, str)]
    sets, unread = js_to_assignments(actions)
    action = str(props.get("description") or edge.get("name") or "")
    if unread:
        reader.warn("graphwalker-approximated", f"actions {'; '.join(unread)!r} cannot be read; kept in the action "
                    "text", workflow_id, where)
        action = (action + " [" + "; ".join(unread) + "]").strip()
    custom: dict[str, Scalar] = {}
    if isinstance(edge.get("weight"), int | float):
        custom["weight"] = edge["weight"]
    raw_id = str(edge.get("id") or "")
    requirements = tuple(dict.fromkeys([*(str(r) for r in edge.get("requirements") or []), *vertex_requirements]))
    return Decision(
        id=_row_id(raw_id),
        when=when,
        set=sets,
        action=action,
        next=target,
        objective=objective,
        requirements=requirements,
        custom=custom,
    )


def _row_id(raw: str) -> str | None:
    if not raw:
        return None
    text = re.sub(r"[^A-Za-z0-9_.-]", "_", raw)
    return (text if re.match(r"[A-Za-z0-9_]", text) else "_" + text)[:64]


def _note_assigned(sets: str, assigned: dict[str, Scalar]) -> None:
    try:
        parsed = parse_assignments(sets)
    except ExprError:
        return
    for a in parsed:
        if a.target not in assigned:
            assigned[a.target] = _value_kind(a.expr)


def _value_kind(expr: Expr) -> Scalar:
    """A value of the type an assigned expression has (for picking a default initial value)."""
    if isinstance(expr, Const):
        return expr.value
    if isinstance(expr, Not) or (isinstance(expr, BinOp) and expr.op in ("and", "or", "==", "!=", "<", "<=", ">",
                                                                          ">=", "in", "not in")):
        return False
    return 0


def _default_of(value: Scalar) -> Scalar:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return type(value)(0)
    return ""


def _constant_assignments(sets: str) -> dict[str, Scalar]:
    found: dict[str, Scalar] = {}
    for a in parse_assignments(sets) if sets else ():
        if isinstance(a.expr, Const):
            found[a.target] = a.expr.value
        elif isinstance(a.expr, Neg) and isinstance(a.expr.operand, Const) and isinstance(
            a.expr.operand.value, int | float
        ) and not isinstance(a.expr.operand.value, bool):
            found[a.target] = -a.expr.operand.value
    return found


def _plain_calls(p: _PlainModel, later: list[_PlainModel], reader: _Reader) -> None:
    """A vertex sharing a state with a later model's entry becomes a call to that model."""
    for draft in p.drafts.values():
        if not draft.shared:
            continue
        called = [m for m in later if any(m.drafts[e].shared == draft.shared for e in m.entries)]
        if called:
            draft.kind = "call"
            draft.workflow = called[0].id
            reader.warn("graphwalker-approximated", f"shared state {draft.shared!r}: read as a call to model "
                        f"{called[0].id!r}, continuing here after it", p.id, f"vertex {draft.id!r}")
        elif not any(draft.shared == d.shared for m in later for d in m.drafts.values()):
            continue
        else:
            reader.warn("graphwalker-approximated", f"shared state {draft.shared!r} links this vertex to another "
                        "model where that model is not entered; the link is ignored", p.id, f"vertex {draft.id!r}")


def _plain_workflow(p: _PlainModel, is_main: bool, reader: _Reader) -> Workflow:
    drafts = list(p.drafts.values())
    used = {d.id for d in drafts}
    nodes: list[Node] = []
    start_decisions: list[Decision] = []
    entry_drafts = [p.drafts[e] for e in p.entries]
    start_vertex = None
    targets = {d.next for draft in drafts for d in draft.decisions}
    if len(entry_drafts) == 1 and p.start_edge is None and entry_drafts[0].id not in targets and not (
        entry_drafts[0].shared
    ):
        start_vertex = entry_drafts[0]
        start_vertex.kind = "start"
    elif p.start_edge is not None:
        start_decisions = [_plain_decision(p.start_edge, entry_drafts[0].id, [], p.id, reader)]
    else:
        if not entry_drafts:
            entry_drafts = drafts[:1]
            reader.warn("graphwalker-approximated", "no start element: the model is entered at its first vertex",
                        p.id)
        start_decisions = [Decision(next=d.id) for d in entry_drafts]
    if start_vertex is None and entry_drafts:
        nodes.append(Node(id=_unique("start", used), kind="start", decisions=tuple(start_decisions)))
    for draft in drafts:
        if not draft.decisions and draft.kind == "step":
            draft.kind = "end"
    if not any(d.kind == "end" for d in drafts) and drafts:
        stop = _unique("stop", used)
        for draft in drafts:
            if draft.kind != "start":
                draft.decisions.append(Decision(id="stop", objective="Stop here", next=stop))
        reader.warn("graphwalker-approximated", f"the model has no vertex without outgoing edges: added end {stop!r} "
                    "and a 'stop' decision on every vertex (GraphWalker may stop anywhere)", p.id)
        drafts.append(_Draft(stop, "end", "stop", "", None, None))
    for draft in drafts:
        decisions = _unique_rows(draft.decisions)
        nodes.append(
            Node(id=draft.id, kind=draft.kind, name=draft.name, description=draft.description,
                 decisions=tuple(decisions) if draft.kind != "end" else (), workflow=draft.workflow,
                 layout=draft.layout)
        )
    return Workflow(id=p.id, name=str(p.gw.get("name") or ""), nodes=tuple(nodes))


def _unique_rows(decisions: list[Decision]) -> list[Decision]:
    used: set[str] = set()
    result = []
    for i, d in enumerate(decisions):
        row = d.id if d.id and d.id not in used else _unique(str(i + 1), used)
        used.add(row)
        result.append(d.model_copy(update={"id": row}))
    return result


def _warn_undeclared(model: Model, reader: _Reader) -> None:
    declared = {v.name for v in model.variables}
    found: dict[str, None] = {}
    for workflow in model.workflows:
        for _, decision in workflow.edges():
            try:
                found.update((n.name, None) for n in names(parse_condition(decision.when)) if n.name not in declared)
            except ExprError:
                continue
    if found:
        reader.warn("graphwalker-undeclared", f"guards use {', '.join(repr(n) for n in found)}, which no action "
                    "assigns: declare each as a parameter (with its values) or a variable")
