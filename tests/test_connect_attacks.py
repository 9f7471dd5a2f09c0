"""The attack suite: every forged, replayed or misplaced token is refused with 401/403 and logged without secrets."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import jwt as pyjwt
import pytest
from starlette.testclient import TestClient

from builders import lifecycle
from flowcase.hosts.connect.jwt import query_string_hash
from flowcase.web.connect_testing import APP_BASE_URL, ConnectTestbed, InstallSigner, Tenant, jira_token, new_tenant

INSTALLED = "/connect/lifecycle/installed"
PAGE = "/connect/page?issueKey=TEST-1&projectKey=TEST"


class World:
    def __init__(self, bed: ConnectTestbed, client: TestClient) -> None:
        self.bed, self.client = bed, client
        self.a, self.b = new_tenant("alpha"), new_tenant("beta")
        for tenant in (self.a, self.b):
            assert lifecycle(client, bed, tenant) == 204
        self.tokens: list[str] = []

    def hs(self, tenant: Tenant, *, url: str = PAGE, secret: str | None = None, **kw: object) -> str:
        token = jira_token(tenant.client_key, secret or tenant.secret, url=url, app_base_url=APP_BASE_URL, **kw)  # type: ignore[arg-type]
        self.tokens.append(token)
        return token

    def get(self, path: str, token: str) -> int:
        self.tokens.append(token)
        sep = "&" if "?" in path else "?"
        return self.client.get(f"{path}{sep}jwt={token}").status_code

    def install(self, token: str | None, body: dict[str, object], path: str = INSTALLED) -> int:
        if token:
            self.tokens.append(token)
        headers = {"Authorization": f"JWT {token}"} if token else {}
        return self.client.post(path, json=body, headers=headers).status_code


@pytest.fixture
def world(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> Iterator[World]:
    caplog.set_level(logging.DEBUG)
    bed = ConnectTestbed(f"sqlite:///{tmp_path / 'app.db'}")
    with TestClient(bed.app, base_url=APP_BASE_URL) as client:
        w = World(bed, client)
        yield w
        # Whatever happened, no secret, token or key reached the app's log. (The test client plays Jira and
        # logs the URLs it requests, which carry ?jwt=: those lines are Jira's, not the app's.)
        records = [r for phase in ("setup", "call") for r in caplog.get_records(phase)]
        app_lines = [r.getMessage() for r in records if not _test_client_line(r)]
        assert app_lines, "the app logged nothing: the scan below would prove nothing"
        log_text = "\n".join(app_lines)
        for item in [w.a.secret, w.b.secret, bed.encryption_key, *w.tokens]:
            assert item not in log_text
        for token in w.tokens:
            signature = token.rsplit(".", 1)[-1]
            assert len(signature) < 16 or signature not in log_text
    bed.close()


def _test_client_line(record: logging.LogRecord) -> bool:
    return record.name == "httpx" and f"{APP_BASE_URL}/" in record.getMessage()


def b64(obj: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


def now() -> int:
    return int(time.time())


def page_claims(world: World) -> dict[str, object]:
    """Tenant A's claims for a GET of :data:`PAGE`, valid for three minutes."""
    return {
        "iss": world.a.client_key,
        "iat": now(),
        "exp": now() + 180,
        "qsh": query_string_hash("GET", PAGE, APP_BASE_URL),
    }


def install_claims(client_key: str) -> dict[str, object]:
    """An install callback's claims for ``client_key`` (as Jira's install token has them), valid for three
    minutes."""
    return {
        "iss": client_key,
        "aud": APP_BASE_URL,
        "iat": now(),
        "exp": now() + 180,
        "qsh": query_string_hash("POST", INSTALLED, APP_BASE_URL),
    }


def refused(status: int, caplog: pytest.LogCaptureFixture, reason: str, code: int = 401) -> None:
    assert status == code
    assert any(reason in r.getMessage() and "refused" in r.getMessage() for r in caplog.records), caplog.text


# ---- iframe / server-to-server HS256 ----------------------------------------------------------------------


def test_valid_baseline_is_accepted(world: World) -> None:
    assert world.get(PAGE, world.hs(world.a)) == 200
    context = world.hs(world.a, context=True)
    assert world.client.get("/api/thing", headers={"Authorization": f"JWT {context}"}).status_code == 200


def test_expired(world: World, caplog: pytest.LogCaptureFixture) -> None:
    refused(world.get(PAGE, world.hs(world.a, now=now() - 600)), caplog, "expired")


def test_future_iat(world: World, caplog: pytest.LogCaptureFixture) -> None:
    refused(world.get(PAGE, world.hs(world.a, now=now() + 600)), caplog, "future")


def test_wrong_qsh(world: World, caplog: pytest.LogCaptureFixture) -> None:
    refused(world.get(PAGE, world.hs(world.a, url="/connect/other")), caplog, "qsh")


def test_missing_qsh(world: World, caplog: pytest.LogCaptureFixture) -> None:
    token = pyjwt.encode({"iss": world.a.client_key, "iat": now(), "exp": now() + 180}, world.a.secret, "HS256")
    refused(world.get(PAGE, token), caplog, "missing qsh")


def test_alg_none(world: World, caplog: pytest.LogCaptureFixture) -> None:
    claims = page_claims(world)
    for alg in ("none", "None", "NONE"):
        token = f"{b64({'alg': alg, 'typ': 'JWT'})}.{b64(claims)}."
        refused(world.get(PAGE, token), caplog, "refused")
    assert all(
        r.getMessage().endswith(("algorithm not allowed", "invalid token"))
        for r in caplog.records
        if "refused" in r.getMessage()
    )


def test_rs256_token_on_hs256_endpoint(world: World, caplog: pytest.LogCaptureFixture) -> None:
    claims = page_claims(world)
    refused(world.get(PAGE, world.bed.signer.token(claims)), caplog, "algorithm not allowed")


def test_hs256_signed_with_the_public_key_on_install(world: World, caplog: pytest.LogCaptureFixture) -> None:
    """Classic RS/HS confusion: an HS256 token whose HMAC key is the (public) RSA key."""
    tenant = new_tenant("mallory")
    claims = install_claims(tenant.client_key)
    header = b64({"alg": "HS256", "typ": "JWT", "kid": world.bed.signer.kid})
    signing_input = f"{header}.{b64(claims)}"
    sig = hmac.new(world.bed.signer.public_pem, signing_input.encode(), hashlib.sha256).digest()
    token = f"{signing_input}.{base64.urlsafe_b64encode(sig).rstrip(b'=').decode()}"
    refused(world.install(token, world.bed.payload(tenant)), caplog, "signed install required")
    assert world.bed.store.get(tenant.client_key) is None


def test_wrong_issuer_unknown_tenant(world: World, caplog: pytest.LogCaptureFixture) -> None:
    stranger = new_tenant("stranger")
    refused(world.get(PAGE, world.hs(stranger)), caplog, "unknown tenant")


def test_wrong_issuer_claims_to_be_another_tenant(world: World, caplog: pytest.LogCaptureFixture) -> None:
    """Tenant B signs with its own secret but names tenant A as issuer."""
    token = world.hs(world.a, secret=world.b.secret)
    refused(world.get(PAGE, token), caplog, "bad signature")


def test_another_tenants_secret(world: World, caplog: pytest.LogCaptureFixture) -> None:
    token = world.hs(world.b, secret=world.a.secret)
    refused(world.get(PAGE, token), caplog, "bad signature")


def test_context_token_on_url_bound_endpoint(world: World, caplog: pytest.LogCaptureFixture) -> None:
    refused(world.get(PAGE, world.hs(world.a, context=True)), caplog, "context token", code=403)
    # also via the header
    token = world.hs(world.a, context=True)
    status = world.client.get(PAGE, headers={"Authorization": f"JWT {token}"}).status_code
    assert status == 403


def test_tampered_query(world: World, caplog: pytest.LogCaptureFixture) -> None:
    token = world.hs(world.a)  # signed for issueKey=TEST-1
    refused(world.get("/connect/page?issueKey=OTHER-9&projectKey=TEST", token), caplog, "qsh")
    refused(world.get(PAGE + "&lic=active", token), caplog, "qsh")


def test_tampered_path_prefix(world: World, caplog: pytest.LogCaptureFixture) -> None:
    token = world.hs(world.a, url="/connect/page")
    refused(world.get("/connect/admin", token), caplog, "qsh")


def test_uninstalled_tenant(world: World, caplog: pytest.LogCaptureFixture) -> None:
    assert lifecycle(world.client, world.bed, world.a, "uninstalled") == 204
    refused(world.get(PAGE, world.hs(world.a)), caplog, "uninstalled")


def test_two_different_tokens(world: World, caplog: pytest.LogCaptureFixture) -> None:
    a, b = world.hs(world.a), world.hs(world.a, account_id="557058:other")
    status = world.client.get(f"{PAGE}&jwt={a}", headers={"Authorization": f"JWT {b}"}).status_code
    refused(status, caplog, "different tokens")
    refused(world.client.get(f"{PAGE}&jwt={a}&jwt={a}").status_code, caplog, "more than one")


@pytest.mark.parametrize(
    "make",
    [
        lambda: "x" * 20_000,
        lambda: "a.b.c",
        lambda: "not-a-jwt",
        lambda: "....",
        lambda: "eyJhbGciOiJIUzI1NiJ9.eyJpc3MiOjF9.sig",  # iss is a number
        lambda: f"{b64({'alg': 'HS256'})}.{b64({'iss': 'x' * 400})}.AAAA",
        lambda: "%00%ff.\u00e9.x",
    ],
    ids=["oversized", "garbage", "no-dots", "empty-parts", "numeric-iss", "huge-iss", "binary"],
)
def test_oversized_and_garbage_tokens(world: World, caplog: pytest.LogCaptureFixture, make: Callable[[], str]) -> None:
    token = make()
    assert world.client.get(PAGE, params={"jwt": token}).status_code == 401
    if not token.isascii():
        return
    status = world.client.get(PAGE, headers={"Authorization": f"JWT {token}"}).status_code
    assert status == 401
    assert world.client.get("/api/thing", headers={"Authorization": f"JWT {token}"}).status_code == 401
    assert world.install(token, world.bed.payload(new_tenant())) == 401


def test_no_token(world: World, caplog: pytest.LogCaptureFixture) -> None:
    refused(world.client.get(PAGE).status_code, caplog, "no token")
    refused(
        world.client.get("/api/thing", headers={"Authorization": "Basic Zm9vOmJhcg=="}).status_code, caplog, "no token"
    )


# ---- signed install ----------------------------------------------------------------------------------------


def _victim_secret_unchanged(world: World) -> None:
    assert world.bed.store.shared_secret(world.a.client_key) == world.a.secret


def _hijack(world: World) -> tuple[Tenant, dict[str, object]]:
    """An attacker tries to re-install tenant A with a secret of their choosing."""
    attacker = Tenant(world.a.client_key, world.a.base_url, "attacker-chosen-secret-000000000000")
    return attacker, world.bed.payload(attacker)


def test_install_wrong_aud(world: World, caplog: pytest.LogCaptureFixture) -> None:
    attacker, body = _hijack(world)
    token = world.bed.signer.install_token(
        client_key=attacker.client_key, app_base_url="https://evil.example.com", path=INSTALLED
    )
    # qsh is computed relative to the evil base URL: same path, so only aud differs
    refused(world.install(token, body), caplog, "wrong audience")
    _victim_secret_unchanged(world)


def test_install_wrong_iss(world: World, caplog: pytest.LogCaptureFixture) -> None:
    _attacker, body = _hijack(world)
    token = world.bed.signer.install_token(client_key=world.b.client_key, app_base_url=APP_BASE_URL, path=INSTALLED)
    refused(world.install(token, body), caplog, "issuer")
    _victim_secret_unchanged(world)


@pytest.mark.parametrize("kid", ["../../etc/passwd", "a/../b", "/abs", "a//b", "kid?x=1", "k%2e%2e", "", "x" * 300])
def test_install_bad_kid(world: World, caplog: pytest.LogCaptureFixture, kid: str) -> None:
    attacker, body = _hijack(world)
    signer = InstallSigner(kid=kid, key=world.bed.signer.key)
    token = signer.install_token(client_key=attacker.client_key, app_base_url=APP_BASE_URL, path=INSTALLED)
    refused(world.install(token, body), caplog, "invalid key id")
    assert kid not in world.bed.key_app.state.requests or kid == ""
    _victim_secret_unchanged(world)


def test_install_missing_kid(world: World, caplog: pytest.LogCaptureFixture) -> None:
    attacker, body = _hijack(world)
    claims = install_claims(attacker.client_key)
    token = pyjwt.encode(claims, world.bed.signer.key, algorithm="RS256")
    refused(world.install(token, body), caplog, "invalid key id")


def test_install_unknown_kid(world: World, caplog: pytest.LogCaptureFixture) -> None:
    attacker, body = _hijack(world)
    signer = InstallSigner(kid="unknown-kid")
    token = signer.install_token(client_key=attacker.client_key, app_base_url=APP_BASE_URL, path=INSTALLED)
    refused(world.install(token, body), caplog, "install key unavailable")
    refused(world.install(token, body), caplog, "install key unavailable")
    assert world.bed.key_app.state.requests.count("unknown-kid") == 1  # failures are remembered for a while
    _victim_secret_unchanged(world)


def test_install_wrong_key_for_kid(world: World, caplog: pytest.LogCaptureFixture) -> None:
    attacker, body = _hijack(world)
    forger = InstallSigner(kid=world.bed.signer.kid)  # same kid, attacker's own RSA key
    token = forger.install_token(client_key=attacker.client_key, app_base_url=APP_BASE_URL, path=INSTALLED)
    refused(world.install(token, body), caplog, "bad signature")
    _victim_secret_unchanged(world)


def test_install_expired_and_wrong_qsh(world: World, caplog: pytest.LogCaptureFixture) -> None:
    attacker, body = _hijack(world)
    expired = world.bed.signer.install_token(
        client_key=attacker.client_key, app_base_url=APP_BASE_URL, path=INSTALLED, now=now() - 3600
    )
    refused(world.install(expired, body), caplog, "expired")
    # a valid uninstall token replayed against installed (qsh binds the path)
    uninstall = world.bed.signer.install_token(
        client_key=attacker.client_key, app_base_url=APP_BASE_URL, path="/connect/lifecycle/uninstalled"
    )
    refused(world.install(uninstall, body), caplog, "qsh")
    no_qsh = world.bed.signer.install_token(
        client_key=attacker.client_key, app_base_url=APP_BASE_URL, path=INSTALLED, qsh=None
    )
    refused(world.install(no_qsh, body), caplog, "missing qsh")
    _victim_secret_unchanged(world)


def test_replayed_unsigned_install(world: World, caplog: pytest.LogCaptureFixture) -> None:
    attacker, body = _hijack(world)
    refused(world.install(None, body), caplog, "signed install required")
    # the pre-2021 style: HS256 signed with the (old) shared secret
    old_style = jira_token(attacker.client_key, world.a.secret, method="POST", url=INSTALLED, app_base_url=APP_BASE_URL)
    refused(world.install(old_style, body), caplog, "signed install required")
    _victim_secret_unchanged(world)


def test_unsigned_uninstall_cannot_erase(world: World, caplog: pytest.LogCaptureFixture) -> None:
    body = world.bed.payload(world.a, "uninstalled")
    token = jira_token(
        world.a.client_key,
        world.a.secret,
        method="POST",
        url="/connect/lifecycle/uninstalled",
        app_base_url=APP_BASE_URL,
    )
    refused(world.install(token, body, "/connect/lifecycle/uninstalled"), caplog, "signed install required")
    _victim_secret_unchanged(world)


def test_enabled_with_mismatched_body(world: World, caplog: pytest.LogCaptureFixture) -> None:
    path = "/connect/lifecycle/disabled"
    token = jira_token(world.a.client_key, world.a.secret, method="POST", url=path, app_base_url=APP_BASE_URL)
    body = world.bed.payload(world.b, "disabled")
    refused(world.install(token, body, path), caplog, "payload does not match", code=403)
    assert world.bed.store.get(world.b.client_key).state == "installed"  # type: ignore[union-attr]


def test_oversized_bodies(world: World, caplog: pytest.LogCaptureFixture) -> None:
    attacker, body = _hijack(world)
    token = world.bed.signer.install_token(client_key=attacker.client_key, app_base_url=APP_BASE_URL, path=INSTALLED)
    world.tokens.append(token)
    huge = {**body, "description": "x" * 200_000}
    response = world.client.post(INSTALLED, json=huge, headers={"Authorization": f"JWT {token}"})
    refused(response.status_code, caplog, "too large", code=413)
    form = world.client.post("/connect/page", data={"jwt": world.hs(world.a), "pad": "y" * 1_100_000})
    assert form.status_code == 413
    _victim_secret_unchanged(world)
