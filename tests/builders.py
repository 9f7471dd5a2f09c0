"""Builders shared by the test files: the small "checkout" model most publishing tests use, a Jira client and a
story on a running sandbox, publishing there, the Xray and Zephyr Scale stand-ins' APIs and settings, an app's
settings for a Connect install into the sandbox, and Jira's lifecycle callbacks to a Connect testbed.

The fixtures are in conftest.py, publish-job helpers in jobtools.py, the recording sandbox of the contract tests
in recording.py, and browser helpers in browser/webtools.py."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet
from starlette.applications import Starlette
from starlette.testclient import TestClient

from flowcase.config import Settings
from flowcase.generate import GenerateOptions, generate
from flowcase.generate.suite import Suite
from flowcase.hosts.standalone import JiraSite, StandaloneHost
from flowcase.jira.auth import ApiTokenAuth
from flowcase.jira.client import JiraClient
from flowcase.jira.lease import LeaseTiming
from flowcase.jira.publish import PublishResult
from flowcase.jira.settings_store import PublishSettings
from flowcase.model.types import Model
from flowcase.sandbox.testing import RunningSandbox, run_sync
from flowcase.targets import PublishCall, VendorAccess, publish_to_target
from flowcase.web.app import create_app
from flowcase.web.connect_testing import ConnectTestbed, Tenant

PROJECT = "DEMO"
# A lease that settles quickly, for publishing into the sandbox (which has no index lag unless a test sets one).
FAST = LeaseTiming(settle=0.05, ttl=30, wait=30, poll=0.05)


def checkout_dict(
    model_id: str,
    n: int = 3,
    *,
    name: str | None = None,
    action: str = "Choose product {i}",
    expected: str = "Product {i} in the basket",
    pick: str = "Pick",
    pay_from: int | None = None,
    requirements: Sequence[str] | Callable[[int], Sequence[str]] = (),
    end: str = "Paid",
) -> dict[str, Any]:
    """The document of a one-workflow checkout model: start, a "Pick" step with ``n`` product decisions (``p0``
    ...; ``action`` and ``expected`` are formatted with ``i``), then the end. With ``pay_from`` the decisions from
    that index on go through a "Pay" step (one decision, ``card``) first. ``requirements``: the keys every product
    decision covers, or a function of ``i`` giving them. ``name`` defaults to ``Checkout <model_id>``."""

    def product(i: int) -> dict[str, Any]:
        decision: dict[str, Any] = {
            "id": f"p{i}",
            "action": action.format(i=i),
            "expected": expected.format(i=i),
            "next": "pay" if pay_from is not None and i >= pay_from else "done",
        }
        keys = requirements(i) if callable(requirements) else requirements
        if keys:
            decision["requirements"] = list(keys)
        return decision

    nodes: list[dict[str, Any]] = [
        {"id": "start", "kind": "start", "next": "pick"},
        {"id": "pick", "kind": "step", "name": pick, "decisions": [product(i) for i in range(n)]},
    ]
    if pay_from is not None:
        card = {"id": "card", "action": "Pay by card", "expected": "Paid", "next": "done"}
        nodes.append({"id": "pay", "kind": "step", "name": "Pay", "decisions": [card]})
    nodes.append({"id": "done", "kind": "end", "name": end})
    return {
        "id": model_id,
        "name": f"Checkout {model_id}" if name is None else name,
        "workflows": [{"id": "main", "nodes": nodes}],
    }


def checkout_model(model_id: str, n: int = 3, **shape: Any) -> Model:
    """:func:`checkout_dict` as a model (the same keywords)."""
    return Model.model_validate(checkout_dict(model_id, n, **shape))


def all_decisions(model: Model) -> Suite:
    """The suite publishing tests use: every decision covered."""
    return generate(model, GenerateOptions(criterion="all-decisions"))


def jira_client(sb: RunningSandbox, email: str | None = None, **kwargs: Any) -> JiraClient:
    """A client of the sandbox's REST API with the demo user's API token (as ``email`` when given)."""
    return JiraClient(sb.base_url, ApiTokenAuth(email or sb.email, sb.api_token), **kwargs)


async def create_story(c: JiraClient, project: str = PROJECT, summary: str = "Checkout") -> str:
    """A new story in ``project``; returns its key."""
    made = await c.create_issue({"project": {"key": project}, "issuetype": {"name": "Story"}, "summary": summary})
    return str(made["key"])


def new_story(sb: RunningSandbox, project: str = PROJECT, summary: str = "Checkout") -> str:
    """:func:`create_story` from synchronous code."""

    async def go() -> str:
        async with jira_client(sb) as c:
            return await create_story(c, project, summary)

    return run_sync(go())


def publish_to(
    sb: RunningSandbox,
    model: Model,
    story: str,
    settings: PublishSettings,
    access: VendorAccess | None = None,
    **call: Any,
) -> PublishResult:
    """Publish ``model``'s :func:`all_decisions` suite on ``story`` of project DEMO to ``settings``' target, with
    the stand-ins' credentials unless ``access`` is given and a :data:`FAST` lease; ``call``: more of
    :class:`PublishCall`'s fields (``settle_seconds``)."""
    suite = all_decisions(model)

    async def go() -> PublishResult:
        async with jira_client(sb) as c:
            publish = PublishCall(c, model, suite, story, PROJECT, settings, lease_timing=FAST, **call)
            return await publish_to_target(publish, access or sb.vendor_access())

    return run_sync(go())


@contextmanager
def project_target(sb: RunningSandbox, target: str, project: str = PROJECT) -> Iterator[None]:
    """Within: ``project`` publishes to ``target`` (its stored settings say so); its settings are removed after."""
    url = f"{sb.base_url}/rest/api/3/project/{project}/properties/flowcase-settings"
    httpx.put(url, json={"target": target}, auth=sb.basic_auth()).raise_for_status()
    try:
        yield
    finally:
        httpx.delete(url, auth=sb.basic_auth())


def xray_token(sb: RunningSandbox) -> str:
    """A token of the sandbox's Xray stand-in, for its client id and secret."""
    cfg = sb.sandbox.config
    answer = httpx.post(
        f"{sb.xray_url}/api/v2/authenticate",
        json={"client_id": cfg.xray_client_id, "client_secret": cfg.xray_client_secret},
    )
    return str(answer.json())


def xray_graphql(sb: RunningSandbox, query: str, variables: dict[str, Any] | None = None) -> Any:
    """Ask the sandbox's Xray stand-in (with a fresh :func:`xray_token`); the answer's data, after checking it has
    no errors."""
    token = xray_token(sb)
    body = httpx.post(
        f"{sb.xray_url}/api/v2/graphql",
        json={"query": query, "variables": variables or {}},
        headers={"Authorization": f"Bearer {token}"},
    ).json()
    assert not body.get("errors"), body
    return body["data"]


def zephyr_get(sb: RunningSandbox, path: str, **params: Any) -> Any:
    """GET ``path`` of the sandbox's Zephyr Scale stand-in with its API token; the JSON answer (2xx only)."""
    headers = {"Authorization": f"Bearer {sb.sandbox.config.zephyr_token}"}
    response = httpx.get(f"{sb.zephyr_url}{path}", params=params, headers=headers)
    response.raise_for_status()
    return response.json()


def vendor_env(
    monkeypatch: pytest.MonkeyPatch, sb: RunningSandbox, *, zephyr: bool = True, site: str | None = None
) -> None:
    """Point the app at the sandbox's Xray (and, with ``zephyr``, Zephyr Scale) stand-in through the environment,
    the vendors' credentials made for the Jira site ``site`` (the sandbox's own unless given)."""
    cfg = sb.sandbox.config
    names = {"FLOWCASE_ZEPHYR_URL": sb.zephyr_url, "FLOWCASE_ZEPHYR_TOKEN": cfg.zephyr_token} if zephyr else {}
    names |= {
        "FLOWCASE_XRAY_URL": sb.xray_url,
        "FLOWCASE_XRAY_CLIENT_ID": cfg.xray_client_id,
        "FLOWCASE_XRAY_CLIENT_SECRET": cfg.xray_client_secret,
        "FLOWCASE_VENDOR_SITE_URL": site or sb.base_url,
    }
    for name, value in names.items():
        monkeypatch.setenv(name, value)


def connect_settings(sb: RunningSandbox, port: int, database_url: str, **more: Any) -> Settings:
    """The settings of an app on ``port`` of 127.0.0.1 that installs into the sandbox as a Connect app (a fresh
    encryption key unless ``more`` names ``secret_keys``)."""
    more.setdefault("secret_keys", Fernet.generate_key().decode())
    return Settings(
        env="test",
        base_url=f"http://127.0.0.1:{port}",
        database_url=database_url,
        connect_key_server=sb.key_server,
        **more,
    )


def lifecycle(tc: TestClient, bed: ConnectTestbed, tenant: Tenant, event: str = "installed", **claims: Any) -> int:
    """Jira's signed ``event`` lifecycle callback for ``tenant`` to the testbed's app (``claims``: the install
    token's, e.g. ``now``); its status code."""
    return tc.post(
        f"/connect/lifecycle/{event}",
        json=bed.payload(tenant, event),
        headers=bed.install_headers(tenant, event, **claims),
    ).status_code


def standalone_app(token: str, sb: RunningSandbox | None = None, **settings: Any) -> Starlette:
    """The app with the standalone host (its access token ``token``) on the sandbox's site with the demo user's
    API token, or on no Jira site; ``settings``: more of the test settings."""
    site = JiraSite(sb.base_url, sb.email, sb.api_token) if sb is not None else None
    return create_app(Settings(env="test", **settings), hosts=[StandaloneHost(site, token)])


def standalone_client(token: str) -> TestClient:
    """A test client of the app with the standalone host and no Jira site, signed in with ``token``."""
    c = TestClient(standalone_app(token))
    c.cookies.set("flowcase_local", token)
    return c
