"""Running the sandbox (and, for the demo, the app next to it) in one process until Ctrl-C."""

from __future__ import annotations

import asyncio
import signal
import socket
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from flowcase.sandbox.server import QuietServer, bind, make_server


class PortInUseError(OSError):
    pass


def bind_or_explain(host: str, port: int) -> socket.socket:
    try:
        return bind(host, port)
    except OSError as exc:
        raise PortInUseError(f"cannot listen on {host}:{port} ({exc.strerror or exc}); choose another port") from None


async def serve_together(
    apps: Sequence[tuple[Any, socket.socket]],
    on_started: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Serve each (app, socket) on this loop; run ``on_started`` once all listen; stop all on SIGINT/SIGTERM."""
    servers: list[QuietServer] = [make_server(app) for app, _ in apps]
    loop = asyncio.get_running_loop()

    def stop() -> None:
        for server in servers:
            if server.should_exit:
                server.force_exit = True
            server.should_exit = True

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop)
    tasks = [asyncio.create_task(server.serve(sockets=[sock])) for server, (_, sock) in zip(servers, apps, strict=True)]
    try:
        while not all(s.started for s in servers):
            if any(t.done() for t in tasks):
                break
            await asyncio.sleep(0.02)
        if on_started is not None and all(s.started for s in servers):
            try:
                await on_started()
            except BaseException:
                stop()
                raise
        await asyncio.gather(*tasks)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
