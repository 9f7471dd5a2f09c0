"""Editor behaviour in the browser: drawing with the restricted palette and context pad, diagram undo/redo,
export downloads, accessible names, and autosave conflicts between two editors of the same story."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from webtools import screenshot, sign_in

pytestmark = pytest.mark.browser



def open_editor(page: Any, app_url: str, path: str) -> None:
    sign_in(page, app_url, path)
    page.wait_for_selector("#main[aria-busy='false']")


def shapes(page: Any) -> list[str]:
    return list(page.evaluate(
        "window.flowcaseModeler.get('elementRegistry').filter(e => e.type !== 'label' && e.type !== 'bpmn:Process')"
        ".map(e => e.type)"))


def test_draw_generate_undo_export(page: Any, app_url: str) -> None:
    open_editor(page, app_url, "/app/editor")
    palette = page.evaluate("[...document.querySelectorAll('.djs-palette .entry')].map(e => e.dataset.action)")
    assert set(palette) == {"hand-tool", "lasso-tool", "space-tool", "global-connect-tool", "create.start-event",
                            "create.end-event", "create.exclusive-gateway", "create.task", "create.call-activity"}

    # draw: start -> task -> end with the context pad
    page.click(".djs-element.djs-shape[data-element-id^='StartEvent']")
    pad = page.evaluate("[...document.querySelectorAll('.djs-context-pad .entry')].map(e => e.dataset.action)")
    assert set(pad) <= {"append.end-event", "append.gateway", "append.append-task", "connect", "delete"}
    page.click(".djs-context-pad .entry[data-action='append.append-task']")
    page.keyboard.type("Check out")  # the new task's label is being edited
    page.keyboard.press("Enter")
    task = page.evaluate("window.flowcaseModeler.get('elementRegistry').filter(e => e.type === 'bpmn:Task')[0].id")
    page.click(".djs-context-pad .entry[data-action='append.end-event']")
    page.keyboard.press("Enter")
    assert shapes(page).count("bpmn:SequenceFlow") == 2

    # the task has one decision row leading to the end; fill it in
    page.click(f".djs-element[data-element-id='{task}']")
    page.wait_for_selector("#step-name:text-is('Check out')")
    action = page.locator("#table-host .fc-cell[data-row='0'][data-key='action']")
    action.fill("Press the button")
    action.press("Tab")
    assert page.locator("#table-host .fc-cell[data-row='0'][data-key='next']").input_value().startswith("Event_")

    page.click("#generate")
    page.wait_for_selector(".fc-test-row")
    assert page.locator(".fc-test-row").count() == 1

    # undo/redo walk back through the table edit and the diagram commands
    page.click("#undo")
    assert page.locator("#table-host .fc-cell[data-row='0'][data-key='action']").input_value() == ""
    page.click("#undo")
    assert "bpmn:EndEvent" not in shapes(page)
    page.click("#redo")
    assert "bpmn:EndEvent" in shapes(page)

    # export downloads
    with page.expect_download() as info:
        page.select_option("#export-format", "model:bpmn")
        page.click("#export")
    path = info.value.path()
    assert "<bpmn:definitions" in Path(path).read_text(encoding="utf-8")
    with page.expect_download() as info:
        page.select_option("#export-format", "gherkin")
        page.click("#export")
    assert info.value.suggested_filename.endswith(".feature")
    assert "Scenario" in Path(info.value.path()).read_text(encoding="utf-8")

    # every control has an accessible name
    unnamed = page.evaluate("""[...document.querySelectorAll('input, select, button, [role=tab]')]
        .filter(e => e.offsetParent !== null || e.type === 'file')
        .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')
                     && !e.getAttribute('aria-labelledby') && !e.textContent.trim() && !e.title)
        .map(e => e.outerHTML.slice(0, 80))""")
    assert unnamed == []
    assert not [e for e in page.js_errors if "favicon" not in e]


def test_autosave_conflict_between_two_editors(browser: Any, app_url: str) -> None:
    a = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    b = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    story = "DEMO-4"
    open_editor(a, app_url, f"/app/editor/{story}")
    a.fill("#model-name", "First")
    a.press("#model-name", "Tab")
    a.wait_for_function("document.getElementById('save-status').textContent.startsWith('Saved')")

    open_editor(b, app_url, f"/app/editor/{story}")
    assert b.input_value("#model-name") == "First"
    a.fill("#model-name", "Edited in A")
    a.press("#model-name", "Tab")
    a.wait_for_function("document.getElementById('save-status').textContent.startsWith('Saved')")

    b.fill("#model-name", "Edited in B")
    b.press("#model-name", "Tab")
    b.wait_for_selector("#save-status:text-matches('Someone else saved')")
    b.click("#save-status button:text-is('Load theirs')")
    b.wait_for_function("document.getElementById('model-name').value === 'Edited in A'")
    b.fill("#model-name", "B after reload")
    b.press("#model-name", "Tab")
    b.wait_for_function("document.getElementById('save-status').textContent.startsWith('Saved')")
    a.context.close()
    b.context.close()


def test_sub_workflows_are_switched_in_the_toolbar(page: Any, app_url: str) -> None:
    examples = Path(__file__).resolve().parents[2] / "examples"
    open_editor(page, app_url, "/app/editor")
    assert page.locator("#workflow-switch").is_hidden()
    page.set_input_files("#import-file", str(examples / "bpmn" / "insurance-claim.bpmn"))
    page.wait_for_selector("#workflow-switch:not([hidden])")
    names = page.evaluate("[...document.querySelectorAll('#workflow-select option')].map(o => o.textContent)")
    assert len(names) == 2
    page.select_option("#workflow-select", "1")
    page.wait_for_selector(".djs-element[data-element-id=score]")
    page.click(".djs-element[data-element-id=score]")
    page.wait_for_selector("#table-host .fc-cell")
    # generation still sees every workflow (tables of the hidden one are kept)
    page.click("#generate")
    page.wait_for_selector(".fc-test-row")
    assert page.locator("#problems").is_hidden()
    # test purposes: one test per purpose
    page.select_option("#criterion", "purposes")
    page.fill("#purposes", "Withdrawn: reach withdrawn\nExpert: pass fraud#expert; reach paid")
    page.click("#generate")
    page.wait_for_selector("#gen-summary:text-matches('for test purposes')")
    assert page.locator(".fc-test-row").count() >= 1
    # selecting a test shows the main workflow again, with the path highlighted
    page.locator(".fc-test-row").first.click()
    page.wait_for_selector(".djs-element.fc-path[data-element-id=register]")
    assert page.input_value("#workflow-select") == "0"


def test_uncovered_decisions_are_listed_with_their_reason(page: Any, app_url: str) -> None:
    examples = Path(__file__).resolve().parents[2] / "examples"
    open_editor(page, app_url, "/app/editor")
    page.set_input_files("#import-file", str(examples / "login.yaml"))
    page.wait_for_selector(".djs-element[data-element-id=remember]")
    page.click(".djs-element[data-element-id=remember]")
    when = page.locator("#table-host .fc-cell[data-row='0'][data-key='when']")
    when.fill("remember_me and not remember_me")
    when.press("Tab")
    page.wait_for_function("document.getElementById('problem-list').textContent.includes('can never hold')")
    page.click("#generate")
    page.wait_for_selector("#uncovered li")
    text = page.inner_text("#uncovered")
    assert "remember#kept" in text
    page.locator("#uncovered").scroll_into_view_if_needed()
    page.evaluate("document.querySelectorAll('.fc-flag').forEach(f => f.remove())")
    screenshot(page, "editor-uncovered")
