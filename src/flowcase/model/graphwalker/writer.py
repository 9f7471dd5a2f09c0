"""GraphWalker JSON export: one GraphWalker model per workflow, flowcase's own fields in ``properties.flowcase``."""

from __future__ import annotations

import json
import re
from typing import Any

from flowcase.model.expr import (
    Const,
    ExprError,
)
from flowcase.model.graphwalker.common import DECISION_FIELDS, GENERATOR, assignments_to_js, condition_to_js, js, unique
from flowcase.model.layout import layout_of
from flowcase.model.types import Model, Node, Workflow

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
        edge_id = unique(f"{node.id}.{decision.id}", used)
        ours = {"id": decision.id}
        for name in DECISION_FIELDS:
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
    initial = [f"{v.name} = {js(Const(v.initial))};" for v in model.variables]
    result["actions"] = initial if workflow is model.main else []
    ours_model: dict[str, Any] = {
        "workflow": {"id": workflow.id, "name": workflow.name, "description": workflow.description}
    }
    if workflow.stop_anywhere:
        ours_model["workflow"]["stop_anywhere"] = True
    if workflow is model.main:
        ours_model["model"] = {
            "id": model.id,
            "name": model.name,
            "description": model.description,
            "parameters": [p.model_dump(mode="json", exclude_defaults=True) for p in model.parameters],
            "variables": [v.model_dump(mode="json", exclude_defaults=True) for v in model.variables],
        }
        if model.pins:  # the tests a user pinned are saved with the model: an export keeps them
            ours_model["model"]["pins"] = list(model.pins)
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
