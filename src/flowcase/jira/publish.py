"""Publish a generated suite to Jira: one issue per test, idempotent, resumable, with few calls.

Identity: every test issue carries the issue property ``flowcase-test`` = ``{id, model, story, hash}`` set IN the
create call (so an issue exists only together with its identity), the label ``flowcase`` and the per-model label
``flowcase-m-<model id>``. ``hash`` covers everything we write (summary, description, labels), so unchanged tests
cost no write at all.

One publish (see docs/jira.md):

0. preflight (:mod:`flowcase.jira.preflight`): refuse a project that is not ready, saying what to fix; then hold
   the story's ``publish`` lease throughout (one publish per story at a time, on every path);
1. find the tests already in Jira: the story's links (always current), then JQL on the per-model label with
   ``reconcileIssues``, and a bulk fetch by id of what the lagging search still misses; younger duplicates of a
   test id are unlinked and labelled ``flowcase-duplicate`` (never deleted);
2. update changed tests (hash differs, or the test came back after being obsolete);
3. create the missing ones with ``POST /issue/bulk`` (ceil(N/50) calls), linked to the story in the create call
   when the screen has "Linked Issues". When a chunk fails ambiguously (timeout, reset, 5xx: Jira may have
   created some of it) the tests are looked up again before anything is resent;
4. link every test to the story (and to its requirement keys that exist: checked once) as the link's source, so
   the story reads "is tested by"; a link found reversed is replaced;
5. mark tests that are no longer generated: label ``flowcase-obsolete`` plus a comment (never deleted);
6. update the story's ``flowcase-summary``.

A :class:`Journal` (the durable job) hears about each step so a crash can be resumed without duplicates.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from flowcase.errors import PublishError as PublishError
from flowcase.generate.suite import Suite, TestCase
from flowcase.jira import adf, lease, preflight
from flowcase.jira.client import BULK_CREATE_LIMIT, RECONCILE_LIMIT, JiraClient, JiraError, JsonObj
from flowcase.jira.settings_store import PublishSettings
from flowcase.jira.storage import write_summary
from flowcase.model.types import Model

TEST_PROPERTY = "flowcase-test"
LABEL = "flowcase"
OBSOLETE_LABEL = "flowcase-obsolete"
DUPLICATE_LABEL = "flowcase-duplicate"
PUBLISH_LEASE = "publish"
SUMMARY_LIMIT = 255
_LABEL_UNSAFE = re.compile(r"[^A-Za-z0-9_.\-]")
_ISSUE_KEY = re.compile(r"[A-Z][A-Z0-9_]+-[1-9][0-9]*")
log = logging.getLogger("flowcase.jira.publish")


class PublishNotReady(PublishError, status=409, code="not-ready"):
    """The preflight found the project not ready (no "Test" issue type, link type, fields, permissions)."""

    def __init__(self, readiness: preflight.Readiness) -> None:
        super().__init__(readiness.summary(), retryable=False, status=409)
        self.readiness = readiness

    def cli_message(self) -> str:
        project = self.readiness.project_key
        return (
            f"{self}\nA Jira admin can fix what `flowcase jira setup --project {project}` can (issue type, "
            "link types); nothing was published"
        )

    def api_details(self) -> dict[str, Any]:
        return {"readiness": self.readiness.as_json()}


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

    async def flush(self) -> None:
        """Wait until what was recorded is durable (the write-ahead ``sending`` line before a create call)."""
        ...


#: At most this many path steps are kept in a test issue's identity (for its lineage diagram).
PATH_LIMIT = 400


class Extras(Protocol):
    """What a publishing target keeps beside each test issue (Xray: the manual steps, the test set), written after
    the issue and before its identity, so an issue whose extras were not all written carries no hash yet and the
    next publish writes them again (:mod:`flowcase.targets.xray`)."""

    def description(self, test: TestCase) -> JsonObj | None:
        """The issue's description instead of the steps table (None: the usual one)."""
        ...

    def content(self, test: TestCase) -> Any:
        """What the extras hold for ``test``, as JSON: part of the test's hash."""
        ...

    async def write(self, key: str, issue_id: str, test_id: str) -> None: ...

    async def after(self, ids: dict[str, str], obsolete: Sequence[str]) -> None:
        """Once every test is written: ``ids`` (test id -> issue id) of the current tests, ``obsolete`` the issue ids
        of tests marked obsolete by this publish."""
        ...


@dataclass(frozen=True, slots=True)
class Planned:
    test_id: str
    hash: str
    fields: JsonObj
    requirements: tuple[str, ...]
    path: tuple[str, ...] = ()  # the steps taken, as "workflow/node#decision" (ids only), for the lineage diagram
    end: str = ""
    revision: int | None = None  # the story's workflow revision this publish writes from

    def identity(self, model_id: str, story: str) -> JsonObj:
        """The ``flowcase-test`` property: who the test is (id, model, story), what was written (hash), and its
        lineage (workflow revision, path: ids only, never text). Only id, model, story and hash identify it."""
        ident: JsonObj = {"id": self.test_id, "model": model_id, "story": story, "hash": self.hash}
        if self.revision is not None:
            ident["revision"] = self.revision
        if self.path:
            ident["path"] = list(self.path[:PATH_LIMIT])
            ident["end"] = self.end
        return ident


@dataclass(frozen=True, slots=True)
class LinkRef:
    """One link of a test issue: ``outward`` when the test is the link's source (it reads "tests <other>")."""

    id: str
    type: str
    other: str
    outward: bool


@dataclass(slots=True)
class Existing:
    key: str
    issue_id: int
    test_id: str
    hash: str
    labels: list[str]
    links: list[LinkRef]


@dataclass(slots=True)
class PublishResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    obsoleted: int = 0
    links_created: int = 0
    links_fixed: int = 0  # links that pointed the wrong way (story "tests" test), replaced
    create_calls: int = 0
    duplicates: int = 0  # issues found carrying the same test id as an older one: unlinked and labelled
    duplicate_keys: list[str] = field(default_factory=list)
    missing_requirements: list[str] = field(default_factory=list)  # requirement keys Jira does not know: not linked
    failed: list[str] = field(default_factory=list)  # test ids Jira refused (reasons are in the log only)
    keys: dict[str, str] = field(default_factory=dict)  # test id -> issue key
    ids: dict[str, str] = field(default_factory=dict)  # test id -> issue id

    @property
    def total(self) -> int:
        return len(self.keys)

    def as_json(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "obsoleted": self.obsoleted,
            "linksCreated": self.links_created,
            "linksFixed": self.links_fixed,
            "createCalls": self.create_calls,
            "duplicates": self.duplicates,
            "duplicateKeys": list(self.duplicate_keys),
            "missingRequirements": list(self.missing_requirements),
            "failed": list(self.failed),
            "total": self.total,
        }


def model_label(model_id: str) -> str:
    return ("flowcase-m-" + _LABEL_UNSAFE.sub("_", model_id))[:255]


def _summary(test: TestCase) -> str:
    text = " ".join(test.name.split()) or test.id
    return text if len(text) <= SUMMARY_LIMIT else text[: SUMMARY_LIMIT - 1] + "\u2026"


def _requirements(test: TestCase) -> tuple[str, ...]:
    keys = list(test.requirements) + [r for step in test.steps for r in step.requirements]
    return tuple(dict.fromkeys(k for k in keys if _ISSUE_KEY.fullmatch(k)))


def plan(
    model: Model,
    suite: Suite,
    project_key: str,
    settings: PublishSettings,
    extras: Extras | None = None,
    *,
    revision: int | None = None,
) -> list[Planned]:
    """What each test issue should look like. Pure: no Jira calls. ``revision`` (the story's workflow revision)
    goes into the identity only, never into the hash."""
    labels = sorted({LABEL, model_label(model.id), *settings.labels})
    planned: list[Planned] = []
    for test in suite.tests:
        fields: JsonObj = {
            "project": {"key": project_key},
            "issuetype": {"name": settings.issue_type},
            "summary": _summary(test),
            "description": (extras.description(test) if extras else None)
            or adf.describe_test(test, settings.output_style, model_label=model.label),
            "labels": labels,
        }
        reqs = _requirements(test)
        digest_src = {k: v for k, v in fields.items() if k not in ("project", "issuetype")}
        digest_src["requirements"] = list(reqs)
        if extras is not None:
            digest_src["extras"] = extras.content(test)
        digest = hashlib.sha256(json.dumps(digest_src, sort_keys=True).encode()).hexdigest()[:20]
        path = tuple(f"{step.workflow}/{step.node}#{step.decision}" for step in test.steps)
        planned.append(Planned(test.id, digest, fields, reqs, path, test.end, revision))
    return planned


def _test_jql(project_key: str, model_id: str) -> str:
    return f'project = "{project_key}" AND labels = "{model_label(model_id)}" ORDER BY key ASC'


def _links(fields: JsonObj) -> list[LinkRef]:
    out: list[LinkRef] = []
    for link in fields.get("issuelinks") or []:
        name = str((link.get("type") or {}).get("name"))
        if link.get("outwardIssue"):
            out.append(LinkRef(str(link.get("id")), name, str(link["outwardIssue"].get("key")), True))
        elif link.get("inwardIssue"):
            out.append(LinkRef(str(link.get("id")), name, str(link["inwardIssue"].get("key")), False))
    return out


async def find_existing(
    client: JiraClient, project_key: str, story_key: str, model_id: str, *, known_ids: Iterable[int] = ()
) -> tuple[dict[str, Existing], list[Existing]]:
    """The test issues of this story's model by test id (the oldest wins), and the younger duplicates.

    Jira's search lags behind writes, so the search is not the only source: the issues linked to the story (read
    from the story itself, always current) and ``known_ids`` (issues this publish created) are passed as
    ``reconcileIssues`` (up to 50) and any the search still misses are fetched by id. Issues already labelled
    as duplicates are left out. Issues of another story or model are ignored."""
    story = await client.get_issue(story_key, fields=("issuelinks",))
    linked: set[int] = set()
    for link in ((story or {}).get("fields") or {}).get("issuelinks") or []:
        other = link.get("inwardIssue") or link.get("outwardIssue") or {}
        if str(other.get("id", "")).isdigit():
            linked.add(int(other["id"]))
    candidates = sorted(linked | set(known_ids))
    rows: dict[int, JsonObj] = {}
    wanted_fields = ("labels", "issuelinks")
    async for issue in client.search(
        _test_jql(project_key, model_id),
        fields=wanted_fields,
        properties=(TEST_PROPERTY,),
        reconcile=candidates[:RECONCILE_LIMIT],
    ):
        rows[int(issue.get("id", 0))] = issue
    unseen = [str(i) for i in candidates if i not in rows]
    if unseen:
        for issue in await client.fetch_issues(unseen, fields=wanted_fields, properties=(TEST_PROPERTY,)):
            rows[int(issue.get("id", 0))] = issue
    found: dict[str, Existing] = {}
    duplicates: list[Existing] = []
    for issue_id in sorted(rows):  # oldest first: the oldest issue of a test id is the one kept
        issue = rows[issue_id]
        ident = (issue.get("properties") or {}).get(TEST_PROPERTY)
        if not isinstance(ident, dict) or ident.get("story") != story_key or ident.get("model") != model_id:
            continue
        fields = issue.get("fields") or {}
        labels = list(fields.get("labels") or [])
        if DUPLICATE_LABEL in labels:
            continue
        row = Existing(
            str(issue.get("key")), issue_id, str(ident.get("id")), str(ident.get("hash")), labels, _links(fields)
        )
        if row.test_id in found:
            duplicates.append(row)
        else:
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

    async def flush(self) -> None:
        pass


def publish_lease_timing() -> lease.LeaseTiming:
    """The story's publish lease: ``ttl`` from FLOWCASE_PUBLISH_LEASE_SECONDS (how long a dead publisher blocks
    the story), renewed every quarter of it while a publish runs."""
    from flowcase.config import ConfigError, get_settings

    try:
        ttl = get_settings().publish_lease_seconds
    except ConfigError:
        ttl = 60.0
    return lease.LeaseTiming(settle=1.0, ttl=ttl, wait=max(60.0, ttl * 1.5))


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
    lease_timing: lease.LeaseTiming | None = None,
    readiness: preflight.Readiness | None = None,
    extras: Extras | None = None,
) -> PublishResult:
    """Bring the test issues of ``story_key`` in line with ``suite`` (see the module docs).

    Refuses to start (:class:`PublishNotReady`) when the preflight finds the project not ready; holds the story's
    ``publish`` lease throughout, so publishes of one story never overlap, whichever process runs them."""
    try:
        story = await client.get_issue(story_key, fields=("summary",))
        if story is None:
            raise PublishError(f"story {story_key} does not exist or cannot be seen")
        ready = readiness or await preflight.check(client, project_key, settings)
        if not ready.ready:
            raise PublishNotReady(ready)
        client.silent_edits = client.silent_edits and ready.silent_edits
        async with lease.hold(client, story_key, PUBLISH_LEASE, timing=lease_timing or publish_lease_timing()) as held:
            return await _publish(
                client,
                held,
                ready,
                model,
                suite,
                story_key,
                project_key,
                settings,
                progress,
                journal or _NullJournal(),
                settle_seconds,
                max_reconcile,
                extras,
            )
    except lease.LeaseBusy as exc:
        raise PublishError(str(exc), retryable=True, status=409) from exc
    except lease.LeaseLost as exc:
        raise PublishError(f"publishing to {story_key} stopped: {exc}", retryable=True) from exc
    except JiraError as exc:
        raise PublishError(
            f"publishing to {story_key} stopped: {exc.summary()}", retryable=exc.retryable, status=exc.status
        ) from exc


async def _publish(
    client: JiraClient,
    held: lease.Lease,
    ready: preflight.Readiness,
    model: Model,
    suite: Suite,
    story_key: str,
    project_key: str,
    settings: PublishSettings,
    progress: ProgressFn | None,
    journal: Journal,
    settle_seconds: float,
    max_reconcile: int,
    extras: Extras | None = None,
) -> PublishResult:
    from flowcase.jira.storage import read_manifest

    report = progress or (lambda _p: None)
    result = PublishResult()
    manifest = await read_manifest(client, story_key)
    revision = int(manifest["revision"]) if manifest else 0
    planned = plan(model, suite, project_key, settings, extras, revision=revision)
    total_steps = len(planned)
    made_ids: set[int] = set()  # issues this publish created: reconciled with the search

    def tick(phase: str, done: int) -> None:
        p = Progress(phase, done, total_steps)
        report(p)
        journal.checkpoint(p)

    tick("search", 0)
    existing, duplicates = await find_existing(client, project_key, story_key, model.id)
    # A previous attempt may have sent creates that Jira applied after we lost track. With the story link in the
    # create call the story's links show them at once; otherwise give the search index time to catch up.
    doubtful = journal.uncertain() - set(existing)
    wanted = {p.test_id for p in planned}
    if doubtful & wanted and settle_seconds > 0 and not ready.link_on_create:
        await asyncio.sleep(settle_seconds)
        existing, duplicates = await find_existing(client, project_key, story_key, model.id)
    for dup in duplicates:
        await _heal_duplicate(client, dup, story_key, result)

    done = 0
    to_create: list[Planned] = []
    for p in planned:
        have = existing.get(p.test_id)
        if have is None:
            to_create.append(p)
            continue
        result.keys[p.test_id] = have.key
        result.ids[p.test_id] = str(have.issue_id)
        if have.hash == p.hash and OBSOLETE_LABEL not in have.labels:
            result.unchanged += 1
        else:
            await _update(client, have, p, model.id, story_key, extras)
            result.updated += 1
        done += 1
        if done % 25 == 0:
            tick("update", done)
            await held.renew_if_due()
    tick("update", done)

    for attempt in range(max_reconcile + 1):
        if not to_create:
            break
        try:
            await _create(
                client,
                held,
                to_create,
                model.id,
                story_key,
                settings,
                ready.link_on_create,
                result,
                journal,
                made_ids,
                lambda n: tick("create", done + n),
                extras,
            )
            to_create = []
        except JiraError as exc:
            if not exc.retryable or attempt == max_reconcile:
                raise
            # Ambiguous: Jira may have applied the chunk. Look again (story links, search) before resending.
            to_create = [p for p in to_create if p.test_id not in result.keys]
            if settle_seconds > 0 and not ready.link_on_create:
                await asyncio.sleep(settle_seconds)
            again, extra = await find_existing(client, project_key, story_key, model.id, known_ids=made_ids)
            for dup in extra:
                await _heal_duplicate(client, dup, story_key, result)
            applied = [p for p in to_create if p.test_id in again]
            for p in applied:
                result.keys[p.test_id] = again[p.test_id].key
                result.ids[p.test_id] = str(again[p.test_id].issue_id)
                existing[p.test_id] = again[p.test_id]
                result.created += 1
            journal.created([(p.test_id, again[p.test_id].key, p.hash) for p in applied])
            for p in applied:
                if again[p.test_id].hash != p.hash:  # created without its identity hash: extras not written yet
                    await _complete_created(
                        client, extras, again[p.test_id].key, str(again[p.test_id].issue_id), p, model.id, story_key
                    )
            to_create = [p for p in to_create if p.test_id not in again]
    done = len(result.keys)
    tick("create", done)
    if planned and not result.keys:
        raise PublishError(
            f"Jira refused all {len(planned)} tests for {story_key}; nothing was published "
            "(see the log for Jira's reasons)"
        )

    requirements = await _known_requirements(client, planned, story_key, result)
    linked = 0
    for p in planned:
        key = result.keys.get(p.test_id)
        if key is None:
            continue
        if p.test_id in existing:
            have_links = existing[p.test_id].links
        else:  # created by this publish, linked to the story in the create call when the screen allows
            have_links = [LinkRef("", settings.link_type, story_key, True)] if ready.link_on_create else []
        targets = [(settings.link_type, story_key)] + [
            (settings.requirement_link_type, r) for r in p.requirements if r in requirements
        ]
        await _ensure_links(client, key, targets, have_links, result)
        linked += 1
        if linked % 25 == 0:
            tick("link", linked)
            await held.renew_if_due()
    tick("link", linked)

    obsolete = [e for t, e in sorted(existing.items()) if t not in wanted and OBSOLETE_LABEL not in e.labels]
    for n, row in enumerate(obsolete, 1):
        await _mark_obsolete(client, row)
        result.obsoleted += 1
        tick("obsolete", n)
    if extras is not None:
        await extras.after(dict(result.ids), [str(row.issue_id) for row in obsolete])

    await _write_story_summary(client, story_key, model, suite, result, revision)
    tick("done", len(result.keys))
    return result


async def _known_requirements(
    client: JiraClient, planned: Sequence[Planned], story: str, result: PublishResult
) -> set[str]:
    """Which requirement keys exist (one bulk fetch per 100 keys); the others are reported, never linked."""
    keys = sorted({r for p in planned for r in p.requirements if r != story})
    if not keys:
        return set()
    found = {str(i.get("key")) for i in await client.fetch_issues(keys, fields=("summary",))}
    result.missing_requirements = [k for k in keys if k not in found]
    return found


async def _heal_duplicate(client: JiraClient, dup: Existing, story: str, result: PublishResult) -> None:
    """A younger issue carrying the same test id: unlink it from the story, label it, say why. Never deleted."""
    for link in dup.links:
        if link.other == story:
            await client.delete_link(link.id)
    await client.edit_issue(dup.key, update={"labels": [{"add": DUPLICATE_LABEL}]})
    try:
        await client.add_comment(
            dup.key,
            adf.comment(
                f"flowcase: this issue duplicates an older test issue of {story} (same test); it was unlinked from the "
                "story and labelled flowcase-duplicate. It is not updated any more; delete it when convenient."
            ),
        )
    except JiraError as exc:
        if exc.status not in (404, 405):
            raise
    result.duplicates += 1
    result.duplicate_keys.append(dup.key)


async def _update(
    client: JiraClient, have: Existing, p: Planned, model_id: str, story: str, extras: Extras | None = None
) -> None:
    labels = [label for label in have.labels if label != OBSOLETE_LABEL]
    labels = sorted(set(labels) | set(p.fields["labels"]))
    fields = {"summary": p.fields["summary"], "description": p.fields["description"], "labels": labels}
    await client.edit_issue(have.key, fields=fields)
    if extras is not None:
        await extras.write(have.key, str(have.issue_id), p.test_id)
    # The identity (with the new hash) is written last: a crash in between only causes one more update later.
    await client.put_property("issue", have.key, TEST_PROPERTY, p.identity(model_id, story))
    have.labels = labels


async def _complete_created(
    client: JiraClient, extras: Extras | None, key: str, issue_id: str, p: Planned, model_id: str, story: str
) -> None:
    """A test issue created without its hash (it has extras): write the extras, then the identity with the hash."""
    if extras is None:
        return
    await extras.write(key, issue_id, p.test_id)
    await client.put_property("issue", key, TEST_PROPERTY, p.identity(model_id, story))


async def _create(
    client: JiraClient,
    held: lease.Lease,
    items: Sequence[Planned],
    model_id: str,
    story: str,
    settings: PublishSettings,
    link_on_create: bool,
    result: PublishResult,
    journal: Journal,
    made_ids: set[int],
    on_progress: Callable[[int], None],
    extras: Extras | None = None,
) -> None:
    pending = list(items)
    made = 0
    while pending:
        chunk, pending = pending[:BULK_CREATE_LIMIT], pending[BULK_CREATE_LIMIT:]
        await held.renew_if_due()
        await held.check()  # the fence: only the holder of the story's publish lease creates its tests
        journal.sending([p.test_id for p in chunk])
        await journal.flush()  # a durable journal's write-ahead lands before the create call
        updates: list[JsonObj] = []
        for p in chunk:
            identity = p.identity(model_id, story)
            if extras is not None:
                identity["hash"] = ""  # complete only once the extras are written (_complete_created)
            update: JsonObj = {"fields": p.fields, "properties": [{"key": TEST_PROPERTY, "value": identity}]}
            if link_on_create:
                # Created already linked to the story (the test "tests" the story): the story's links, which are
                # always current, then show every test that exists, whatever the search index says.
                update["update"] = {
                    "issuelinks": [{"add": {"type": {"name": settings.link_type}, "outwardIssue": {"key": story}}}]
                }
            updates.append(update)
        try:
            outcome = await client.create_issues(updates)
        finally:
            result.create_calls += 1
        rows: list[tuple[str, str, str]] = []
        for index, issue in sorted(outcome.created.items()):
            p = chunk[index]
            result.keys[p.test_id] = str(issue.get("key"))
            result.ids[p.test_id] = str(issue.get("id"))
            if str(issue.get("id", "")).isdigit():
                made_ids.add(int(issue["id"]))
            rows.append((p.test_id, str(issue.get("key")), p.hash))
        result.created += len(rows)
        journal.created(rows)
        for index, issue in sorted(outcome.created.items()):
            await _complete_created(
                client, extras, str(issue.get("key")), str(issue.get("id")), chunk[index], model_id, story
            )
        for err in outcome.errors:
            result.failed.append(chunk[err.index].test_id)
            log.warning("Jira refused test %s: %s", chunk[err.index].test_id, "; ".join(err.messages)[:300])
        made += len(chunk)
        on_progress(made)
        # Items Jira refused are not retried: it refused them for a reason (fields, permissions). They are
        # reported in ``result.failed`` and created by the next publish once the cause is fixed.


async def _ensure_links(
    client: JiraClient, key: str, targets: Sequence[tuple[str, str]], have: list[LinkRef], result: PublishResult
) -> None:
    """Each test links to its story (and requirements) as the link's source: it reads "tests DEMO-1", the story
    "is tested by DEMO-5". A link found the other way round (the story as source) is replaced."""
    for link_type, other in targets:
        mine = [lk for lk in have if lk.type == link_type and lk.other == other]
        if any(lk.outward for lk in mine):
            continue
        for wrong in mine:
            await client.delete_link(wrong.id)
            result.links_fixed += 1
        try:
            await client.link_issues(link_type, source=key, target=other)
        except JiraError as exc:
            if not exc.retryable:
                raise
            # Ambiguous: look before linking again (Jira answers "created" for a link that exists, but a link
            # created twice by a retry could still be a second one on older sites).
            again = _links((await client.get_issue(key, fields=("issuelinks",)) or {}).get("fields") or {})
            if not any(lk.type == link_type and lk.other == other and lk.outward for lk in again):
                await client.link_issues(link_type, source=key, target=other)
        have.append(LinkRef("", link_type, other, True))
        result.links_created += 1


async def _mark_obsolete(client: JiraClient, row: Existing) -> None:
    await client.edit_issue(row.key, update={"labels": [{"add": OBSOLETE_LABEL}]})
    row.labels.append(OBSOLETE_LABEL)
    try:
        await client.add_comment(
            row.key,
            adf.comment("flowcase: this test is no longer generated from the model (marked obsolete, not deleted)."),
        )
    except JiraError as exc:
        if exc.status not in (404, 405):  # comments disabled or not supported: the label is the marker
            raise


async def _write_story_summary(
    client: JiraClient, story: str, model: Model, suite: Suite, result: PublishResult, revision: int
) -> None:
    covered = [c for c in suite.coverage if c.kind != "requirement"]
    coverage = round(100.0 * sum(1 for c in covered if c.covered_by) / len(covered), 1) if covered else 100.0
    extra = {
        "status": "incomplete" if result.failed else "published",
        "testCount": len(suite.tests),
        "coverage": coverage,
        "lastPublish": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "published": result.as_json(),
        # how the published suite was generated: a test issue's lineage regenerates the same way to tell whether
        # it is current, outdated or obsolete
        "criterion": suite.criterion,
        "options": dict(suite.options),
    }
    await write_summary(client, story, model, revision, extra)


__all__ = [
    "Extras",
    "Journal",
    "Progress",
    "PublishError",
    "PublishNotReady",
    "PublishResult",
    "find_existing",
    "model_label",
    "plan",
    "publish",
]
