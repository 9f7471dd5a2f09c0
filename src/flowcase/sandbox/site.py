"""The sandbox site: configuration, database, signing keys, users and the run-time knobs (faults, call log)."""

from __future__ import annotations

import json
import secrets
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import Engine, inspect, select
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool
from starlette.requests import Request

from flowcase.db.engine import make_engine
from flowcase.errors import ConfigError
from flowcase.sandbox.faults import CallLog, FaultRegistry
from flowcase.sandbox.index import SearchIndex
from flowcase.sandbox.models import Installation, Meta, SandboxBase
from flowcase.sandbox.vendor_state import XrayState, ZephyrState

DEFAULT_BASE_URL = "http://127.0.0.1:8900"


@dataclass(frozen=True, slots=True)
class User:
    account_id: str
    email: str
    display_name: str
    permissions: frozenset[str]


ALL_PERMISSIONS = frozenset(
    {
        "BROWSE_PROJECTS",
        "CREATE_ISSUES",
        "EDIT_ISSUES",
        "LINK_ISSUES",
        "CREATE_ATTACHMENTS",
        "DELETE_ISSUES",
        "DELETE_OWN_ATTACHMENTS",
        "DELETE_ALL_ATTACHMENTS",
        "ADD_COMMENTS",
        "ADMINISTER_PROJECTS",
        "ADMINISTER",
        "ASSIGN_ISSUES",
        "TRANSITION_ISSUES",
        "SCHEDULE_ISSUES",
        "RESOLVE_ISSUES",
        "ASSIGNABLE_USER",
        "WORK_ON_ISSUES",
        "MANAGE_WATCHERS",
        "VIEW_VOTERS_AND_WATCHERS",
    }
)
GLOBAL_PERMISSIONS = frozenset({"ADMINISTER", "SYSTEM_ADMIN", "CREATE_SHARED_OBJECTS", "BULK_CHANGE", "USER_PICKER"})

DEMO_USER = User("557058:5a1d0c3e-0b7e-4c51-9d43-5a7d0e5c0001", "demo@example.com", "Demo User", ALL_PERMISSIONS)
VIEWER_USER = User(
    "557058:5a1d0c3e-0b7e-4c51-9d43-5a7d0e5c0002",
    "viewer@example.com",
    "Read-only Viewer",
    frozenset({"BROWSE_PROJECTS"}),
)
# Can create, edit and link issues but administers nothing (no "Test" issue type setup, no silent edits).
TESTER_USER = User(
    "557058:5a1d0c3e-0b7e-4c51-9d43-5a7d0e5c0003",
    "tester@example.com",
    "Tester (no admin)",
    ALL_PERMISSIONS - {"ADMINISTER", "ADMINISTER_PROJECTS"},
)
USERS = {u.account_id: u for u in (DEMO_USER, VIEWER_USER, TESTER_USER)}


@dataclass(slots=True)
class SandboxConfig:
    """How to run a sandbox. Tokens left empty are generated (and shown by the CLI, never logged)."""

    base_url: str = DEFAULT_BASE_URL
    database_url: str = "sqlite://"
    api_token: str = ""
    admin_token: str = ""
    user_email: str = DEMO_USER.email
    max_links_per_issue: int = 500
    max_attachment_bytes: int = 10 * 1024 * 1024
    max_token_lifetime: int = 3600
    jwt_leeway: int = 30
    demo_data: bool = False
    # The ``lic`` parameter on iframe URLs of apps with enableLicensing: "active" or "none" (to test licence checks).
    licence: str = "active"
    # Seconds before a created or changed issue shows up in JQL search results (Jira's search is eventually
    # consistent); ``reconcileIssues`` ids are always current. Also settable at run time (``/_sandbox/index``).
    index_lag: float = 0.0
    # The test-management stand-ins (docs/sandbox.md): Zephyr Scale's API access token, Xray's API key.
    zephyr_token: str = ""
    xray_client_id: str = ""
    xray_client_secret: str = ""

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")
        if not self.api_token:
            self.api_token = secrets.token_urlsafe(24)
        if not self.zephyr_token:
            self.zephyr_token = secrets.token_urlsafe(24)
        if not self.xray_client_id:
            self.xray_client_id = secrets.token_hex(16).upper()
        if not self.xray_client_secret:
            self.xray_client_secret = secrets.token_hex(32)
        if not self.admin_token:
            self.admin_token = secrets.token_urlsafe(24)


@dataclass(slots=True)
class SigningKey:
    kid: str
    private_pem: bytes
    public_pem: bytes


def new_signing_key() -> SigningKey:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return SigningKey(f"sandbox/{uuid.uuid4().hex}", private_pem, public_pem)


def _check_schema(engine: Engine) -> None:
    """The sandbox has no migrations: a database an older sandbox wrote is refused with what to do, not with an
    SQL error at the first request that touches a missing column."""
    found = inspect(engine)
    for table in SandboxBase.metadata.sorted_tables:
        have = {c["name"] for c in found.get_columns(table.name)}
        missing = sorted(c.name for c in table.columns if c.name not in have)
        if missing:
            where = engine.url.render_as_string(hide_password=True)
            raise ConfigError(
                f"the sandbox database {where} was written by an older flowcase sandbox (table {table.name} lacks "
                f"{', '.join(missing)}); the sandbox has no migrations: move that file aside or delete it "
                "(or set FLOWCASE_SANDBOX_DATABASE_URL) and start again"
            )


def make_sandbox_engine(url: str) -> Engine:
    """The sandbox's engine: the app's engine construction (SQLite foreign keys on, the file's folder made), one
    shared connection for an in-memory database so that every session sees the same site."""
    if url in ("sqlite://", "sqlite:///:memory:"):
        return make_engine(url, poolclass=StaticPool)
    return make_engine(url)


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass(slots=True)
class Sandbox:
    """Everything one running sandbox site holds. Routes reach it as ``request.app.state.sandbox``."""

    config: SandboxConfig
    engine: Engine
    sessions: sessionmaker[Session]
    _signing_key: SigningKey | None = None
    faults: FaultRegistry = field(default_factory=FaultRegistry)
    # Issue time of the last lifecycle event sent: each new one is strictly later, as Atlassian's are.
    last_lifecycle_iat: int = 0
    calls: CallLog = field(default_factory=CallLog)
    page_secret: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    lock: threading.RLock = field(default_factory=threading.RLock)
    index: SearchIndex = field(default_factory=SearchIndex)
    zephyr: ZephyrState = field(default_factory=ZephyrState)
    xray: XrayState = field(default_factory=XrayState)

    @classmethod
    def open(cls, config: SandboxConfig) -> Sandbox:
        from flowcase.sandbox.catalog import seed

        engine = make_sandbox_engine(config.database_url)
        SandboxBase.metadata.create_all(engine)
        _check_schema(engine)
        sandbox = cls(config=config, engine=engine, sessions=sessionmaker(engine, expire_on_commit=False))
        sandbox.index.lag = config.index_lag
        with sandbox.session() as s:
            seed(s)
        return sandbox

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self.lock, self.sessions() as session, session.begin():
            yield session

    @property
    def signing_key(self) -> SigningKey:
        """The RS256 key pair that signs installs (made on first use; a new ``kid`` per sandbox process)."""
        with self.lock:
            if self._signing_key is None:
                self._signing_key = new_signing_key()
            return self._signing_key

    @property
    def base_url(self) -> str:
        return self.config.base_url

    @property
    def client_key(self) -> str:
        """The site's tenant id (stable for one database, like a Jira Cloud site's clientKey)."""
        with self.session() as s:
            row = s.get(Meta, "client_key")
            if row is None:
                row = Meta(key="client_key", value=str(uuid.uuid4()))
                s.add(row)
            return row.value

    def installation(self, app_key: str) -> Installation | None:
        with self.session() as s:
            return s.get(Installation, app_key)

    def installations(self) -> list[Installation]:
        with self.session() as s:
            return list(s.scalars(select(Installation).order_by(Installation.app_key)))

    def descriptors(self) -> list[dict[str, Any]]:
        return [json.loads(i.descriptor) for i in self.installations()]

    def user_for_email(self, email: str) -> User | None:
        return next((u for u in USERS.values() if u.email == email), None)


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated REST caller. Apps act as their own app user; scopes limit what they may do."""

    user: User
    app_key: str | None = None
    scopes: frozenset[str] = frozenset()

    @property
    def is_app(self) -> bool:
        return self.app_key is not None

    def allows(self, scope: str) -> bool:
        return not self.is_app or scope == "NONE" or scope in self.scopes


def sandbox_of(request: Request) -> Sandbox:
    """The sandbox serving this request (every sandbox route's app has one in its state)."""
    sandbox: Sandbox = request.app.state.sandbox
    return sandbox
