from __future__ import annotations

import datetime as dt

from sixfold.risk import Event, EventRegister, Severity
from tests.risk.helpers import by_scanner, check

SANDY = Event(
    "Hurricane Sandy",
    dt.date(2012, 10, 28),
    dt.date(2012, 11, 10),
    kind="disaster",
    keywords=("Sandy", "hurricane", "shooter"),
)
REGISTER = EventRegister.builtin().extended(EventRegister([SANDY]))
DAY = "2012-10-30"


def _events(text: str, day: str = DAY) -> list[tuple[Severity, str]]:
    verdict = check(text, day, events=REGISTER)
    return [(f.severity, f.message) for f in by_scanner(verdict, "sensitive_events")]


def test_active_event_with_promotion_blocks_and_explains() -> None:
    [(severity, message)] = _events("Stay safe from #Sandy! Shop our site, free shipping today")
    assert severity is Severity.BLOCK
    assert "'Sandy' matches the active event 'Hurricane Sandy' (28 Oct 2012)" in message


def test_a_joke_about_an_active_event_blocks() -> None:
    [(severity, _)] = _events("Sandy is really blowing up our timeline lol")
    assert severity is Severity.BLOCK


def test_plain_mention_asks_for_review_and_a_tribute_is_only_noted() -> None:
    assert _events("Hurricane update: what we know so far")[0][0] is Severity.REVIEW
    tribute = _events("Our thoughts are with everyone affected by the hurricane.")
    assert tribute[0][0] is Severity.INFO


def test_same_words_outside_the_window_are_fine() -> None:
    assert _events("Sandy beaches and free shipping!", day="2013-06-01") == []


def test_builtin_remembrance_day_with_a_sale() -> None:
    [(severity, message)] = _events("Never forget. 9/11 sale: 20% off everything", "2015-09-11")
    assert severity is Severity.BLOCK
    assert "September 11 attacks" in message


def test_evasion_with_homoglyphs_and_zero_width_characters() -> None:
    found = _events("Ѕаndу blew in, so did our d\u200beals: 30% off")  # Cyrillic lookalikes
    assert found
    assert found[0][0] is Severity.BLOCK


def test_register_keywords_inside_idioms_are_not_mentions() -> None:
    register = EventRegister(
        [
            Event(
                "Cinema shooting",
                dt.date(2012, 7, 20),
                dt.date(2012, 8, 10),
                keywords=("shooting",),
            )
        ]
    )
    verdict = check("Make a wish on a shooting star tonight", "2012-07-25", events=register)
    assert by_scanner(verdict, "sensitive_events") == []
    verdict = check("Thoughts on the shooting?", "2012-07-25", events=register)
    assert by_scanner(verdict, "sensitive_events")


def test_campaign_cheer_on_a_day_of_mourning_is_reviewed() -> None:
    from tests.risk.helpers import flagged_by

    text = "Our thoughts are with Newtown. #PrayForNewtown #HappyHolidays"
    assert flagged_by(text, "sensitive_events", "2012-12-14")
    calm = "Our thoughts are with Newtown. #PrayForNewtown"
    assert not flagged_by(calm, "sensitive_events", "2012-12-14")
