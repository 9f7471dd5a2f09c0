"""Publish a generated suite to Jira: one issue per test, idempotent, resumable, with few calls.

Identity: every test issue carries the issue property ``flowcase-test`` = ``{id, model, story, hash}`` set IN the
create call (so an issue exists only together with its identity), the label ``flowcase`` and the per-model label
``flowcase-m-<model id>``. ``hash`` covers everything we write (summary, description, labels), so unchanged tests
cost no write at all.

One publish runs the skeleton every target shares (:mod:`flowcase.jira.skeleton`), with :class:`JiraTarget`'s
calls (see docs/jira.md):

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

import hashlib
import json
import logging
import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from flowcase.errors import PublishError as PublishError
from flowcase.generate.suite import Suite, TestCase
from flowcase.jira import adf, lease, preflight
from flowcase.jira.client import BULK_CREATE_LIMIT, RECONCILE_LIMIT, JiraClient, JiraError, JsonObj
from flowcase.jira.settings_store import PublishSettings
from flowcase.jira.skeleton import OBSOLETE_LABEL as OBSOLETE_LABEL
from flowcase.jira.skeleton import PUBLISH_LEASE as PUBLISH_LEASE
from flowcase.jira.skeleton import (
    Beat,
    ChunkOutcome,
    Journal,
    Made,
    Progress,
    ProgressFn,
    PublishCall,
    PublishResult,
    run,
)
from flowcase.model.types import Model

TEST_PROPERTY = "flowcase-test"
LABEL = "flowcase"
DUPLICATE_LABEL = "flowcase-duplicate"
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

    @property
    def ref(self) -> str:
        return str(self.issue_id)


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
    call = PublishCall(
        client,
        model,
        suite,
        story_key,
        project_key,
        settings,
        progress,
        journal,
        settle_seconds,
        max_reconcile,
        lease_timing,
        readiness,
    )
    return await publish_call(call, extras)


async def publish_call(call: PublishCall, extras: Extras | None = None) -> PublishResult:
    """:func:`publish` for a :class:`PublishCall` (the Xray target adds its ``extras``)."""
    return await run(call, JiraTarget(call, extras))


class JiraTarget:
    """Test issues in Jira: the steps of :func:`flowcase.jira.skeleton.run` with Jira's REST API."""

    name = "Jira"
    chunk_size = BULK_CREATE_LIMIT
    batch = 25

    def __init__(self, call: PublishCall, extras: Extras | None = None) -> None:
        self.call, self.client, self.extras = call, call.jira, extras
        self.ready = call.readiness
        self.story, self.model_id = call.story_key, call.model.id

    @property
    def link_on_create(self) -> bool:
        return self.ready is not None and self.ready.link_on_create

    @property
    def settle_seconds(self) -> float:
        # With the story link in the create call the story's links show every test at once; otherwise the search
        # index needs time to catch up.
        return 0.0 if self.link_on_create else self.call.settle_seconds

    async def start(self, story: JsonObj) -> None:
        call = self.call
        self.ready = self.ready or await preflight.check(self.client, call.project_key, call.settings)
        if not self.ready.ready:
            raise PublishNotReady(self.ready)
        self.client.silent_edits = self.client.silent_edits and self.ready.silent_edits

    def plan(self, revision: int) -> list[Planned]:
        call = self.call
        return plan(call.model, call.suite, call.project_key, call.settings, self.extras, revision=revision)

    async def find(self, known: Collection[str]) -> tuple[dict[str, Existing], list[Existing]]:
        ids = [int(i) for i in known if i.isdigit()]
        return await find_existing(self.client, self.call.project_key, self.story, self.model_id, known_ids=ids)

    async def mark_duplicate(self, dup: Existing) -> None:
        """A younger issue carrying the same test id: unlink it from the story, label it, say why. Never deleted."""
        for link in dup.links:
            if link.other == self.story:
                await self.client.delete_link(link.id)
        await self.client.edit_issue(dup.key, update={"labels": [{"add": DUPLICATE_LABEL}]})
        await self._comment(
            dup.key,
            f"flowcase: this issue duplicates an older test issue of {self.story} (same test); it was unlinked from "
            "the story and labelled flowcase-duplicate. It is not updated any more; delete it when convenient.",
        )

    async def prepare(self, planned: Sequence[Planned], result: PublishResult) -> None:
        pass

    async def update(self, have: Existing, p: Planned, result: PublishResult) -> None:
        labels = [label for label in have.labels if label != OBSOLETE_LABEL]
        labels = sorted(set(labels) | set(p.fields["labels"]))
        fields = {"summary": p.fields["summary"], "description": p.fields["description"], "labels": labels}
        await self.client.edit_issue(have.key, fields=fields)
        if self.extras is not None:
            await self.extras.write(have.key, str(have.issue_id), p.test_id)
        # The identity (with the new hash) is written last: a crash in between only causes one more update later.
        await self.client.put_property("issue", have.key, TEST_PROPERTY, p.identity(self.model_id, self.story))
        have.labels = labels

    async def create(self, chunk: Sequence[Planned], result: PublishResult) -> ChunkOutcome:
        updates: list[JsonObj] = []
        for p in chunk:
            identity = p.identity(self.model_id, self.story)
            if self.extras is not None:
                identity["hash"] = ""  # complete only once the extras are written (:meth:`complete`)
            update: JsonObj = {"fields": p.fields, "properties": [{"key": TEST_PROPERTY, "value": identity}]}
            if self.link_on_create:
                # Created already linked to the story (the test "tests" the story): the story's links, which are
                # always current, then show every test that exists, whatever the search index says.
                link = {"type": {"name": self.call.settings.link_type}, "outwardIssue": {"key": self.story}}
                update["update"] = {"issuelinks": [{"add": link}]}
            updates.append(update)
        outcome = await self.client.create_issues(updates)
        made = [Made(i, str(issue.get("key")), str(issue.get("id"))) for i, issue in sorted(outcome.created.items())]
        return ChunkOutcome(made, [(err.index, "; ".join(err.messages)) for err in outcome.errors])

    async def complete(self, key: str, ref: str, p: Planned, result: PublishResult) -> None:
        """A test issue created without its hash (it has extras): write the extras, then the identity."""
        if self.extras is None:
            return
        await self.extras.write(key, ref, p.test_id)
        await self.client.put_property("issue", key, TEST_PROPERTY, p.identity(self.model_id, self.story))

    async def link(
        self, planned: Sequence[Planned], existing: dict[str, Existing], result: PublishResult, beat: Beat
    ) -> None:
        """Each test links to its story (and requirements that exist) as the link's source."""
        settings = self.call.settings
        requirements = await _known_requirements(self.client, planned, self.story, result)
        linked = 0
        for p in planned:
            key = result.keys.get(p.test_id)
            if key is None:
                continue
            if p.test_id in existing:
                have_links = existing[p.test_id].links
            else:  # created by this publish, linked to the story in the create call when the screen allows
                have_links = [LinkRef("", settings.link_type, self.story, True)] if self.link_on_create else []
            targets = [(settings.link_type, self.story)] + [
                (settings.requirement_link_type, r) for r in p.requirements if r in requirements
            ]
            await _ensure_links(self.client, key, targets, have_links, result)
            linked += 1
            await beat("link", linked)
        await beat("link", linked, last=True)

    async def mark_obsolete(self, row: Existing) -> None:
        await self.client.edit_issue(row.key, update={"labels": [{"add": OBSOLETE_LABEL}]})
        row.labels.append(OBSOLETE_LABEL)
        await self._comment(
            row.key, "flowcase: this test is no longer generated from the model (marked obsolete, not deleted)."
        )

    async def after(self, result: PublishResult, obsolete: Sequence[Existing]) -> None:
        if self.extras is not None:
            await self.extras.after(dict(result.ids), [str(row.issue_id) for row in obsolete])

    def explain(self, exc: JiraError) -> str:
        return exc.summary()

    async def _comment(self, key: str, text: str) -> None:
        try:
            await self.client.add_comment(key, adf.comment(text))
        except JiraError as exc:
            if exc.status not in (404, 405):  # comments disabled or not supported: the label is the marker
                raise


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


__all__ = [
    "Extras",
    "JiraTarget",
    "Journal",
    "Progress",
    "ProgressFn",
    "PublishCall",
    "PublishError",
    "PublishNotReady",
    "PublishResult",
    "find_existing",
    "model_label",
    "plan",
    "publish",
    "publish_call",
]
