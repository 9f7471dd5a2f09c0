"""Model storage on the story, against the sandbox: chunked compressed properties (>= 1 MB models), attachment for
very large ones, optimistic concurrency, crash safety, summary property, sub-workflows on linked issues, settings."""

from __future__ import annotations

import asyncio
import json
import random
from typing import Any

import pytest

from builders import jira_client
from flowcase.jira.client import JiraClient, JiraError
from flowcase.jira.settings_store import PublishSettings, SettingsError, load_settings, parse
from flowcase.jira.storage import (
    CHUNK_PREFIX,
    MANIFEST_KEY,
    SUMMARY_KEY,
    ConflictError,
    Include,
    StorageError,
    canonical_json,
    load_composite,
    load_model,
    read_summary,
    save_model,
    write_summary,
)
from flowcase.model.types import Model
from flowcase.sandbox.testing import RunningSandbox


def run(coro: Any) -> Any:
    return asyncio.run(coro)


async def story(c: JiraClient) -> str:
    made = await c.create_issue({"project": {"key": "DEMO"}, "issuetype": {"name": "Story"}, "summary": "S"})
    return str(made["key"])


WORDS = (
    "customer",
    "basket",
    "voucher",
    "invoice",
    "address",
    "postcode",
    "shipping",
    "refund",
    "card",
    "paypal",
    "declined",
    "approved",
    "confirm",
    "email",
    "account",
    "password",
    "locked",
    "retry",
    "total",
    "tax",
)


def large_model(model_id: str, target_bytes: int, seed: int = 7) -> Model:
    """A realistic-ish model of at least ``target_bytes`` of canonical JSON (varied prose, so it compresses ~4x)."""
    rng = random.Random(seed)
    nodes: list[dict[str, Any]] = [{"id": "start", "kind": "start", "next": "s0"}]
    i = 0
    size = 0
    while size < target_bytes:
        prose = " ".join(rng.choice(WORDS) + str(rng.randint(0, 999)) for _ in range(60))
        nodes.append(
            {
                "id": f"s{i}",
                "kind": "step",
                "name": f"Step {i}",
                "description": prose,
                "decisions": [{"id": "ok", "action": prose[:200], "expected": prose[200:400], "next": f"s{i + 1}"}],
            }
        )
        size += len(prose) + 500
        i += 1
    nodes.append({"id": f"s{i}", "kind": "end", "name": "Done"})
    model = Model.model_validate({"id": model_id, "name": "Large", "workflows": [{"id": "main", "nodes": nodes}]})
    assert len(canonical_json(model)) >= target_bytes
    return model


def small_model(model_id: str = "small", action: str = "Do it") -> Model:
    return Model.model_validate(
        {
            "id": model_id,
            "name": "Small " + model_id,
            "workflows": [
                {
                    "id": "main",
                    "nodes": [
                        {"id": "start", "kind": "start", "next": "a"},
                        {
                            "id": "a",
                            "kind": "step",
                            "name": "A",
                            "decisions": [{"id": "1", "action": action, "next": "end"}],
                        },
                        {"id": "end", "kind": "end"},
                    ],
                }
            ],
        }
    )


def test_a_model_of_more_than_1_mb_round_trips_in_chunks_under_the_limit(sb: RunningSandbox) -> None:
    model = large_model("big", 1_200_000)

    async def go() -> tuple[Any, dict[str, Any], list[int], dict[str, Any] | None]:
        async with jira_client(sb) as c:
            key = await story(c)
            revision = await save_model(c, key, model, None, summary={"testCount": 12})
            assert revision == 1
            stored = await load_model(c, key)
            manifest = await c.get_property("issue", key, MANIFEST_KEY)
            sizes = []
            for name in await c.property_keys("issue", key):
                response = await c.request("GET", c.property_path("issue", key, name))
                sizes.append(len(json.dumps(response.json()["value"])))
            return stored, manifest, sizes, await read_summary(c, key)

    stored, manifest, sizes, summary = run(go())
    assert stored.model == model and stored.revision == 1 and stored.storage == "properties"
    assert manifest["chunks"] >= 5 and manifest["size"] >= 1_200_000 and manifest["encoding"] == "zlib+base64"
    assert max(sizes) < 32_768
    assert len(sizes) == manifest["chunks"] + 2  # chunks + manifest + summary, nothing else
    assert summary is not None and summary["name"] == "Large" and summary["revision"] == 1
    assert summary["testCount"] == 12 and summary["status"] == "draft"


def test_very_large_models_go_to_an_attachment_and_old_data_is_cleaned(sb: RunningSandbox) -> None:
    model = large_model("huge", 300_000, seed=3)

    async def go() -> tuple[Any, ...]:
        async with jira_client(sb) as c:
            key = await story(c)
            r1 = await save_model(c, key, small_model(), None)
            r2 = await save_model(c, key, model, r1, attachment_threshold=10_000)
            stored = await load_model(c, key)
            keys_after_attachment = await c.property_keys("issue", key)
            r3 = await save_model(c, key, small_model(action="Again"), r2)
            previous_of_r3 = await load_model(c, key, previous=True)
            r4 = await save_model(c, key, small_model(action="Fourth"), r3)
            issue = await c.get_issue(key, fields=("attachment",))
            assert issue is not None
            keys_after = await c.property_keys("issue", key)
            return stored, r4, keys_after_attachment, previous_of_r3, issue["fields"]["attachment"], keys_after

    stored, r4, keys, previous_of_r3, attachments, keys_after = run(go())
    assert stored.storage == "attachment" and stored.model == model and stored.revision == 2
    # Revision 1 is revision 2's "previous": its chunks are kept until revision 3 is saved.
    chunks_after_attachment = [k for k in keys if k.startswith(CHUNK_PREFIX)]
    assert chunks_after_attachment and all(k.startswith(f"{CHUNK_PREFIX}r1x") for k in chunks_after_attachment)
    assert previous_of_r3 is not None and previous_of_r3.revision == 2 and previous_of_r3.model == model
    assert r4 == 4 and attachments == []  # revision 2's attachment was deleted once it was two saves old
    chunk_keys = sorted(k for k in keys_after if k.startswith(CHUNK_PREFIX))
    assert [k.split("x")[0] for k in chunk_keys] == ["flowcase-model-r3", "flowcase-model-r4"]


def test_concurrent_saves_raise_a_conflict_instead_of_losing_an_update(sb: RunningSandbox) -> None:
    async def go() -> tuple[str, Any]:
        async with jira_client(sb) as c:
            key = await story(c)
            base = await save_model(c, key, small_model(action="Base"), None)
            await save_model(c, key, small_model(action="Alice"), base)
            with pytest.raises(ConflictError) as err:
                await save_model(c, key, small_model(action="Bob"), base)
            with pytest.raises(ConflictError):
                await save_model(c, key, small_model(action="Carol"), None)
            stored = await load_model(c, key)
            return str(err.value), stored

    message, stored = run(go())
    assert "now revision 2" in message and "started from 1" in message
    assert stored.revision == 2 and stored.model.main.node("a").table[0].action == "Alice"


def test_a_save_that_dies_half_way_leaves_the_previous_model_intact(sb: RunningSandbox) -> None:
    model = large_model("crash", 400_000, seed=5)

    async def go() -> tuple[Any, Any, list[str]]:
        async with jira_client(sb) as c:
            key = await story(c)
            r1 = await save_model(c, key, small_model(action="Before"), None)
        # Jira starts failing on the 3rd chunk write and never recovers during this save.
        sb.add_fault(
            kind="latency",
            path_prefix=f"/rest/api/3/issue/{key}/properties/{CHUNK_PREFIX}",
            method="PUT",
            latency_ms=1,
            count=2,
        )
        sb.add_fault(kind="error", status=500, path_prefix=f"/rest/api/3/issue/{key}/properties/", method="PUT")
        try:
            async with jira_client(sb, max_retries=1, sleep=_no_sleep) as c:
                with pytest.raises(JiraError):
                    await save_model(c, key, model, r1)
        finally:
            sb.clear_faults()
        async with jira_client(sb) as c:
            survived = await load_model(c, key)
            r2 = await save_model(c, key, small_model(action="After"), r1)
            after = await load_model(c, key)
            assert after is not None and after.revision == r2
            return survived, after, await c.property_keys("issue", key)

    survived, after, keys = run(go())
    assert survived.revision == 1 and survived.model.main.node("a").table[0].action == "Before"
    assert after.model.main.node("a").table[0].action == "After"
    chunk_keys = sorted(k for k in keys if k.startswith(CHUNK_PREFIX))
    # The crashed save's parts are gone; revision 2 and its previous (revision 1) remain.
    assert [k.split("x")[0] for k in chunk_keys] == [f"{CHUNK_PREFIX}r1", f"{CHUNK_PREFIX}r2"]


async def _no_sleep(_seconds: float) -> None:
    return None


def test_corrupt_or_foreign_data_gives_a_clear_error(sb: RunningSandbox) -> None:
    async def go() -> None:
        async with jira_client(sb) as c:
            key = await story(c)
            await save_model(c, key, small_model(), None)
            manifest = await c.get_property("issue", key, MANIFEST_KEY)
            await c.put_property("issue", key, f"{CHUNK_PREFIX}{manifest['token']}-0", {"d": "AAAA"})
            with pytest.raises(StorageError, match="corrupt"):
                await load_model(c, key)
            await c.put_property("issue", key, MANIFEST_KEY, {"something": "else"})
            with pytest.raises(StorageError, match="not a flowcase manifest"):
                await load_model(c, key)
            assert await load_model(c, await story(c)) is None

    run(go())


def test_sub_workflows_kept_on_linked_issues(sb: RunningSandbox) -> None:
    main = Model.model_validate(
        {
            "id": "claim",
            "name": "Claim",
            "workflows": [
                {
                    "id": "main",
                    "nodes": [
                        {"id": "start", "kind": "start", "next": "check"},
                        {"id": "check", "kind": "call", "name": "Fraud check", "workflow": "fraud", "next": "end"},
                        {"id": "end", "kind": "end"},
                    ],
                },
                {
                    "id": "fraud",
                    "nodes": [{"id": "start", "kind": "start", "next": "end"}, {"id": "end", "kind": "end"}],
                },
            ],
        }
    )
    shared = small_model("fraud-lib", action="Run the shared fraud check")

    async def go() -> tuple[Any, list[dict[str, Any]], str]:
        async with jira_client(sb) as c:
            lib, key = await story(c), await story(c)
            await save_model(c, lib, shared, None)
            # the main model does not carry 'fraud': it lives on the library issue
            trimmed = main.model_copy(update={"workflows": main.workflows[:1]})
            await save_model(c, key, trimmed, None, includes=[Include("fraud", lib)])
            await save_model(c, key, trimmed, 1, includes=[Include("fraud", lib)])  # no second link
            merged = await load_composite(c, key)
            return merged, await c.issue_links(key), lib

    merged, links, lib = run(go())
    assert merged.includes == (Include("fraud", lib),)
    assert [(lk["type"]["name"], lk["outwardIssue"]["key"]) for lk in links] == [("Relates", lib)]
    fraud = merged.model.workflow("fraud")
    assert [w.id for w in merged.model.workflows] == ["main", "fraud"]
    assert fraud.node("a").table[0].action == "Run the shared fraud check"


def test_settings_defaults_and_validation(sb: RunningSandbox) -> None:
    assert parse(None) == PublishSettings()
    assert parse({"issue_type": "Task", "labels": ["qa", "qa"]}).labels == ("qa",)
    with pytest.raises(SettingsError, match="labels"):
        parse({"labels": ["has space"]})
    with pytest.raises(SettingsError, match="output_style"):
        parse({"output_style": "poetry"})
    assert PublishSettings().target == "jira"  # plain Jira issues unless a project chooses otherwise
    assert parse({"target": "zephyr"}).target == "zephyr"
    with pytest.raises(SettingsError, match="target"):
        parse({"target": "testrail"})

    async def go() -> PublishSettings:
        async with jira_client(sb) as c:
            # Basic auth cannot read app properties (403): defaults are used, no error.
            return await load_settings(c, app_key="flowcase", project_key="DEMO")

    assert run(go()) == PublishSettings()


def test_summary_property_is_queryable_with_jql(sb: RunningSandbox) -> None:
    async def go() -> list[str]:
        async with jira_client(sb) as c:
            key = await story(c)
            await save_model(c, key, small_model("jql"), None, summary={"testCount": 4242})
            hits = await c.search_all(f"issue.property[{SUMMARY_KEY}].testCount = 4242 AND project = DEMO")
            return [h["key"] for h in hits] + [key]

    keys = run(go())
    assert keys[0] == keys[-1] and len(keys) == 2


def test_summary_status_follows_saves_and_publishes(sb: RunningSandbox) -> None:
    async def go() -> list[str]:
        async with jira_client(sb) as c:
            key = await story(c)
            statuses = []
            r1 = await save_model(c, key, small_model("st"), None)
            statuses.append((await read_summary(c, key) or {}).get("status"))
            await write_summary(c, key, small_model("st"), r1, {"status": "published", "testCount": 1})
            statuses.append((await read_summary(c, key) or {}).get("status"))
            await save_model(c, key, small_model("st", action="Changed"), r1)
            summary = await read_summary(c, key) or {}
            statuses.append(summary.get("status"))
            assert summary.get("testCount") == 1  # the last publish's numbers stay until the next publish
            return statuses

    assert run(go()) == ["draft", "published", "changed"]
