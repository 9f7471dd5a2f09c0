"""CPU-heavy request work in a bounded pool of worker processes, fair to tenants, with hard limits.

Parsing, validating, generating, exporting, importing and diffing a model can take seconds on a large or hostile
model; on the event loop that would stall every other request of every tenant. Each such piece of work runs in
one of ``compute_workers`` processes (pebble's ``ProcessPool``, spawned, so a worker shares nothing with the
server's threads) under:

- a time limit (``compute_timeout_seconds``): the worker is killed and the caller told the model is too large for
  interactive use and to use the CLI, which has no such limit;
- a memory limit per worker (``compute_memory_mb``, the address space): running out is the same answer;
- admission: at most ``compute_workers`` pieces run at once, and one tenant holds at most ``compute_per_tenant``
  of them, so a tenant's heavy requests cannot take every worker from the others; a request that finds no free
  worker within ``compute_queue_seconds`` gets 503 with ``Retry-After``.

The pool is one per server process, started on first use and shared by every app in it.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import multiprocessing
import os
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from pebble import ProcessExpired, ProcessPool

from flowcase.config import Settings
from flowcase.errors import FlowcaseError
from flowcase.web.errors import ApiError, api_error

T = TypeVar("T")
POLL_SECONDS = 0.01
CLI_HINT = "too large for interactive use; use the CLI (flowcase validate / generate / export), which has no limit"


@dataclass(frozen=True)
class Limits:
    workers: int = 2
    per_tenant: int = 1
    timeout: float = 20.0
    queue_wait: float = 10.0
    memory_mb: int = 2048

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        workers = settings.compute_workers
        per_tenant = settings.compute_per_tenant or max(1, workers - 1)
        return cls(
            workers,
            min(per_tenant, workers),
            settings.compute_timeout_seconds,
            settings.compute_queue_seconds,
            settings.compute_memory_mb,
        )


@dataclass(frozen=True)
class Failure:
    """An :class:`ApiError` raised in a worker, in a form that crosses the process boundary."""

    status: int
    code: str
    message: str
    extra: dict[str, Any]


def _init_worker(memory_mb: int) -> None:
    """Workers run at a lower CPU priority, so the server's event loop is served first on a busy machine, and
    with their address space capped."""
    with contextlib.suppress(OSError):
        os.nice(10)
    if memory_mb:
        import resource

        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _call(fn: Callable[..., T], *args: Any) -> T | Failure:
    """Runs in a worker: ``fn(*args)``, with expected failures returned rather than raised."""
    try:
        return fn(*args)
    except FlowcaseError as exc:
        api = api_error(exc)
        return Failure(api.status, api.code, api.message, api.extra)
    except ApiError as exc:
        return Failure(exc.status, exc.code, exc.message, exc.extra)
    except MemoryError:
        return Failure(422, "too-large", f"the model needs more memory than one request may use: {CLI_HINT}", {})


_pools: dict[tuple[int, int], ProcessPool] = {}
_pools_lock = threading.Lock()


def _pool(workers: int, memory_mb: int) -> ProcessPool:
    with _pools_lock:
        pool = _pools.get((workers, memory_mb))
        if pool is None or not pool.active:
            pool = ProcessPool(
                max_workers=workers,
                initializer=_init_worker,
                initargs=(memory_mb,),
                context=multiprocessing.get_context("spawn"),
            )
            _pools[(workers, memory_mb)] = pool
        return pool


@atexit.register
def _stop_pools() -> None:
    for pool in _pools.values():
        pool.stop()  # type: ignore[no-untyped-call]
        pool.join(timeout=5)


class Compute:
    """Admission and dispatch for one app: ``await compute.run(tenant, fn, *args)``."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self._lock = threading.Lock()
        self._running = 0
        self._by_tenant: Counter[str] = Counter()

    def _admit(self, tenant: str) -> bool:
        with self._lock:
            if self._running >= self.limits.workers or self._by_tenant[tenant] >= self.limits.per_tenant:
                return False
            self._running += 1
            self._by_tenant[tenant] += 1
            return True

    def _release(self, tenant: str) -> None:
        with self._lock:
            self._running -= 1
            self._by_tenant[tenant] -= 1
            if self._by_tenant[tenant] <= 0:
                del self._by_tenant[tenant]

    @property
    def running(self) -> int:
        return self._running

    async def run(self, tenant: str, fn: Callable[..., T], *args: Any) -> T:
        deadline = time.monotonic() + self.limits.queue_wait
        while not self._admit(tenant):
            if time.monotonic() >= deadline:
                raise ApiError(
                    503, "busy", "the server is busy with other large requests; try again in a moment", retryAfter=5
                )
            await asyncio.sleep(POLL_SECONDS)
        try:
            future = _pool(self.limits.workers, self.limits.memory_mb).schedule(
                _call, args=(fn, *args), timeout=self.limits.timeout
            )
            try:
                result = await asyncio.wrap_future(future)
            except asyncio.CancelledError:
                future.cancel()  # type: ignore[no-untyped-call]  # the client went away: pebble stops the worker
                raise
            except (TimeoutError, concurrent.futures.TimeoutError):
                raise ApiError(
                    422,
                    "too-large",
                    f"the work took longer than {self.limits.timeout:g} s and was stopped: {CLI_HINT}",
                ) from None
            except ProcessExpired:
                raise ApiError(422, "too-large", f"the work ran out of memory and was stopped: {CLI_HINT}") from None
        finally:
            self._release(tenant)
        if isinstance(result, Failure):
            raise ApiError(result.status, result.code, result.message, **result.extra)
        return result  # type: ignore[no-any-return]
