"""Editor behaviour in the browser: drawing with the restricted palette and context pad, diagram undo/redo,
export downloads, accessible names, and autosave conflicts between two editors of the same story."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from webtools import screenshot, sign_in

from builders import jira_client, new_story
from flowcase.jira.client import JiraClient
from flowcase.jira.storage import CHUNK_PREFIX, MANIFEST_KEY, load_model
from flowcase.sandbox.testing import RunningSandbox, run_sync

pytestmark = pytest.mark.browser


def open_editor(page: Any, app_url: str, path: str) -> None:
    sign_in(page, app_url, path)
    page.wait_for_selector("#main[aria-busy='false']")


def shapes(page: Any) -> list[str]:
    return list(
        page.evaluate(
            "window.flowcaseModeler.get('elementRegistry').filter(e => e.type !== 'label' && e.type !== 'bpmn:Process')"
            ".map(e => e.type)"
        )
    )


def test_draw_generate_undo_export(page: Any, app_url: str) -> None:
    open_editor(page, app_url, "/app/editor")
    palette = page.evaluate("[...document.querySelectorAll('.djs-palette .entry')].map(e => e.dataset.action)")
    assert set(palette) == {
        "hand-tool",
        "lasso-tool",
        "space-tool",
        "global-connect-tool",
        "create.start-event",
        "create.end-event",
        "create.exclusive-gateway",
        "create.task",
        "create.call-activity",
    }

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


def rename(page: Any, name: str) -> None:
    """Rename the model in the editor (the field loses the focus: an edit to save)."""
    page.fill("#model-name", name)
    page.press("#model-name", "Tab")


def saved(page: Any) -> None:
    page.wait_for_function("document.getElementById('save-status').textContent.startsWith('Saved')")


def test_autosave_conflict_between_two_editors(browser: Any, app_url: str) -> None:
    a = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    b = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    story = "DEMO-4"
    open_editor(a, app_url, f"/app/editor/{story}")
    rename(a, "First")
    saved(a)

    open_editor(b, app_url, f"/app/editor/{story}")
    assert b.input_value("#model-name") == "First"
    rename(a, "Edited in A")
    saved(a)

    rename(b, "Edited in B")
    b.wait_for_selector("#storage-banner:not([hidden])")
    banner = b.inner_text("#storage-banner")
    assert "Revision 2 was saved" in banner and " at " in banner and "started from" in banner, banner
    assert b.input_value("#model-name") == "Edited in B"  # nothing of B's was thrown away by the conflict
    b.click("#storage-banner button:text-is('Load revision 2')")
    b.wait_for_selector("#storage-banner:has-text('discarded')")  # asks before discarding B's edits
    b.click("#storage-banner button:text-is('Discard mine and load')")
    b.wait_for_function("document.getElementById('model-name').value === 'Edited in A'")
    rename(b, "B after reload")
    saved(b)

    # A is now behind: it overwrites, but only after confirming, and B's version stays restorable
    rename(a, "A insists")
    a.wait_for_selector("#storage-banner:not([hidden])")
    a.click("#storage-banner button:text-is('Overwrite with mine')")
    a.click("#storage-banner button:text-is('Overwrite')")
    saved(a)
    a.click("#restore-previous")
    a.click("#storage-banner button:text-is('Restore')")
    a.wait_for_function("document.getElementById('model-name').value === 'B after reload'")
    assert "restored" in a.inner_text("#save-status")
    a.context.close()
    b.context.close()


def test_a_damaged_stored_model_is_explained_then_restored_or_replaced(
    browser: Any, app_url: str, sandbox: RunningSandbox
) -> None:
    async def jira(fn: Any) -> Any:
        async with jira_client(sandbox) as c:
            return await fn(c)

    async def damage(c: JiraClient) -> None:
        manifest = await c.get_property("issue", story, MANIFEST_KEY)
        await c.delete_property("issue", story, f"{CHUNK_PREFIX}{manifest['token']}-0")

    story = new_story(sandbox, summary="S")
    page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    open_editor(page, app_url, f"/app/editor/{story}")
    for name in ("Version one", "Version two"):
        rename(page, name)
        page.wait_for_function(
            f"document.getElementById('save-status').textContent.startsWith('Saved')"
            f" && document.getElementById('model-name').value === {name!r}"
        )
        page.wait_for_timeout(100)
    run_sync(jira(damage))

    open_editor(page, app_url, f"/app/editor/{story}")
    page.wait_for_selector("#storage-banner:not([hidden])")
    text = page.inner_text("#storage-banner")
    assert "damaged" in text and "missing part 1" in text and "Nothing has been deleted" in text, text
    page.click("#storage-banner button:text-is('Restore revision 1')")
    page.click("#storage-banner button:text-is('Cancel')")  # backing out changes nothing
    page.click("#storage-banner button:text-is('Restore revision 1')")
    page.click("#storage-banner button:text-is('Restore')")
    page.wait_for_function("document.getElementById('model-name').value === 'Version one'")

    run_sync(jira(damage))
    open_editor(page, app_url, f"/app/editor/{story}")
    page.wait_for_selector("#storage-banner:not([hidden])")
    rename(page, "Replacement")
    page.wait_for_timeout(1200)  # autosave stays off while the stored model is damaged
    assert run_sync(jira(lambda c: c.get_property("issue", story, MANIFEST_KEY)))["revision"] == 3
    page.click("#storage-banner button:text-matches('Replace it')")
    page.click("#storage-banner button:text-is('Replace')")
    saved(page)
    stored = run_sync(jira(lambda c: load_model(c, story)))
    assert stored is not None and stored.model.name == "Replacement" and stored.revision == 4
    page.context.close()


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


def label_at(page: Any, flow: str) -> list[float]:
    """Where the label of sequence flow ``flow`` is on the diagram (diagram coordinates)."""
    return list(
        page.evaluate(
            f"(() => {{ const l = window.flowcaseModeler.get('elementRegistry').get('{flow}').label;"
            " return [l.x, l.y]; })()"
        )
    )


def test_a_dragged_arrow_label_stays_where_it_was_dropped(browser: Any, app_url: str, sandbox: RunningSandbox) -> None:
    examples = Path(__file__).resolve().parents[2] / "examples"
    story = new_story(sandbox, summary="Labels")
    page = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    open_editor(page, app_url, f"/app/editor/{story}")
    page.set_input_files("#import-file", str(examples / "login.yaml"))
    page.check("#show-labels")  # arrow labels are shown when asked for
    page.wait_for_selector(".djs-element[data-element-id='Flow_credentials_correct_label']")
    saved(page)
    flow = "Flow_credentials_correct"  # its route is the one export draws, so only the label can say it was moved
    before = label_at(page, flow)
    box = page.locator(f".djs-element[data-element-id='{flow}_label']").bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    for step in range(1, 11):
        page.mouse.move(x + 4 * step, y + 6 * step)
    page.mouse.up()
    after = label_at(page, flow)
    assert after != before
    page.wait_for_function(
        "document.getElementById('save-status').textContent.startsWith('Unsaved')"
        " || document.getElementById('save-status').textContent.startsWith('Saving')"
    )
    saved(page)

    open_editor(page, app_url, f"/app/editor/{story}")  # the page opens again: the label is where it was dropped
    page.wait_for_function(f"!!window.flowcaseModeler.get('elementRegistry').get('{flow}_label')")
    assert label_at(page, flow) == after
    page.context.close()
