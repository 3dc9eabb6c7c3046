"""Channels (one account on one network) and the internal stream's posts."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, Session, mapped_column

from sixfold import audit
from sixfold.db import Base, UTCDateTime, utcnow


class ChannelStatus(StrEnum):
    ACTIVE = "active"
    # The network refused the credentials: nothing goes out until someone reconnects.
    RECONNECT_NEEDED = "reconnect_needed"
    DISABLED = "disabled"


class Channel(Base):
    __tablename__ = "channels"
    __table_args__ = (UniqueConstraint("organisation_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    # The connector's entry-point name: "internal", "bluesky", "mastodon", ...
    kind: Mapped[str] = mapped_column(String(50))
    name: Mapped[str] = mapped_column(String(200))
    handle: Mapped[str] = mapped_column(String(300), default="")
    status: Mapped[str] = mapped_column(String(30), default=ChannelStatus.ACTIVE)
    status_message: Mapped[str] = mapped_column(Text, default="")
    # Non-secret configuration (server URL, file path); secrets live in `credentials`.
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # JSON sealed with sixfold.crypto.SecretBox (AES-GCM, bound to the channel id).
    credentials: Mapped[str | None] = mapped_column(Text)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    # Weekly slots for "add to queue": [{"day": "mon", "time": "09:00"}, ...] in `timezone`.
    queue_slots: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    # Every post to this channel is reviewed, whoever writes it (a flagship brand account).
    requires_review: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class StreamPost(Base):
    """A post on an organisation's internal stream: the internal connector's "network"."""

    __tablename__ = "stream_posts"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id"), index=True)
    # Unique: a second publish with the same key finds the first post instead of adding one.
    idempotency_key: Mapped[str] = mapped_column(String(100), unique=True)
    text: Mapped[str] = mapped_column(Text)
    author_name: Mapped[str] = mapped_column(String(300), default="")
    media: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    link: Mapped[str | None] = mapped_column(String(2000))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RateLimit(Base):
    """A network's rate limit in force: nothing in its scope calls the network until `until`.

    `scope` is "account:<channel id>" (one account) or "network:<connector kind>" (every
    account this installation reaches the network through); see channels/throttle.py.
    """

    __tablename__ = "rate_limits"

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(120), unique=True)
    until: Mapped[datetime] = mapped_column(UTCDateTime)
    # The network's own words when it refused, for the people who wait.
    message: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ConcurrencySlot(Base):
    """One of the N places for a call in flight in a scope (see channels/throttle.py).

    Free when `holder` is NULL or its lease (`expires_at`) has run out: the slot of a worker
    killed during a call frees itself, as that worker's jobs do.
    """

    __tablename__ = "concurrency_slots"
    __table_args__ = (UniqueConstraint("scope", "slot"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(120))
    slot: Mapped[int] = mapped_column()
    holder: Mapped[str | None] = mapped_column(String(250))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


def record_event(
    session: Session, actor: audit.Actor, action: str, channel: Channel, details: dict[str, Any]
) -> None:
    """An audit entry about a channel, in the caller's transaction."""
    audit.record(
        session,
        actor,
        action,
        target_type="channel",
        target_id=channel.id,
        target=channel.name,
        details=details,
    )
