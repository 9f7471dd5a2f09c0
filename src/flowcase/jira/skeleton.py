"""The one publishing skeleton every target runs: Jira issues (:mod:`flowcase.jira.publish`), Xray tests (the Jira
target with extras, :mod:`flowcase.targets.xray`) and Zephyr Scale test cases (:mod:`flowcase.targets.zephyr`).

The guarantees live here, once; a target only says how to do each step with its API (:class:`Target`):

0. the story must exist; the target's own checks (:meth:`Target.start`: Jira's preflight, Zephyr's project);
   then the story's ``publish`` lease is held throughout, so publishes of one story never overlap;
1. plan (pure) from the story's workflow revision; resolve what is published already (:meth:`Target.find`), and
   when a previous attempt sent creates it never saw confirmed, give a lagging search index time to catch up
   before believing they are missing; younger duplicates of a test id are marked, never deleted;
2. update in place what changed (hash differs, or the test came back after being obsolete); unchanged tests cost
   no write;
3. create the missing ones, ``chunk_size`` a call, each call fenced by the lease and announced to the journal
   before it is sent (write-ahead, flushed) and after it is confirmed. A call that fails ambiguously (timeout,
   reset, 5xx: the target may have applied it) is followed by a new lookup before anything is resent, up to
   ``max_reconcile`` times; tests the target refused are reported, never retried blindly;
4. the target's links (:meth:`Target.link`);
5. mark the tests that are no longer generated as obsolete (never deleted);
6. the target's epilogue (:meth:`Target.after`), then the story's ``flowcase-summary``.

Only ids, keys, hashes and counts reach the :class:`Journal` (the durable job).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from flowcase.errors import PublishError
from flowcase.jira import lease
from flowcase.jira.client import JiraClient, JiraError, JsonObj
from flowcase.jira.storage import read_manifest, write_summary

if TYPE_CHECKING:
    from flowcase.generate.suite import Suite
    from flowcase.jira import preflight
    from flowcase.jira.settings_store import PublishSettings
    from flowcase.model.types import Model

OBSOLETE_LABEL = "flowcase-obsolete"
PUBLISH_LEASE = "publish"
log = logging.getLogger("flowcase.publish")


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


class NullJournal:
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


def publish_lease_timing() -> lease.LeaseTiming:
    """The story's publish lease: ``ttl`` from FLOWCASE_PUBLISH_LEASE_SECONDS (how long a dead publisher blocks
    the story), renewed every quarter of it while a publish runs."""
    from flowcase.config import ConfigError, get_settings

    try:
        ttl = get_settings().publish_lease_seconds
    except ConfigError:
        ttl = 60.0
    return lease.LeaseTiming(settle=1.0, ttl=ttl, wait=max(60.0, ttl * 1.5))


@dataclass(frozen=True, slots=True)
class PublishCall:
    """One publish of a story's suite, whatever the target: what every target's publisher is given."""

    jira: JiraClient
    model: Model
    suite: Suite
    story_key: str
    project_key: str
    settings: PublishSettings
    progress: ProgressFn | None = None
    journal: Journal | None = None
    settle_seconds: float = 5.0
    max_reconcile: int = 3
    lease_timing: lease.LeaseTiming | None = None
    readiness: preflight.Readiness | None = None


class PlannedTest(Protocol):
    """What a target plans for one test: at least its id and the hash of everything written."""

    @property
    def test_id(self) -> str: ...

    @property
    def hash(self) -> str: ...


class FoundTest(Protocol):
    """A test already published (found by its identity): key, test id, hash written, labels."""

    @property
    def key(self) -> str: ...

    @property
    def ref(self) -> str:
        """The target's id of it (Jira issue id, Zephyr test case id)."""
        ...

    @property
    def test_id(self) -> str: ...

    @property
    def hash(self) -> str: ...

    @property
    def labels(self) -> list[str]: ...


P = TypeVar("P", bound=PlannedTest)
E = TypeVar("E", bound=FoundTest)


@dataclass(frozen=True, slots=True)
class Made:
    """One test the target confirmed created: its index in the chunk, key and id."""

    index: int
    key: str
    ref: str


@dataclass(slots=True)
class ChunkOutcome:
    made: list[Made] = field(default_factory=list)
    refused: list[tuple[int, str]] = field(default_factory=list)  # (index in the chunk, the target's reasons)


class Beat(Protocol):
    """Progress of a phase, with the lease's renewal, every ``batch`` tests (and once more when ``last``)."""

    def __call__(self, phase: str, done: int, *, last: bool = False) -> Awaitable[None]: ...


class Target(Protocol, Generic[P, E]):
    """How one target does each step of :func:`run` (see the module docs)."""

    @property
    def name(self) -> str:
        """Who refuses or fails, in messages ("Jira", "Zephyr Scale")."""
        ...

    @property
    def chunk_size(self) -> int:
        """Tests per create call."""
        ...

    @property
    def batch(self) -> int:
        """Progress and the lease's renewal every ``batch`` tests."""
        ...

    @property
    def settle_seconds(self) -> float:
        """Time for a lagging search to catch up before looking again (0: the lookup is always current)."""
        ...

    async def start(self, story: JsonObj) -> None:
        """Checks before anything is written (story found): refuse with a :class:`PublishError` saying why."""
        ...

    def plan(self, revision: int) -> Sequence[P]: ...

    async def find(self, known: Collection[str]) -> tuple[dict[str, E], list[E]]:
        """Published tests by test id (the oldest wins) and the younger duplicates; ``known``: ids of tests this
        publish created (a lagging search is told of them)."""
        ...

    async def mark_duplicate(self, dup: E) -> None: ...

    async def prepare(self, planned: Sequence[P], result: PublishResult) -> None:
        """Once the published tests are known, before any write (Zephyr: the folder, the requirements' ids)."""
        ...

    async def update(self, have: E, p: P, result: PublishResult) -> None:
        """Bring ``have`` in line with ``p`` in place, its hash written last."""
        ...

    async def create(self, chunk: Sequence[P], result: PublishResult) -> ChunkOutcome:
        """One create call (raise :class:`JiraError` when it failed as a whole)."""
        ...

    async def complete(self, key: str, ref: str, p: P, result: PublishResult) -> None:
        """A test created without its hash yet: write what follows the create, then the hash."""
        ...

    async def link(self, planned: Sequence[P], existing: dict[str, E], result: PublishResult, beat: Beat) -> None: ...

    async def mark_obsolete(self, row: E) -> None: ...

    async def after(self, result: PublishResult, obsolete: Sequence[E]) -> None:
        """Once every test is written and the obsolete ones marked."""
        ...

    def explain(self, exc: JiraError) -> str:
        """One line for a failure that stopped the publish (which service, what it said; no secrets)."""
        ...


async def run(call: PublishCall, target: Target[Any, Any]) -> PublishResult:
    """Bring the story's published tests in line with ``call.suite`` on ``target`` (see the module docs)."""
    story_key = call.story_key
    try:
        story = await call.jira.get_issue(story_key, fields=("summary",))
        if story is None:
            raise PublishError(f"story {story_key} does not exist or cannot be seen")
        await target.start(story)
        timing = call.lease_timing or publish_lease_timing()
        async with lease.hold(call.jira, story_key, PUBLISH_LEASE, timing=timing) as held:
            return await _Run(call, target, held).phases()
    except lease.LeaseBusy as exc:
        raise PublishError(str(exc), retryable=True, status=409) from exc
    except lease.LeaseLost as exc:
        raise PublishError(f"publishing to {story_key} stopped: {exc}", retryable=True) from exc
    except JiraError as exc:
        raise PublishError(
            f"publishing to {story_key} stopped: {target.explain(exc)}", retryable=exc.retryable, status=exc.status
        ) from exc


class _Run(Generic[P, E]):
    def __init__(self, call: PublishCall, target: Target[P, E], held: lease.Lease) -> None:
        self.call, self.target, self.held = call, target, held
        self.journal: Journal = call.journal or NullJournal()
        self.result = PublishResult()
        self.total = 0
        self.made: set[str] = set()  # ids of the tests this publish created: a lagging search is told of them

    def tick(self, phase: str, done: int) -> None:
        p = Progress(phase, done, self.total)
        if self.call.progress is not None:
            self.call.progress(p)
        self.journal.checkpoint(p)

    async def beat(self, phase: str, done: int, *, last: bool = False) -> None:
        """Progress and the lease's renewal every ``batch`` tests; ``last``: the phase's final count."""
        if last:
            self.tick(phase, done)
        elif done % self.target.batch == 0:
            self.tick(phase, done)
            await self.held.renew_if_due()

    async def settle(self) -> None:
        if self.target.settle_seconds > 0:
            await asyncio.sleep(self.target.settle_seconds)

    async def mark_duplicates(self, duplicates: Sequence[E]) -> None:
        for dup in duplicates:
            await self.target.mark_duplicate(dup)
            self.result.duplicates += 1
            self.result.duplicate_keys.append(dup.key)

    def record(self, test_id: str, key: str, ref: str) -> None:
        self.result.keys[test_id] = key
        self.result.ids[test_id] = ref

    async def phases(self) -> PublishResult:
        call, target, result = self.call, self.target, self.result
        manifest = await read_manifest(call.jira, call.story_key)
        revision = int(manifest["revision"]) if manifest else 0
        planned = target.plan(revision)
        self.total = len(planned)
        wanted = {p.test_id for p in planned}

        self.tick("search", 0)
        existing, duplicates = await target.find(())
        # A previous attempt may have sent creates that were applied after it lost track: when the lookup may lag,
        # give it time before believing them missing.
        if (self.journal.uncertain() - set(existing)) & wanted and target.settle_seconds > 0:
            await self.settle()
            existing, duplicates = await target.find(())
        await self.mark_duplicates(duplicates)
        await target.prepare(planned, result)

        done = 0
        to_create: list[P] = []
        for p in planned:
            have = existing.get(p.test_id)
            if have is None:
                to_create.append(p)
                continue
            self.record(p.test_id, have.key, have.ref)
            if have.hash == p.hash and OBSOLETE_LABEL not in have.labels:
                result.unchanged += 1
            else:
                await target.update(have, p, result)
                result.updated += 1
            done += 1
            await self.beat("update", done)
        await self.beat("update", done, last=True)

        await self.create_all(to_create, existing, done)
        self.tick("create", len(result.keys))
        if planned and not result.keys:
            raise PublishError(
                f"{target.name} refused all {len(planned)} tests for {call.story_key}; nothing was published "
                f"(see the log for {target.name}'s reasons)"
            )

        await target.link(planned, existing, result, self.beat)

        obsolete = [e for t, e in sorted(existing.items()) if t not in wanted and OBSOLETE_LABEL not in e.labels]
        for n, row in enumerate(obsolete, 1):
            await target.mark_obsolete(row)
            result.obsoleted += 1
            self.tick("obsolete", n)
        await target.after(result, obsolete)

        await write_story_summary(call, result, revision)
        self.tick("done", len(result.keys))
        return result

    async def create_all(self, to_create: list[P], existing: dict[str, E], done: int) -> None:
        """Create what is missing; after an ambiguous failure, look again before resending anything."""
        for attempt in range(self.call.max_reconcile + 1):
            if not to_create:
                return
            try:
                await self.create_chunks(to_create, done)
                return
            except JiraError as exc:
                if not exc.retryable or attempt == self.call.max_reconcile:
                    raise
                to_create = [p for p in to_create if p.test_id not in self.result.keys]
                await self.settle()
                again, extra = await self.target.find(sorted(self.made))
                await self.mark_duplicates(extra)
                applied = [p for p in to_create if p.test_id in again]
                for p in applied:
                    have = again[p.test_id]
                    self.record(p.test_id, have.key, have.ref)
                    existing[p.test_id] = have
                    self.result.created += 1
                self.journal.created([(p.test_id, again[p.test_id].key, p.hash) for p in applied])
                for p in applied:
                    have = again[p.test_id]
                    if have.hash != p.hash:  # created, but what follows the create was not all written
                        await self.target.complete(have.key, have.ref, p, self.result)
                to_create = [p for p in to_create if p.test_id not in again]

    async def create_chunks(self, items: Sequence[P], done: int) -> None:
        size = self.target.chunk_size
        sent = 0
        for start in range(0, len(items), size):
            chunk = items[start : start + size]
            await self.held.renew_if_due()
            await self.held.check()  # the fence: only the holder of the story's publish lease creates its tests
            self.journal.sending([p.test_id for p in chunk])
            await self.journal.flush()  # a durable journal's write-ahead lands before the create call
            try:
                outcome = await self.target.create(chunk, self.result)
            finally:
                self.result.create_calls += 1
            for made in outcome.made:
                self.record(chunk[made.index].test_id, made.key, made.ref)
                self.made.add(made.ref)
            self.result.created += len(outcome.made)
            self.journal.created([(chunk[m.index].test_id, m.key, chunk[m.index].hash) for m in outcome.made])
            for made in outcome.made:
                await self.target.complete(made.key, made.ref, chunk[made.index], self.result)
            for index, why in outcome.refused:
                self.result.failed.append(chunk[index].test_id)
                log.warning("%s refused test %s: %s", self.target.name, chunk[index].test_id, why[:300])
            # Refused tests are not retried: the target refused them for a reason (fields, permissions). They are
            # reported in ``result.failed`` and created by the next publish once the cause is fixed.
            sent += len(chunk)
            self.tick("create", done + sent)


async def write_story_summary(call: PublishCall, result: PublishResult, revision: int) -> None:
    """The story's ``flowcase-summary``: counts, coverage and how the suite was generated (ids, no content)."""
    suite = call.suite
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
    await write_summary(call.jira, call.story_key, call.model, revision, extra)


__all__ = [
    "ChunkOutcome",
    "Journal",
    "Made",
    "NullJournal",
    "Progress",
    "ProgressFn",
    "PublishCall",
    "PublishResult",
    "Target",
    "publish_lease_timing",
    "run",
]
