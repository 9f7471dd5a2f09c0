"""The main job inside the sandbox Jira's issue page: the app is installed into the sandbox as a Connect app,
its panel and editor run in the sandbox's iframes, talk to the app with context JWTs from the AP bridge, and
the app calls the sandbox's REST API signed as the app."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from webtools import (
    SandboxApp,
    close_editor,
    connect_app,
    design_checkout,
    publish_and_confirm,
    screenshot,
    shows_tests,
)

from flowcase.sandbox.testing import running_sandbox

pytestmark = pytest.mark.browser

STORY = "DEMO-1"


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxApp]:
    db = tmp_path_factory.mktemp("connect") / "app.db"
    with running_sandbox(demo_data=True, setup=True) as sb, connect_app(sb, f"sqlite:///{db}") as (app, url):
        assert [h.name for h in app.state.hosts] == ["connect"]
        yield SandboxApp(sb, url)


def app_frame(page: Any, module_suffix: str) -> Any:
    page.wait_for_selector(f"iframe[data-ap-module$='{module_suffix}']")
    frame = page.frame_locator(f"iframe[data-ap-module$='{module_suffix}']")
    return frame


def test_main_job_inside_the_sandbox_issue_page(page: Any, env: SandboxApp) -> None:
    sb = env.sandbox
    page.goto(f"{sb.base_url}/browse/{STORY}")
    panel = app_frame(page, "issue-panel")
    panel.locator("#f-workflow").wait_for()
    panel.locator("#main[aria-busy='false']").wait_for()
    assert panel.locator("#f-workflow").inner_text() in ("None yet",)
    # open the editor: a full-screen dialog of the app, opened through AP.dialog
    panel.locator("#open-editor").click()
    editor = app_frame(page, "-editor")
    count = design_checkout(editor)
    frame = next(f for f in page.frames if "/connect/editor" in f.url)
    frame.evaluate(
        "document.querySelectorAll('.fc-flag').forEach(f => f.remove());"
        "window.flowcaseModeler.get('selection').select([])"
    )
    screenshot(page, "sandbox-editor")
    assert len(publish_and_confirm(editor, sb)) == count  # the issues exist in the sandbox Jira

    # closing the editor dialog refreshes the panel: it shows the published suite
    close_editor(page, editor, "iframe[data-ap-module$='-editor']")
    shows_tests(panel, count)
    assert panel.locator("#open-editor").inner_text() == "Open editor"
    # reloaded, the story shows its linked test issues, and the workflow as issue content: the side panel that
    # started it is only for stories without a workflow
    page.reload()
    panel = app_frame(page, "issue-content")
    assert page.locator("iframe[data-ap-module$='issue-panel']").count() == 0
    shows_tests(panel, count)
    page.wait_for_timeout(300)  # let the sandbox resize the panel iframes
    assert panel.locator("#f-published").inner_text() != "Never"
    screenshot(page, "sandbox-issue")


def test_project_and_admin_pages_inside_the_sandbox(page: Any, env: SandboxApp) -> None:
    sb = env.sandbox
    page.goto(f"{sb.base_url}/projects/DEMO/apps/flowcase/flowcase-project")
    project = app_frame(page, "-project")
    project.locator("#main[aria-busy='false']").wait_for()
    assert "Workflows in DEMO" in project.locator("h1").inner_text()
    assert project.locator("#message").inner_text() == "" or "No story" in project.locator("#message").inner_text()
    screenshot(page, "sandbox-project")

    page.goto(f"{sb.base_url}/admin/apps/flowcase/flowcase-admin")
    admin = app_frame(page, "-admin")
    admin.locator("#main[aria-busy='false']").wait_for()
    assert admin.locator("#s-issue-type").input_value() == "Test"
    screenshot(page, "sandbox-admin")
