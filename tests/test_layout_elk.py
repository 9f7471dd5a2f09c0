"""Our layout against Eclipse ELK's layered algorithm (elkjs from npm, run by node; installed by the test setup
into ``.cache/elkjs`` like axe-core, never shipped): both lay out every example and the two Camunda files of the
browser tests, and the same code measures both (``benchmarks/layout_elk.py``; figures in docs/performance.md).
Skipped without npm and node unless ``FLOWCASE_REQUIRE_ELK=1``."""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _bench() -> ModuleType:
    import npmcache  # noqa: F401 - puts benchmarks/ on the import path (layout_elk imports npm_install)

    spec = importlib.util.spec_from_file_location("layout_elk", ROOT / "benchmarks" / "layout_elk.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["layout_elk"] = module
    spec.loader.exec_module(module)
    return module


def test_ours_draws_as_cleanly_as_elk_layered_and_smaller() -> None:
    bench = _bench()
    if shutil.which("node") is None or (not bench.ELK_JS.exists() and shutil.which("npm") is None):
        if os.environ.get("FLOWCASE_REQUIRE_ELK") == "1":
            pytest.fail("node and npm are needed to run elkjs")
        pytest.skip("node or npm is not installed: elkjs cannot run")
    try:
        rows = bench.compare()
    except bench.ElkMissing as exc:
        if os.environ.get("FLOWCASE_REQUIRE_ELK") == "1":
            pytest.fail(str(exc))
        pytest.skip(str(exc))
    assert len(rows) >= 10
    for name, ours, elk in rows:
        assert elk["area"] > 0, name  # ELK laid it out
        assert ours["edge-node"] == 0 and ours["label overlaps"] == 0, (name, ours)
    total = {f: (sum(r[1][f] for r in rows), sum(r[2][f] for r in rows)) for f in ("bends", "area", "edge-edge")}
    assert total["bends"][0] <= total["bends"][1], total
    assert total["area"][0] <= total["area"][1], total
    # ELK's crossing minimisation and edge ordering are better (docs/performance.md): ours may not get worse
    assert total["edge-edge"][0] <= 34, total
