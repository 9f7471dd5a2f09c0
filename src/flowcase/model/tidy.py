"""Tidy up: a model drawn anew by the automatic layout, pools and lanes included.

Without pools or lanes every node is simply placed by :func:`flowcase.model.layout.auto_layout`. A workflow
drawn in a pool or in lanes (horizontal ones, as Camunda Modeler and bpmn.io draw them) keeps its structure:
the columns come from the automatic layout of the whole workflow, each node stays in the lane that lists it
(the deepest one, for nested lanes), the lanes are stacked in the order they were drawn, each as high as its
nodes need (nodes of one lane in one column are stacked in the automatic layout's order), and the pool is
resized around its lanes. Pools are stacked in the order they were drawn, all as wide as the widest; a black-box
pool keeps its height. Message flows are redrawn between their new ends; sequence flows are routed anew by the
export (:func:`flowcase.model.layout.routes`). Text annotations, groups and data objects stay where they were
drawn (they are the modeler's notes, docs/formats.md).
"""

from __future__ import annotations

from typing import Any

from flowcase.model.layout import COLUMN_GAP, ROW_GAP, ROW_HEIGHT, auto_layout, without_layout
from flowcase.model.types import BpmnLane, Layout, Model, Workflow

POOL_HEADER = 30.0  # the strip at a pool's left holding its name
LANE_HEADER = 30.0  # the same for a lane
PAD_X = 40.0  # between a lane's header and its first column, and after the last one
PAD_TOP = 30.0  # above a lane's first row
PAD_BOTTOM = 50.0  # below its last row: room for event names and loops
POOL_GAP = 40.0
SLOT = ROW_HEIGHT + ROW_GAP

__all__ = ["CannotTidy", "tidy"]


class CannotTidy(ValueError):
    """The diagram has a structure Tidy up does not lay out (vertical pools or lanes): it is kept as drawn."""


def tidy(model: Model) -> Model:
    """The model with every node placed anew, in its pool and lane if it has one (see the module)."""
    plain = without_layout(model)
    diagram = model.bpmn
    if diagram is None or not (diagram.collaborations or diagram.lanes):
        return plain
    participants = [p for c in diagram.collaborations for p in c.participants]
    if any(p.horizontal is False for p in participants) or any(ln.horizontal is False for ln in diagram.lanes):
        raise CannotTidy(
            "this diagram has vertical pools or lanes; Tidy up lays out horizontal ones only, so it is kept as drawn"
        )
    data = plain.to_data()
    for workflow in data.get("workflows", []):  # routes and labels drawn anew from the new places
        for node in workflow.get("nodes", []):
            for decision in node.get("decisions", []) or []:
                if isinstance(decision.get("bpmn"), dict):
                    decision["bpmn"] = {"id": decision["bpmn"]["id"]}
    placed: dict[str, dict[str, Layout]] = {}  # workflow -> node -> layout
    lane_layouts: dict[str, Layout] = {}
    drawn = {p.workflow for p in participants if p.workflow} | {ln.workflow for ln in diagram.lanes}
    blocks: dict[str, tuple[float, float]] = {}  # workflow -> (width, height) of its content incl. lane headers
    for workflow in plain.workflows:
        if workflow.id not in drawn:
            continue
        lanes = [ln for ln in diagram.lanes if ln.workflow == workflow.id]
        nodes, lanes_at, size = _lay_out(workflow, lanes)
        placed[workflow.id] = nodes
        lane_layouts.update(lanes_at)
        blocks[workflow.id] = size
    # pools (and lanes of a process without a pool) stacked from where the first one was drawn
    pool_layouts: dict[str, Layout] = {}
    offsets: dict[str, tuple[float, float]] = {}
    width = max([w + POOL_HEADER for w, _ in blocks.values()] + [0.0])
    y = min(
        [p.layout.y for p in participants if p.layout] + [ln.layout.y for ln in diagram.lanes if ln.layout] + [60.0]
    )
    x = min(
        [p.layout.x for p in participants if p.layout] + [ln.layout.x for ln in diagram.lanes if ln.layout] + [160.0]
    )
    pooled = {p.workflow for p in participants if p.workflow}
    for participant in sorted(participants, key=lambda p: p.layout.y if p.layout else 1e9):
        if participant.workflow in blocks:
            height = blocks[participant.workflow][1]
            offsets[participant.workflow] = (x + POOL_HEADER, y)
        else:
            height = participant.layout.height if participant.layout and participant.layout.height else 60.0
        pool_layouts[participant.id] = Layout(x=x, y=y, width=width, height=height)
        y += height + POOL_GAP
    for workflow_id, (_, height) in blocks.items():
        if workflow_id not in pooled:  # lanes without a pool
            offsets[workflow_id] = (x, y)
            y += height + POOL_GAP
    moved_nodes = {wid: {n: _shift(lay, offsets[wid]) for n, lay in nodes.items()} for wid, nodes in placed.items()}
    moved_lanes = {}
    for lane in diagram.lanes:
        lay = lane_layouts.get(lane.id)
        if lay is not None:
            full = width - POOL_HEADER if lane.workflow in pooled else width
            moved_lanes[lane.id] = _shift(lay.model_copy(update={"width": full - lay.x}), offsets[lane.workflow])
    _write(data, moved_nodes, moved_lanes, pool_layouts)
    return Model.model_validate(data)


def _lay_out(
    workflow: Workflow, lanes: list[BpmnLane]
) -> tuple[dict[str, Layout], dict[str, Layout], tuple[float, float]]:
    """Node and lane layouts relative to the workflow's block (its pool's inside), and the block's size."""
    auto = auto_layout(workflow)
    parents = {ln.parent for ln in lanes if ln.parent}
    leaves = sorted((ln for ln in lanes if ln.id not in parents), key=lambda ln: ln.layout.y if ln.layout else 1e9)
    depth = {ln.id: _depth(ln, {x.id: x for x in lanes}) for ln in lanes}
    lane_of: dict[str, str] = {}
    for lane in sorted(lanes, key=lambda ln: depth[ln.id]):  # the deepest lane listing a node wins
        for node_id in lane.nodes:
            lane_of[node_id] = lane.id
    bands = [ln.id for ln in leaves] if leaves else [""]
    leaf_ids = set(bands)
    for node in workflow.nodes:
        if lane_of.get(node.id) not in leaf_ids:
            lane_of[node.id] = _first_leaf(lane_of.get(node.id), lanes, bands) if leaves else ""
    if any(lane_of[n.id] == "" for n in workflow.nodes) and "" not in bands:
        bands.append("")  # nodes in no lane: a band of their own, below
    header = LANE_HEADER * (1 + max(depth.values(), default=-1)) if lanes else 0.0
    left = min((lay.x for lay in auto.values()), default=0.0)
    right = max((lay.x + (lay.width or 0.0) for lay in auto.values()), default=0.0)
    content_x = header + PAD_X
    nodes: dict[str, Layout] = {}
    lane_boxes: dict[str, Layout] = {}
    top = 0.0
    for band in bands:
        members = [n.id for n in workflow.nodes if lane_of[n.id] == band]
        columns: dict[float, list[str]] = {}
        for node_id in sorted(members, key=lambda n: (auto[n].y, auto[n].x)):
            columns.setdefault(auto[node_id].x + (auto[node_id].width or 0.0) / 2, []).append(node_id)
        rows = max((len(c) for c in columns.values()), default=1)
        for column in columns.values():
            for row, node_id in enumerate(column):
                lay = auto[node_id]
                cy = top + PAD_TOP + row * SLOT + ROW_HEIGHT / 2
                nodes[node_id] = Layout(
                    x=content_x + lay.x - left,
                    y=float(round(cy - (lay.height or 0.0) / 2)),
                    width=lay.width,
                    height=lay.height,
                )
        height = PAD_TOP + rows * SLOT - ROW_GAP + PAD_BOTTOM
        if band:
            lane_boxes[band] = Layout(x=LANE_HEADER * depth[band], y=top, width=0.0, height=height)
        top += height
    for lane in sorted(lanes, key=lambda ln: -depth[ln.id]):  # enclosing lanes around their children
        if lane.id in lane_boxes:
            continue
        children = [lane_boxes[c.id] for c in lanes if c.parent == lane.id and c.id in lane_boxes]
        if children:
            y0 = min(c.y for c in children)
            y1 = max(c.y + (c.height or 0.0) for c in children)
            lane_boxes[lane.id] = Layout(x=LANE_HEADER * depth[lane.id], y=y0, width=0.0, height=y1 - y0)
    width = content_x + (right - left) + PAD_X + COLUMN_GAP / 2
    return nodes, lane_boxes, (width, top)


def _depth(lane: BpmnLane, by_id: dict[str, BpmnLane]) -> int:
    depth, current = 0, lane
    while current.parent and current.parent in by_id and depth < 32:
        current = by_id[current.parent]
        depth += 1
    return depth


def _first_leaf(lane_id: str | None, lanes: list[BpmnLane], leaves: list[str]) -> str:
    """A node listed only by an enclosing lane goes to the first of its leaf lanes (in drawing order)."""
    if lane_id is None:
        return ""
    by_id = {ln.id: ln for ln in lanes}
    for leaf in leaves:
        current: BpmnLane | None = by_id.get(leaf)
        while current is not None:
            if current.id == lane_id:
                return leaf
            current = by_id.get(current.parent) if current.parent else None
    return ""


def _shift(lay: Layout, offset: tuple[float, float]) -> Layout:
    return lay.model_copy(update={"x": lay.x + offset[0], "y": lay.y + offset[1]})


def _write(
    data: dict[str, Any],
    nodes: dict[str, dict[str, Layout]],
    lanes: dict[str, Layout],
    pools: dict[str, Layout],
) -> None:
    """Put the new layouts into the model's data; message flows redrawn between their ends."""

    def dump(lay: Layout) -> dict[str, float]:
        return {k: v for k, v in lay.model_dump().items() if v is not None}

    for workflow in data.get("workflows", []):
        for node in workflow.get("nodes", []):
            lay = nodes.get(workflow["id"], {}).get(node["id"])
            if lay is not None:
                node["layout"] = dump(lay)
    bpmn = data["bpmn"]
    for lane in bpmn.get("lanes", []):
        if lane["id"] in lanes:
            lane["layout"] = dump(lanes[lane["id"]])
    boxes: dict[str, Layout] = dict(pools)
    for workflow_id, by_node in nodes.items():
        for node_id, lay in by_node.items():
            boxes[f"{workflow_id}/{node_id}"] = lay
    for collaboration in bpmn.get("collaborations", []):
        for participant in collaboration.get("participants", []):
            if participant["id"] in pools:
                participant["layout"] = dump(pools[participant["id"]])
        for flow in collaboration.get("message_flows", []):
            source, target = boxes.get(str(flow.get("source"))), boxes.get(str(flow.get("target")))
            flow.pop("label", None)
            if source is None or target is None:
                continue
            flow["waypoints"] = [list(p) for p in _message_route(source, target)]


def _message_route(source: Layout, target: Layout) -> list[tuple[float, float]]:
    """From the source's bottom (or top) to the target's top (or bottom), vertical where their spans meet."""
    sw, sh, tw, th = source.width or 0.0, source.height or 0.0, target.width or 0.0, target.height or 0.0
    down = source.y + sh <= target.y
    sy = source.y + sh if down else source.y
    ty = target.y if down else target.y + th
    lo, hi = max(source.x, target.x), min(source.x + sw, target.x + tw)
    if hi - lo >= 10:  # one vertical line, in the middle of the narrower end
        x = (lo + hi) / 2
        narrow = source if sw <= tw else target
        if narrow.x <= narrow.x + (narrow.width or 0.0) / 2 <= hi and lo <= narrow.x + (narrow.width or 0.0) / 2:
            x = narrow.x + (narrow.width or 0.0) / 2
        return [(x, sy), (x, ty)]
    sx, tx = source.x + sw / 2, target.x + tw / 2
    mid = (sy + ty) / 2
    return [(sx, sy), (sx, mid), (tx, mid), (tx, ty)]
