"""Browser test fixtures: Debian chromium driven by Playwright, apps served by uvicorn on 127.0.0.1.

Tests are marked ``browser``; they are skipped only when /usr/bin/chromium is missing and
FLOWCASE_REQUIRE_BROWSER is unset (CI sets it, so a missing browser fails there).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from webtools import STANDALONE_TOKEN, serve

from builders import standalone_app
from flowcase.sandbox.testing import RunningSandbox, running_sandbox

CHROMIUM = os.environ.get("FLOWCASE_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
    "--disable-dev-shm-usage",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium for one test module. Not session-wide: Playwright's sync API keeps an event loop running in this
    thread while it is started, which would break every later test that calls ``asyncio.run``."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("FLOWCASE_REQUIRE_BROWSER"):
            pytest.fail(f"FLOWCASE_REQUIRE_BROWSER is set but {CHROMIUM} does not exist")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        # The app's CSP forbids eval, which Playwright's string predicates (wait_for_function) need: test
        # contexts bypass it, and tests/browser/test_csp.py loads the pages under the real policy.
        b.strict_context = b.new_context
        b.new_context = functools.partial(b.strict_context, bypass_csp=True)
        yield b
        b.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1440, "height": 900}, device_scale_factor=1)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    pg.js_errors = errors
    # Only 127.0.0.1 is reachable in tests; refuse anything else at once instead of waiting on it.
    pg.route("**/*", lambda route: route.continue_() if _local(route.request.url) else route.abort())
    yield pg
    context.close()


def _local(url: str) -> bool:
    return url.startswith(("http://127.0.0.1", "data:", "blob:", "about:"))


@pytest.fixture(scope="module")
def sandbox() -> Iterator[RunningSandbox]:
    """A sandbox Jira with the demo data, set up for publishing by flowcase's admin setup, one per test module."""
    with running_sandbox(demo_data=True, setup=True) as sb:
        yield sb


@pytest.fixture(scope="module")
def app_url(sandbox: RunningSandbox) -> Iterator[str]:
    """The app with the standalone host against the module's sandbox; sign in with ``webtools.sign_in``."""
    with serve(standalone_app(STANDALONE_TOKEN, sandbox, save_settle_seconds=0.2)) as url:
        yield url
