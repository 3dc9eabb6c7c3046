"""Helpers for importers that read JSON records (Slack, Mattermost).

Exports are hand-edited, truncated and produced by other tools, so any field of a record may
hold any JSON type. :class:`Fields` reads each field as the type the importer expects: a
field of another type is reported and treated as absent, so a stray value costs that field
(or, for a field the record cannot do without, that record), never the whole import.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sixfold.network.importers.base import ProblemLog
from sixfold.network.importers.timestamps import SUPPORTED_YEARS, in_supported_range

Row = tuple[int, str, str, str, float, str | None]


def parse_json(data: bytes, where: str, log: ProblemLog) -> Any:
    """Decoded JSON, or None after logging why it could not be read."""
    try:
        value = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as error:
        log.add(where, f"not valid UTF-8 at byte {error.start}; skipped")
        return None
    # A plain ValueError (not a JSONDecodeError) is how json refuses an integer of more than
    # 4,300 digits.
    except (ValueError, RecursionError) as error:
        log.add(where, f"not valid JSON ({error}); skipped")
        return None
    if value is None:
        log.add(where, "holds only null; skipped")
    return value


def mentioned(text: object, pattern: re.Pattern[str]) -> list[str]:
    """Who a message mentions; the text itself is read here and never kept."""
    if not isinstance(text, str):
        return []
    return list(dict.fromkeys(pattern.findall(text)))


def as_seconds(value: object, *, milliseconds: bool = False) -> int | None:
    """Unix seconds from a number or numeric text; None if unreadable or out of range."""
    try:
        number = float(value)  # type: ignore[arg-type]
    # float() of an integer with hundreds of digits overflows instead of failing as a ValueError.
    except (TypeError, ValueError, OverflowError):
        return None
    seconds = number / 1000 if milliseconds else number
    # NaN and the infinities compare false with everything, so they fail the range test too.
    return int(seconds) if in_supported_range(seconds) else None


T = TypeVar("T")


class FieldError(Exception):
    """A field's value cannot be used; the message says why, after the field's name."""


def json_type(value: object) -> str:
    """The JSON name of a decoded value's type, as problems quote it."""
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    return "an object" if isinstance(value, dict) else "null"


@dataclass(frozen=True, slots=True)
class Fields:
    """One JSON object, read field by field as the types an importer expects.

    Absent and null fields are simply absent. The optional readers report a field of another
    type at `where` and return nothing for it; the required ones raise :class:`FieldError`, so
    the caller skips the record with one problem that says which field was wrong.
    """

    values: dict[str, Any]
    where: str
    log: ProblemLog

    def text(self, key: str) -> str | None:
        return self._optional(key, _text)

    def nested(self, key: str) -> Fields | None:
        """An object inside this one, read the same way and reported at the same place."""
        values = self._optional(key, _object)
        return None if values is None else Fields(values, self.where, self.log)

    def texts(self, key: str) -> list[str]:
        """A list of text; entries of another type are reported together and left out."""
        return self._entries(key, str, "text")

    def objects(self, key: str) -> list[dict[str, Any]]:
        """A list of objects; entries of another type are reported together and left out."""
        return self._entries(key, dict, "objects")

    def seconds(self, key: str, *, milliseconds: bool = False) -> int | None:
        return self._optional(key, lambda value: _seconds(value, milliseconds=milliseconds))

    def required_text(self, key: str) -> str:
        return self._required(key, _text)

    def required_object(self, key: str) -> dict[str, Any]:
        return self._required(key, _object)

    def required_seconds(self, key: str, *, milliseconds: bool = False) -> int:
        return self._required(key, lambda value: _seconds(value, milliseconds=milliseconds))

    def _required(self, key: str, convert: Callable[[Any], T]) -> T:
        value = self.values.get(key)
        if value is None:
            raise FieldError(f"without {key}")
        try:
            return convert(value)
        except FieldError as error:
            raise FieldError(f"whose {key} {error}") from None

    def _optional(self, key: str, convert: Callable[[Any], T]) -> T | None:
        value = self.values.get(key)
        if value is None:
            return None
        try:
            return convert(value)
        except FieldError as error:
            self.log.add(self.where, f"{key} {error}; ignored")
            return None

    def _entries(self, key: str, kind: type[T], label: str) -> list[T]:
        entries = self._optional(key, _list) or []
        kept = [entry for entry in entries if isinstance(entry, kind)]
        if len(kept) < len(entries):
            self.log.add(self.where, f"{key}: {len(entries) - len(kept)} not {label}; ignored")
        return kept


def _text(value: object) -> str:
    if not isinstance(value, str):
        raise FieldError(f"is {json_type(value)}, not text")
    return value


def _object(value: object) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise FieldError(f"is {json_type(value)}, not an object")
    return value


def _list(value: object) -> list[Any]:
    if not isinstance(value, list):
        raise FieldError(f"is {json_type(value)}, not a list")
    return value


def _seconds(value: object, *, milliseconds: bool) -> int:
    # true and false are ints to Python; a flag is no time.
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise FieldError(f"is {json_type(value)}, not a time")
    seconds = as_seconds(value, milliseconds=milliseconds)
    if seconds is None:
        raise FieldError(f"{_shown(value)} is not a time in the years {SUPPORTED_YEARS}")
    return seconds


def _shown(value: int | float | str) -> str:
    """A bad value as a problem quotes it: cut short, so that one field cannot flood a report."""
    text = value if isinstance(value, str) else str(value)
    text = text if len(text) <= 40 else f"{text[:40]}…"
    return repr(text) if isinstance(value, str) else text
