"""The Jira layer as a Connect app: every call signed with ConnectJwtAuth (qsh of the exact URL, incl. paging
tokens and comma lists) is accepted by the sandbox; app properties hold the site's settings."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from builders import all_decisions
from flowcase.hosts.connect.auth import ConnectJwtAuth
from flowcase.jira.client import JiraClient
from flowcase.jira.publish import publish
from flowcase.jira.settings_store import PublishSettings, load_settings, save_settings
from flowcase.jira.storage import load_model, save_model
from flowcase.model.io import load_path
from flowcase.model.types import Model
from flowcase.sandbox.testing import RunningSandbox, TinyApp, running_sandbox, running_tiny_app

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "login.yaml"


def chain_model(model_id: str, steps: int) -> Model:
    nodes = [{"id": "start", "kind": "start", "next": "s0"}]
    nodes += [
        {
            "id": f"s{i}",
            "kind": "step",
            "name": f"Step {i} " + "lorem ipsum " * (i % 7),
            "decisions": [
                {"id": "ok", "action": "Do " + hashlib.sha256(str(i).encode()).hexdigest(), "next": f"s{i + 1}"}
            ],
        }
        for i in range(steps)
    ]
    nodes.append({"id": f"s{steps}", "kind": "end"})
    return Model.model_validate({"id": model_id, "workflows": [{"id": "main", "nodes": nodes}]})


@pytest.fixture(scope="module")
def connect() -> Iterator[tuple[RunningSandbox, TinyApp]]:
    with running_sandbox(demo_data=True, setup=True) as sb, running_tiny_app(sb, key="flowcase-it") as tiny:
        yield sb, tiny


def test_storage_settings_and_publish_as_a_connect_app(connect: tuple[RunningSandbox, TinyApp]) -> None:
    sb, tiny = connect
    assert tiny.secret
    sb.clear_calls()  # the admin setup of the fresh site ran over Basic auth; from here on only the app calls
    auth = ConnectJwtAuth(app_key=tiny.key, client_key=sb.sandbox.client_key, base_url=sb.base_url, secret=tiny.secret)
    model = load_path(EXAMPLE).model
    suite = all_decisions(model)

    async def go() -> tuple[PublishSettings, PublishSettings, int, int]:
        async with JiraClient(sb.base_url, auth) as c:
            story = str(
                (
                    await c.create_issue(
                        {"project": {"key": "DEMO"}, "issuetype": {"name": "Story"}, "summary": "Sign in"}
                    )
                )["key"]
            )
            await save_settings(c, {"labels": ["qa-team"], "output_style": "gherkin"}, app_key=tiny.key)
            settings = await load_settings(c, app_key=tiny.key, project_key="DEMO")
            big = chain_model("connect-big", 1500)  # several chunks
            await save_model(c, story, big, None)
            stored = await load_model(c, story)
            assert stored is not None and stored.model == big
            manifest = await c.get_property("issue", story, "flowcase-model")
            assert manifest["chunks"] >= 3
            first = await publish(c, model, suite, story, "DEMO", settings)
            second = await publish(c, model, suite, story, "DEMO", settings)
            hits = await c.search_all(
                'labels = "qa-team" AND project = DEMO', fields=("summary", "labels"), page_size=3
            )
            return settings, PublishSettings(), first.created + second.created, len(hits)

    settings, default, created, hits = asyncio.run(go())
    assert settings.labels == ("qa-team",) and settings.output_style == "gherkin" and settings != default
    assert created == len(suite.tests) and hits == len(suite.tests)
    assert sb.count_calls("GET", "/rest/api/3/search/jql", 401) == 0
    assert {c.auth for c in sb.calls() if c.path.startswith("/rest/")} == {"jwt"}
