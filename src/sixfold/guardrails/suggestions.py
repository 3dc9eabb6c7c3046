"""News-feed suggestions as people handle them: fetch the feed, confirm or dismiss a story.

Confirming does not add anything by itself: it opens the event form filled in from the
story, and the event (and the suggestion's "confirmed") is saved only when the person saves
that form. A person, not the feed, decides what enters the register.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from sixfold import audit
from sixfold.errors import Conflict, NotFound, ValidationFailed
from sixfold.guardrails.models import EventSuggestion, FeedFetchJob
from sixfold.guardrails.service import settings_of
from sixfold.guardrails.settings_service import EventInput
from sixfold.org.models import Organisation, Person

RECENT_HANDLED = 20


def queue_feed_fetch(
    session: Session,
    organisation: Organisation,
    *,
    actor: audit.Actor,
    person: Person | None = None,
) -> FeedFetchJob:
    """A job that reads the organisation's feed; one already waiting is returned instead."""
    url = settings_of(session, organisation.id).news_feed_url
    if not url:
        raise ValidationFailed("Set the news feed address in the policy first, then fetch it.")
    waiting = latest_fetch(session, organisation)
    if waiting is not None and not waiting.is_finished and waiting.url == url:
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


def latest_fetch(session: Session, organisation: Organisation) -> FeedFetchJob | None:
    return session.scalars(
        select(FeedFetchJob)
        .where(FeedFetchJob.organisation_id == organisation.id)
        .order_by(FeedFetchJob.id.desc())
        .limit(1)
    ).first()


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
    if job.last_error:
        summary = job.last_error.split("\n", 1)[0]
        # describe_error() starts with "ExceptionName: message"; people need the message.
        return summary.split(": ", 1)[-1]
    return None
