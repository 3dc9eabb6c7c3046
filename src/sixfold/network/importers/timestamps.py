"""Timestamp parsing shared by the importers: ISO 8601 or Unix seconds, always to UTC seconds."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import polars as pl

_ISO_FORMAT = "%Y-%m-%dT%H:%M:%S%.f%z"

# The instants an interaction may have: 1970-01-01 up to (not including) 2200-01-01, UTC.
# No chat or mail system predates Unix time, and nothing is scheduled two centuries ahead, so
# a value outside is a corrupt or hostile one. Refusing it row by row also keeps values such
# as 1e300 away from the Int64 table column, where one of them would fail the whole source.
EARLIEST_SECONDS = 0
LATEST_SECONDS = 7_258_118_400
SUPPORTED_YEARS = "1970 to 2199"


def in_supported_range(seconds: float) -> bool:
    return EARLIEST_SECONDS <= seconds < LATEST_SECONDS


def parse_timestamp_column(raw: pl.Expr) -> pl.Expr:
    """Unix seconds (integer or fractional) or ISO 8601 text to Int64 UTC seconds; null if neither.

    ISO text without an offset is read as UTC, because exports that omit it (spreadsheets,
    most chat tools) nearly always mean UTC, and guessing the local zone would shift every tie.
    """
    text = raw.str.strip_chars()
    numeric = text.cast(pl.Float64, strict=False)
    iso = (
        text.str.replace(r"^(\d{4}-\d{2}-\d{2})$", "${1}T00:00:00")
        .str.replace(r"^(\d{4}-\d{2}-\d{2})[ t]", "${1}T")
        .str.replace(r"[Zz]$", "+00:00")
    )
    has_offset = iso.str.contains(r"[+-]\d{2}:?\d{2}$")
    iso = pl.when(has_offset).then(iso).otherwise(iso + "+00:00")
    parsed = iso.str.to_datetime(_ISO_FORMAT, strict=False, time_zone="UTC")
    # Clipped so that a huge number still becomes an integer, which the caller then reports
    # as out of range instead of as unreadable.
    clipped = numeric.clip(-(2**62), 2**62)
    return (
        pl.when(numeric.is_not_null() & numeric.is_finite())
        .then(clipped.floor().cast(pl.Int64, strict=False))
        .otherwise(parsed.dt.epoch("s"))
    )


def parse_date_bound(text: str) -> int:
    """A `--since`/`--until` value (ISO date or date-time) to UTC seconds."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return int(value.timestamp())


def parse_rfc2822(text: str | None) -> int | None:
    """An e-mail Date header to UTC seconds, or None when absent, unreadable or out of range."""
    if not text:
        return None
    try:
        value = parsedate_to_datetime(text)
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        seconds = int(value.timestamp())
    # A zone offset of twenty digits overflows instead of failing as a ValueError.
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return seconds if in_supported_range(seconds) else None
