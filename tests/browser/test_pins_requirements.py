"""Pinned tests and the requirement coverage matrix in the browser: a tester pins a test in the tests view, the pin
is saved with the workflow in Jira (the story's model, nothing in the app), and regeneration keeps the test exactly
while the rest of the suite changes; the matrix (requirement -> tests and decisions) shows in the tests view and on
the story panel, with uncovered requirements flagged and explained. axe-core stays clean on both pages."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from axe import axe_source, blocking, report
from webtools import screenshot, sign_in

from flowcase.generate import GenerateOptions, generate
from flowcase.jira.auth import ApiTokenAuth
from flowcase.jira.client import JiraClient
from flowcase.jira.storage import load_model
from flowcase.model.io import load_path
from flowcase.sandbox.testing import RunningSandbox, run_sync

pytestmark = pytest.mark.browser

LOGIN = Path(__file__).resolve().parents[2] / "examples" / "login.yaml"
STORY = "DEMO-3"


def busy_done(page: Any) -> None:
    page.locator("#main[aria-busy='false']").wait_for(timeout=20000)


def shown_tests(page: Any) -> list[str]:
    return list(page.evaluate("[...document.querySelectorAll('.fc-test-row')].map(r => r.dataset.test)"))


def generate_with(page: Any, criterion: str) -> list[str]:
    page.select_option("#criterion", criterion)
    page.evaluate("document.querySelectorAll('.fc-test-row').forEach(r => r.remove())")
    page.click("#generate")
    page.wait_for_selector(".fc-test-row")
    return shown_tests(page)


def stored(sandbox: RunningSandbox, story: str) -> Any:
    async def read() -> Any:
        auth = ApiTokenAuth(sandbox.email, sandbox.api_token)
        async with JiraClient(sandbox.base_url, auth) as jira:
            return await load_model(jira, story)

    return run_sync(read())


def test_a_pinned_test_is_saved_with_the_workflow_and_kept_by_regeneration(
    page: Any, app_url: str, sandbox: RunningSandbox
) -> None:
    model = load_path(LOGIN).model
    decisions = [t.id for t in generate(model).tests]
    steps = {t.id for t in generate(model, GenerateOptions(criterion="all-steps")).tests}
    wanted = next(i for i in decisions if i not in steps)  # all steps alone would drop it

    sign_in(page, app_url, f"/app/editor/{STORY}")
    busy_done(page)
    page.set_input_files("#import-file", str(LOGIN))
    page.wait_for_selector(".djs-element[data-element-id=credentials]")
    assert generate_with(page, "all-decisions") == decisions
    pin = page.locator(f".fc-pin[data-pin='{wanted}']")
    assert pin.get_attribute("aria-pressed") == "false"
    pin.click()
    assert pin.get_attribute("aria-pressed") == "true" and pin.inner_text() == "Pinned"
    assert (
        page.locator(".fc-test-row.fc-selected").get_attribute("data-test") == decisions[0]
    )  # pinning selects nothing
    page.wait_for_selector("#save-status:text-matches('^Saved')", timeout=20000)

    # saved in Jira with the workflow: the story's model holds the pinned test, path and data
    saved = stored(sandbox, STORY)
    assert saved is not None and [p["id"] for p in saved.model.pins] == [wanted]
    original = next(t for t in generate(model).tests if t.id == wanted)
    assert saved.model.pins[0]["steps"] == [s.model_dump(mode="json") for s in original.steps]

    # regenerated for all steps: the pinned test stays, exactly, and the rest is the fewest tests given it
    kept = generate_with(page, "all-steps")
    assert wanted in kept and len(kept) <= len(steps) + 1
    assert page.locator(f".fc-pin[data-pin='{wanted}']").get_attribute("aria-pressed") == "true"
    assert "1 pinned, kept exactly" in page.inner_text("#gen-summary")
    core = generate(
        saved.model, GenerateOptions(criterion="all-steps"), pins=[original.model_copy(update={"pinned": True})]
    )
    assert kept == [t.id for t in core.tests]

    # a reload reads the pin back from Jira
    page.reload()
    busy_done(page)
    assert wanted in generate_with(page, "all-steps")
    assert page.locator(f".fc-pin[data-pin='{wanted}']").get_attribute("aria-pressed") == "true"
    found = blocking(page, axe_source())
    assert not found, report(found)

    # unpinned: all steps alone again
    page.locator(f".fc-pin[data-pin='{wanted}']").click()
    page.wait_for_selector("#save-status:text-matches('^Saved')", timeout=20000)
    assert set(generate_with(page, "all-steps")) == steps
    assert not [e for e in page.js_errors if "favicon" not in e]


def test_the_requirement_matrix_shows_in_the_tests_view_and_on_the_story_panel(page: Any, app_url: str) -> None:
    story = "DEMO-2"
    sign_in(page, app_url, f"/app/editor/{story}")
    busy_done(page)
    page.set_input_files("#import-file", str(LOGIN))
    page.wait_for_selector(".djs-element[data-element-id=remember]")
    # the two decisions carrying DEMO-103 can never be taken: DEMO-103 is covered by nothing
    page.click(".djs-element[data-element-id=credentials]")
    for row in (2, 3):
        when = page.locator(f"#table-host .fc-cell[data-row='{row}'][data-key='when']")
        when.fill('account == "locked" and account != "locked"')
        when.press("Tab")
    page.wait_for_function("document.getElementById('problem-list').textContent.includes('can never hold')")
    page.click("#generate")
    page.wait_for_selector("#requirements tr[data-requirement]")
    rows = page.evaluate(
        "[...document.querySelectorAll('#requirements tr[data-requirement]')]"
        ".map(r => [r.dataset.requirement, r.dataset.covered, r.cells[0].textContent])"
    )
    covered = {key: flag == "true" for key, flag, _ in rows}
    assert covered["DEMO-101"] and covered["DEMO-102"] and not covered["DEMO-103"]
    ids = set(shown_tests(page))
    tests_of_101 = page.locator("#requirements tr[data-requirement='DEMO-101'] .fc-req-test").all_inner_texts()
    assert tests_of_101 and set(tests_of_101) <= ids
    flagged = page.inner_text("#requirements tr[data-requirement='DEMO-103']")
    assert (
        "not covered" in flagged.lower() and "login/credentials#wrong_third" in flagged and "can never hold" in flagged
    )
    assert "covered by no test" in page.inner_text("#requirements")
    page.wait_for_selector("#save-status:text-matches('^Saved')", timeout=20000)
    page.locator("#requirements").scroll_into_view_if_needed()
    screenshot(page, "editor-requirements")
    found = blocking(page, axe_source())
    assert not found, report(found)

    # the story panel: the same matrix for the saved workflow
    page.goto(f"{app_url}/app/issue/{story}")
    busy_done(page)
    page.wait_for_selector("#requirements tr[data-requirement]")
    panel = page.evaluate(
        "Object.fromEntries([...document.querySelectorAll('#requirements tr[data-requirement]')]"
        ".map(r => [r.dataset.requirement, r.dataset.covered === 'true']))"
    )
    assert panel == covered
    assert "1 covered by no test" in page.inner_text("#requirements")
    screenshot(page, "issue-requirements")
    found = blocking(page, axe_source())
    assert not found, report(found)
    assert not [e for e in page.js_errors if "favicon" not in e]


def test_a_pin_that_no_longer_fits_is_named_and_can_be_unpinned_from_the_message(page: Any, app_url: str) -> None:
    model = load_path(LOGIN).model
    through = next(t.id for t in generate(model).tests if any(s.decision == "correct" for s in t.steps))
    sign_in(page, app_url, "/app/editor")
    busy_done(page)
    page.set_input_files("#import-file", str(LOGIN))
    page.wait_for_selector(".djs-element[data-element-id=credentials]")
    generate_with(page, "all-decisions")
    page.locator(f".fc-pin[data-pin='{through}']").click()
    # the pinned test's first decision can no longer be taken: its data does not satisfy the new condition
    page.click(".djs-element[data-element-id=credentials]")
    when = page.locator("#table-host .fc-cell[data-row='0'][data-key='when']")
    when.fill('account == "active" and account != "active"')
    when.press("Tab")
    page.wait_for_function("document.getElementById('problem-list').textContent.includes('can never hold')")
    page.click("#generate")
    page.wait_for_selector("#pin-problem:not([hidden]) button")
    assert f"pinned test {through} no longer fits the model" in page.inner_text("#gen-summary")
    found = blocking(page, axe_source())
    assert not found, report(found)
    page.click(f"#pin-problem button:text-is('Unpin {through} and generate')")
    page.wait_for_selector(".fc-test-row")
    page.wait_for_function("!document.getElementById('gen-summary').textContent.startsWith('Generating')")
    assert "Cannot generate" not in page.inner_text("#gen-summary")
    assert page.locator("#pin-problem").is_hidden()
    assert page.evaluate("document.querySelectorAll('.fc-pin[aria-pressed=true]').length") == 0


def test_a_pin_made_while_a_save_is_under_way_is_not_reported_saved_until_it_is(
    page: Any, app_url: str, sandbox: RunningSandbox
) -> None:
    story = "DEMO-4"
    model = load_path(LOGIN).model
    decisions = [t.id for t in generate(model).tests]
    sign_in(page, app_url, f"/app/editor/{story}")
    busy_done(page)
    page.set_input_files("#import-file", str(LOGIN))
    page.wait_for_selector(".djs-element[data-element-id=credentials]")
    assert generate_with(page, "all-decisions") == decisions
    page.wait_for_selector("#save-status:text-matches('^Saved')", timeout=20000)

    # Jira answers the next save of the model slowly; a second pin comes while that save is under way
    sandbox.add_fault(
        kind="latency", path_prefix=f"/rest/api/3/issue/{story}/properties", method="PUT", latency_ms=2500, count=1
    )
    page.locator(f".fc-pin[data-pin='{decisions[0]}']").click()
    page.wait_for_selector("#save-status:text-matches('^Saving')", timeout=20000)
    page.evaluate(
        """() => {  // every status the editor shows from now on
          const el = document.getElementById('save-status');
          window.statusesSeen = [];
          new MutationObserver(() => window.statusesSeen.push(el.textContent))
            .observe(el, { childList: true, characterData: true, subtree: true });
        }"""
    )
    page.locator(f".fc-pin[data-pin='{decisions[1]}']").click()
    deadline = time.monotonic() + 30
    while True:  # both pins reach Jira (the slow save holds the first only; the next one holds both)
        saved = stored(sandbox, story)
        if saved is not None and sorted(p["id"] for p in saved.model.pins) == sorted(decisions[:2]):
            break
        assert time.monotonic() < deadline, "the second pin never reached Jira"
        page.wait_for_timeout(200)  # (not time.sleep: the page's requests pass the test's route handler meanwhile)
    page.wait_for_selector("#save-status:text-matches('^Saved')", timeout=20000)
    seen = page.evaluate("window.statusesSeen")
    # the slow save ended without the second pin: not "Saved" then, only once the save holding it ended
    assert [s for s in seen if s.startswith("Saved")] == [seen[-1]], seen
    assert "Unsaved changes" in seen, seen
