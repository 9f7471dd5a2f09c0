"""Accessibility: axe-core (npm, installed by the test setup) on every page of the app in Chromium, standalone and
inside the sandbox Jira's Connect iframes, with 0 serious or critical violations; and the main job done with the
keyboard only (open the editor, edit a decision-table cell, generate, select a test, publish after confirming)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from axe import axe_source, blocking, report
from webtools import EXAMPLES, connect_app, screenshot, sign_in

from flowcase.sandbox.testing import RunningSandbox, running_sandbox

pytestmark = pytest.mark.browser

CHECKOUT = EXAMPLES / "bpmn" / "checkout.bpmn"


@pytest.fixture(scope="module")
def axe() -> str:
    return axe_source()


def check(frame: Any, axe: str, where: str, seen: dict[str, str]) -> None:
    found = blocking(frame, axe)
    if found:
        seen[where] = report(found)


def busy_done(frame: Any) -> None:
    frame.locator("#main[aria-busy='false']").wait_for(timeout=20000)


def published_test_of(sandbox: RunningSandbox, story: str) -> str:
    """The key of one test issue published for ``story``."""
    r = httpx.get(
        f"{sandbox.base_url}/rest/api/3/search/jql",
        auth=sandbox.basic_auth(),
        params={"jql": 'project = DEMO AND labels = "flowcase" ORDER BY key ASC', "fields": "summary,issuelinks"},
    )
    for issue in r.json()["issues"]:
        if any(
            (link.get("inwardIssue") or link.get("outwardIssue") or {}).get("key") == story
            for link in issue["fields"]["issuelinks"]
        ):
            return str(issue["key"])
    raise AssertionError(f"no test issue of {story}")


def publish_checked(target: Any, axe: str, editor: str, seen: dict[str, str]) -> None:
    """Publish from the editor in ``target`` (a page or a frame), checking the confirmation (named ``editor``)."""
    target.click("#publish")
    target.wait_for_selector("#confirm-publish")
    check(target, axe, f"{editor} (publish confirmation)", seen)
    target.click("#confirm-publish")
    target.wait_for_selector(".fc-publish-result", timeout=60000)


def test_standalone_pages_have_no_serious_or_critical_violations(
    page: Any, app_url: str, sandbox: RunningSandbox, axe: str
) -> None:
    seen: dict[str, str] = {}
    page.goto(f"{app_url}/app/login")
    check(page, axe, "login", seen)
    page.fill("#token", "wrong")
    page.click("button[type=submit]")
    page.wait_for_selector("#token-error")
    check(page, axe, "login (refused)", seen)

    sign_in(page, app_url, "/app/")
    page.wait_for_selector("#issue-key")
    check(page, axe, "home", seen)

    page.goto(f"{app_url}/app/issue/DEMO-1")
    busy_done(page)
    check(page, axe, "issue (no workflow)", seen)

    page.goto(f"{app_url}/app/editor/DEMO-1")
    busy_done(page)
    check(page, axe, "editor (empty)", seen)
    page.set_input_files("#import-file", str(CHECKOUT))
    page.wait_for_selector(".djs-element[data-element-id=cart]")
    page.click(".djs-element[data-element-id=cart]")
    page.wait_for_selector("#table-host .fc-cell")
    check(page, axe, "editor (decision table)", seen)
    page.click("#generate")
    page.wait_for_selector(".fc-test-row")
    page.locator(".fc-test-row").nth(1).click()
    page.wait_for_selector("#save-status:text-matches('^Saved')", timeout=20000)
    check(page, axe, "editor (tests, a path highlighted)", seen)
    publish_checked(page, axe, "editor", seen)
    check(page, axe, "editor (published)", seen)
    page.click("#tab-data")
    check(page, axe, "editor (parameters)", seen)
    page.emulate_media(color_scheme="dark")
    page.reload()
    busy_done(page)
    page.click("#generate")
    page.wait_for_selector(".fc-test-row")
    page.locator(".fc-test-row").nth(1).click()
    assert page.evaluate("document.documentElement.dataset.colorMode") == "dark"
    check(page, axe, "editor (dark)", seen)
    page.emulate_media(color_scheme="light")

    page.goto(f"{app_url}/app/editor")
    busy_done(page)
    check(page, axe, "editor (local model)", seen)

    page.goto(f"{app_url}/app/issue/DEMO-1")
    busy_done(page)
    page.wait_for_function("document.getElementById('f-tests').textContent.trim() !== '…'")
    check(page, axe, "issue (published story)", seen)

    # a published test issue: its panel shows the lineage, with the test's path on a small diagram
    test_key = published_test_of(sandbox, "DEMO-1")
    page.goto(f"{app_url}/app/issue/{test_key}")
    busy_done(page)
    page.wait_for_selector("#lineage:not([hidden])")
    assert page.locator("#summary").is_hidden()
    assert page.text_content("#l-status") == "Current"
    assert page.inner_text("#l-story").startswith("DEMO-1")
    assert page.locator("#l-story a").get_attribute("href") == "/app/issue/DEMO-1"
    assert "(the current one)" in page.inner_text("#l-revision")
    assert page.locator("#l-diagram .node[data-tests~='t']").count() >= 3
    assert page.locator("#l-diagram .edge[data-tests~='t']").count() >= 2
    screenshot(page, "issue-lineage")
    check(page, axe, "issue (published test: lineage)", seen)

    page.goto(f"{app_url}/app/project/DEMO")
    busy_done(page)
    check(page, axe, "project", seen)
    page.emulate_media(color_scheme="dark")
    page.reload()
    busy_done(page)
    check(page, axe, "project (dark)", seen)
    page.goto(f"{app_url}/app/issue/DEMO-1")
    busy_done(page)
    check(page, axe, "issue (dark)", seen)
    page.emulate_media(color_scheme="light")

    page.goto(f"{app_url}/app/admin")
    busy_done(page)
    check(page, axe, "admin", seen)
    assert not seen, "\n\n".join(f"== {where}\n{text}" for where, text in seen.items())


# --- inside the sandbox Jira's Connect iframes -------------------------------------------------------------------


@pytest.fixture(scope="module")
def connect_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningSandbox, str]]:
    db = tmp_path_factory.mktemp("a11y") / "app.db"
    with running_sandbox(demo_data=True, setup=True) as sb, connect_app(sb, f"sqlite:///{db}") as (_app, url):
        yield sb, url


def app_frame(page: Any, suffix: str) -> Any:
    page.wait_for_selector(f"iframe[data-ap-module$='{suffix}']")
    handle = page.query_selector(f"iframe[data-ap-module$='{suffix}']")
    frame = handle.content_frame()
    busy_done(frame)
    return frame


def test_connect_pages_in_the_sandbox_have_no_serious_or_critical_violations(
    page: Any, connect_env: tuple[RunningSandbox, str], axe: str
) -> None:
    sb, _ = connect_env
    seen: dict[str, str] = {}
    page.goto(f"{sb.base_url}/browse/DEMO-1")
    panel = app_frame(page, "issue-panel")
    check(panel, axe, "connect issue panel", seen)
    panel.click("#open-editor")
    editor = app_frame(page, "-editor")
    check(editor, axe, "connect editor (empty)", seen)
    editor.set_input_files("#import-file", str(CHECKOUT))
    editor.wait_for_selector(".djs-element[data-element-id=cart]")
    editor.click(".djs-element[data-element-id=cart]")
    editor.click("#generate")
    editor.wait_for_selector(".fc-test-row")
    editor.locator(".fc-test-row").nth(1).click()
    check(editor, axe, "connect editor (tests)", seen)
    publish_checked(editor, axe, "connect editor", seen)

    page.goto(f"{sb.base_url}/browse/{published_test_of(sb, 'DEMO-1')}")
    lineage = app_frame(page, "issue-panel")
    lineage.wait_for_selector("#lineage:not([hidden])")
    assert lineage.text_content("#l-status") == "Current"
    assert lineage.locator("#l-story a").get_attribute("href") == f"{sb.base_url}/browse/DEMO-1"
    check(lineage, axe, "connect issue panel (published test: lineage)", seen)

    page.goto(f"{sb.base_url}/projects/DEMO/apps/flowcase/flowcase-project")
    check(app_frame(page, "-project"), axe, "connect project", seen)
    page.goto(f"{sb.base_url}/admin/apps/flowcase/flowcase-admin")
    check(app_frame(page, "-admin"), axe, "connect admin", seen)
    assert not seen, "\n\n".join(f"== {where}\n{text}" for where, text in seen.items())


# --- the main job by keyboard only -------------------------------------------------------------------------------


def focused(page: Any) -> dict[str, str]:
    info: dict[str, str] = page.evaluate("""() => { const e = document.activeElement;
        return { id: e.id || '', cls: e.className || '', tag: e.tagName, test: (e.dataset && e.dataset.test) || '',
                 key: (e.dataset && e.dataset.key) || '', row: (e.dataset && e.dataset.row) || '' }; }""")
    return info


def tab_to(page: Any, wanted: Any, limit: int = 150, key: str = "Tab") -> dict[str, str]:
    """Press Tab (only Tab) until the focused element matches ``wanted(focused)``."""
    for _ in range(limit):
        page.keyboard.press(key)
        now = focused(page)
        if wanted(now):
            return now
    raise AssertionError(f"Tab never reached the element; focus is on {focused(page)}")


def test_main_job_by_keyboard_only(page: Any, app_url: str, sandbox: RunningSandbox) -> None:
    story = "DEMO-3"
    # listen for file choosers from the start: Chromium intercepts them only once a listener is known, and a
    # listener added just before the key press can lose that race on a busy machine (the native dialog opens)
    page.on("filechooser", lambda _chooser: None)
    sign_in(page, app_url, f"/app/issue/{story}")
    busy_done(page)
    # open the editor from the story's panel
    tab_to(page, lambda f: f["id"] == "open-editor")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/app/editor/{story}")
    busy_done(page)
    # import the checkout workflow: the file button is reached with Tab and opened with Space
    tab_to(page, lambda f: f["id"] == "import-file")
    with page.expect_file_chooser() as chooser:
        page.keyboard.press("Space")
    chooser.value.set_files(str(CHECKOUT))
    page.wait_for_selector(".djs-element[data-element-id=cart]")
    # choose the "Cart" step in the element picker, then Tab into its decision table and edit a cell
    tab_to(page, lambda f: f["id"] == "step-picker")
    options = page.eval_on_selector_all("#step-picker option", "os => os.map(o => o.textContent)")
    steps_down = next(i for i, text in enumerate(options) if text.endswith(": Cart"))
    for _ in range(steps_down):
        page.keyboard.press("ArrowDown")
    page.wait_for_selector("#step-editor:not([hidden])")
    assert page.inner_text("#step-name") == "Cart"
    cell = tab_to(page, lambda f: f["key"] == "action", limit=20)
    assert cell["row"] == "0"
    page.keyboard.press("Control+A")
    page.keyboard.type("Open the cart page with three items in it.")
    page.keyboard.press("Tab")  # commits the cell
    page.wait_for_selector("#save-status:text-matches('^Saved')", timeout=20000)
    stored = page.evaluate("window.flowcaseEditor.state.tables")
    assert any(r.get("action") == "Open the cart page with three items in it." for r in stored["checkout/cart"])

    # generate
    tab_to(page, lambda f: f["id"] == "generate")
    page.keyboard.press("Enter")
    page.wait_for_selector(".fc-test-row")
    count = page.locator(".fc-test-row").count()
    # select the second test: Tab to the table, ArrowDown, Enter; its path is highlighted
    first = tab_to(page, lambda f: bool(f["test"]))
    page.keyboard.press("ArrowDown")
    second = focused(page)["test"]
    assert second and second != first["test"]
    page.keyboard.press("Enter")
    page.wait_for_selector(f".fc-test-row[data-test='{second}'][aria-selected='true']")
    assert second in page.inner_text("#legend")
    assert page.locator(".djs-element.fc-path").count() > 2

    # publish: the button opens the preview with the focus on "Publish"; Escape cancels, Enter confirms
    tab_to(page, lambda f: f["id"] == "publish", key="Shift+Tab")
    page.keyboard.press("Enter")
    page.wait_for_selector("#confirm-publish")
    page.wait_for_function("document.activeElement.id === 'confirm-publish'")
    assert f"Create {count}" in (page.text_content("#diff-result") or "")
    page.keyboard.press("Escape")
    page.wait_for_function("document.activeElement.id === 'publish'")
    assert "nothing was sent" in page.inner_text("#diff-result")
    page.keyboard.press("Enter")
    page.wait_for_function("document.activeElement.id === 'confirm-publish'")
    page.keyboard.press("Enter")
    page.wait_for_function("document.activeElement.classList.contains('fc-publish-result')", timeout=60000)
    assert "Published" in page.inner_text("#publish-progress")

    r = httpx.get(
        f"{sandbox.base_url}/rest/api/3/search/jql",
        params={"jql": 'project = DEMO AND labels = "flowcase"', "fields": "summary,issuelinks"},
        auth=sandbox.basic_auth(),
    )
    assert r.status_code == 200, r.text
    linked = [
        i
        for i in r.json()["issues"]
        if any(
            (link.get("inwardIssue") or link.get("outwardIssue") or {}).get("key") == story
            for link in i["fields"]["issuelinks"]
        )
    ]
    assert len(linked) == count
    assert not [e for e in page.js_errors if "favicon" not in e]
