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
from itertools import pairwise

from flowcase.model.types import Decision, Layout, Model, Node, NodeKind, Workflow

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

__all__ = [
    "SIZES",
    "Point",
    "auto_layout",
    "bounds",
    "edge_label",
    "edge_waypoints",
    "label_box",
    "labels",
    "layout_of",
    "place_labels",
    "routes",
    "size_of",
    "text_lines",
    "text_size",
    "without_layout",
]


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


def without_layout(model: Model) -> Model:
    """The model with every explicit layout dropped, so that it is drawn by :func:`auto_layout` ("Tidy up")."""
    data = model.to_data()
    for workflow in data.get("workflows", []):
        for node in workflow.get("nodes", []):
            node.pop("layout", None)
    return Model.model_validate(data)


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


def edge_waypoints(source: Layout, target: Layout, others: Iterable[Layout] = ()) -> list[Point]:
    """An orthogonal route from ``source`` to ``target`` (both with width and height) that crosses none of
    ``others`` (the other nodes of the drawing; pass them all, ``source`` and ``target`` are skipped).

    Forward edges leave the source's right side and enter the target's left side, bending once in the
    middle of the gap; edges going back (loops) leave the source's bottom, run below both nodes and
    enter the target from below. Self loops go round the node's bottom-right corner. When such a route
    would run through another node, the simplest route around the nodes is taken instead (fewest bends,
    then shortest), found on the orthogonal visibility grid of the nodes' sides.
    """
    obstacles = [_box(o, OBSTACLE_MARGIN) for o in others if o != source and o != target]
    simple = _simple_route(source, target)
    if not obstacles or not _crosses(simple, obstacles):
        return simple
    found = _grid_route(source, target, obstacles)
    return found if found is not None else simple


def _simple_route(source: Layout, target: Layout) -> list[Point]:
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


Box = tuple[float, float, float, float]  # left, top, right, bottom
OBSTACLE_MARGIN = 6.0
GRID_CLEARANCE = 20.0
BEND_COST = 40.0
MAX_GRID_OBSTACLES = 400


def _box(lay: Layout, margin: float = 0.0) -> Box:
    w, h = _size(lay)
    return (lay.x - margin, lay.y - margin, lay.x + w + margin, lay.y + h + margin)


def _segment_crosses(a: Point, b: Point, box: Box) -> bool:
    (x1, y1), (x2, y2) = a, b
    left, top, right, bottom = box
    lo_x, hi_x = min(x1, x2), max(x1, x2)
    lo_y, hi_y = min(y1, y2), max(y1, y2)
    return lo_x < right and hi_x > left and lo_y < bottom and hi_y > top


def _crosses(points: list[Point], boxes: list[Box]) -> bool:
    return any(_segment_crosses(a, b, box) for a, b in pairwise(points) for box in boxes)


def _grid_route(source: Layout, target: Layout, boxes: list[Box]) -> list[Point] | None:
    """Dijkstra over the orthogonal visibility grid (the lines just outside every node's sides), with a cost
    per bend, from any side of the source to any side of the target."""
    import heapq

    if len(boxes) > MAX_GRID_OBSTACLES:
        return None
    s_box, t_box = _box(source), _box(target)
    c = GRID_CLEARANCE
    ports_out = _ports(s_box, c)
    ports_in = _ports(t_box, c)
    xs = {x for b in boxes for x in (b[0] - c / 2, b[2] + c / 2)}
    ys = {y for b in boxes for y in (b[1] - c / 2, b[3] + c / 2)}
    for (px, py), (qx, qy) in [*ports_out, *ports_in]:
        xs.update((px, qx))
        ys.update((py, qy))
    xs_sorted, ys_sorted = sorted(xs), sorted(ys)
    x_index = {x: i for i, x in enumerate(xs_sorted)}
    y_index = {y: i for i, y in enumerate(ys_sorted)}
    all_boxes = [*boxes, _box(source, OBSTACLE_MARGIN / 2), _box(target, OBSTACLE_MARGIN / 2)]
    # per grid line, the spans of the boxes it runs through: a step along a line is blocked where it meets one
    on_row = {y: [(b[0], b[2]) for b in all_boxes if b[1] < y < b[3]] for y in ys_sorted}
    on_column = {x: [(b[1], b[3]) for b in all_boxes if b[0] < x < b[2]] for x in xs_sorted}

    def free(p: Point) -> bool:
        return not any(lo < p[0] < hi for lo, hi in on_row[p[1]])

    def blocked(p: Point, q: Point) -> bool:
        if p[1] == q[1]:
            a, b = min(p[0], q[0]), max(p[0], q[0])
            return any(a < hi and b > lo for lo, hi in on_row[p[1]])
        a, b = min(p[1], q[1]), max(p[1], q[1])
        return any(a < hi and b > lo for lo, hi in on_column[p[0]])

    goals = {stub: attach for attach, stub in ports_in}
    # state: (point, direction 0=horizontal 1=vertical)
    queue: list[tuple[float, int, Point, int, tuple[Point, ...]]] = []
    counter = 0
    for attach, stub in ports_out:
        if free(stub):
            direction = 0 if attach[1] == stub[1] else 1
            heapq.heappush(
                queue, (abs(stub[0] - attach[0]) + abs(stub[1] - attach[1]), counter, stub, direction, (attach, stub))
            )
            counter += 1
    seen: set[tuple[Point, int]] = set()
    while queue:
        cost, _, point, direction, path = heapq.heappop(queue)
        if (point, direction) in seen:
            continue
        seen.add((point, direction))
        if point in goals:
            attach = goals[point]
            if not _crosses([point, attach], boxes):
                return _simplify([*path, attach])
        x, y = point
        ix, iy = x_index[x], y_index[y]
        for new_dir, line, index in ((0, xs_sorted, ix), (1, ys_sorted, iy)):
            for step in (-1, 1):
                j = index + step
                if not 0 <= j < len(line):
                    continue
                nxt = (line[j], y) if new_dir == 0 else (x, line[j])
                if blocked(point, nxt):
                    continue
                extra = abs(line[j] - line[index]) + (BEND_COST if new_dir != direction else 0.0)
                counter += 1
                heapq.heappush(queue, (cost + extra, counter, nxt, new_dir, (*path, nxt)))
    return None


def _ports(box: Box, clearance: float) -> list[tuple[Point, Point]]:
    """(attachment point on a side's middle, the point just outside it) for the four sides."""
    left, top, right, bottom = box
    cx, cy = (left + right) / 2, (top + bottom) / 2
    return [
        ((right, cy), (right + clearance, cy)),
        ((left, cy), (left - clearance, cy)),
        ((cx, bottom), (cx, bottom + clearance)),
        ((cx, top), (cx, top - clearance)),
    ]


def _simplify(points: list[Point]) -> list[Point]:
    """Drop repeated and collinear middle points."""
    out: list[Point] = []
    for p in points:
        if out and p == out[-1]:
            continue
        if len(out) >= 2 and (out[-2][0] == out[-1][0] == p[0] or out[-2][1] == out[-1][1] == p[1]):
            out[-1] = p
            continue
        out.append(p)
    return out


LABEL_WIDTH = 90.0
LABEL_HEIGHT = 14.0
LABEL_GAP = 7.0
#: bpmn-js draws external labels (events, gateways, arrows) in 11 px Arial wrapped at 90 px; these bound that text
#: from above: a character is at most this wide on average, a line this high.
LABEL_CHAR_WIDTH = 6.5
LABEL_LINE_HEIGHT = 14.0
LABEL_SPACE = 2.0  # between an arrow label and its arrow, another label or a node


def text_lines(text: str, width: float = LABEL_WIDTH) -> list[str]:
    """``text`` wrapped at word boundaries into lines of at most ``width`` (by :data:`LABEL_CHAR_WIDTH`)."""
    per_line = max(1, int(width // LABEL_CHAR_WIDTH))
    lines: list[str] = []
    for word in text.split():
        while len(word) > per_line:  # a word longer than a line is cut, as bpmn-js does
            if lines and not lines[-1]:
                lines.pop()
            lines.append(word[:per_line])
            word = word[per_line:]
        if lines and len(lines[-1]) + 1 + len(word) <= per_line:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines or [""]


def text_size(text: str) -> tuple[float, float]:
    """An upper bound of the size bpmn-js gives an external label showing ``text``."""
    lines = text_lines(text)
    width = LABEL_WIDTH if len(lines) > 1 else min(LABEL_WIDTH, len(lines[0]) * LABEL_CHAR_WIDTH + 4.0)
    return width, len(lines) * LABEL_LINE_HEIGHT


def label_box(node: Node, lay: Layout) -> Layout | None:
    """Where the external label of a named start, end or choice goes: centred below the shape (BPMN's habit),
    as high as its wrapped name."""
    if node.kind not in ("start", "end", "choice") or not node.name:
        return None
    w, h = _size(lay)
    height = max(LABEL_HEIGHT, text_size(node.name)[1])
    return Layout(x=lay.x + w / 2 - LABEL_WIDTH / 2, y=lay.y + h + LABEL_GAP, width=LABEL_WIDTH, height=height)


def edge_label(decision: Decision) -> str:
    """The text of an arrow's label: the row's test purpose, else its condition (the BPMN flow's name)."""
    return decision.objective or decision.when


Key = tuple[str, str]


def place_labels(
    arrows: Mapping[Key, list[Point]],
    texts: Mapping[Key, str],
    obstacles: Iterable[Layout],
    fixed: Mapping[Key, Layout] | None = None,
) -> dict[Key, Layout]:
    """A box for the label of every arrow in ``texts``, in their order, that covers no obstacle (nodes, node
    labels), no label placed before it, no ``fixed`` label (kept where a modeler drew it; returned as it is) and,
    where it can, no arrow.

    Candidates run along the arrow from its source: beside each segment, near its start, middle and end. Rows
    sharing one route (several decisions towards the same node) find the first candidates taken and stack beside
    them, away from the arrow. A label that fits nowhere near its arrow goes below the drawing, under its source.
    The result depends only on what comes before a label, so a drawing read back with its labels kept places the
    others where they were.
    """
    fixed = fixed or {}
    hard = [_box(o, LABEL_SPACE) for o in obstacles]
    placed = [_box(f) for f in fixed.values()]
    segments = [(a, b) for points in arrows.values() for a, b in pairwise(points)]
    lowest = max([0.0, *(b[3] for b in hard), *(p[1] for pts in arrows.values() for p in pts)])
    result: dict[Key, Layout] = {}
    for key, text in texts.items():
        points = arrows.get(key)
        if key in fixed:
            result[key] = fixed[key]
            continue
        if not text or not points or len(points) < 2:
            continue
        w, h = text_size(text)
        best: tuple[float, Box] | None = None
        for rank, (left, top, _, _) in enumerate(_candidates(points, w, h)):
            box = (_round(left), _round(top), _round(left) + w, _round(top) + h)
            if best is not None and rank >= best[0]:
                break
            if box[0] < 0 or box[1] < 0 or any(_overlaps(box, o) for o in [*hard, *placed]):
                continue
            cost = rank + 1000.0 * sum(1 for a, b in segments if _segment_crosses(a, b, box))
            if best is None or cost < best[0]:
                best = (cost, box)
        if best is None:
            x = points[0][0]
            box = (_round(x), _round(lowest + LABEL_SPACE), _round(x) + w, _round(lowest + LABEL_SPACE) + h)
            while any(_overlaps(box, o) for o in placed):
                box = (box[0], box[1] + h, box[2], box[3] + h)
            best = (0.0, box)
        box = best[1]
        placed.append(box)
        result[key] = Layout(x=box[0], y=box[1], width=w, height=h)
    return result


STACK = 6  # how many labels may stack beside one spot of an arrow
RINGS = 12  # then how many rings around the arrow's longest segment are tried, RING_STEP apart
RING_STEP = 20.0


def _candidates(points: list[Point], w: float, h: float) -> Iterable[Box]:
    """Label boxes beside the route, best first: segment by segment from the source, at a few spots along each,
    on either side, then stacked further away."""
    s = LABEL_SPACE
    for depth in range(STACK):
        for (x1, y1), (x2, y2) in pairwise(points):
            if y1 == y2:  # horizontal: above, then below
                lo, hi = min(x1, x2), max(x1, x2)
                if hi - lo < 10.0:
                    continue
                near, far = (x1 + 8.0, x2 - 12.0 - w) if x2 > x1 else (x1 - 8.0 - w, x2 + 12.0)
                starts = [near, (lo + hi - w) / 2, far]
                for left in starts:
                    yield (left, y1 - s - h - depth * (h + s), left + w, y1 - s - depth * (h + s))
                    yield (left, y1 + s + depth * (h + s), left + w, y1 + s + h + depth * (h + s))
            else:  # vertical: right, then left
                lo, hi = min(y1, y2), max(y1, y2)
                if hi - lo < h:
                    continue
                near, far = (y1 + 4.0, y2 - 8.0 - h) if y2 > y1 else (y1 - 4.0 - h, y2 + 8.0)
                tops = [near, (lo + hi - h) / 2, far]
                for top in tops:
                    off = depth * (h + s)
                    yield (x1 + s + 2.0, top + off, x1 + s + 2.0 + w, top + h + off)
                    yield (x1 - s - 2.0 - w, top + off, x1 - s - 2.0, top + h + off)
    # then ever further from the arrow's middle, in eight directions
    (ax, ay), (bx, by) = max(pairwise(points), key=lambda seg: abs(seg[1][0] - seg[0][0]) + abs(seg[1][1] - seg[0][1]))
    cx, cy = (ax + bx) / 2, (ay + by) / 2
    for ring in range(1, RINGS + 1):
        r = ring * RING_STEP
        for dx, dy in ((0, -1), (0, 1), (1, 0), (-1, 0), (1, -1), (-1, -1), (1, 1), (-1, 1)):
            left = cx - w / 2 + dx * (r + w / 2)
            top = cy - h / 2 + dy * (r + h / 2)
            yield (left, top, left + w, top + h)


def _overlaps(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _node_obstacles(workflow: Workflow, layouts: Mapping[str, Layout]) -> list[Layout]:
    """Every laid-out node's box and the box of its label, if it has one: what arrows and their labels avoid."""
    obstacles: list[Layout] = []
    for node in workflow.nodes:
        lay = layouts.get(node.id)
        if lay is None:
            continue
        obstacles.append(lay)
        label = label_box(node, lay)
        if label is not None:
            obstacles.append(label)
    return obstacles


def labels(
    workflow: Workflow,
    layouts: Mapping[str, Layout],
    arrows: Mapping[Key, list[Point]],
    texts: Mapping[Key, str] | None = None,
) -> dict[Key, Layout]:
    """Where the label of every arrow that has one goes (see :func:`place_labels`), beside the routes of
    :func:`routes`, clear of every node, node label and other arrow label. ``texts`` (by default
    :func:`edge_label` of each row) are the labels' texts."""
    obstacles = _node_obstacles(workflow, layouts)
    if texts is None:
        texts = {(node.id, row.id or ""): edge_label(row) for node, row in workflow.edges()}
    return place_labels(arrows, texts, obstacles)


def routes(workflow: Workflow, layouts: Mapping[str, Layout]) -> dict[tuple[str, str], list[Point]]:
    """The route of every arrow (keyed by node id and row id) around every other node and node label."""
    obstacles = _node_obstacles(workflow, layouts)
    result: dict[tuple[str, str], list[Point]] = {}
    for node, row in workflow.edges():
        source, target = layouts.get(node.id), layouts.get(row.next)
        if source is None or target is None:
            continue
        result[(node.id, row.id or "")] = edge_waypoints(source, target, obstacles)
    return result


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
