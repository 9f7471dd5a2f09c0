"""Tenant store: the installation records, keyed by Connect ``clientKey``.

Lifecycle events are applied idempotently and in issue-time order: an event older than the newest one already
applied is ignored, and at equal times ``uninstalled`` wins. Uninstalling erases the encrypted shared secret and
marks the row, so every later incoming or outgoing call for that site is refused; only a new signed install
brings it back.

Reads are cached in the process for ``cache_seconds`` (one row and its decrypted secret per site), so an
authenticated request costs at most one lookup and usually none. Every change (install, uninstall, enable,
disable, secret rotation) is announced with ``NOTIFY flowcase_installations`` in its own transaction; each process
LISTENs and drops the entry the moment the change commits. On PostgreSQL nothing is cached while that listener is
not connected; SQLite (one process: tests, development) invalidates in the process only.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session, sessionmaker

from flowcase.db.crypto import SecretBox
from flowcase.db.engine import session_factory
from flowcase.db.models import Installation, InstallationState
from flowcase.db.vendor import erase as erase_vendor_credentials
from flowcase.errors import AuthError


@dataclass(frozen=True, slots=True)
class InstallationData:
    """The install fields Atlassian sends (what the data statement says is stored)."""

    client_key: str
    app_key: str
    base_url: str
    shared_secret: str
    public_key: str | None = None
    server_version: str | None = None
    plugins_version: str | None = None
    display_url: str | None = None
    product_type: str | None = None
    oauth_client_id: str | None = None
    installation_id: str | None = None

    def __repr__(self) -> str:
        return f"InstallationData(client_key={self.client_key!r}, base_url={self.base_url!r})"


@dataclass(frozen=True, slots=True)
class InstallationView:
    """A stored installation without its secret."""

    client_key: str
    app_key: str
    base_url: str
    display_url: str | None
    product_type: str | None
    server_version: str | None
    plugins_version: str | None
    oauth_client_id: str | None
    installation_id: str | None
    state: InstallationState
    has_secret: bool
    created_at: datetime
    updated_at: datetime

    @property
    def active(self) -> bool:
        return self.state in (InstallationState.INSTALLED, InstallationState.ENABLED) and self.has_secret


log = logging.getLogger("flowcase.db.store")
CHANNEL = "flowcase_installations"


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _now() -> datetime:
    return datetime.now(UTC)


# what an install event says about the site, stored as sent and shown in a view (the secret and key are not shown)
_SITE_FIELDS = (
    "app_key",
    "base_url",
    "display_url",
    "product_type",
    "server_version",
    "plugins_version",
    "oauth_client_id",
    "installation_id",
)


def _view(row: Installation) -> InstallationView:
    return InstallationView(
        client_key=row.client_key,
        **{name: getattr(row, name) for name in _SITE_FIELDS},
        state=InstallationState(row.state),
        has_secret=row.shared_secret_encrypted is not None,
        created_at=_aware(row.created_at),
        updated_at=_aware(row.updated_at),
    )


class ReplayRefused(AuthError):
    """A lifecycle event signed at the same second as the last applied one but carrying something else.

    Atlassian's retries repeat an event byte for byte (a no-op); the same token with another body, or a second
    install within one second, is what a replayed, edited capture looks like, so it is refused.
    """


def _replay(row: Installation, event_at: datetime, digest: str | None) -> bool:
    """True when the event repeats the last applied one exactly; ReplayRefused when it differs at the same iat."""
    if event_at != _aware(row.last_event_at) or digest is None:
        return False
    if row.last_event_digest == digest:
        return True
    raise ReplayRefused("an install event with this issue time was already applied with another token or body")


def _stale(row: Installation, event_at: datetime, *, uninstall: bool) -> bool:
    last = _aware(row.last_event_at)
    if event_at < last:
        return True
    return event_at == last and row.state == InstallationState.UNINSTALLED and not uninstall


class InstallationStore:
    def __init__(self, engine: Engine, box: SecretBox, *, cache_seconds: float = 10.0) -> None:
        self._engine = engine
        self._sessions: sessionmaker[Session] = session_factory(engine)
        self._box = box
        self._postgres = engine.dialect.name == "postgresql"
        self.cache_seconds = cache_seconds
        self._cache: dict[str, tuple[float, InstallationView | None, str | None]] = {}
        self._lock = threading.Lock()
        self._generation = 0
        self._listening = False  # PostgreSQL: the NOTIFY listener is connected, so cached entries can be trusted
        self._listener: asyncio.Task[None] | None = None
        self._listener_loop: asyncio.AbstractEventLoop | None = None
        self.lookups = 0  # database reads of installations (tests and benchmarks count them)

    @property
    def engine(self) -> Engine:
        return self._engine

    @property
    def box(self) -> SecretBox:
        """The encryption of stored secrets (also used for the sites' vendor credentials)."""
        return self._box

    @contextmanager
    def _session(self) -> Iterator[Session]:
        with self._sessions.begin() as session:
            yield session

    # -- cache --------------------------------------------------------------------------------------------------

    def _cache_usable(self) -> bool:
        return self.cache_seconds > 0 and (self._listening or not self._postgres)

    def _cached(self, client_key: str) -> tuple[InstallationView | None, str | None] | None:
        if not self._cache_usable():
            return None
        with self._lock:
            entry = self._cache.get(client_key)
        if entry is None or time.monotonic() - entry[0] > self.cache_seconds:
            return None
        return entry[1], entry[2]

    def invalidate(self, client_key: str | None = None) -> None:
        """Drop one site's cached entry (or all of them); called on every change, here and on NOTIFY."""
        with self._lock:
            self._generation += 1
            if client_key is None:
                self._cache.clear()
            else:
                self._cache.pop(client_key, None)

    def _announce(self, session: Session, client_key: str | None) -> None:
        """Every process drops its entry when this transaction commits (NOTIFY is sent on commit)."""
        if self._postgres:
            session.execute(text("SELECT pg_notify(:channel, :key)"), {"channel": CHANNEL, "key": client_key or "*"})

    def _load(self, client_key: str) -> tuple[InstallationView | None, str | None]:
        """One read of the row (and its secret, decrypted), remembered unless a change came in meanwhile."""
        with self._lock:
            generation = self._generation
        with self._session() as session:
            self.lookups += 1
            row = session.get(Installation, client_key)
            view = _view(row) if row is not None else None
            token = row.shared_secret_encrypted if row is not None else None
        secret = self._box.decrypt(token) if token is not None else None
        if self._cache_usable():
            with self._lock:
                if generation == self._generation:
                    if len(self._cache) > 10_000:
                        self._cache.clear()
                    self._cache[client_key] = (time.monotonic(), view, secret)
        return view, secret

    def credentials(self, client_key: str) -> tuple[InstallationView | None, str | None]:
        """The installation and its decrypted secret (None when erased): cached, else one database read."""
        cached = self._cached(client_key)
        return cached if cached is not None else self._load(client_key)

    async def acredentials(self, client_key: str) -> tuple[InstallationView | None, str | None]:
        """:meth:`credentials` for the event loop: a cache hit costs no I/O, a miss one read in a thread."""
        self.start_listening()
        cached = self._cached(client_key)
        if cached is not None:
            return cached
        return await asyncio.to_thread(self._load, client_key)

    async def ashared_secret(self, client_key: str, allow_disabled: bool = False) -> str | None:
        view, secret = await self.acredentials(client_key)
        return _usable_secret(view, secret, allow_disabled)

    def start_listening(self) -> None:
        """Run the NOTIFY listener on the running loop (PostgreSQL; idempotent)."""
        if not self._postgres or self.cache_seconds <= 0:
            return
        loop = asyncio.get_running_loop()
        if self._listener is not None and self._listener_loop is loop and not self._listener.done():
            return
        self._listening = False
        self._listener_loop = loop
        self._listener = loop.create_task(self._listen(), name="installations-listener")

    async def stop_listening(self) -> None:
        task, self._listener = self._listener, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, RuntimeError):
                await task

    async def _listen(self) -> None:
        import psycopg

        conninfo = self._engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    self.invalidate()  # whatever changed while nobody listened
                    self._listening = True
                    async for note in conn.notifies():
                        self.invalidate(None if note.payload == "*" else note.payload)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning(
                    "installations listener lost its connection (%s); not caching meanwhile", type(exc).__name__
                )
            finally:
                self._listening = False
                self.invalidate()
            await asyncio.sleep(1.0)

    # -- reads ----------------------------------------------------------------------------------------------

    def get(self, client_key: str) -> InstallationView | None:
        return self.credentials(client_key)[0]

    def all(self) -> list[InstallationView]:
        with self._session() as session:
            return [_view(r) for r in session.scalars(select(Installation).order_by(Installation.client_key))]

    def shared_secret(self, client_key: str, allow_disabled: bool = False) -> str | None:
        """The decrypted secret of an installed site; None when unknown, uninstalled or (unless allowed) disabled."""
        view, secret = self.credentials(client_key)
        return _usable_secret(view, secret, allow_disabled)

    def installed(self, data: InstallationData, event_at: datetime, digest: str | None = None) -> bool:
        """Apply a verified ``installed`` event (creates or overwrites everything, secret included).

        Returns False when the event was older than the newest applied one, or repeats it exactly (same
        ``digest``), and was therefore ignored. With a ``digest``, an install must be strictly newer than the
        last applied event: another event at the same issue time raises :class:`ReplayRefused`.
        """
        event_at = _aware(event_at)
        now = _now()
        with self._session() as session:
            row = session.get(Installation, data.client_key, with_for_update=True)
            if row is None:
                row = Installation(client_key=data.client_key, created_at=now, state=InstallationState.INSTALLED)
                session.add(row)
            elif _replay(row, event_at, digest) or _stale(row, event_at, uninstall=False):
                return False
            for name in _SITE_FIELDS:
                setattr(row, name, getattr(data, name))
            row.public_key = data.public_key
            row.shared_secret_encrypted = self._box.encrypt(data.shared_secret)
            if row.state not in (InstallationState.ENABLED, InstallationState.DISABLED):
                row.state = InstallationState.INSTALLED
            row.updated_at = now
            row.last_event_at = event_at
            row.last_event_digest = digest
            self._announce(session, data.client_key)
        self.invalidate(data.client_key)
        return True

    def uninstalled(self, client_key: str, event_at: datetime, digest: str | None = None) -> bool:
        """Apply a verified ``uninstalled`` event: erase the secret, mark the row. False if unknown or stale."""
        event_at = _aware(event_at)
        with self._session() as session:
            row = session.get(Installation, client_key, with_for_update=True)
            if row is None or _stale(row, event_at, uninstall=True):
                return False
            row.state = InstallationState.UNINSTALLED
            row.shared_secret_encrypted = None
            erase_vendor_credentials(session, client_key)  # the site's Xray/Zephyr credentials go with it
            row.updated_at = _now()
            row.last_event_at = event_at
            row.last_event_digest = digest
            self._announce(session, client_key)
        self.invalidate(client_key)
        return True

    def set_enabled(self, client_key: str, enabled: bool, event_at: datetime) -> bool:
        """Apply a verified ``enabled``/``disabled`` event; ignored for uninstalled sites and stale events."""
        event_at = _aware(event_at)
        with self._session() as session:
            row = session.get(Installation, client_key, with_for_update=True)
            if row is None or row.state == InstallationState.UNINSTALLED or _stale(row, event_at, uninstall=False):
                return False
            row.state = InstallationState.ENABLED if enabled else InstallationState.DISABLED
            row.updated_at = _now()
            row.last_event_at = event_at
            self._announce(session, client_key)
        self.invalidate(client_key)
        return True

    def rotate_secrets(self) -> int:
        """Re-encrypt every stored secret with the current key; returns how many changed."""
        changed = 0
        with self._session() as session:
            rows = session.scalars(
                select(Installation).where(Installation.shared_secret_encrypted.is_not(None)).with_for_update()
            )
            for row in rows:
                token = row.shared_secret_encrypted
                if token is None or self._box.is_current(token):
                    continue
                row.shared_secret_encrypted = self._box.rotate(token)
                changed += 1
            self._announce(session, None)
        self.invalidate()
        return changed


def _usable_secret(view: InstallationView | None, secret: str | None, allow_disabled: bool) -> str | None:
    if view is None or secret is None or view.state == InstallationState.UNINSTALLED:
        return None
    if view.state == InstallationState.DISABLED and not allow_disabled:
        return None
    return secret
