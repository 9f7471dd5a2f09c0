"""Publish a suite to Zephyr Scale Cloud: one test case per test, with steps, in a folder per workflow.

The guarantees of :mod:`flowcase.jira.publish`, with Zephyr Scale's REST API v2 (docs/targets.md):

- identity: every test case carries labels ``flowcase``, ``flowcase-m-<model>``, ``flowcase-s:<story>``,
  ``flowcase-id:<test id>`` and, once it is complete (steps and coverage links written), ``flowcase-h:<hash>``.
  A republish lists the project's test cases and finds each test by these labels, so nothing is created twice;
  an unchanged hash costs no write at all;
- create: ``POST /testcases`` (without the hash label), steps (``OVERWRITE`` then ``APPEND``, 100 per call),
  coverage links to the story and the requirement issues, then the hash label (``PUT``): a run that dies in
  between leaves a test case without its hash, which the next run completes. The job journal hears of each create
  before it is sent (write-ahead) and after it is confirmed; a create that failed ambiguously (5xx, timeout) is
  looked up again before it is resent;
- update in place (``PUT`` keeps the key), obsolete tests get the label ``flowcase-obsolete`` (never deleted),
  younger duplicates of a test id the label ``flowcase-duplicate``;
- the story's ``publish`` lease (in Jira) is held throughout; nothing but keys, ids and hashes reaches the journal.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from flowcase.export import zephyr as zephyr_export
from flowcase.export.common import ISSUE_KEY, labels_of, requirements_of
from flowcase.generate.suite import Suite
from flowcase.jira import lease
from flowcase.jira.client import JiraClient, JiraError, JsonObj
from flowcase.jira.publish import (
    DUPLICATE_LABEL,
    LABEL,
    OBSOLETE_LABEL,
    PUBLISH_LEASE,
    Journal,
    Progress,
    ProgressFn,
    PublishError,
    PublishResult,
    _NullJournal,
    _write_story_summary,
    model_label,
    publish_lease_timing,
)
from flowcase.jira.settings_store import PublishSettings
from flowcase.model.types import Model

log = logging.getLogger("flowcase.targets.zephyr")

STEPS_PER_CALL = 100
PAGE = 1000
ID_PREFIX, STORY_PREFIX, HASH_PREFIX = "flowcase-id:", "flowcase-s:", "flowcase-h:"
_UNSAFE = re.compile(r"\s+")


class BearerAuth(httpx.Auth):
    """A Zephyr Scale API access token in the ``Authorization`` header only (never in a URL or ``repr``)."""

    requires_request_body = False

    def __init__(self, token: str) -> None:
        if not token or any(c in token for c in "\r\n"):
            raise ValueError("a Zephyr Scale API token is required (one line)")
        self._header = f"Bearer {token}"

    def __repr__(self) -> str:
        return "BearerAuth(token=***)"

    def auth_flow(self, request: httpx.Request) -> Any:
        from flowcase.jira.auth import LOOPBACK

        if request.url.scheme != "https" and request.url.host not in LOOPBACK:
            raise ValueError("refusing to send an API token over plain http (use https)")
        request.headers["Authorization"] = self._header
        yield request


def zephyr_client(url: str, token: str) -> JiraClient:
    """The retrying REST client of :mod:`flowcase.jira.client`, pointed at Zephyr Scale's API."""
    return JiraClient(url, BearerAuth(token))


@dataclass(frozen=True, slots=True)
class Planned:
    test_id: str
    hash: str
    name: str
    objective: str
    precondition: str
    labels: tuple[str, ...]  # without the hash label
    steps: tuple[JsonObj, ...]
    requirements: tuple[str, ...]

    def all_labels(self) -> list[str]:
        return [*self.labels, HASH_PREFIX + self.hash]


@dataclass(slots=True)
class Existing:
    key: str
    id: int
    test_id: str
    hash: str
    labels: list[str]
    body: JsonObj = field(default_factory=dict)


def _label(text: str) -> str:
    return _UNSAFE.sub("_", text.strip())[:255]


def plan(model: Model, suite: Suite, story_key: str, settings: PublishSettings) -> list[Planned]:
    """What each test case should hold. Pure: no calls."""
    planned: list[Planned] = []
    for test in suite.tests:
        body = zephyr_export.body(test, project=None, folder=None)
        steps = tuple(
            {"inline": {k: s[k] for k in ("description", "testData", "expectedResult")}}
            for s in body["testScript"]["steps"]
        )
        tags = [t for t in labels_of(test) if not t.startswith(ID_PREFIX)]
        labels = tuple(
            dict.fromkeys(
                [
                    LABEL,
                    model_label(model.id),
                    _label(STORY_PREFIX + story_key),
                    _label(ID_PREFIX + test.id),
                    *map(_label, tags),
                    *settings.labels,
                ]
            )
        )
        reqs = tuple(k for k in requirements_of(test) if ISSUE_KEY.match(k) and k != story_key)
        digest_src = {
            "name": body["name"],
            "objective": body["objective"],
            "precondition": body["precondition"],
            "labels": labels,
            "steps": steps,
            "requirements": reqs,
        }
        digest = hashlib.sha256(json.dumps(digest_src, sort_keys=True).encode()).hexdigest()[:20]
        planned.append(
            Planned(test.id, digest, body["name"][:255], body["objective"], body["precondition"], labels, steps, reqs)
        )
    return planned


def _identity(labels: Sequence[str], story_key: str, model_id: str) -> tuple[str, str] | None:
    """(test id, hash) of a test case of this story's model, from its labels; None for any other."""
    if _label(STORY_PREFIX + story_key) not in labels or model_label(model_id) not in labels:
        return None
    test_id = next((lb[len(ID_PREFIX) :] for lb in labels if lb.startswith(ID_PREFIX)), None)
    if test_id is None:
        return None
    digest = next((lb[len(HASH_PREFIX) :] for lb in labels if lb.startswith(HASH_PREFIX)), "")
    return test_id, digest


async def find_existing(
    z: JiraClient, project_key: str, story_key: str, model_id: str
) -> tuple[dict[str, Existing], list[Existing]]:
    """The story's test cases by test id (the oldest wins) and the younger duplicates (already labelled ones
    are left out)."""
    rows: list[JsonObj] = []
    start = 0
    while True:
        page = await z.json(
            "GET", "/testcases", params={"projectKey": project_key, "maxResults": PAGE, "startAt": start}
        )
        values = list((page or {}).get("values") or [])
        rows.extend(values)
        if not values or (page or {}).get("isLast", True):
            break
        start += int((page or {}).get("maxResults") or len(values))  # the server may cap the page size
    found: dict[str, Existing] = {}
    duplicates: list[Existing] = []
    for row in sorted(rows, key=lambda r: int(r.get("id") or 0)):
        labels = [str(lb) for lb in row.get("labels") or []]
        ident = _identity(labels, story_key, model_id)
        if ident is None or DUPLICATE_LABEL in labels:
            continue
        have = Existing(str(row.get("key")), int(row.get("id") or 0), ident[0], ident[1], labels, row)
        if have.test_id in found:
            duplicates.append(have)
        else:
            found[have.test_id] = have
    return found, duplicates


async def _folder(z: JiraClient, project_key: str, name: str) -> int:
    """The root test-case folder named ``name`` (the workflow), created when missing."""
    name = name.replace("/", "-").strip()[:255] or "flowcase"
    start = 0
    while True:
        page = await z.json(
            "GET",
            "/folders",
            params={"projectKey": project_key, "folderType": "TEST_CASE", "maxResults": PAGE, "startAt": start},
        )
        values = list((page or {}).get("values") or [])
        for folder in values:
            if folder.get("name") == name and folder.get("parentId") is None:
                return int(folder["id"])
        if not values or (page or {}).get("isLast", True):
            break
        start += int((page or {}).get("maxResults") or len(values))
    made = await z.json("POST", "/folders", json={"name": name, "projectKey": project_key, "folderType": "TEST_CASE"})
    return int(made["id"])


async def publish(
    jira: JiraClient,
    model: Model,
    suite: Suite,
    story_key: str,
    project_key: str,
    settings: PublishSettings,
    progress: ProgressFn | None = None,
    *,
    access: Any,
    journal: Journal | None = None,
    lease_timing: lease.LeaseTiming | None = None,
    max_reconcile: int = 3,
    client: JiraClient | None = None,
) -> PublishResult:
    """Bring the story's Zephyr Scale test cases in line with ``suite`` (see the module docs)."""
    z = client or zephyr_client(access.zephyr_url, access.zephyr_token)
    try:
        story = await jira.get_issue(story_key, fields=("summary",))
        if story is None:
            raise PublishError(f"story {story_key} does not exist or cannot be seen")
        try:
            await z.json("GET", f"/projects/{project_key}")
        except JiraError as exc:
            if exc.status in (401, 403):
                raise PublishError(
                    "Zephyr Scale refused the API token (401): check the site's token (flowcase admin page, "
                    "or FLOWCASE_ZEPHYR_TOKEN)",
                    status=exc.status,
                ) from exc
            if exc.status == 404:
                raise PublishError(f"Zephyr Scale is not enabled on project {project_key}", status=409) from exc
            raise
        async with lease.hold(jira, story_key, PUBLISH_LEASE, timing=lease_timing or publish_lease_timing()) as held:
            return await _publish(
                jira,
                z,
                held,
                model,
                suite,
                story_key,
                int(story["id"]),
                project_key,
                settings,
                progress,
                journal or _NullJournal(),
                max_reconcile,
            )
    except lease.LeaseBusy as exc:
        raise PublishError(str(exc), retryable=True, status=409) from exc
    except lease.LeaseLost as exc:
        raise PublishError(f"publishing to {story_key} stopped: {exc}", retryable=True) from exc
    except JiraError as exc:
        where = "Zephyr Scale" if exc.response is not None and str(exc.response.url).startswith(z.base_url) else "Jira"
        raise PublishError(
            f"publishing to {story_key} stopped: {where}: {exc.summary().replace('Jira ', '', 1)}",
            retryable=exc.retryable,
            status=exc.status,
        ) from exc
    finally:
        if client is None:
            await z.close()


async def _publish(
    jira: JiraClient,
    z: JiraClient,
    held: lease.Lease,
    model: Model,
    suite: Suite,
    story_key: str,
    story_id: int,
    project_key: str,
    settings: PublishSettings,
    progress: ProgressFn | None,
    journal: Journal,
    max_reconcile: int,
) -> PublishResult:
    report = progress or (lambda _p: None)
    result = PublishResult()
    planned = plan(model, suite, story_key, settings)
    total = len(planned)

    def tick(phase: str, done: int) -> None:
        p = Progress(phase, done, total)
        report(p)
        journal.checkpoint(p)

    tick("search", 0)
    existing, duplicates = await find_existing(z, project_key, story_key, model.id)
    for dup in duplicates:
        await _put(z, dup, labels=[*dup.labels, DUPLICATE_LABEL])
        result.duplicates += 1
        result.duplicate_keys.append(dup.key)
    folder_id = await _folder(z, project_key, model.label or model.id)
    requirement_ids = await _requirement_ids(jira, planned, result)
    wanted = {p.test_id for p in planned}

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
            await _complete(z, have.key, p, story_id, requirement_ids, result)
            await _put(z, have, p, folder_id)
            result.updated += 1
        done += 1
        if done % 10 == 0:
            tick("update", done)
            await held.renew_if_due()
    tick("update", done)

    for attempt in range(max_reconcile + 1):
        if not to_create:
            break
        try:
            for p in list(to_create):
                await held.renew_if_due()
                await held.check()  # the fence: only the holder of the story's publish lease creates its tests
                journal.sending([p.test_id])
                await journal.flush()
                body: JsonObj = {
                    "projectKey": project_key,
                    "name": p.name,
                    "objective": p.objective,
                    "precondition": p.precondition,
                    "folderId": folder_id,
                    "labels": list(p.labels),
                }
                try:
                    made = await z.json("POST", "/testcases", json=body)
                finally:
                    result.create_calls += 1
                key = str(made["key"])
                have = Existing(key, int(made["id"]), p.test_id, "", list(p.labels))
                await _complete(z, key, p, story_id, requirement_ids, result)
                await _put(z, have, p, folder_id)
                result.keys[p.test_id] = key
                result.created += 1
                journal.created([(p.test_id, key, p.hash)])
                to_create.remove(p)
                tick("create", done + result.created)
        except JiraError as exc:
            if not exc.retryable or attempt == max_reconcile:
                raise
            # Ambiguous: Zephyr may have created it. Look again before sending anything twice.
            again, _ = await find_existing(z, project_key, story_key, model.id)
            for p in [p for p in to_create if p.test_id in again]:
                have = again[p.test_id]
                await _complete(z, have.key, p, story_id, requirement_ids, result)
                await _put(z, have, p, folder_id)
                result.keys[p.test_id] = have.key
                result.created += 1
                journal.created([(p.test_id, have.key, p.hash)])
                to_create.remove(p)
    tick("create", len(result.keys))

    obsolete = [e for t, e in sorted(existing.items()) if t not in wanted and OBSOLETE_LABEL not in e.labels]
    for n, row in enumerate(obsolete, 1):
        await _put(z, row, labels=[*row.labels, OBSOLETE_LABEL])
        result.obsoleted += 1
        tick("obsolete", n)

    from flowcase.jira.storage import read_manifest

    manifest = await read_manifest(jira, story_key)  # the story's workflow revision, recorded with the summary
    await _write_story_summary(jira, story_key, model, suite, result, int(manifest["revision"]) if manifest else 0)
    tick("done", len(result.keys))
    return result


async def _requirement_ids(jira: JiraClient, planned: Sequence[Planned], result: PublishResult) -> dict[str, int]:
    """Jira issue ids of the requirement keys that exist (one bulk fetch per 100); the others are reported."""
    keys = sorted({r for p in planned for r in p.requirements})
    if not keys:
        return {}
    found = {str(i.get("key")): int(i["id"]) for i in await jira.fetch_issues(keys, fields=("summary",))}
    result.missing_requirements = [k for k in keys if k not in found]
    return found


async def _complete(
    z: JiraClient, key: str, p: Planned, story_id: int, requirement_ids: dict[str, int], result: PublishResult
) -> None:
    """Steps (replaced) and coverage links (added where missing) of test case ``key``."""
    steps = list(p.steps)
    for n in range(0, max(len(steps), 1), STEPS_PER_CALL):
        await z.json(
            "POST",
            f"/testcases/{key}/teststeps",
            json={"mode": "OVERWRITE" if n == 0 else "APPEND", "items": steps[n : n + STEPS_PER_CALL]},
        )
    links = await z.json("GET", f"/testcases/{key}/links")
    linked = {int(lk.get("issueId") or 0) for lk in (links or {}).get("issues") or []}
    targets = [story_id] + [requirement_ids[r] for r in p.requirements if r in requirement_ids]
    for issue_id in dict.fromkeys(targets):
        if issue_id not in linked:
            await z.json("POST", f"/testcases/{key}/links/issues", json={"issueId": issue_id})
            result.links_created += 1


async def _put(
    z: JiraClient,
    have: Existing,
    p: Planned | None = None,
    folder_id: int | None = None,
    *,
    labels: list[str] | None = None,
) -> None:
    """Update test case ``have`` in place: to ``p`` (with its hash label, written last), or only its labels.

    Zephyr clears every field a PUT leaves out, so the current test case is read first and sent back whole."""
    current: JsonObj = await z.json("GET", f"/testcases/{have.key}")
    body: JsonObj = {
        k: current[k]
        for k in (
            "id",
            "key",
            "name",
            "project",
            "priority",
            "status",
            "objective",
            "precondition",
            "estimatedTime",
            "labels",
            "folder",
            "customFields",
            "component",
            "owner",
        )
        if k in current
    }
    if p is not None:
        own = [lb for lb in body.get("labels") or [] if not str(lb).startswith("flowcase")]  # kept: users' labels
        body.update(name=p.name, objective=p.objective, precondition=p.precondition, labels=[*p.all_labels(), *own])
        if folder_id is not None:
            body["folder"] = {"id": folder_id}
    if labels is not None:
        body["labels"] = list(dict.fromkeys(labels))
    if body.get("folder") is None:
        body.pop("folder", None)
    await z.request("PUT", f"/testcases/{have.key}", json=body)
    have.labels = list(body["labels"])


__all__ = ["BearerAuth", "find_existing", "plan", "publish", "zephyr_client"]
