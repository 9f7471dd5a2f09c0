"""Per-site credentials of the test-management apps (Xray Cloud client id and secret, Zephyr Scale API token),
each value Fernet-encrypted with the installation secrets' keys; one row per site (tenant key), erased on uninstall.

Revision ID: 0007_vendor_credentials
Revises: 0006_job_queue
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_vendor_credentials"
down_revision = "0006_job_queue"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "vendor_credentials",
        sa.Column("site_id", sa.String(255), primary_key=True),
        sa.Column("xray_client_id_encrypted", sa.Text(), nullable=True),
        sa.Column("xray_client_secret_encrypted", sa.Text(), nullable=True),
        sa.Column("zephyr_token_encrypted", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("vendor_credentials")
