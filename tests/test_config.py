"""Settings come only from the environment; Heroku-style DATABASE_URL; secrets never printed."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from flowcase.config import DEV_SECRET_KEY, ConfigError, Settings, get_settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("FLOWCASE_") or name == "DATABASE_URL":
            monkeypatch.delenv(name)


def test_defaults() -> None:
    s = get_settings()
    assert s.env == "production"
    assert s.base_url == "http://127.0.0.1:8800"
    assert s.app_key == "flowcase"
    assert s.database_url == "sqlite:///./var/flowcase.db"
    assert s.connect_key_server == "https://connect-install-keys.atlassian.com"
    assert s.licence_policy == "warn"
    assert s.secret_keys == ()
    with pytest.raises(ConfigError, match="FLOWCASE_SECRET_KEYS"):
        s.encryption_keys()


def test_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    k1, k2 = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    monkeypatch.setenv("FLOWCASE_BASE_URL", "https://flowcase.example.com/")
    monkeypatch.setenv("FLOWCASE_APP_KEY", "com.example.flowcase")
    monkeypatch.setenv("FLOWCASE_SECRET_KEYS", f" {k1} ,{k2},")
    monkeypatch.setenv("FLOWCASE_LICENCE_POLICY", "enforce")
    monkeypatch.setenv("FLOWCASE_CONNECT_KEY_SERVER", "http://127.0.0.1:8900/connect-keys/")
    monkeypatch.setenv("DATABASE_URL", "postgres://user:pa55word@db.example.com:5432/flowcase")
    s = get_settings()
    assert s.base_url == "https://flowcase.example.com"
    assert s.app_key == "com.example.flowcase"
    assert s.encryption_keys() == [k1, k2]
    assert s.licence_policy == "enforce"
    assert s.connect_key_server == "http://127.0.0.1:8900/connect-keys"
    assert s.database_url == "postgresql+psycopg://user:pa55word@db.example.com:5432/flowcase"
    shown = repr(s) + str(s)
    assert k1 not in shown and k2 not in shown and "pa55word" not in shown


def test_flowcase_database_url_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgres://a/b")
    monkeypatch.setenv("FLOWCASE_DATABASE_URL", "sqlite:///x.db")
    assert get_settings().database_url == "sqlite:///x.db"


def test_development_key_only_in_development(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOWCASE_ENV", "development")
    assert get_settings().encryption_keys() == [DEV_SECRET_KEY]
    monkeypatch.setenv("FLOWCASE_ENV", "test")
    with pytest.raises(ConfigError):
        get_settings().encryption_keys()


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("FLOWCASE_LICENCE_POLICY", "sometimes", "FLOWCASE_LICENCE_POLICY"),
        ("FLOWCASE_ENV", "staging", "FLOWCASE_ENV"),
        ("FLOWCASE_BASE_URL", "flowcase.example.com", "FLOWCASE_BASE_URL"),
        ("FLOWCASE_APP_KEY", "has spaces", "FLOWCASE_APP_KEY"),
        ("FLOWCASE_JWT_LEEWAY_SECONDS", "9999", "FLOWCASE_JWT_LEEWAY_SECONDS"),
    ],
)
def test_invalid_values_give_one_line(monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as exc:
        get_settings()
    assert message in str(exc.value) and "\n" not in str(exc.value)


def test_settings_are_frozen() -> None:
    s = Settings()
    with pytest.raises(ValueError):
        s.base_url = "https://x"  # type: ignore[misc]


def test_procfile_and_app_json_run_a_worker_beside_the_web_processes() -> None:
    import json
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    procfile = dict(line.split(": ", 1) for line in (root / "Procfile").read_text().splitlines() if line.strip())
    assert procfile["worker"] == "flowcase worker"
    assert "--loop uvloop --http httptools" in procfile["web"]
    formation = json.loads((root / "app.json").read_text())["formation"]
    assert formation["worker"]["quantity"] >= 1 and formation["web"]["quantity"] >= 1
