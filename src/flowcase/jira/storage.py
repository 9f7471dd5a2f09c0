"""The model lives on its Jira issue: compressed, chunked issue properties (or an attachment), never in our DB.

Layout on the story issue (see docs/jira.md):

* ``flowcase-model`` (the manifest): ``{format, revision, sha256, size, encoding, storage, chunks | attachment,
  token, includes, savedAt, savedBy, previous}``. It is written LAST, so it only ever points at fully written
  data. ``previous`` describes the revision before it, whose data is kept until the next save: "restore previous
  revision" reads it.
* ``flowcase-model-<token>-<i>`` (``storage == "properties"``): ``{"d": <base64 slice>}`` of the zlib-compressed
  canonical JSON, each value well under Jira's 32,768-character limit. ``token`` = ``r<revision>x<nonce>``:
  unique per save, so no two saves ever share keys.
* an attachment ``flowcase-model-<token>.json.gz`` instead, when the encoded model is larger than
  ``attachment_threshold`` characters (default 1,000,000: about 31 properties).
* ``flowcase-summary`` (small, indexed for JQL and the issue panel): name, status, test count, coverage,
  revision, last publish.
* ``flowcase-lease-save`` while a save runs (:mod:`flowcase.jira.lease`).

Concurrency: every save holds the issue's ``save`` lease from reading the manifest to switching it, so saves of
one issue never interleave, whichever process makes them (web app, worker, CLI). Under the lease a save checks
the revision it started from (:class:`ConflictError` otherwise), writes its data under new keys, checks that the
lease is still its own (the fence), switches the manifest, then deletes data that neither the new manifest nor
its ``previous`` references (older revisions, and the leftovers of saves that crashed).

The CPU work of a save or a load (serialising, hashing, compressing, decompressing, validating: tens of
milliseconds for a model of thousands of nodes) runs in a thread (``asyncio.to_thread``), never on the event loop
that serves the web app's other requests.

Reading never trusts what it reads: the manifest's sizes and chunk count are checked before anything is fetched,
and inflation stops at the size the manifest declares (at most :data:`MAX_MODEL_BYTES`), so a hostile property or
attachment cannot make the server inflate a bomb.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import gzip
import hashlib
import json
import math
import re
import secrets
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from flowcase.errors import ConflictError as ConflictError
from flowcase.errors import StorageError as StorageError
from flowcase.jira import lease
from flowcase.jira.client import JiraClient, JiraError
from flowcase.model.types import Model

MANIFEST_KEY = "flowcase-model"
SUMMARY_KEY = "flowcase-summary"
CHUNK_PREFIX = "flowcase-model-"
MODEL_FORMAT = "flowcase-model/1"
CHUNK_CHARS = 30_000  # base64 characters per property value ({"d": "..."} stays < 32,768)
ATTACHMENT_THRESHOLD = 1_000_000
MAX_MODEL_BYTES = 32 * 1024 * 1024  # canonical JSON of the largest model we read back (10,000 steps: ~6 MB)
# zlib never grows data by more than ~0.1% + a few bytes; base64 adds a third: a generous bound on the chunks.
MAX_CHUNKS = math.ceil((MAX_MODEL_BYTES * 1.01 + 64) * 4 / 3 / CHUNK_CHARS) + 1
SUBWORKFLOW_LINK_TYPE = "Relates"
SAVE_LEASE = "save"
_TOKEN = re.compile(r"r[0-9]{1,9}x[0-9a-f]{1,32}")
_SHA256 = re.compile(r"[0-9a-f]{64}")


class DamagedError(StorageError, status=409, code="storage-damaged"):
    """The model stored on an issue cannot be read back: ``what`` says which part is damaged.

    ``revision`` is the damaged revision when the manifest still names one. Nothing is deleted automatically:
    the user may restore the previous revision or replace the damaged model (``save_model(replace_damaged=True)``).
    ``previous_revision`` is filled in by callers that looked (the web API tells the editor what can be restored).
    """

    def __init__(self, issue_key: str, what: str, revision: int | None = None) -> None:
        self.issue_key = issue_key
        self.what = what
        self.revision = revision
        self.previous_revision: int | None = None
        super().__init__(f"the model on {issue_key} is damaged: {what}")

    def cli_message(self) -> str:
        return (
            f"{self}; `flowcase jira restore {self.issue_key}` brings back the previous revision, or save a "
            "model file with --replace-damaged to replace it"
        )

    def api_details(self) -> dict[str, Any]:
        return {"damaged": self.what, "revision": self.revision, "previousRevision": self.previous_revision}


class StorageRefused(StorageError, status=422, code="storage-refused"):
    """A save or restore that cannot be done as asked (too large, nothing to restore, nothing to repair)."""


class NotDamaged(StorageRefused, status=409):
    """``replace_damaged`` asked for a model that is not damaged."""


class NoPreviousRevision(StorageRefused, status=409, code="no-previous"):
    """A restore on an issue that keeps no previous revision of its model."""


class BusyError(ConflictError, code="busy"):
    """Another save of the same issue held it for longer than we waited: nothing was written."""

    def __init__(self, issue_key: str, message: str) -> None:
        super().__init__(issue_key, None, None)
        self.args = (message,)

    def __str__(self) -> str:
        return str(self.args[0])

    def api_details(self) -> dict[str, Any]:
        return {"revision": None}


@dataclass(frozen=True, slots=True)
class Include:
    """A sub-workflow kept on another issue: workflow ``workflow`` is the main workflow of ``issue``'s model."""

    workflow: str
    issue: str


@dataclass(frozen=True, slots=True)
class Stored:
    model: Model
    revision: int
    sha256: str
    storage: str
    includes: tuple[Include, ...] = ()
    saved_at: str | None = None
    saved_by: str | None = None
    previous_revision: int | None = None


@dataclass(frozen=True, slots=True)
class Manifest:
    """A checked manifest (or its ``previous`` entry): every field bounded before anything is fetched."""

    revision: int
    sha256: str
    size: int
    storage: str
    token: str
    chunks: int
    attachment: str | None
    includes: tuple[Include, ...]
    saved_at: str | None
    saved_by: str | None
    previous: Manifest | None
    raw: Mapping[str, Any]

    def slim(self) -> dict[str, Any]:
        """This revision as the next manifest's ``previous`` entry (no nested ``previous``)."""
        return {k: v for k, v in self.raw.items() if k != "previous"}


def canonical_json(model: Model) -> bytes:
    data = model.model_dump(mode="json", exclude_defaults=True)
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def model_sha256(model: Model) -> str:
    """The sha256 of the model's canonical JSON (what the manifest records); CPU work: call it off the loop."""
    return hashlib.sha256(canonical_json(model)).hexdigest()


def encode(raw: bytes) -> str:
    return base64.b64encode(zlib.compress(raw, 9)).decode("ascii")


@dataclass(frozen=True, slots=True)
class Payload:
    """A model ready to write: its canonical JSON's size and sha256, and either the zlib+base64 property chunks
    or, above the attachment threshold, the gzip attachment."""

    size: int
    sha256: str
    chunks: tuple[str, ...]
    gzip_blob: bytes | None


def prepare_payload(model: Model, attachment_threshold: int = ATTACHMENT_THRESHOLD) -> Payload:
    """Serialise, hash and compress ``model`` (CPU work: :func:`save_model` runs it in a thread)."""
    raw = canonical_json(model)
    if len(raw) > MAX_MODEL_BYTES:
        raise StorageRefused(f"the model is {len(raw):,} bytes, more than the {MAX_MODEL_BYTES:,} that can be stored")
    digest = hashlib.sha256(raw).hexdigest()
    encoded = encode(raw)
    if len(encoded) > attachment_threshold:
        # fixed header: the same model gives the same bytes
        return Payload(len(raw), digest, (), gzip.compress(raw, 9, mtime=0))
    return Payload(len(raw), digest, tuple(split(encoded)), None)


def inflate(data: bytes, limit: int, *, gzip_wrapped: bool = False) -> bytes:
    """Decompress ``data`` but never produce more than ``limit`` bytes (a bomb stops at the cap, not in memory)."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS if gzip_wrapped else zlib.MAX_WBITS)
    try:
        out = inflater.decompress(data, limit + 1)
    except zlib.error as exc:
        raise StorageError(f"stored model data is corrupt ({exc})") from exc
    if len(out) > limit or inflater.unconsumed_tail:
        raise StorageError(f"stored model data inflates to more than its declared {limit:,} bytes")
    if not inflater.eof:
        raise StorageError("stored model data is truncated")
    return out


def decode(text: str, limit: int = MAX_MODEL_BYTES) -> bytes:
    try:
        packed = base64.b64decode(text.encode("ascii"), validate=True)
    except (ValueError, binascii.Error) as exc:
        raise StorageError(f"stored model data is corrupt ({exc})") from exc
    return inflate(packed, limit)


def split(text: str, size: int = CHUNK_CHARS) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _token_of(key: str) -> str | None:
    """The save token in a chunk key ``flowcase-model-<token>-<i>`` or attachment name; None for other keys."""
    rest = key[len(CHUNK_PREFIX) :] if key.startswith(CHUNK_PREFIX) else ""
    match = _TOKEN.match(rest)
    return match.group(0) if match else None


def _int(value: Any, lo: int, hi: int) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and lo <= value <= hi else None


def parse_manifest(issue_key: str, value: Any, *, nested: bool = False) -> Manifest | None:
    """Check a ``flowcase-model`` value (None: no model). Raises :class:`DamagedError` saying what is wrong."""
    if value is None:
        return None
    if not isinstance(value, dict) or _int(value.get("revision"), 1, 10**9) is None:
        raise DamagedError(issue_key, "the flowcase-model property is not a flowcase manifest")
    revision: int = value["revision"]

    def bad(what: str) -> DamagedError:
        return DamagedError(
            issue_key, f"{'its previous revision' if nested else 'revision ' + str(revision)} {what}", revision
        )

    if value.get("format", MODEL_FORMAT) != MODEL_FORMAT:
        raise bad(f"has an unknown format {str(value.get('format'))[:40]!r}")
    sha = value.get("sha256")
    if not isinstance(sha, str) or not _SHA256.fullmatch(sha):
        raise bad("has no valid checksum")
    size = _int(value.get("size"), 0, MAX_MODEL_BYTES)
    if size is None:
        raise bad(f"declares a size that is not a number up to {MAX_MODEL_BYTES:,} bytes")
    storage = value.get("storage")
    token = value.get("token")
    if not isinstance(token, str) or not _TOKEN.fullmatch(token):
        raise bad("has no valid data token")
    chunks, attachment = 0, None
    if storage == "properties":
        limit = math.ceil((size * 1.01 + 64) * 4 / 3 / CHUNK_CHARS) + 1
        found = _int(value.get("chunks"), 1, min(limit, MAX_CHUNKS))
        if found is None:
            raise bad(f"declares {str(value.get('chunks'))[:20]!r} parts (expected 1 to {min(limit, MAX_CHUNKS)})")
        chunks = found
    elif storage == "attachment":
        attachment = value.get("attachment")
        if not isinstance(attachment, str) or not attachment.isdigit() or len(attachment) > 20:
            raise bad("names no valid attachment")
    else:
        raise bad(f"uses an unknown storage {str(storage)[:40]!r}")
    includes = tuple(
        Include(str(i.get("workflow")), str(i.get("issue")))
        for i in (value.get("includes") or [])[:1000]
        if isinstance(i, dict)
    )
    previous = None
    if not nested and value.get("previous") is not None:
        try:
            previous = parse_manifest(issue_key, value["previous"], nested=True)
        except DamagedError:
            previous = None  # a damaged "previous" entry only means there is nothing to restore
    return Manifest(
        revision,
        sha,
        size,
        str(storage),
        token,
        chunks,
        attachment,
        includes,
        _text(value.get("savedAt")),
        _text(value.get("savedBy")),
        previous,
        value,
    )


def _text(value: Any) -> str | None:
    return str(value)[:128] if isinstance(value, str | int) else None


async def read_manifest(client: JiraClient, issue_key: str) -> dict[str, Any] | None:
    value = await client.get_property("issue", issue_key, MANIFEST_KEY)
    manifest = parse_manifest(issue_key, value)
    return None if manifest is None else dict(manifest.raw)


async def load_model(client: JiraClient, issue_key: str, *, previous: bool = False) -> Stored | None:
    """The model saved on ``issue_key`` (None when there is none); checks the sha256 of what it reassembles.

    ``previous=True`` reads the revision before the current one instead (None when it is not kept).
    Raises :class:`DamagedError` naming what is damaged.
    """
    manifest = parse_manifest(issue_key, await client.get_property("issue", issue_key, MANIFEST_KEY))
    if manifest is not None and previous:
        if manifest.previous is None:
            return None
        return await _load(client, issue_key, manifest.previous)
    return None if manifest is None else await _load(client, issue_key, manifest)


async def _load(client: JiraClient, issue_key: str, manifest: Manifest) -> Stored:
    raw = await _read_payload(client, issue_key, manifest)
    digest, model = await asyncio.to_thread(_check_and_parse, issue_key, manifest, raw)
    previous = manifest.previous.revision if manifest.previous else None
    return Stored(
        model,
        manifest.revision,
        digest,
        manifest.storage,
        manifest.includes,
        manifest.saved_at,
        manifest.saved_by,
        previous,
    )


def _check_and_parse(issue_key: str, manifest: Manifest, raw: bytes) -> tuple[str, Model]:
    """The sha256 check and the model's validation (CPU work: :func:`_load` runs it in a thread)."""
    digest = hashlib.sha256(raw).hexdigest()
    if digest != manifest.sha256:
        raise DamagedError(issue_key, f"revision {manifest.revision} is corrupt (checksum mismatch)", manifest.revision)
    try:
        return digest, Model.model_validate_json(raw)
    except ValidationError as exc:
        raise DamagedError(
            issue_key,
            f"revision {manifest.revision} is not a valid flowcase model: {exc.errors()[0]['msg']}",
            manifest.revision,
        ) from exc


async def _read_payload(client: JiraClient, issue_key: str, manifest: Manifest) -> bytes:
    where = f"revision {manifest.revision}"
    try:
        if manifest.storage == "attachment":
            assert manifest.attachment is not None
            try:
                blob = await client.attachment_content(manifest.attachment)
            except JiraError as exc:
                if exc.status == 404:
                    raise DamagedError(issue_key, f"{where}'s attachment is missing", manifest.revision) from exc
                raise
            return await asyncio.to_thread(inflate, blob, manifest.size, gzip_wrapped=True)
        parts: list[str] = []
        for i in range(manifest.chunks):
            value = await client.get_property("issue", issue_key, f"{CHUNK_PREFIX}{manifest.token}-{i}")
            if not isinstance(value, dict) or not isinstance(value.get("d"), str) or len(value["d"]) > CHUNK_CHARS:
                raise DamagedError(
                    issue_key, f"{where} is missing part {i + 1} of {manifest.chunks}", manifest.revision
                )
            parts.append(value["d"])
        return await asyncio.to_thread(decode, "".join(parts), manifest.size)
    except DamagedError:
        raise
    except StorageError as exc:
        raise DamagedError(issue_key, f"{where}: {exc}", manifest.revision) from exc


async def save_model(
    client: JiraClient,
    issue_key: str,
    model: Model,
    expected_revision: int | None,
    *,
    summary: Mapping[str, Any] | None = None,
    includes: Sequence[Include] = (),
    attachment_threshold: int = ATTACHMENT_THRESHOLD,
    saved_by: str | None = None,
    replace_damaged: bool = False,
    timing: lease.LeaseTiming | None = None,
) -> int:
    """Save ``model`` on ``issue_key`` if its current revision is ``expected_revision``; returns the new one.

    ``replace_damaged=True`` is the explicit repair: allowed only while the stored model cannot be read back
    (:class:`DamagedError`); it then replaces it whatever ``expected_revision`` says. Raises
    :class:`ConflictError` (someone saved since), :class:`BusyError` (another save held the issue too long).
    """
    payload = await asyncio.to_thread(prepare_payload, model, attachment_threshold)
    try:
        async with lease.hold(client, issue_key, SAVE_LEASE, timing=timing) as held:
            return await _save_held(
                client,
                held,
                issue_key,
                model,
                payload,
                expected_revision,
                summary,
                includes,
                saved_by,
                replace_damaged,
            )
    except lease.LeaseBusy as exc:
        raise BusyError(issue_key, str(exc)) from None


async def _save_held(
    client: JiraClient,
    held: lease.Lease,
    issue_key: str,
    model: Model,
    payload: Payload,
    expected_revision: int | None,
    summary: Mapping[str, Any] | None,
    includes: Sequence[Include],
    saved_by: str | None,
    replace_damaged: bool,
) -> int:
    value = await client.get_property("issue", issue_key, MANIFEST_KEY)
    before: Manifest | None
    if replace_damaged:
        try:
            before = parse_manifest(issue_key, value)
            if before is not None:
                await _load(client, issue_key, before)
        except DamagedError as damage:
            before = None
            current = damage.revision or await _highest_revision(client, issue_key)
        else:
            raise NotDamaged(
                f"the model on {issue_key} is not damaged (revision "
                f"{before.revision if before else 'none'}): save it normally"
            )
    else:
        before = parse_manifest(issue_key, value)
        current = before.revision if before else 0
        if (before.revision if before else None) != expected_revision:
            raise ConflictError(
                issue_key,
                expected_revision,
                before.revision if before else None,
                saved_at=before.saved_at if before else None,
                saved_by=before.saved_by if before else None,
            )
    revision = current + 1
    token = f"r{revision}x{secrets.token_hex(4)}"
    manifest: dict[str, Any] = {
        "format": MODEL_FORMAT,
        "revision": revision,
        "sha256": payload.sha256,
        "size": payload.size,
        "token": token,
        "includes": [{"workflow": i.workflow, "issue": i.issue} for i in includes],
        "savedAt": _now(),
        "savedBy": saved_by,
        "previous": before.slim() if before else None,
    }
    if payload.gzip_blob is not None:
        attachment = await client.add_attachment(
            issue_key, f"{CHUNK_PREFIX}{token}.json.gz", payload.gzip_blob, "application/gzip"
        )
        manifest.update(storage="attachment", encoding="gzip", attachment=str(attachment.get("id")))
    else:
        for i, chunk in enumerate(payload.chunks):
            await client.put_property("issue", issue_key, f"{CHUNK_PREFIX}{token}-{i}", {"d": chunk})
        manifest.update(storage="properties", encoding="zlib+base64", chunks=len(payload.chunks))
    await held.check()  # the fence: only the lease holder may switch the manifest
    await client.put_property("issue", issue_key, MANIFEST_KEY, manifest)
    await write_summary(client, issue_key, model, revision, summary)
    for inc in includes:
        await _ensure_link(client, issue_key, inc.issue)
    keep = {token} | ({before.token} if before else set())
    await _cleanup(client, issue_key, keep)
    return revision


async def _highest_revision(client: JiraClient, issue_key: str) -> int:
    """The highest revision any trace on the issue names (data keys, the summary): a repair never reuses one."""
    keys = await client.property_keys("issue", issue_key)
    revisions = [int(t[1 : t.index("x")]) for t in (_token_of(k) for k in keys) if t]
    summary = await read_summary(client, issue_key)
    if summary and isinstance(summary.get("revision"), int):
        revisions.append(summary["revision"])
    return max(revisions, default=0)


async def _cleanup(client: JiraClient, issue_key: str, keep: set[str]) -> None:
    """Delete model data that neither the current manifest nor its ``previous`` references: older revisions and
    the leftovers of saves that crashed. Runs under the save lease, so no save is writing meanwhile."""
    for key in await client.property_keys("issue", issue_key):
        token = _token_of(key)
        if token is not None and token not in keep:
            await client.delete_property("issue", issue_key, key)
    issue = await client.get_issue(issue_key, fields=("attachment",))
    for attachment in ((issue or {}).get("fields") or {}).get("attachment") or []:
        token = _token_of(str(attachment.get("filename", "")))
        if token is not None and token not in keep and attachment.get("id") is not None:
            await client.delete_attachment(str(attachment["id"]))


async def restore_previous(
    client: JiraClient,
    issue_key: str,
    expected_revision: int | None,
    *,
    saved_by: str | None = None,
    timing: lease.LeaseTiming | None = None,
) -> int:
    """Save the previous revision again as a new revision (so the restore itself can be undone the same way)."""
    previous = await load_model(client, issue_key, previous=True)
    if previous is None:
        raise NoPreviousRevision(f"{issue_key} keeps no previous revision of its model")
    manifest = parse_manifest(issue_key, await client.get_property("issue", issue_key, MANIFEST_KEY))
    damaged = False
    if manifest is not None:
        try:
            await _load(client, issue_key, manifest)
        except DamagedError:
            damaged = True
    return await save_model(
        client,
        issue_key,
        previous.model,
        expected_revision,
        includes=previous.includes,
        saved_by=saved_by,
        replace_damaged=damaged,
        timing=timing,
    )


async def write_summary(
    client: JiraClient, issue_key: str, model: Model, revision: int, extra: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The small indexed ``flowcase-summary``; ``extra`` may set testCount, coverage, status, lastPublish.

    ``status``: ``draft`` (never published), ``published``, ``changed`` (saved again since the last publish).
    """
    old = await client.get_property("issue", issue_key, SUMMARY_KEY)
    summary: dict[str, Any] = dict(old) if isinstance(old, dict) else {}
    if summary.get("status") == "published" and summary.get("revision") != revision:
        summary["status"] = "changed"  # saved since the last publish (publishing sets "published" again)
    summary.update(
        model=model.id,
        name=model.label[:200],
        revision=revision,
        workflows=len(model.workflows),
        steps=sum(1 for w in model.workflows for n in w.nodes if n.kind not in ("start", "end")),
        updatedAt=_now(),
    )
    summary.setdefault("status", "draft")
    summary.setdefault("testCount", 0)
    summary.setdefault("coverage", 0)
    summary.setdefault("lastPublish", None)
    summary.update(extra or {})
    await client.put_property("issue", issue_key, SUMMARY_KEY, summary)
    return summary


async def read_summary(client: JiraClient, issue_key: str) -> dict[str, Any] | None:
    value = await client.get_property("issue", issue_key, SUMMARY_KEY)
    return value if isinstance(value, dict) else None


async def _ensure_link(client: JiraClient, issue_key: str, other: str) -> None:
    for link in await client.issue_links(issue_key):
        ends = {(link.get("inwardIssue") or {}).get("key"), (link.get("outwardIssue") or {}).get("key")}
        if other in ends and (link.get("type") or {}).get("name") == SUBWORKFLOW_LINK_TYPE:
            return
    await client.link_issues(SUBWORKFLOW_LINK_TYPE, source=issue_key, target=other)


async def load_composite(client: JiraClient, issue_key: str) -> Stored | None:
    """The model with its sub-workflows kept on linked issues merged in (each include: that issue's main workflow,
    renamed to the id the caller uses). Workflows already in the model are left as they are."""
    stored = await load_model(client, issue_key)
    if stored is None or not stored.includes:
        return stored
    workflows = list(stored.model.workflows)
    have = {w.id for w in workflows}
    for inc in stored.includes:
        if inc.workflow in have:
            continue
        sub = await load_model(client, inc.issue)
        if sub is None:
            raise StorageError(f"sub-workflow {inc.workflow!r} is kept on {inc.issue}, which has no model")
        workflows.append(sub.model.main.model_copy(update={"id": inc.workflow}))
        have.add(inc.workflow)
    try:
        merged = Model.model_validate({**stored.model.model_dump(), "workflows": [w.model_dump() for w in workflows]})
    except ValidationError as exc:
        raise StorageError(f"cannot merge sub-workflows into {issue_key}: {exc.errors()[0]['msg']}") from exc
    return Stored(merged, stored.revision, stored.sha256, stored.storage, stored.includes)


__all__ = [
    "BusyError",
    "ConflictError",
    "DamagedError",
    "Include",
    "JiraError",
    "StorageError",
    "Stored",
    "load_composite",
    "load_model",
    "read_summary",
    "restore_previous",
    "save_model",
    "write_summary",
]
