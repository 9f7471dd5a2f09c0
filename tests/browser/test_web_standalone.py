"""The main job in standalone mode against the sandbox Jira: open a story, import the checkout demo (BPMN), edit a
decision table cell, generate, highlight a test's path, publish after the preview, and find the published tests in
Jira. Its screenshots are the docs' (``FLOWCASE_SCREENSHOTS=docs``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from webtools import screenshot, sign_in

from flowcase.sandbox.testing import RunningSandbox

pytestmark = pytest.mark.browser

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
STORY = "DEMO-2"


def path_ids(page: Any) -> list[str]:
    return list(
        page.evaluate(
            "[...document.querySelectorAll('.djs-element.fc-path, .djs-element.fc-path-end')]"
            ".map(e => e.dataset.elementId)"
        )
    )


def test_main_job_standalone(page: Any, app_url: str, sandbox: RunningSandbox) -> None:
    sign_in(page, app_url, f"/app/editor/{STORY}")
    page.wait_for_selector("#main[aria-busy='false']")
    assert "New workflow" in page.inner_text("#save-status")

    # import a BPMN file (as exported by bpmn.io / Camunda Modeler or flowcase): the checkout demo, the richest example
    page.set_input_files("#import-file", str(EXAMPLES / "bpmn" / "checkout.bpmn"))
    page.wait_for_selector(".djs-element[data-element-id=coupon]")
    assert page.locator(".bjs-powered-by").is_visible()  # the bpmn.io watermark stays visible

    # edit a decision-table cell of the "Apply coupon" step with the keyboard
    page.click(".djs-element[data-element-id=coupon]")
    cell = page.locator("#table-host .fc-cell[data-row='0'][data-key='expected']")
    cell.fill("The total stays as it is; no discount line is shown.")
    cell.press("ArrowDown")
    expect_focus = page.evaluate("document.activeElement.dataset.row")
    assert expect_focus == "1"
    # autosave stores the model on the story (revision-checked)
    page.wait_for_function("document.getElementById('save-status').textContent.startsWith('Saved')", timeout=15000)

    # an invalid condition shows an inline message from the API
    when = page.locator("#table-host .fc-cell[data-row='1'][data-key='when']")
    before = when.input_value()
    when.fill("coupon ==")
    when.press("Tab")
    page.wait_for_selector("#table-host .fc-cell-msg")
    assert page.locator("#table-host .fc-cell[data-row='1'][data-key='when']").get_attribute("aria-invalid") == "true"
    assert page.locator("#problem-list li").count() >= 1
    page.evaluate("document.querySelectorAll('.fc-flag').forEach(f => f.remove())")
    screenshot(page, "editor-table")
    page.click("#undo")
    page.wait_for_function("!document.querySelector('#table-host .fc-cell-msg')", timeout=10000)
    assert page.locator("#table-host .fc-cell[data-row='1'][data-key='when']").input_value() == before
    page.keyboard.press("Escape")

    # generate, then click a test: its path is highlighted on the diagram
    page.click("#generate")
    page.wait_for_selector(".fc-test-row")
    count = page.locator(".fc-test-row").count()
    assert count >= 2
    assert "proven minimal" in page.inner_text("#gen-summary")
    second = page.locator(".fc-test-row").nth(1)
    second.click()
    highlighted = path_ids(page)
    assert "start" in highlighted and "cart" in highlighted and "coupon" in highlighted
    # the data column lists only what the test's path reads, one chip per parameter
    chips = page.locator(".fc-test-row").nth(1).locator(".fc-datum-name").all_inner_texts()
    assert chips and "credit_check" not in chips
    assert any(i.startswith("Flow_") for i in highlighted)  # the arrows of the path, too
    assert page.locator(".fc-coverage-badge").count() > 0
    first = page.locator(".fc-test-row").nth(0)
    first.focus()
    page.keyboard.press("Enter")
    assert first.get_attribute("aria-selected") == "true"
    assert first.get_attribute("data-test") in page.inner_text("#legend")
    assert path_ids(page)
    page.evaluate("window.flowcaseModeler.get('selection').select([])")
    page.locator(".fc-test-row").nth(2).click()
    screenshot(page, "editor-tests")

    # compare with the published suite (nothing published yet), then publish with progress
    page.click("#diff")
    page.wait_for_selector("#diff-result .fc-diff")
    assert f"Create {count}" in (page.text_content("#diff-result .fc-diff") or "")
    # publishing asks first, with what it will do in Jira
    page.click("#publish")
    page.wait_for_selector("#diff-result [role=alertdialog]")
    assert page.evaluate("document.activeElement.id") == "confirm-publish"
    page.evaluate("document.querySelectorAll('.fc-flag').forEach(f => f.remove())")
    screenshot(page, "editor-publish-preview")
    preview = page.inner_text("#diff-result [role=alertdialog]")
    assert f"Jira will create {count}, update 0, leave 0 unchanged and mark 0 obsolete" in preview
    page.click("#cancel-publish")
    assert "nothing was sent to Jira" in page.inner_text("#diff-result")
    assert page.evaluate("document.activeElement.id") == "publish"
    page.click("#publish")
    page.click("#confirm-publish")
    page.wait_for_function(
        "document.querySelector('#publish-progress .fc-progress-text').textContent.startsWith('Published')",
        timeout=30000,
    )
    assert page.locator("#publish-progress progress").get_attribute("value") == "100"
    page.evaluate("document.querySelectorAll('.fc-flag').forEach(f => f.remove())")
    screenshot(page, "editor-published")

    # the tests are issues in the sandbox Jira, linked to the story
    r = httpx.get(
        f"{sandbox.base_url}/rest/api/3/search/jql",
        params={"jql": 'project = DEMO AND labels = "flowcase"', "fields": "summary,issuelinks"},
        auth=sandbox.basic_auth(),
    )
    assert r.status_code == 200
    issues = r.json()["issues"]
    assert len(issues) == count
    assert all(
        any(
            (link.get("inwardIssue") or link.get("outwardIssue") or {}).get("key") == STORY
            for link in i["fields"]["issuelinks"]
        )
        for i in issues
    )

    # the issue panel shows the workflow, test count, coverage and last publish
    page.goto(f"{app_url}/app/issue/{STORY}")
    page.wait_for_function("document.getElementById('f-tests').textContent.trim() !== '…'")
    page.wait_for_function("document.getElementById('main').getAttribute('aria-busy') === 'false'")
    assert page.inner_text("#f-tests") == str(count)
    assert page.inner_text("#f-published") != "Never"
    screenshot(page, "issue-panel")
    # publishing again from the panel changes nothing in Jira: same tests, no duplicates
    page.click("#generate")
    page.wait_for_selector("#message:has-text('Generated')")
    assert f"Generated {count} tests" in page.inner_text("#message")
    page.click("#publish")
    page.wait_for_selector("#publish-status [role=alertdialog]")
    assert f"Unchanged {count}" in (page.text_content("#publish-status") or "")
    page.click("#confirm-publish")
    page.wait_for_function(
        "document.querySelector('#publish-progress .fc-progress-text').textContent.startsWith('Published')"
    )
    assert f"0 created, 0 updated, {count} unchanged" in page.inner_text("#publish-progress")
    page.wait_for_function("document.activeElement.classList.contains('fc-publish-result')")  # the result has focus

    # the project page lists the story's workflow through the indexed property
    page.goto(f"{app_url}/app/project/DEMO")
    page.wait_for_function("document.getElementById('main').getAttribute('aria-busy') === 'false'")
    assert STORY in page.inner_text("#workflows")
    screenshot(page, "project")

    # admin: publishing settings of the project, stored as a project property in Jira
    page.goto(f"{app_url}/app/admin")
    page.wait_for_function("document.getElementById('main').getAttribute('aria-busy') === 'false'")
    page.fill("#s-project", "DEMO")
    page.click("#scope button")
    page.wait_for_function("document.getElementById('main').getAttribute('aria-busy') === 'false'")
    page.fill("#s-labels", "regression, web")
    page.click("#save")
    page.wait_for_selector("#message:text-is('Settings saved.')")
    stored = httpx.get(
        f"{sandbox.base_url}/rest/api/3/project/DEMO/properties/flowcase-settings", auth=sandbox.basic_auth()
    )
    assert stored.json()["value"]["labels"] == ["regression", "web"]
    # standalone keeps no per-site vendor credentials: the section says where they come from, nothing to enter
    page.wait_for_selector("#vendor-message:has-text('keeps no per-site credentials')")
    assert page.locator("#zephyr-token").is_disabled()
    page.evaluate("document.querySelectorAll('.fc-flag').forEach(f => f.remove())")
    screenshot(page, "admin")

    # dark mode follows the system setting; the saved workflow reloads from the story
    page.emulate_media(color_scheme="dark")
    page.goto(f"{app_url}/app/editor/{STORY}")
    page.wait_for_selector("#main[aria-busy='false']")
    assert page.evaluate("document.documentElement.dataset.colorMode") == "dark"
    assert "Saved" in page.inner_text("#save-status")
    page.click("#generate")
    page.wait_for_selector(".fc-test-row")
    page.locator(".fc-test-row").nth(2).click()
    screenshot(page, "editor-dark")
    assert not [e for e in page.js_errors if "favicon" not in e]
