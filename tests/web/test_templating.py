"""The shared template filters: every page tells time the same way."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from sixfold.auth.permissions import Role
from sixfold.config import Settings
from sixfold.web.templating import make_templates
from tests import factories
from tests.web.conftest import sign_in

MOMENT = datetime(2026, 11, 22, 10, 33, tzinfo=UTC)


def _when(**context: object) -> str:
    return make_templates().env.from_string("{{ moment | when }}").render(**context)


def test_when_shows_the_organisation_zone_with_its_label() -> None:
    assert _when(moment=MOMENT, org_zone=ZoneInfo("Europe/Amsterdam")) == "22 Nov 2026 11:33 CET"


def test_when_without_a_zone_says_utc() -> None:
    assert _when(moment=MOMENT) == "22 Nov 2026 10:33 UTC"
    assert _when(moment=None) == "—"


def test_pages_show_times_in_the_organisation_zone(
    client: TestClient, db: Session, settings: Settings
) -> None:
    organisation = factories.organisation(db)
    organisation.timezone = "Asia/Tokyo"  # no summer time: the label is always JST
    admin = factories.person(db, organisation, roles=(Role.ADMINISTRATOR,), settings=settings)
    db.commit()
    sign_in(client, admin.email, factories.PASSWORD)
    for path in ("/profile", "/audit"):
        page = client.get(path).text
        assert " JST" in page, path
        assert " UTC<" not in page, path
