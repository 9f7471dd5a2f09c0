"""Publish a generated suite to Jira: one issue per test, idempotent, resumable, with few calls.

Identity: every test issue carries the issue property ``flowcase-test`` = ``{id, model, story, hash}`` set IN the
create call (so an issue exists only together with its identity), the label ``flowcase`` and the per-model label
``flowcase-m-<model id>``. ``hash`` covers everything we write (summary, description, labels), so unchanged tests
cost no write at all.

One publish (see docs/jira.md):

1. find the tests already in Jira: JQL on the per-model label (labels are always indexed), reading
   ``flowcase-test`` and the issue links with the results; issues of another story are ignored;
2. update changed tests (hash differs, or the test came back after being obsolete);
3. create the missing ones with ``POST /issue/bulk`` (ceil(N/50) calls). When a chunk fails ambiguously (timeout,
   5xx after retries: Jira may have created some of it) the tests are looked up again before anything is resent;
4. link every test to the story (and to its requirement keys) unless the link is already there;
5. mark tests that are no longer generated: label ``flowcase-obsolete`` plus a comment (never deleted);
6. update the story's ``flowcase-summary``.

A :class:`Journal` (the durable job) hears about each step so a crash can be resumed without duplicates.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from flowcase.generate.suite import Suite, TestCase
from flowcase.jira import adf
from flowcase.jira.client import BULK_CREATE_LIMIT, JiraClient, JiraError, JsonObj
from flowcase.jira.settings_store import PublishSettings
from flowcase.jira.storage import write_summary
from flowcase.model.types import Model

TEST_PROPERTY = "flowcase-test"
LABEL = "flowcase"
OBSOLETE_LABEL = "flowcase-obsolete"
SUMMARY_LIMIT = 255
_LABEL_UNSAFE = re.compile(r"[^A-Za-z0-9_.\-]")
_ISSUE_KEY = re.compile(r"[A-Z][A-Z0-9_]+-[1-9][0-9]*")


class PublishError(Exception):
    """Publishing stopped; ``retryable`` tells whether trying again later may succeed (one-line message)."""

    def __init__(self, message: str, *, retryable: bool = False, status: int = 0) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.status = status


@dataclass(frozen=True, slots=True)
class Progress:
    phase: str  # "search", "update", "create", "link", "obsolete", "done"
    done: int
    total: int


ProgressFn = Callable[[Progress], None]


class Journal(Protocol):
    """What a durable job records. Only ids, issue keys, hashes and counts pass through it."""

    def uncertain(self) -> set[str]:
        """Test ids whose create was sent but never confirmed (by a previous, crashed attempt)."""
        ...

    def sending(self, test_ids: Sequence[str]) -> None: ...

    def created(self, rows: Sequence[tuple[str, str, str]]) -> None:
        """(test id, issue key, hash) of issues Jira confirmed."""
        ...

    def checkpoint(self, progress: Progress) -> None: ...


@dataclass(frozen=True, slots=True)
class Planned:
    test_id: str
    hash: str
    fields: JsonObj
    requirements: tuple[str, ...]

    def identity(self, model_id: str, story: str) -> JsonObj:
        return {"id": self.test_id, "model": model_id, "story": story, "hash": self.hash}


@dataclass(slots=True)
class Existing:
    key: str
    issue_id: int
    test_id: str
    hash: str
    labels: list[str]
    linked: set[tuple[str, str]]  # (link type name, other issue key)


@dataclass(slots=True)
class PublishResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    obsoleted: int = 0
    links_created: int = 0
    create_calls: int = 0
    duplicates: int = 0
    failed: list[str] = field(default_factory=list)  # test ids Jira refused (reasons are in the log only)
    keys: dict[str, str] = field(default_factory=dict)  # test id -> issue key

    @property
    def total(self) -> int:
        return len(self.keys)

    def as_json(self) -> dict[str, Any]:
        return {
            "created": self.created, "updated": self.updated, "unchanged": self.unchanged,
            "obsoleted": self.obsoleted, "linksCreated": self.links_created, "createCalls": self.create_calls,
            "duplicates": self.duplicates, "failed": list(self.failed), "total": self.total,
        }  # fmt: skip


def model_label(model_id: str) -> str:
    return ("flowcase-m-" + _LABEL_UNSAFE.sub("_", model_id))[:255]


def _summary(test: TestCase) -> str:
    text = " ".join(test.name.split()) or test.id
    return text if len(text) <= SUMMARY_LIMIT else text[: SUMMARY_LIMIT - 1] + "\u2026"


def _requirements(test: TestCase) -> tuple[str, ...]:
    keys = list(test.requirements) + [r for step in test.steps for r in step.requirements]
    return tuple(dict.fromkeys(k for k in keys if _ISSUE_KEY.fullmatch(k)))


def plan(model: Model, suite: Suite, project_key: str, settings: PublishSettings) -> list[Planned]:
    """What each test issue should look like. Pure: no Jira calls."""
    labels = sorted({LABEL, model_label(model.id), *settings.labels})
    planned: list[Planned] = []
    for test in suite.tests:
        fields: JsonObj = {
            "project": {"key": project_key},
            "issuetype": {"name": settings.issue_type},
            "summary": _summary(test),
            "description": adf.describe_test(test, settings.output_style, model_label=model.label),
            "labels": labels,
        }
        reqs = _requirements(test)
        digest_src = {k: v for k, v in fields.items() if k not in ("project", "issuetype")}
        digest_src["requirements"] = list(reqs)
        digest = hashlib.sha256(json.dumps(digest_src, sort_keys=True).encode()).hexdigest()[:20]
        planned.append(Planned(test.id, digest, fields, reqs))
    return planned


def _test_jql(project_key: str, model_id: str) -> str:
    return f'project = "{project_key}" AND labels = "{model_label(model_id)}" ORDER BY key ASC'


async def find_existing(client: JiraClient, project_key: str, story_key: str, model_id: str
                        ) -> tuple[dict[str, Existing], int]:  # fmt: skip
    """Test issues of this story's model by test id (the oldest wins), and how many duplicates were seen."""
    found: dict[str, Existing] = {}
    duplicates = 0
    async for issue in client.search(
        _test_jql(project_key, model_id), fields=("labels", "issuelinks"), properties=(TEST_PROPERTY,)
    ):
        ident = (issue.get("properties") or {}).get(TEST_PROPERTY)
        if not isinstance(ident, dict) or ident.get("story") != story_key or ident.get("model") != model_id:
            continue
        fields = issue.get("fields") or {}
        linked: set[tuple[str, str]] = set()
        for link in fields.get("issuelinks") or []:
            other = link.get("inwardIssue") or link.get("outwardIssue") or {}
            linked.add((str((link.get("type") or {}).get("name")), str(other.get("key"))))
        row = Existing(str(issue.get("key")), int(issue.get("id", 0)), str(ident.get("id")),
                       str(ident.get("hash")), list(fields.get("labels") or []), linked)  # fmt: skip
        if row.test_id in found:
            duplicates += 1
            if row.issue_id >= found[row.test_id].issue_id:
                continue
        found[row.test_id] = row
    return found, duplicates


class _NullJournal:
    def uncertain(self) -> set[str]:
        return set()

    def sending(self, test_ids: Sequence[str]) -> None:
        pass

    def created(self, rows: Sequence[tuple[str, str, str]]) -> None:
        pass

    def checkpoint(self, progress: Progress) -> None:
        pass


async def publish(
    client: JiraClient,
    model: Model,
    suite: Suite,
    story_key: str,
    project_key: str,
    settings: PublishSettings,
    progress: ProgressFn | None = None,
    *,
    journal: Journal | None = None,
    settle_seconds: float = 5.0,
    max_reconcile: int = 3,
) -> PublishResult:
    """Bring the test issues of ``story_key`` in line with ``suite`` (see the module docs)."""
    journal = journal or _NullJournal()
    report = progress or (lambda _p: None)
    result = PublishResult()
    planned = plan(model, suite, project_key, settings)
    total_steps = len(planned)

    def tick(phase: str, done: int) -> None:
        p = Progress(phase, done, total_steps)
        report(p)
        journal.checkpoint(p)

    try:
        story = await client.get_issue(story_key, fields=("summary",))
        if story is None:
            raise PublishError(f"story {story_key} does not exist or cannot be seen")
        tick("search", 0)
        existing, result.duplicates = await find_existing(client, project_key, story_key, model.id)
        # A previous attempt may have sent creates that Jira applied after we lost track: search is eventually
        # consistent in Jira Cloud, so give the index time before deciding they are missing.
        doubtful = journal.uncertain() - set(existing)
        wanted = {p.test_id for p in planned}
        if doubtful & wanted and settle_seconds > 0:
            await asyncio.sleep(settle_seconds)
            existing, result.duplicates = await find_existing(client, project_key, story_key, model.id)

        done = 0
        to_create: list[Planned] = []
        for p in planned:
            have = existing.get(p.test_id)
            if have is None:
                to_create.append(p)
                continue
            result.keys[p.test_id] = have.key
            if have.hash == p.hash and OBSOLETE_LABEL not in have.labels:
                result.unchanged += 1
            else:
                await _update(client, have, p, model.id, story_key)
                result.updated += 1
            done += 1
            if done % 25 == 0:
                tick("update", done)
        tick("update", done)

        for attempt in range(max_reconcile + 1):
            if not to_create:
                break
            try:
                await _create(client, to_create, model.id, story_key, result, journal,
                              lambda n: tick("create", done + n))  # fmt: skip
                to_create = []
            except JiraError as exc:
                if not exc.retryable or attempt == max_reconcile:
                    raise
                # Ambiguous: some chunks may have been applied. Look again before resending anything.
                to_create = [p for p in to_create if p.test_id not in result.keys]
                if settle_seconds > 0:
                    await asyncio.sleep(settle_seconds)
                again, _ = await find_existing(client, project_key, story_key, model.id)
                for p in to_create:
                    if p.test_id in again:
                        result.keys[p.test_id] = again[p.test_id].key
                        existing[p.test_id] = again[p.test_id]
                        result.created += 1
                journal.created([(p.test_id, again[p.test_id].key, p.hash) for p in to_create
                                 if p.test_id in again])  # fmt: skip
                to_create = [p for p in to_create if p.test_id not in again]
        done = len(result.keys)
        tick("create", done)

        linked = 0
        for p in planned:
            key = result.keys.get(p.test_id)
            if key is None:
                continue
            have_links = existing[p.test_id].linked if p.test_id in existing else set()
            result.links_created += await _ensure_links(client, key, story_key, p, settings, have_links)
            linked += 1
            if linked % 25 == 0:
                tick("link", linked)
        tick("link", linked)

        obsolete = [e for t, e in sorted(existing.items()) if t not in wanted and OBSOLETE_LABEL not in e.labels]
        for n, row in enumerate(obsolete, 1):
            await _mark_obsolete(client, row)
            result.obsoleted += 1
            tick("obsolete", n)

        await _write_story_summary(client, story_key, model, suite, result)
    except JiraError as exc:
        raise PublishError(f"publishing to {story_key} stopped: {exc.summary()}", retryable=exc.retryable,
                           status=exc.status) from exc  # fmt: skip
    tick("done", len(result.keys))
    return result


async def _update(client: JiraClient, have: Existing, p: Planned, model_id: str, story: str) -> None:
    labels = [label for label in have.labels if label != OBSOLETE_LABEL]
    labels = sorted(set(labels) | set(p.fields["labels"]))
    fields = {"summary": p.fields["summary"], "description": p.fields["description"], "labels": labels}
    await client.edit_issue(have.key, fields=fields)
    # The identity (with the new hash) is written last: a crash in between only causes one more update later.
    await client.put_property("issue", have.key, TEST_PROPERTY, p.identity(model_id, story))
    have.labels = labels


async def _create(
    client: JiraClient,
    items: Sequence[Planned],
    model_id: str,
    story: str,
    result: PublishResult,
    journal: Journal,
    on_progress: Callable[[int], None],
) -> None:
    pending = list(items)
    made = 0
    while pending:
        chunk, pending = pending[:BULK_CREATE_LIMIT], pending[BULK_CREATE_LIMIT:]
        journal.sending([p.test_id for p in chunk])
        flush = getattr(journal, "flush", None)  # a durable journal's write-ahead lands before the create call
        if flush is not None:
            await flush()
        updates = [
            {"fields": p.fields, "properties": [{"key": TEST_PROPERTY, "value": p.identity(model_id, story)}]}
            for p in chunk
        ]
        try:
            outcome = await client.create_issues(updates)
        finally:
            result.create_calls += 1
        rows: list[tuple[str, str, str]] = []
        for index, issue in sorted(outcome.created.items()):
            p = chunk[index]
            result.keys[p.test_id] = str(issue.get("key"))
            rows.append((p.test_id, str(issue.get("key")), p.hash))
        result.created += len(rows)
        journal.created(rows)
        for err in outcome.errors:
            result.failed.append(chunk[err.index].test_id)
        made += len(chunk)
        on_progress(made)
        # Items Jira refused are not retried: it refused them for a reason (fields, permissions). They are
        # reported in ``result.failed`` and created by the next publish once the cause is fixed.


async def _ensure_links(
    client: JiraClient, key: str, story: str, p: Planned, settings: PublishSettings, have: set[tuple[str, str]]
) -> int:
    made = 0
    targets = [(settings.link_type, story)] + [(settings.requirement_link_type, r) for r in p.requirements
                                                if r != story]  # fmt: skip
    for link_type, other in targets:
        if (link_type, other) in have:
            continue
        try:
            # the story/requirement is the inward side ("is tested by"), the test the outward side ("tests")
            await client.link_issues(link_type, inward=other, outward=key)
        except JiraError as exc:
            if exc.status == 404 and other != story:
                continue  # a requirement key that does not exist or cannot be seen: skip it
            if not exc.retryable:
                raise
            links = {(str((lk.get("type") or {}).get("name")),
                      str((lk.get("inwardIssue") or lk.get("outwardIssue") or {}).get("key")))
                     for lk in await client.issue_links(key)}  # fmt: skip
            if (link_type, other) not in links:
                await client.link_issues(link_type, inward=other, outward=key)
        have.add((link_type, other))
        made += 1
    return made


async def _mark_obsolete(client: JiraClient, row: Existing) -> None:
    await client.edit_issue(row.key, update={"labels": [{"add": OBSOLETE_LABEL}]})
    row.labels.append(OBSOLETE_LABEL)
    try:
        await client.add_comment(row.key, adf.comment(
            "flowcase: this test is no longer generated from the model (marked obsolete, not deleted)."))
    except JiraError as exc:
        if exc.status not in (404, 405):  # comments disabled or not supported: the label is the marker
            raise


async def _write_story_summary(client: JiraClient, story: str, model: Model, suite: Suite, result: PublishResult
                               ) -> None:  # fmt: skip
    from flowcase.jira.storage import read_manifest

    manifest = await read_manifest(client, story)
    covered = [c for c in suite.coverage if c.kind != "requirement"]
    coverage = round(100.0 * sum(1 for c in covered if c.covered_by) / len(covered), 1) if covered else 100.0
    extra = {
        "status": "published",
        "testCount": len(suite.tests),
        "coverage": coverage,
        "lastPublish": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "published": result.as_json(),
    }
    revision = int(manifest["revision"]) if manifest else 0
    await write_summary(client, story, model, revision, extra)


__all__ = ["Journal", "Progress", "PublishError", "PublishResult", "find_existing", "model_label", "plan",
           "publish"]  # fmt: skip
