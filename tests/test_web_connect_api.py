"""The web API behind the Connect host, installed into the sandbox: context tokens from Jira are required, and
a token made for one issue (or project) cannot be used for another."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from builders import connect_settings
from flowcase.db.migrate import upgrade
from flowcase.sandbox.connect import PageContext, context_token, signed_iframe_url
from flowcase.sandbox.models import Installation
from flowcase.sandbox.server import bind, serve_in_thread
from flowcase.sandbox.testing import RunningSandbox, running_sandbox
from flowcase.web.app import create_app

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@dataclass
class Env:
    sandbox: RunningSandbox
    installation: Installation
    app_url: str

    def token(self, **context: str) -> dict[str, str]:
        token = context_token(self.sandbox.sandbox, self.installation, PageContext(**context))
        return {"Authorization": f"JWT {token}"}


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    db = tmp_path_factory.mktemp("connect-api") / "app.db"
    with running_sandbox(demo_data=True, setup=True) as sb:
        sock = bind()
        port = sock.getsockname()[1]
        settings = connect_settings(sb, port, f"sqlite:///{db}")
        upgrade(settings.database_url)
        with serve_in_thread(create_app(settings), sock=sock) as url:
            installation = sb.install(f"{url}/atlassian-connect.json")
            yield Env(sb, installation, url)


def model() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((EXAMPLES / "login.yaml").read_text())
    return data


def test_issue_context_token_reaches_the_api_and_jira(env: Env) -> None:
    headers = env.token(issue_key="DEMO-3", issue_id="10003", project_key="DEMO", project_id="10000")
    saved = httpx.put(
        f"{env.app_url}/api/models/DEMO-3", json={"doc": {"model": model()}, "revision": None}, headers=headers
    )
    assert saved.status_code == 200, saved.text
    loaded = httpx.get(f"{env.app_url}/api/models/DEMO-3", headers=headers).json()
    assert loaded["revision"] == 1 and loaded["model"]["id"] == "login"
    assert loaded.get("published") is not None  # the summary property was written


def test_a_token_for_one_issue_cannot_touch_another(env: Env) -> None:
    headers = env.token(issue_key="DEMO-3", issue_id="10003", project_key="DEMO", project_id="10000")
    r = httpx.get(f"{env.app_url}/api/models/DEMO-2", headers=headers)
    assert r.status_code == 403 and r.json()["error"]["code"] == "wrong-issue"
    p = httpx.post(
        f"{env.app_url}/api/publish", json={"issueKey": "DEMO-2", "doc": {"model": model()}}, headers=headers
    )
    assert p.status_code == 403


def test_no_context_no_access_and_forged_tokens_refused(env: Env) -> None:
    bare = httpx.get(f"{env.app_url}/api/models/DEMO-3", headers=env.token())
    assert bare.status_code == 403 and bare.json()["error"]["code"] == "no-issue-context"
    other_project = httpx.get(
        f"{env.app_url}/api/projects/OTHER/workflows", headers=env.token(project_key="DEMO", project_id="10000")
    )
    assert other_project.status_code == 403
    forged = httpx.get(f"{env.app_url}/api/models/DEMO-3", headers={"Authorization": "JWT not.a.token"})
    assert forged.status_code == 401 and forged.json()["error"]["code"] == "unauthenticated"
    anonymous = httpx.post(f"{env.app_url}/api/models/validate", json={"doc": {"model": model()}})
    assert anonymous.status_code == 401


def test_connect_pages_load_the_sites_all_js(env: Env) -> None:
    ctx = PageContext(issue_key="DEMO-3", issue_id="10003", project_key="DEMO", project_id="10000")
    url = signed_iframe_url(
        env.sandbox.sandbox,
        env.installation,
        "flowcase-issue-panel",
        "/connect/issue-panel?issueKey={issue.key}&projectKey={project.key}",
        ctx,
    )
    page = httpx.get(url)
    assert page.status_code == 200
    assert f'src="{env.sandbox.base_url}/atlassian-connect/all.js"' in page.text
    csp = page.headers["content-security-policy"]
    assert f"frame-ancestors 'self' {env.sandbox.base_url}" in csp
    assert f"script-src 'self' {env.sandbox.base_url};" in csp  # all.js from the site, nothing else
    assert csp.startswith("default-src 'self';")
