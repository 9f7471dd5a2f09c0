"""Per-site credentials of the test-management apps: what a site's admin entered on the admin page.

One row per site (tenant key: Connect client key, Forge installation id, ``standalone:<url>``), every value
encrypted with the installation secrets' keys (:class:`flowcase.db.crypto.SecretBox`, rotated by ``flowcase db
rotate-secrets``). A value is read back only to call the vendor for that very site; the admin page and the API
answer "set" or "not set", never the value. Uninstalling the app erases the row (:meth:`erase`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session, sessionmaker

from flowcase.db.crypto import SecretBox
from flowcase.db.engine import session_factory
from flowcase.db.models import VendorCredential

Vendor = Literal["xray", "zephyr"]
VENDORS: tuple[Vendor, ...] = ("xray", "zephyr")
_COLUMNS = ("xray_client_id_encrypted", "xray_client_secret_encrypted", "zephyr_token_encrypted")


@dataclass(frozen=True, slots=True)
class SiteCredentials:
    """One site's decrypted credentials ("" where not set). ``repr`` hides them."""

    xray_client_id: str = ""
    xray_client_secret: str = ""
    zephyr_token: str = ""

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={'set' if v else 'not set'}" for k, v in self.status().items())
        return f"SiteCredentials({shown})"

    @property
    def xray(self) -> bool:
        return bool(self.xray_client_id and self.xray_client_secret)

    @property
    def zephyr(self) -> bool:
        return bool(self.zephyr_token)

    def status(self) -> dict[str, bool]:
        """What the admin page shows: which vendor has credentials, never the values."""
        return {"xray": self.xray, "zephyr": self.zephyr}


class VendorCredentialStore:
    def __init__(self, engine: Engine, box: SecretBox, *, owns_engine: bool = False) -> None:
        self._sessions: sessionmaker[Session] = session_factory(engine)
        self._box = box
        self._engine = engine if owns_engine else None

    def close(self) -> None:
        """Dispose the engine's pooled connections when this store made it (a standalone app's own database)."""
        if self._engine is not None:
            self._engine.dispose()

    @contextmanager
    def _session(self) -> Iterator[Session]:
        with self._sessions.begin() as session:
            yield session

    def _open(self, token: str | None) -> str:
        return self._box.decrypt(token) if token else ""

    def get(self, site_id: str) -> SiteCredentials:
        """``site_id``'s credentials, decrypted (empty when none): for calling the vendors for that site only."""
        with self._session() as session:
            row = session.get(VendorCredential, site_id)
            if row is None:
                return SiteCredentials()
            tokens = (row.xray_client_id_encrypted, row.xray_client_secret_encrypted, row.zephyr_token_encrypted)
        client_id, secret, zephyr = (self._open(t) for t in tokens)
        return SiteCredentials(client_id, secret, zephyr)

    def _row(self, session: Session, site_id: str) -> VendorCredential:
        row = session.get(VendorCredential, site_id, with_for_update=True)
        if row is None:
            row = VendorCredential(site_id=site_id, updated_at=datetime.now(UTC))
            session.add(row)
        return row

    def set_xray(self, site_id: str, client_id: str, client_secret: str) -> None:
        with self._session() as session:
            row = self._row(session, site_id)
            row.xray_client_id_encrypted = self._box.encrypt(client_id)
            row.xray_client_secret_encrypted = self._box.encrypt(client_secret)
            row.updated_at = datetime.now(UTC)

    def set_zephyr(self, site_id: str, token: str) -> None:
        with self._session() as session:
            row = self._row(session, site_id)
            row.zephyr_token_encrypted = self._box.encrypt(token)
            row.updated_at = datetime.now(UTC)

    def remove(self, site_id: str, vendor: Vendor) -> None:
        """Forget one vendor's credentials of ``site_id`` (the row goes when nothing is left)."""
        with self._session() as session:
            row = session.get(VendorCredential, site_id, with_for_update=True)
            if row is None:
                return
            if vendor == "xray":
                row.xray_client_id_encrypted = row.xray_client_secret_encrypted = None
            else:
                row.zephyr_token_encrypted = None
            row.updated_at = datetime.now(UTC)
            if not any(getattr(row, c) for c in _COLUMNS):
                session.delete(row)

    def rotate(self) -> int:
        """Re-encrypt every stored value with the current key; returns how many changed."""
        changed = 0
        with self._session() as session:
            for row in session.scalars(select(VendorCredential).with_for_update()):
                for column in _COLUMNS:
                    token = getattr(row, column)
                    if token and not self._box.is_current(token):
                        setattr(row, column, self._box.rotate(token))
                        changed += 1
        return changed


def erase(session: Session, site_id: str) -> None:
    """Erase ``site_id``'s vendor credentials in ``session``'s transaction (the app was uninstalled there)."""
    session.execute(delete(VendorCredential).where(VendorCredential.site_id == site_id))


__all__ = ["VENDORS", "SiteCredentials", "Vendor", "VendorCredentialStore", "erase"]
