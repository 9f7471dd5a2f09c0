"""Helpers for the browser tests: serve an ASGI app on 127.0.0.1 (the app installed into a sandbox as a Connect
app, too), design and publish in the editor, save screenshots for the docs."""

from __future__ import annotations

import os
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from builders import connect_settings
from flowcase.db.migrate import upgrade
from flowcase.sandbox.server import bind
from flowcase.sandbox.testing import RunningSandbox
from flowcase.web.app import create_app

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

# Tests refresh the screenshots in docs/ only when FLOWCASE_SCREENSHOTS=docs; otherwise they go to a temp folder,
# so a test run never dirties the work tree.
SCREENSHOTS = (
    Path(__file__).resolve().parents[2] / "docs" / "screenshots"
    if os.environ.get("FLOWCASE_SCREENSHOTS") == "docs"
    else Path(tempfile.gettempdir()) / "flowcase-screenshots"
)


STANDALONE_TOKEN = "browser-test-token-0123456789"


def sign_in(page: Any, app_url: str, target: str) -> None:
    """Open ``target`` of a standalone app (the ``app_url`` fixture) with its local access token."""
    page.goto(f"{app_url}/app/login?token={STANDALONE_TOKEN}&next={target}")


@contextmanager
def serve(app: Any, sock: socket.socket | None = None) -> Iterator[str]:
    """Run an ASGI app with uvicorn in a thread; yields its base URL. ``sock``: a listening socket from
    :func:`flowcase.sandbox.server.bind` to serve on, for a caller that needs the port before it can build the
    app; held from the start, so no other process takes the port in between."""
    sock = sock or bind()
    port = int(sock.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.time() + 10
    while not server.started:
        if time.time() > deadline:
            raise RuntimeError("the app did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(5)
        sock.close()


@dataclass
class SandboxApp:
    """The app installed into a sandbox Jira (a module's fixture): the sandbox and the app's base URL."""

    sandbox: RunningSandbox
    app_url: str


@contextmanager
def connect_app(sb: RunningSandbox, database_url: str, **settings: Any) -> Iterator[tuple[Any, str]]:
    """The app (:func:`builders.connect_settings`, ``settings`` for more) on a migrated ``database_url``, served and
    installed into the sandbox as a Connect app; yields the app and its base URL."""
    sock = bind()
    app_settings = connect_settings(sb, int(sock.getsockname()[1]), database_url, **settings)
    upgrade(app_settings.database_url)
    app = create_app(app_settings)
    with serve(app, sock) as url:
        with ThreadPoolExecutor(1) as pool:  # install from another thread: Playwright's sync API owns this one's loop
            pool.submit(sb.install, f"{url}/atlassian-connect.json").result()
        yield app, url


def design_checkout(editor: Any) -> int:
    """In an open, empty editor, once it is ready: import examples/bpmn/checkout.bpmn, reword the cart step's
    first action (saved), generate and highlight the second test's path; returns how many tests there are."""
    editor.locator("#main[aria-busy='false']").wait_for()
    editor.locator("#import-file").set_input_files(str(EXAMPLES / "bpmn" / "checkout.bpmn"))
    editor.locator(".djs-element[data-element-id=cart]").wait_for()
    # edit a decision-table cell
    editor.locator(".djs-element[data-element-id=cart]").click()
    cell = editor.locator("#table-host .fc-cell[data-row='0'][data-key='action']")
    cell.fill("Open the cart page with three items in it.")
    cell.press("Tab")
    editor.locator("#save-status:text-matches('^Saved')").wait_for(timeout=20000)
    # generate, highlight a test
    editor.locator("#generate").click()
    editor.locator(".fc-test-row").first.wait_for()
    count = int(editor.locator(".fc-test-row").count())
    editor.locator(".fc-test-row").nth(1).click()
    assert editor.locator(".djs-element.fc-path").count() > 2
    return count


def publish_and_confirm(editor: Any, sb: RunningSandbox) -> list[dict[str, Any]]:
    """Publish from the editor, confirm, and wait until it says it has published; returns the issues flowcase has
    published in the sandbox's project DEMO (:func:`published_issues`)."""
    editor.locator("#publish").click()
    editor.locator("#confirm-publish").click()
    editor.locator("#publish-progress .fc-progress-text:text-matches('^Published')").wait_for(timeout=60000)
    return published_issues(sb)


def close_editor(page: Any, editor: Any, iframe: str) -> None:
    """Close the editor (its Close button) and wait until its ``iframe`` has left the page."""
    editor.locator("#close").click()
    page.wait_for_selector(iframe, state="detached")


def shows_tests(panel: Any, count: int) -> None:
    """Wait until the issue panel shows ``count`` published tests."""
    panel.locator(f"#f-tests:text-is('{count}')").wait_for(timeout=20000)


def published_issues(sb: RunningSandbox) -> list[dict[str, Any]]:
    """The issues flowcase published in the sandbox's project DEMO (through its search)."""
    r = httpx.get(
        f"{sb.base_url}/rest/api/3/search/jql",
        params={"jql": 'project = DEMO AND labels = "flowcase"', "fields": "summary"},
        auth=sb.basic_auth(),
    )
    assert r.status_code == 200
    return list(r.json()["issues"])


def screenshot(page: Any, name: str, **kwargs: Any) -> None:
    """Save docs/screenshots/web-<name>.png (the docs show these)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"web-{name}.png"), **kwargs)
