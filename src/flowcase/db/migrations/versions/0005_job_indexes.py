"""Publish jobs: indexes for the hot queries, and at most one running publish per story in the database itself.

- ``ix_publish_jobs_story`` (site_id, story_key, state): "is this story being published?" and the worker's
  hand-over of a story (replaces ``ix_publish_jobs_site_id``, which it covers);
- ``ix_publish_jobs_due`` (state, run_after): the due-job lookup (replaces ``ix_publish_jobs_state``);
- ``ix_publish_jobs_finished`` (finished_at) WHERE state is done/failed: the purge of old jobs;
- ``uq_publish_jobs_running_story``: a partial UNIQUE index on (site_id, story_key) WHERE state = 'running', so
  two workers can never both mark a publish of one story as running, whatever the isolation level.

Revision ID: 0005_job_indexes
Revises: 0004_lifecycle_replay
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_job_indexes"
down_revision = "0004_lifecycle_replay"
branch_labels = None
depends_on = None

RUNNING = sa.text("state = 'running'")
FINISHED = sa.text("state IN ('done', 'failed')")


def upgrade() -> None:
    op.drop_index("ix_publish_jobs_site_id", table_name="publish_jobs")
    op.drop_index("ix_publish_jobs_state", table_name="publish_jobs")
    op.create_index("ix_publish_jobs_story", "publish_jobs", ["site_id", "story_key", "state"])
    op.create_index("ix_publish_jobs_due", "publish_jobs", ["state", "run_after"])
    op.create_index(
        "ix_publish_jobs_finished", "publish_jobs", ["finished_at"], postgresql_where=FINISHED, sqlite_where=FINISHED
    )
    op.create_index(
        "uq_publish_jobs_running_story",
        "publish_jobs",
        ["site_id", "story_key"],
        unique=True,
        postgresql_where=RUNNING,
        sqlite_where=RUNNING,
    )


def downgrade() -> None:
    op.drop_index("uq_publish_jobs_running_story", table_name="publish_jobs")
    op.drop_index("ix_publish_jobs_finished", table_name="publish_jobs")
    op.drop_index("ix_publish_jobs_due", table_name="publish_jobs")
    op.drop_index("ix_publish_jobs_story", table_name="publish_jobs")
    op.create_index("ix_publish_jobs_state", "publish_jobs", ["state"])
    op.create_index("ix_publish_jobs_site_id", "publish_jobs", ["site_id"])
