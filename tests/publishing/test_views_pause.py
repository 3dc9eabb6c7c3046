"""The crisis pause pages: pause with a reason, the banner on every page, resume, and the
decisions on what became overdue (publish now, reschedule, cancel, all at once)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from sixfold.audit import Actor, AuditEntry
from sixfold.channels import service as channels_service
from sixfold.channels.models import StreamPost
from sixfold.jobs import Runner
from sixfold.org import service as org_service
from sixfold.org.clock import format_moment
from sixfold.publishing import drafts, pause, schedule
from sixfold.publishing.models import PostStatus
from sixfold.publishing.publisher import Publication
from tests import factories
from tests.publishing.conftest import Newsroom
from tests.publishing.pages import Pages, open_pages

REASON = "Harbour fire: nothing promotional until further notice."


@pytest.fixture
def pages(db: Session, session_factory: sessionmaker[Session], tmp_path: Path) -> Iterator[Pages]:
    yield from open_pages(db, session_factory, tmp_path)


def held(db: Session, newsroom: Newsroom, runner: Runner, *texts: str) -> list[Publication]:
    """Posts that came due during an organisation-wide pause (still in force)."""
    rows = []
    for text in texts or ("Trail guide out today.",):
        post = newsroom.draft(db, text)
        rows += schedule.schedule_post(db, post, actor=factories.ACTOR)
    actor = Actor(id=newsroom.leader.id, label=newsroom.leader.email)
    pause.pause(db, newsroom.org, reason=REASON, actor=actor)
    db.commit()
    assert runner.run_single_cycle() == len(rows)
    db.expire_all()
    assert {r.state for r in rows} == {"held"}
    return rows


def resumed(db: Session, newsroom: Newsroom) -> None:
    pause.resume(db, newsroom.org, actor=factories.ACTOR)
    db.commit()


def test_the_page_says_publishing_runs_and_offers_the_form(
    pages: Pages, newsroom: Newsroom
) -> None:
    page = pages.as_(newsroom.leader).get("/publishing/pause")
    assert page.status_code == 200
    assert "Publishing is running" in page.text
    assert 'name="reason"' in page.text
    assert "Only Internal stream" in page.text


def test_a_pause_without_a_reason_is_refused_and_says_why(
    pages: Pages, db: Session, newsroom: Newsroom
) -> None:
    page = pages.as_(newsroom.leader).post("/publishing/pause", {"reason": "  "})
    assert page.status_code == 422
    assert "Say why publishing is paused" in page.text
    assert pause.active_pauses(db, newsroom.org.id) == []


def test_a_refused_pause_keeps_the_chosen_channel_and_reason(
    pages: Pages, newsroom: Newsroom
) -> None:
    typed = {"reason": "A" * (pause.REASON_MAX_CHARS + 1), "channel": str(newsroom.stream.id)}
    page = pages.as_(newsroom.leader).post("/publishing/pause", typed)
    assert page.status_code == 422
    assert f'<option value="{newsroom.stream.id}" selected>Only Internal stream' in page.text
    assert typed["reason"] in page.text


@pytest.mark.parametrize("channel", ["²", "٣", "x", "9" * 20, "9" * 5000])
def test_a_channel_that_is_not_a_number_is_refused_in_words(
    pages: Pages, db: Session, newsroom: Newsroom, channel: str
) -> None:
    page = pages.as_(newsroom.leader).post(
        "/publishing/pause", {"reason": REASON, "channel": channel}
    )
    assert page.status_code == 422
    assert "Choose the whole organisation or one of the channels." in page.text
    assert pause.active_pauses(db, newsroom.org.id) == []


def test_the_banner_is_on_every_page_while_paused_and_gone_after_resume(
    pages: Pages, db: Session, newsroom: Newsroom
) -> None:
    done = pages.as_(newsroom.leader).post("/publishing/pause", {"reason": REASON})
    assert (done.status_code, done.headers["location"]) == (303, "/publishing/pause")

    for_author = pages.as_(newsroom.author).get("/people").text
    assert 'class="pause-banner" role="alert"' in for_author
    assert f"Publishing is paused</strong> — {REASON}" in for_author
    assert newsroom.leader.name in for_author
    assert 'href="/publishing/pause"' not in for_author  # the author may not resume
    for_leader = pages.as_(newsroom.leader).get("/people").text
    assert "Review or resume the pause" in for_leader
    assert "pause-banner" not in pages.as_(None).get("/login").text

    back = pages.as_(newsroom.leader).post("/publishing/resume")
    assert (back.status_code, back.headers["location"]) == (303, "/publishing/overdue?done=resumed")
    assert "pause-banner" not in pages.as_(newsroom.author).get("/people").text


def test_the_banner_the_page_and_a_second_pause_tell_the_same_time(
    pages: Pages, db: Session, newsroom: Newsroom
) -> None:
    newsroom.org.timezone = "Asia/Tokyo"  # no summer time: the label is always JST
    db.commit()
    pages.as_(newsroom.leader).post("/publishing/pause", {"reason": REASON})
    (row,) = pause.active_pauses(db, newsroom.org.id)
    since = format_moment(row.started_at, ZoneInfo("Asia/Tokyo"))
    assert since.endswith(" JST")
    page = pages.get("/publishing/pause").text
    assert f"{since}</time>" in page  # the table of pauses
    assert f"{since}</span>, by {newsroom.leader.name}" in page  # the banner
    again = pages.post("/publishing/pause", {"reason": "twice"})
    assert f"already paused since {since}." in again.text


def test_pausing_one_channel_names_it_and_resuming_it_leaves_others_running(
    pages: Pages, db: Session, newsroom: Newsroom
) -> None:
    channel = str(newsroom.stream.id)
    pages.as_(newsroom.leader).post("/publishing/pause", {"reason": REASON, "channel": channel})
    page = pages.get("/publishing/pause").text
    assert "Publishing is paused on Internal stream" in page
    assert "Resume Internal stream" in page
    again = pages.post("/publishing/pause", {"reason": "twice", "channel": channel})
    assert again.status_code == 409
    assert "already paused on Internal stream" in again.text
    assert pages.post("/publishing/resume", {"channel": channel}).status_code == 303
    assert pause.active_pauses(db, newsroom.org.id) == []


def test_resuming_when_nothing_is_paused_says_so(pages: Pages, newsroom: Newsroom) -> None:
    page = pages.as_(newsroom.leader).post("/publishing/resume")
    assert page.status_code == 409
    assert "Publishing is not paused" in page.text


def test_resume_lists_held_posts_and_publish_now_sends_them(
    pages: Pages, db: Session, newsroom: Newsroom, runner: Runner
) -> None:
    [row] = held(db, newsroom, runner)
    pages.as_(newsroom.leader).post("/publishing/resume")

    page = pages.get("/publishing/overdue", done="resumed")
    assert "Publishing has resumed" in page.text
    assert "Trail guide out today." in page.text
    assert f'action="/publications/{row.id}/publish-now"' in page.text
    assert f"{format_moment(row.due_at, ZoneInfo('UTC'))}</time>" in page.text  # labelled

    done = pages.post(f"/publications/{row.id}/publish-now")
    assert (done.status_code, done.headers["location"]) == (
        303,
        "/publishing/overdue?done=publish_now",
    )
    assert runner.run_single_cycle() == 1
    db.expire_all()
    assert row.state == "confirmed"
    assert [s.text for s in db.scalars(select(StreamPost))] == ["Trail guide out today."]
    assert "No post is held" in pages.get("/publishing/overdue").text
    actions = db.scalars(select(AuditEntry.action).where(AuditEntry.actor_id == newsroom.leader.id))
    assert {"publishing.paused", "publishing.resumed", "publication.publish_now"} <= set(actions)


def test_publish_now_is_refused_while_the_pause_is_still_in_force(
    pages: Pages, db: Session, newsroom: Newsroom, runner: Runner
) -> None:
    [row] = held(db, newsroom, runner)
    page = pages.as_(newsroom.leader).get("/publishing/overdue")
    assert "Publishing is still paused" in page.text
    refused = pages.post(f"/publications/{row.id}/publish-now")
    assert refused.status_code == 409
    assert "resume it first" in refused.text
    assert pages.post("/publishing/overdue/publish-all").status_code == 409
    db.expire_all()
    assert row.state == "held"


def test_reschedule_reads_the_time_in_the_organisation_zone(
    pages: Pages, db: Session, newsroom: Newsroom, runner: Runner
) -> None:
    newsroom.org.timezone = "Europe/London"
    [row] = held(db, newsroom, runner)
    resumed(db, newsroom)
    pages.as_(newsroom.leader)

    missing = pages.post(f"/publications/{row.id}/reschedule", {"when": ""})
    assert (missing.status_code, "Choose the new date and time." in missing.text) == (422, True)
    past = pages.post(f"/publications/{row.id}/reschedule", {"when": "2020-01-01T09:00"})
    assert (past.status_code, "in the past" in past.text) == (422, True)
    garbled = pages.post(f"/publications/{row.id}/reschedule", {"when": "next tuesday"})
    assert garbled.status_code == 422

    done = pages.post(f"/publications/{row.id}/reschedule", {"when": "2030-07-01T09:30"})
    assert done.status_code == 303
    db.expire_all()
    # 09:30 in London in July is 08:30 UTC (British Summer Time).
    assert (row.state, row.due_at) == ("pending", datetime(2030, 7, 1, 8, 30, tzinfo=UTC))


def test_a_refused_reschedule_keeps_the_time_typed_in_its_row(
    pages: Pages, db: Session, newsroom: Newsroom, runner: Runner
) -> None:
    first, second = held(db, newsroom, runner, "First held post", "Second held post")
    resumed(db, newsroom)

    page = pages.as_(newsroom.leader).post(
        f"/publications/{first.id}/reschedule", {"when": "2020-01-01T09:00"}
    )

    assert page.status_code == 422
    assert "in the past" in page.text
    typed = _time_input(page.text, first)
    assert 'value="2020-01-01T09:00" required aria-invalid="true"' in typed
    other = _time_input(page.text, second)
    assert "2020-01-01T09:00" not in other
    assert "aria-invalid" not in other


def _time_input(page: str, row: Publication) -> str:
    """The attributes of the new-time input in the row of `row`."""
    return page.split(f'id="when-{row.id}"')[1].split(">")[0]


def test_cancel_one_then_cancel_all(
    pages: Pages, db: Session, newsroom: Newsroom, runner: Runner
) -> None:
    first, second, third = held(db, newsroom, runner, "One", "Two", "Three")
    resumed(db, newsroom)
    pages.as_(newsroom.leader)
    assert pages.post(f"/publications/{first.id}/cancel").status_code == 303
    db.expire_all()
    assert first.state == "cancelled"
    assert first.post.status == PostStatus.CANCELLED
    again = pages.post(f"/publications/{first.id}/cancel")
    assert (again.status_code, "cancelled; it can no longer be changed" in again.text) == (
        409,
        True,
    )

    done = pages.post("/publishing/overdue/cancel-all")
    assert done.headers["location"] == "/publishing/overdue?done=cancel_all"
    db.expire_all()
    assert (second.state, third.state) == ("cancelled", "cancelled")


def test_publish_all_after_resume_sends_every_held_post(
    pages: Pages, db: Session, newsroom: Newsroom, runner: Runner
) -> None:
    rows = held(db, newsroom, runner, "One", "Two")
    resumed(db, newsroom)
    assert pages.as_(newsroom.leader).post("/publishing/overdue/publish-all").status_code == 303
    assert runner.run_single_cycle() == 2
    db.expire_all()
    assert [r.state for r in rows] == ["confirmed", "confirmed"]


def test_a_redirect_goes_only_to_a_page_of_this_site(
    pages: Pages, db: Session, newsroom: Newsroom, runner: Runner
) -> None:
    first, second = held(db, newsroom, runner, "One", "Two")
    resumed(db, newsroom)
    pages.as_(newsroom.leader)
    inside = pages.post(f"/publications/{first.id}/cancel", {"next": f"/posts/{first.post_id}"})
    assert inside.headers["location"] == f"/posts/{first.post_id}"
    outside = pages.post(f"/publications/{second.id}/cancel", {"next": "//evil.example/x"})
    assert outside.headers["location"] == "/publishing/overdue?done=cancel"


def test_only_people_who_may_pause_reach_these_pages(
    pages: Pages, db: Session, newsroom: Newsroom, runner: Runner
) -> None:
    [row] = held(db, newsroom, runner)
    pages.as_(newsroom.author)
    assert pages.get("/publishing/pause").status_code == 403
    assert pages.get("/publishing/overdue").status_code == 403
    assert pages.post("/publishing/resume").status_code == 403
    assert pages.post(f"/publications/{row.id}/cancel").status_code == 403
    db.expire_all()
    assert row.state == "held"


def test_a_publication_of_another_organisation_is_not_found(
    pages: Pages, db: Session, newsroom: Newsroom
) -> None:
    other = org_service.ensure_organisation(db, "Other Org", "other-org")
    theirs = channels_service.create_channel(
        db, other, kind="internal", name="Theirs", actor=factories.ACTOR
    )
    their_author = factories.person(db, other, password=None)
    post = drafts.create_draft(
        db,
        other,
        their_author,
        drafts.DraftInput(text="Theirs", channel_ids=[theirs.id]),
        actor=factories.ACTOR,
    )
    [row] = schedule.schedule_post(db, post, actor=factories.ACTOR)
    db.commit()
    assert pages.as_(newsroom.leader).post(f"/publications/{row.id}/cancel").status_code == 404
    db.expire_all()
    assert row.state == "pending"


@pytest.mark.parametrize("typed", ["0001-01-01T00:00", "9999-12-31T23:59"])
def test_a_reschedule_at_the_end_of_the_calendar_is_refused_in_words(
    pages: Pages, db: Session, newsroom: Newsroom, runner: Runner, typed: str
) -> None:
    (row,) = held(db, newsroom, runner, "Held at the edge")
    resumed(db, newsroom)
    page = pages.as_(newsroom.leader).post(f"/publications/{row.id}/reschedule", {"when": typed})
    assert page.status_code == 422
    assert "in the years 2000 to 2100" in page.text
    assert f'value="{typed}" required aria-invalid="true"' in _time_input(page.text, row)
