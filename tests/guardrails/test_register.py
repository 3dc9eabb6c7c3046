"""The event register as people edit it: events become part of the verdicts, and end cleanly."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from sixfold.audit import AuditEntry
from sixfold.errors import Conflict, NotFound
from sixfold.guardrails import service, settings_service
from sixfold.guardrails.forms import FormInvalid, local_today
from sixfold.guardrails.settings_service import EventInput
from sixfold.risk import VerdictLevel
from tests.guardrails.conftest import Guardians

HARBOUR = EventInput(name="Harbour fire", kind="disaster", keywords="harbour fire")


def harbour(guardians: Guardians, **changes: object) -> EventInput:
    """The harbour-fire event, starting today where the organisation is."""
    today = local_today(guardians.org).isoformat()
    return _with(HARBOUR, starts_on=today, **changes)


def _with(data: EventInput, **changes: object) -> EventInput:
    return replace(data, **changes)  # type: ignore[arg-type]


def flagged(db: Session, guardians: Guardians, text: str, when: dt.datetime | None = None) -> bool:
    verdict = service.check(db, guardians.org, text, when=when)
    return any(f.category == "sensitive_event" for f in verdict.findings)


def actions(db: Session) -> list[str]:
    return [e.action for e in db.scalars(select(AuditEntry).order_by(AuditEntry.seq))]


def test_an_added_event_flags_posts_and_ending_it_stops_that(
    db: Session, guardians: Guardians
) -> None:
    text = "Harbour fire? Hot deals!"
    assert not flagged(db, guardians, text)
    row = settings_service.add_event(
        db, guardians.org, harbour(guardians), actor=guardians.actor, person=guardians.leader
    )
    db.commit()
    verdict = service.check(db, guardians.org, text)
    assert verdict.verdict == VerdictLevel.BLOCK
    assert any("Harbour fire" in f.message for f in verdict.findings)

    today = local_today(guardians.org)
    settings_service.end_event(db, guardians.org, row.id, actor=guardians.actor, today=today)
    db.commit()
    assert row.ends_on == today
    tomorrow = dt.datetime.combine(today + dt.timedelta(days=1), dt.time(12), dt.UTC)
    assert not flagged(db, guardians, text, when=tomorrow)
    # The rest of the day it still counts: the news is still the day's news.
    noon = dt.datetime.combine(today, dt.time(12), dt.UTC)
    assert flagged(db, guardians, text, when=noon)
    assert actions(db)[-2:] == ["guardrails.event_added", "guardrails.event_ended"]


def test_an_event_is_audited_with_what_changed(db: Session, guardians: Guardians) -> None:
    row = settings_service.add_event(db, guardians.org, harbour(guardians), actor=guardians.actor)
    changed = _with(EventInput.of(row), keywords="harbour fire\nRotterdam blaze", kind="tragedy")
    settings_service.change_event(db, guardians.org, row.id, changed, actor=guardians.actor)
    entry = db.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
    assert entry is not None
    assert entry.action == "guardrails.event_changed"
    assert entry.details["changes"] == {
        "kind": {"from": "disaster", "to": "tragedy"},
        "keywords": {"from": ["harbour fire"], "to": ["harbour fire", "Rotterdam blaze"]},
    }
    assert flagged(db, guardians, "Rotterdam blaze: 20% off today")


def test_saving_an_unchanged_event_records_nothing(db: Session, guardians: Guardians) -> None:
    row = settings_service.add_event(db, guardians.org, harbour(guardians), actor=guardians.actor)
    before = len(actions(db))
    settings_service.change_event(
        db, guardians.org, row.id, EventInput.of(row), actor=guardians.actor
    )
    assert len(actions(db)) == before


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"name": "  "}, "name", "name"),
        ({"name": "x" * 301}, "name", "300"),
        ({"kind": "party"}, "kind", "kinds"),
        ({"starts_on": ""}, "starts_on", "first day"),
        ({"starts_on": "2026-02-30"}, "starts_on", "YYYY-MM-DD"),
        ({"starts_on": "2026-05-02", "ends_on": "2026-05-01"}, "ends_on", "before start"),
        ({"keywords": "\n  \n"}, "keywords", "at least one"),
        ({"keywords": "\n".join(f"word{i}" for i in range(101))}, "keywords", "At most 100"),
        ({"keywords": "fire\n" + "x" * 101}, "keywords", "longer than 100"),
        ({"keywords": "!!!"}, "keywords", "no letters"),
        ({"source_url": "javascript:alert(1)"}, "source_url", "http"),
        ({"source_url": "https://user:pw@news.example/"}, "source_url", "password"),
    ],
)
def test_invalid_events_are_refused_with_a_reason_per_field(
    db: Session, guardians: Guardians, changes: dict[str, str], field: str, words: str
) -> None:
    with pytest.raises(FormInvalid) as caught:
        settings_service.add_event(
            db, guardians.org, _with(harbour(guardians), **changes), actor=guardians.actor
        )
    assert field in caught.value.problems
    assert words in caught.value.problems[field]
    assert caught.value.status_code == 422


def test_keywords_are_one_per_line_trimmed_and_without_repeats(
    db: Session, guardians: Guardians
) -> None:
    data = _with(harbour(guardians), keywords=" harbour fire \n\nHarbour Fire\n  blaze ")
    row = settings_service.add_event(db, guardians.org, data, actor=guardians.actor)
    assert row.keywords == ["harbour fire", "blaze"]


def test_a_yearly_event_without_an_end_is_one_day_a_year(db: Session, guardians: Guardians) -> None:
    data = _with(harbour(guardians), starts_on="2020-03-11", recurs_yearly=True)
    row = settings_service.add_event(db, guardians.org, data, actor=guardians.actor)
    assert (row.recurs, row.ends_on) == ("yearly", dt.date(2020, 3, 11))
    assert flagged(db, guardians, "Harbour fire sale", dt.datetime(2031, 3, 11, 12, tzinfo=dt.UTC))
    assert not flagged(
        db, guardians, "Harbour fire sale", dt.datetime(2031, 3, 12, 12, tzinfo=dt.UTC)
    )


def test_ending_a_yearly_event_outside_its_window_never_makes_today_sensitive(
    db: Session, guardians: Guardians
) -> None:
    today = dt.date(2026, 6, 5)
    data = _with(harbour(guardians), starts_on="2020-03-11", recurs_yearly=True)
    row = settings_service.add_event(db, guardians.org, data, actor=guardians.actor)
    settings_service.end_event(db, guardians.org, row.id, actor=guardians.actor, today=today)
    assert (row.recurs, row.ends_on) == (None, dt.date(2026, 6, 4))
    assert settings_service.event_status(row, today) == "ended"
    assert not flagged(db, guardians, "Harbour fire", dt.datetime(2027, 3, 11, 12, tzinfo=dt.UTC))


def test_an_event_cannot_end_twice_or_before_it_starts(db: Session, guardians: Guardians) -> None:
    today = dt.date(2026, 6, 5)
    past = _with(harbour(guardians), starts_on="2026-01-01", ends_on="2026-02-01")
    ended = settings_service.add_event(db, guardians.org, past, actor=guardians.actor)
    later = _with(harbour(guardians), starts_on="2026-07-01")
    upcoming = settings_service.add_event(db, guardians.org, later, actor=guardians.actor)
    with pytest.raises(Conflict, match="already ended"):
        settings_service.end_event(db, guardians.org, ended.id, actor=guardians.actor, today=today)
    with pytest.raises(Conflict, match="not started"):
        settings_service.end_event(
            db, guardians.org, upcoming.id, actor=guardians.actor, today=today
        )


def test_events_of_another_organisation_are_not_found(db: Session, guardians: Guardians) -> None:
    from sixfold.org import service as org_service

    other = org_service.ensure_organisation(db, "Other", "other")
    row = settings_service.add_event(db, other, harbour(guardians), actor=guardians.actor)
    with pytest.raises(NotFound):
        settings_service.get_event(db, guardians.org, row.id)
    with pytest.raises(NotFound):
        settings_service.end_event(db, guardians.org, row.id, actor=guardians.actor)
    assert not flagged(db, guardians, "Harbour fire? Hot deals!")


def test_events_are_grouped_as_active_upcoming_and_ended(db: Session, guardians: Guardians) -> None:
    today = dt.date(2026, 6, 5)
    for name, start, end in [
        ("Now", "2026-06-01", ""),
        ("Soon", "2026-08-01", "2026-08-02"),
        ("Sooner", "2026-07-01", "2026-07-02"),
        ("Over", "2026-01-01", "2026-01-10"),
    ]:
        data = _with(harbour(guardians), name=name, starts_on=start, ends_on=end)
        settings_service.add_event(db, guardians.org, data, actor=guardians.actor)
    grouped = settings_service.events_by_status(db, guardians.org, today)
    assert {k: [e.name for e in v] for k, v in grouped.items()} == {
        "active": ["Now"],
        "upcoming": ["Sooner", "Soon"],
        "ended": ["Over"],
    }


def test_confirming_a_suggestion_links_it_to_the_new_event(
    db: Session, guardians: Guardians
) -> None:
    from sixfold.guardrails.models import EventSuggestion

    suggestion = EventSuggestion(
        organisation_id=guardians.org.id, guid="g", title="Harbour fire", keywords=["harbour"]
    )
    db.add(suggestion)
    db.flush()
    data = _with(harbour(guardians), suggestion_id=suggestion.id)
    row = settings_service.add_event(db, guardians.org, data, actor=guardians.actor)
    assert (suggestion.status, suggestion.event_id) == ("confirmed", row.id)
    with pytest.raises(Conflict, match="already confirmed"):
        settings_service.add_event(db, guardians.org, data, actor=guardians.actor)


def test_try_it_highlights_what_the_check_found(db: Session, guardians: Guardians) -> None:
    settings_service.add_event(db, guardians.org, harbour(guardians), actor=guardians.actor)
    result = settings_service.try_text(db, guardians.org, "Harbour fire? Hot deals!")
    assert result.verdict.verdict == VerdictLevel.BLOCK
    assert "".join(piece for piece, _ in result.pieces) == "Harbour fire? Hot deals!"
    assert next(piece for piece, finding in result.pieces if finding) == "Harbour fire"
    on_another_day = settings_service.try_text(
        db, guardians.org, "Harbour fire? Hot deals!", day="2020-01-01"
    )
    assert on_another_day.day == dt.date(2020, 1, 1)
    assert not any(f.category == "sensitive_event" for f in on_another_day.verdict.findings)


@pytest.mark.parametrize(("text", "day"), [("", ""), (" ", ""), ("x" * 5001, ""), ("x", "soon")])
def test_try_it_refuses_empty_or_huge_samples(
    db: Session, guardians: Guardians, text: str, day: str
) -> None:
    with pytest.raises(FormInvalid):
        settings_service.try_text(db, guardians.org, text, day=day)
