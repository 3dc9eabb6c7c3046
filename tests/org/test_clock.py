"""Moments as people read them: in the organisation's zone, labelled, one format."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from sixfold.org.clock import format_moment, organisation_zone, parse_moment, zone_labels
from tests import factories

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def test_a_moment_is_shown_in_the_zone_and_labelled() -> None:
    moment = datetime(2026, 11, 22, 10, 33, 46, tzinfo=UTC)
    assert format_moment(moment, AMSTERDAM) == "22 Nov 2026 11:33 CET"
    assert format_moment(moment.replace(month=7), AMSTERDAM) == "22 Jul 2026 12:33 CEST"
    assert format_moment(moment, ZoneInfo("UTC")) == "22 Nov 2026 10:33 UTC"


def test_a_moment_without_an_offset_is_read_as_utc() -> None:
    naive = datetime(2026, 11, 22, 10, 33, tzinfo=UTC).replace(tzinfo=None)
    assert format_moment(naive, AMSTERDAM) == "22 Nov 2026 11:33 CET"
    assert format_moment(None, AMSTERDAM) == "—"


def test_an_unknown_zone_name_falls_back_to_utc(db: Session) -> None:
    org = factories.organisation(db)
    org.timezone = "Mars/Olympus_Mons"
    assert organisation_zone(org).key == "UTC"
    assert organisation_zone(None).key == "UTC"


def test_only_iso_moments_are_read_as_moments() -> None:
    assert parse_moment("2026-11-22T10:33:46.799468+00:00") == datetime(
        2026, 11, 22, 10, 33, 46, 799468, tzinfo=UTC
    )
    for text in ("2026-11-22", "Storm warning", "2026-13-45T99:99", "12"):
        assert parse_moment(text) is None


def test_zone_labels_name_each_offset_of_the_year() -> None:
    assert zone_labels(AMSTERDAM, year=2026) == {60: "CET", 120: "CEST"}
    assert zone_labels(ZoneInfo("UTC"), year=2026) == {0: "UTC"}
    assert zone_labels(ZoneInfo("America/New_York"), year=2026) == {-300: "EST", -240: "EDT"}
