"""The audit page as a person reads it: whole words, readable details, times in the zone."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from sixfold import audit
from sixfold.auth.permissions import Role
from sixfold.channels import service as channels_service
from sixfold.config import Settings
from sixfold.web.audit_reading import Detail, Reading, audit_row
from tests import factories
from tests.web.conftest import sign_in

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
READING = Reading(zone=AMSTERDAM, channel_names={1: "Northwind stream", 2: "Brand account"})


def _entry(**details: object) -> audit.AuditEntry:
    return audit.AuditEntry(
        actor="leader@northwind.example",
        action="post.scheduled",
        target_type="post",
        target_id="7",
        target="Short post",
        details=details,
    )


def test_details_are_labelled_and_moments_shown_in_the_zone() -> None:
    row = audit_row(
        _entry(paused_since="2026-11-22T10:33:46.799468+00:00", held=0, synthetic=True),
        READING,
    )
    assert row.details == (
        Detail("Paused since", "22 Nov 2026 11:33 CET"),
        Detail("Held", "0"),
        Detail("Synthetic", "yes"),
    )


def test_channel_ids_read_as_names_and_lists_as_lists() -> None:
    row = audit_row(
        _entry(
            channels={"1": "2026-11-24T08:30:00+00:00", "9": "2026-11-24T08:30:00+00:00"},
            review=["Every post is reviewed.", "The risk check says review."],
            before={"review_steps": []},
            comment=None,
        ),
        READING,
    )
    channels, review, before = row.details  # a value of None is left out
    assert channels == Detail(
        "Channels",
        parts=(
            Detail("Northwind stream", "24 Nov 2026 09:30 CET"),
            Detail("channel 9", "24 Nov 2026 09:30 CET"),  # since deleted
        ),
    )
    assert review == Detail(
        "Review",
        parts=(Detail("", "Every post is reviewed."), Detail("", "The risk check says review.")),
    )
    assert before == Detail("Before", parts=(Detail("Review steps", "none"),))


def test_a_post_label_cut_when_stored_ends_at_a_word() -> None:
    stored = ("Thank you to everyone who joined Friday's repair café in Utrecht and brought " * 2)[
        :80
    ]
    entry = _entry()
    entry.target = stored
    assert audit_row(entry, READING).target == (
        "Thank you to everyone who joined Friday's repair café in Utrecht and brought…"
    )
    entry.target_type = "channel"
    assert audit_row(entry, READING).target == stored


def test_the_page_shows_readable_details_and_keeps_addresses_whole(
    client: TestClient, db: Session, settings: Settings
) -> None:
    organisation = factories.organisation(db)
    organisation.timezone = "Europe/Amsterdam"
    admin = factories.person(db, organisation, roles=(Role.ADMINISTRATOR,), settings=settings)
    channel = channels_service.create_channel(
        db, organisation, kind="internal", name="Northwind stream", actor=factories.ACTOR
    )
    audit.record(
        db,
        audit.Actor(id=admin.id, label="contributor@northwind.example"),
        "post.scheduled",
        target_type="post",
        target_id=7,
        target="Trail tip",
        details={
            "channels": {str(channel.id): "2026-11-24T08:30:00+00:00"},
            "review": ["Every post to Brand account is reviewed."],
        },
    )
    db.commit()
    sign_in(client, admin.email, factories.PASSWORD)
    page = client.get("/audit", params={"action": "post.scheduled"}).text
    body = page.split("<tbody>")[1]
    assert "contributor<wbr>@northwind.example" in body  # wraps before the "@" only
    assert "<dt>Channels</dt>" in body
    assert "<dt>Northwind stream</dt> <dd>24 Nov 2026 09:30 CET</dd>" in body
    assert "<li>Every post to Brand account is reviewed.</li>" in body
    details = body.split('data-label="Details">')[1].split("</td>")[0]
    for raw in ("[", "{", "+00:00"):
        assert raw not in details


def test_the_day_filters_mean_the_organisations_days(
    client: TestClient, db: Session, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    organisation = factories.organisation(db)
    organisation.timezone = "Europe/Amsterdam"
    admin = factories.person(db, organisation, roles=(Role.ADMINISTRATOR,), settings=settings)
    # 00:30 in Amsterdam on 22 November is still 21 November in UTC.
    monkeypatch.setattr(audit, "utcnow", lambda: datetime(2026, 11, 21, 23, 30, tzinfo=UTC))
    audit.record(db, audit.Actor(id=admin.id, label="early"), "test.early_morning")
    monkeypatch.undo()
    db.commit()
    sign_in(client, admin.email, factories.PASSWORD)
    query = {"action": "test.early_morning"}
    assert client.get("/api/v1/audit", params={**query, "since": "2026-11-22"}).json()["total"] == 1
    assert client.get("/api/v1/audit", params={**query, "until": "2026-11-21"}).json()["total"] == 0
    page = client.get("/audit", params={**query, "since": "2026-11-22", "until": "2026-11-22"})
    assert "early_morning" in page.text.split("<tbody>")[1]
