"""Org-chart import jobs (durable state machine rows).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 00:05:10.950149
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import sixfold.db

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "org_import_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("requested_from", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=300), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=True),
        sa.Column("skip_invalid", sa.Boolean(), nullable=False),
        sa.Column("created_at", sixfold.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sixfold.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("errors", sa.JSON(), nullable=False),
        sa.Column("state_changed_at", sixfold.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", sixfold.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("locked_until", sixfold.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("locked_by", sa.String(length=200), nullable=True),
        sa.Column("state", sa.String(length=64), nullable=False),
        sa.Column("progress_done", sa.Integer(), nullable=False),
        sa.Column("progress_total", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_org_import_jobs_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"],
            ["people.id"],
            name=op.f("fk_org_import_jobs_requested_by_id_people"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_org_import_jobs")),
    )
    with op.batch_alter_table("org_import_jobs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_org_import_jobs_next_attempt_at"), ["next_attempt_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_org_import_jobs_organisation_id"), ["organisation_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_org_import_jobs_state"), ["state"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("org_import_jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_org_import_jobs_state"))
        batch_op.drop_index(batch_op.f("ix_org_import_jobs_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_org_import_jobs_next_attempt_at"))

    op.drop_table("org_import_jobs")
