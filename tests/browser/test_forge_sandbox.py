"""The main job inside the sandbox Jira's Forge mode: the app is installed as a Forge app with a remote (this
Python backend); its Custom UI resources (built from the same static front end) run in the sandbox's iframes with
the Forge bridge stand-in, every API call is an ``invokeRemote`` carrying a Forge Invocation Token signed with
the sandbox's JWKS, and the app calls the sandbox's REST API with the product token Forge sent."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from webtools import (
    SandboxApp,
    close_editor,
    design_checkout,
    publish_and_confirm,
    screenshot,
    serve,
    shows_tests,
)

from flowcase.config import Settings
from flowcase.db.migrate import upgrade
from flowcase.hosts.forge.factory import forge_from_settings
from flowcase.sandbox.forge_host import install_forge_app
from flowcase.sandbox.server import bind
from flowcase.sandbox.testing import running_sandbox
from flowcase.web.app import create_app
from flowcase.web.forge_bundle import build

pytestmark = pytest.mark.browser

STORY = "DEMO-1"
APP_ID = "5f0c6f0e-6c3b-4a53-9f53-1d0c0f0e0a01"


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxApp]:
    tmp = tmp_path_factory.mktemp("forge")
    resources = tmp / "customui"
    build(resources)
    with running_sandbox(demo_data=True, setup=True) as sb:
        sock = bind()
        settings = Settings(
            env="test",
            base_url=f"http://127.0.0.1:{sock.getsockname()[1]}",
            database_url=f"sqlite:///{tmp / 'app.db'}",
            forge_app_id=APP_ID,
            forge_jwks_url=f"{sb.base_url}/_forge/jwks.json",
        )
        upgrade(settings.database_url)
        forge = forge_from_settings(settings)
        assert forge is not None
        app = create_app(settings, hosts=[forge.host], extra_routes=forge.routes)
        with serve(app, sock) as url, ThreadPoolExecutor(1) as pool:
            # install from another thread: Playwright's sync API owns this thread's event loop
            pool.submit(install_forge_app, sb.sandbox, app_id=APP_ID, remote_url=url, resources=resources).result()
            yield SandboxApp(sb, url)


def forge_frame(page: Any, resource: str) -> Any:
    page.wait_for_selector(f"iframe[data-forge-resource='{resource}']")
    return page.frame_locator(f"iframe[data-forge-resource='{resource}']")


def test_main_job_inside_the_sandbox_forge_issue_page(page: Any, env: SandboxApp) -> None:
    sb = env.sandbox
    page.goto(f"{sb.base_url}/forge/browse/{STORY}")
    panel = forge_frame(page, "issue-panel")
    panel.locator("#main[aria-busy='false']").wait_for()
    assert panel.locator("#f-workflow").inner_text() == "None yet"
    # open the editor: a Forge modal of the app's "editor" resource, opened through @forge/bridge's Modal
    panel.locator("#open-editor").click()
    editor = forge_frame(page, "editor")
    count = design_checkout(editor)
    screenshot(page, "forge-sandbox-editor")
    # the issues exist in the sandbox Jira, created with the Forge user token
    assert len(publish_and_confirm(editor, sb)) == count

    # closing the editor modal (view.close) calls the panel's onClose: it shows the published suite
    close_editor(page, editor, "iframe[data-forge-resource='editor']")
    shows_tests(panel, count)
    page.reload()
    panel = forge_frame(page, "issue-panel")
    shows_tests(panel, count)
    assert panel.locator("#f-published").inner_text() != "Never"
    assert not [e for e in page.js_errors if "favicon" not in e]
    screenshot(page, "forge-sandbox-issue")
