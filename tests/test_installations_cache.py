"""The installations cache: one lookup per authenticated request at most (none once cached), and on PostgreSQL
an uninstall, a disable or a secret rotation made by another process drops the entry at once (NOTIFY), long
before the cache would expire."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.fernet import Fernet
from starlette.testclient import TestClient

from builders import lifecycle
from flowcase.db.crypto import SecretBox
from flowcase.db.engine import make_engine
from flowcase.db.store import InstallationData, InstallationStore
from flowcase.web.connect_testing import ConnectTestbed, new_tenant

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_authenticated_requests_cost_one_lookup_then_none(connect_bed: ConnectTestbed) -> None:
    bed = connect_bed
    tenant = new_tenant()
    with TestClient(bed.app, base_url=bed.settings.base_url) as tc:
        assert lifecycle(tc, bed, tenant, now=int(time.time()) - 5) == 204
        before = bed.store.lookups
        first = tc.get(bed.page_url(tenant, "/connect/page?issueKey=DEMO-1"))
        assert first.status_code == 200, first.text
        assert bed.store.lookups - before <= 1
        for n in range(20):
            assert tc.get(bed.page_url(tenant, f"/connect/page?issueKey=DEMO-{n + 2}")).status_code == 200
        assert bed.store.lookups - before <= 1  # served from the cache
        # the uninstall is applied in this process: the very next request is refused
        assert lifecycle(tc, bed, tenant, "uninstalled") == 204
        assert tc.get(bed.page_url(tenant, "/connect/page?issueKey=DEMO-1")).status_code == 401


def data(key: str, secret: str) -> InstallationData:
    return InstallationData(
        client_key=key, app_key="flowcase", base_url="https://x.atlassian.net", shared_secret=secret
    )


@pytest.mark.postgres
def test_a_change_in_another_process_reaches_the_cache_at_once(pg_url: str) -> None:
    pg = pg_url  # conftest.py: this worker's own database, emptied
    box = SecretBox([Fernet.generate_key().decode()])
    web_engine, other_engine = make_engine(pg), make_engine(pg)
    web = InstallationStore(web_engine, box, cache_seconds=300)  # expiry alone would take 5 minutes
    other = InstallationStore(other_engine, box, cache_seconds=300)  # e.g. the process that got the lifecycle call
    key = f"cache-{time.time_ns()}"
    assert other.installed(data(key, "s" * 32), T0)

    async def until_changed(check: object) -> float:
        start = time.monotonic()
        while not await check():  # type: ignore[operator]
            assert time.monotonic() - start < 3, "the cache kept a stale entry"
            await asyncio.sleep(0.005)
        return time.monotonic() - start

    async def scenario() -> list[float]:
        web.start_listening()
        while not web._listening:
            await asyncio.sleep(0.01)
        assert await web.ashared_secret(key) == "s" * 32
        reads = web.lookups
        for _ in range(50):
            assert await web.ashared_secret(key) == "s" * 32
        assert web.lookups == reads  # cached
        waits = []
        await asyncio.to_thread(other.set_enabled, key, False, T0 + timedelta(seconds=1))

        async def disabled() -> bool:
            return await web.ashared_secret(key) is None

        waits.append(await until_changed(disabled))
        await asyncio.to_thread(other.installed, data(key, "t" * 32), T0 + timedelta(seconds=2))
        await asyncio.to_thread(other.set_enabled, key, True, T0 + timedelta(seconds=3))

        async def reinstalled() -> bool:
            return await web.ashared_secret(key) == "t" * 32

        waits.append(await until_changed(reinstalled))
        await asyncio.to_thread(other.uninstalled, key, T0 + timedelta(seconds=4))

        async def uninstalled() -> bool:
            view, secret = await web.acredentials(key)
            return view is not None and not view.active and secret is None

        waits.append(await until_changed(uninstalled))
        await web.stop_listening()
        return waits

    try:
        waits = asyncio.run(scenario())
    finally:
        web_engine.dispose()
        other_engine.dispose()
    assert max(waits) < 1.0, waits


@pytest.mark.postgres
def test_nothing_is_cached_while_nobody_listens(pg_url: str) -> None:
    engine = make_engine(pg_url)
    store = InstallationStore(engine, SecretBox([Fernet.generate_key().decode()]), cache_seconds=300)
    key = f"nolisten-{time.time_ns()}"
    try:
        assert store.installed(data(key, "u" * 32), T0)
        before = store.lookups
        for _ in range(3):
            assert store.shared_secret(key) == "u" * 32
        assert store.lookups - before == 3  # no listener (no event loop): every read goes to the database
    finally:
        engine.dispose()
