"""flowcase's layout (``flowcase.model.layout``) and Eclipse ELK's layered algorithm (elkjs, from npm) side by side.

Every workflow of every example (and of the two Camunda files of the browser tests) is laid out twice from
scratch: by ours (``auto_layout``, ``routes``, ``labels``: what Tidy up, the HTML report and the BPMN export
draw) and by elkjs (``elk.algorithm=layered``, direction right, orthogonal edge routing, same node sizes, same
spacing, the same arrow and node label sizes, one edge per decision row as in the BPMN export). The same
Python code then measures both drawings:

- edge-node crossings: a segment of an arrow through a node other than its two ends (1 px inside the box);
- edge-edge crossings: a horizontal and a vertical segment of two different arrows crossing strictly inside both;
- bends: corners of all arrows;
- area: the bounding box of nodes, arrows and labels (in 1000 px²);
- label overlaps: pairs of labels (arrow labels and the names of events and gateways) that overlap, plus labels
  over a node (other than a node's own name).

elkjs (``elkjs@0.9.3``, Eclipse Public License 2.0) is installed by this script with npm into ``.cache/elkjs``
(gitignored), as the tests install axe-core; it runs in a node process. Nothing of it ships with flowcase.

    .venv/bin/python benchmarks/layout_elk.py

Prints a Markdown table and the machine (docs/performance.md has the figures of a run).
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

from npm_install import npm_install

from flowcase.model.io import load_path
from flowcase.model.layout import (
    COLUMN_GAP,
    ROW_GAP,
    SIZES,
    Point,
    auto_layout,
    edge_label,
    label_box,
    labels,
    routes,
    text_size,
)
from flowcase.model.types import Layout, Workflow

ROOT = Path(__file__).resolve().parents[1]
ELK_PACKAGE = "elkjs@0.9.3"
ELK_DIR = ROOT / ".cache" / "elkjs"
ELK_JS = ELK_DIR / "node_modules" / "elkjs" / "lib" / "elk.bundled.js"
FILES = [
    *sorted((ROOT / "examples").glob("*.yaml")),
    ROOT / "tests" / "data" / "bpmn" / "camunda-order-approval.bpmn",
    ROOT / "tests" / "data" / "bpmn" / "camunda-collaboration-claim.bpmn",
]

RUNNER = r"""
const ELK = require(process.argv[1]);
const elk = new ELK();
let input = '';
process.stdin.on('data', (d) => { input += d; });
process.stdin.on('end', async () => {
  const graphs = JSON.parse(input);
  const out = [];
  for (const g of graphs) {
    const start = process.hrtime.bigint();
    const laid = await elk.layout(g);
    out.push({ graph: laid, ms: Number(process.hrtime.bigint() - start) / 1e6 });
  }
  process.stdout.write(JSON.stringify(out));
});
"""

ELK_OPTIONS = {
    "elk.algorithm": "layered",
    "elk.direction": "RIGHT",
    "elk.edgeRouting": "ORTHOGONAL",
    "elk.layered.spacing.nodeNodeBetweenLayers": str(COLUMN_GAP),
    "elk.spacing.nodeNode": str(ROW_GAP),
    "elk.spacing.edgeLabel": "2",
    "elk.edgeLabels.inline": "false",
    "elk.nodeLabels.placement": "OUTSIDE V_BOTTOM H_CENTER",
    "elk.layered.considerModelOrder.strategy": "NODES_AND_EDGES",
}


class ElkMissing(RuntimeError):
    """npm or node is missing, or the install failed."""


def elk_script() -> Path:
    """The elkjs bundle, installed with npm into the cache on first use."""
    problem = npm_install([ELK_PACKAGE], ELK_DIR, ELK_JS)
    if problem is not None:
        raise ElkMissing(problem)
    return ELK_JS


@dataclass
class Drawing:
    """A workflow drawn: node boxes, arrow routes and label boxes (arrow labels and node names), by key."""

    nodes: dict[str, Layout]
    arrows: dict[tuple[str, str], list[Point]]
    ends: dict[tuple[str, str], tuple[str, str]]  # arrow -> (source node, target node)
    labels: dict[str, Layout]  # "node:<id>" (a node's own name) or "edge:<node>#<row>"
    ms: float = 0.0


def _ends(workflow: Workflow) -> dict[tuple[str, str], tuple[str, str]]:
    return {(n.id, d.id or ""): (n.id, d.next) for n, d in workflow.edges() if d.next in workflow.by_id}


def ours(workflow: Workflow) -> Drawing:
    start = time.perf_counter()
    nodes = auto_layout(workflow)
    arrows = routes(workflow, nodes)
    placed = labels(workflow, nodes, arrows)
    ms = (time.perf_counter() - start) * 1000
    boxes = {f"edge:{n}#{r}": lay for (n, r), lay in placed.items()}
    for node in workflow.nodes:
        box = label_box(node, nodes[node.id])
        if box is not None:
            boxes[f"node:{node.id}"] = box
    return Drawing(nodes, arrows, _ends(workflow), boxes, ms)


def elk_graph(workflow: Workflow) -> dict[str, Any]:
    children = []
    for node in workflow.nodes:
        w, h = SIZES[node.kind]
        child: dict[str, Any] = {"id": node.id, "width": w, "height": h}
        if node.kind in ("start", "end", "choice") and node.name:
            height = max(14.0, text_size(node.name)[1])
            child["labels"] = [{"id": f"node:{node.id}", "text": node.name, "width": 90.0, "height": height}]
        children.append(child)
    edges = []
    for (source, row), (_, target) in _ends(workflow).items():
        decision = next(d for d in workflow.by_id[source].table if (d.id or "") == row)
        edge: dict[str, Any] = {"id": f"{source}#{row}", "sources": [source], "targets": [target]}
        text = edge_label(decision)
        if text:
            w, h = text_size(text)
            edge["labels"] = [{"id": f"edge:{source}#{row}", "text": text, "width": w, "height": h}]
        edges.append(edge)
    return {"id": workflow.id, "layoutOptions": ELK_OPTIONS, "children": children, "edges": edges}


def elk(workflows: list[Workflow]) -> list[Drawing]:
    """Every workflow laid out by elkjs in one node process."""
    node = shutil.which("node")
    if node is None:
        raise ElkMissing("node is needed to run elkjs")
    script = elk_script()
    done = subprocess.run(
        [node, "-e", RUNNER, str(script)],
        input=json.dumps([elk_graph(w) for w in workflows]),
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    drawings = []
    for workflow, result in zip(workflows, json.loads(done.stdout), strict=True):
        graph = result["graph"]
        nodes = {c["id"]: Layout(x=c["x"], y=c["y"], width=c["width"], height=c["height"]) for c in graph["children"]}
        boxes: dict[str, Layout] = {}
        for c in graph["children"]:
            for label in c.get("labels", []):  # relative to the node
                boxes[label["id"]] = Layout(
                    x=c["x"] + label["x"], y=c["y"] + label["y"], width=label["width"], height=label["height"]
                )
        arrows: dict[tuple[str, str], list[Point]] = {}
        for e in graph.get("edges", []):
            source, row = e["id"].split("#", 1)
            points: list[Point] = []
            for section in e.get("sections", []):
                points += [
                    (p["x"], p["y"])
                    for p in [section["startPoint"], *section.get("bendPoints", []), section["endPoint"]]
                ]
            arrows[(source, row)] = points
            for label in e.get("labels", []):  # edge coordinates are relative to the graph here
                boxes[label["id"]] = Layout(x=label["x"], y=label["y"], width=label["width"], height=label["height"])
        drawings.append(Drawing(nodes, arrows, _ends(workflow), boxes, result["ms"]))
    return drawings


# -- measuring --------------------------------------------------------------------------------------------------


def _box(lay: Layout, inset: float = 0.0) -> tuple[float, float, float, float]:
    w, h = lay.width or 0.0, lay.height or 0.0
    return (lay.x + inset, lay.y + inset, lay.x + w - inset, lay.y + h - inset)


def _hit(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _through(p: Point, q: Point, box: tuple[float, float, float, float]) -> bool:
    return (
        min(p[0], q[0]) < box[2] and max(p[0], q[0]) > box[0] and min(p[1], q[1]) < box[3] and max(p[1], q[1]) > box[1]
    )


def measure(d: Drawing) -> dict[str, float]:
    node_boxes = {n: _box(lay, 1.0) for n, lay in d.nodes.items()}
    edge_node = 0
    for key, points in d.arrows.items():
        ends = d.ends[key]
        for n, box in node_boxes.items():
            if n not in ends and any(_through(p, q, box) for p, q in pairwise(points)):
                edge_node += 1
    segments = [(key, p, q) for key, points in d.arrows.items() for p, q in pairwise(points)]
    edge_edge = 0
    for i, (k1, p1, q1) in enumerate(segments):
        for k2, p2, q2 in segments[i + 1 :]:
            if k1 == k2 or d.ends[k1] == d.ends[k2]:
                continue
            h, v = ((p1, q1), (p2, q2)) if p1[1] == q1[1] else ((p2, q2), (p1, q1))
            if h[0][1] != h[1][1] or v[0][0] != v[1][0]:
                continue  # both horizontal or both vertical: no crossing
            x, y = v[0][0], h[0][1]
            if min(h[0][0], h[1][0]) < x < max(h[0][0], h[1][0]) and min(v[0][1], v[1][1]) < y < max(v[0][1], v[1][1]):
                edge_edge += 1
    bends = sum(max(0, len(points) - 2) for points in d.arrows.values())
    boxes = list(d.labels.items())
    overlaps = sum(1 for i, (_, a) in enumerate(boxes) for _, b in boxes[i + 1 :] if _hit(_box(a, 0.5), _box(b, 0.5)))
    over_nodes = 0
    for key, lay in boxes:
        own = key.removeprefix("node:") if key.startswith("node:") else None
        over_nodes += sum(1 for n, box in node_boxes.items() if n != own and _hit(_box(lay, 0.5), box))
    xs = [v for lay in [*d.nodes.values(), *d.labels.values()] for v in (_box(lay)[0], _box(lay)[2])]
    ys = [v for lay in [*d.nodes.values(), *d.labels.values()] for v in (_box(lay)[1], _box(lay)[3])]
    xs += [p[0] for pts in d.arrows.values() for p in pts]
    ys += [p[1] for pts in d.arrows.values() for p in pts]
    area = (max(xs) - min(xs)) * (max(ys) - min(ys)) / 1000 if xs else 0.0
    return {
        "edge-node": edge_node,
        "edge-edge": edge_edge,
        "bends": bends,
        "area": area,
        "label overlaps": overlaps + over_nodes,
        "ms": d.ms,
    }


def workflows() -> list[tuple[str, Workflow]]:
    return [(f"{path.name} {w.id}", w) for path in FILES for w in load_path(path).model.workflows]


def compare() -> list[tuple[str, dict[str, float], dict[str, float]]]:
    named = workflows()
    theirs = elk([w for _, w in named])
    return [(name, measure(ours(w)), measure(t)) for (name, w), t in zip(named, theirs, strict=True)]


def machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    node = subprocess.run(["node", "--version"], capture_output=True, text=True, check=False).stdout.strip()
    return (
        f"{platform.platform()}, {cpu}, {os.cpu_count()} CPUs, Python {platform.python_version()}, node {node}, "
        f"{ELK_PACKAGE}"
    )


FIGURES = ("edge-node", "edge-edge", "bends", "area", "label overlaps", "ms")


def main() -> None:
    rows = compare()
    print(f"Machine: {machine()}\n")
    head = " | ".join(f"{f} ours / ELK" for f in FIGURES)
    print(f"| workflow | {head} |")
    print("|---|" + "---|" * len(FIGURES))
    totals = {f: [0.0, 0.0] for f in FIGURES}
    for name, a, b in rows:
        cells = []
        for f in FIGURES:
            totals[f][0] += a[f]
            totals[f][1] += b[f]
            cells.append(f"{a[f]:.0f} / {b[f]:.0f}" if f not in ("ms",) else f"{a[f]:.1f} / {b[f]:.1f}")
        print(f"| {name} | " + " | ".join(cells) + " |")
    cells = [f"{t[0]:.0f} / {t[1]:.0f}" if f != "ms" else f"{t[0]:.1f} / {t[1]:.1f}" for f, t in totals.items()]
    print("| **total** | " + " | ".join(f"**{c}**" for c in cells) + " |")


if __name__ == "__main__":
    sys.exit(main())
