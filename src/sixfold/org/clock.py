"""How moments are shown to people: in the organisation's time zone, labelled, one format.

Pages, the pause banner and the composer all say the same clock time for the same moment;
the composer's script formats the same way in the browser (composer.js, `clock`).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sixfold.org.models import Organisation

# "22 Nov 2026 11:33 CET": the zone's abbreviation labels every time shown.
MOMENT_FORMAT = "%d %b %Y %H:%M %Z"
# What `datetime.isoformat()` writes for a moment: a date, "T", hours and minutes at least.
ISO_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


def organisation_zone(organisation: Organisation | None) -> ZoneInfo:
    """The organisation's zone; UTC without one or when the stored name is unknown here."""
    try:
        return ZoneInfo(organisation.timezone if organisation and organisation.timezone else "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def format_moment(moment: datetime | None, zone: ZoneInfo) -> str:
    if moment is None:
        return "—"
    # Stored moments are UTC; one read back without its offset is UTC too.
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(zone).strftime(MOMENT_FORMAT)


def parse_moment(text: str) -> datetime | None:
    """A moment kept as ISO 8601 text (audit details, channel settings); None for other text."""
    if not ISO_MOMENT.match(text):
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def zone_labels(zone: ZoneInfo, *, year: int) -> dict[int, str]:
    """The zone's labels by UTC offset in minutes ({60: "CET", 120: "CEST"}), so that a
    browser labels a moment as `format_moment` does: its own names for zones differ."""
    labels = {}
    for month in range(1, 13):
        moment = datetime(year, month, 1, tzinfo=zone)
        offset = moment.utcoffset() or timedelta(0)
        labels[int(offset.total_seconds()) // 60] = moment.strftime("%Z")
    return labels
