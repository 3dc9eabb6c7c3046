"""Bounds on values that arrive from outside (addresses, forms, API bodies), so that none
reaches the database or date arithmetic out of range.

The annotated types carry their bounds as metadata that FastAPI and pydantic both read: one
type serves a path parameter, a query parameter and a field of a JSON body.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, TypeVar

from annotated_types import Ge, Le
from pydantic import AfterValidator, AwareDatetime
from pydantic_core import PydanticCustomError

# The largest id both databases can hold. Every id column is an INTEGER: signed 32-bit in
# PostgreSQL, 64-bit in SQLite. A larger number fails the query instead of finding nothing
# (PostgreSQL: "integer out of range"; SQLite's driver: OverflowError past 64 bits), so it is
# refused before any query is built.
MAX_ID = 2**31 - 1

# An id given by a client. The web layer answers an id out of range in the address with 404,
# as for a missing object, and one in a query filter or a body with 422.
Id = Annotated[int, Ge(1), Le(MAX_ID)]

# Every number read from text here (an id, a version, seconds, a size) fits in 18 digits.
# int() refuses more than 4,300, so a longer string is refused before it gets there.
MAX_DIGITS = 18


def ascii_int(text: str) -> int | None:
    """The whole number `text` spells in ASCII digits, or None.

    str.isdigit() is not the test: it accepts "²" and other digits that int() refuses.
    """
    if not (text.isascii() and text.isdigit()) or len(text) > MAX_DIGITS:
        return None
    return int(text)


def parse_id(text: str) -> int | None:
    """The id `text` spells, or None when it cannot be one (see Id)."""
    number = ascii_int(text)
    return number if number is not None and 1 <= number <= MAX_ID else None


# The days a client may ask about. Pages add and subtract weeks and months around the day
# asked for, and converting a moment between zones moves it by hours; datetime stops at years
# 1 and 9999 (OverflowError). These bounds leave centuries of room on both sides and are
# still beyond any date anyone means.
FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(9000, 12, 31)
DAYS_MESSAGE = f"Choose a day from {FIRST_DAY} to {LAST_DAY}."
DayOrMoment = TypeVar("DayOrMoment", bound=date)


def within_days(day: date) -> bool:
    """Whether `day` (or the day of a datetime) is one a client may ask about."""
    if isinstance(day, datetime):
        day = day.date()
    return FIRST_DAY <= day <= LAST_DAY


def _checked_day(value: DayOrMoment) -> DayOrMoment:
    if not within_days(value):
        raise PydanticCustomError("day_out_of_range", DAYS_MESSAGE)
    return value


# A day or a moment given by a client: outside the bounds, 422 naming the parameter.
Day = Annotated[date, AfterValidator(_checked_day)]
Moment = Annotated[datetime, AfterValidator(_checked_day)]
AwareMoment = Annotated[AwareDatetime, AfterValidator(_checked_day)]
