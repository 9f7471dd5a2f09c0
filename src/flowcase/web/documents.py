"""The editor's document and the flowcase model: conversions both ways, done on the server.

The editor sends what bpmn-js holds (BPMN XML: nodes, flows, names, layout) plus what the page edits beside
the diagram (decision tables per node, parameters, variables). The server reads the XML with
``flowcase.model.bpmn``, lays the tables over it and validates the result into a :class:`Model`. Going the
other way, a model becomes BPMN XML for bpmn-js plus its plain data (tables, parameters) for the page.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from flowcase.model import io
from flowcase.model.diagnostics import Diagnostic, ModelError
from flowcase.model.types import Model

MAX_TEXT = 4 * 1024 * 1024


class EditorDoc(BaseModel):
    """A model as the editor sends it: either ``model`` (flowcase data) or ``bpmn`` (+ tables and data)."""

    model_config = ConfigDict(extra="forbid")

    model: dict[str, Any] | None = Field(default=None, description="A flowcase model document (JSON data).")
    bpmn: str | None = Field(default=None, max_length=MAX_TEXT, description="BPMN 2.0 XML from the modeler.")
    tables: dict[str, list[dict[str, Any]]] = Field(
        default_factory=dict, description="Decision rows per node id ('node' or 'workflow/node')."
    )
    parameters: list[dict[str, Any]] | None = None
    variables: list[dict[str, Any]] | None = None
    id: str | None = None
    name: str | None = None
    pins: list[dict[str, Any]] | None = Field(
        default=None, max_length=1000, description="Pinned tests (as the suite has them), kept by regeneration."
    )


def to_model(doc: EditorDoc) -> tuple[Model, tuple[Diagnostic, ...]]:
    """The model the editor describes, with the warnings of the conversion; raises :class:`ModelError`."""
    warnings: tuple[Diagnostic, ...] = ()
    if doc.model is not None:
        data = dict(doc.model)
    elif doc.bpmn is not None:
        loaded = io.loads(doc.bpmn, "bpmn", source="diagram")
        warnings = loaded.warnings
        data = loaded.model.to_data()
    else:
        raise ModelError([Diagnostic("error", "empty", "send either 'model' or 'bpmn'")])
    if doc.tables:
        data["workflows"] = [_with_tables(w, doc.tables) for w in data.get("workflows", [])]
    if doc.parameters is not None:
        data["parameters"] = doc.parameters
    if doc.variables is not None:
        data["variables"] = doc.variables
    if doc.id:
        data["id"] = doc.id
    if doc.name is not None:
        data["name"] = doc.name
    if doc.pins is not None:
        data["pins"] = doc.pins
    return io.from_data(data, source="editor"), warnings


def _with_tables(workflow: Any, tables: dict[str, list[dict[str, Any]]]) -> Any:
    if not isinstance(workflow, dict):
        return workflow
    nodes = []
    for node in workflow.get("nodes", []):
        if isinstance(node, dict) and node.get("kind") != "end":
            rows = tables.get(f"{workflow.get('id')}/{node.get('id')}", tables.get(str(node.get("id"))))
            if rows is not None:
                drawn = node.get("decisions")
                node = {k: v for k, v in node.items() if k not in ("decisions", "next")}
                node["decisions"] = _drawn_as([_clean_row(r) for r in rows], drawn if isinstance(drawn, list) else [])
        nodes.append(node)
    return {**workflow, "nodes": nodes}


def _drawn_as(rows: list[dict[str, Any]], drawn: list[Any]) -> list[dict[str, Any]]:
    """The rows, each with the layout of its flow as the diagram has it now (route and label), not the layout the
    row carried when the page opened: a label the user dragged stays where it was dropped. A row's flow is the
    drawn decision with the row's id, else the first one left that goes to the same next step."""
    layouts = [d for d in drawn if isinstance(d, dict)]
    left = list(range(len(layouts)))
    result = []
    for row in rows:
        row = {k: v for k, v in row.items() if k != "bpmn"}
        match = next((i for i in left if row.get("id") and layouts[i].get("id") == row.get("id")), None)
        if match is None:
            match = next((i for i in left if layouts[i].get("next") == row.get("next")), None)
        if match is not None:
            left.remove(match)
            if layouts[match].get("bpmn") is not None:
                row["bpmn"] = layouts[match]["bpmn"]
        result.append(row)
    return result


def _clean_row(row: dict[str, Any]) -> dict[str, Any]:
    """Drop empty optional cells the grid sends, so defaults apply."""
    return {k: v for k, v in row.items() if v not in ("", None, [], {}) or k == "next"}


def for_editor(model: Model) -> dict[str, Any]:
    """What the editor loads: the model's data, its BPMN XML and its effective tables per node."""
    tables = {
        # without each row's drawing: the diagram's XML carries routes and labels, and is what a save reads them from
        f"{w.id}/{n.id}": [d.model_dump(mode="json", exclude_defaults=True, exclude={"bpmn"}) for d in n.table]
        for w in model.workflows
        for n in w.nodes
        if n.kind != "end"
    }
    return {"model": model.to_data(), "bpmn": io.dumps(model, "bpmn"), "tables": tables}
