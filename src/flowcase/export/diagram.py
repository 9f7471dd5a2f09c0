"""The workflow diagram as inline SVG, every node and arrow tagged with the tests whose path uses it.

Boxes come from :func:`flowcase.model.layout.layout_of`, arrows from ``routes`` (around every other node).
Each node is a ``<g class="node" data-ref="workflow/node">`` and each arrow a
``<path class="edge" data-ref="workflow/node#row">``;
both carry ``data-tests``: the space-separated keys of the tests passing there, which the report's CSS uses
to highlight the selected test's path.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from dataclasses import dataclass, field
from html import escape

from flowcase.export.common import workflow_id
from flowcase.generate.suite import TestCase
from flowcase.model.layout import LABEL_LINE_HEIGHT, bounds, labels, layout_of, routes, text_lines
from flowcase.model.types import Layout, Model, Node, Workflow

CHAR_WIDTH = 6.4
LINE_HEIGHT = 14.0

#: Arrowheads for every diagram of a page, defined once (ids must be unique in a document).
MARKERS = (
    '<svg class="defs" width="0" height="0" aria-hidden="true"><defs>'
    '<marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
    'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" class="arrowhead"/></marker>'
    '<marker id="arrow-hl" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="5" markerHeight="5" '
    'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" class="arrowhead-hl"/></marker>'
    "</defs></svg>"
)


@dataclass
class Path:
    """The nodes (``wf/node``) and arrows (``wf/node#row``) one test passes, by workflow id."""

    nodes: set[str] = field(default_factory=set)
    edges: set[str] = field(default_factory=set)


def path_of(model: Model, test: TestCase) -> Path:
    path = Path()
    for step in test.steps:
        wf = workflow_id(step.workflow)
        path.nodes.add(f"{wf}/{step.node}")
        path.edges.add(f"{wf}/{step.node}#{step.decision}")
        workflow = model.workflows_by_id.get(wf)
        node = workflow.by_id.get(step.node) if workflow else None
        row = next((d for d in node.table if d.id == step.decision), None) if node else None
        if row is not None:
            path.nodes.add(f"{wf}/{row.next}")
    if test.end:
        path.nodes.add(f"{model.main.id}/{test.end}")
    return path


def _label(text: str, width: float, lines: int = 4) -> list[str]:
    wrapped = textwrap.wrap(text, max(4, int(width / CHAR_WIDTH))) or [""]
    if len(wrapped) > lines:
        wrapped = [*wrapped[: lines - 1], wrapped[lines - 1][:-1] + "\u2026"]
    return wrapped


def _text(lines: list[str], cx: float, top: float, cls: str) -> str:
    spans = "".join(
        f'<tspan x="{cx:.1f}" y="{top + (i + 1) * LINE_HEIGHT - 3:.1f}">{escape(line)}</tspan>'
        for i, line in enumerate(lines)
    )
    return f'<text class="{cls}" text-anchor="middle">{spans}</text>'


def _shape(node: Node, lay: Layout) -> str:
    w, h = lay.width or 0.0, lay.height or 0.0
    x, y = lay.x, lay.y
    if node.kind in ("start", "end"):
        inner = (
            f'<circle class="inner" cx="{x + w / 2:.1f}" cy="{y + h / 2:.1f}" r="{w / 2 - 4:.1f}"/>'
            if node.kind == "end"
            else ""
        )
        return f'<circle class="shape" cx="{x + w / 2:.1f}" cy="{y + h / 2:.1f}" r="{w / 2:.1f}"/>{inner}'
    if node.kind == "choice":
        pts = f"{x + w / 2:.1f},{y:.1f} {x + w:.1f},{y + h / 2:.1f} {x + w / 2:.1f},{y + h:.1f} {x:.1f},{y + h / 2:.1f}"
        return f'<polygon class="shape" points="{pts}"/>'
    extra = (
        f'<rect class="inner" x="{x + 4:.1f}" y="{y + 4:.1f}" width="{w - 8:.1f}" height="{h - 8:.1f}" rx="6"/>'
        if node.kind == "call"
        else ""
    )
    return f'<rect class="shape" x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" rx="10"/>{extra}'


def _node_label(node: Node, lay: Layout) -> str:
    w, h = lay.width or 0.0, lay.height or 0.0
    if node.kind in ("step", "call") and w >= 60:  # a smaller step is an event drawn on its host: named below
        lines = _label(node.label, w - 10)
        top = lay.y + (h - len(lines) * LINE_HEIGHT) / 2
        return _text(lines, lay.x + w / 2, top, "label")
    lines = _label(node.label, max(w + 40, 90.0), 2)
    return _text(lines, lay.x + w / 2, lay.y + h + 2, "label outside")


def _tests_attr(ref: str, members: Mapping[str, set[str]]) -> str:
    keys = sorted(members.get(ref, ()))
    return f' data-tests="{" ".join(keys)}"' if keys else ""


def svg(workflow: Workflow, node_tests: Mapping[str, set[str]], edge_tests: Mapping[str, set[str]]) -> str:
    """The workflow drawn as one ``<svg>`` element (no XML declaration; meant to be inlined in HTML)."""
    layouts = layout_of(workflow)
    arrows = routes(workflow, layouts)
    # where a node has several rows, each arrow is labelled with its row id (the tests list says the rest; the
    # editor shows purposes and conditions, which would not fit a compact page), placed as the editor's labels
    texts = {(node.id, row.id or ""): str(row.id) if len(node.table) > 1 else "" for node, row in workflow.edges()}
    boxes = labels(workflow, layouts, arrows, texts)
    by_id = workflow.by_id
    edges: list[str] = []
    points: list[tuple[float, float]] = []
    for node, row in workflow.edges():
        if row.next not in layouts or node.id not in layouts:
            continue
        route = arrows[(node.id, row.id or "")]
        points += route
        ref = f"{workflow.id}/{node.id}#{row.id}"
        d = "M" + " L".join(f"{px:.1f},{py:.1f}" for px, py in route)
        when = f": {row.when}" if row.when else ""
        title = escape(f"{node.label} \u2192 {by_id[row.next].label} ({row.id}){when}")
        label = ""
        box = boxes.get((node.id, row.id or ""))
        if box is not None:  # placed by the layout module: beside its arrow, clear of nodes and other labels
            text = texts[(node.id, row.id or "")]
            spans = "".join(
                f'<tspan x="{box.x:.1f}" y="{box.y + (i + 1) * LABEL_LINE_HEIGHT - 3:.1f}">{escape(line)}</tspan>'
                for i, line in enumerate(text_lines(text))
            )
            label = f'<text class="edge-label">{spans}</text>'
            points += [(box.x + (box.width or 0.0), box.y + (box.height or 0.0))]
        edges.append(
            f'<g class="edge-group"><path class="edge" data-ref="{escape(ref)}"'
            f'{_tests_attr(ref, edge_tests)} d="{d}"><title>{title}</title></path>{label}</g>'
        )
    nodes: list[str] = []
    for node in workflow.nodes:
        lay = layouts[node.id]
        ref = f"{workflow.id}/{node.id}"
        nodes.append(
            f'<g class="node kind-{node.kind}" data-ref="{escape(ref)}"{_tests_attr(ref, node_tests)}>'
            f"<title>{escape(node.label)}</title>{_shape(node, lay)}{_node_label(node, lay)}</g>"
        )
    width, height = bounds(layouts.values(), points)
    height += LINE_HEIGHT * 2  # room for the labels under start and end circles
    return (
        f'<svg class="diagram" role="img" aria-label="{escape(workflow.label)}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" width="{width:.0f}" height="{height:.0f}">'
        + "".join(edges)
        + "".join(nodes)
        + "</svg>"
    )
