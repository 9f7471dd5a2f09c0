"""Execution results in the story panel (issue 20): tests published to Xray and run there (a Test Execution
with a failed and a passed test) show in the panel as counts and a status per test with the execution it comes
from; the panel's link opens the editor on the heat map of the same results."""

from __future__ import annotations

from typing import Any

import pytest
from axe import axe_source, blocking, report
from webtools import screenshot, sign_in

from builders import FAST, all_decisions, checkout_model, jira_client, vendor_env
from flowcase.export.results import Results, heat
from flowcase.jira.settings_store import PublishSettings, save_settings
from flowcase.jira.storage import save_model
from flowcase.model.types import Model
from flowcase.sandbox.testing import RunningSandbox, run_sync
from flowcase.targets import PublishCall, publish_to_target

pytestmark = pytest.mark.browser
STORY = "DEMO-2"


async def _publish(sb: RunningSandbox, model: Model) -> dict[str, str]:
    suite = all_decisions(model)
    async with jira_client(sb) as c:
        await save_settings(c, PublishSettings(target="xray"), project_key="DEMO")
        await save_model(c, STORY, model, None)
        result = await publish_to_target(
            PublishCall(
                c, model, suite, STORY, "DEMO", PublishSettings(target="xray"), settle_seconds=0, lease_timing=FAST
            ),
            sb.vendor_access(),
        )
    return {t.id: result.keys[t.id] for t in suite.tests}


def test_panel_shows_the_latest_xray_executions_and_opens_the_heat_map(
    page: Any, app_url: str, sandbox: RunningSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox.setup_xray("DEMO")
    vendor_env(monkeypatch, sandbox, zephyr=False)
    model = checkout_model("panel-results", 3, name="Basket", pick="Pick a product", pay_from=1, end="Done")
    keys = run_sync(_publish(sandbox, model))
    (first, a), (second, b), (third, _c) = list(keys.items())
    sandbox.xray_execution({a: "PASSED", b: "PASSED"}, summary="Sprint 1")
    execution = sandbox.xray_execution({b: "FAILED"}, summary="Sprint 2")  # the latest run of b wins

    sign_in(page, app_url, f"/app/issue/{STORY}")
    page.wait_for_selector("#results:not([hidden]) #r-table:not([hidden])")
    assert page.inner_text("#r-counts") == "1 passed · 1 failed · 1 not run"
    assert page.inner_text("#r-source") == "from Xray"
    rows = {
        r[0]: r[1:]
        for r in page.eval_on_selector_all(
            "#r-rows tr", "rows => rows.map(r => [r.dataset.test, r.dataset.status, r.cells[2].textContent])"
        )
    }
    assert rows[first][0] == "passed" and rows[second][0] == "failed" and rows[third] == ["not-run", "—"]
    assert rows[second][1].startswith(f"{b} in {execution} · FAILED · ")
    assert page.inner_text(f"#r-rows tr[data-test='{second}'] td:first-child").startswith(f"{second} · ")
    page.evaluate("document.querySelectorAll('.fc-flag').forEach(f => f.remove())")
    screenshot(page, "panel-results")
    found = blocking(page, axe_source())  # the results section: no serious or critical accessibility violation
    assert not found, report(found)

    page.click("#r-heatmap")
    page.wait_for_url(f"**/app/editor/{STORY}#results")
    page.wait_for_function("document.getElementById('results-summary').textContent.includes('latest executions in')")
    assert page.inner_text("#results-summary") == "1 passed · 1 failed · 1 not run · latest executions in Xray"
    statuses = dict(
        page.eval_on_selector_all(".fc-test-row", "rows => rows.map(r => [r.dataset.test, r.dataset.status])")
    )
    assert statuses == {first: "passed", second: "failed", third: "not-run"}
    title = page.get_attribute(f".fc-test-row[data-test='{second}'] .fc-status", "title") or ""
    assert title.startswith(f"{b} in {execution} · FAILED")
    # the diagram's nodes carry the heat the library computes for these statuses (the failing test's own step
    # "fail", the steps both run tests pass "mixed")
    results = Results(tests=statuses)
    expected = {
        ref.split("/", 1)[1]: f"fc-heat-{h.level}"
        for ref, h in heat(model, all_decisions(model), results).items()
        if "#" not in ref
    }
    marked = dict(
        page.eval_on_selector_all(
            ".djs-element.djs-shape",
            "els => els.filter(e => [...e.classList].some(c => c.startsWith('fc-heat-')))"
            ".map(e => [e.dataset.elementId, [...e.classList].find(c => c.startsWith('fc-heat-'))])",
        )
    )
    assert marked == expected and "fc-heat-fail" in marked.values() and "fc-heat-mixed" in marked.values()
    assert page.is_visible("#heat-legend")
    assert not [e for e in page.js_errors if "favicon" not in e]
