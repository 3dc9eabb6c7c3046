"""When a post's review round began: its submission, or a later change of the workflow.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import sixfold.db

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("review_started_at", sixfold.db.UTCDateTime(timezone=True), nullable=True)
        )
    # Until now every round began with a submission.
    posts = sa.table(
        "posts",
        sa.column("submitted_at", sixfold.db.UTCDateTime(timezone=True)),
        sa.column("review_started_at", sixfold.db.UTCDateTime(timezone=True)),
    )
    op.execute(posts.update().values(review_started_at=posts.c.submitted_at))


def downgrade() -> None:
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.drop_column("review_started_at")
