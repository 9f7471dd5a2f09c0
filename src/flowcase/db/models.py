"""The installation record: exactly what Atlassian sends on install (PRODUCT.md commitment 1), plus state.

The shared secret is stored only encrypted (:mod:`flowcase.db.crypto`) and is erased on uninstall.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import DateTime, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from flowcase.db.engine import Base


class InstallationState(enum.StrEnum):
    INSTALLED = "installed"
    ENABLED = "enabled"
    DISABLED = "disabled"
    UNINSTALLED = "uninstalled"


class Installation(Base):
    __tablename__ = "installations"

    client_key: Mapped[str] = mapped_column(String(255), primary_key=True)
    app_key: Mapped[str] = mapped_column(String(80))
    public_key: Mapped[str | None] = mapped_column(Text)
    shared_secret_encrypted: Mapped[str | None] = mapped_column(Text)
    server_version: Mapped[str | None] = mapped_column(String(64))
    plugins_version: Mapped[str | None] = mapped_column(String(64))
    base_url: Mapped[str] = mapped_column(String(255))
    display_url: Mapped[str | None] = mapped_column(String(255))
    product_type: Mapped[str | None] = mapped_column(String(32))
    oauth_client_id: Mapped[str | None] = mapped_column(String(255))
    installation_id: Mapped[str | None] = mapped_column(String(255))
    state: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Issue time of the newest lifecycle event applied (token iat): older events arriving late are ignored.
    last_event_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # sha256 of the newest applied lifecycle event (token and body): a retried delivery of exactly that event is a
    # no-op; anything else signed at the same second is refused. A hash only, never the token or the body.
    last_event_digest: Mapped[str | None] = mapped_column(String(64))

    def __repr__(self) -> str:  # never shows the secret
        return f"Installation(client_key={self.client_key!r}, base_url={self.base_url!r}, state={self.state!r})"


class VendorCredential(Base):
    """One site's credentials for the test-management apps (Xray Cloud's API key, Zephyr Scale's API token), each
    value encrypted like the installation's shared secret (:mod:`flowcase.db.crypto`); erased on uninstall.

    ``site_id`` is the tenant key of the host that authenticated the admin: a Connect client key, a Forge
    installation id, or ``standalone:<url>``. Nothing here is customer content."""

    __tablename__ = "vendor_credentials"

    site_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    xray_client_id_encrypted: Mapped[str | None] = mapped_column(Text)
    xray_client_secret_encrypted: Mapped[str | None] = mapped_column(Text)
    zephyr_token_encrypted: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    def __repr__(self) -> str:  # never shows a credential
        return f"VendorCredential(site_id={self.site_id!r})"
