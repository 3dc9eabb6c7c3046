"""The crisis pause: one decision stops publishing, organisation-wide or on one channel.

The publisher checks `active_pause` when it claims a publication and again immediately
before the network call. Publications stopped by a pause wait in "held"; on resume a leader
sees them (they are overdue by then) and publishes, reschedules or cancels each.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from sixfold import audit
from sixfold.channels.models import Channel
from sixfold.db import utcnow
from sixfold.errors import Conflict, NotFound, ValidationFailed
from sixfold.org.clock import format_moment, organisation_zone
from sixfold.org.models import Organisation
from sixfold.publishing.models import PublishingPause
from sixfold.publishing.publisher import Publication

REASON_MAX_CHARS = 2000


def active_pause(
    session: Session, organisation_id: int, channel_id: int | None = None
) -> PublishingPause | None:
    """The pause that stops publishing on `channel_id` (organisation-wide ones included)."""
    scope: ColumnElement[bool] = PublishingPause.channel_id.is_(None)
    if channel_id is not None:
        scope = or_(scope, PublishingPause.channel_id == channel_id)
    return session.scalars(
        select(PublishingPause)
        .where(
            PublishingPause.organisation_id == organisation_id,
            PublishingPause.ended_at.is_(None),
            scope,
        )
        .order_by(PublishingPause.started_at)
        .limit(1)
    ).first()


def active_pauses(session: Session, organisation_id: int) -> list[PublishingPause]:
    return list(
        session.scalars(
            select(PublishingPause)
            .where(
                PublishingPause.organisation_id == organisation_id,
                PublishingPause.ended_at.is_(None),
            )
            .order_by(PublishingPause.started_at)
        )
    )


def pause(
    session: Session,
    organisation: Organisation,
    *,
    reason: str,
    actor: audit.Actor,
    channel_id: int | None = None,
) -> PublishingPause:
    reason = reason.strip()
    if not reason:
        raise ValidationFailed("Say why publishing is paused: the reason is shown to everyone.")
    if len(reason) > REASON_MAX_CHARS:
        raise ValidationFailed(f"The reason is longer than {REASON_MAX_CHARS} characters.")
    channel = _channel(session, organisation, channel_id)
    existing = [p for p in active_pauses(session, organisation.id) if p.channel_id == channel_id]
    if existing:
        raise Conflict(
            f"Publishing is already paused{_scope(channel)} since "
            f"{format_moment(existing[0].started_at, organisation_zone(organisation))}."
        )
    row = PublishingPause(
        organisation_id=organisation.id,
        channel_id=channel_id,
        reason=reason,
        started_by_id=actor.id,
        started_at=utcnow(),
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor,
        "publishing.paused",
        target_type="channel" if channel else "organisation",
        target_id=channel.id if channel else organisation.id,
        target=channel.name if channel else organisation.name,
        details={"reason": reason, "pause_id": row.id},
    )
    return row


def resume(
    session: Session,
    organisation: Organisation,
    *,
    actor: audit.Actor,
    channel_id: int | None = None,
) -> list[Publication]:
    """End the pause on this scope; return the held publications that are now due."""
    channel = _channel(session, organisation, channel_id)
    rows = [p for p in active_pauses(session, organisation.id) if p.channel_id == channel_id]
    if not rows:
        raise Conflict(f"Publishing is not paused{_scope(channel)}.")
    now = utcnow()
    for row in rows:
        row.ended_at, row.ended_by_id = now, actor.id
    held = held_publications(session, organisation.id)
    audit.record(
        session,
        actor,
        "publishing.resumed",
        target_type="channel" if channel else "organisation",
        target_id=channel.id if channel else organisation.id,
        target=channel.name if channel else organisation.name,
        details={
            "paused_since": rows[0].started_at.isoformat(),
            "reason_was": rows[0].reason,
            "held": len(held),
        },
    )
    return held


def held_publications(session: Session, organisation_id: int) -> list[Publication]:
    return list(
        session.scalars(
            select(Publication)
            .where(Publication.organisation_id == organisation_id, Publication.state == "held")
            .order_by(Publication.due_at)
        )
    )


def _channel(
    session: Session, organisation: Organisation, channel_id: int | None
) -> Channel | None:
    if channel_id is None:
        return None
    channel = session.get(Channel, channel_id)
    if channel is None or channel.organisation_id != organisation.id:
        raise NotFound("No such channel.")
    return channel


def _scope(channel: Channel | None) -> str:
    return f" on {channel.name}" if channel else ""
