"""The first schema: tokens, jobs with their stack results and event log, and tenant locks.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Frozen copies of the column sizes in tables.py at this revision (a migration never imports the
# models: they move on, the migration must not).
_ID = 64
_NAME = 200


def _when(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "tokens",
        sa.Column("token_id", sa.String(_ID), primary_key=True),
        sa.Column("salt", sa.String(_ID), nullable=False),
        sa.Column("secret_hash", sa.String(_ID * 2), nullable=False),
        sa.Column("scopes", sa.String(_NAME), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        _when("created_at", nullable=False),
        _when("expires_at"),
        _when("revoked_at"),
    )
    op.create_table(
        "jobs",
        sa.Column("job_id", sa.String(_ID), primary_key=True),
        sa.Column("request_id", sa.String(_ID), nullable=False),
        sa.Column("tenant", sa.String(_NAME), nullable=False),
        sa.Column("environment", sa.String(_NAME), nullable=True),
        sa.Column("kind", sa.String(_NAME), nullable=False),
        sa.Column("status", sa.String(_NAME), nullable=False),
        sa.Column("token_id", sa.String(_ID), nullable=False),
        sa.Column("change", sa.JSON(), nullable=False),
        _when("created_at", nullable=False),
        _when("started_at"),
        _when("finished_at"),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("last_event", sa.Integer(), nullable=False),
    )
    op.create_index("ix_jobs_request_id", "jobs", ["request_id"])
    op.create_index("ix_jobs_status", "jobs", ["status"])
    op.create_index("ix_jobs_tenant_created", "jobs", ["tenant", "created_at"])
    op.create_table(
        "stack_results",
        sa.Column("job_id", sa.String(_ID), sa.ForeignKey("jobs.job_id", ondelete="CASCADE"), primary_key=True),
        sa.Column("stack", sa.String(_NAME), primary_key=True),
        sa.Column("operation", sa.String(_NAME), primary_key=True),
        sa.Column("status", sa.String(_NAME), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        _when("finished_at", nullable=False),
    )
    op.create_table(
        "job_events",
        sa.Column("job_id", sa.String(_ID), sa.ForeignKey("jobs.job_id", ondelete="CASCADE"), primary_key=True),
        sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("kind", sa.String(_NAME), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        _when("created_at", nullable=False),
    )
    op.create_table(
        "tenant_locks",
        sa.Column("tenant", sa.String(_NAME), primary_key=True),
        sa.Column("request_id", sa.String(_ID), nullable=False),
        _when("created_at", nullable=False),
    )


def downgrade() -> None:
    for table in ("tenant_locks", "job_events", "stack_results", "jobs", "tokens"):
        op.drop_table(table)
