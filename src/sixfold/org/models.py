"""Organisation, teams (a tree) and people with their reporting lines."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sixfold.db import Base, UTCDateTime, utcnow


class Organisation(Base):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    # Where the organisation's people read times (the calendar, scheduling) by default.
    timezone: Mapped[str] = mapped_column(String(64), default="UTC", server_default="UTC")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# How many levels a team path may have. Real organisations use a handful; a department
# hundreds of levels deep is a mistake in a file, and every page that walks the tree would
# carry it.
MAX_TEAM_DEPTH = 20


class Team(Base):
    """A department or team; `parent_id` makes the teams a tree."""

    __tablename__ = "teams"
    __table_args__ = (UniqueConstraint("organisation_id", "path"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    # The slash-joined names from the root, e.g. "Engineering/Platform": the natural key
    # that org-chart imports match on.
    path: Mapped[str] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    parent: Mapped[Team | None] = relationship(remote_side=[id])


class Person(Base):
    """A member of the organisation; people who may sign in also have a credential."""

    __tablename__ = "people"
    __table_args__ = (
        UniqueConstraint("organisation_id", "external_id"),
        UniqueConstraint("organisation_id", "email"),
        Index("ix_people_org_name", "organisation_id", "name"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    # The identifier from the HR system / org-chart CSV; stable across re-imports.
    external_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(300))
    email: Mapped[str] = mapped_column(String(320))
    title: Mapped[str] = mapped_column(String(300), default="")
    location: Mapped[str] = mapped_column(String(300), default="")
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), index=True)
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    is_active: Mapped[bool] = mapped_column(default=True)
    # Until the literacy programme certifies people, a person flag decides whether
    # their posts skip review.
    may_publish_without_review: Mapped[bool] = mapped_column(default=False)
    bio: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    team: Mapped[Team | None] = relationship()
    manager: Mapped[Person | None] = relationship(remote_side=[id])
