"""The sensitive-event register as people edit it: add, change and end events.

Events are validated by the risk library's own rules (`event_from_mapping`), so an event typed
into the settings page and one written in a YAML register file are accepted or refused alike.
An event is never deleted: the audit log and past verdicts refer to it, so ending it keeps the
row and closes its window.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sixfold import audit
from sixfold.db import utcnow
from sixfold.errors import Conflict, NotFound
from sixfold.guardrails.categories import event_kinds
from sixfold.guardrails.forms import (
    FormInvalid,
    diff,
    lines,
    local_now,
    local_today,
    web_url_problem,
)
from sixfold.guardrails.models import EventSuggestion, SensitiveEvent
from sixfold.guardrails.service import check, event_from
from sixfold.org.models import Organisation, Person
from sixfold.risk import Event, EventRegister, Finding, RegisterError, Verdict
from sixfold.risk.events import event_from_mapping

MAX_NAME_LENGTH = 300
MAX_KEYWORDS = 100
MAX_KEYWORD_LENGTH = 100
_HAS_WORD = re.compile(r"\w")


@dataclass(frozen=True, slots=True)
class EventInput:
    """The event form as typed: dates as YYYY-MM-DD text, keywords one per line."""

    name: str = ""
    kind: str = "tragedy"
    starts_on: str = ""
    ends_on: str = ""
    recurs_yearly: bool = False
    keywords: str = ""
    source_url: str = ""
    # Set when the form was opened from a news-feed suggestion the person is confirming.
    suggestion_id: int | None = None

    @classmethod
    def of(cls, row: SensitiveEvent) -> EventInput:
        return cls(
            name=row.name,
            kind=row.kind,
            starts_on=row.starts_on.isoformat(),
            ends_on=row.ends_on.isoformat() if row.ends_on else "",
            recurs_yearly=row.recurs == "yearly",
            keywords="\n".join(row.keywords),
            source_url=row.source_url,
        )


@dataclass(frozen=True, slots=True)
class _EventValues:
    name: str
    kind: str
    starts_on: dt.date
    ends_on: dt.date | None
    recurs: str | None
    keywords: list[str]
    source_url: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "starts_on": self.starts_on.isoformat(),
            "ends_on": self.ends_on.isoformat() if self.ends_on else None,
            "recurs": self.recurs,
            "keywords": self.keywords,
            "source_url": self.source_url,
        }


def validate_event(data: EventInput) -> _EventValues:
    """The form's values, or FormInvalid naming every field that is wrong."""
    name = " ".join(data.name.split())
    keywords = lines(data.keywords)
    source_url = data.source_url.strip()
    problems = _field_problems(name, data, keywords, source_url)
    if problems:
        raise FormInvalid(problems)
    recurs = "yearly" if data.recurs_yearly else None
    try:
        event = event_from_mapping(
            {
                "name": name,
                "start": data.starts_on.strip(),
                "end": data.ends_on.strip() or None,
                "kind": data.kind,
                "keywords": keywords,
                "recurs": recurs,
            },
            "event",
        )
    except RegisterError as error:
        raise FormInvalid(_register_problem(str(error))) from error
    # A yearly event without an end is a single day each year (a remembrance day); only an
    # event that happens once can go on until someone ends it.
    ends_on = event.end if data.ends_on.strip() or recurs else None
    return _EventValues(name, event.kind, event.start, ends_on, recurs, keywords, source_url)


def _field_problems(
    name: str, data: EventInput, keywords: list[str], source_url: str
) -> dict[str, str]:
    problems: dict[str, str] = {}
    if not name:
        problems["name"] = "Give the event a name."
    elif len(name) > MAX_NAME_LENGTH:
        problems["name"] = f"The name is longer than {MAX_NAME_LENGTH} characters."
    if data.kind not in event_kinds():
        problems["kind"] = "Choose one of the kinds in the list."
    if not data.starts_on.strip():
        problems["starts_on"] = "Give the first day on which posts should be checked against it."
    keyword_problem = _keywords_problem(keywords)
    if keyword_problem:
        problems["keywords"] = keyword_problem
    url_problem = web_url_problem(source_url) if source_url else None
    if url_problem:
        problems["source_url"] = url_problem
    return problems


def _keywords_problem(keywords: list[str]) -> str | None:
    if not keywords:
        return "Add at least one keyword, one per line: the words a post would use about it."
    if len(keywords) > MAX_KEYWORDS:
        return f"At most {MAX_KEYWORDS} keywords (there are {len(keywords)})."
    for keyword in keywords:
        if len(keyword) > MAX_KEYWORD_LENGTH:
            return f"“{keyword[:40]}…” is longer than {MAX_KEYWORD_LENGTH} characters."
        if not _HAS_WORD.search(keyword):
            return f"“{keyword}” has no letters or digits, so no post could ever match it."
    return None


def _register_problem(message: str) -> dict[str, str]:
    """The library's message ("event.end: …") as a problem attached to the field it names."""
    where, _, what = message.partition(": ")
    if where == "event.start":
        return {"starts_on": f"The start {what}."}
    if where == "event.end" or what.startswith("end "):
        return {"ends_on": f"The end {what}." if where == "event.end" else f"The {what}."}
    return {"form": message}


def get_event(session: Session, organisation: Organisation, event_id: int) -> SensitiveEvent:
    row = session.get(SensitiveEvent, event_id)
    if row is None or row.organisation_id != organisation.id:
        raise NotFound("There is no such event in your register.")
    return row


def add_event(
    session: Session,
    organisation: Organisation,
    data: EventInput,
    *,
    actor: audit.Actor,
    person: Person | None = None,
) -> SensitiveEvent:
    values = validate_event(data)
    suggestion = _open_suggestion(session, organisation, data.suggestion_id)
    now = utcnow()
    row = SensitiveEvent(
        organisation_id=organisation.id,
        created_by_id=person.id if person else None,
        created_at=now,
        updated_at=now,
    )
    _apply(row, values)
    session.add(row)
    session.flush()
    if suggestion is not None:
        suggestion.status, suggestion.event_id = "confirmed", row.id
    details = values.as_dict() | ({"suggestion_id": suggestion.id} if suggestion else {})
    _record(session, actor, "guardrails.event_added", row, details)
    return row


def _open_suggestion(
    session: Session, organisation: Organisation, suggestion_id: int | None
) -> EventSuggestion | None:
    if suggestion_id is None:
        return None
    suggestion = session.get(EventSuggestion, suggestion_id)
    if suggestion is None or suggestion.organisation_id != organisation.id:
        raise NotFound("There is no such suggestion.")
    if suggestion.status != "new":
        raise Conflict(f"This suggestion was already {suggestion.status}.")
    return suggestion


def change_event(
    session: Session,
    organisation: Organisation,
    event_id: int,
    data: EventInput,
    *,
    actor: audit.Actor,
) -> SensitiveEvent:
    row = get_event(session, organisation, event_id)
    values = validate_event(replace(data, suggestion_id=None))
    changes = diff(_values_of(row).as_dict(), values.as_dict())
    if changes:
        _apply(row, values)
        row.updated_at = utcnow()
        _record(session, actor, "guardrails.event_changed", row, {"changes": changes})
    return row


def end_event(
    session: Session,
    organisation: Organisation,
    event_id: int,
    *,
    actor: audit.Actor,
    today: dt.date | None = None,
) -> SensitiveEvent:
    """Close the event's window: it still counts today and no longer from tomorrow.

    A yearly event stops recurring. If today falls outside its yearly window, the window is
    closed yesterday, so ending it never makes today sensitive.
    """
    day = today or local_today(organisation)
    row = get_event(session, organisation, event_id)
    status = event_status(row, day)
    problem = end_problem(row, day)
    if problem:
        raise Conflict(problem)
    before = _values_of(row).as_dict()
    row.ends_on = day if status == "active" else day - dt.timedelta(days=1)
    row.recurs = None
    row.updated_at = utcnow()
    changes = diff(before, _values_of(row).as_dict())
    _record(session, actor, "guardrails.event_ended", row, {"changes": changes})
    return row


def end_problem(row: SensitiveEvent, today: dt.date) -> str | None:
    """Why the event cannot be ended today, or None when it can."""
    if event_status(row, today) == "ended":
        return f"“{row.name}” has already ended."
    if row.recurs is None and row.ends_on == today:
        return f"“{row.name}” already ends today."
    if row.starts_on > today:
        return f"“{row.name}” has not started yet: change its dates instead."
    return None


def _values_of(row: SensitiveEvent) -> _EventValues:
    return _EventValues(
        row.name,
        row.kind,
        row.starts_on,
        row.ends_on,
        row.recurs,
        list(row.keywords),
        row.source_url,
    )


def _apply(row: SensitiveEvent, values: _EventValues) -> None:
    row.name, row.kind, row.keywords = values.name, values.kind, values.keywords
    row.starts_on, row.ends_on, row.recurs = values.starts_on, values.ends_on, values.recurs
    row.source_url = values.source_url


def _record(
    session: Session, actor: audit.Actor, action: str, row: SensitiveEvent, details: dict[str, Any]
) -> None:
    audit.record(
        session,
        actor,
        action,
        target_type="sensitive_event",
        target_id=row.id,
        target=row.name,
        details=details,
    )


def event_status(row: SensitiveEvent, today: dt.date) -> str:
    """ "active" (posts today are checked against it), "ended" or "upcoming"."""
    if event_from(row).is_active(today):
        return "active"
    if row.recurs is None and row.ends_on is not None and row.ends_on < today:
        return "ended"
    return "upcoming"


def events_by_status(
    session: Session, organisation: Organisation, today: dt.date
) -> dict[str, list[SensitiveEvent]]:
    grouped: dict[str, list[SensitiveEvent]] = {"active": [], "upcoming": [], "ended": []}
    rows = session.scalars(
        select(SensitiveEvent)
        .where(SensitiveEvent.organisation_id == organisation.id)
        .order_by(SensitiveEvent.starts_on.desc(), SensitiveEvent.id.desc())
    )
    for row in rows:
        grouped[event_status(row, today)].append(row)
    grouped["upcoming"].reverse()  # soonest first
    return grouped


def pending_suggestions(session: Session, organisation: Organisation) -> int:
    return (
        session.scalar(
            select(func.count(EventSuggestion.id)).where(
                EventSuggestion.organisation_id == organisation.id, EventSuggestion.status == "new"
            )
        )
        or 0
    )


def builtin_active(today: dt.date) -> list[Event]:
    """Remembrance days of the built-in calendar that posts today are checked against."""
    return EventRegister.builtin().active(today)


MAX_TRY_LENGTH = 5000


@dataclass(frozen=True, slots=True)
class TryResult:
    """A sample post's verdict, with the text cut into pieces so findings can be highlighted."""

    text: str
    day: dt.date
    verdict: Verdict
    pieces: list[tuple[str, Finding | None]]


def try_text(
    session: Session, organisation: Organisation, text: str, *, day: str = ""
) -> TryResult:
    """The verdict a post would get under the organisation's rules, today or on `day`."""
    problems = {}
    if not text.strip():
        problems["text"] = "Type a sample post to check."
    elif len(text) > MAX_TRY_LENGTH:
        problems["text"] = f"Keep the sample under {MAX_TRY_LENGTH} characters."
    moment = local_now(organisation)
    if day.strip():
        try:
            moment = dt.datetime.combine(
                dt.date.fromisoformat(day.strip()), dt.time(12), moment.tzinfo
            )
        except ValueError:
            problems["day"] = "Give the day as YYYY-MM-DD."
    if problems:
        raise FormInvalid(problems)
    verdict = check(session, organisation, text, when=moment)
    return TryResult(text, moment.date(), verdict, _pieces(text, verdict.findings))


def _pieces(text: str, findings: tuple[Finding, ...]) -> list[tuple[str, Finding | None]]:
    """The text as plain and flagged pieces; a finding overlapping an earlier one is only listed."""
    pieces: list[tuple[str, Finding | None]] = []
    cursor = 0
    for finding in sorted(findings, key=lambda f: (f.start, -f.end)):
        if finding.start < cursor or finding.end <= finding.start:
            continue
        if finding.start > cursor:
            pieces.append((text[cursor : finding.start], None))
        pieces.append((text[finding.start : finding.end], finding))
        cursor = finding.end
    if cursor < len(text):
        pieces.append((text[cursor:], None))
    return pieces
