"""When posts go out: queue slots in a channel's zone (across daylight saving), a full queue,
times in the past, and withdrawing a post while it is on its way."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy.orm import Session

from sixfold.channels import service as channels_service
from sixfold.channels.models import Channel
from sixfold.db import utcnow
from sixfold.errors import Conflict, ValidationFailed
from sixfold.publishing import schedule
from sixfold.publishing.models import PostStatus, PublishMode
from sixfold.publishing.publisher import Publication, new_idempotency_key
from tests import factories
from tests.publishing.conftest import Newsroom


def london(db: Session, newsroom: Newsroom, slots: str) -> Channel:
    channel = newsroom.stream
    channel.timezone = "Europe/London"
    channel.queue_slots = channels_service.parse_queue_slots(slots)
    db.flush()
    return channel


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def occupy(db: Session, newsroom: Newsroom, due: datetime, state: str = "pending") -> Publication:
    """A publication of another post that already holds the slot at `due`."""
    post = newsroom.draft(db, f"Taken at {due:%Y-%m-%d %H:%M}")
    row = Publication.create(
        db,
        state=state,
        not_before=due,
        organisation_id=newsroom.org.id,
        post_id=post.id,
        channel_id=newsroom.stream.id,
        idempotency_key=new_idempotency_key(),
        text=post.text,
        post_version=post.version,
        due_at=due,
    )
    db.flush()
    return row


def test_a_sunday_slot_follows_the_clocks_into_summer_time(db: Session, newsroom: Newsroom) -> None:
    channel = london(db, newsroom, "sun 09:00")
    # 29 March 2026: the clocks go forward at 01:00 UTC; 09:00 in London is 08:00 UTC.
    before = schedule.next_queue_slot(db, channel, after=utc(2026, 3, 21, 12))
    across = schedule.next_queue_slot(db, channel, after=utc(2026, 3, 28, 12))
    assert before == utc(2026, 3, 22, 9)
    assert across == utc(2026, 3, 29, 8)


def test_a_slot_follows_the_clocks_back_in_autumn(db: Session, newsroom: Newsroom) -> None:
    channel = london(db, newsroom, "sun 09:00")
    # 25 October 2026: back to GMT, so 09:00 in London is 09:00 UTC again.
    assert schedule.next_queue_slot(db, channel, after=utc(2026, 10, 17, 12)) == utc(
        2026, 10, 18, 8
    )
    assert schedule.next_queue_slot(db, channel, after=utc(2026, 10, 24, 12)) == utc(
        2026, 10, 25, 9
    )


def test_a_slot_in_the_skipped_hour_is_one_real_moment(db: Session, newsroom: Newsroom) -> None:
    channel = london(db, newsroom, "sun 01:30")
    # 01:30 does not exist in London on 29 March 2026; it is read as 01:30 GMT (02:30 BST).
    assert schedule.next_queue_slot(db, channel, after=utc(2026, 3, 28, 12)) == utc(
        2026, 3, 29, 1, 30
    )


def test_a_taken_slot_is_skipped_and_a_cancelled_one_is_free_again(
    db: Session, newsroom: Newsroom
) -> None:
    channel = london(db, newsroom, "sun 09:00, wed 12:30")
    taken = occupy(db, newsroom, utc(2026, 3, 29, 8))
    after = utc(2026, 3, 28, 12)
    # Wednesday 1 April, 12:30 BST.
    assert schedule.next_queue_slot(db, channel, after=after) == utc(2026, 4, 1, 11, 30)
    taken.transition_to("cancelled")
    db.flush()
    assert schedule.next_queue_slot(db, channel, after=after) == utc(2026, 3, 29, 8)


def test_a_full_queue_says_so(db: Session, newsroom: Newsroom) -> None:
    channel = london(db, newsroom, "mon 09:00")
    start = utc(2026, 6, 1, 8)  # Monday 09:00 BST
    for week in range(schedule.QUEUE_HORIZON_WEEKS):
        occupy(db, newsroom, start + timedelta(weeks=week))
    with pytest.raises(ValidationFailed, match="queue is full"):
        schedule.next_queue_slot(db, channel, after=utc(2026, 5, 31, 12))


def test_a_channel_without_slots_cannot_take_queued_posts(db: Session, newsroom: Newsroom) -> None:
    post = newsroom.draft(db, publish_mode=PublishMode.QUEUE)
    with pytest.raises(ValidationFailed, match="has no queue slots"):
        schedule.schedule_post(db, post, actor=factories.ACTOR)


def test_a_queued_post_takes_the_next_free_slot(db: Session, newsroom: Newsroom) -> None:
    london(db, newsroom, "mon 09:00, thu 15:00")
    first = newsroom.draft(db, "First", publish_mode=PublishMode.QUEUE)
    second = newsroom.draft(db, "Second", publish_mode=PublishMode.QUEUE)
    [a] = schedule.schedule_post(db, first, actor=factories.ACTOR)
    [b] = schedule.schedule_post(db, second, actor=factories.ACTOR)
    assert utcnow() < a.due_at < b.due_at
    assert a.next_attempt_at == a.due_at


def test_a_time_that_passed_during_review_means_as_soon_as_approved(
    db: Session, newsroom: Newsroom
) -> None:
    post = newsroom.draft(db, publish_mode=PublishMode.AT, publish_at=utcnow() - timedelta(hours=3))
    before = utcnow()
    [row] = schedule.schedule_post(db, post, actor=factories.ACTOR)
    assert before <= row.due_at <= utcnow()


def test_rescheduling_into_the_past_or_without_a_zone_is_refused(
    db: Session, newsroom: Newsroom
) -> None:
    [row] = schedule.schedule_post(db, newsroom.draft(db), actor=factories.ACTOR)
    with pytest.raises(ValidationFailed, match="in the past"):
        schedule.reschedule(db, row, utcnow() - timedelta(minutes=1), actor=factories.ACTOR)
    naive = datetime(2030, 1, 1, 9)  # noqa: DTZ001 - a naive time is what is refused
    with pytest.raises(ValidationFailed, match="time zone"):
        schedule.reschedule(db, row, naive, actor=factories.ACTOR)
    last = datetime(9999, 12, 31, 23, 59, tzinfo=timezone(timedelta(hours=-5)))
    with pytest.raises(ValidationFailed, match="in the years 2000 to 2100"):
        schedule.reschedule(db, row, last, actor=factories.ACTOR)
    later = utcnow() + timedelta(days=1)
    schedule.reschedule(db, row, later, actor=factories.ACTOR)
    assert (row.state, row.due_at, row.next_attempt_at) == ("pending", later, later)


def test_withdrawing_waits_while_a_channel_is_mid_flight(db: Session, newsroom: Newsroom) -> None:
    post = newsroom.draft(db)
    [row] = schedule.schedule_post(db, post, actor=factories.ACTOR)
    row.state = "submitted"
    db.flush()
    with pytest.raises(Conflict, match="being published right now"):
        schedule.withdraw(db, post, actor=factories.ACTOR, to=PostStatus.DRAFT)
    assert (row.state, post.status) == ("submitted", PostStatus.SCHEDULED)


def test_withdrawing_cancels_what_has_not_gone_out(db: Session, newsroom: Newsroom) -> None:
    post = newsroom.draft(db)
    [row] = schedule.schedule_post(db, post, actor=factories.ACTOR)
    assert schedule.withdraw(db, post, actor=factories.ACTOR, to=PostStatus.DRAFT) == 1
    assert (row.state, post.status) == ("cancelled", PostStatus.DRAFT)
