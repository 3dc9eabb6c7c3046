"""Notifications that can be settled: a topic, when it was settled, the e-mail that repeats it.

Review requests written before this revision get their topic from their link, and those
whose post is no longer in review are settled at once: they asked for a review that had
already been decided, and counted as unread for ever.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import sixfold.db

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

notifications = sa.table(
    "notifications",
    sa.column("id", sa.Integer()),
    sa.column("kind", sa.String()),
    sa.column("link", sa.String()),
    sa.column("topic", sa.String()),
    sa.column("read_at", sixfold.db.UTCDateTime(timezone=True)),
    sa.column("resolved_at", sixfold.db.UTCDateTime(timezone=True)),
)
posts = sa.table("posts", sa.column("id", sa.Integer()), sa.column("status", sa.String()))
POST_LINK = "/posts/"


def upgrade() -> None:
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("topic", sa.String(length=100), nullable=True))
        batch_op.add_column(
            sa.Column("resolved_at", sixfold.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.create_index(batch_op.f("ix_notifications_topic"), ["topic"], unique=False)
    with op.batch_alter_table("email_outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("notification_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_email_outbox_notification_id"), ["notification_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_email_outbox_notification_id_notifications"),
            "notifications",
            ["notification_id"],
            ["id"],
        )
    _settle_old_review_requests()


def _settle_old_review_requests() -> None:
    connection = op.get_bind()
    in_review = set(connection.scalars(sa.select(posts.c.id).where(posts.c.status == "in_review")))
    rows = connection.execute(
        sa.select(notifications.c.id, notifications.c.link, notifications.c.read_at).where(
            notifications.c.kind == "review_requested"
        )
    ).all()
    now = sixfold.db.utcnow()
    still_open, settled = [], []
    for row in rows:
        post_id = row.link.removeprefix(POST_LINK)
        # ASCII digits only: "²".isdigit() holds, yet int("²") raises.
        if not (row.link.startswith(POST_LINK) and post_id.isascii() and post_id.isdigit()):
            continue
        values = {"row_id": row.id, "new_topic": f"post:{post_id}:review"}
        if int(post_id) in in_review:
            still_open.append(values)
        else:
            settled.append(values | {"new_read_at": row.read_at or now})
    by_id = notifications.update().where(notifications.c.id == sa.bindparam("row_id"))
    if still_open:
        connection.execute(by_id.values(topic=sa.bindparam("new_topic")), still_open)
    if settled:
        connection.execute(
            by_id.values(
                topic=sa.bindparam("new_topic"),
                read_at=sa.bindparam("new_read_at", type_=sixfold.db.UTCDateTime()),
                resolved_at=now,
            ),
            settled,
        )


def downgrade() -> None:
    with op.batch_alter_table("email_outbox", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_email_outbox_notification_id_notifications"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_email_outbox_notification_id"))
        batch_op.drop_column("notification_id")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notifications_topic"))
        batch_op.drop_column("resolved_at")
        batch_op.drop_column("topic")
