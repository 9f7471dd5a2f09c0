"""Publish jobs: ids, hashes, counts, lease and timestamps only (no customer text), plus the per-test journal.

Revision ID: 0002_jobs
Revises: 0001_installations
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_jobs"
down_revision = "0001_installations"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "publish_jobs",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("site_id", sa.String(255), nullable=False),
        sa.Column("story_key", sa.String(64), nullable=False),
        sa.Column("project_key", sa.String(32), nullable=False),
        sa.Column("model_revision", sa.Integer(), nullable=False),
        sa.Column("model_sha256", sa.String(64), nullable=False),
        sa.Column("suite_sha256", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("phase", sa.String(16), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("created", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("obsoleted", sa.Integer(), nullable=False),
        sa.Column("failed_count", sa.Integer(), nullable=False),
        sa.Column("create_calls", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_owner", sa.String(64), nullable=True),
        sa.Column("lease_expires", sa.DateTime(timezone=True), nullable=True),
        sa.Column("run_after", sa.DateTime(timezone=True), nullable=False),
        sa.Column("error_code", sa.String(32), nullable=True),
        sa.Column("error_status", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_publish_jobs_site_id", "publish_jobs", ["site_id"])
    op.create_index("ix_publish_jobs_state", "publish_jobs", ["state"])
    op.create_table(
        "publish_job_tests",
        sa.Column("job_id", sa.String(32), sa.ForeignKey("publish_jobs.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("test_id", sa.String(64), primary_key=True),
        sa.Column("test_hash", sa.String(64), nullable=True),
        sa.Column("issue_key", sa.String(64), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("publish_job_tests")
    op.drop_index("ix_publish_jobs_state", table_name="publish_jobs")
    op.drop_index("ix_publish_jobs_site_id", table_name="publish_jobs")
    op.drop_table("publish_jobs")
