"""The job queue: procrastinate's schema (PostgreSQL only), and the queue job id on each publish job.

procrastinate's schema of the pinned version (pyproject.toml) is created from its ``schema.sql``, which equals its
migration files applied up to :data:`THROUGH`; the migration refuses to run with another version installed.
Upgrading procrastinate to a version with new SQL files means one more Alembic revision applying the files after
:data:`THROUGH` (enum changes inside ``op.get_context().autocommit_block()``). On SQLite (tests, development
without PostgreSQL) there is no queue: publishing then runs in the web process (docs/jira.md).

Revision ID: 0006_job_queue
Revises: 0005_job_indexes
"""

from __future__ import annotations

from importlib import resources

import sqlalchemy as sa
from alembic import op

revision = "0006_job_queue"
down_revision = "0005_job_indexes"
branch_labels = None
depends_on = None

THROUGH = "03.04.00_50_post_add_retry_failed_job_procedure.sql"  # procrastinate 3.10


def _procrastinate_schema() -> str:
    sql = resources.files("procrastinate") / "sql"
    names = sorted(entry.name for entry in (sql / "migrations").iterdir() if entry.name.endswith(".sql"))
    if not names or names[-1] != THROUGH:
        raise RuntimeError(
            f"procrastinate's schema is not the one of {THROUGH}: install the version pinned in "
            "pyproject.toml, or add a migration for the new version"
        )
    return (sql / "schema.sql").read_text(encoding="utf-8")


def upgrade() -> None:
    with op.batch_alter_table("publish_jobs") as batch:
        batch.add_column(sa.Column("queue_job_id", sa.BigInteger(), nullable=True))
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(sa.text(_procrastinate_schema().replace(":", r"\:")))


DROP_PROCRASTINATE = """
DROP TABLE IF EXISTS procrastinate_events, procrastinate_periodic_defers, procrastinate_jobs,
    procrastinate_workers CASCADE;
DO $$
DECLARE f record;
BEGIN
    FOR f IN SELECT p.oid::regprocedure AS sig FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
             WHERE n.nspname = current_schema() AND p.proname LIKE 'procrastinate\\_%' LOOP
        EXECUTE 'DROP FUNCTION IF EXISTS ' || f.sig || ' CASCADE';
    END LOOP;
END $$;
DROP TYPE IF EXISTS procrastinate_job_to_defer_v1, procrastinate_job_status, procrastinate_job_event_type CASCADE;
"""


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(sa.text(DROP_PROCRASTINATE.replace(":", r"\:")))
    with op.batch_alter_table("publish_jobs") as batch:
        batch.drop_column("queue_job_id")
