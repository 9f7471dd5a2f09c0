"""Saves of one issue at the same time, against the sandbox with latency: the issue always holds a loadable model,
of the saves against one revision exactly one is reported saved, and the stored model is the last reported save.
Also the lease on its own (at most one holder at a time) and hostile stored data (bombs, damaged manifests)."""

from __future__ import annotations

import asyncio
import itertools
import random
import tracemalloc
import zlib
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from builders import jira_client
from flowcase.jira import lease
from flowcase.jira.client import JiraClient
from flowcase.jira.storage import (
    CHUNK_PREFIX,
    MANIFEST_KEY,
    MODEL_FORMAT,
    BusyError,
    ConflictError,
    DamagedError,
    StorageError,
    load_model,
    restore_previous,
    save_model,
)
from flowcase.model.types import Model
from flowcase.sandbox.testing import RunningSandbox

FAST = lease.LeaseTiming(settle=0.6, wait=60)


async def story(c: JiraClient) -> str:
    made = await c.create_issue({"project": {"key": "DEMO"}, "issuetype": {"name": "Story"}, "summary": "S"})
    return str(made["key"])


def model_of(label: str, steps: int = 3) -> Model:
    nodes: list[dict[str, Any]] = [{"id": "start", "kind": "start", "next": "s0"}]
    for i in range(steps):
        decision = {"id": "1", "action": f"{label} {i} " + "x" * 40, "next": f"s{i + 1}"}
        nodes.append({"id": f"s{i}", "kind": "step", "name": f"Step {i}", "decisions": [decision]})
    nodes.append({"id": f"s{steps}", "kind": "end"})
    return Model.model_validate({"id": "m", "name": label, "workflows": [{"id": "main", "nodes": nodes}]})


@dataclass
class Outcome:
    label: str
    saved: int | None = None
    conflict: bool = False


async def race(sb: RunningSandbox, delays: list[float], latency_ms: int, big: bool) -> tuple[list[Outcome], Any, str]:
    """Savers all starting from the same revision, each after its delay; returns outcomes and what is stored."""
    async with jira_client(sb) as c:
        key = await story(c)
        base = await save_model(c, key, model_of("base"), None, timing=FAST)
    if latency_ms:
        sb.add_fault(kind="latency", path_prefix=f"/rest/api/3/issue/{key}", latency_ms=latency_ms)
    outcomes = [Outcome(f"saver{i}") for i in range(len(delays))]
    # big models go to several chunks (or an attachment), so a save is many calls long
    steps = 400 if big else 3
    threshold = 20_000 if big and len(delays) % 2 else 1_000_000

    async def one(outcome: Outcome, delay: float) -> None:
        await asyncio.sleep(delay)
        async with jira_client(sb) as c:
            try:
                outcome.saved = await save_model(
                    c, key, model_of(outcome.label, steps), base, timing=FAST, attachment_threshold=threshold
                )
            except ConflictError as exc:
                assert not isinstance(exc, BusyError), str(exc)
                outcome.conflict = True

    try:
        await asyncio.gather(*(one(o, d) for o, d in zip(outcomes, delays, strict=True)))
    finally:
        sb.clear_faults()
    async with jira_client(sb) as c:
        stored = await load_model(c, key)
    return outcomes, stored, key


def check(outcomes: list[Outcome], stored: Any) -> None:
    saved = [o for o in outcomes if o.saved is not None]
    assert len(saved) == 1, [(o.label, o.saved, o.conflict) for o in outcomes]
    assert all(o.conflict for o in outcomes if o.saved is None)
    assert stored is not None  # the issue holds a loadable model
    assert stored.revision == saved[0].saved == 2
    assert stored.model.name == saved[0].label  # the stored model is the one reported saved


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    delays=st.lists(st.sampled_from([0.0, 0.0, 0.05, 0.1, 0.3, 0.6, 1.0]), min_size=2, max_size=5),
    latency_ms=st.sampled_from([0, 20, 80, 200]),
    big=st.booleans(),
)
def test_concurrent_saves_of_one_revision_exactly_one_wins_and_nothing_is_lost(
    sb: RunningSandbox, delays: list[float], latency_ms: int, big: bool
) -> None:
    outcomes, stored, _ = asyncio.run(race(sb, delays, latency_ms, big))
    check(outcomes, stored)


def test_many_savers_at_the_same_instant_with_latency(sb: RunningSandbox) -> None:
    outcomes, stored, key = asyncio.run(race(sb, [0.0] * 5, 150, True))
    check(outcomes, stored)

    async def leftovers() -> list[str]:
        async with jira_client(sb) as c:
            return await c.property_keys("issue", key)

    keys = asyncio.run(leftovers())
    assert not [k for k in keys if k.startswith(lease.LEASE_PREFIX)]  # every lease was released
    tokens = {k[len(CHUNK_PREFIX) :].rsplit("-", 1)[0] for k in keys if k.startswith(CHUNK_PREFIX)}
    assert len(tokens) <= 2  # the current revision and its previous, nothing of the losers


def test_the_lease_has_at_most_one_holder(sb: RunningSandbox) -> None:
    async def go() -> tuple[list[tuple[float, float]], int]:
        async with jira_client(sb) as c:
            key = await story(c)
        sb.add_fault(kind="latency", path_prefix=f"/rest/api/3/issue/{key}/properties", latency_ms=60)
        spans: list[tuple[float, float]] = []
        loop = asyncio.get_running_loop()

        async def worker(i: int) -> None:
            await asyncio.sleep(random.Random(i).random() * 0.2)
            async with jira_client(sb) as c, lease.hold(c, key, "test", timing=lease.LeaseTiming(settle=0.3)) as held:
                start = loop.time()
                await asyncio.sleep(0.05)
                await held.check()
                spans.append((start, loop.time()))

        try:
            await asyncio.gather(*(worker(i) for i in range(4)))
        finally:
            sb.clear_faults()
        return sorted(spans), len(spans)

    spans, count = asyncio.run(go())
    assert count == 4
    for (_, end), (start, _) in itertools.pairwise(spans):
        assert start >= end  # no two holders at once


def test_a_busy_lease_is_reported_not_waited_for_forever(sb: RunningSandbox) -> None:
    async def go() -> None:
        async with jira_client(sb) as c:
            key = await story(c)
            async with lease.hold(c, key, "save", timing=lease.LeaseTiming(settle=0.1)):
                with pytest.raises(BusyError, match="busy"):
                    await save_model(c, key, model_of("late"), None, timing=lease.LeaseTiming(settle=0.1, wait=0.5))
            assert await save_model(c, key, model_of("late"), None, timing=FAST) == 1

    asyncio.run(go())


def test_a_dead_holders_lease_expires(sb: RunningSandbox) -> None:
    async def go() -> int:
        async with jira_client(sb) as c:
            key = await story(c)
            await c.put_property("issue", key, lease.LEASE_PREFIX + "save", {"owner": "crashed", "expiresAt": 1})
            return await save_model(c, key, model_of("after crash"), None, timing=FAST)

    assert asyncio.run(go()) == 1


def test_restore_previous_revision_and_undo_it(sb: RunningSandbox) -> None:
    async def go() -> list[str]:
        async with jira_client(sb) as c:
            key = await story(c)
            r1 = await save_model(c, key, model_of("first"), None, timing=FAST)
            r2 = await save_model(c, key, model_of("second"), r1, timing=FAST)
            with pytest.raises(ConflictError):
                await restore_previous(c, key, r1, timing=FAST)  # stale: someone saved since
            r3 = await restore_previous(c, key, r2, timing=FAST)
            names = [(await load_model(c, key)).model.name]  # type: ignore[union-attr]
            await restore_previous(c, key, r3, timing=FAST)  # the restore itself can be undone
            names.append((await load_model(c, key)).model.name)  # type: ignore[union-attr]
            return names

    assert asyncio.run(go()) == ["first", "second"]


# --- hostile or damaged storage --------------------------------------------------------------------------------


def _manifest(raw_size: int, sha: str, **fields: Any) -> dict[str, Any]:
    return {"format": MODEL_FORMAT, "revision": 1, "sha256": sha, "size": raw_size, "token": "r1xdead", **fields}


def _gzip_bomb(inflated: int) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = bytes(1 << 20)
    parts = [packer.compress(block) for _ in range(inflated >> 20)]
    return b"".join(parts) + packer.flush()


def test_a_gzip_bomb_attachment_is_refused_without_inflating_it(sb: RunningSandbox) -> None:
    bomb = _gzip_bomb(1 << 30)  # 1 GiB of zeros in about 1 MB
    assert len(bomb) < 1_100_000

    async def go() -> str:
        async with jira_client(sb) as c:
            key = await story(c)
            made = await c.add_attachment(key, f"{CHUNK_PREFIX}r1xdead.json.gz", bomb, "application/gzip")
            await c.put_property(
                "issue", key, MANIFEST_KEY, _manifest(5000, "0" * 64, storage="attachment", attachment=str(made["id"]))
            )
            tracemalloc.start()
            try:
                with pytest.raises(DamagedError) as err:
                    await load_model(c, key)
                _, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
            assert peak < 50 * 1024 * 1024, f"inflating took {peak:,} bytes"
            return str(err.value)

    message = asyncio.run(go())
    assert "damaged" in message and "inflates to more than its declared 5,000 bytes" in message


def test_a_zlib_bomb_in_chunks_stops_at_the_declared_size(sb: RunningSandbox) -> None:
    import base64

    payload = base64.b64encode(zlib.compress(bytes(50 << 20), 9)).decode()  # 50 MB of zeros, ~70 KB encoded
    parts = [payload[i : i + 30_000] for i in range(0, len(payload), 30_000)]

    async def go() -> str:
        async with jira_client(sb) as c:
            key = await story(c)
            for i, part in enumerate(parts):
                await c.put_property("issue", key, f"{CHUNK_PREFIX}r1xdead-{i}", {"d": part})
            await c.put_property(
                "issue", key, MANIFEST_KEY, _manifest(100_000, "0" * 64, storage="properties", chunks=len(parts))
            )
            with pytest.raises(DamagedError) as err:
                await load_model(c, key)
            return str(err.value)

    assert "inflates to more than its declared 100,000 bytes" in asyncio.run(go())


@pytest.mark.parametrize(
    ("fields", "what"),
    [
        ({"storage": "properties", "chunks": "many"}, "declares 'many' parts"),
        ({"storage": "properties", "chunks": 10**9}, "declares '1000000000' parts"),
        ({"storage": "properties", "chunks": 2, "size": 10**12}, "declares a size"),
        ({"storage": "floppy"}, "unknown storage 'floppy'"),
        ({"storage": "attachment", "attachment": "../../etc"}, "names no valid attachment"),
    ],
)
def test_a_hostile_manifest_is_refused_before_anything_is_fetched(
    sb: RunningSandbox, fields: dict[str, Any], what: str
) -> None:
    async def go() -> str:
        async with jira_client(sb) as c:
            key = await story(c)
            await c.put_property("issue", key, MANIFEST_KEY, {**_manifest(1000, "0" * 64), **fields})
            sb.clear_calls()
            with pytest.raises(DamagedError) as err:
                await load_model(c, key)
            assert [
                call.path for call in sb.calls() if "flowcase-model-" in call.path or "attachment" in call.path
            ] == []
            return str(err.value)

    assert what in asyncio.run(go())


def test_damaged_storage_is_explained_and_replaced_only_on_request(sb: RunningSandbox) -> None:
    async def go() -> None:
        async with jira_client(sb) as c:
            key = await story(c)
            r1 = await save_model(c, key, model_of("one"), None, timing=FAST)
            r2 = await save_model(c, key, model_of("two"), r1, timing=FAST)
            manifest = await c.get_property("issue", key, MANIFEST_KEY)
            await c.delete_property("issue", key, f"{CHUNK_PREFIX}{manifest['token']}-0")
            with pytest.raises(DamagedError, match="revision 2 is missing part 1 of 1") as err:
                await load_model(c, key)
            assert err.value.revision == r2
            previous = await load_model(c, key, previous=True)
            assert previous is not None and previous.model.name == "one"
            # a normal save of the damaged revision still works (the manifest is readable) ...
            # ... but the explicit repair is refused while the model is healthy
            healthy = await story(c)
            await save_model(c, healthy, model_of("fine"), None, timing=FAST)
            with pytest.raises(StorageError, match="not damaged"):
                await save_model(c, healthy, model_of("other"), None, replace_damaged=True, timing=FAST)
            # a manifest that is garbage blocks normal saves with a clear error, and the repair replaces it
            await c.put_property("issue", key, MANIFEST_KEY, {"revision": "two"})
            with pytest.raises(DamagedError, match="not a flowcase manifest"):
                await save_model(c, key, model_of("three"), r2, timing=FAST)
            r3 = await save_model(c, key, model_of("three"), None, replace_damaged=True, timing=FAST)
            stored = await load_model(c, key)
            assert stored is not None and stored.model.name == "three" and stored.revision == r3 == 3

    asyncio.run(go())
