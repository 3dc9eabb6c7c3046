"""Posts, their versions and media, reviews, publications and crisis pauses."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sixfold.db import Base, UTCDateTime, utcnow
from sixfold.org.models import Person


class PostStatus(StrEnum):
    DRAFT = "draft"
    IN_REVIEW = "in_review"
    # A reviewer rejected it with a comment; the author edits and submits again.
    CHANGES_REQUESTED = "changes_requested"
    # Approved (or needing no review); its publications are scheduled.
    SCHEDULED = "scheduled"
    PUBLISHED = "published"
    CANCELLED = "cancelled"


class PublishMode(StrEnum):
    NOW = "now"
    AT = "at"
    QUEUE = "queue"


class Post(Base):
    """One message, written once and sent to one or more channels."""

    __tablename__ = "posts"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    status: Mapped[str] = mapped_column(String(30), default=PostStatus.DRAFT, index=True)
    # Bumped by every saved change; an editor sends the version they started from, and a
    # mismatch is a conflict shown to them, never a silent overwrite.
    version: Mapped[int] = mapped_column(default=1)
    text: Mapped[str] = mapped_column(Text, default="")
    publish_mode: Mapped[str] = mapped_column(String(10), default=PublishMode.NOW)
    publish_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    risk_verdict: Mapped[str] = mapped_column(String(10), default="ok")
    risk_score: Mapped[float] = mapped_column(default=0.0)
    risk_findings: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # A leader let a blocked post go to review, and wrote down why.
    override_reason: Mapped[str | None] = mapped_column(Text)
    override_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    override_version: Mapped[int | None] = mapped_column()
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the current review round began: the last submission, or the last change of the
    # review workflow while the post waited. Approvals given before it do not count.
    review_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))

    author: Mapped[Person] = relationship(foreign_keys=[author_id])
    targets: Mapped[list[PostTarget]] = relationship(
        cascade="all, delete-orphan", order_by="PostTarget.channel_id"
    )
    media: Mapped[list[Media]] = relationship(order_by="Media.position")


class PostTarget(Base):
    """A channel the post goes to, with text written for that channel if it differs."""

    __tablename__ = "post_targets"

    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"), primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id"), primary_key=True)
    text: Mapped[str | None] = mapped_column(Text)


class PostVersion(Base):
    """A saved state of a post: what it said, for whom, with which media."""

    __tablename__ = "post_versions"
    __table_args__ = (UniqueConstraint("post_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"), index=True)
    number: Mapped[int] = mapped_column()
    text: Mapped[str] = mapped_column(Text)
    # {"<channel id>": "custom text" or null}
    targets: Mapped[dict[str, str | None]] = mapped_column(JSON, default=dict)
    media: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    editor_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    # "autosave", "save", "review_edit", "submit"
    reason: Mapped[str] = mapped_column(String(30), default="save")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    editor: Mapped[Person | None] = relationship()


class Media(Base):
    """An image attached to a post, with the alt text that describes it."""

    __tablename__ = "media"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id"), index=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    filename: Mapped[str] = mapped_column(String(300))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column()
    sha256: Mapped[str] = mapped_column(String(64))
    width: Mapped[int | None] = mapped_column()
    height: Mapped[int | None] = mapped_column()
    content: Mapped[bytes] = mapped_column(LargeBinary)
    alt_text: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReviewDecision(StrEnum):
    APPROVED = "approved"
    REJECTED = "rejected"
    EDITED = "edited"


class Review(Base):
    """One reviewer's decision on one version of a post at one step of the workflow.

    Approvals count only for the version they were given on: a changed text has a new
    version, so earlier approvals lapse by construction.
    """

    __tablename__ = "reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"), index=True)
    version: Mapped[int] = mapped_column()
    step: Mapped[int] = mapped_column()
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    decision: Mapped[str] = mapped_column(String(20))
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    reviewer: Mapped[Person] = relationship()


class PublishingPause(Base):
    """A crisis pause: organisation-wide (channel_id NULL) or for one channel."""

    __tablename__ = "publishing_pauses"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    channel_id: Mapped[int | None] = mapped_column(ForeignKey("channels.id"))
    reason: Mapped[str] = mapped_column(Text)
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)

    started_by: Mapped[Person | None] = relationship(foreign_keys=[started_by_id])


class PublishingSettings(Base):
    """How an organisation's posts are reviewed; one row per organisation."""

    __tablename__ = "publishing_settings"

    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), primary_key=True)
    # [{"name": "Mentor review", "mode": "any"|"all", "role": "community_mentor"} or
    #  {"name": ..., "mode": ..., "people": [person ids]}]
    review_steps: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # Risk verdicts that send a post to review whatever the author's standing.
    review_verdicts: Mapped[list[str]] = mapped_column(JSON, default=list)
    alt_text_required: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
