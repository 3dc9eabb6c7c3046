"""Turning an approved post into publications: when each channel gets it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from sixfold import audit
from sixfold.channels.models import Channel
from sixfold.db import utcnow
from sixfold.errors import Conflict, ValidationFailed
from sixfold.publishing import drafts, notify, post_audit
from sixfold.publishing.models import Post, PostStatus, PublishMode
from sixfold.publishing.publisher import (
    IN_FLIGHT_STATES,
    WAITING_STATES,
    Publication,
    new_idempotency_key,
)

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
QUEUE_HORIZON_WEEKS = 12


def schedule_post(session: Session, post: Post, *, actor: audit.Actor) -> list[Publication]:
    """Create one publication per channel, due when the author asked (approval done)."""
    now = utcnow()
    rows = []
    for target in post.targets:
        channel = session.get(Channel, target.channel_id)
        assert channel is not None
        due = _due_time(session, post, channel, now)
        row = Publication.create(
            session,
            not_before=due,
            organisation_id=post.organisation_id,
            post_id=post.id,
            channel_id=channel.id,
            idempotency_key=new_idempotency_key(),
            text=target.text or post.text,
            post_version=post.version,
            due_at=due,
        )
        rows.append(row)
    post.status = PostStatus.SCHEDULED
    session.flush()
    post_audit.record(
        session,
        actor,
        "post.scheduled",
        post_id=post.id,
        text=post.text,
        version=post.version,
        channels={str(r.channel_id): r.due_at.isoformat() for r in rows},
    )
    return rows


def _due_time(session: Session, post: Post, channel: Channel, now: datetime) -> datetime:
    if post.publish_mode == PublishMode.QUEUE:
        return next_queue_slot(session, channel, after=now)
    if post.publish_mode == PublishMode.AT and post.publish_at is not None:
        # A time that passed while the post waited for review means "as soon as approved".
        return max(post.publish_at, now)
    return now


def next_queue_slot(session: Session, channel: Channel, *, after: datetime) -> datetime:
    """The channel's first free weekly slot after `after`, in the channel's time zone."""
    if not channel.queue_slots:
        raise ValidationFailed(
            f"{channel.name} has no queue slots: choose a time, or add slots to the channel."
        )
    taken = set(
        session.scalars(
            select(Publication.due_at).where(
                Publication.channel_id == channel.id,
                Publication.state != "cancelled",
                Publication.due_at > after,
            )
        )
    )
    zone = ZoneInfo(channel.timezone)
    local = after.astimezone(zone)
    for day_offset in range(QUEUE_HORIZON_WEEKS * 7):
        day = (local + timedelta(days=day_offset)).date()
        for slot in channel.queue_slots:
            if _DAYS.index(slot["day"]) != day.weekday():
                continue
            hour, minute = (int(part) for part in slot["time"].split(":"))
            moment = datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)
            moment = moment.astimezone(UTC)
            if moment > after and moment not in taken:
                return moment
    raise ValidationFailed(
        f"{channel.name}'s queue is full for the next {QUEUE_HORIZON_WEEKS} weeks."
    )


def publications_of(session: Session, post: Post) -> list[Publication]:
    return list(
        session.scalars(
            select(Publication).where(Publication.post_id == post.id).order_by(Publication.id)
        )
    )


def withdraw(session: Session, post: Post, *, actor: audit.Actor, to: PostStatus) -> int:
    """Stop a scheduled post: cancel what has not gone out; `to` is draft or cancelled."""
    rows = publications_of(session, post)
    in_flight = [r for r in rows if r.state in IN_FLIGHT_STATES]
    if in_flight:
        raise Conflict(
            "This post is being published right now on "
            f"{len(in_flight)} channel(s); wait a moment and look again."
        )
    if post.status == PostStatus.PUBLISHED:
        raise Conflict("This post has been published; delete it on the network instead.")
    cancelled = 0
    for row in rows:
        if row.state in WAITING_STATES:
            row.transition_to("cancelled")
            cancelled += 1
    post.status = to
    # Taken back from review: nobody is asked to review it until it is submitted again.
    notify.review_settled(session, post)
    post_audit.record(
        session,
        actor,
        "post.cancelled" if to == PostStatus.CANCELLED else "post.unscheduled",
        post_id=post.id,
        text=post.text,
        publications_cancelled=cancelled,
    )
    return cancelled


def publish_now(session: Session, row: Publication, *, actor: audit.Actor) -> None:
    _require_waiting(row)
    if row.state == "failed":
        # A person retries a failure knowingly (an unanswered call's message tells them to
        # check the account first); a leftover `sent_at` would only send the row back into
        # reconciling, and a connector without idempotency keys would never send again.
        row.sent_at = None
    row.due_at = utcnow()
    row.error_message = None
    row.transition_to("pending")
    _audit_publication(session, row, actor, "publication.publish_now")


def reschedule(session: Session, row: Publication, when: datetime, *, actor: audit.Actor) -> None:
    _require_waiting(row)
    drafts.check_publish_time(when)  # also refuses a time without a zone
    if when <= utcnow():
        raise ValidationFailed(drafts.PAST_TIME)
    row.due_at = when
    row.error_message = None
    row.transition_to("pending", not_before=when)
    _audit_publication(session, row, actor, "publication.rescheduled", when=when.isoformat())


def cancel_publication(session: Session, row: Publication, *, actor: audit.Actor) -> None:
    _require_waiting(row)
    row.transition_to("cancelled")
    _audit_publication(session, row, actor, "publication.cancelled")
    post = row.post
    siblings = publications_of(session, post)
    if all(r.state == "cancelled" for r in siblings):
        post.status = PostStatus.CANCELLED
    elif all(r.state in ("cancelled", "confirmed") for r in siblings):
        post.status = PostStatus.PUBLISHED


def _require_waiting(row: Publication) -> None:
    if row.state not in WAITING_STATES:
        raise Conflict(f"This publication is {row.state}; it can no longer be changed.")


def _audit_publication(
    session: Session, row: Publication, actor: audit.Actor, action: str, **details: str
) -> None:
    post_audit.record(
        session,
        actor,
        action,
        post_id=row.post_id,
        text=row.text,
        publication_id=row.id,
        channel_id=row.channel_id,
        **details,
    )
