"""Running ASGI apps with uvicorn: in a background thread (tests) or several on one event loop (CLI)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Generator, Iterator
from typing import Any

import uvicorn


def bind(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    """A listening socket (port 0 = a free port); raises OSError with the reason when the port is taken."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
    except OSError:
        sock.close()  # a taken port: the caller gets the error, not a socket left to the garbage collector
        raise
    sock.setblocking(False)
    return sock


class QuietServer(uvicorn.Server):
    """A uvicorn server that leaves signal handling to its owner (several servers share one loop)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def make_server(app: Any, log_level: str = "warning") -> QuietServer:
    config = uvicorn.Config(
        app, lifespan="auto", log_level=log_level, access_log=False, http="h11", timeout_graceful_shutdown=3
    )
    return QuietServer(config)


@contextlib.contextmanager
def serve_in_thread(
    app: Any, host: str = "127.0.0.1", port: int = 0, *, sock: socket.socket | None = None
) -> Iterator[str]:
    """Serve ``app`` on a free local port in a daemon thread; yields its base URL; stops on exit (and closes the
    socket). ``sock``: a socket from :func:`bind` to serve on instead, for a caller that needs the port before it
    can build the app; holding it from the start means no other process takes the port in between."""
    sock = sock or bind(host, port)
    actual = sock.getsockname()[1]
    server = make_server(app)
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])), daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the server did not start")
        time.sleep(0.01)
    try:
        yield f"http://{host}:{actual}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
