"""The sensitive-event register: tragedies, crises and remembrance days a post must not exploit.

An organisation keeps its own register (YAML, edited later in the settings pages); the built-in
calendar of widely observed remembrance days (calendar.yaml) is always added to it. Keywords of
every event are compiled into one automaton per register, so checking a post costs one scan
whatever the register's size; only then is each matching event's date window checked.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from sixfold.risk.document import Document
from sixfold.risk.lexicon import Hit, LexiconIndex
from sixfold.risk.yamlfile import read_yaml

RECURRENCES = frozenset({"yearly"})
# Kinds of event that are celebrated rather than mourned (International Women's Day, MLK Day):
# mentioning them is normal, only tying them to a sale needs a second look.
OBSERVANCE_KINDS = frozenset({"observance", "celebration", "awareness", "holiday"})


class RegisterError(ValueError):
    """The event register file is malformed; the message says where."""


@dataclass(frozen=True, slots=True)
class Event:
    """One sensitive event with the date window in which posts about it are risky."""

    name: str
    start: dt.date
    end: dt.date
    kind: str = "tragedy"
    keywords: tuple[str, ...] = ()
    recurs: str | None = None

    def is_active(self, day: dt.date) -> bool:
        if self.recurs is None:
            return self.start <= day <= self.end
        if day.year < self.start.year:
            return False
        first, last, today = _month_day(self.start), _month_day(self.end), _month_day(day)
        if first <= last:
            return first <= today <= last
        return today >= first or today <= last  # the window wraps over New Year

    @property
    def is_observance(self) -> bool:
        return self.kind in OBSERVANCE_KINDS

    @property
    def label(self) -> str:
        """How the event is named to a user: "Aurora cinema shooting (20 Jul 2012)"."""
        return f"{self.name} ({self.start.day} {self.start:%b %Y})"


def _month_day(day: dt.date) -> tuple[int, int]:
    return day.month, day.day


def _parse_date(value: object, where: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as error:
        raise RegisterError(f"{where}: {value!r} is not a YYYY-MM-DD date") from error


def event_from_mapping(data: Mapping[str, Any], where: str = "event") -> Event:
    """Build an Event from one YAML mapping, with errors a person can act on."""
    if not isinstance(data, Mapping) or "name" not in data or "start" not in data:
        raise RegisterError(f"{where}: an event needs at least 'name' and 'start'")
    start = _parse_date(data["start"], f"{where}.start")
    end = _parse_date(data.get("end") or start, f"{where}.end")
    recurs = data.get("recurs") or None
    if recurs is not None and (not isinstance(recurs, str) or recurs not in RECURRENCES):
        raise RegisterError(f"{where}.recurs: {recurs!r} is not one of {sorted(RECURRENCES)}")
    if end < start and recurs is None:
        raise RegisterError(f"{where}: end {end} is before start {start}")
    keywords = data.get("keywords") or []
    if isinstance(keywords, str) or not isinstance(keywords, Iterable):
        raise RegisterError(f"{where}.keywords: expected a list of strings")
    if any(isinstance(k, (Mapping, list)) for k in keywords):
        raise RegisterError(f"{where}.keywords: expected a list of strings, found a nested list")
    return Event(
        name=str(data["name"]),
        start=start,
        end=end,
        kind=str(data.get("kind") or "tragedy"),
        keywords=tuple(str(k) for k in keywords),
        recurs=recurs,
    )


class EventRegister:
    """An immutable list of events plus the automaton over their keywords."""

    def __init__(self, events: Iterable[Event] = ()) -> None:
        self.events: tuple[Event, ...] = tuple(events)
        self._index = LexiconIndex(
            {
                str(i): _with_variants((*event.keywords, event.name))
                for i, event in enumerate(self.events)
            }
        )

    @classmethod
    def from_data(cls, data: object) -> EventRegister:
        if isinstance(data, Mapping) and "events" in data:
            data = data["events"]
        if data is None:
            return cls()
        if not isinstance(data, Sequence) or isinstance(data, str):
            raise RegisterError("the event register must be a YAML list of events")
        return cls(event_from_mapping(item, f"event #{n}") for n, item in enumerate(data, 1))

    @classmethod
    def from_yaml(cls, path: Path | str) -> EventRegister:
        try:
            data = read_yaml(path)
        except ValueError as error:
            # PyYAML itself raises ValueError for impossible dates such as 2012-13-01.
            raise RegisterError(
                f"{path}: not valid YAML or not a YYYY-MM-DD date ({error})"
            ) from error
        return cls.from_data(data)

    @classmethod
    def builtin(cls) -> EventRegister:
        """The built-in calendar of remembrance days and anniversaries of major tragedies."""
        return _builtin_register()

    def extended(self, other: EventRegister) -> EventRegister:
        """A register holding this register's events and then the other's."""
        return EventRegister((*self.events, *other.events))

    def active(self, day: dt.date) -> list[Event]:
        return [event for event in self.events if event.is_active(day)]

    def mentions(self, doc: Document, day: dt.date) -> list[tuple[Event, Hit]]:
        """Keyword hits of events that are active on ``day``, one per (event, span)."""
        found: list[tuple[Event, Hit]] = []
        for key, hits in self._index.find(doc).items():
            event = self.events[int(key)]
            if event.is_active(day):
                found.extend((event, hit) for hit in hits)
        return found

    def __len__(self) -> int:
        return len(self.events)


def _with_variants(keywords: Iterable[str]) -> list[str]:
    """Keywords plus their plain plural (a register lists "shooter", posts say "shooters") and,
    for phrases, the hashtag spelling without spaces ("not guilty" in "#notguilty")."""
    out = []
    for keyword in keywords:
        out.append(keyword)
        if keyword[-1:].isalpha() and not keyword.endswith(("s", "*")):
            out.append(keyword + "s")
        if " " in keyword.strip():
            out.append("#" + "".join(keyword.split()))
    return out


@functools.cache
def _builtin_register() -> EventRegister:
    text = (resources.files("sixfold.risk") / "calendar.yaml").read_text(encoding="utf-8")
    return EventRegister.from_data(yaml.safe_load(text))
