"""An organisation's risk rules as data: its sensitive events, policy and news-feed suggestions."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from sixfold.db import Base, UTCDateTime, utcnow
from sixfold.jobs import Retry, State, StateGraph, StateMachineMixin


class SensitiveEvent(Base):
    """An event in the organisation's own register (the built-in calendar comes on top)."""

    __tablename__ = "sensitive_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(50), default="tragedy")
    starts_on: Mapped[date] = mapped_column(Date)
    # NULL: still going on (until someone ends it).
    ends_on: Mapped[date | None] = mapped_column(Date)
    recurs: Mapped[str | None] = mapped_column(String(20))
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    source_url: Mapped[str] = mapped_column(String(2000), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RiskSettings(Base):
    """The organisation's policy for the risk engine (sixfold.risk.Policy as rows)."""

    __tablename__ = "risk_settings"

    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), primary_key=True)
    confidential_terms: Mapped[list[str]] = mapped_column(JSON, default=list)
    allowed_domains: Mapped[list[str]] = mapped_column(JSON, default=list)
    public_contacts: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Category (or scanner) → "ok" / "review" / "block".
    verdicts: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    phone_region: Mapped[str] = mapped_column(String(2), default="US")
    # An RSS or Atom feed of news the organisation chooses, read for event suggestions.
    news_feed_url: Mapped[str] = mapped_column(String(2000), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class EventSuggestion(Base):
    """A news item that may be a sensitive event; a person confirms or dismisses it."""

    __tablename__ = "event_suggestions"
    __table_args__ = (UniqueConstraint("organisation_id", "guid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    guid: Mapped[str] = mapped_column(String(500))
    title: Mapped[str] = mapped_column(String(1000))
    link: Mapped[str] = mapped_column(String(2000), default="")
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    kind: Mapped[str] = mapped_column(String(50), default="tragedy")
    # "new", "confirmed", "dismissed"
    status: Mapped[str] = mapped_column(String(20), default="new", index=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("sensitive_events.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class FeedFetchState(StateGraph, initial="queued", failure="failed"):
    # "failed" directly when retrying cannot help (a private address, not a feed).
    # A feed server that is down is tried again, at most an hour apart, until it answers:
    # the hourly reads go on after an outage without anyone restarting them.
    queued = State(
        to=["done", "failed"],
        retry=Retry(base_seconds=30, max_seconds=3600, max_attempts=None),
    )
    done = State(terminal=True)
    failed = State(terminal=True)


class FeedFetchJob(StateMachineMixin, Base):
    """Reads the organisation's news feed in the background and stores suggestions."""

    __tablename__ = "feed_fetch_jobs"
    state_graph = FeedFetchState

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    def handle_queued(self, job: Any) -> str:
        from sixfold.guardrails.feeds import run_feed_fetch

        return run_feed_fetch(job.session, self, settings=job.services.get("settings"))
