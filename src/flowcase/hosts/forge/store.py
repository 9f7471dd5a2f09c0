"""Forge installations: installation id, cloud id, API base URL and state only (no tokens, no customer content).

Rows come from the Forge ``installed``/``upgraded`` lifecycle events (FIT-verified) and are marked on
``uninstalled``; invocations from an installation without an active row are refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import DateTime, Engine, String
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from flowcase.db.engine import Base, session_factory
from flowcase.db.vendor import erase as erase_vendor_credentials


class ForgeInstallation(Base):
    __tablename__ = "forge_installations"

    installation_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    cloud_id: Mapped[str | None] = mapped_column(String(255))
    base_url: Mapped[str] = mapped_column(String(255))
    state: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


@dataclass(frozen=True, slots=True)
class ForgeInstallationView:
    installation_id: str
    cloud_id: str | None
    base_url: str
    active: bool


class ForgeStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions: sessionmaker[Session] = session_factory(engine)

    def get(self, installation_id: str) -> ForgeInstallationView | None:
        with self._sessions.begin() as session:
            row = session.get(ForgeInstallation, installation_id)
            if row is None:
                return None
            return ForgeInstallationView(row.installation_id, row.cloud_id, row.base_url, row.state == "installed")

    def installed(self, installation_id: str, cloud_id: str | None, base_url: str) -> None:
        now = datetime.now(UTC)
        with self._sessions.begin() as session:
            row = session.get(ForgeInstallation, installation_id)
            if row is None:
                session.add(
                    ForgeInstallation(
                        installation_id=installation_id,
                        cloud_id=cloud_id,
                        base_url=base_url,
                        state="installed",
                        created_at=now,
                        updated_at=now,
                    )
                )
                return
            row.cloud_id, row.base_url, row.state, row.updated_at = cloud_id, base_url, "installed", now

    def uninstalled(self, installation_id: str) -> None:
        with self._sessions.begin() as session:
            row = session.get(ForgeInstallation, installation_id)
            if row is not None:
                row.state, row.updated_at = "uninstalled", datetime.now(UTC)
            erase_vendor_credentials(session, installation_id)  # the site's Xray/Zephyr credentials go with it
