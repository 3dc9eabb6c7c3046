"""News-feed suggestions as people handle them: fetch the feed, confirm or dismiss a story.

Confirming does not add anything by itself: it opens the event form filled in from the
story, and the event (and the suggestion's "confirmed") is saved only when the person saves
that form. A person, not the feed, decides what enters the register.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from sixfold import audit
from sixfold.db import utcnow
from sixfold.errors import Conflict, NotFound, ValidationFailed
from sixfold.guardrails.models import EventSuggestion, FeedFetchJob
from sixfold.guardrails.service import settings_of
from sixfold.guardrails.settings_service import EventInput
from sixfold.jobs.runner import error_summary
from sixfold.org.models import Organisation, Person

RECENT_HANDLED = 20


# News moves in hours: reading the feed hourly keeps suggestions fresh without hammering the
# publisher's server. A read that fails for a passing reason is retried sooner (see models).
FEED_INTERVAL = dt.timedelta(hours=1)


def queue_feed_fetch(
    session: Session,
    organisation: Organisation,
    *,
    actor: audit.Actor,
    person: Person | None = None,
) -> FeedFetchJob:
    """A job that reads the organisation's feed now; one already waiting is returned
    instead, brought forward if it was the next hourly read."""
    url = settings_of(session, organisation.id).news_feed_url
    if not url:
        raise ValidationFailed("Set the news feed address in the policy first, then fetch it.")
    now = utcnow()
    waiting = _waiting_fetch(session, organisation.id)
    if waiting is not None and waiting.url == url:
        if waiting.next_attempt_at is not None and waiting.next_attempt_at > now:
            waiting.next_attempt_at = now
            waiting.requested_by_id = person.id if person else waiting.requested_by_id
        return waiting
    job = FeedFetchJob.create(
        session,
        organisation_id=organisation.id,
        url=url,
        requested_by_id=person.id if person else None,
        result={},
    )
    session.flush()
    audit.record(
        session,
        actor,
        "guardrails.feed_fetch_requested",
        target_type="feed_fetch_job",
        target_id=job.id,
        target=url,
    )
    return job


def schedule_next_fetch(session: Session, finished: FeedFetchJob) -> FeedFetchJob | None:
    """The next hourly read after `finished`, unless the feed is gone or a read waits."""
    url = settings_of(session, finished.organisation_id).news_feed_url
    if not url or _waiting_fetch(session, finished.organisation_id, besides=finished):
        return None
    return FeedFetchJob.create(
        session,
        organisation_id=finished.organisation_id,
        url=url,
        result={},
        not_before=utcnow() + FEED_INTERVAL,
    )


def _waiting_fetch(
    session: Session, organisation_id: int, *, besides: FeedFetchJob | None = None
) -> FeedFetchJob | None:
    query = select(FeedFetchJob).where(
        FeedFetchJob.organisation_id == organisation_id,
        FeedFetchJob.state.not_in(["done", "failed"]),
    )
    if besides is not None:
        query = query.where(FeedFetchJob.id != besides.id)
    return session.scalars(query.order_by(FeedFetchJob.id.desc()).limit(1)).first()


def latest_fetch(session: Session, organisation: Organisation) -> FeedFetchJob | None:
    """The read people want to hear about: the last one run or running, not the next
    hourly read that has not started."""
    return session.scalars(
        select(FeedFetchJob)
        .where(
            FeedFetchJob.organisation_id == organisation.id,
            or_(
                FeedFetchJob.next_attempt_at.is_(None),
                FeedFetchJob.next_attempt_at <= utcnow(),
                FeedFetchJob.attempts > 0,
            ),
        )
        .order_by(FeedFetchJob.id.desc())
        .limit(1)
    ).first()


def next_fetch_at(session: Session, organisation: Organisation) -> dt.datetime | None:
    """When the next hourly read is due, if one is scheduled."""
    waiting = _waiting_fetch(session, organisation.id)
    if waiting is None or waiting.next_attempt_at is None:
        return None
    return waiting.next_attempt_at if waiting.next_attempt_at > utcnow() else None


def open_suggestions(session: Session, organisation: Organisation) -> list[EventSuggestion]:
    return list(
        session.scalars(
            select(EventSuggestion)
            .where(
                EventSuggestion.organisation_id == organisation.id,
                EventSuggestion.status == "new",
            )
            .order_by(EventSuggestion.published_at.desc(), EventSuggestion.id.desc())
        )
    )


def handled_suggestions(session: Session, organisation: Organisation) -> list[EventSuggestion]:
    return list(
        session.scalars(
            select(EventSuggestion)
            .where(
                EventSuggestion.organisation_id == organisation.id,
                EventSuggestion.status != "new",
            )
            .order_by(EventSuggestion.id.desc())
            .limit(RECENT_HANDLED)
        )
    )


def get_suggestion(
    session: Session, organisation: Organisation, suggestion_id: int
) -> EventSuggestion:
    row = session.get(EventSuggestion, suggestion_id)
    if row is None or row.organisation_id != organisation.id:
        raise NotFound("There is no such suggestion.")
    return row


def _open(session: Session, organisation: Organisation, suggestion_id: int) -> EventSuggestion:
    row = get_suggestion(session, organisation, suggestion_id)
    if row.status != "new":
        raise Conflict(f"This suggestion was already {row.status}.")
    return row


def event_draft(
    session: Session, organisation: Organisation, suggestion_id: int, *, today: dt.date
) -> EventInput:
    """The event form filled in from a suggestion, for the person to check and save."""
    row = _open(session, organisation, suggestion_id)
    starts_on = row.published_at.date() if row.published_at else today
    return EventInput(
        name=row.title[:300],
        kind=row.kind,
        starts_on=min(starts_on, today).isoformat(),
        keywords="\n".join(row.keywords),
        source_url=row.link,
        suggestion_id=row.id,
    )


def dismiss(
    session: Session, organisation: Organisation, suggestion_id: int, *, actor: audit.Actor
) -> EventSuggestion:
    row = _open(session, organisation, suggestion_id)
    row.status = "dismissed"
    audit.record(
        session,
        actor,
        "guardrails.suggestion_dismissed",
        target_type="event_suggestion",
        target_id=row.id,
        target=row.title,
    )
    return row


def fetch_problem(job: FeedFetchJob | None) -> str | None:
    """Why the last read failed (or its last attempt did), in the words the error gave."""
    if job is None:
        return None
    if job.result.get("error"):
        return str(job.result["error"])
    summary = error_summary(job.last_error)
    if summary:
        # describe_error() starts with "ExceptionName: message"; people need the message.
        return summary.split(": ", 1)[-1]
    return None
