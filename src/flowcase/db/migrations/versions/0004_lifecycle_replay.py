"""Installations: digest of the newest lifecycle event applied (replay detection).

Placeholder written by issue 15 so that its migrations can be tested on top of it; the engineer of
issue 14/lifecycle owns this revision and the lead reconciles the two files.

Revision ID: 0004_lifecycle_replay
Revises: 0003_forge_installations
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_lifecycle_replay"
down_revision = "0003_forge_installations"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("installations") as batch:
        batch.add_column(sa.Column("last_event_digest", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("installations") as batch:
        batch.drop_column("last_event_digest")
