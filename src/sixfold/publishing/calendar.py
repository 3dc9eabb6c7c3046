"""The publishing calendar: publications in a date range, per channel, in a time zone.

Publications are stored in UTC; people plan in their organisation's local time. Days and
hours are therefore cut in the zone the page is shown in, so a post due at 23:30 UTC on a
summer evening lands on the next morning's column in Europe/Berlin, as its readers see it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, func, select, true
from sqlalchemy.orm import Session

from sixfold.channels.models import Channel
from sixfold.publishing.models import Post
from sixfold.publishing.publisher import Publication

EXCERPT_CHARS = 60
_EVERY_POST: ColumnElement[bool] = true()
# Cancelled publications were never scheduled as far as readers of the calendar care.
HIDDEN_STATES = ("cancelled",)
# Publications that still count as "scheduled" on a channel: waiting or on their way.
SCHEDULED_STATES = ("pending", "held", "claimed", "submitted", "unconfirmed")


@dataclass(frozen=True)
class ChannelCounts:
    scheduled: int = 0
    published: int = 0
    failed: int = 0


@dataclass(frozen=True)
class CalendarEntry:
    publication_id: int
    post_id: int
    channel_id: int
    channel_name: str
    state: str
    due_at: datetime  # UTC
    local: datetime  # the same moment in the calendar's zone
    excerpt: str
    problem: str | None
    # Someone else's post the viewer may not open: the calendar shows that the slot is taken
    # (people plan around it) and no link; what the post says only once it is published
    # (before, it may be unannounced news).
    private: bool = False
    linked: bool = True


@dataclass(frozen=True)
class HourRow:
    hour: int
    cells: list[list[CalendarEntry]]  # one list per day of the week


@dataclass(frozen=True)
class WeekGrid:
    days: list[date]
    rows: list[HourRow]
    count: int


@dataclass(frozen=True)
class DayCell:
    day: date
    in_month: bool
    entries: list[CalendarEntry]


@dataclass(frozen=True)
class MonthGrid:
    first: date
    weeks: list[list[DayCell]]
    count: int


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The UTC instant at which `day` starts in `zone`."""
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def publications_between(
    session: Session,
    organisation_id: int,
    *,
    start: date,
    end: date,
    zone: ZoneInfo,
    channel_id: int | None = None,
    visible: ColumnElement[bool] = _EVERY_POST,
) -> list[CalendarEntry]:
    """Publications due on local days start ≤ day < end, earliest first. Posts outside
    ``visible`` (a condition on Post) show as private entries."""
    query = (
        select(Publication, Channel.name, visible.label("visible"))
        .join(Channel, Channel.id == Publication.channel_id)
        .join(Post, Post.id == Publication.post_id)
        .where(
            Publication.organisation_id == organisation_id,
            Publication.due_at >= local_midnight(start, zone),
            Publication.due_at < local_midnight(end, zone),
            Publication.state.not_in(HIDDEN_STATES),
        )
        .order_by(Publication.due_at, Publication.id)
    )
    if channel_id is not None:
        query = query.where(Publication.channel_id == channel_id)
    return [_entry(row, name, zone, bool(shown)) for row, name, shown in session.execute(query)]


def _entry(row: Publication, channel_name: str, zone: ZoneInfo, visible: bool) -> CalendarEntry:
    private = not visible and row.state != "confirmed"
    text = " ".join(row.text.split())
    if len(text) > EXCERPT_CHARS:
        text = text[: EXCERPT_CHARS - 1].rstrip() + "…"
    if private:
        text = ""
    return CalendarEntry(
        publication_id=row.id,
        post_id=row.post_id,
        channel_id=row.channel_id,
        channel_name=channel_name,
        state=row.state,
        due_at=row.due_at,
        local=row.due_at.astimezone(zone),
        excerpt=text,
        problem=row.error_message if row.state in ("held", "failed") and visible else None,
        private=private,
        linked=visible,
    )


def week_start(day: date) -> date:
    """The Monday of the week that holds `day`."""
    return day - timedelta(days=day.weekday())


def week_grid(
    session: Session,
    organisation_id: int,
    *,
    day: date,
    zone: ZoneInfo,
    channel_id: int | None = None,
    visible: ColumnElement[bool] = _EVERY_POST,
) -> WeekGrid:
    """Seven columns from Monday, with a row only for each local hour that has posts."""
    monday = week_start(day)
    days = [monday + timedelta(days=n) for n in range(7)]
    entries = publications_between(
        session,
        organisation_id,
        start=monday,
        end=monday + timedelta(days=7),
        zone=zone,
        channel_id=channel_id,
        visible=visible,
    )
    by_hour: dict[int, list[list[CalendarEntry]]] = {}
    for entry in entries:
        cells = by_hour.setdefault(entry.local.hour, [[] for _ in days])
        cells[(entry.local.date() - monday).days].append(entry)
    rows = [HourRow(hour, by_hour[hour]) for hour in sorted(by_hour)]
    return WeekGrid(days=days, rows=rows, count=len(entries))


def month_grid(
    session: Session,
    organisation_id: int,
    *,
    day: date,
    zone: ZoneInfo,
    channel_id: int | None = None,
    visible: ColumnElement[bool] = _EVERY_POST,
) -> MonthGrid:
    """Whole weeks (Monday to Sunday) covering the month that holds `day`."""
    first = day.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    start = week_start(first)
    end = week_start(following - timedelta(days=1)) + timedelta(days=7)
    entries = publications_between(
        session,
        organisation_id,
        start=start,
        end=end,
        zone=zone,
        channel_id=channel_id,
        visible=visible,
    )
    by_day: dict[date, list[CalendarEntry]] = {}
    for entry in entries:
        by_day.setdefault(entry.local.date(), []).append(entry)
    weeks = []
    for week in range((end - start).days // 7):
        monday = start + timedelta(days=7 * week)
        weeks.append(
            [
                DayCell(d, d.month == first.month, by_day.get(d, []))
                for d in (monday + timedelta(days=n) for n in range(7))
            ]
        )
    in_month = sum(1 for e in entries if e.local.month == first.month)
    return MonthGrid(first=first, weeks=weeks, count=in_month)


def shift_month(day: date, months: int) -> date:
    """The first of the month `months` away from `day`'s month."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def counts_by_channel(session: Session, organisation_id: int) -> dict[int, ChannelCounts]:
    """Scheduled, published and failed publications per channel, in one query."""
    rows = session.execute(
        select(Publication.channel_id, Publication.state, func.count())
        .where(Publication.organisation_id == organisation_id)
        .group_by(Publication.channel_id, Publication.state)
    ).all()
    tally: dict[int, dict[str, int]] = {}
    for channel_id, state, count in rows:
        bucket = tally.setdefault(channel_id, {"scheduled": 0, "published": 0, "failed": 0})
        if state in SCHEDULED_STATES:
            bucket["scheduled"] += count
        elif state == "confirmed":
            bucket["published"] += count
        elif state == "failed":
            bucket["failed"] += count
    return {channel_id: ChannelCounts(**values) for channel_id, values in tally.items()}
