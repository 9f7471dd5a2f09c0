"""An async Jira Cloud REST client: retries that honour ``Retry-After``, parsed errors, paging and bulk helpers.

Hosts supply only an :class:`httpx.Auth` (Connect JWT, Basic with an API token, ...). The client never sends a
body with GET, never logs headers or bodies (only method, path and status), and bounds the total time it spends
waiting on retries.

Retry policy:

* 429, and 503 carrying ``Retry-After``: the request was refused, so it is retried for every method, after the
  server's ``Retry-After`` (plus 0-30 % jitter) or exponential backoff with full jitter.
* Other 5xx, timeouts and dropped connections: retried for idempotent methods (GET, PUT, DELETE, HEAD). A POST is
  retried only when the connection could not be established (nothing was sent): otherwise Jira may have acted on
  it, and retrying a create blindly would duplicate issues. Callers that create (publishing) reconcile instead.
* Waiting stops when ``max_retries`` or ``max_wait`` seconds of total sleeping would be exceeded; then the last
  error is raised as :class:`JiraError` (status 0 for a transport failure).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Any
from urllib.parse import quote, urljoin

import httpx

from flowcase.errors import JiraError as JiraError
from flowcase.errors import JiraRateLimited as JiraRateLimited
from flowcase.errors import JiraRefused as JiraRefused
from flowcase.errors import jira_failure

log = logging.getLogger("flowcase.jira")

Sleep = Callable[[float], Awaitable[None]]
JsonObj = dict[str, Any]

BULK_CREATE_LIMIT = 50
BULK_FETCH_LIMIT = 100
RECONCILE_LIMIT = 50
PROPERTY_VALUE_LIMIT = 32_768
IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


def error_messages(response: httpx.Response) -> list[str]:
    """Jira's ``errorMessages`` and ``errors`` (field -> message) as flat strings; a generic line otherwise."""
    try:
        body = response.json()
    except ValueError:
        body = None
    messages: list[str] = []
    if isinstance(body, dict):
        for item in body.get("errorMessages") or []:
            messages.append(str(item))
        errors = body.get("errors")
        if isinstance(errors, dict):
            messages.extend(f"{name}: {text}" for name, text in errors.items())
        if not messages and isinstance(body.get("message"), str):
            messages.append(body["message"])
    if not messages:
        messages.append(response.reason_phrase or f"HTTP {response.status_code}")
    return [m[:500] for m in messages]


def retry_after_seconds(response: httpx.Response, now: datetime | None = None) -> float | None:
    """``Retry-After`` as seconds (delta-seconds or an HTTP date); ``X-RateLimit-Reset`` as a fallback."""
    value = response.headers.get("Retry-After")
    if value:
        value = value.strip()
        try:
            return max(0.0, float(value))
        except ValueError:
            try:
                when = parsedate_to_datetime(value)
            except (TypeError, ValueError):
                return None
            return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
    reset = response.headers.get("X-RateLimit-Reset")
    if reset:
        try:
            when = datetime.fromisoformat(reset.replace("Z", "+00:00"))
        except ValueError:
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
    return None


@dataclass(frozen=True, slots=True)
class BulkError:
    index: int  # position in the list handed to create_issues
    status: int
    messages: tuple[str, ...]


@dataclass(slots=True)
class BulkResult:
    """Outcome of :meth:`JiraClient.create_issues`: ``created[i]`` is the issue created for input ``i``."""

    created: dict[int, JsonObj] = field(default_factory=dict)
    errors: list[BulkError] = field(default_factory=list)
    calls: int = 0


def _seg(value: str) -> str:
    return quote(value, safe="")


class JiraClient:
    def __init__(
        self,
        base_url: str,
        auth: httpx.Auth,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 30.0,
        max_retries: int = 6,
        max_wait: float = 120.0,
        backoff_base: float = 0.5,
        backoff_cap: float = 30.0,
        sleep: Sleep = asyncio.sleep,
        rng: Callable[[], float] = random.random,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError("Jira base URL must be an http(s) URL")
        self.base_url = base_url.rstrip("/")
        self.max_retries = max_retries
        self.max_wait = max_wait
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self._sleep = sleep
        self._rng = rng
        self.retries = 0  # how many retries this client made (for progress reports and tests)
        # Edits ask Jira not to notify watchers (``notifyUsers=false``) until Jira says the caller may not (that
        # needs Administer Jira or Administer Projects); then edits notify as usual.
        self.silent_edits = True
        self._transport = transport
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            auth=auth,
            transport=transport,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            follow_redirects=False,
            headers={"Accept": "application/json"},
        )

    def __repr__(self) -> str:
        return f"JiraClient({self.base_url!r})"

    async def close(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> JiraClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    # -- core -------------------------------------------------------------------------------------------------

    def _backoff(self, attempt: int, hinted: float | None) -> float:
        if hinted is not None:
            return hinted * (1.0 + 0.3 * self._rng())
        return self._rng() * min(self.backoff_cap, self.backoff_base * float(2.0**attempt))

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        files: Mapping[str, tuple[str, bytes, str]] | None = None,
        ok: Sequence[int] = (),
    ) -> httpx.Response:
        """Send one call with retries. Statuses >= 400 raise :class:`JiraError` unless listed in ``ok``."""
        method = method.upper()
        if method == "GET" and (json is not None or content is not None or files):
            raise ValueError("a GET must not carry a body (Jira answers 403)")
        if not path.startswith("/"):
            raise ValueError("path must start with '/'")
        idempotent = method in IDEMPOTENT
        waited = 0.0
        attempt = 0
        while True:
            failure: JiraError
            hinted: float | None = None
            try:
                response = await self._http.request(
                    method, path, params=params, json=json, content=content, headers=headers, files=files
                )
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
                failure = JiraError(0, [type(exc).__name__])
            except httpx.TransportError as exc:
                failure = JiraError(0, [type(exc).__name__])
                if not idempotent:
                    log.warning("jira %s %s: %s, not retried (may have been applied)", method, path, failure)
                    raise failure from exc
            else:
                status = response.status_code
                log.debug("jira %s %s -> %s", method, path, status)
                if status < 400 or status in ok:
                    return response
                hinted = retry_after_seconds(response) if status in (429, 503) else None
                failure = jira_failure(status, error_messages(response), response, hinted)
                refused = status == 429 or (status == 503 and hinted is not None)
                if status not in _RETRY_STATUSES or not (idempotent or refused):
                    raise failure
            delay = self._backoff(attempt, hinted)
            if attempt >= self.max_retries or waited + delay > self.max_wait:
                log.warning("jira %s %s: giving up after %d retries: %s", method, path, attempt, failure)
                raise failure
            log.info("jira %s %s: %s, retry %d in %.1fs", method, path, failure.status, attempt + 1, delay)
            await self._sleep(delay)
            waited += delay
            attempt += 1
            self.retries += 1

    async def json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = await self.request(method, path, **kwargs)
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError as exc:
            raise JiraError(response.status_code, ["response is not JSON"], response) from exc

    # -- issues -----------------------------------------------------------------------------------------------

    async def get_issue(
        self, key: str, *, fields: Sequence[str] = ("summary",), properties: Sequence[str] = ()
    ) -> JsonObj | None:
        """The issue, or None when it does not exist (or cannot be seen)."""
        params: dict[str, str] = {"fields": ",".join(fields)}
        if properties:
            params["properties"] = ",".join(properties)
        response = await self.request("GET", f"/rest/api/3/issue/{_seg(key)}", params=params, ok=(404,))
        if response.status_code == 404:
            return None
        data: JsonObj = response.json()
        return data

    async def create_issue(self, fields: JsonObj, *, properties: Sequence[JsonObj] = ()) -> JsonObj:
        body: JsonObj = {"fields": fields}
        if properties:
            body["properties"] = list(properties)
        data: JsonObj = await self.json("POST", "/rest/api/3/issue", json=body)
        return data

    async def create_issues(self, issue_updates: Sequence[JsonObj]) -> BulkResult:
        """Create issues with ``POST /issue/bulk`` in chunks of 50; partial failures land in ``errors``.

        A transport failure or an unexpected status on a chunk raises :class:`JiraError` (the chunk may or may
        not have been applied: the caller must reconcile before trying again).
        """
        result = BulkResult()
        for start in range(0, len(issue_updates), BULK_CREATE_LIMIT):
            chunk = list(issue_updates[start : start + BULK_CREATE_LIMIT])
            response = await self.request("POST", "/rest/api/3/issue/bulk", json={"issueUpdates": chunk}, ok=(400,))
            result.calls += 1
            try:
                body = response.json()
            except ValueError:
                body = {}
            if response.status_code == 400 and not body.get("errors"):
                raise jira_failure(400, error_messages(response), response)
            failed: set[int] = set()
            for err in body.get("errors") or []:
                index = int(err.get("failedElementNumber", -1))
                element = err.get("elementErrors") or {}
                messages = list(element.get("errorMessages") or [])
                messages += [f"{k}: {v}" for k, v in (element.get("errors") or {}).items()]
                failed.add(index)
                result.errors.append(BulkError(start + index, int(err.get("status", 400)), tuple(messages)))
            ok_positions = [i for i in range(len(chunk)) if i not in failed]
            for pos, issue in zip(ok_positions, body.get("issues") or [], strict=False):
                result.created[start + pos] = issue
        return result

    async def edit_issue(self, key: str, *, fields: JsonObj | None = None, update: JsonObj | None = None) -> None:
        body: JsonObj = {}
        if fields:
            body["fields"] = fields
        if update:
            body["update"] = update
        path = f"/rest/api/3/issue/{_seg(key)}"
        if self.silent_edits:
            response = await self.request("PUT", path, json=body, params={"notifyUsers": "false"}, ok=(403,))
            if response.status_code != 403:
                return
            if not any("notification" in m.lower() for m in error_messages(response)):
                raise jira_failure(403, error_messages(response), response)
            self.silent_edits = False  # not an admin: Jira refuses to skip notifications
        await self.request("PUT", path, json=body)

    async def add_comment(self, key: str, body_adf: JsonObj) -> None:
        await self.request("POST", f"/rest/api/3/issue/{_seg(key)}/comment", json={"body": body_adf})

    async def link_issues(self, link_type: str, *, source: str, target: str) -> None:
        """Link ``source`` to ``target``: ``source`` then reads "<outward> target" ("DEMO-5 tests DEMO-1") and
        ``target`` reads "<inward> source" ("DEMO-1 is tested by DEMO-5").

        Jira's ``POST /issueLink`` names the source ``inwardIssue`` and the target ``outwardIssue`` (the names
        say on which side of the *other* issue each one is shown; see Atlassian's issue linking model): reading
        the source back, its link carries ``outwardIssue`` = target, labelled with the type's ``outward``."""
        body = {"type": {"name": link_type}, "inwardIssue": {"key": source}, "outwardIssue": {"key": target}}
        await self.request("POST", "/rest/api/3/issueLink", json=body)

    async def delete_link(self, link_id: str) -> None:
        await self.request("DELETE", f"/rest/api/3/issueLink/{_seg(link_id)}", ok=(404,))

    async def link_types(self) -> list[JsonObj]:
        data = await self.json("GET", "/rest/api/3/issueLinkType")
        return list((data or {}).get("issueLinkTypes") or [])

    async def issue_links(self, key: str) -> list[JsonObj]:
        issue = await self.get_issue(key, fields=("issuelinks",))
        if issue is None:
            return []
        return list((issue.get("fields") or {}).get("issuelinks") or [])

    async def search(
        self,
        jql: str,
        *,
        fields: Sequence[str] = ("summary",),
        properties: Sequence[str] = (),
        page_size: int = 100,
        reconcile: Sequence[int] = (),
    ) -> AsyncIterator[JsonObj]:
        """Every issue matching a bounded ``jql`` (``GET /search/jql``, following ``nextPageToken``).

        Search is eventually consistent: an issue created or changed a moment ago may be missing or stale.
        ``reconcile`` (at most 50 issue ids, Jira's ``reconcileIssues``) are matched as they are now."""
        token: str | None = None
        if len(reconcile) > RECONCILE_LIMIT:
            raise ValueError(f"Jira reconciles at most {RECONCILE_LIMIT} issues per search")
        while True:
            params: dict[str, Any] = {"jql": jql, "maxResults": page_size, "fields": ",".join(fields)}
            if properties:
                params["properties"] = ",".join(properties[:5])
            if reconcile:
                params["reconcileIssues"] = [str(i) for i in reconcile]
            if token:
                params["nextPageToken"] = token
            data = await self.json("GET", "/rest/api/3/search/jql", params=params) or {}
            for issue in data.get("issues") or []:
                yield issue
            token = data.get("nextPageToken")
            if not token or data.get("isLast"):
                return

    async def search_all(self, jql: str, **kwargs: Any) -> list[JsonObj]:
        return [issue async for issue in self.search(jql, **kwargs)]

    async def fetch_issues(
        self, refs: Sequence[str], *, fields: Sequence[str] = ("summary",), properties: Sequence[str] = ()
    ) -> list[JsonObj]:
        """Issues by id or key (``POST /issue/bulkfetch``, 100 per call; always current, unlike search). Issues
        that do not exist or cannot be seen are left out."""
        out: list[JsonObj] = []
        for start in range(0, len(refs), BULK_FETCH_LIMIT):
            body: JsonObj = {"issueIdsOrKeys": list(refs[start : start + BULK_FETCH_LIMIT]), "fields": list(fields)}
            if properties:
                body["properties"] = list(properties)
            data = await self.json("POST", "/rest/api/3/issue/bulkfetch", json=body) or {}
            out.extend(i for i in data.get("issues") or [] if isinstance(i, dict))
        return out

    # -- site configuration (preflight and setup) -------------------------------------------------------------

    async def project(self, key: str) -> JsonObj | None:
        response = await self.request("GET", f"/rest/api/3/project/{_seg(key)}", ok=(404,))
        if response.status_code == 404:
            return None
        data: JsonObj = response.json()
        return data

    async def issue_types(self) -> list[JsonObj]:
        return list(await self.json("GET", "/rest/api/3/issuetype") or [])

    async def create_issue_type(self, name: str, description: str) -> JsonObj:
        data: JsonObj = await self.json(
            "POST", "/rest/api/3/issuetype", json={"name": name, "description": description, "hierarchyLevel": 0}
        )
        return data

    async def issue_type_scheme_of(self, project_id: str) -> str | None:
        """The id of the issue type scheme a company-managed project uses (None for team-managed ones)."""
        data = await self.json("GET", "/rest/api/3/issuetypescheme/project", params={"projectId": project_id}) or {}
        for value in data.get("values") or []:
            if project_id in (value.get("projectIds") or []):
                return str((value.get("issueTypeScheme") or {}).get("id"))
        return None

    async def add_issue_types_to_scheme(self, scheme_id: str, type_ids: Sequence[str]) -> None:
        await self.request(
            "PUT", f"/rest/api/3/issuetypescheme/{_seg(scheme_id)}/issuetype", json={"issueTypeIds": list(type_ids)}
        )

    async def create_link_type(self, name: str, inward: str, outward: str) -> JsonObj:
        data: JsonObj = await self.json(
            "POST", "/rest/api/3/issueLinkType", json={"name": name, "inward": inward, "outward": outward}
        )
        return data

    async def create_fields(self, project_key: str, issue_type_id: str) -> list[JsonObj]:
        """The fields on the create screen of an issue type in a project."""
        path = f"/rest/api/3/issue/createmeta/{_seg(project_key)}/issuetypes/{_seg(issue_type_id)}"
        out: list[JsonObj] = []
        start = 0
        while True:
            data = await self.json("GET", path, params={"startAt": start, "maxResults": 50}) or {}
            page = list(data.get("fields") or data.get("results") or [])
            out.extend(page)
            start += len(page)
            if not page or start >= int(data.get("total") or 0):
                return out

    async def my_permissions(self, project_key: str, permissions: Sequence[str]) -> dict[str, bool]:
        data = (
            await self.json(
                "GET",
                "/rest/api/3/mypermissions",
                params={"projectKey": project_key, "permissions": ",".join(permissions)},
            )
            or {}
        )
        held = data.get("permissions") or {}
        return {p: bool((held.get(p) or {}).get("havePermission")) for p in permissions}

    # -- entity properties ------------------------------------------------------------------------------------

    @staticmethod
    def property_path(entity: str, entity_id: str, key: str) -> str:
        """``entity``: ``issue``, ``project`` or ``app`` (``entity_id`` = the app key)."""
        if entity == "app":
            return f"/rest/atlassian-connect/1/addons/{_seg(entity_id)}/properties/{_seg(key)}"
        if entity not in ("issue", "project"):
            raise ValueError(f"unknown property entity {entity!r}")
        return f"/rest/api/3/{entity}/{_seg(entity_id)}/properties/{_seg(key)}"

    async def get_property(self, entity: str, entity_id: str, key: str) -> Any:
        """The property's value, or None when it is not set."""
        response = await self.request("GET", self.property_path(entity, entity_id, key), ok=(404,))
        if response.status_code == 404:
            return None
        return response.json().get("value")

    async def put_property(self, entity: str, entity_id: str, key: str, value: Any) -> None:
        await self.request("PUT", self.property_path(entity, entity_id, key), json=value)

    async def delete_property(self, entity: str, entity_id: str, key: str) -> None:
        await self.request("DELETE", self.property_path(entity, entity_id, key), ok=(404,))

    async def property_keys(self, entity: str, entity_id: str) -> list[str]:
        if entity == "app":
            path = f"/rest/atlassian-connect/1/addons/{_seg(entity_id)}/properties"
        else:
            path = f"/rest/api/3/{entity}/{_seg(entity_id)}/properties"
        data = await self.json("GET", path) or {}
        return [str(k.get("key")) for k in data.get("keys") or []]

    # -- attachments ------------------------------------------------------------------------------------------

    async def add_attachment(self, key: str, filename: str, content: bytes, media_type: str) -> JsonObj:
        data = await self.json(
            "POST",
            f"/rest/api/3/issue/{_seg(key)}/attachments",
            files={"file": (filename, content, media_type)},
            headers={"X-Atlassian-Token": "no-check"},
        )
        items = data if isinstance(data, list) else [data]
        if not items or not isinstance(items[0], dict):
            raise JiraError(200, ["attachment upload returned no attachment"])
        first: JsonObj = items[0]
        return first

    async def attachment_content(self, attachment_id: str) -> bytes:
        response = await self.request("GET", f"/rest/api/3/attachment/content/{_seg(attachment_id)}", ok=(302, 303))
        if response.status_code in (302, 303):
            location = urljoin(self.base_url + "/", response.headers.get("Location", ""))
            if not location.startswith(("https://", "http://")):
                raise JiraError(response.status_code, ["attachment redirect without a usable location"], response)
            # Jira redirects to its media store: the URL is pre-signed, so it is followed WITHOUT our credentials
            # (they are never sent to another host, nor needed by this one).
            async with httpx.AsyncClient(timeout=self._http.timeout, transport=self._transport) as plain:
                redirected = await plain.get(location)
            if redirected.status_code >= 400:
                raise jira_failure(redirected.status_code, error_messages(redirected), redirected)
            return redirected.content
        return response.content

    async def delete_attachment(self, attachment_id: str) -> None:
        await self.request("DELETE", f"/rest/api/3/attachment/{_seg(attachment_id)}", ok=(404,))
