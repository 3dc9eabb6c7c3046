"""The calendar service: publications by local day and hour, per channel, in a time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from sixfold.channels import service as channels_service
from sixfold.channels.models import Channel
from sixfold.org import service as org_service
from sixfold.publishing import calendar
from sixfold.publishing.publisher import Publication, new_idempotency_key
from tests import factories
from tests.publishing.conftest import Newsroom

BERLIN = ZoneInfo("Europe/Berlin")


def at(
    db: Session,
    newsroom: Newsroom,
    due: datetime,
    *,
    state: str = "pending",
    channel: Channel | None = None,
) -> Publication:
    post = newsroom.draft(db, f"Due {due:%d %b %H:%M}")
    row = Publication.create(
        db,
        state=state,
        not_before=due,
        organisation_id=newsroom.org.id,
        post_id=post.id,
        channel_id=(channel or newsroom.stream).id,
        idempotency_key=new_idempotency_key(),
        text=post.text,
        post_version=post.version,
        due_at=due,
    )
    db.flush()
    return row


def test_a_late_evening_in_utc_is_the_next_morning_in_berlin(
    db: Session, newsroom: Newsroom
) -> None:
    # Wednesday 1 July 2026, 22:30 UTC is Thursday 00:30 in Berlin (summer time, UTC+2).
    row = at(db, newsroom, datetime(2026, 7, 1, 22, 30, tzinfo=UTC))
    grid = calendar.week_grid(db, newsroom.org.id, day=date(2026, 7, 1), zone=BERLIN)
    assert grid.days[0] == date(2026, 6, 29)
    assert [r.hour for r in grid.rows] == [0]
    thursday = grid.rows[0].cells[3]
    assert [e.publication_id for e in thursday] == [row.id]
    assert thursday[0].local == datetime(2026, 7, 2, 0, 30, tzinfo=BERLIN)
    in_utc = calendar.week_grid(db, newsroom.org.id, day=date(2026, 7, 1), zone=ZoneInfo("UTC"))
    assert [e.publication_id for e in in_utc.rows[0].cells[2]] == [row.id]


def test_the_week_has_a_row_only_for_hours_with_posts(db: Session, newsroom: Newsroom) -> None:
    at(db, newsroom, datetime(2026, 7, 6, 7, 0, tzinfo=UTC))  # Mon 09:00 Berlin
    at(db, newsroom, datetime(2026, 7, 8, 7, 45, tzinfo=UTC))  # Wed 09:45
    at(db, newsroom, datetime(2026, 7, 12, 14, 0, tzinfo=UTC))  # Sun 16:00
    at(db, newsroom, datetime(2026, 7, 13, 7, 0, tzinfo=UTC))  # next Monday: not this week
    grid = calendar.week_grid(db, newsroom.org.id, day=date(2026, 7, 9), zone=BERLIN)
    assert grid.count == 3
    assert [r.hour for r in grid.rows] == [9, 16]
    assert [len(cell) for cell in grid.rows[0].cells] == [1, 0, 1, 0, 0, 0, 0]
    assert [len(cell) for cell in grid.rows[1].cells] == [0, 0, 0, 0, 0, 0, 1]


def test_cancelled_posts_other_channels_and_other_organisations_are_left_out(
    db: Session, newsroom: Newsroom
) -> None:
    brand = channels_service.create_channel(
        db, newsroom.org, kind="null", name="Brand", actor=factories.ACTOR
    )
    due = datetime(2026, 7, 7, 9, tzinfo=UTC)
    shown = at(db, newsroom, due, state="confirmed")
    at(db, newsroom, due, state="cancelled")
    on_brand = at(db, newsroom, due, state="failed", channel=brand)
    other = org_service.ensure_organisation(db, "Other Org", "other-org")
    theirs = channels_service.create_channel(
        db, other, kind="internal", name="Theirs", actor=factories.ACTOR
    )
    at(db, newsroom, due, channel=theirs).organisation_id = other.id
    db.flush()

    everything = calendar.publications_between(
        db, newsroom.org.id, start=date(2026, 7, 6), end=date(2026, 7, 13), zone=BERLIN
    )
    assert {e.publication_id for e in everything} == {shown.id, on_brand.id}
    only_brand = calendar.publications_between(
        db,
        newsroom.org.id,
        start=date(2026, 7, 6),
        end=date(2026, 7, 13),
        zone=BERLIN,
        channel_id=brand.id,
    )
    assert [(e.publication_id, e.channel_name, e.state) for e in only_brand] == [
        (on_brand.id, "Brand", "failed")
    ]


def test_the_month_is_whole_weeks_with_the_month_marked(db: Session, newsroom: Newsroom) -> None:
    at(db, newsroom, datetime(2026, 2, 28, 12, tzinfo=UTC))
    at(db, newsroom, datetime(2026, 3, 1, 12, tzinfo=UTC))  # shown greyed, not counted
    grid = calendar.month_grid(db, newsroom.org.id, day=date(2026, 2, 14), zone=BERLIN)
    # February 2026 starts on a Sunday and ends on a Saturday: 26 Jan to 1 Mar.
    assert grid.weeks[0][0].day == date(2026, 1, 26)
    assert grid.weeks[-1][-1].day == date(2026, 3, 1)
    assert len(grid.weeks) == 5
    assert grid.count == 1
    last = grid.weeks[-1]
    assert (last[5].in_month, len(last[5].entries)) == (True, 1)
    assert (last[6].in_month, len(last[6].entries)) == (False, 1)


def test_shift_month_crosses_years() -> None:
    assert calendar.shift_month(date(2026, 12, 31), 1) == date(2027, 1, 1)
    assert calendar.shift_month(date(2026, 1, 15), -1) == date(2025, 12, 1)


def test_counts_per_channel(db: Session, newsroom: Newsroom) -> None:
    due = datetime(2026, 7, 7, 9, tzinfo=UTC)
    for state in ("pending", "held", "submitted", "confirmed", "confirmed", "failed", "cancelled"):
        at(db, newsroom, due, state=state)
    counts = calendar.counts_by_channel(db, newsroom.org.id)
    assert counts[newsroom.stream.id] == calendar.ChannelCounts(scheduled=3, published=2, failed=1)
