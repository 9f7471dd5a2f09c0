"""Automatic diagram layout: a deterministic layered, left-to-right drawing of a workflow.

:func:`auto_layout` places every node of a workflow; :func:`layout_of` keeps the nodes' explicit
``layout`` and places only the others. :func:`edge_waypoints` gives an orthogonal route for an edge
between two placed nodes. The HTML report, the web editor and the BPMN export all draw with these.

The algorithm (a small Sugiyama): a depth-first search from the start node, in document order, finds
the back edges (loops), which are ignored; every node goes to the layer of its longest path from a
root; nodes inside a layer are ordered by the barycentre of their neighbours (a few sweeps down and
up); each node is then placed at the average height of its predecessors, pushed down as little as
needed to keep the order and the spacing, so a straight chain stays on one line.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from flowcase.model.types import Layout, Node, NodeKind, Workflow

Point = tuple[float, float]

SIZES: dict[NodeKind, tuple[float, float]] = {
    "start": (36.0, 36.0),
    "end": (36.0, 36.0),
    "step": (100.0, 80.0),
    "choice": (50.0, 50.0),
    "call": (100.0, 80.0),
}
MARGIN = 40.0
COLUMN_GAP = 60.0
ROW_HEIGHT = 80.0
ROW_GAP = 40.0
LOOP_CLEARANCE = 30.0
SWEEPS = 4

__all__ = ["SIZES", "Point", "auto_layout", "bounds", "edge_waypoints", "layout_of", "size_of"]


def size_of(node: Node) -> tuple[float, float]:
    """The node's drawn size: its explicit layout's size if given, else the default size of its kind."""
    width, height = SIZES[node.kind]
    if node.layout is not None:
        width = node.layout.width if node.layout.width is not None else width
        height = node.layout.height if node.layout.height is not None else height
    return width, height


def auto_layout(workflow: Workflow) -> dict[str, Layout]:
    """A layout (with width and height) for every node of the workflow, ignoring explicit layouts."""
    nodes = list(workflow.nodes)
    if not nodes:
        return {}
    successors = _successors(workflow)
    forward = _forward_edges(workflow, successors)
    layers = _layers(nodes, forward)
    ordered = _order(layers, forward)
    return _place(workflow, ordered, forward)


def layout_of(workflow: Workflow) -> dict[str, Layout]:
    """Every node's layout: explicit ones kept (missing sizes filled in), the others placed automatically.

    When only some nodes have a layout, the automatically placed ones are moved below the drawn ones so
    that nothing overlaps.
    """
    explicit = {
        n.id: Layout(x=n.layout.x, y=n.layout.y, width=size_of(n)[0], height=size_of(n)[1])
        for n in workflow.nodes
        if n.layout is not None
    }
    missing = [n.id for n in workflow.nodes if n.layout is None]
    if not missing:
        return explicit
    auto = auto_layout(workflow)
    if not explicit:
        return auto
    bottom = max(_bottom(lay) for lay in explicit.values())
    top = min(auto[i].y for i in missing)
    shift = bottom + ROW_GAP - top
    result = dict(explicit)
    for node_id in missing:
        lay = auto[node_id]
        result[node_id] = lay.model_copy(update={"y": lay.y + shift})
    return {n.id: result[n.id] for n in workflow.nodes}


def edge_waypoints(source: Layout, target: Layout) -> list[Point]:
    """An orthogonal route from ``source`` to ``target`` (both with width and height).

    Forward edges leave the source's right side and enter the target's left side, bending once in the
    middle of the gap; edges going back (loops) leave the source's bottom, run below both nodes and
    enter the target from below. Self loops go round the node's bottom-right corner.
    """
    sw, sh = _size(source)
    tw, th = _size(target)
    scx, scy = source.x + sw / 2, source.y + sh / 2
    tcx, tcy = target.x + tw / 2, target.y + th / 2
    if source == target:
        below = source.y + sh + LOOP_CLEARANCE
        right = source.x + sw + LOOP_CLEARANCE
        return [(source.x + sw, scy), (right, scy), (right, below), (scx, below), (scx, source.y + sh)]
    if target.x >= source.x + sw:
        start, end = (source.x + sw, scy), (target.x, tcy)
        if abs(scy - tcy) < 0.5:
            return [start, (end[0], start[1])]
        mid = (start[0] + end[0]) / 2
        return [start, (mid, scy), (mid, tcy), end]
    below = max(source.y + sh, target.y + th) + LOOP_CLEARANCE
    return [(scx, source.y + sh), (scx, below), (tcx, below), (tcx, target.y + th)]


def bounds(layouts: Iterable[Layout], points: Iterable[Point] = ()) -> tuple[float, float]:
    """Width and height of a drawing holding these layouts and points, plus the margin."""
    right, bottom = 0.0, 0.0
    for lay in layouts:
        w, h = _size(lay)
        right, bottom = max(right, lay.x + w), max(bottom, lay.y + h)
    for x, y in points:
        right, bottom = max(right, x), max(bottom, y)
    return right + MARGIN, bottom + MARGIN


# -- the algorithm -------------------------------------------------------------------------------------


def _successors(workflow: Workflow) -> dict[str, list[str]]:
    known = workflow.by_id
    result: dict[str, list[str]] = {n.id: [] for n in workflow.nodes}
    for node, decision in workflow.edges():
        if decision.next in known and decision.next not in result[node.id]:
            result[node.id].append(decision.next)
    return result


def _forward_edges(workflow: Workflow, successors: Mapping[str, list[str]]) -> dict[str, list[str]]:
    """The successor lists without back edges (found by an iterative DFS in document order)."""
    forward: dict[str, list[str]] = {n.id: [] for n in workflow.nodes}
    state: dict[str, int] = {}  # 1 = on the stack, 2 = done
    roots = [workflow.start.id] if workflow.start else []
    roots += [n.id for n in workflow.nodes]
    for root in roots:
        if root in state:
            continue
        state[root] = 1
        stack: list[tuple[str, int]] = [(root, 0)]
        while stack:
            node_id, i = stack[-1]
            succ = successors[node_id]
            if i == len(succ):
                state[node_id] = 2
                stack.pop()
                continue
            stack[-1] = (node_id, i + 1)
            target = succ[i]
            if state.get(target) == 1:
                continue  # back edge: a loop
            forward[node_id].append(target)
            if target not in state:
                state[target] = 1
                stack.append((target, 0))
    return forward


def _layers(nodes: list[Node], forward: Mapping[str, list[str]]) -> dict[str, int]:
    """Longest-path layering over the acyclic forward edges."""
    indegree = {n.id: 0 for n in nodes}
    for targets in forward.values():
        for t in targets:
            indegree[t] += 1
    layer = {n.id: 0 for n in nodes}
    ready = [n.id for n in nodes if indegree[n.id] == 0]
    while ready:
        node_id = ready.pop(0)
        for t in forward[node_id]:
            layer[t] = max(layer[t], layer[node_id] + 1)
            indegree[t] -= 1
            if indegree[t] == 0:
                ready.append(t)
    return layer


def _order(layer: Mapping[str, int], forward: Mapping[str, list[str]]) -> list[list[str]]:
    """Nodes per layer, ordered by barycentre sweeps starting from document order."""
    count = max(layer.values()) + 1
    layers: list[list[str]] = [[] for _ in range(count)]
    for node_id, index in layer.items():  # document order
        layers[index].append(node_id)
    preds: dict[str, list[str]] = {n: [] for n in layer}
    for source, targets in forward.items():
        for t in targets:
            preds[t].append(source)

    def barycentre(n: str, neighbours: Mapping[str, list[str]], fixed: dict[str, int], own: int) -> tuple[float, int]:
        near = [fixed[m] for m in neighbours[n] if m in fixed]
        return (sum(near) / len(near) if near else float(own), own)

    def sweep(rows: list[list[str]], neighbours: Mapping[str, list[str]], step: int) -> None:
        indices = range(1, count) if step < 0 else range(count - 2, -1, -1)
        for li in indices:
            fixed = {n: i for i, n in enumerate(rows[li + step])}
            keyed = [(barycentre(n, neighbours, fixed, i), n) for i, n in enumerate(rows[li])]
            rows[li] = [n for _, n in sorted(keyed)]

    for _ in range(SWEEPS):
        sweep(layers, preds, -1)  # down: order by the predecessors in the layer before
        sweep(layers, forward, 1)  # up: order by the successors in the layer after
    return layers


def _place(workflow: Workflow, layers: list[list[str]], forward: Mapping[str, list[str]]) -> dict[str, Layout]:
    by_id = workflow.by_id
    preds: dict[str, list[str]] = {n.id: [] for n in workflow.nodes}
    for source, targets in forward.items():
        for t in targets:
            preds[t].append(source)
    centre_y: dict[str, float] = {}
    result: dict[str, Layout] = {}
    x = MARGIN
    slot = ROW_HEIGHT + ROW_GAP
    for row in layers:
        width = max(size_of(by_id[n])[0] for n in row)
        previous: float | None = None
        for node_id in row:
            placed = [centre_y[p] for p in preds[node_id] if p in centre_y]
            wanted = sum(placed) / len(placed) if placed else MARGIN + ROW_HEIGHT / 2
            cy = wanted if previous is None else max(wanted, previous + slot)
            centre_y[node_id] = previous = cy
            w, h = size_of(by_id[node_id])
            result[node_id] = Layout(x=_round(x + (width - w) / 2), y=_round(cy - h / 2), width=w, height=h)
        x += width + COLUMN_GAP
    return {n.id: result[n.id] for n in workflow.nodes}


def _size(lay: Layout) -> tuple[float, float]:
    return (lay.width if lay.width is not None else 100.0, lay.height if lay.height is not None else 80.0)


def _bottom(lay: Layout) -> float:
    return lay.y + _size(lay)[1]


def _round(value: float) -> float:
    return float(round(value))
