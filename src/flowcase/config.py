"""Application settings, read only from environment variables (prefix ``FLOWCASE_``).

``DATABASE_URL`` (Heroku style) is accepted as well as ``FLOWCASE_DATABASE_URL``; ``postgres://`` URLs are
rewritten for the psycopg 3 driver. Secrets are held as :class:`pydantic.SecretStr` so that a settings object
never prints them. Other modules add their own fields here (one field, one comment).
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from flowcase.errors import ConfigError as ConfigError

Environment = Literal["production", "development", "test"]
LicencePolicy = Literal["off", "warn", "enforce"]

# A fixed Fernet key used ONLY when FLOWCASE_ENV=development (never in production or tests by default).
DEV_SECRET_KEY = "Zmxvd2Nhc2UtZGV2ZWxvcG1lbnQta2V5LTMyYnl0ZXM="  # noqa: S105 - public, development only


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FLOWCASE_", extra="ignore", frozen=True)

    env: Environment = "production"
    # Public URL of the app (the Connect descriptor's baseUrl; JWT aud of signed installs).
    base_url: str = "http://127.0.0.1:8800"
    # Connect app key: descriptor key and iss of outgoing JWTs.
    app_key: str = "flowcase"
    app_name: str = "flowcase"
    database_url: str = Field(
        default="sqlite:///./var/flowcase.db",
        repr=False,  # may hold a password
        validation_alias=AliasChoices("FLOWCASE_DATABASE_URL", "DATABASE_URL"),
    )
    # Encryption keys for secrets at rest (Fernet, comma-separated): first = current, the rest = old keys.
    secret_keys: Annotated[tuple[SecretStr, ...], NoDecode] = ()
    # Where signed-install public keys are fetched from: {connect_key_server}/{kid}.
    connect_key_server: str = "https://connect-install-keys.atlassian.com"
    # What to do when Jira says the licence is not active (``lic`` query parameter).
    licence_policy: LicencePolicy = "warn"
    # Clock skew accepted on incoming JWTs (seconds).
    jwt_leeway_seconds: int = Field(default=30, ge=0, le=300)
    # Forge Remote (docs/forge.md): the Forge app id (uuid or ari) enables the Forge host; FIT keys from here.
    forge_app_id: str | None = None
    forge_jwks_url: str = "https://forge.cdn.prod.atlassian-dev.net/.well-known/jwks.json"
    # Model saves hold a lease on the issue (docs/jira.md): the settle time must exceed one Jira read plus one
    # write under load; longer is safer, shorter saves faster.
    save_settle_seconds: float = Field(default=1.0, ge=0.05, le=30)
    # CPU-heavy requests (parse, validate, generate, export, import, diff) run in a pool of worker processes
    # (docs/operations.md, "Limits"): how many, how many one tenant may hold at once (0: all but one), the time
    # one request may take before its worker is killed, how long a request waits for a free worker, the memory
    # (address space) of one worker, and the largest model (nodes over all workflows) served interactively.
    compute_workers: int = Field(default=2, ge=1, le=64)
    compute_per_tenant: int = Field(default=0, ge=0, le=64)
    compute_timeout_seconds: float = Field(default=20.0, gt=0, le=600)
    compute_queue_seconds: float = Field(default=10.0, ge=0, le=300)
    compute_memory_mb: int = Field(default=2048, ge=0, le=1_048_576)
    interactive_max_nodes: int = Field(default=5000, ge=1, le=1_000_000)
    # Standalone (laptop) mode: serve the local editor host too (always on in development); the Jira site it
    # works on (all three, or none for local files only); the local access token (random at each start if unset).
    standalone: bool = False
    jira_url: str = ""
    jira_email: str = ""
    jira_token: SecretStr | None = None
    local_token: SecretStr | None = None
    # Publishing targets other than Jira issues (docs/targets.md): Zephyr Scale Cloud's API base URL and API token,
    # Xray Cloud's base URL and API key (client id and secret). One set per deployment (standalone, CLI, a site's
    # own hosting); unset, publishing to that target is refused with a clear message.
    zephyr_url: str = "https://api.zephyrscale.smartbear.com/v2"
    zephyr_token: SecretStr | None = None
    xray_url: str = "https://xray.cloud.getxray.app"
    xray_client_id: str = ""
    xray_client_secret: SecretStr | None = None
    # The one Jira site the Zephyr/Xray credentials above belong to (default: FLOWCASE_JIRA_URL). The app never
    # uses them for another site: a tenant's tests never reach another tenant's test tool.
    vendor_site_url: str = ""
    # The local sandbox Jira (flowcase sandbox/demo): its database and tokens (random at each start if unset).
    sandbox_database_url: str | None = Field(default=None, repr=False)
    sandbox_token: SecretStr | None = None
    sandbox_admin_token: SecretStr | None = None
    # Level of the app's log on stderr (the access log is INFO): DEBUG, INFO, WARNING, ERROR.
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # Production: Connect sites must be https hosts under one of these suffixes (comma-separated) ...
    tenant_host_suffixes: Annotated[tuple[str, ...], NoDecode] = (".atlassian.net", ".jira.com", ".jira-dev.com")
    # ... and a Forge apiBaseUrl one of these hosts (docs/operations.md).
    forge_api_hosts: Annotated[tuple[str, ...], NoDecode] = ("api.atlassian.com",)
    # A publish holds the story's lease (docs/jira.md), renewed while it runs: a publisher that died blocks the
    # story's publishing for at most this long.
    publish_lease_seconds: float = Field(default=60.0, ge=2, le=3600)
    # How long a process keeps an installation (and its secret) in memory; changes drop it at once everywhere
    # (NOTIFY, docs/operations.md). 0 turns the cache off: one database read per authenticated request.
    installations_cache_seconds: float = Field(default=10.0, ge=0, le=300)

    @field_validator("secret_keys", "tenant_host_suffixes", "forge_api_hosts", mode="before")
    @classmethod
    def _split_keys(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("tenant_host_suffixes")
    @classmethod
    def _dotted(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if any(not re.fullmatch(r"\.[a-z0-9-]+(\.[a-z0-9-]+)+", s.lower()) for s in value):
            raise ValueError("each suffix must look like .example.net")
        return tuple(s.lower() for s in value)

    @field_validator("database_url")
    @classmethod
    def _normalise_db_url(cls, value: str) -> str:
        for prefix in ("postgres://", "postgresql://"):
            if value.startswith(prefix):
                return "postgresql+psycopg://" + value[len(prefix) :]
        return value

    @field_validator("base_url", "connect_key_server", "zephyr_url", "xray_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        value = value.strip()
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL")
        return value.rstrip("/")

    @field_validator("app_key")
    @classmethod
    def _check_key(cls, value: str) -> str:
        if not re.fullmatch(r"[a-zA-Z0-9._-]{1,64}", value):
            raise ValueError("must be 1-64 characters of letters, digits, '.', '_' or '-'")
        return value

    @model_validator(mode="after")
    def _dev_key(self) -> Settings:
        if not self.secret_keys and self.env == "development":
            object.__setattr__(self, "secret_keys", (SecretStr(DEV_SECRET_KEY),))
        return self

    def encryption_keys(self) -> list[str]:
        """The raw encryption keys (current first); a clear error when none is configured."""
        if not self.secret_keys:
            raise ConfigError("FLOWCASE_SECRET_KEYS is not set (comma-separated Fernet keys, newest first)")
        return [key.get_secret_value() for key in self.secret_keys]


def get_settings(**overrides: object) -> Settings:
    """Settings from the current environment (``overrides`` win); invalid values raise :class:`ConfigError` with
    one line."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "settings"
        raise ConfigError(f"invalid configuration: FLOWCASE_{where.upper()}: {first['msg']}") from None
