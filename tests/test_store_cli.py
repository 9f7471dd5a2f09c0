"""``flowcase db``: upgrade, current, generate-key, rotate-secrets, sites; one-line errors."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.fernet import Fernet

from flowcase.cli import main
from flowcase.db.crypto import SecretBox
from flowcase.db.engine import make_engine
from flowcase.db.migrate import head_revision
from flowcase.db.store import InstallationData, InstallationStore


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    for name in list(os.environ):
        if name.startswith("FLOWCASE_") or name == "DATABASE_URL":
            monkeypatch.delenv(name)
    url = f"sqlite:///{tmp_path / 'db' / 'app.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("FLOWCASE_ENV", "test")
    return url


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def test_upgrade_and_current(env: str) -> None:
    assert run("db", "current")[1].startswith("current: none")
    code, out = run("db", "upgrade")
    head = head_revision()
    assert code == 0 and f"database at revision {head}" in out
    assert f"current: {head}; head: {head}" in run("db", "current")[1]


def test_rotation_end_to_end(env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    assert run("db", "upgrade")[0] == 0
    old = run("db", "generate-key")[1].strip()
    Fernet(old.encode())  # a real key
    engine = make_engine(env)
    secret = "tenant-secret-" + "z" * 30
    InstallationStore(engine, SecretBox([old])).installed(
        InstallationData(
            client_key="site-1", app_key="flowcase", base_url="https://a.atlassian.net", shared_secret=secret
        ),
        datetime.now(UTC),
    )
    new = run("db", "generate-key")[1].strip()
    monkeypatch.setenv("FLOWCASE_SECRET_KEYS", f"{new},{old}")
    code, out = run("db", "rotate-secrets")
    assert code == 0 and "re-encrypted 1 secret" in out
    monkeypatch.setenv("FLOWCASE_SECRET_KEYS", new)
    assert InstallationStore(engine, SecretBox([new])).shared_secret("site-1") == secret
    code, out = run("db", "sites")
    assert code == 0 and "site-1\thttps://a.atlassian.net\tinstalled" in out and secret not in out
    # removing the old key too early is reported clearly
    monkeypatch.setenv("FLOWCASE_SECRET_KEYS", Fernet.generate_key().decode())
    code, out = run("db", "rotate-secrets")
    assert code == 2 and "cannot be decrypted" in out
    engine.dispose()


def test_errors_are_one_line(env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    code, out = run("db", "rotate-secrets")
    assert code == 2 and "FLOWCASE_SECRET_KEYS is not set" in out and "Traceback" not in out
    monkeypatch.setenv("DATABASE_URL", "postgres://user:hunter2@127.0.0.1:1/x")
    code, out = run("db", "upgrade")
    assert code == 3 and "hunter2" not in out and out.count("\n") == 1
    monkeypatch.setenv("FLOWCASE_LICENCE_POLICY", "bad")
    code, out = run("db", "upgrade")
    assert code == 2 and "FLOWCASE_LICENCE_POLICY" in out
