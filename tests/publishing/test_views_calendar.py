"""The calendar page: week and month views in the organisation's zone, with a channel filter."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from sixfold.auth.permissions import Role
from sixfold.channels import service as channels_service
from sixfold.org import service as org_service
from sixfold.publishing import drafts, schedule
from sixfold.publishing.models import PublishMode
from sixfold.publishing.publisher import Publication
from tests import factories
from tests.publishing.conftest import Newsroom
from tests.publishing.pages import Pages, open_pages

# Tuesday 7 July 2026, 08:15 UTC: 10:15 in Berlin.
DUE = datetime(2026, 7, 7, 8, 15, tzinfo=UTC)


@pytest.fixture
def pages(db: Session, session_factory: sessionmaker[Session], tmp_path: Path) -> Iterator[Pages]:
    yield from open_pages(db, session_factory, tmp_path)


@pytest.fixture
def planned(db: Session, newsroom: Newsroom) -> Publication:
    newsroom.org.timezone = "Europe/Berlin"
    post = newsroom.draft(db, "Summer trail guide", publish_mode=PublishMode.AT, publish_at=DUE)
    [row] = schedule.schedule_post(db, post, actor=factories.ACTOR)
    row.due_at = DUE  # scheduling clamps past times to now; the calendar needs a fixed week
    db.commit()
    return row


def test_the_week_shows_the_post_at_its_local_time_with_utc_in_the_title(
    pages: Pages, newsroom: Newsroom, planned: Publication
) -> None:
    page = pages.as_(newsroom.author).get("/calendar", date="2026-07-09")
    assert page.status_code == 200
    assert "6 Jul – 12 Jul 2026" in page.text
    assert "Europe/Berlin" in page.text
    assert f'href="/posts/{planned.post_id}"' in page.text
    assert 'title="07 Jul 2026 08:15 UTC"' in page.text
    assert ">10:15</time>" in page.text
    assert ">10:00</th>" in page.text
    assert ">09:00</th>" not in page.text  # only hours that have posts
    assert 'href="/calendar?view=week&amp;date=2026-07-02"' in page.text  # previous week
    assert 'href="/calendar?view=week&amp;date=2026-07-16"' in page.text  # next week


def test_an_empty_week_says_so(pages: Pages, newsroom: Newsroom, planned: Publication) -> None:
    page = pages.as_(newsroom.author).get("/calendar", date="2026-08-05")
    assert "Nothing is scheduled or published in this week" in page.text


def test_the_month_view_is_a_grid_of_days_with_chips(
    pages: Pages, newsroom: Newsroom, planned: Publication
) -> None:
    page = pages.as_(newsroom.leader).get("/calendar", view="month", date="2026-07-20")
    assert page.status_code == 200
    assert "July 2026" in page.text
    assert page.text.count('class="chip state-pending"') == 1
    assert 'href="/calendar?view=month&amp;date=2026-06-01"' in page.text
    assert 'href="/calendar?view=month&amp;date=2026-08-01"' in page.text
    assert 'class="in-month"' in page.text
    assert "other-month" in page.text


def test_the_channel_filter_shows_one_channel(
    pages: Pages, db: Session, newsroom: Newsroom, planned: Publication
) -> None:
    brand = channels_service.create_channel(
        db, newsroom.org, kind="null", name="Brand account", actor=factories.ACTOR
    )
    db.commit()
    pages.as_(newsroom.author)
    everything = pages.get("/calendar", date="2026-07-07")
    assert "Summer trail guide" in everything.text
    only_brand = pages.get("/calendar", date="2026-07-07", channel=brand.id)
    assert only_brand.status_code == 200
    assert "Summer trail guide" not in only_brand.text
    assert "on this channel" in only_brand.text
    assert f'<option value="{brand.id}" selected>' in only_brand.text


def test_bad_parameters_are_refused(pages: Pages, db: Session, newsroom: Newsroom) -> None:
    other = org_service.ensure_organisation(db, "Other Org", "other-org")
    theirs = channels_service.create_channel(
        db, other, kind="internal", name="Theirs", actor=factories.ACTOR
    )
    db.commit()
    pages.as_(newsroom.author)
    assert pages.get("/calendar", date="2026-13-01").status_code == 422
    assert pages.get("/calendar", view="year").status_code == 422
    assert pages.get("/calendar", channel=theirs.id).status_code == 404


def test_only_people_who_draft_posts_see_the_calendar(
    pages: Pages, db: Session, newsroom: Newsroom
) -> None:
    analyst = factories.person(db, newsroom.org, roles=(Role.NETWORK_ANALYST,), password=None)
    assert pages.as_(analyst).get("/calendar").status_code == 403
    assert pages.as_(None).get("/calendar").status_code == 303


def test_a_post_to_two_channels_shows_once_per_channel(
    pages: Pages, db: Session, newsroom: Newsroom
) -> None:
    brand = channels_service.create_channel(
        db, newsroom.org, kind="null", name="Brand account", actor=factories.ACTOR
    )
    post = drafts.create_draft(
        db,
        newsroom.org,
        newsroom.author,
        drafts.DraftInput(text="Both places", channel_ids=[newsroom.stream.id, brand.id]),
        actor=factories.ACTOR,
    )
    schedule.schedule_post(db, post, actor=factories.ACTOR)
    db.commit()
    page = pages.as_(newsroom.author).get("/calendar").text
    assert page.count(f'href="/posts/{post.id}"') == 2
    assert "Brand account" in page
    assert "Internal stream" in page


def test_a_post_the_viewer_may_not_open_shows_as_a_taken_slot_without_its_text(
    pages: Pages, db: Session, newsroom: Newsroom, planned: Publication
) -> None:
    colleague = factories.person(db, newsroom.org, roles=(Role.CONTRIBUTOR,), password=None)
    db.commit()
    for view in ("week", "month"):
        page = pages.as_(colleague).get("/calendar", date="2026-07-09", view=view).text
        assert ">10:15</time>" in page or view == "month"  # the slot is taken...
        assert "Another author’s post" in page
        assert "Summer trail guide" not in page  # ...but what goes out is not shown
        assert f'href="/posts/{planned.post_id}"' not in page  # nor a link to a 404
    reviewer = pages.as_(newsroom.mentor).get("/calendar", date="2026-07-09").text
    assert "Summer trail guide" in reviewer
    assert f'href="/posts/{planned.post_id}"' in reviewer
    planned.state = "confirmed"  # published: what it says is public now, its page still not
    db.commit()
    page = pages.as_(colleague).get("/calendar", date="2026-07-09").text
    assert "Summer trail guide" in page
    assert "Another author’s post" not in page
    assert f'href="/posts/{planned.post_id}"' not in page
