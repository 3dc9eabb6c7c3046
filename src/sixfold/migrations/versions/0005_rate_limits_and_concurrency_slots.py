"""Rate limits in force and concurrency slots, shared by every worker (channels/throttle.py).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import sixfold.db

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rate_limits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=120), nullable=False),
        sa.Column("until", sixfold.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("updated_at", sixfold.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rate_limits")),
        sa.UniqueConstraint("scope", name=op.f("uq_rate_limits_scope")),
    )
    op.create_table(
        "concurrency_slots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=120), nullable=False),
        sa.Column("slot", sa.Integer(), nullable=False),
        sa.Column("holder", sa.String(length=250), nullable=True),
        sa.Column("expires_at", sixfold.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_concurrency_slots")),
        sa.UniqueConstraint("scope", "slot", name=op.f("uq_concurrency_slots_scope_slot")),
    )


def downgrade() -> None:
    op.drop_table("concurrency_slots")
    op.drop_table("rate_limits")
