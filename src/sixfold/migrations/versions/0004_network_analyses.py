"""Network analyses: durable analysis jobs with their reports, and their uploaded sources.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 01:44:53.872231
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import sixfold.db

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "network_analyses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("requested_from", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("created_at", sixfold.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sixfold.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("chart", sa.JSON(), nullable=False),
        sa.Column("interactions", sa.LargeBinary(), nullable=True),
        sa.Column("interaction_count", sa.Integer(), nullable=False),
        sa.Column("problems", sa.JSON(), nullable=False),
        sa.Column("problem_count", sa.Integer(), nullable=False),
        sa.Column("rejection", sa.Text(), nullable=True),
        sa.Column("report", sa.JSON(), nullable=True),
        sa.Column("ties", sa.LargeBinary(), nullable=True),
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
            name=op.f("fk_network_analyses_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"],
            ["people.id"],
            name=op.f("fk_network_analyses_requested_by_id_people"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_network_analyses")),
    )
    with op.batch_alter_table("network_analyses", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_network_analyses_next_attempt_at"), ["next_attempt_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_network_analyses_organisation_id"), ["organisation_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_network_analyses_state"), ["state"], unique=False)

    op.create_table(
        "network_sources",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("analysis_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("filename", sa.String(length=300), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=True),
        sa.Column("interactions", sa.Integer(), nullable=True),
        sa.Column("created_at", sixfold.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["analysis_id"],
            ["network_analyses.id"],
            name=op.f("fk_network_sources_analysis_id_network_analyses"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_network_sources")),
    )
    with op.batch_alter_table("network_sources", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_network_sources_analysis_id"), ["analysis_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("network_sources", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_network_sources_analysis_id"))

    op.drop_table("network_sources")
    with op.batch_alter_table("network_analyses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_network_analyses_state"))
        batch_op.drop_index(batch_op.f("ix_network_analyses_organisation_id"))
        batch_op.drop_index(batch_op.f("ix_network_analyses_next_attempt_at"))

    op.drop_table("network_analyses")
