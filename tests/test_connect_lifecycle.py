"""Lifecycle: signed install/uninstall, enabled/disabled, reinstall, idempotence and order independence."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from builders import lifecycle
from flowcase.db.models import InstallationState
from flowcase.web.connect_testing import ConnectTestbed, Tenant, jira_token, new_tenant

INSTALLED = "/connect/lifecycle/installed"


@pytest.fixture
def bed(tmp_path: Path) -> Iterator[ConnectTestbed]:
    testbed = ConnectTestbed(f"sqlite:///{tmp_path / 'app.db'}")
    yield testbed
    testbed.close()


@pytest.fixture
def client(bed: ConnectTestbed) -> Iterator[TestClient]:
    with TestClient(bed.app, base_url="https://flowcase.example.com") as c:
        yield c


def toggle(client: TestClient, bed: ConnectTestbed, tenant: Tenant, event: str, now: int | None = None) -> int:
    path = f"/connect/lifecycle/{event}"
    token = jira_token(
        tenant.client_key,
        tenant.secret,
        method="POST",
        url=path,
        app_base_url=bed.settings.base_url,
        now=now,
        account_id=None,
    )
    response = client.post(path, json=bed.payload(tenant, event), headers={"Authorization": f"JWT {token}"})
    return response.status_code


def test_descriptor(client: TestClient) -> None:
    d = client.get("/atlassian-connect.json").json()
    assert d["key"] == "com.example.flowcase"
    assert d["baseUrl"] == "https://flowcase.example.com"
    assert d["authentication"] == {"type": "jwt"}
    assert d["scopes"] == ["READ", "WRITE", "ADMIN"]
    assert d["apiMigrations"] == {"signed-install": True, "context-qsh": True, "gdpr": True}
    assert d["enableLicensing"] is True
    assert d["lifecycle"] == {e: f"/connect/lifecycle/{e}" for e in ("installed", "uninstalled", "enabled", "disabled")}
    modules = d["modules"]
    assert modules["jiraIssueContents"][0]["target"]["url"] == (
        "/connect/issue-panel?issueKey={issue.key}&projectKey={project.key}"
    )
    assert modules["dialogs"][0]["url"] == "/connect/editor?issueKey={issue.key}"
    assert modules["jiraProjectPages"][0]["url"] == "/connect/project?projectKey={project.key}"
    assert modules["adminPages"][0]["url"] == "/connect/admin"
    prop = modules["jiraEntityProperties"][0]
    assert prop["entityType"] == "issue" and prop["keyConfigurations"][0]["propertyKey"] == "flowcase-summary"
    # every lifecycle URL is really served
    for path in d["lifecycle"].values():
        assert client.post(path).status_code == 401


def test_install_stores_the_install_fields_and_encrypts_the_secret(client: TestClient, bed: ConnectTestbed) -> None:
    tenant = new_tenant()
    assert lifecycle(client, bed, tenant) == 204
    view = bed.store.get(tenant.client_key)
    assert view is not None and view.active and view.state == InstallationState.INSTALLED
    assert view.base_url == tenant.base_url and view.product_type == "jira"
    assert bed.store.shared_secret(tenant.client_key) == tenant.secret
    with bed.engine.connect() as conn:
        raw = conn.exec_driver_sql("SELECT shared_secret_encrypted FROM installations").scalar_one()
    assert tenant.secret not in raw
    # the signed page request now works
    page = client.get(bed.page_url(tenant, "/connect/page?issueKey=TEST-1&projectKey=TEST&lic=active"))
    assert page.status_code == 200, page.text
    assert page.json()["site_id"] == tenant.client_key
    assert page.json()["issue_key"] == "TEST-1"


def test_key_fetched_once_per_kid(client: TestClient, bed: ConnectTestbed) -> None:
    for _ in range(3):
        assert lifecycle(client, bed, new_tenant()) == 204
    assert bed.key_app.state.requests == [bed.signer.kid]


def test_reinstall_overwrites_the_secret(client: TestClient, bed: ConnectTestbed) -> None:
    tenant = new_tenant()
    assert lifecycle(client, bed, tenant, now=int(time.time()) - 10) == 204
    old_secret = tenant.secret
    tenant.secret = "new-" + old_secret
    assert lifecycle(client, bed, tenant) == 204
    assert bed.store.shared_secret(tenant.client_key) == tenant.secret
    old_page = bed.page_url(Tenant(tenant.client_key, tenant.base_url, old_secret), "/connect/page?x=1")
    assert client.get(old_page).status_code == 401
    assert client.get(bed.page_url(tenant, "/connect/page?x=1")).status_code == 200


def test_uninstall_erases_secret_and_refuses_everything_after(client: TestClient, bed: ConnectTestbed) -> None:
    tenant = new_tenant()
    assert lifecycle(client, bed, tenant, now=int(time.time()) - 5) == 204
    page = bed.page_url(tenant, "/connect/page?a=b")
    assert lifecycle(client, bed, tenant, "uninstalled") == 204
    view = bed.store.get(tenant.client_key)
    assert view is not None and view.state == InstallationState.UNINSTALLED and not view.has_secret
    with bed.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT shared_secret_encrypted FROM installations").scalar_one() is None
    assert bed.store.shared_secret(tenant.client_key) is None
    assert client.get(page).status_code == 401
    assert toggle(client, bed, tenant, "enabled") == 401
    # idempotent
    assert lifecycle(client, bed, tenant, "uninstalled") == 204


def test_enable_disable(client: TestClient, bed: ConnectTestbed) -> None:
    tenant = new_tenant()
    now = int(time.time())
    assert lifecycle(client, bed, tenant, now=now - 20) == 204
    assert toggle(client, bed, tenant, "enabled", now=now - 10) == 204
    assert bed.store.get(tenant.client_key).state == InstallationState.ENABLED  # type: ignore[union-attr]
    assert toggle(client, bed, tenant, "disabled", now=now - 5) == 204
    assert bed.store.get(tenant.client_key).state == InstallationState.DISABLED  # type: ignore[union-attr]
    assert client.get(bed.page_url(tenant, "/connect/page")).status_code == 403
    # a late, older "enabled" does not undo the newer "disabled"
    assert toggle(client, bed, tenant, "enabled", now=now - 8) == 204
    assert bed.store.get(tenant.client_key).state == InstallationState.DISABLED  # type: ignore[union-attr]
    assert toggle(client, bed, tenant, "enabled", now=now) == 204
    assert client.get(bed.page_url(tenant, "/connect/page")).status_code == 200


def test_order_independent_uninstall_wins(client: TestClient, bed: ConnectTestbed) -> None:
    tenant = new_tenant()
    now = int(time.time())
    assert lifecycle(client, bed, tenant, now=now - 30) == 204
    # uninstalled arrives before the (older) disabled: the final state is still uninstalled
    assert lifecycle(client, bed, tenant, "uninstalled", now=now) == 204
    assert toggle(client, bed, tenant, "disabled", now=now - 1) == 401  # secret gone: refused
    # a replay of the old signed install (still within its exp) cannot resurrect the site
    assert lifecycle(client, bed, tenant, now=now - 30) == 204
    assert bed.store.get(tenant.client_key).state == InstallationState.UNINSTALLED  # type: ignore[union-attr]
    assert bed.store.shared_secret(tenant.client_key) is None
    # a new signed install does
    assert lifecycle(client, bed, tenant, now=now + 1) == 204
    assert bed.store.shared_secret(tenant.client_key) == tenant.secret


def test_uninstall_of_unknown_site_is_a_no_op(client: TestClient, bed: ConnectTestbed) -> None:
    tenant = new_tenant()
    assert lifecycle(client, bed, tenant, "uninstalled") == 204
    assert bed.store.get(tenant.client_key) is None


def test_bad_payloads_are_400(client: TestClient, bed: ConnectTestbed) -> None:
    tenant = new_tenant()
    headers = bed.install_headers(tenant)
    assert client.post(INSTALLED, content=b"not json", headers=headers).status_code == 400
    assert client.post(INSTALLED, json=[1], headers=headers).status_code == 400
    assert client.post(INSTALLED, json=bed.payload(tenant, key="other.app"), headers=headers).status_code == 400
    assert client.post(INSTALLED, json=bed.payload(tenant, baseUrl="javascript:x"), headers=headers).status_code == 400
    payload = bed.payload(tenant)
    del payload["sharedSecret"]
    assert client.post(INSTALLED, json=payload, headers=headers).status_code == 400
    assert bed.store.get(tenant.client_key) is None


def test_licence_policy(tmp_path: Path) -> None:
    bed = ConnectTestbed(f"sqlite:///{tmp_path / 'l.db'}", licence_policy="enforce")
    try:
        with TestClient(bed.app, base_url="https://flowcase.example.com") as client:
            tenant = new_tenant()
            assert lifecycle(client, bed, tenant) == 204
            assert client.get(bed.page_url(tenant, "/connect/page?lic=none")).status_code == 403
            assert client.get(bed.page_url(tenant, "/connect/page")).status_code == 403
            ok = client.get(bed.page_url(tenant, "/connect/page?lic=active"))
            assert ok.status_code == 200 and ok.json()["licence"] == "active"
    finally:
        bed.close()


def test_licence_warn_lets_the_page_know(client: TestClient, bed: ConnectTestbed) -> None:
    tenant = new_tenant()
    assert lifecycle(client, bed, tenant) == 204
    response = client.get(bed.page_url(tenant, "/connect/page?lic=none"))
    assert response.status_code == 200 and response.json()["licence"] == "inactive"


def test_a_replayed_install_with_another_body_is_refused(client: TestClient, bed: ConnectTestbed) -> None:
    """A captured signed install, replayed within its lifetime with a new secret and base URL: no takeover."""
    tenant = new_tenant()
    headers = bed.install_headers(tenant)
    assert client.post(INSTALLED, json=bed.payload(tenant), headers=headers).status_code == 204
    forged = bed.payload(tenant)
    forged["sharedSecret"] = "attacker-secret-" + "x" * 32
    forged["baseUrl"] = "https://evil.atlassian.net"
    response = client.post(INSTALLED, json=forged, headers=headers)
    assert response.status_code == 409
    assert bed.store.shared_secret(tenant.client_key) == tenant.secret
    assert bed.store.get(tenant.client_key).base_url == tenant.base_url  # type: ignore[union-attr]


def test_a_retried_identical_delivery_is_a_harmless_no_op(client: TestClient, bed: ConnectTestbed) -> None:
    tenant = new_tenant()
    headers = bed.install_headers(tenant)
    body = bed.payload(tenant)
    assert client.post(INSTALLED, json=body, headers=headers).status_code == 204
    before = bed.store.get(tenant.client_key)
    assert client.post(INSTALLED, json=body, headers=headers).status_code == 204
    after = bed.store.get(tenant.client_key)
    assert before is not None and after is not None and after.updated_at == before.updated_at


def test_a_new_install_needs_a_strictly_newer_issue_time(client: TestClient, bed: ConnectTestbed) -> None:
    tenant = new_tenant()
    now = int(time.time())
    assert lifecycle(client, bed, tenant, now=now - 5) == 204
    first_secret = tenant.secret
    tenant.secret = "second-" + first_secret
    # another token signed in the same second, with another secret: refused
    assert lifecycle(client, bed, tenant, now=now - 5, exp=now + 100) == 409
    assert bed.store.shared_secret(tenant.client_key) == first_secret
    assert lifecycle(client, bed, tenant, now=now - 4) == 204
    assert bed.store.shared_secret(tenant.client_key) == tenant.secret


def test_an_install_whose_body_names_another_site_or_app_is_refused(client: TestClient, bed: ConnectTestbed) -> None:
    tenant, other = new_tenant(), new_tenant()
    body = bed.payload(other)  # signed for tenant, body for other
    assert client.post(INSTALLED, json=body, headers=bed.install_headers(tenant)).status_code == 401
    assert bed.store.get(other.client_key) is None
    wrong_app = {**bed.payload(tenant), "key": "com.example.other"}
    assert client.post(INSTALLED, json=wrong_app, headers=bed.install_headers(tenant)).status_code == 400
    assert bed.store.get(tenant.client_key) is None
