"""Tenant store: the installation records, keyed by Connect ``clientKey``.

Lifecycle events are applied idempotently and in issue-time order: an event older than the newest one already
applied is ignored, and at equal times ``uninstalled`` wins. Uninstalling erases the encrypted shared secret and
marks the row, so every later incoming or outgoing call for that site is refused; only a new signed install
brings it back.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from flowcase.db.crypto import SecretBox
from flowcase.db.engine import session_factory
from flowcase.db.models import Installation, InstallationState


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


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _now() -> datetime:
    return datetime.now(UTC)


def _view(row: Installation) -> InstallationView:
    return InstallationView(
        client_key=row.client_key,
        app_key=row.app_key,
        base_url=row.base_url,
        display_url=row.display_url,
        product_type=row.product_type,
        server_version=row.server_version,
        plugins_version=row.plugins_version,
        oauth_client_id=row.oauth_client_id,
        installation_id=row.installation_id,
        state=InstallationState(row.state),
        has_secret=row.shared_secret_encrypted is not None,
        created_at=_aware(row.created_at),
        updated_at=_aware(row.updated_at),
    )


class ReplayRefused(Exception):
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
    def __init__(self, engine: Engine, box: SecretBox) -> None:
        self._engine = engine
        self._sessions: sessionmaker[Session] = session_factory(engine)
        self._box = box

    @property
    def engine(self) -> Engine:
        return self._engine

    @contextmanager
    def _session(self) -> Iterator[Session]:
        with self._sessions.begin() as session:
            yield session

    def get(self, client_key: str) -> InstallationView | None:
        with self._session() as session:
            row = session.get(Installation, client_key)
            return _view(row) if row is not None else None

    def all(self) -> list[InstallationView]:
        with self._session() as session:
            return [_view(r) for r in session.scalars(select(Installation).order_by(Installation.client_key))]

    def shared_secret(self, client_key: str, allow_disabled: bool = False) -> str | None:
        """The decrypted secret of an installed site; None when unknown, uninstalled or (unless allowed) disabled."""
        with self._session() as session:
            row = session.get(Installation, client_key)
            if row is None or row.shared_secret_encrypted is None:
                return None
            if row.state == InstallationState.UNINSTALLED:
                return None
            if row.state == InstallationState.DISABLED and not allow_disabled:
                return None
            return self._box.decrypt(row.shared_secret_encrypted)

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
            row.app_key = data.app_key
            row.base_url = data.base_url
            row.public_key = data.public_key
            row.shared_secret_encrypted = self._box.encrypt(data.shared_secret)
            row.server_version = data.server_version
            row.plugins_version = data.plugins_version
            row.display_url = data.display_url
            row.product_type = data.product_type
            row.oauth_client_id = data.oauth_client_id
            row.installation_id = data.installation_id
            if row.state not in (InstallationState.ENABLED, InstallationState.DISABLED):
                row.state = InstallationState.INSTALLED
            row.updated_at = now
            row.last_event_at = event_at
            row.last_event_digest = digest
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
            row.updated_at = _now()
            row.last_event_at = event_at
            row.last_event_digest = digest
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
        return changed
