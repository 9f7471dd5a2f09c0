"""Xray Cucumber tests (issue 20): with ``xray_test_type = "cucumber"`` each test is published as an Xray Test
of type Cucumber whose definition is the Gherkin scenario (the Gherkin export's text), through the sandbox's
stand-in: publish, republish unchanged (0 creates, nothing written to Xray), change a step (the definition
rewritten in place, same key), and switching between manual and Cucumber converts the published Tests in place."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from builders import PROJECT, all_decisions, jira_client, new_story, publish_to, standalone_app, xray_graphql
from flowcase.export.gherkin import definition, render
from flowcase.generate import GenerateOptions, generate
from flowcase.jira.publish import OBSOLETE_LABEL, TEST_PROPERTY, PublishResult
from flowcase.jira.settings_store import PublishSettings
from flowcase.model.types import Model
from flowcase.sandbox.testing import RunningSandbox
from test_xray_publish import GRAPHQL, issues_of, model_of

CUCUMBER = PublishSettings(target="xray", xray_test_type="cucumber")
MANUAL = PublishSettings(target="xray")


pytestmark = pytest.mark.sandbox(setup=True, xray=True)  # the shared `sb` fixture (conftest.py)


def publish(sb: RunningSandbox, model: Model, story: str, settings: PublishSettings) -> PublishResult:
    return publish_to(sb, model, story, settings, settle_seconds=0)


def held_test(sb: RunningSandbox, issue_id: str) -> dict[str, Any]:
    data = xray_graphql(
        sb,
        "query($id: String) { getTest(issueId: $id) { testType { name kind } gherkin steps { action } } }",
        {"id": issue_id},
    )
    return dict(data["getTest"])


def live_tests(sb: RunningSandbox, model_id: str) -> list[dict[str, Any]]:
    return [
        i
        for i in issues_of(sb, model_id)
        if i["fields"]["issuetype"]["name"] == "Test" and OBSOLETE_LABEL not in i["fields"]["labels"]
    ]


def test_the_definition_is_the_gherkin_exports_scenario_without_its_header() -> None:
    model = model_of("gdef", 2)
    suite = all_decisions(model)
    feature = render(suite, model)
    for test in suite.tests:
        text = definition(test, model)
        assert text.startswith("When ") and text.endswith('And the test ends at "Paid"\n')
        assert "Scenario" not in text and "@" not in text
        assert "\n".join("    " + line for line in text.splitlines()) in feature  # the same steps, re-indented


def test_cucumber_full_cycle_and_switching_types(sb: RunningSandbox) -> None:
    story = new_story(sb)
    model = model_of("gcycle", 3)
    suite = all_decisions(model)
    first = publish(sb, model, story, CUCUMBER)
    assert (first.created, first.updated, first.unchanged) == (3, 0, 0)
    tests = live_tests(sb, "gcycle")
    assert len(tests) == 3
    by_id = {i["properties"][TEST_PROPERTY]["id"]: i for i in tests}
    for t in suite.tests:
        issue = by_id[t.id]
        assert issue["properties"][TEST_PROPERTY]["hash"]  # complete: the definition written, then the hash
        held = held_test(sb, issue["id"])
        assert held["testType"] == {"name": "Cucumber", "kind": "Gherkin"} and held["steps"] == []
        assert held["gherkin"] == definition(t, model)
        assert "When Choose product" in held["gherkin"] and "Then Paid" in held["gherkin"]

    sb.clear_calls()
    again = publish(sb, model, story, CUCUMBER)
    assert (again.created, again.updated, again.unchanged, again.create_calls) == (0, 0, 3, 0)
    assert sb.count_calls("POST", GRAPHQL) == 2  # the ping and the test set's members: nothing written

    sb.clear_calls()
    changed_model = model_of("gcycle", 3, word="Select")
    changed = publish(sb, changed_model, story, CUCUMBER)
    assert (changed.created, changed.updated, changed.unchanged, changed.obsoleted) == (0, 3, 0, 0)
    after = live_tests(sb, "gcycle")
    assert {i["key"] for i in after} == {i["key"] for i in tests}  # rewritten in place
    assert sb.count_calls("POST", GRAPHQL) == 2 + 3  # one request per test: type and definition together
    for issue in after:
        assert held_test(sb, issue["id"])["gherkin"].startswith("When Select product")

    manual = publish(sb, changed_model, story, MANUAL)  # the setting switched back: manual steps, same keys
    assert (manual.created, manual.updated) == (0, 3)
    for issue in live_tests(sb, "gcycle"):
        held = held_test(sb, issue["id"])
        assert held["testType"]["kind"] == "Steps" and held["gherkin"] is None
        assert held["steps"][0]["action"].startswith("Select product")
    assert publish(sb, changed_model, story, MANUAL).unchanged == 3
    back = publish(sb, changed_model, story, CUCUMBER)
    assert (back.created, back.updated) == (0, 3)
    assert {held_test(sb, i["id"])["testType"]["name"] for i in live_tests(sb, "gcycle")} == {"Cucumber"}


def test_data_variants_make_the_definition_a_scenario_outline() -> None:
    from pathlib import Path

    from flowcase.model.io import load_path

    model = load_path(Path(__file__).resolve().parents[1] / "examples" / "login.yaml").model
    suite = generate(model, GenerateOptions(criterion="all-decisions", data="pairwise"))
    test = next(t for t in suite.tests if len(t.variants) > 1)
    text = definition(test, model)
    head, examples = text.split("\nExamples:\n")
    assert head.startswith("Given the test data:\n  | account ") and "| <account> |" in head
    assert len(examples.strip().splitlines()) == 1 + len(test.variants)  # the header and one row per variant


def test_compare_with_published_reads_the_cucumber_hash(sb: RunningSandbox) -> None:
    """The editor's "Compare with published" (``/api/diff``) plans as the Cucumber publish does: unchanged after a
    publish, updated when the scenario changes, and updated when the project's setting says manual tests."""
    import json as jsonlib

    from starlette.testclient import TestClient

    from flowcase.jira.settings_store import save_settings
    from flowcase.model.io import dumps

    story = new_story(sb)
    model = model_of("gdiff", 2)
    publish(sb, model, story, CUCUMBER)

    def settings(value: PublishSettings) -> None:
        async def go() -> None:
            async with jira_client(sb) as c:
                await save_settings(c, value, project_key=PROJECT)

        asyncio.run(go())

    token = "gherkin-diff-token-0123456789"
    auth = {"Authorization": f"Bearer {token}"}

    def diff(m: Model) -> dict[str, list[Any]]:
        body = {"issueKey": story, "doc": {"model": jsonlib.loads(dumps(m, "json"))}}
        with TestClient(standalone_app(token, sb)) as client:
            answer = client.post("/api/diff", json=body, headers=auth)
        assert answer.status_code == 200, answer.text
        return dict(answer.json()["diff"])

    settings(CUCUMBER)
    try:
        assert [len(diff(model)[k]) for k in ("unchanged", "updated", "new")] == [2, 0, 0]
        assert [len(diff(model_of("gdiff", 2, word="Select"))[k]) for k in ("unchanged", "updated")] == [0, 2]
        settings(MANUAL)
        assert [len(diff(model)[k]) for k in ("unchanged", "updated")] == [0, 2]
    finally:
        settings(PublishSettings())
