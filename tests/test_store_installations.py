"""Tenant store on SQLite and PostgreSQL: migrations, exact columns, encryption, lifecycle rules, rotation."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from flowcase.config import ConfigError
from flowcase.db import make_engine, upgrade
from flowcase.db.crypto import SecretBox, SecretDecryptionError
from flowcase.db.migrate import current_revision, downgrade, head_revision
from flowcase.db.models import InstallationState
from flowcase.db.store import InstallationData, InstallationStore
from flowcase.db.testing import PostgresUnavailable, postgres_url

INSTALL_COLUMNS = {
    "client_key",
    "app_key",
    "public_key",
    "shared_secret_encrypted",
    "server_version",
    "plugins_version",
    "base_url",
    "display_url",
    "product_type",
    "oauth_client_id",
    "installation_id",
}
BOOKKEEPING_COLUMNS = {"state", "created_at", "updated_at", "last_event_at", "last_event_digest"}


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    server = request.getfixturevalue("postgres_server")
    if server is None:
        pytest.skip("no PostgreSQL: set FLOWCASE_TEST_POSTGRES_URL or install initdb/pg_ctl")
    name = f"flowcase_t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def store(db_url: str) -> Iterator[InstallationStore]:
    upgrade(db_url)
    engine = make_engine(db_url)
    yield InstallationStore(engine, SecretBox([Fernet.generate_key().decode()]))
    engine.dispose()


T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def data(
    client_key: str = "11111111-2222-3333-4444-555555555555", secret: str = "s3cret-" + "x" * 40, **kw: str
) -> InstallationData:
    return InstallationData(
        client_key=client_key,
        app_key="flowcase",
        base_url="https://acme.atlassian.net",
        shared_secret=secret,
        product_type="jira",
        server_version="100237",
        plugins_version="1001.0.0",
        oauth_client_id="oauth-1",
        **kw,
    )


def test_migrations_create_exactly_the_install_fields(store: InstallationStore) -> None:
    assert current_revision(store.engine) == head_revision()
    columns = {c["name"] for c in inspect(store.engine).get_columns("installations")}
    assert columns == INSTALL_COLUMNS | BOOKKEEPING_COLUMNS


def test_upgrade_is_idempotent_and_downgrade_works(db_url: str) -> None:
    upgrade(db_url)
    upgrade(db_url)
    engine = make_engine(db_url)
    try:
        assert "installations" in inspect(engine).get_table_names()
        downgrade(db_url, "base")
        assert "installations" not in inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_secret_encrypted_at_rest(store: InstallationStore) -> None:
    d = data()
    assert store.installed(d, T0)
    with store.engine.connect() as conn:
        row = conn.execute(text("SELECT * FROM installations")).mappings().one()
    assert d.shared_secret not in str(dict(row))
    assert store.shared_secret(d.client_key) == d.shared_secret
    view = store.get(d.client_key)
    assert view is not None and view.active and d.shared_secret not in repr(view) and "secret" not in repr(d)


def test_reinstall_overwrites(store: InstallationStore) -> None:
    assert store.installed(data(secret="one"), T0)
    assert store.installed(data(secret="two", display_url="https://tests.acme.com"), T0 + timedelta(seconds=5))
    assert store.shared_secret(data().client_key) == "two"
    assert store.get(data().client_key).display_url == "https://tests.acme.com"  # type: ignore[union-attr]
    assert len(store.all()) == 1


def test_uninstall_erases_and_ordering(store: InstallationStore) -> None:
    key = data().client_key
    assert store.installed(data(), T0)
    assert store.set_enabled(key, True, T0 + timedelta(seconds=1))
    assert store.uninstalled(key, T0 + timedelta(seconds=3))
    # a late disabled/enabled or an old install replay changes nothing
    assert not store.set_enabled(key, False, T0 + timedelta(seconds=2))
    assert not store.set_enabled(key, True, T0 + timedelta(seconds=9))
    assert not store.installed(data(secret="replayed"), T0 + timedelta(seconds=2))
    assert not store.installed(data(secret="same-second"), T0 + timedelta(seconds=3))
    view = store.get(key)
    assert view is not None and view.state == InstallationState.UNINSTALLED and not view.has_secret
    assert store.shared_secret(key) is None
    assert store.uninstalled(key, T0 + timedelta(seconds=3))  # idempotent
    # a newer signed install reactivates
    assert store.installed(data(secret="fresh"), T0 + timedelta(seconds=10))
    assert store.shared_secret(key) == "fresh"
    assert not store.uninstalled("unknown", T0)


def test_disabled_site_has_no_secret_for_calls(store: InstallationStore) -> None:
    key = data().client_key
    store.installed(data(), T0)
    store.set_enabled(key, False, T0 + timedelta(seconds=1))
    assert store.shared_secret(key) is None
    assert store.shared_secret(key, allow_disabled=True) == data().shared_secret


def test_rotate_secrets(db_url: str) -> None:
    upgrade(db_url)
    engine = make_engine(db_url)
    try:
        old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
        InstallationStore(engine, SecretBox([old_key])).installed(data(), T0)
        InstallationStore(engine, SecretBox([old_key])).installed(data("other", secret="b" * 40), T0)
        rotated = InstallationStore(engine, SecretBox([new_key, old_key]))
        assert rotated.rotate_secrets() == 2
        assert rotated.rotate_secrets() == 0
        only_new = InstallationStore(engine, SecretBox([new_key]))
        assert only_new.shared_secret(data().client_key) == data().shared_secret
        with pytest.raises(SecretDecryptionError):
            InstallationStore(engine, SecretBox([old_key])).shared_secret(data().client_key)
    finally:
        engine.dispose()


def test_secret_box_rejects_bad_keys() -> None:
    with pytest.raises(ConfigError, match="entry 2"):
        SecretBox([Fernet.generate_key().decode(), "short"])
    with pytest.raises(ConfigError):
        SecretBox([])


def test_sqlite_file_directory_is_created(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'nested' / 'dir' / 'x.db'}"
    upgrade(url)
    assert (tmp_path / "nested" / "dir" / "x.db").exists()


def test_postgres_helper_prefers_the_configured_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOWCASE_TEST_POSTGRES_URL", "postgres://ci@db.internal:5432/flowcase")
    with postgres_url() as url:
        assert url == "postgresql+psycopg://ci@db.internal:5432/flowcase"


def test_postgres_helper_explains_when_it_cannot_start(monkeypatch: pytest.MonkeyPatch) -> None:
    from flowcase.db import testing

    monkeypatch.delenv("FLOWCASE_TEST_POSTGRES_URL", raising=False)
    monkeypatch.setattr(testing, "_binary", lambda name: None)
    with pytest.raises(PostgresUnavailable, match="initdb/pg_ctl not found"), postgres_url():
        pass


@pytest.mark.postgres
def test_each_pytest_xdist_worker_has_a_database_of_its_own(pg_database: str) -> None:
    """tests/conftest.py: under pytest-xdist the store tests of one worker never see another worker's rows."""
    name = make_url(pg_database).database
    engine = make_engine(pg_database)
    try:
        with engine.connect() as conn:
            assert conn.scalar(text("SELECT current_database()")) == name
            assert "publish_jobs" in inspect(conn).get_table_names()  # migrated
    finally:
        engine.dispose()
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker:
        assert name is not None and name.endswith(f"_{worker}")
