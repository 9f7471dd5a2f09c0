"""The admin page's "Xray and Zephyr Scale credentials of this site" (issue 20): an admin enters a token, the
page says "set" and never shows it again; removing it says "not set"; the page holds no value at any time."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from webtools import STANDALONE_TOKEN, serve, sign_in

from flowcase.config import Settings
from flowcase.db.crypto import SecretBox
from flowcase.db.engine import make_engine
from flowcase.db.migrate import upgrade
from flowcase.db.vendor import VendorCredentialStore
from flowcase.hosts.standalone import JiraSite, StandaloneHost
from flowcase.sandbox.testing import RunningSandbox
from flowcase.web.app import create_app

pytestmark = pytest.mark.browser

KEY = Fernet.generate_key().decode()
TOKEN = "zephyr-token-typed-by-the-admin-0123456789"


@pytest.fixture(scope="module")
def app(sandbox: RunningSandbox, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, str]]:
    """The standalone app with a database and encryption keys: (URL, database URL, the site's tenant key)."""
    db = f"sqlite:///{tmp_path_factory.mktemp('admin-credentials') / 'app.db'}"
    upgrade(db)
    host = StandaloneHost(JiraSite(sandbox.base_url, sandbox.email, sandbox.api_token), STANDALONE_TOKEN)
    settings = Settings(env="test", database_url=db, secret_keys=KEY)
    with pytest.MonkeyPatch.context() as env, serve(create_app(settings, hosts=[host])) as url:
        env.setenv("FLOWCASE_ZEPHYR_URL", sandbox.zephyr_url)  # the sandbox's Zephyr Scale checks the token
        yield url, db, host.site_id


def test_an_admin_sets_and_removes_the_sites_zephyr_token(
    page: Any, app: tuple[str, str, str], sandbox: RunningSandbox
) -> None:
    url, db, site = app
    token = sandbox.sandbox.config.zephyr_token
    sign_in(page, url, "/app/admin")
    page.wait_for_selector("#zephyr-state:text-is('not set')")
    assert page.inner_text("#xray-state") == "not set"

    # a token Zephyr Scale does not know is refused, not saved, and stays in the field to be corrected
    page.fill("#zephyr-token", TOKEN)
    page.click("#zephyr-form button[type=submit]")
    page.wait_for_selector("#vendor-message:has-text('Zephyr Scale refused this API access token')")
    assert page.inner_text("#zephyr-state") == "not set"
    assert page.input_value("#zephyr-token") == TOKEN
    assert not VendorCredentialStore(make_engine(db), SecretBox([KEY])).get(site).zephyr

    page.fill("#zephyr-token", token)
    page.click("#zephyr-form button[type=submit]")
    page.wait_for_selector("#zephyr-state:text-is('set')")
    assert page.inner_text("#vendor-message") == "Saved. Zephyr Scale accepted it."
    assert page.input_value("#zephyr-token") == ""  # the field is emptied, nothing shows the token again
    assert token not in page.content()
    stored = VendorCredentialStore(make_engine(db), SecretBox([KEY]))
    assert stored.get(site).zephyr_token == token  # stored for this site, encrypted:
    assert token.encode() not in Path(db.removeprefix("sqlite:///")).read_bytes()

    page.reload()
    page.wait_for_selector("#zephyr-state:text-is('set')")
    assert token not in page.content()
    page.click("#zephyr-remove")
    page.wait_for_selector("#zephyr-state:text-is('not set')")
    assert not stored.get(site).zephyr
    assert [e for e in page.js_errors if "status of 422" not in e] == []  # the refusal above is a 422 answer
