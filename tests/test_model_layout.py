"""Automatic layout: layered, left to right, deterministic, no overlaps, explicit layouts kept."""

from __future__ import annotations

import itertools

from flowcase.model.layout import SIZES, auto_layout, bounds, edge_waypoints, layout_of
from flowcase.model.types import Decision, Layout, Node, Workflow


def _login() -> Workflow:
    return Workflow(
        id="login",
        nodes=(
            Node(id="start", kind="start", next="enter"),
            Node(
                id="enter",
                kind="step",
                decisions=(
                    Decision(when="ok", next="check"),
                    Decision(when="not ok", next="fail"),
                ),
            ),
            Node(
                id="check",
                kind="choice",
                decisions=(Decision(when="a", next="home"), Decision(when="not a", next="enter")),
            ),
            Node(id="fail", kind="step", next="locked"),
            Node(id="home", kind="end"),
            Node(id="locked", kind="end"),
        ),
    )


def _overlap(a: Layout, b: Layout) -> bool:
    assert a.width and a.height and b.width and b.height
    return a.x < b.x + b.width and b.x < a.x + a.width and a.y < b.y + b.height and b.y < a.y + a.height


def test_every_node_is_placed_with_the_size_of_its_kind() -> None:
    wf = _login()
    lay = auto_layout(wf)
    assert list(lay) == [n.id for n in wf.nodes]
    for node in wf.nodes:
        assert (lay[node.id].width, lay[node.id].height) == SIZES[node.kind]


def test_layers_go_left_to_right_along_forward_edges_and_ignore_the_loop() -> None:
    lay = auto_layout(_login())
    centre = {k: v.x + (v.width or 0) / 2 for k, v in lay.items()}
    assert centre["start"] < centre["enter"] < centre["check"] < centre["home"]
    assert centre["enter"] < centre["fail"] < centre["locked"]
    # the loop check -> enter does not push enter to the right of check
    assert centre["check"] > centre["enter"]
    # longest path: both ends are three edges from the start
    assert centre["home"] == centre["locked"]


def test_no_two_nodes_overlap_and_the_chain_is_straight() -> None:
    lay = auto_layout(_login())
    for a, b in itertools.combinations(lay.values(), 2):
        assert not _overlap(a, b)
    mid = {k: v.y + (v.height or 0) / 2 for k, v in lay.items()}
    assert mid["start"] == mid["enter"] == mid["check"]


def test_layout_is_deterministic() -> None:
    assert auto_layout(_login()) == auto_layout(_login())


def test_layout_of_keeps_explicit_layouts_and_places_the_rest_below() -> None:
    wf = _login()
    nodes = tuple(n.model_copy(update={"layout": Layout(x=500, y=20)}) if n.id == "enter" else n for n in wf.nodes)
    lay = layout_of(wf.model_copy(update={"nodes": nodes}))
    assert lay["enter"] == Layout(x=500, y=20, width=100, height=80)
    for node_id, node_lay in lay.items():
        if node_id != "enter":
            assert node_lay.y >= 20 + 80
            assert not _overlap(node_lay, lay["enter"])


def test_layout_of_without_any_explicit_layout_is_auto_layout() -> None:
    assert layout_of(_login()) == auto_layout(_login())


def test_forward_edge_waypoints_are_orthogonal_and_touch_both_sides() -> None:
    a = Layout(x=0, y=0, width=100, height=80)
    b = Layout(x=200, y=100, width=50, height=50)
    points = edge_waypoints(a, b)
    assert points[0] == (100, 40) and points[-1] == (200, 125)
    for (x1, y1), (x2, y2) in itertools.pairwise(points):
        assert x1 == x2 or y1 == y2
    assert edge_waypoints(a, Layout(x=200, y=22, width=36, height=36)) == [(100, 40), (200, 40)]


def test_back_edges_run_below_both_nodes() -> None:
    a = Layout(x=300, y=0, width=50, height=50)
    b = Layout(x=0, y=0, width=100, height=80)
    points = edge_waypoints(a, b)
    assert points[0] == (325, 50) and points[-1] == (50, 80)
    assert all(y >= 50 for _, y in points)
    for (x1, y1), (x2, y2) in itertools.pairwise(points):
        assert x1 == x2 or y1 == y2
    loop = edge_waypoints(b, b)
    assert loop[0][0] == 100 and loop[-1][1] == 80


def test_bounds_cover_every_node_and_point() -> None:
    lay = auto_layout(_login())
    width, height = bounds(lay.values(), [(2000.0, 10.0)])
    assert width > 2000 and height > max(v.y + (v.height or 0) for v in lay.values())


def test_empty_and_disconnected_workflows() -> None:
    assert auto_layout(Workflow(id="w")) == {}
    wf = Workflow(id="w", nodes=(Node(id="a", kind="end"), Node(id="b", kind="end")))
    lay = auto_layout(wf)
    assert not _overlap(lay["a"], lay["b"])


def test_routes_cross_no_other_node_or_label_in_any_example() -> None:
    from itertools import pairwise
    from pathlib import Path

    from flowcase.model.io import load_path
    from flowcase.model.layout import _box, _crosses, label_box, layout_of, routes

    root = Path(__file__).resolve().parent.parent
    files = [*sorted((root / "examples").glob("*.yaml")), *sorted((root / "tests" / "data" / "bpmn").glob("camunda-*"))]
    for path in files:
        for workflow in load_path(path).model.workflows:
            layouts = layout_of(workflow)
            for (node_id, row_id), points in routes(workflow, layouts).items():
                row = next(d for d in workflow.by_id[node_id].table if (d.id or "") == row_id)
                boxes = [_box(layouts[n.id]) for n in workflow.nodes if n.id not in (node_id, row.next)]
                boxes += [_box(lb) for n in workflow.nodes if (lb := label_box(n, layouts[n.id])) is not None]
                assert not _crosses(points, boxes), (path.name, node_id, row_id, points)
                assert all(a[0] == b[0] or a[1] == b[1] for a, b in pairwise(points))


def test_arrow_labels_cover_no_node_no_node_label_and_no_other_label_in_any_example() -> None:
    from pathlib import Path

    from flowcase.model.io import load_path
    from flowcase.model.layout import _box, _overlaps, edge_label, label_box, labels, layout_of, routes

    root = Path(__file__).resolve().parent.parent
    files = [*sorted((root / "examples").glob("*.yaml")), *sorted((root / "tests" / "data" / "bpmn").glob("camunda-*"))]
    stacked = 0
    for path in files:
        for workflow in load_path(path).model.workflows:
            layouts = layout_of(workflow)
            placed = labels(workflow, layouts, routes(workflow, layouts))
            texts = {(n.id, d.id or ""): edge_label(d) for n, d in workflow.edges()}
            assert set(placed) == {k for k, t in texts.items() if t}, path.name
            nodes = [_box(lay) for lay in layouts.values()]
            nodes += [_box(lb) for n in workflow.nodes if (lb := label_box(n, layouts[n.id])) is not None]
            boxes = [(k, _box(b)) for k, b in placed.items()]
            for i, (key, box) in enumerate(boxes):
                assert not any(_overlaps(box, n) for n in nodes), (path.name, key)
                assert not any(_overlaps(box, other) for _, other in boxes[i + 1 :]), (path.name, key)
            shared: dict[tuple[str, str], int] = {}
            for node, row in workflow.edges():
                if texts[(node.id, row.id or "")]:
                    shared[(node.id, row.next)] = shared.get((node.id, row.next), 0) + 1
            stacked += sum(1 for count in shared.values() if count > 1)
    assert stacked > 0  # some examples have several labelled rows on one arrow
