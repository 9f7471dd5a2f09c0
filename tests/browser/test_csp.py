"""The pages under the app's real Content-Security-Policy (other browser tests bypass it for Playwright's sake).

Every page the main job uses is loaded and worked in a context that enforces the policy; any script, style, font,
image or connection the policy blocks shows up as a console error and fails the test.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from webtools import EXAMPLES, connect_app, sign_in

from flowcase.sandbox.testing import RunningSandbox

pytestmark = pytest.mark.browser


@pytest.fixture
def strict(browser: Any) -> Iterator[Any]:
    context = browser.strict_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.problems = problems
    yield page
    context.close()


def csp_violations(page: Any) -> list[str]:
    return [p for p in page.problems if "Content Security Policy" in p or "Content-Security-Policy" in p]


def test_the_standalone_editor_works_under_the_policy(strict: Any, app_url: str) -> None:
    sign_in(strict, app_url, "/app/editor/DEMO-2")
    strict.locator("#main[aria-busy='false']").wait_for()
    strict.locator("#import-file").set_input_files(str(EXAMPLES / "bpmn" / "checkout.bpmn"))
    strict.locator(".djs-element[data-element-id=cart]").wait_for()
    strict.locator(".djs-element[data-element-id=cart]").click()
    strict.locator("#table-host .fc-cell").first.wait_for()
    strict.locator("#generate").click()
    strict.locator(".fc-test-row").first.wait_for()
    strict.locator(".fc-test-row").nth(1).click()
    strict.locator(".djs-element.fc-path").first.wait_for()
    assert strict.locator(".djs-element.fc-path").count() > 2
    for path in ("/app/", "/app/issue/DEMO-1", "/app/project/DEMO", "/app/admin"):
        strict.goto(app_url + path)
        strict.locator("#main:not([aria-busy='true'])").wait_for()
        strict.wait_for_load_state("networkidle")
    assert csp_violations(strict) == []
    assert strict.evaluate("document.fonts.status") in ("loaded", "loading")


def test_connect_pages_load_all_js_from_the_site_under_the_policy(
    strict: Any, sandbox: RunningSandbox, tmp_path: Path
) -> None:
    with connect_app(sandbox, f"sqlite:///{tmp_path / 'a.db'}", app_key="flowcase-csp"):
        strict.goto(f"{sandbox.base_url}/browse/DEMO-1")
        strict.wait_for_selector("iframe[data-ap-module$='issue-panel']")
        panel = strict.frame_locator("iframe[data-ap-module$='issue-panel']")
        panel.locator("#main[aria-busy='false']").wait_for()
        panel.locator("#open-editor").click()
        editor = strict.frame_locator("iframe[data-ap-module$='-editor']")
        editor.locator("#main[aria-busy='false']").wait_for()
        editor.locator(".djs-container").first.wait_for()
    assert csp_violations(strict) == []
