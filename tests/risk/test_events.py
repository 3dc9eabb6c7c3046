from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from sixfold.risk import Document, Event, EventRegister, RegisterError

AURORA = Event(
    name="Aurora cinema shooting",
    start=dt.date(2012, 7, 20),
    end=dt.date(2012, 8, 10),
    kind="mass_shooting",
    keywords=("shooter", "Aurora"),
)


def test_one_off_event_is_active_only_inside_its_window() -> None:
    assert AURORA.is_active(dt.date(2012, 7, 20))
    assert AURORA.is_active(dt.date(2012, 8, 10))
    assert not AURORA.is_active(dt.date(2012, 8, 11))
    assert not AURORA.is_active(dt.date(2013, 7, 21))


def test_yearly_event_recurs_from_its_first_year_and_may_wrap_new_year() -> None:
    new_year = Event("Winter vigil", dt.date(2010, 12, 30), dt.date(2011, 1, 2), recurs="yearly")
    assert new_year.is_active(dt.date(2015, 12, 31))
    assert new_year.is_active(dt.date(2016, 1, 1))
    assert not new_year.is_active(dt.date(2016, 1, 3))
    assert not new_year.is_active(dt.date(2009, 12, 31))


def test_mentions_match_plurals_and_hashtag_spellings_only_on_active_days() -> None:
    register = EventRegister(
        [
            AURORA,
            Event(
                "Casey Anthony verdict",
                dt.date(2011, 7, 5),
                dt.date(2011, 7, 20),
                keywords=("not guilty",),
            ),
        ]
    )
    doc = Document("Good morning, shooters! #NotGuilty")
    assert [e.name for e, _ in register.mentions(doc, dt.date(2012, 7, 21))] == [AURORA.name]
    names = [e.name for e, _ in register.mentions(doc, dt.date(2011, 7, 6))]
    assert names == ["Casey Anthony verdict"]


def test_builtin_calendar_knows_the_big_remembrance_days() -> None:
    register = EventRegister.builtin()
    active = {e.name for e in register.active(dt.date(2024, 9, 11))}
    assert "September 11 attacks" in active
    assert "Pearl Harbor attack" in {e.name for e in register.active(dt.date(2030, 12, 7))}
    holocaust = {e.name for e in register.active(dt.date(2025, 1, 27))}
    assert "International Holocaust Remembrance Day" in holocaust


def test_loads_the_cli_yaml_format(tmp_path: Path) -> None:
    path = tmp_path / "events.yaml"
    path.write_text(
        "- name: Hurricane Sandy\n  start: 2012-10-28\n  end: 2012-11-10\n  recurs: null\n"
        "  kind: disaster\n  keywords: [Sandy, hurricane]\n"
    )
    register = EventRegister.from_yaml(path)
    assert register.events[0].keywords == ("Sandy", "hurricane")
    assert register.events[0].label == "Hurricane Sandy (28 Oct 2012)"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("- start: 2012-01-01\n", "needs at least 'name' and 'start'"),
        ("- {name: x, start: 2012-13-01}\n", "not a YYYY-MM-DD date"),
        ("- {name: x, start: 2012-01-01, recurs: weekly}\n", "recurs"),
        ("- {name: x, start: 2012-01-05, end: 2012-01-01}\n", "before start"),
        ("name: x\n", "must be a YAML list"),
        ("- [unclosed\n", "not valid YAML"),
    ],
)
def test_malformed_registers_say_what_is_wrong(tmp_path: Path, body: str, message: str) -> None:
    path = tmp_path / "events.yaml"
    path.write_text(body)
    with pytest.raises(RegisterError, match=message):
        EventRegister.from_yaml(path)
