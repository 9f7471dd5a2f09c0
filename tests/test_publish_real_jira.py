"""Issue 14: publishing against a sandbox that behaves like a real, fresh Jira Cloud site.

One test per finding that failed before: a fresh site without the "Test" issue type and link type (publish
refused with what to fix, setup fixes it), the link direction, duplicates under search index lag (quick republish,
applied-then-failed bulk creates), concurrent publishers of one story, requirement keys that do not exist, and
the smaller differences (duplicate links, 303 attachment redirects, notifyUsers for non-admins).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from builders import all_decisions, checkout_model, jira_client, new_story
from flowcase.cli import main
from flowcase.jira.lease import LeaseTiming
from flowcase.jira.publish import DUPLICATE_LABEL, TEST_PROPERTY, PublishNotReady, PublishResult, publish
from flowcase.jira.settings_store import load_settings
from flowcase.model.io import dumps
from flowcase.model.types import Model
from flowcase.sandbox.site import SandboxConfig
from flowcase.sandbox.testing import RunningSandbox, run_sync, running_sandbox
from jobtools import submit_revision

BULK = "/rest/api/3/issue/bulk"
LINK = "/rest/api/3/issueLink"
FAST_LEASE = LeaseTiming(settle=0.2, ttl=30.0, wait=60.0, poll=0.05)


def model_of(model_id: str, n: int, requirements: tuple[str, ...] = ()) -> Model:
    return checkout_model(model_id, n, name="Checkout", requirements=requirements)


def new_project(sb: RunningSandbox, key: str, **kwargs: Any) -> str:
    """A project with one story; returns the story key."""
    sb.create_project(key, **kwargs)
    return new_story(sb, key, "Story")


def run_publish(sb: RunningSandbox, model: Model, story: str, **kwargs: Any) -> PublishResult:
    suite = all_decisions(model)
    project = story.rsplit("-", 1)[0]

    async def go() -> PublishResult:
        async with jira_client(sb) as c:
            settings = await load_settings(c, project_key=project)
            return await publish(
                c, model, suite, story, project, settings, settle_seconds=0, lease_timing=FAST_LEASE, **kwargs
            )

    return run_sync(go())


def run_together(threads: list[threading.Thread], seconds: float) -> None:
    """Start every thread, then wait up to ``seconds`` for each."""
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds)


def story_links(sb: RunningSandbox, key: str) -> list[dict[str, Any]]:
    async def go() -> list[dict[str, Any]]:
        async with jira_client(sb) as c:
            return await c.issue_links(key)

    return run_sync(go())


def published_for(
    sb: RunningSandbox, story: str, fields: tuple[str, ...] = ("labels", "issuelinks")
) -> list[dict[str, Any]]:
    """Every issue carrying a flowcase identity for ``story`` (read by id, not through the lagging search)."""

    async def go() -> list[dict[str, Any]]:
        async with jira_client(sb) as c:
            project = story.rsplit("-", 1)[0]
            sb.sandbox.index.settle()  # the test looks at the truth, not at the index
            found = await c.search_all(
                f"project = {project} AND labels = flowcase", fields=fields, properties=(TEST_PROPERTY,)
            )
            return [i for i in found if (i.get("properties") or {}).get(TEST_PROPERTY, {}).get("story") == story]

    return run_sync(go())


# -- finding 1: a fresh site has no "Test" issue type nor link type --------------------------------------------


def test_a_fresh_site_is_refused_with_what_to_fix_and_setup_fixes_it(sb: RunningSandbox) -> None:
    story = new_project(sb, "FRESH")
    sb.clear_calls()
    with pytest.raises(PublishNotReady) as refused:
        run_publish(sb, model_of("fresh", 3), story)
    codes = {p.code for p in refused.value.readiness.problems}
    assert codes == {"issue-type-missing", "link-type-missing"}
    assert "flowcase setup" in str(refused.value) and "Task" in str(refused.value)  # how to fix, with options
    assert sb.count_calls("POST", BULK) == 0 and sb.count_calls("POST", "/rest/api/3/issue") == 0

    env = {"FLOWCASE_JIRA_EMAIL": sb.email, "FLOWCASE_JIRA_TOKEN": sb.api_token}
    check = CliRunner().invoke(main, ["jira", "setup", "--project", "FRESH", "--check", "--jira", sb.base_url], env=env)
    assert check.exit_code == 3 and "has no issue type 'Test'" in check.output
    done = CliRunner().invoke(main, ["jira", "setup", "--project", "FRESH", "--jira", sb.base_url], env=env)
    assert done.exit_code == 0, done.output
    assert "created the issue type 'Test'" in done.output and "added 'Test' to the issue type scheme" in done.output
    assert "created the issue link type 'Test' (tests / is tested by)" in done.output
    assert "ready for publishing" in done.output

    result = run_publish(sb, model_of("fresh", 3), story)
    assert (result.created, result.failed) == (3, [])
    again = CliRunner().invoke(main, ["jira", "setup", "--project", "FRESH", "--jira", sb.base_url], env=env)
    assert again.exit_code == 0 and "created" not in again.output  # idempotent


def test_team_managed_projects_and_missing_screen_fields_are_explained(sb: RunningSandbox) -> None:
    sb.setup_flowcase("DEMO")  # the site now has the "Test" issue type and link type
    story = new_project(sb, "TEAM", style="next-gen")
    with pytest.raises(PublishNotReady) as refused:
        run_publish(sb, model_of("team", 2), story)
    [problem] = refused.value.readiness.problems
    assert problem.code == "issue-type-missing" and "team-managed" in problem.fix and not problem.setup_fixes
    mapped = sb.setup_flowcase("TEAM", use_issue_type="Task")
    assert mapped.readiness.ready and mapped.actions
    result = run_publish(sb, model_of("team", 2), story)
    assert result.created == 2
    assert {i["fields"]["issuetype"]["name"] for i in published_for(sb, story, fields=("issuetype",))} == {"Task"}

    story2 = new_project(sb, "NOLAB", hidden_fields=("labels",))
    partly = sb.setup_flowcase("NOLAB")  # adds "Test" to the new project's scheme; screens stay the admin's job
    assert not partly.readiness.ready and partly.actions == ["added 'Test' to the issue type scheme of NOLAB"]
    with pytest.raises(PublishNotReady) as screen:
        run_publish(sb, model_of("nolab", 2), story2)
    assert [p.code for p in screen.value.readiness.problems] == ["field-not-on-screen"]
    assert "'labels'" in str(screen.value) and "Screens" in str(screen.value)


# -- finding 2: the story reads "is tested by" its tests --------------------------------------------------------


def test_links_read_is_tested_by_on_the_story_and_tests_on_the_test(sb: RunningSandbox) -> None:
    sb.setup_flowcase("DEMO")
    story = new_project(sb, "LINKS")
    sb.setup_flowcase("LINKS")
    result = run_publish(sb, model_of("links", 2), story)
    keys = sorted(result.keys.values())
    on_story = story_links(sb, story)
    assert sorted(lk["inwardIssue"]["key"] for lk in on_story) == keys  # shown with the type's inward text
    assert {lk["type"]["inward"] for lk in on_story} == {"is tested by"}
    on_test = story_links(sb, keys[0])
    assert [(lk["type"]["outward"], lk["outwardIssue"]["key"]) for lk in on_test] == [("tests", story)]
    page = httpx.get(f"{sb.base_url}/browse/{story}", auth=sb.basic_auth()).text
    assert f'is tested by <a href="/browse/{keys[0]}"' in page and f'tests <a href="/browse/{story}"' not in page

    # A link made the old, reversed way (the story "tests" the test) is replaced on the next publish.
    async def reverse() -> None:
        async with jira_client(sb) as c:
            [link] = [lk for lk in await c.issue_links(keys[0])]
            await c.delete_link(str(link["id"]))
            await c.link_issues("Test", source=story, target=keys[0])

    run_sync(reverse())
    again = run_publish(sb, model_of("links", 2), story)
    assert (again.links_fixed, again.links_created) == (1, 1)
    assert [lk.get("outwardIssue", {}).get("key") for lk in story_links(sb, keys[0])] == [story]


# -- finding 3: search lags behind; no duplicates -------------------------------------------------------------


@pytest.mark.parametrize("link_in_create", [True, False])
def test_a_quick_republish_under_index_lag_creates_nothing(sb: RunningSandbox, link_in_create: bool) -> None:
    sb.setup_flowcase("DEMO")
    key = "LAGA" if link_in_create else "LAGB"
    story = new_project(sb, key, hidden_fields=() if link_in_create else ("issuelinks",))
    sb.setup_flowcase(key)
    sb.set_index_lag(10.0)
    try:
        first = run_publish(sb, model_of(key.lower(), 30), story)
        sb.clear_calls()
        second = run_publish(sb, model_of(key.lower(), 30), story)
    finally:
        sb.set_index_lag(0.0)
    assert first.created == 30 and (second.created, second.unchanged, second.duplicates) == (0, 30, 0)
    assert sb.count_calls("POST", BULK) == 0 and sb.count_calls("POST", LINK) == 0
    assert len(published_for(sb, story)) == 30


@pytest.mark.parametrize("kind", ["applied_error", "applied_drop"])
def test_a_bulk_create_applied_then_failed_is_not_repeated(sb: RunningSandbox, kind: str) -> None:
    sb.setup_flowcase("DEMO")
    key = "APE" if kind == "applied_error" else "APD"
    story = new_project(sb, key)
    sb.setup_flowcase(key)
    sb.set_index_lag(10.0)
    sb.add_fault(kind=kind, path_prefix=BULK, method="POST", count=1)
    try:
        result = run_publish(sb, model_of(key.lower(), 55), story)
    finally:
        sb.clear_faults()
        sb.set_index_lag(0.0)
    assert result.created == 55 and result.duplicates == 0 and not result.failed
    issues = published_for(sb, story)
    assert len(issues) == 55 and len({i["properties"][TEST_PROPERTY]["id"] for i in issues}) == 55
    assert len(story_links(sb, story)) == 55


# -- finding 4: one publish per story at a time, and healing ----------------------------------------------------


def test_three_publishers_of_one_story_at_once_make_one_issue_per_test(sb: RunningSandbox) -> None:
    sb.setup_flowcase("DEMO")
    story = new_project(sb, "RACE")
    sb.setup_flowcase("RACE")
    sb.set_index_lag(2.0)
    results: list[PublishResult] = []
    errors: list[BaseException] = []

    def one() -> None:
        try:
            results.append(run_publish(sb, model_of("race", 20), story))
        except BaseException as exc:
            errors.append(exc)

    try:
        run_together([threading.Thread(target=one) for _ in range(3)], 120)
    finally:
        sb.set_index_lag(0.0)
    assert not errors, errors
    assert sorted(r.created for r in results) == [0, 0, 20]
    assert len(published_for(sb, story)) == 20 and len(story_links(sb, story)) == 20


def test_two_cli_publishers_at_once(sb: RunningSandbox, tmp_path: Path) -> None:
    sb.setup_flowcase("DEMO")
    story = new_project(sb, "CLIR")
    sb.setup_flowcase("CLIR")
    path = tmp_path / "race.json"
    path.write_text(dumps(model_of("clirace", 12), "json"), encoding="utf-8")
    env = {"FLOWCASE_JIRA_EMAIL": sb.email, "FLOWCASE_JIRA_TOKEN": sb.api_token, "FLOWCASE_PUBLISH_LEASE_SECONDS": "20"}
    outputs: list[tuple[int, str]] = []

    def one() -> None:
        res = CliRunner().invoke(
            main, ["publish", str(path), "--jira", sb.base_url, "--project", "CLIR", "--story", story, "-q"], env=env
        )
        outputs.append((res.exit_code, res.output))

    run_together([threading.Thread(target=one) for _ in range(2)], 120)
    assert [code for code, _ in outputs] == [0, 0], outputs
    assert sorted("12 created" in out for _, out in outputs) == [False, True]
    assert len(published_for(sb, story)) == 12


def test_a_duplicate_is_unlinked_and_labelled_never_deleted(sb: RunningSandbox) -> None:
    sb.setup_flowcase("DEMO")
    story = new_project(sb, "DUP")
    sb.setup_flowcase("DUP")
    first = run_publish(sb, model_of("dup", 2), story)
    original = sorted(first.keys.items())[0]

    async def forge_duplicate() -> str:  # what two racing publishers used to leave behind
        async with jira_client(sb) as c:
            issue = await c.get_issue(original[1], fields=("summary", "labels"), properties=(TEST_PROPERTY,))
            assert issue is not None
            made = await c.create_issue(
                {
                    "project": {"key": "DUP"},
                    "issuetype": {"name": "Test"},
                    "summary": issue["fields"]["summary"],
                    "labels": issue["fields"]["labels"],
                },
                properties=[{"key": TEST_PROPERTY, "value": issue["properties"][TEST_PROPERTY]}],
            )
            await c.link_issues("Test", source=str(made["key"]), target=story)
            return str(made["key"])

    dup = run_sync(forge_duplicate())
    healed = run_publish(sb, model_of("dup", 2), story)
    assert (healed.duplicates, healed.duplicate_keys, healed.created, healed.unchanged) == (1, [dup], 0, 2)
    labels = {i["key"]: i["fields"]["labels"] for i in published_for(sb, story)}
    assert DUPLICATE_LABEL in labels[dup] and DUPLICATE_LABEL not in labels[original[1]]  # still there, labelled
    assert story_links(sb, dup) == [] and len(story_links(sb, story)) == 2
    assert run_publish(sb, model_of("dup", 2), story).duplicates == 0  # healed once, not reported again


# -- finding 5: requirement keys that do not exist --------------------------------------------------------------


def test_missing_requirement_keys_are_reported_and_never_linked(sb: RunningSandbox) -> None:
    sb.setup_flowcase("DEMO")
    story = new_project(sb, "REQ")
    sb.setup_flowcase("REQ")
    real = new_story(sb, "REQ", "Requirement")
    sb.clear_calls()
    first = run_publish(sb, model_of("req", 3, requirements=(real, "NOPE-7", "REQ-999")), story)
    assert first.missing_requirements == ["NOPE-7", "REQ-999"]
    assert sb.count_calls("POST", LINK, 404) == 0
    assert sb.count_calls("POST", "/rest/api/3/issue/bulkfetch") == 1  # checked once per publish
    assert len(story_links(sb, real)) == 3  # the real requirement "is tested by" the three tests
    sb.clear_calls()
    again = run_publish(sb, model_of("req", 3, requirements=(real, "NOPE-7", "REQ-999")), story)
    assert again.unchanged == 3 and sb.count_calls("POST", LINK) == 0


# -- finding 6: the smaller differences ------------------------------------------------------------------------


def test_attachments_redirect_and_non_admins_cannot_silence_notifications() -> None:
    with running_sandbox(SandboxConfig(user_email="tester@example.com"), demo_data=True) as sb:

        async def go() -> tuple[bytes, bool, int]:
            async with jira_client(sb) as c:
                att = await c.add_attachment("DEMO-1", "model.json", b'{"a": 1}', "application/json")
                raw = httpx.get(f"{sb.base_url}/rest/api/3/attachment/content/{att['id']}", auth=sb.basic_auth())
                content = await c.attachment_content(str(att["id"]))
                await c.edit_issue("DEMO-2", fields={"summary": "Edited by a non-admin"})
                return content, c.silent_edits, raw.status_code

        content, silent, status = run_sync(go())
    assert status == 303 and content == b'{"a": 1}'  # followed to the pre-signed URL without credentials
    assert silent is False  # Jira refused notifyUsers=false (403); the edit went through with notifications


def test_a_job_worker_and_a_cli_publisher_at_once_make_one_issue_per_test(sb: RunningSandbox, tmp_path: Path) -> None:
    """Two app instances (separate job databases) and a direct publish race on one story under index lag: the
    story's publish lease in Jira keeps them apart."""
    from flowcase.db.engine import make_engine, session_factory
    from flowcase.db.migrate import upgrade
    from flowcase.jira.jobs import DONE, JobStore, Worker
    from flowcase.jira.storage import save_model

    sb.setup_flowcase("DEMO")
    story = new_project(sb, "JOBS")
    sb.setup_flowcase("JOBS")
    model = model_of("jobrace", 15)
    suite = all_decisions(model)
    stores = []
    for n in range(2):
        url = f"sqlite:///{tmp_path}/app{n}.db"
        upgrade(url)
        stores.append(JobStore(session_factory(make_engine(url))))

    job_ids: dict[int, str] = {}

    async def queue() -> None:
        async with jira_client(sb) as c:
            revision = await save_model(c, story, model, None)
            for store in stores:
                job_ids[id(store)] = await submit_revision(
                    c, store, story, revision, model, suite, project="JOBS", site_id="s"
                )

    run_sync(queue())
    sb.set_index_lag(5.0)
    outcomes: list[Any] = []

    def worker(store: JobStore) -> None:
        runner = Worker(store, lambda job: jira_client(sb), settle_seconds=0)
        outcomes.append(run_sync(runner.execute(job_ids[id(store)])))

    def direct() -> None:
        outcomes.append(run_publish(sb, model, story))

    threads = [threading.Thread(target=worker, args=(s,)) for s in stores] + [threading.Thread(target=direct)]
    try:
        run_together(threads, 180)
    finally:
        sb.set_index_lag(0.0)
    views = [o for o in outcomes if not isinstance(o, PublishResult)]
    assert all(v is not None and v.state == DONE for v in views), views
    created = [o.created for o in outcomes]
    assert sorted(created) == [0, 0, 15]
    assert len(published_for(sb, story)) == 15 and len(story_links(sb, story)) == 15
