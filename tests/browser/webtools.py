"""Helpers for the browser tests: serve an ASGI app on 127.0.0.1, save screenshots for the docs."""

from __future__ import annotations

import os
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn

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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(app: Any, port: int | None = None) -> Iterator[str]:
    """Run an ASGI app with uvicorn in a thread; yields its base URL."""
    port = port or free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
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


def screenshot(page: Any, name: str, **kwargs: Any) -> None:
    """Save docs/screenshots/web-<name>.png (the docs show these)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"web-{name}.png"), **kwargs)
