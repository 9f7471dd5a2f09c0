"""Execution results in the editor (issue 20): importing JUnit results marks each test passed, failed or not run
and tints the diagram by what its tests did (a heat map of the behaviour that fails)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from webtools import screenshot, sign_in

pytestmark = pytest.mark.browser

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_results_heat_map_in_the_editor(page: Any, app_url: str, tmp_path: Path) -> None:
    sign_in(page, app_url, "/app/editor")
    page.wait_for_selector("#main[aria-busy='false']")
    page.set_input_files("#import-file", str(EXAMPLES / "login.yaml"))
    page.wait_for_selector(".djs-element[data-element-id=remember]")
    page.click("#generate")
    page.wait_for_selector(".fc-test-row")
    rows = page.eval_on_selector_all(".fc-test-row", "rows => rows.map(r => [r.dataset.test, r.cells[2].textContent])")
    ids = [test_id for test_id, _ in rows]
    assert len(ids) >= 3
    # a failing test and a passing one that end differently: some behaviour only the failing one exercises
    failing, failing_end = rows[0]
    passing = next(test_id for test_id, end in rows if end != failing_end)
    junit = tmp_path / "junit.xml"
    junit.write_text(
        '<?xml version="1.0"?><testsuite name="login">'
        f'<testcase classname="login" name="test_{failing.lower().replace("-", "_")}_x">'
        '<failure message="locked too early"/></testcase>'
        f'<testcase classname="login" name="{passing} passes"/>'
        '<testcase classname="login" name="unrelated"/></testsuite>',
        encoding="utf-8",
    )
    page.set_input_files("#results-file", str(junit))
    page.wait_for_function("document.getElementById('results-summary').textContent.includes('failed')")
    summary = page.inner_text("#results-summary")
    assert summary.startswith(f"1 passed, 1 failed, {len(ids) - 2} not run") and "1 result(s) match no test" in summary
    statuses = dict(
        page.eval_on_selector_all(".fc-test-row", "rows => rows.map(r => [r.dataset.test, r.dataset.status])")
    )
    assert statuses[failing] == "failed" and statuses[passing] == "passed"
    assert {statuses[i] for i in ids if i not in (failing, passing)} == {"not-run"}
    assert page.get_attribute(f".fc-test-row[data-test='{failing}'] .fc-status", "title") == "locked too early"

    # The diagram: every node on the failing test's path carries a heat marker; the start node, which both run
    # tests pass, is "mixed"; at least one node only the failing test reaches is "fail"; fills are the heat colours.
    marked = dict(
        page.eval_on_selector_all(
            ".djs-element.djs-shape",
            "els => els.filter(e => [...e.classList].some(c => c.startsWith('fc-heat-')))"
            ".map(e => [e.dataset.elementId, [...e.classList].find(c => c.startsWith('fc-heat-'))])",
        )
    )
    assert marked, "no heat marker on the diagram"
    assert "fc-heat-fail" in marked.values() and "fc-heat-mixed" in marked.values()
    fail_node = next(k for k, v in marked.items() if v == "fc-heat-fail")
    fill = page.eval_on_selector(
        f".djs-element[data-element-id='{fail_node}'] .djs-visual > :first-child", "e => getComputedStyle(e).fill"
    )
    assert fill == "rgb(253, 152, 145)"
    assert page.locator(".fc-heat-badge").count() == len(marked)
    assert page.is_visible("#heat-legend")
    page.evaluate("document.querySelectorAll('.fc-flag').forEach(f => f.remove())")
    screenshot(page, "editor-results-heat")

    page.click("#clear-results")
    assert page.locator(".djs-element[class*='fc-heat-']").count() == 0
    assert page.locator(".fc-test-row .fc-status").count() == 0
