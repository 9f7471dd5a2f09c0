"""A short-lived exclusive lease on one Jira issue, kept as an issue property next to the data it guards.

Jira has no compare-and-swap on properties, so the lease is a two-step claim with a settle time:

1. read ``flowcase-lease-<purpose>``; if another owner holds it and it has not expired, wait and try again;
2. write ``{owner, expiresAt}``, noting how long the read-and-write took (``gap``);
3. wait ``settle`` seconds and read it back: it is ours only if it still names us AND our own ``gap`` was
   shorter than ``settle``.

Why that is enough: two claimants A and B. If B read "free" before A's write landed and B's write landed after
A's read-back, then B's write came more than ``settle`` after B's read (A waited ``settle`` after its write
landed), so B's own ``gap`` exceeds ``settle`` and B gives up that attempt. Otherwise B's write is visible to
A's read-back and A gives up. So at most one claimant holds the lease, whatever the latencies, as long as each
process measures its own durations (a monotonic clock; no shared clock is needed for this part).

``expiresAt`` (wall clock) only frees a lease whose holder died; a holder calls :meth:`Lease.check` before it
makes its work visible (the fence): it fails when the lease is no longer ours or when half of ``ttl`` has passed,
long before any other process would treat it as expired. Every place that writes the guarded data, in every
process (web app, worker, CLI), takes the same lease: the lock lives where the data lives.
"""

from __future__ import annotations

import asyncio
import random
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

LEASE_PREFIX = "flowcase-lease-"


class LeaseError(Exception):
    """The lease could not be had or was lost (one-line message)."""


class LeaseBusy(LeaseError):
    """Someone else held the lease for longer than we were willing to wait."""


class LeaseLost(LeaseError):
    """The lease is no longer ours (expired, or taken over): the guarded work must not be made visible."""


class PropertyClient(Protocol):
    """What the lease needs of :class:`flowcase.jira.client.JiraClient`."""

    async def get_property(self, entity: str, entity_id: str, key: str) -> Any: ...

    async def put_property(self, entity: str, entity_id: str, key: str, value: Any) -> None: ...

    async def delete_property(self, entity: str, entity_id: str, key: str) -> None: ...


@dataclass(frozen=True, slots=True)
class LeaseTiming:
    """``settle`` must exceed one Jira read plus one write under load (default 1 s); ``ttl`` frees a dead holder's
    lease; ``wait`` bounds how long a claimant waits for a busy lease before :class:`LeaseBusy`."""

    settle: float = 1.0
    ttl: float = 120.0
    wait: float = 60.0
    poll: float = 0.2


@dataclass(slots=True)
class Lease:
    client: PropertyClient
    issue_key: str
    key: str
    owner: str
    timing: LeaseTiming
    clock: Callable[[], float]
    acquired_at: float = 0.0
    attempts: int = field(default=0)

    async def check(self) -> None:
        """Raise :class:`LeaseLost` unless the lease is still ours with at least half its ttl left."""
        if self.clock() - self.acquired_at > self.timing.ttl / 2:
            raise LeaseLost(f"the {self.key} lease on {self.issue_key} ran out before the work finished")
        value = await self.client.get_property("issue", self.issue_key, self.key)
        if _owner(value) != self.owner:
            raise LeaseLost(f"the {self.key} lease on {self.issue_key} was taken over")

    async def renew(self, wall: Callable[[], float] = time.time) -> None:
        """Extend a lease still ours (for long work such as a publish): :class:`LeaseLost` otherwise."""
        started = self.clock()
        await self.check()
        await self.client.put_property(
            "issue", self.issue_key, self.key, {"owner": self.owner, "expiresAt": int(wall() + self.timing.ttl)}
        )
        self.acquired_at = started

    async def renew_if_due(self) -> None:
        """:meth:`renew` once a quarter of ``ttl`` has passed since the lease was taken or last renewed."""
        if self.clock() - self.acquired_at > self.timing.ttl / 4:
            await self.renew()


def _owner(value: Any) -> str | None:
    return str(value.get("owner")) if isinstance(value, dict) and value.get("owner") else None


def _expired(value: Any, now: float) -> bool:
    expires = value.get("expiresAt") if isinstance(value, dict) else None
    return not isinstance(expires, int | float) or expires <= now


@asynccontextmanager
async def hold(
    client: PropertyClient,
    issue_key: str,
    purpose: str,
    *,
    timing: LeaseTiming | None = None,
    owner: str | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    clock: Callable[[], float] = time.monotonic,
    wall: Callable[[], float] = time.time,
) -> AsyncIterator[Lease]:
    """Hold the ``purpose`` lease on ``issue_key`` for the body of the ``async with``; released afterwards."""
    timing = timing or LeaseTiming()
    lease = Lease(client, issue_key, LEASE_PREFIX + purpose, owner or secrets.token_hex(8), timing, clock)
    await _acquire(lease, sleep, wall)
    try:
        yield lease
    finally:
        await _release(lease)


async def _acquire(lease: Lease, sleep: Callable[[float], Awaitable[None]], wall: Callable[[], float]) -> None:
    timing, client = lease.timing, lease.client
    deadline = lease.clock() + timing.wait
    while True:
        lease.attempts += 1
        started = lease.clock()
        value = await client.get_property("issue", lease.issue_key, lease.key)
        holder = _owner(value)
        if holder is None or holder == lease.owner or _expired(value, wall()):
            await client.put_property(
                "issue", lease.issue_key, lease.key, {"owner": lease.owner, "expiresAt": int(wall() + timing.ttl)}
            )
            gap = lease.clock() - started
            await sleep(timing.settle)
            confirmed = _owner(await client.get_property("issue", lease.issue_key, lease.key))
            if confirmed == lease.owner and gap < timing.settle:
                lease.acquired_at = started
                return
            if confirmed == lease.owner:  # our own write was too slow to be sure: step back and try again
                await client.delete_property("issue", lease.issue_key, lease.key)
        if lease.clock() >= deadline:
            raise LeaseBusy(
                f"{lease.issue_key} is busy: another {lease.key.removeprefix(LEASE_PREFIX)} is in progress "
                f"(waited {timing.wait:g} s); try again in a moment"
            )
        await sleep(timing.poll * (1 + random.random()))  # noqa: S311 - jitter, not security


async def _release(lease: Lease) -> None:
    try:
        if _owner(await lease.client.get_property("issue", lease.issue_key, lease.key)) == lease.owner:
            await lease.client.delete_property("issue", lease.issue_key, lease.key)
    except Exception:  # a lease left behind expires by itself; the work's own outcome matters more
        return


__all__ = ["LEASE_PREFIX", "Lease", "LeaseBusy", "LeaseError", "LeaseLost", "LeaseTiming", "hold"]
