"""The model lives on its Jira issue: compressed, chunked issue properties (or an attachment), never in our DB.

Layout on the story issue (see docs/jira.md):

* ``flowcase-model`` (the manifest): ``{format, revision, sha256, size, encoding, storage, chunks | attachment,
  token, includes, savedAt}``. It is written LAST, so it only ever points at fully written data.
* ``flowcase-model-<token>-<i>`` (``storage == "properties"``): ``{"d": <base64 slice>}`` of the zlib-compressed
  canonical JSON, each value well under Jira's 32,768-character limit. ``token`` = ``r<revision>x<nonce>``:
  two writers racing for the same revision never share keys.
* an attachment ``flowcase-model-<token>.json.gz`` instead, when the encoded model is larger than
  ``attachment_threshold`` characters (default 1,000,000: about 31 properties).
* ``flowcase-summary`` (small, indexed for JQL and the issue panel): name, status, test count, coverage,
  revision, last publish.

Optimistic concurrency: :func:`save_model` reads the manifest first and raises :class:`ConflictError` when its
revision is not the one the edit started from; it writes the new chunks, re-reads the manifest (closing most of
the window; Jira has no compare-and-swap, so a sub-second race between two savers remains and is documented),
switches the manifest, then deletes the previous revision's chunks and any orphans (of crashed or losing saves).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import secrets
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from flowcase.jira.client import JiraClient, JiraError
from flowcase.model.types import Model

MANIFEST_KEY = "flowcase-model"
SUMMARY_KEY = "flowcase-summary"
CHUNK_PREFIX = "flowcase-model-"
MODEL_FORMAT = "flowcase-model/1"
CHUNK_CHARS = 30_000  # base64 characters per property value ({"d": "..."} stays < 32,768)
ATTACHMENT_THRESHOLD = 1_000_000
SUBWORKFLOW_LINK_TYPE = "Relates"


class StorageError(Exception):
    """The stored model is missing pieces, corrupt or unreadable (one-line message)."""


class ConflictError(Exception):
    """Someone saved the model after the revision this edit started from."""

    def __init__(self, issue_key: str, expected: int | None, actual: int | None) -> None:
        self.issue_key = issue_key
        self.expected = expected
        self.actual = actual
        super().__init__(
            f"the model on {issue_key} was changed by someone else (now revision {actual}, "
            f"this edit started from {expected if expected is not None else 'nothing'}): reload and reapply"
        )


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


def canonical_json(model: Model) -> bytes:
    data = model.model_dump(mode="json", exclude_defaults=True)
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def encode(raw: bytes) -> str:
    return base64.b64encode(zlib.compress(raw, 9)).decode("ascii")


def decode(text: str) -> bytes:
    try:
        return zlib.decompress(base64.b64decode(text.encode("ascii"), validate=True))
    except (ValueError, zlib.error) as exc:
        raise StorageError(f"stored model data is corrupt ({exc})") from exc


def split(text: str, size: int = CHUNK_CHARS) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _revision(manifest: Any) -> int | None:
    if manifest is None:
        return None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("revision"), int):
        raise StorageError("the flowcase-model property is not a flowcase manifest")
    rev: int = manifest["revision"]
    return rev


def _token_revision(key: str) -> int | None:
    """The revision encoded in a chunk key ``flowcase-model-r<rev>x<nonce>-<i>``; None for other keys."""
    rest = key[len(CHUNK_PREFIX) :]
    if not key.startswith(CHUNK_PREFIX) or not rest.startswith("r") or "x" not in rest:
        return None
    digits = rest[1 : rest.index("x")]
    return int(digits) if digits.isdigit() else None


async def read_manifest(client: JiraClient, issue_key: str) -> dict[str, Any] | None:
    value = await client.get_property("issue", issue_key, MANIFEST_KEY)
    _revision(value)
    return value if isinstance(value, dict) else None


async def load_model(client: JiraClient, issue_key: str) -> Stored | None:
    """The model saved on ``issue_key`` (None when there is none); checks the sha256 of what it reassembles."""
    manifest = await read_manifest(client, issue_key)
    if manifest is None:
        return None
    raw = await _read_payload(client, issue_key, manifest)
    digest = hashlib.sha256(raw).hexdigest()
    if digest != manifest.get("sha256"):
        raise StorageError(f"the model on {issue_key} is corrupt (checksum mismatch at revision "
                           f"{manifest.get('revision')})")  # fmt: skip
    try:
        model = Model.model_validate_json(raw)
    except ValidationError as exc:
        raise StorageError(f"the model on {issue_key} is not a valid flowcase model: {exc.errors()[0]['msg']}"
                           ) from exc  # fmt: skip
    includes = tuple(
        Include(str(i.get("workflow")), str(i.get("issue")))
        for i in manifest.get("includes") or []
        if isinstance(i, dict)
    )
    return Stored(model, int(manifest["revision"]), digest, str(manifest.get("storage")), includes)


async def _read_payload(client: JiraClient, issue_key: str, manifest: Mapping[str, Any]) -> bytes:
    storage = manifest.get("storage")
    if storage == "attachment":
        blob = await client.attachment_content(str(manifest.get("attachment")))
        try:
            return gzip.decompress(blob)
        except (OSError, EOFError) as exc:
            raise StorageError(f"the model attachment on {issue_key} is corrupt") from exc
    if storage != "properties":
        raise StorageError(f"unknown model storage {storage!r} on {issue_key}")
    token, count = str(manifest.get("token")), int(manifest.get("chunks", 0))
    parts: list[str] = []
    for i in range(count):
        value = await client.get_property("issue", issue_key, f"{CHUNK_PREFIX}{token}-{i}")
        if not isinstance(value, dict) or not isinstance(value.get("d"), str):
            raise StorageError(f"the model on {issue_key} is missing part {i + 1} of {count}")
        parts.append(value["d"])
    return decode("".join(parts))


async def save_model(
    client: JiraClient,
    issue_key: str,
    model: Model,
    expected_revision: int | None,
    *,
    summary: Mapping[str, Any] | None = None,
    includes: Sequence[Include] = (),
    attachment_threshold: int = ATTACHMENT_THRESHOLD,
) -> int:
    """Save ``model`` on ``issue_key`` if its current revision is ``expected_revision``; returns the new one."""
    before = await read_manifest(client, issue_key)
    current = _revision(before)
    if current != expected_revision:
        raise ConflictError(issue_key, expected_revision, current)
    revision = (current or 0) + 1
    token = f"r{revision}x{secrets.token_hex(3)}"
    raw = canonical_json(model)
    manifest: dict[str, Any] = {
        "format": MODEL_FORMAT,
        "revision": revision,
        "sha256": hashlib.sha256(raw).hexdigest(),
        "size": len(raw),
        "token": token,
        "includes": [{"workflow": i.workflow, "issue": i.issue} for i in includes],
        "savedAt": _now(),
    }
    encoded = encode(raw)
    written: list[str] = []
    attachment_id: str | None = None
    if len(encoded) > attachment_threshold:
        blob = gzip.compress(raw, 9, mtime=0)
        attachment = await client.add_attachment(issue_key, f"{CHUNK_PREFIX}{token}.json.gz", blob, "application/gzip")
        attachment_id = str(attachment.get("id"))
        manifest.update(storage="attachment", encoding="gzip", attachment=attachment_id)
    else:
        chunks = split(encoded)
        for i, chunk in enumerate(chunks):
            key = f"{CHUNK_PREFIX}{token}-{i}"
            await client.put_property("issue", issue_key, key, {"d": chunk})
            written.append(key)
        manifest.update(storage="properties", encoding="zlib+base64", chunks=len(chunks))
    # Re-check just before the switch: a save that landed meanwhile wins, ours is rolled back.
    latest = _revision(await read_manifest(client, issue_key))
    if latest != current:
        await _discard(client, issue_key, written, attachment_id)
        raise ConflictError(issue_key, expected_revision, latest)
    await client.put_property("issue", issue_key, MANIFEST_KEY, manifest)
    await write_summary(client, issue_key, model, revision, summary)
    for inc in includes:
        await _ensure_link(client, issue_key, inc.issue)
    await _cleanup(client, issue_key, before, revision, token)
    return revision


async def _discard(client: JiraClient, issue_key: str, keys: Sequence[str], attachment_id: str | None) -> None:
    for key in keys:
        await client.delete_property("issue", issue_key, key)
    if attachment_id:
        await client.delete_attachment(attachment_id)


async def _cleanup(
    client: JiraClient, issue_key: str, previous: Mapping[str, Any] | None, revision: int, token: str
) -> None:
    """Delete the previous revision's data and the chunks of crashed or losing saves (never the current ones)."""
    if previous and previous.get("storage") == "attachment" and previous.get("attachment"):
        await client.delete_attachment(str(previous["attachment"]))
    for key in await client.property_keys("issue", issue_key):
        rev = _token_revision(key)
        if rev is not None and rev <= revision and not key.startswith(f"{CHUNK_PREFIX}{token}-"):
            await client.delete_property("issue", issue_key, key)


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
    await client.link_issues(SUBWORKFLOW_LINK_TYPE, inward=issue_key, outward=other)


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
    "ConflictError",
    "Include",
    "JiraError",
    "StorageError",
    "Stored",
    "load_composite",
    "load_model",
    "read_summary",
    "save_model",
    "write_summary",
]
