"""The web API's side of model storage against the sandbox: concurrent saves from two editors, the conflict's
who-and-when, restoring the previous revision, and damaged storage explained and replaced only on request."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml
from starlette.testclient import TestClient

from builders import jira_client, new_story, standalone_app
from flowcase.jira import storage
from flowcase.jira.client import JiraClient
from flowcase.jira.storage import CHUNK_PREFIX, MANIFEST_KEY
from flowcase.sandbox.testing import RunningSandbox

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
TOKEN = "web-storage-test-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def client(sb: RunningSandbox) -> Iterator[TestClient]:
    with TestClient(standalone_app(TOKEN, sb, save_settle_seconds=0.3)) as c:
        yield c


def doc(name: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((EXAMPLES / "password-reset.yaml").read_text())
    return {"model": data, "name": name}


def jira(sb: RunningSandbox, fn: Any) -> Any:
    async def go() -> Any:
        async with jira_client(sb) as c:
            return await fn(c)

    return asyncio.run(go())


def test_two_editors_saving_the_same_revision_at_once(client: TestClient, sb: RunningSandbox) -> None:
    key = new_story(sb, summary="S")
    base = client.put(f"/api/models/{key}", json={"doc": doc("base"), "revision": None}, headers=AUTH)
    assert base.status_code == 200
    sb.add_fault(kind="latency", path_prefix=f"/rest/api/3/issue/{key}", latency_ms=80)
    try:
        with ThreadPoolExecutor(3) as pool:
            answers = list(
                pool.map(
                    lambda n: client.put(f"/api/models/{key}", json={"doc": doc(n), "revision": 1}, headers=AUTH),
                    ["alice", "bob", "carol"],
                )
            )
    finally:
        sb.clear_faults()
    codes = sorted(a.status_code for a in answers)
    assert codes == [200, 409, 409], [a.text for a in answers]
    winner = next(a for a in answers if a.status_code == 200)
    winner_name = ["alice", "bob", "carol"][answers.index(winner)]
    for loser in (a for a in answers if a.status_code == 409):
        error = loser.json()["error"]
        assert error["code"] == "conflict" and error["revision"] == 2 and error["savedAt"]
    loaded = client.get(f"/api/models/{key}", headers=AUTH).json()
    assert loaded["revision"] == 2 and loaded["model"]["name"] == winner_name
    # the user who lost chose "overwrite" after confirming: the editor resends with the revision it was shown
    again = client.put(f"/api/models/{key}", json={"doc": doc("bob wins"), "revision": 2}, headers=AUTH)
    assert again.status_code == 200 and again.json()["revision"] == 3


def test_restore_previous_revision(client: TestClient, sb: RunningSandbox) -> None:
    key = new_story(sb, summary="S")
    client.put(f"/api/models/{key}", json={"doc": doc("one"), "revision": None}, headers=AUTH)
    client.put(f"/api/models/{key}", json={"doc": doc("two"), "revision": 1}, headers=AUTH)
    stale = client.post(f"/api/models/{key}/restore", json={"revision": 1}, headers=AUTH)
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "conflict"
    restored = client.post(f"/api/models/{key}/restore", json={"revision": 2}, headers=AUTH)
    assert restored.status_code == 200, restored.text
    assert restored.json()["revision"] == 3 and restored.json()["model"]["name"] == "one"
    assert client.get(f"/api/models/{key}", headers=AUTH).json()["model"]["name"] == "one"
    fresh = new_story(sb, summary="S")
    client.put(f"/api/models/{fresh}", json={"doc": doc("only"), "revision": None}, headers=AUTH)
    none = client.post(f"/api/models/{fresh}/restore", json={"revision": 1}, headers=AUTH)
    assert none.status_code == 409 and none.json()["error"]["code"] == "no-previous"


def test_damaged_storage_is_explained_and_replaced_only_after_confirmation(
    client: TestClient, sb: RunningSandbox
) -> None:
    key = new_story(sb, summary="S")
    client.put(f"/api/models/{key}", json={"doc": doc("one"), "revision": None}, headers=AUTH)
    client.put(f"/api/models/{key}", json={"doc": doc("two"), "revision": 1}, headers=AUTH)

    async def damage(c: JiraClient) -> None:
        manifest = await c.get_property("issue", key, MANIFEST_KEY)
        await c.delete_property("issue", key, f"{CHUNK_PREFIX}{manifest['token']}-0")

    jira(sb, damage)
    loaded = client.get(f"/api/models/{key}", headers=AUTH)
    assert loaded.status_code == 409
    error = loaded.json()["error"]
    assert error["code"] == "storage-damaged" and "missing part 1" in error["damaged"]
    assert error["revision"] == 2 and error["previousRevision"] == 1
    # nothing was deleted by reading: the previous revision is still there to restore
    replaced = client.put(
        f"/api/models/{key}", json={"doc": doc("mine"), "revision": None, "replaceDamaged": True}, headers=AUTH
    )
    assert replaced.status_code == 200 and replaced.json()["revision"] == 3
    assert client.get(f"/api/models/{key}", headers=AUTH).json()["model"]["name"] == "mine"
    refused = client.put(
        f"/api/models/{key}", json={"doc": doc("x"), "revision": None, "replaceDamaged": True}, headers=AUTH
    )
    assert refused.status_code == 409 and "not damaged" in refused.json()["error"]["message"]


def test_a_hostile_manifest_is_a_clear_answer_not_a_500(client: TestClient, sb: RunningSandbox) -> None:
    key = new_story(sb, summary="S")

    async def plant(c: JiraClient) -> None:
        await c.put_property(
            "issue",
            key,
            MANIFEST_KEY,
            {
                "format": "flowcase-model/1",
                "revision": 1,
                "sha256": "0" * 64,
                "size": 10,
                "token": "r1xab",
                "storage": "properties",
                "chunks": "many",
            },
        )

    jira(sb, plant)
    loaded = client.get(f"/api/models/{key}", headers=AUTH)
    assert loaded.status_code == 409 and "declares 'many' parts" in loaded.json()["error"]["message"]


def big_doc(steps: int) -> dict[str, Any]:
    """A valid model of ``steps + 2`` nodes in one chain (the interactive limit is 5,000 nodes)."""
    nodes: list[dict[str, Any]] = [{"id": "start", "kind": "start", "next": "s0"}]
    nodes += [
        {"id": f"s{i}", "kind": "step", "name": f"Step {i}", "next": f"s{i + 1}" if i + 1 < steps else "done"}
        for i in range(steps)
    ]
    nodes.append({"id": "done", "kind": "end", "name": "Done"})
    return {"model": {"id": "big", "name": "Big", "workflows": [{"id": "main", "nodes": nodes}]}, "name": "big"}


def test_a_big_save_leaves_the_event_loop_free_for_other_requests(
    client: TestClient, sb: RunningSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While a 5,000-node save serialises and compresses its model, the same app answers another request.

    The serialisation is held open (a real one, run once the other request has been answered): had it run on the
    event loop, the other request could not be answered until it let go, and ``answered`` would stay unset."""
    real = storage.canonical_json
    saving, answered = threading.Event(), threading.Event()
    seen: list[tuple[str, bool]] = []

    def held_open(model: Any) -> bytes:
        if model.id == "big":
            saving.set()
            seen.append((threading.current_thread().name, answered.wait(30)))
        return real(model)

    monkeypatch.setattr(storage, "canonical_json", held_open)
    key = new_story(sb, summary="S")
    body = {"doc": big_doc(4998), "revision": None}
    with ThreadPoolExecutor(1) as pool:
        save = pool.submit(client.put, f"/api/models/{key}", json=body, headers=AUTH)
        assert saving.wait(60), save.result().text
        me = client.get("/api/me", headers=AUTH)  # served by the app's event loop while the save is held open
        answered.set()
        saved = save.result(60)
    assert me.status_code == 200, me.text
    assert saved.status_code == 200 and saved.json()["revision"] == 1, saved.text
    assert len(seen) == 1 and seen[0][1], seen  # the other request was answered while the save was working
    stored = jira(sb, lambda c: storage.load_model(c, key))  # and what was saved reads back whole
    assert stored is not None and stored.revision == 1 and len(stored.model.workflows[0].nodes) == 5000
