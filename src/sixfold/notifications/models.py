"""In-app notifications and the e-mail outbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sixfold.db import Base, UTCDateTime, utcnow
from sixfold.jobs import Retry, State, StateGraph, StateMachineMixin


class Notification(Base):
    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_person_unread", "person_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    # "review_requested", "post_approved", "post_rejected", "publish_failed", ...
    kind: Mapped[str] = mapped_column(String(50))
    message: Mapped[str] = mapped_column(Text)
    link: Mapped[str] = mapped_column(String(500), default="")
    # What the notice asks of its reader ("post:12:review"), so that it can be settled when
    # that no longer waits for them; None for notices that only inform.
    topic: Mapped[str | None] = mapped_column(String(100), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Settled: what it asked is done or no longer needed. Kept as history, read, shown done.
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class EmailState(StateGraph, initial="queued", failure="failed"):
    queued = State(
        to=["sent", "not_sent", "withdrawn"],
        retry=Retry(base_seconds=30, max_seconds=3600, max_attempts=8),
    )
    sent = State(terminal=True)
    # No SMTP server is configured: the in-app notification is all there is.
    not_sent = State(terminal=True)
    # What the mail asked was settled before it went out (a review decided by someone else).
    withdrawn = State(terminal=True)
    failed = State(terminal=True)


class EmailMessage(StateMachineMixin, Base):
    """An e-mail to send, written in the same transaction as what caused it (side effects
    after commit): a rolled-back approval sends no mail."""

    __tablename__ = "email_outbox"
    state_graph = EmailState

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    to_address: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(500))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The in-app notification this mail repeats; settling it withdraws the mail if unsent.
    notification_id: Mapped[int | None] = mapped_column(ForeignKey("notifications.id"), index=True)

    notification: Mapped[Notification | None] = relationship()

    def handle_queued(self, job: Any) -> str:
        from sixfold.notifications.mailer import send_email

        if self.notification is not None and self.notification.resolved_at is not None:
            # Settled while this row waited for a retry, or while a worker held it and the
            # settling transaction left it alone.
            return "withdrawn"
        settings = job.services.get("settings")
        if settings is None or not settings.smtp_host:
            return "not_sent"
        send_email(self, settings=settings)
        self.sent_at = utcnow()
        return "sent"
