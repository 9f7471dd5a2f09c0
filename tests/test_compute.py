"""The compute pool: heavy request work in killable worker processes, time and memory limits, fairness to tenants."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from starlette.testclient import TestClient

from flowcase.config import Settings
from flowcase.hosts.standalone import StandaloneHost
from flowcase.web.app import create_app
from flowcase.web.compute import Compute, Limits
from flowcase.web.errors import ApiError

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
TOKEN = "local-test-token-0123456789"
HEADERS = {"X-Flowcase-Client": "web"}


def spin() -> None:
    while True:
        pass


def nap(seconds: float, tag: str) -> str:
    time.sleep(seconds)
    return tag


def hog() -> int:
    return len(bytearray(4 * 1024**3))


def refuse() -> None:
    raise ApiError(418, "teapot", "no", hint="here")


def test_a_runaway_is_killed_at_its_time_limit_while_others_are_served() -> None:
    compute = Compute(Limits(workers=2, per_tenant=1, timeout=1.5, queue_wait=5))

    async def scenario() -> tuple[ApiError, str]:
        runaway = asyncio.ensure_future(compute.run("noisy", spin))
        await asyncio.sleep(0.2)
        other = await compute.run("quiet", nap, 0.0, "served")
        with pytest.raises(ApiError) as caught:
            await runaway
        return caught.value, other

    error, other = asyncio.run(scenario())
    assert other == "served"
    assert (error.status, error.code) == (422, "too-large")
    assert "use the CLI" in error.message
    assert compute.running == 0
    # the pool replaced the killed worker and keeps serving
    assert asyncio.run(compute.run("noisy", nap, 0.0, "again")) == "again"


def test_one_tenant_cannot_take_every_worker() -> None:
    compute = Compute(Limits(workers=2, per_tenant=1, timeout=30, queue_wait=30))
    finished: list[str] = []

    async def tracked(tenant: str, seconds: float, tag: str) -> None:
        finished.append(await compute.run(tenant, nap, seconds, tag))

    async def scenario() -> None:
        heavy = [asyncio.ensure_future(tracked("noisy", 1.0, f"noisy-{i}")) for i in range(3)]
        await asyncio.sleep(0.1)
        await tracked("quiet", 0.0, "quiet")
        await asyncio.gather(*heavy)

    asyncio.run(scenario())
    # the quiet tenant's request ran beside the noisy one's first, not after all three
    assert finished.index("quiet") < finished.index("noisy-1")
    assert sorted(finished) == ["noisy-0", "noisy-1", "noisy-2", "quiet"]


def test_a_request_that_finds_no_free_worker_in_time_is_told_to_retry() -> None:
    compute = Compute(Limits(workers=1, per_tenant=1, timeout=30, queue_wait=0.3))

    async def scenario() -> ApiError:
        holder = asyncio.ensure_future(compute.run("a", nap, 1.5, "held"))
        await asyncio.sleep(0.1)
        with pytest.raises(ApiError) as caught:
            await compute.run("b", nap, 0.0, "late")
        await holder
        return caught.value

    error = asyncio.run(scenario())
    assert (error.status, error.code) == (503, "busy")
    assert error.response().headers["retry-after"] == "5"


def test_memory_is_capped_per_worker() -> None:
    compute = Compute(Limits(workers=1, per_tenant=1, timeout=30, memory_mb=512))
    with pytest.raises(ApiError) as caught:
        asyncio.run(compute.run("a", hog))
    assert (caught.value.status, caught.value.code) == (422, "too-large")
    assert "memory" in caught.value.message


def test_expected_failures_cross_the_process_boundary() -> None:
    compute = Compute(Limits(workers=1, per_tenant=1))
    with pytest.raises(ApiError) as caught:
        asyncio.run(compute.run("a", refuse))
    assert (caught.value.status, caught.value.code, caught.value.extra) == (418, "teapot", {"hint": "here"})


def login_model() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((EXAMPLES / "login.yaml").read_text())
    return data


def test_a_model_above_the_interactive_limit_is_sent_to_the_cli() -> None:
    app = create_app(Settings(env="test", interactive_max_nodes=3), hosts=[StandaloneHost(None, TOKEN)])
    client = TestClient(app)
    client.cookies.set("flowcase_local", TOKEN)
    for path, body in (
        ("/api/models/validate", {"doc": {"model": login_model()}}),
        ("/api/generate", {"doc": {"model": login_model()}}),
    ):
        r = client.post(path, json=body, headers=HEADERS)
        assert r.status_code == 413, r.text
        assert r.json()["error"]["code"] == "too-large"
        assert "use the CLI" in r.json()["error"]["message"]
    text = (EXAMPLES / "login.yaml").read_text()
    r = client.post("/api/models/import", json={"text": text, "filename": "login.yaml"}, headers=HEADERS)
    assert r.status_code == 413


def test_settings_give_the_limits() -> None:
    limits = Limits.from_settings(Settings(env="test", compute_workers=4))
    assert (limits.workers, limits.per_tenant) == (4, 3)
    assert Limits.from_settings(Settings(env="test", compute_workers=1)).per_tenant == 1
    assert Limits.from_settings(Settings(env="test", compute_workers=4, compute_per_tenant=9)).per_tenant == 4
