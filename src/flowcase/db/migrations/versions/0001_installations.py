"""Installations: the Connect install record (commitment 1), secret encrypted, plus state and timestamps.

Revision ID: 0001_installations
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_installations"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "installations",
        sa.Column("client_key", sa.String(255), primary_key=True),
        sa.Column("app_key", sa.String(80), nullable=False),
        sa.Column("public_key", sa.Text(), nullable=True),
        sa.Column("shared_secret_encrypted", sa.Text(), nullable=True),
        sa.Column("server_version", sa.String(64), nullable=True),
        sa.Column("plugins_version", sa.String(64), nullable=True),
        sa.Column("base_url", sa.String(255), nullable=False),
        sa.Column("display_url", sa.String(255), nullable=True),
        sa.Column("product_type", sa.String(32), nullable=True),
        sa.Column("oauth_client_id", sa.String(255), nullable=True),
        sa.Column("installation_id", sa.String(255), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_event_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("installations")
