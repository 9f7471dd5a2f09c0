"""Forge installations: installation id, cloud id, API base URL, state (no tokens, no customer text).

Revision ID: 0003_forge_installations
Revises: 0002_jobs
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_forge_installations"
down_revision = "0002_jobs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "forge_installations",
        sa.Column("installation_id", sa.String(255), primary_key=True),
        sa.Column("cloud_id", sa.String(255), nullable=True),
        sa.Column("base_url", sa.String(255), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("forge_installations")
