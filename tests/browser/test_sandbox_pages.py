"""Headless Chromium on the sandbox's issue page: the app's panel renders inside the iframe with a valid token,
and the AP bridge works across the frame boundary (context token, request, flags, dialogs, events, theming)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from webtools import SCREENSHOTS

from flowcase.sandbox.testing import RunningSandbox, TinyApp, running_sandbox, running_tiny_app

pytestmark = pytest.mark.browser


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.js_errors = errors
    pg.route(
        "**/*",
        lambda route: route.continue_() if urlsplit(route.request.url).hostname == "127.0.0.1" else route.abort(),
    )
    yield pg
    context.close()


@pytest.fixture(scope="module")
def env() -> Iterator[tuple[RunningSandbox, TinyApp]]:
    with running_sandbox(demo_data=True) as sb, running_tiny_app(sb) as tiny:
        yield sb, tiny


def test_issue_page_shows_the_app_panel_with_a_valid_token(page: Any, env: tuple[RunningSandbox, TinyApp]) -> None:
    sb, tiny = env
    page.goto(f"{sb.base_url}/browse/DEMO-1")
    panel = page.frame_locator(f'iframe[data-ap-app="{tiny.key}"]')
    # The tiny app answers 401 "refused" unless the iframe URL's JWT (signature and qsh) checks out.
    assert panel.locator("#status").inner_text(timeout=10000) == "verified"
    panel.locator("#token").filter(has_text="context token qsh=context-qsh").wait_for(timeout=10000)
    panel.locator("#ctx").filter(has_text="DEMO-1").wait_for(timeout=15000)
    panel.locator("#myself").filter(has_text="request 200 app").wait_for(timeout=15000)  # AP.request, signed as the app
    # all.js resizes the iframe from its default 150px to the content's height.
    page.wait_for_function(
        f"""() => document.querySelector('iframe[data-ap-app="{tiny.key}"]')
                                       .getBoundingClientRect().height > 200""",
        timeout=15000,
    )
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "sandbox-issue-tiny-app.png"), full_page=True)
    assert sb.count_calls("GET", "/rest/api/3/myself", 200) >= 1
    assert page.js_errors == []


def test_bridge_flags_dialogs_events_and_theming(page: Any, env: tuple[RunningSandbox, TinyApp]) -> None:
    sb, tiny = env
    page.goto(f"{sb.base_url}/browse/DEMO-1")
    panel = page.frame_locator(f'iframe[data-ap-app="{tiny.key}"]').first
    panel.locator("#status").filter(has_text="verified").wait_for(timeout=10000)
    panel.locator("#myself").filter(has_text="request 200").wait_for(timeout=15000)

    page.click("#theme-toggle")
    panel.locator('html[data-color-mode="dark"]').wait_for(timeout=15000)

    panel.locator("#flag").click()
    flag = page.locator("#flags .flag").first
    flag.wait_for(timeout=15000)
    assert "Tiny" in flag.inner_text() and "hello <b>x</b>" in flag.inner_text()
    assert page.locator("#flags .flag b").count() == 0  # app text is shown as text, never as markup

    panel.locator("#dialog").click()
    dialog = page.frame_locator("#dialog-layer iframe")
    dialog.locator("#custom").filter(has_text='custom {"n":7}').wait_for(timeout=10000)
    panel.locator("#events").filter(has_text="ping 1").wait_for(timeout=15000)  # AP.events from dialog to panel
    dialog.locator("#close").click()
    panel.locator("#closed").filter(has_text='dialog closed {"ok":true}').wait_for(timeout=15000)
    assert page.locator("#dialog-layer").is_hidden()

    panel.locator("#nav").click()  # AP.navigator.go('issue', {issueKey: 'DEMO-2'})
    page.wait_for_url(f"{sb.base_url}/browse/DEMO-2", timeout=15000)
    assert page.js_errors == []


def test_host_ignores_messages_not_from_an_app_frame(page: Any, env: tuple[RunningSandbox, TinyApp]) -> None:
    sb, tiny = env
    page.goto(f"{sb.base_url}/browse/DEMO-1")
    page.frame_locator(f'iframe[data-ap-app="{tiny.key}"]').locator("#status").wait_for(timeout=10000)
    page.evaluate("""() => window.postMessage({ap: 'sandbox-ap/1', id: 1, method: 'flag.create',
                                             args: [{title: 'forged'}]}, '*')""")
    page.wait_for_timeout(300)
    assert page.locator("#flags .flag").count() == 0


@pytest.fixture(scope="module")
def real_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningSandbox, str]]:
    """The sandbox with the real flowcase app installed (as ``flowcase demo`` wires them) and the demo workflow."""
    from flowcase.cli.sandbox_commands import _build_app
    from flowcase.config import Settings
    from flowcase.sandbox.demo_workflow import store_demo_workflow
    from flowcase.sandbox.server import bind, serve_in_thread
    from flowcase.sandbox.testing import run_sync

    data = tmp_path_factory.mktemp("real-app")
    with running_sandbox(demo_data=True) as sb:
        probe = bind()
        port = probe.getsockname()[1]
        probe.close()
        settings = Settings(
            env="development",
            base_url=f"http://127.0.0.1:{port}",
            connect_key_server=sb.key_server,
            database_url=f"sqlite:///{data / 'app.db'}",
        )
        with serve_in_thread(_build_app(settings), port=port) as app_url:
            sb.install(f"{app_url}/atlassian-connect.json")
            assert run_sync(store_demo_workflow(sb.app)).startswith("Stored the example workflow")
            yield sb, app_url


def test_real_flowcase_panel_renders_in_the_issue_page(page: Any, real_app: tuple[RunningSandbox, str]) -> None:
    sb, _app_url = real_app
    page.goto(f"{sb.base_url}/browse/DEMO-1")
    panel = page.frame_locator('iframe[data-ap-module="flowcase-issue-content"]')
    # The panel loads the model through the app's API with an AP context token; the app reads it from the
    # sandbox's issue properties with its own signed (JWT) calls.
    panel.locator("#f-workflow").filter(has_text="Shop checkout with coupons").wait_for(timeout=15000)
    assert sb.count_calls("GET", "/rest/api/3/issue/DEMO-1/properties/flowcase-model", 200) >= 1
    assert any(c.auth == "jwt" and c.path.startswith("/rest/api/3/issue/DEMO-1") for c in sb.calls())
    # A story with a workflow shows it once, as issue content; the side panel is for stories without one.
    assert page.locator('iframe[data-ap-module="flowcase-issue-panel"]').count() == 0
    page.wait_for_timeout(300)
    page.screenshot(path=str(SCREENSHOTS / "sandbox-issue.png"), full_page=True)
    page.goto(f"{sb.base_url}/browse/DEMO-2")
    page.wait_for_selector('iframe[data-ap-module="flowcase-issue-panel"]')
    assert page.locator('iframe[data-ap-module="flowcase-issue-content"]').count() == 0


def test_real_flowcase_editor_project_and_admin_pages(page: Any, real_app: tuple[RunningSandbox, str]) -> None:
    sb, _app_url = real_app
    page.goto(f"{sb.base_url}/browse/DEMO-1")
    panel = page.frame_locator('iframe[data-ap-module="flowcase-issue-content"]')
    panel.locator("#f-workflow").filter(has_text="Shop checkout with coupons").wait_for(timeout=15000)
    panel.locator("#open-editor").click()  # opens the app's editor dialog module through AP.dialog.create
    editor = page.frame_locator("#dialog-layer iframe")
    editor.locator("svg").first.wait_for(timeout=20000)
    from playwright.sync_api import expect

    expect(editor.locator("#model-name")).to_have_value("Shop checkout with coupons", timeout=15000)
    page.wait_for_timeout(500)
    page.screenshot(path=str(SCREENSHOTS / "sandbox-editor-dialog.png"))

    page.goto(f"{sb.base_url}/projects/DEMO/apps/flowcase/flowcase-project")
    project = page.frame_locator('iframe[data-ap-module="flowcase-project"]')
    # The story is found through the app's JQL search on the indexed property alias.
    project.locator("text=DEMO-1 >> visible=true").first.wait_for(timeout=15000)
    page.screenshot(path=str(SCREENSHOTS / "sandbox-project-page.png"))
    assert any(c.path == "/rest/api/3/search/jql" and c.auth == "jwt" and c.status == 200 for c in sb.calls())

    page.goto(f"{sb.base_url}/admin/apps/flowcase/flowcase-admin")
    admin = page.frame_locator('iframe[data-ap-module="flowcase-admin"]')
    admin.locator("h1").first.wait_for(timeout=15000)
    page.wait_for_timeout(300)
    page.screenshot(path=str(SCREENSHOTS / "sandbox-admin-page.png"))


def test_admin_page_uninstalls_and_uploads_an_app(page: Any, env: tuple[RunningSandbox, TinyApp]) -> None:
    sb, tiny = env
    page.goto(f"{sb.base_url}/admin")
    page.click(f'button[data-uninstall="{tiny.key}"]')
    page.locator("text=No apps installed.").wait_for(timeout=15000)
    assert sb.sandbox.installation(tiny.key) is None and tiny.installs[-1]["event"] == "uninstalled"
    page.fill("#descriptor-url", f"{tiny.base_url}/nothing-here.json")
    page.click("#install-form button[type=submit]")
    page.locator("#install-status").filter(has_text="answered HTTP 404").wait_for(timeout=15000)
    page.fill("#descriptor-url", f"{tiny.base_url}/atlassian-connect.json")
    page.click("#install-form button[type=submit]")
    page.locator(f'button[data-uninstall="{tiny.key}"]').wait_for(timeout=15000)
    assert tiny.installs[-1]["event"] == "installed" and tiny.failures == []
    page.screenshot(path=str(SCREENSHOTS / "sandbox-manage-apps.png"))
    assert page.js_errors == []
