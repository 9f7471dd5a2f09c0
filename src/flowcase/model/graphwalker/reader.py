"""GraphWalker JSON import: our own files (lossless) and plain GraphWalker 4 models (GraphWalker's semantics,
with warnings where meaning is approximated)."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from flowcase.gcpause import paused_gc
from flowcase.model.diagnostics import Diagnostic, ModelError
from flowcase.model.expr import (
    BinOp,
    Const,
    Expr,
    ExprError,
    Neg,
    Not,
    format_value,
    names,
    parse_assignments,
    parse_condition,
)
from flowcase.model.graphwalker.common import js_to_assignments, js_to_condition, unique
from flowcase.model.source import Loaded, invalid_data, parse_json
from flowcase.model.types import Decision, Layout, Model, Node, NodeKind, Parameter, Scalar, Variable, Workflow

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
    with paused_gc():
        return _loads(text, source)


def _loads(text: str, source: str | None) -> Loaded:
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
        raise reader.fail(invalid_data(exc)) from None
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
        node_ids = {
            vertex.get("id"): str((_ours(vertex) or {}).get("id", vertex.get("id")))
            for vertex in gw.get("vertices", [])
        }
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
                target = edge.get("targetVertexId")
                d["next"] = node_ids.get(target, str(target))
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
            Workflow(
                id=meta.get("id", gw.get("id")),
                name=meta.get("name", ""),
                description=meta.get("description", ""),
                stop_anywhere=bool(meta.get("stop_anywhere", False)),
                nodes=tuple(nodes),
            )
        )
    return Model(
        id=info.get("id", "model"),
        name=info.get("name", ""),
        description=info.get("description", ""),
        parameters=tuple(Parameter.model_validate(p) for p in info.get("parameters", [])),
        variables=tuple(Variable.model_validate(v) for v in info.get("variables", [])),
        workflows=tuple(workflows),
        pins=tuple(info.get("pins", [])),
    )


# -- plain GraphWalker ---------------------------------------------------------------------------------
#
# GraphWalker's semantics: all models of a file make one machine. A vertex with a shared state is the same
# state as every other vertex (in any model) with that shared state: the walk may continue from any of them.
# Such a group becomes one node. The walk starts at the start element (an edge or a vertex; several models may
# name the same one) and may stop at any vertex: the workflow has ``stop_anywhere``. Everything is linear in
# the size of the file.


@dataclass
class _Draft:
    id: str
    kind: NodeKind
    name: str
    description: str
    layout: Layout | None
    members: int = 1
    requirements: list[str] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)
    has_incoming: bool = False

    def node(self) -> Node:
        rows = tuple(_unique_rows(self.decisions)) if self.kind != "end" else ()
        return Node(
            id=self.id, kind=self.kind, name=self.name, description=self.description, decisions=rows, layout=self.layout
        )


def _read_plain(models: list[dict[str, Any]], reader: _Reader) -> Model:
    model_ids: list[str] = []
    used_models: set[str] = set()
    for gw in models:
        model_ids.append(unique(_sanitise(str(gw.get("name") or gw.get("id") or "model")), used_models))
    vertices = [(mi, v) for mi, gw in enumerate(models) for v in gw.get("vertices", [])]
    names = Counter(str(v.get("name") or "") for _, v in vertices)
    qualified = Counter((mi, str(v.get("name") or "")) for mi, v in vertices)
    shared_names: dict[str, list[str]] = {}
    for _, v in vertices:
        if v.get("sharedState"):
            shared_names.setdefault(str(v["sharedState"]), []).append(str(v.get("name") or ""))
    used: set[str] = set()
    drafts: list[_Draft] = []
    by_vertex: dict[tuple[int, str], _Draft] = {}
    by_shared: dict[str, _Draft] = {}
    for mi, vertex in vertices:
        vid = str(vertex.get("id"))
        name = str(vertex.get("name") or "")
        shared = str(vertex.get("sharedState") or "")
        props = _properties(vertex)
        if vertex.get("actions"):
            reader.warn(
                "graphwalker-ignored",
                "vertex actions are not supported; ignored",
                model_ids[mi],
                f"vertex {vertex.get('id')!r}",
            )
        draft = by_shared.get(shared) if shared else None
        if draft is None:
            if shared:
                members = shared_names[shared]
                raw = members[0] if len(set(members)) == 1 and names[members[0]] == len(members) else shared
                label = members[0] if len(set(members)) == 1 else shared
            else:
                if name and names[name] == 1:
                    raw = name
                elif name and qualified[(mi, name)] == 1:
                    raw = f"{model_ids[mi]}.{name}"
                else:
                    raw = vid or "vertex"
                label = name
            layout = None
            if isinstance(props.get("x"), int | float) and isinstance(props.get("y"), int | float):
                layout = Layout(x=props["x"], y=props["y"])
            draft = _Draft(unique(_sanitise(raw), used), "step", label, str(props.get("description") or ""), layout)
            drafts.append(draft)
            if shared:
                by_shared[shared] = draft
        else:
            draft.members += 1
        draft.requirements += [str(r) for r in vertex.get("requirements") or [] if str(r) not in draft.requirements]
        by_vertex[(mi, vid)] = draft
    edges_by_id: dict[str, tuple[int, dict[str, Any]]] = {}
    for mi, gw in enumerate(models):
        for edge in gw.get("edges", []):
            edges_by_id.setdefault(str(edge.get("id")), (mi, edge))
    vertex_model: dict[str, int] = {}
    for mi, v in vertices:
        vertex_model.setdefault(str(v.get("id")), mi)
    # where the walk starts
    start_edges: list[tuple[int, dict[str, Any]]] = []
    start_vertices: list[_Draft] = []
    start_ids: list[str] = []
    for mi, gw in enumerate(models):
        sid = gw.get("startElementId")
        if sid is None or str(sid) in start_ids:
            continue
        sid = str(sid)
        start_ids.append(sid)
        own = next((e for e in gw.get("edges", []) if str(e.get("id")) == sid), None)
        if own is not None:
            start_edges.append((mi, own))
        elif (mi, sid) in by_vertex:
            start_vertices.append(by_vertex[(mi, sid)])
        elif sid in edges_by_id:
            start_edges.append(edges_by_id[sid])
        elif sid in vertex_model:
            start_vertices.append(by_vertex[(vertex_model[sid], sid)])
        else:
            raise reader.fail(
                f"startElementId {sid!r} of model {model_ids[mi]!r} is neither a vertex nor an edge of this file"
            )
    start_edge_ids = {id(e) for _, e in start_edges}
    # variables: model actions, and constants the start edges set, are where they start
    assigned: dict[str, Scalar] = {}
    initial: dict[str, Scalar] = {}
    for mi, gw in enumerate(models):
        model_actions = [a for a in gw.get("actions", []) if isinstance(a, str)]
        model_actions += [a for m, e in start_edges if m == mi for a in e.get("actions") or [] if isinstance(a, str)]
        sets, unread = js_to_assignments(model_actions)
        for name, value in _constant_assignments(sets).items():
            initial.setdefault(name, value)
        for statement in unread:
            reader.warn(
                "graphwalker-approximated", f"model action {statement!r} cannot be read; ignored", model_ids[mi]
            )
    workflow_id = next(
        (model_ids[mi] for mi, gw in enumerate(models) if gw.get("startElementId") is not None), model_ids[0]
    )
    # edges
    for mi, gw in enumerate(models):
        for edge in gw.get("edges", []):
            source, target = edge.get("sourceVertexId"), str(edge.get("targetVertexId"))
            where = f"edge {edge.get('id')!r}"
            if id(edge) in start_edge_ids and source is None:
                continue
            if (mi, target) not in by_vertex:
                reader.warn(
                    "graphwalker-ignored", f"edge leads to unknown vertex {target!r}; ignored", model_ids[mi], where
                )
                continue
            if source is None:
                reader.warn(
                    "graphwalker-ignored",
                    "edge without a source that is not a start element; ignored",
                    model_ids[mi],
                    where,
                )
                continue
            if (mi, str(source)) not in by_vertex:
                reader.warn(
                    "graphwalker-ignored", f"edge from unknown vertex {source!r}; ignored", model_ids[mi], where
                )
                continue
            goal = by_vertex[(mi, target)]
            decision = _plain_decision(edge, goal.id, goal.requirements, model_ids[mi], reader)
            _note_assigned(decision.set, assigned)
            goal.has_incoming = True
            by_vertex[(mi, str(source))].decisions.append(decision)
    entries: list[tuple[int, dict[str, Any], _Draft]] = []
    for mi, edge in list(start_edges):
        source = by_vertex.get((mi, str(edge.get("sourceVertexId"))))
        if source is not None and not source.has_incoming and source.members == 1 and len(start_ids) == 1:
            start_vertices.append(source)  # GraphWalker Studio's "Start" vertex with the start edge leaving it
            start_edges.remove((mi, edge))
            continue
        target = str(edge.get("targetVertexId"))
        if (mi, target) not in by_vertex:
            raise reader.fail(
                f"start edge {edge.get('id')!r} of model {model_ids[mi]!r} leads to unknown vertex {target!r}"
            )
        entries.append((mi, edge, by_vertex[(mi, target)]))
    nodes = _plain_nodes(drafts, entries, start_vertices, model_ids, reader, used)
    variables = []
    for name, value in {**assigned, **initial}.items():
        if name not in initial:
            start = _default_of(value)
            reader.warn(
                "graphwalker-approximated",
                f"variable {name!r} has no initial value in the model actions; it starts at {format_value(start)}",
            )
            initial[name] = start
        variables.append(Variable(name=name, initial=initial[name]))
    names_of_models = [str(gw.get("name") or "") for gw in models]
    model = Model(
        id=_sanitise(str(models[0].get("name") or models[0].get("id") or "graphwalker")),
        name=str(models[0].get("name") or ""),
        variables=tuple(variables),
        workflows=(
            Workflow(
                id=workflow_id,
                name=" + ".join(n for n in names_of_models if n) if len(models) > 1 else names_of_models[0],
                stop_anywhere=True,
                nodes=tuple(nodes),
            ),
        ),
    )
    _warn_undeclared(model, reader)
    return model


def _plain_nodes(
    drafts: list[_Draft],
    start_edges: list[tuple[int, dict[str, Any], _Draft]],
    start_vertices: list[_Draft],
    model_ids: list[str],
    reader: _Reader,
    used: set[str],
) -> list[Node]:
    nodes: list[Node] = []
    start_decisions: list[Decision] = []
    if (
        not start_edges
        and len(start_vertices) == 1
        and not start_vertices[0].has_incoming
        and (start_vertices[0].members == 1)
    ):
        start_vertices[0].kind = "start"  # GraphWalker Studio's "Start" vertex: the start node itself
    else:
        for mi, edge, goal in start_edges:
            start_decisions.append(_plain_decision(edge, goal.id, goal.requirements, model_ids[mi], reader))
        start_decisions += [Decision(next=d.id) for d in start_vertices]
        if not start_decisions:
            named = [d for d in drafts if d.name.lower() in ("start", "v_start")]
            entry = named[:1] or drafts[:1]
            if entry:
                reader.warn(
                    "graphwalker-approximated",
                    f"no start element: the walk starts at vertex {entry[0].name or entry[0].id!r}",
                )
            start_decisions = [Decision(next=d.id) for d in entry]
        nodes.append(Node(id=unique("start", used), kind="start", decisions=tuple(_unique_rows(start_decisions))))
    for draft in drafts:
        if not draft.decisions and draft.kind == "step":
            draft.kind = "end"
        nodes.append(draft.node())
    return nodes


def _plain_decision(
    edge: dict[str, Any], target: str, vertex_requirements: list[str], workflow_id: str, reader: _Reader
) -> Decision:
    where = f"edge {edge.get('id')!r}"
    props = _properties(edge)
    guard = str(edge.get("guard") or "").strip()
    when = js_to_condition(guard) if guard else ""
    objective = ""
    if when is None:
        reader.warn(
            "graphwalker-approximated",
            f"guard {guard!r} cannot be read; kept as the objective, the decision has no condition",
            workflow_id,
            where,
        )
        when, objective = "", f"when {guard}"
    actions = [a for a in edge.get("actions") or [] if isinstance(a, str)]
    sets, unread = js_to_assignments(actions)
    action = str(props.get("description") or edge.get("name") or "")
    if unread:
        reader.warn(
            "graphwalker-approximated",
            f"actions {'; '.join(unread)!r} cannot be read; kept in the action text",
            workflow_id,
            where,
        )
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
    if isinstance(expr, Not) or (
        isinstance(expr, BinOp) and expr.op in ("and", "or", "==", "!=", "<", "<=", ">", ">=", "in", "not in")
    ):
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
        elif (
            isinstance(a.expr, Neg)
            and isinstance(a.expr.operand, Const)
            and isinstance(a.expr.operand.value, int | float)
            and not isinstance(a.expr.operand.value, bool)
        ):
            found[a.target] = -a.expr.operand.value
    return found


def _unique_rows(decisions: list[Decision]) -> list[Decision]:
    used: set[str] = set()
    result = []
    for i, d in enumerate(decisions):
        row = d.id if d.id and d.id not in used else unique(str(i + 1), used)
        used.add(row)
        result.append(d if row == d.id else d.model_copy(update={"id": row}))
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
        reader.warn(
            "graphwalker-undeclared",
            f"guards use {', '.join(repr(n) for n in found)}, which no action "
            "assigns: declare each as a parameter (with its values) or a variable",
        )
