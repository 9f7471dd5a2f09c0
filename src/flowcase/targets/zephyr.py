"""Publish a suite to Zephyr Scale Cloud: one test case per test, with steps, in a folder per workflow.

The publishing skeleton (:mod:`flowcase.jira.skeleton`: the guarantees of every target) with Zephyr Scale's REST
API v2 (:class:`ZephyrTarget`, docs/targets.md):

- identity: every test case carries labels ``flowcase``, ``flowcase-m-<model>``, ``flowcase-s:<story>``,
  ``flowcase-id:<test id>`` and, once it is complete (steps and coverage links written), ``flowcase-h:<hash>``.
  A republish lists the project's test cases and finds each test by these labels, so nothing is created twice;
  an unchanged hash costs no write at all;
- create: ``POST /testcases`` (without the hash label), then steps (``OVERWRITE`` then ``APPEND``, 100 per
  call), coverage links to the story and the requirement issues, then the hash label (``PUT``): a run that dies in
  between leaves a test case without its hash, which the next run completes. The job journal hears of each create
  before it is sent (write-ahead) and as soon as it is confirmed; a create that failed ambiguously (5xx, timeout)
  is looked up again before it is resent;
- update in place (``PUT`` keeps the key), obsolete tests get the label ``flowcase-obsolete`` (never deleted),
  younger duplicates of a test id the label ``flowcase-duplicate``;
- the story's ``publish`` lease (in Jira) is held throughout; nothing but keys, ids and hashes reaches the journal.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from flowcase.export import zephyr as zephyr_export
from flowcase.export.common import issue_links_of, labels_of
from flowcase.generate.suite import Suite
from flowcase.jira.client import JiraClient, JiraError, JsonObj
from flowcase.jira.publish import DUPLICATE_LABEL, LABEL, OBSOLETE_LABEL, PublishError, model_label
from flowcase.jira.settings_store import PublishSettings
from flowcase.jira.skeleton import Beat, ChunkOutcome, Made, PublishCall, PublishResult, run
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

    @property
    def ref(self) -> str:
        return str(self.id)


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
        reqs = tuple(k for k in issue_links_of(test) if k != story_key)
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


async def publish(call: PublishCall, access: Any, *, client: JiraClient | None = None) -> PublishResult:
    """Bring the story's Zephyr Scale test cases in line with ``call.suite`` (see the module docs)."""
    z = client or zephyr_client(access.zephyr_url, access.zephyr_token)
    try:
        return await run(call, ZephyrTarget(call, z))
    finally:
        if client is None:
            await z.close()


class ZephyrTarget:
    """Zephyr Scale test cases: the steps of :func:`flowcase.jira.skeleton.run` with Zephyr Scale's REST API."""

    name = "Zephyr Scale"
    chunk_size = 1  # no bulk create: one test case a call
    batch = 10
    settle_seconds = 0.0  # the test case listing is always current

    def __init__(self, call: PublishCall, z: JiraClient) -> None:
        self.call, self.z = call, z
        self.project, self.story = call.project_key, call.story_key
        self.story_id = 0
        self.folder_id: int | None = None
        self.requirement_ids: dict[str, int] = {}

    async def start(self, story: JsonObj) -> None:
        self.story_id = int(story["id"])
        try:
            await self.z.json("GET", f"/projects/{self.project}")
        except JiraError as exc:
            if exc.status in (401, 403):
                raise PublishError(
                    "Zephyr Scale refused the API token (401): check the site's token (flowcase admin page, "
                    "or FLOWCASE_ZEPHYR_TOKEN)",
                    status=exc.status,
                ) from exc
            if exc.status == 404:
                raise PublishError(f"Zephyr Scale is not enabled on project {self.project}", status=409) from exc
            raise

    def plan(self, revision: int) -> list[Planned]:
        return plan(self.call.model, self.call.suite, self.story, self.call.settings)

    async def find(self, known: Collection[str]) -> tuple[dict[str, Existing], list[Existing]]:
        return await find_existing(self.z, self.project, self.story, self.call.model.id)

    async def mark_duplicate(self, dup: Existing) -> None:
        await _put(self.z, dup, labels=[*dup.labels, DUPLICATE_LABEL])

    async def prepare(self, planned: Sequence[Planned], result: PublishResult) -> None:
        model = self.call.model
        self.folder_id = await _folder(self.z, self.project, model.label or model.id)
        self.requirement_ids = await _requirement_ids(self.call.jira, planned, result)

    async def update(self, have: Existing, p: Planned, result: PublishResult) -> None:
        """Steps and coverage links, then the test case itself with its hash label (last)."""
        await _complete(self.z, have.key, p, self.story_id, self.requirement_ids, result)
        await _put(self.z, have, p, self.folder_id)

    async def create(self, chunk: Sequence[Planned], result: PublishResult) -> ChunkOutcome:
        (p,) = chunk
        body: JsonObj = {
            "projectKey": self.project,
            "name": p.name,
            "objective": p.objective,
            "precondition": p.precondition,
            "folderId": self.folder_id,
            "labels": list(p.labels),  # without the hash label: :meth:`complete` adds it
        }
        made = await self.z.json("POST", "/testcases", json=body)
        return ChunkOutcome([Made(0, str(made["key"]), str(made["id"]))])

    async def complete(self, key: str, ref: str, p: Planned, result: PublishResult) -> None:
        await self.update(Existing(key, int(ref), p.test_id, "", list(p.labels)), p, result)

    async def link(
        self, planned: Sequence[Planned], existing: dict[str, Existing], result: PublishResult, beat: Beat
    ) -> None:
        pass  # the coverage links are written with each test case's steps, before its hash

    async def mark_obsolete(self, row: Existing) -> None:
        await _put(self.z, row, labels=[*row.labels, OBSOLETE_LABEL])

    async def after(self, result: PublishResult, obsolete: Sequence[Existing]) -> None:
        pass

    def explain(self, exc: JiraError) -> str:
        response = exc.response
        where = "Zephyr Scale" if response is not None and str(response.url).startswith(self.z.base_url) else "Jira"
        return f"{where}: {exc.summary().replace('Jira ', '', 1)}"


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


__all__ = ["BearerAuth", "ZephyrTarget", "find_existing", "plan", "publish", "zephyr_client"]
