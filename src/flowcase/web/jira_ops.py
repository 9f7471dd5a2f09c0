"""The web app's calls into the Jira layer (``flowcase.jira``): storage, publish, settings, project search.

One place adapts the Jira layer's functions to what the API returns, and turns Jira failures into clear
JSON errors (a Jira outage is a 502 with Jira's message, a revision conflict a 409).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, cast

from flowcase.generate.suite import Suite
from flowcase.hosts.base import Caller, Host
from flowcase.model.types import Model
from flowcase.web.errors import ApiError

if TYPE_CHECKING:
    from flowcase.jira.client import JiraClient


@asynccontextmanager
async def client(host: Host, caller: Caller) -> AsyncIterator[JiraClient]:
    """The caller's Jira client, closed afterwards. Failures are errors of :mod:`flowcase.errors` (Jira, storage,
    settings, a site that is not installed or not allowed): the app's one handler answers them
    (:func:`flowcase.web.errors.flowcase_error_handler`)."""
    jira = host.jira(caller)
    try:
        yield jira
    finally:
        await jira.close()


# --- the model on the issue ---------------------------------------------------------------------------------


async def load_model(jira: JiraClient, issue_key: str) -> tuple[Model, int] | None:
    """The stored model and its revision; a damaged one is a 409 ``storage-damaged`` saying what is damaged and
    whether the previous revision can be restored (nothing is repaired without the user's say)."""
    from flowcase.jira.storage import DamagedError, StorageError
    from flowcase.jira.storage import load_model as load

    try:
        stored = await load(jira, issue_key)
    except DamagedError as exc:  # tell the editor whether the previous revision can be restored
        try:
            previous = await load(jira, issue_key, previous=True)
        except StorageError:
            previous = None
        exc.previous_revision = previous.revision if previous else None
        raise
    return None if stored is None else (stored.model, stored.revision)


def _timing(settle: float) -> Any:
    from flowcase.jira.lease import LeaseTiming

    return LeaseTiming(settle=settle)


async def save_model(
    jira: JiraClient,
    issue_key: str,
    model: Model,
    revision: int | None,
    *,
    saved_by: str | None = None,
    replace_damaged: bool = False,
    settle: float = 1.0,
) -> int:
    from flowcase.jira.storage import save_model as save

    return await save(
        jira, issue_key, model, revision, saved_by=saved_by, replace_damaged=replace_damaged, timing=_timing(settle)
    )


async def restore_previous(
    jira: JiraClient, issue_key: str, revision: int | None, *, saved_by: str | None = None, settle: float = 1.0
) -> int:
    from flowcase.jira.storage import restore_previous as restore

    return await restore(jira, issue_key, revision, saved_by=saved_by, timing=_timing(settle))


async def published_summary(jira: JiraClient, issue_key: str) -> dict[str, Any] | None:
    from flowcase.jira.storage import read_summary

    summary = await read_summary(jira, issue_key)
    if not summary:
        return None
    return {
        "status": summary.get("status"),
        "at": summary.get("lastPublish"),
        "tests": summary.get("testCount"),
        "coverage": summary.get("coverage"),
        "revision": summary.get("revision"),
    }


# --- diff and publish -----------------------------------------------------------------------------------------


def _project_of(issue_key: str) -> str:
    return issue_key.rsplit("-", 1)[0]


async def publish_settings(jira: JiraClient, app_key: str, project_key: str) -> Any:
    from flowcase.jira.settings_store import load_settings

    return await load_settings(jira, app_key=app_key, project_key=project_key)


async def preflight(jira: JiraClient, app_key: str, project_key: str) -> Any:
    """What the project lacks for publishing (:mod:`flowcase.jira.preflight`)."""
    from flowcase.jira.preflight import check

    return await check(jira, project_key, await publish_settings(jira, app_key, project_key))


async def setup(
    jira: JiraClient, app_key: str, project_key: str, use_issue_type: str | None, use_link_type: str | None
) -> dict[str, Any]:
    from flowcase.jira.preflight import setup as run_setup

    settings = await publish_settings(jira, app_key, project_key)
    result = await run_setup(jira, project_key, settings, use_issue_type=use_issue_type, use_link_type=use_link_type)
    data: dict[str, Any] = result.as_json()
    return data


async def diff(
    jira: JiraClient,
    issue_key: str,
    model: Model,
    suite: Suite,
    app_key: str,
    access_for: Callable[[], Any] | None = None,
) -> dict[str, Any]:
    """What publishing would do, without doing it: the published test issues compared with the new suite.
    ``access_for``: the site's vendor credentials, read in a thread when needed (None: the deployment's)."""
    from flowcase.jira.publish import OBSOLETE_LABEL, find_existing, plan

    project = _project_of(issue_key)
    settings = await publish_settings(jira, app_key, project)
    existing: dict[str, Any]
    planned: list[Any]
    if settings.target == "zephyr":
        from flowcase.jira.client import JiraError
        from flowcase.targets import VendorAccess, zephyr

        access = (
            await asyncio.to_thread(access_for) if access_for else VendorAccess.configured().for_site(jira.base_url)
        )
        why = access.missing("zephyr")
        if why:
            raise ApiError(503, "target-not-configured", why)
        z = zephyr.zephyr_client(access.zephyr_url, access.zephyr_token)
        try:
            existing, _ = await zephyr.find_existing(z, project, issue_key, model.id)
        except JiraError as exc:
            raise ApiError(502, "zephyr-error", f"Zephyr Scale failed: {exc.summary()}") from None
        finally:
            await z.close()
        planned = zephyr.plan(model, suite, issue_key, settings)
    else:
        existing, _ = await find_existing(jira, project, issue_key, model.id)
        extras = None
        if settings.target == "xray":  # the steps are part of an Xray test's hash (nothing is sent to Xray here)
            from flowcase.targets.xray_gherkin import extras_class

            extras = extras_class(settings)(cast(Any, None), jira, model, suite, issue_key, project, settings)
        planned = plan(model, suite, project, settings, extras)
    names = {t.id: t.name for t in suite.tests}
    out: dict[str, list[dict[str, str]]] = {"unchanged": [], "updated": [], "new": [], "obsolete": []}
    for p in planned:
        have = existing.get(p.test_id)
        row = {"id": p.test_id, "name": names.get(p.test_id, ""), "key": have.key if have else ""}
        if have is None:
            out["new"].append(row)
        elif have.hash == p.hash and OBSOLETE_LABEL not in have.labels:
            out["unchanged"].append(row)
        else:
            out["updated"].append(row)
    wanted = {p.test_id for p in planned}
    for test_id in sorted(existing):
        old = existing[test_id]
        if test_id not in wanted and OBSOLETE_LABEL not in old.labels:
            out["obsolete"].append({"id": test_id, "name": "", "key": old.key})
    return out


async def lineage_facts(jira: JiraClient, issue_key: str, app_key: str) -> Any:
    """What Jira says about a published test issue and its story (``flowcase.jira.lineage.read``); None when the
    issue is not a flowcase test."""
    from flowcase.jira.lineage import read

    return await read(
        jira, issue_key, lambda project: publish_settings(jira, app_key, project), lambda story: load_model(jira, story)
    )


# --- project page and settings --------------------------------------------------------------------------------


async def project_workflows(jira: JiraClient, project_key: str) -> list[dict[str, Any]]:
    from flowcase.jira.storage import SUMMARY_KEY

    jql = f'project = "{project_key}" AND issue.property[{SUMMARY_KEY}].model IS NOT EMPTY ORDER BY key ASC'
    rows = []
    async for issue in jira.search(jql, fields=("summary",), properties=(SUMMARY_KEY,)):
        summary = (issue.get("properties") or {}).get(SUMMARY_KEY) or {}
        rows.append(
            {
                "issueKey": issue.get("key"),
                "summary": (issue.get("fields") or {}).get("summary", ""),
                "model": summary.get("model"),
                "name": summary.get("name"),
                "steps": summary.get("steps"),
                "tests": summary.get("testCount"),
                "coverage": summary.get("coverage"),
                "status": summary.get("status"),
                "updated": summary.get("updatedAt"),
                "revision": summary.get("revision"),
            }
        )
        if len(rows) >= 500:
            break
    return rows


async def load_settings(jira: JiraClient, app_key: str, project_key: str | None) -> dict[str, Any]:
    settings = await publish_settings(jira, app_key, project_key or "")
    data: dict[str, Any] = settings.model_dump(mode="json")
    return data


async def save_settings(
    jira: JiraClient, values: dict[str, Any], app_key: str, project_key: str | None
) -> dict[str, Any]:
    from flowcase.jira.settings_store import save_settings as save

    saved = await save(jira, values, app_key=app_key, project_key=project_key)
    data: dict[str, Any] = saved.model_dump(mode="json")
    return data
