"""Tidy up in pools and lanes (flowcase.model.tidy): on files drawn in Camunda Modeler and on the MIWG reference
files with lanes, every node ends up inside the lane that lists it, lanes do not overlap and fill their pool,
pools do not overlap, no arrow of the BPMN export crosses a node, and the result exports and reads back."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import pytest

from flowcase.model.io import dumps, load_path, loads
from flowcase.model.layout import _box, _crosses, label_box, layout_of, routes
from flowcase.model.tidy import CannotTidy, tidy
from flowcase.model.types import Layout

ROOT = Path(__file__).resolve().parents[1]
FILES = [
    ROOT / "tests" / "data" / "bpmn" / "camunda-collaboration-claim.bpmn",
    *(ROOT / "tests" / "data" / "bpmn-miwg" / "reference" / f"{n}.bpmn" for n in ("A.4.0", "B.1.0", "C.1.0", "C.5.0")),
]


def _inside(inner: Layout, outer: Layout) -> bool:
    return (
        outer.x <= inner.x
        and outer.y <= inner.y
        and inner.x + (inner.width or 0) <= outer.x + (outer.width or 0)
        and inner.y + (inner.height or 0) <= outer.y + (outer.height or 0)
    )


def _overlap(a: Layout, b: Layout) -> bool:
    return (
        a.x < b.x + (b.width or 0)
        and b.x < a.x + (a.width or 0)
        and a.y < b.y + (b.height or 0)
        and b.y < a.y + (a.height or 0)
    )


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_tidy_lays_out_inside_pools_and_lanes(path: Path) -> None:
    before = load_path(path).model
    model = tidy(before)
    diagram = model.bpmn
    assert diagram is not None and diagram.lanes
    lanes = {ln.id: ln for ln in diagram.lanes}
    parents = {ln.parent for ln in diagram.lanes if ln.parent}
    leaves = [ln for ln in diagram.lanes if ln.id not in parents]
    pools = [p for c in diagram.collaborations for p in c.participants]
    moved = 0
    for workflow in model.workflows:
        old = {n.id: n.layout for n in before.workflow(workflow.id).nodes}
        for lane in (ln for ln in leaves if ln.workflow == workflow.id):
            assert lane.layout is not None
            for node_id in lane.nodes:
                lay = workflow.by_id[node_id].layout
                assert lay is not None and _inside(lay, lane.layout), (lane.id, node_id)
                moved += lay != old[node_id]
        pool = next((p for p in pools if p.workflow == workflow.id), None)
        for lane in (ln for ln in diagram.lanes if ln.workflow == workflow.id):
            assert lane.layout is not None
            if pool is not None and pool.layout is not None:
                assert _inside(lane.layout, pool.layout), lane.id
            if lane.parent in lanes:
                parent = lanes[lane.parent].layout
                assert parent is not None and _inside(lane.layout, parent)
        band = [ln.layout for ln in leaves if ln.workflow == workflow.id and ln.layout]
        assert not any(_overlap(a, b) for i, a in enumerate(band) for b in band[i + 1 :])
        layouts = layout_of(workflow)
        boxes = {n.id: _box(layouts[n.id]) for n in workflow.nodes}
        boxes |= {f"{n.id}:label": _box(lb) for n in workflow.nodes if (lb := label_box(n, layouts[n.id]))}
        for (node_id, row_id), points in routes(workflow, layouts).items():
            row = next(d for d in workflow.by_id[node_id].table if (d.id or "") == row_id)
            others = [b for k, b in boxes.items() if k not in (node_id, row.next)]
            assert not _crosses(points, others), (workflow.id, node_id, row_id)
            assert all(a[0] == b[0] or a[1] == b[1] for a, b in pairwise(points))
    assert moved > 0
    drawn = [p.layout for p in pools if p.layout]
    assert not any(_overlap(a, b) for i, a in enumerate(drawn) for b in drawn[i + 1 :])
    back = loads(dumps(model, "bpmn"), "bpmn", "x.bpmn").model  # exports and reads back with the same lanes
    assert back.bpmn is not None and [ln.nodes for ln in back.bpmn.lanes] == [ln.nodes for ln in diagram.lanes]


def test_tidy_keeps_vertical_pools_as_drawn() -> None:
    model = load_path(ROOT / "tests" / "data" / "bpmn-miwg" / "reference" / "A.4.1.bpmn").model
    with pytest.raises(CannotTidy, match="vertical"):
        tidy(model)


def test_the_editor_tidies_lanes_and_says_why_it_keeps_vertical_pools() -> None:
    import json

    from flowcase.web.documents import for_editor
    from flowcase.web.errors import ApiError
    from flowcase.web.work import editor_request

    def request(path: Path) -> bytes:
        data = for_editor(load_path(path).model)
        doc = {"bpmn": data["bpmn"], "tables": data["tables"], "name": "x"}
        return editor_request(json.dumps({"doc": doc, "tidy": True}).encode(), 1000)

    answer = json.loads(request(FILES[0]))
    assert "Lane_Experts" in answer["bpmn"] and answer["model"]["bpmn"]["lanes"]
    with pytest.raises(ApiError) as refused:
        request(ROOT / "tests" / "data" / "bpmn-miwg" / "reference" / "A.4.1.bpmn")
    assert refused.value.status == 422 and "vertical" in str(refused.value)
