"""Issue 20: each site's own Xray and Zephyr Scale credentials, entered by that site's Jira admin.

They are stored encrypted for that site (never in clear in the database), answered only as "set"/"not set",
never logged, used to publish that site's tests and no other site's (two installations against one sandbox,
through the web app and through the job worker), and erased when the app is uninstalled."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from cryptography.fernet import Fernet
from sqlalchemy import text
from starlette.testclient import TestClient

from builders import all_decisions, jira_client
from flowcase.config import Settings
from flowcase.db.crypto import SecretBox
from flowcase.db.engine import make_engine, session_factory
from flowcase.db.migrate import upgrade
from flowcase.db.store import InstallationData, InstallationStore
from flowcase.db.vendor import VendorCredentialStore
from flowcase.hosts.forge.store import ForgeStore
from flowcase.hosts.standalone import JiraSite, StandaloneHost
from flowcase.jira.client import JiraClient
from flowcase.jira.jobs import DONE, FAILED, JobStore, Worker, submit
from flowcase.jira.storage import save_model
from flowcase.model.types import Model
from flowcase.sandbox.testing import RunningSandbox
from flowcase.targets import VendorAccess, site_access
from flowcase.web.app import create_app, vendor_access_for

pytestmark = pytest.mark.sandbox(setup=True)

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
PROJECT = "DEMO"
ADMIN_A, USER_A, ADMIN_B = "admin-of-site-a-0123456789", "user-of-site-a-0123456789", "admin-of-site-b-0123456789"


class OtherSite(StandaloneHost):
    """A second installation: another tenant key, reaching (for the test's sake) the same sandbox Jira."""

    @property
    def site_id(self) -> str:
        return "standalone:site-b"


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path}/app.db"
    upgrade(url)
    return url


KEY = Fernet.generate_key().decode()


@pytest.fixture
def box() -> SecretBox:
    return SecretBox([KEY])


@pytest.fixture
def vendor_env(sb: RunningSandbox, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The deployment points at the sandbox's stand-ins and has no credentials of its own."""
    monkeypatch.setenv("FLOWCASE_ZEPHYR_URL", sb.zephyr_url)
    monkeypatch.setenv("FLOWCASE_XRAY_URL", sb.xray_url)
    for name in ("FLOWCASE_ZEPHYR_TOKEN", "FLOWCASE_XRAY_CLIENT_ID", "FLOWCASE_XRAY_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)
    yield


@pytest.fixture
def target(sb: RunningSandbox) -> Iterator[Any]:
    """Sets the project's publishing target in Jira (a project property), removed afterwards."""
    url = f"{sb.base_url}/rest/api/3/project/{PROJECT}/properties/flowcase-settings"

    def set_target(name: str) -> None:
        httpx.put(url, json={"target": name}, auth=sb.basic_auth()).raise_for_status()

    yield set_target
    httpx.delete(url, auth=sb.basic_auth())


WRONG_TOKEN, WRONG_SECRET = "a-zephyr-token-nobody-issued-5501", "an-xray-secret-nobody-issued-7702"


def secrets_of(sb: RunningSandbox) -> list[str]:
    cfg = sb.sandbox.config
    return [cfg.zephyr_token, cfg.xray_client_id, cfg.xray_client_secret, WRONG_TOKEN, WRONG_SECRET]


def new_story(sb: RunningSandbox) -> str:
    body = {"fields": {"project": {"key": PROJECT}, "issuetype": {"name": "Story"}, "summary": "Checkout"}}
    made = httpx.post(f"{sb.base_url}/rest/api/3/issue", json=body, auth=sb.basic_auth())
    made.raise_for_status()
    return str(made.json()["key"])


def login_model() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((EXAMPLES / "login.yaml").read_text())
    return data


def test_stored_encrypted_answered_as_set_and_rotated(db_url: str, box: SecretBox) -> None:
    store = VendorCredentialStore(make_engine(db_url), box)
    assert store.get("site-a").status() == {"xray": False, "zephyr": False}
    store.set_xray("site-a", "XRAY-ID-123", "xray-secret-value-456")
    store.set_zephyr("site-a", "zephyr-token-value-789")
    got = store.get("site-a")
    assert (got.xray_client_id, got.xray_client_secret, got.zephyr_token) == (
        "XRAY-ID-123",
        "xray-secret-value-456",
        "zephyr-token-value-789",
    )
    assert "secret" not in repr(got) and "token-value" not in repr(got)
    assert store.get("site-b").status() == {"xray": False, "zephyr": False}  # another site sees nothing
    raw = Path(db_url.removeprefix("sqlite:///")).read_bytes()
    assert b"xray-secret-value-456" not in raw and b"zephyr-token-value-789" not in raw and b"XRAY-ID-123" not in raw

    rotated = SecretBox([Fernet.generate_key().decode(), KEY])
    store = VendorCredentialStore(make_engine(db_url), rotated)
    assert store.rotate() == 3 and store.rotate() == 0
    assert store.get("site-a").zephyr_token == "zephyr-token-value-789"

    store.remove("site-a", "zephyr")
    assert store.get("site-a").status() == {"xray": True, "zephyr": False}
    store.remove("site-a", "xray")
    with make_engine(db_url).connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM vendor_credentials")).scalar() == 0


def test_uninstalling_erases_the_sites_credentials(db_url: str, box: SecretBox) -> None:
    engine = make_engine(db_url)
    vendor = VendorCredentialStore(engine, box)
    installations = InstallationStore(engine, box)
    now = datetime.now(UTC)
    installations.installed(InstallationData("client-a", "flowcase", "https://a.example.net", "s" * 32), now)
    installations.installed(InstallationData("client-b", "flowcase", "https://b.example.net", "t" * 32), now)
    vendor.set_zephyr("client-a", "token-of-a")
    vendor.set_zephyr("client-b", "token-of-b")
    assert installations.uninstalled("client-a", datetime.now(UTC))
    assert not vendor.get("client-a").zephyr and vendor.get("client-b").zephyr_token == "token-of-b"

    forge = ForgeStore(engine)
    forge.installed("ari:cloud:ecosystem::installation/f-1", None, "https://f.example.net")
    vendor.set_xray("ari:cloud:ecosystem::installation/f-1", "id", "secret")
    forge.uninstalled("ari:cloud:ecosystem::installation/f-1")
    assert not vendor.get("ari:cloud:ecosystem::installation/f-1").xray


def test_a_sites_own_credentials_come_first_and_are_never_another_sites(db_url: str, box: SecretBox) -> None:
    store = VendorCredentialStore(make_engine(db_url), box)
    store.set_zephyr("site-a", "token-of-a")
    deployment = VendorAccess(zephyr_token="deployment-token", site_url="https://standalone.example.net")
    assert site_access(store, "site-a", "https://a.example.net", deployment).zephyr_token == "token-of-a"
    assert site_access(store, "site-b", "https://b.example.net", deployment).missing("zephyr") is not None
    # the deployment's credentials still serve the one site they are for (standalone)
    own = site_access(store, "standalone:x", "https://standalone.example.net", deployment)
    assert own.zephyr_token == "deployment-token"
    assert site_access(store, "site-a", "https://standalone.example.net", deployment).zephyr_token == "token-of-a"


def wait_for_job(client: TestClient, job: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
    deadline = time.time() + 60
    while job["state"] in ("queued", "running"):
        assert time.time() < deadline, "publish did not finish"
        time.sleep(0.1)
        job = client.get(f"/api/publish/{job['id']}", headers=headers).json()
    return job


def test_admin_api_round_trip_two_sites_and_nothing_echoed(
    sb: RunningSandbox,
    db_url: str,
    vendor_env: None,
    target: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    site = JiraSite(sb.base_url, sb.email, sb.api_token)
    hosts = [
        StandaloneHost(site, ADMIN_A),
        StandaloneHost(site, USER_A, is_admin=False),
        OtherSite(site, ADMIN_B),
    ]
    settings = Settings(env="test", database_url=db_url, secret_keys=Fernet.generate_key().decode())
    a, user, b = ({"Authorization": f"Bearer {t}"} for t in (ADMIN_A, USER_A, ADMIN_B))
    cfg = sb.sandbox.config
    answers: list[str] = []
    with TestClient(create_app(settings, hosts=hosts)) as client:
        # Only admins: reading whether they are set included.
        for method, path in [("GET", ""), ("PUT", ""), ("DELETE", "/zephyr")]:
            body = {"zephyr": {"token": "x"}} if method == "PUT" else None
            refused = client.request(method, f"/api/admin/vendor-credentials{path}", json=body, headers=user)
            assert refused.status_code == 403, refused.text
        assert client.get("/api/admin/vendor-credentials").status_code == 401

        empty = client.get("/api/admin/vendor-credentials", headers=a)
        assert empty.json() == {"credentials": {"xray": "not set", "zephyr": "not set"}}
        # credentials the vendor refuses are not saved, with either vendor's (the good one sent with them neither)
        for wrong in (
            {"zephyr": {"token": WRONG_TOKEN}},
            {"xray": {"clientId": cfg.xray_client_id, "clientSecret": WRONG_SECRET}},
            {"zephyr": {"token": cfg.zephyr_token}, "xray": {"clientId": "someone-else", "clientSecret": WRONG_SECRET}},
        ):
            refused = client.put("/api/admin/vendor-credentials", json=wrong, headers=a)
            assert refused.status_code == 422, refused.text
            assert refused.json()["error"]["code"] == "credentials-refused" and "nothing was saved" in refused.text
            answers.append(refused.text)
        assert client.get("/api/admin/vendor-credentials", headers=a).json() == empty.json()
        bad = client.put("/api/admin/vendor-credentials", json={"zephyr": {"token": "two\nlines"}}, headers=a)
        assert bad.status_code == 422
        saved = client.put(
            "/api/admin/vendor-credentials",
            json={
                "zephyr": {"token": cfg.zephyr_token},
                "xray": {"clientId": cfg.xray_client_id, "clientSecret": cfg.xray_client_secret},
            },
            headers=a,
        )
        assert saved.status_code == 200
        assert saved.json() == {
            "credentials": {"xray": "set", "zephyr": "set"},
            "checked": {"xray": "accepted", "zephyr": "accepted"},  # each vendor asked before anything was stored
        }
        answers += [bad.text, saved.text]
        other = client.get("/api/admin/vendor-credentials", headers=b)
        assert other.json() == {"credentials": {"xray": "not set", "zephyr": "not set"}}

        def publish(headers: dict[str, str]) -> dict[str, Any]:
            body = {"issueKey": new_story(sb), "doc": {"model": login_model()}}
            started = client.post("/api/publish", json=body, headers=headers)
            assert started.status_code == 202, started.text
            done = wait_for_job(client, started.json(), headers)
            answers.append(str(done))
            return done

        sb.setup_xray(PROJECT)  # what installing Xray does to the site
        for vendor in ("zephyr", "xray"):
            target(vendor)
            mine = publish(a)
            assert mine["state"] == "done", mine
            assert mine["result"]["created"] == mine["result"]["total"] > 0
            theirs = publish(b)  # site B never publishes with site A's credentials
            assert theirs["state"] == "failed" and "for this Jira site" in theirs["message"], theirs

        removed = client.delete("/api/admin/vendor-credentials/zephyr", headers=a)
        assert removed.json() == {"credentials": {"xray": "set", "zephyr": "not set"}}
        target("zephyr")
        assert publish(a)["state"] == "failed"
        diff = client.post("/api/diff", json={"issueKey": new_story(sb), "doc": {"model": login_model()}}, headers=a)
        assert diff.status_code == 503 and "for this Jira site" in diff.text
        answers.append(diff.text)
    for secret in secrets_of(sb):
        assert all(secret not in answer for answer in answers)
        assert secret not in caplog.text
    raw = Path(db_url.removeprefix("sqlite:///")).read_bytes()
    assert all(secret.encode() not in raw for secret in secrets_of(sb))


def test_the_worker_publishes_each_job_with_its_own_sites_credentials(
    sb: RunningSandbox, db_url: str, box: SecretBox, vendor_env: None, target: Any
) -> None:
    engine = make_engine(db_url)
    vendor = VendorCredentialStore(engine, box)
    vendor.set_zephyr("site-a", sb.sandbox.config.zephyr_token)
    vendor.set_zephyr("site-b", "a-token-zephyr-does-not-know")
    jobs = JobStore(session_factory(engine))
    target("zephyr")
    model = Model.model_validate(login_model())
    suite = all_decisions(model)

    def jira() -> JiraClient:
        return jira_client(sb)

    async def queue(site: str) -> str:
        story = new_story(sb)
        async with jira() as c:
            revision = await save_model(c, story, model, None)
            return await submit(
                jobs, c, site_id=site, story_key=story, project_key=PROJECT, revision=revision, model=model, suite=suite
            )

    worker = Worker(jobs, lambda job: jira(), access_for=vendor_access_for(vendor), settle_seconds=0.05)
    for site, state in [("site-a", DONE), ("site-b", FAILED), ("site-c", FAILED)]:
        job_id = asyncio.run(queue(site))
        view = asyncio.run(worker.execute(job_id))
        assert view is not None and view.state == state, (site, view)
        if state == FAILED:
            assert view.error_code == "jira-refused" and view.error_status == 401


def test_credentials_are_saved_unchecked_when_the_vendor_cannot_be_reached(
    sb: RunningSandbox, db_url: str, vendor_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = JiraSite(sb.base_url, sb.email, sb.api_token)
    settings = Settings(env="test", database_url=db_url, secret_keys=Fernet.generate_key().decode())
    admin = {"Authorization": f"Bearer {ADMIN_A}"}
    with socket.socket() as held, TestClient(create_app(settings, hosts=[StandaloneHost(site, ADMIN_A)])) as client:
        held.bind(("127.0.0.1", 0))  # bound, not listening: connections are refused, and no one else gets the port
        monkeypatch.setenv("FLOWCASE_XRAY_URL", f"http://127.0.0.1:{held.getsockname()[1]}")
        body = {"xray": {"clientId": "XRAY-ID-1", "clientSecret": WRONG_SECRET}}
        saved = client.put("/api/admin/vendor-credentials", json=body, headers=admin)
    assert saved.status_code == 200, saved.text
    assert saved.json() == {
        "credentials": {"xray": "set", "zephyr": "not set"},
        "checked": {"xray": "not checked: Xray could not be reached"},
    }
