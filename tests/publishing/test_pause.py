"""The crisis pause as a service: it needs a reason, holds posts at claim and again right
before the network call, and hands the held posts back for a decision on resume."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from sixfold.audit import Actor, AuditEntry
from sixfold.channels import service as channels_service
from sixfold.channels.models import Channel, StreamPost
from sixfold.errors import Conflict, NotFound, ValidationFailed
from sixfold.jobs import Runner
from sixfold.org import service as org_service
from sixfold.publishing import drafts, pause, schedule
from sixfold.publishing.models import PostStatus, PublishingPause
from sixfold.publishing.publisher import Publication
from tests import factories
from tests.publishing.conftest import Newsroom

REASON = "Harbour fire: nothing promotional until further notice."


def leader(newsroom: Newsroom) -> Actor:
    return Actor(id=newsroom.leader.id, label=newsroom.leader.email)


def scheduled(db: Session, newsroom: Newsroom, text: str = "Trail guide out today.") -> Publication:
    """A post due now on the stream (review skipped: the pause is what is tested)."""
    post = newsroom.draft(db, text)
    row = schedule.schedule_post(db, post, actor=factories.ACTOR)[0]
    db.commit()
    return row


def stream_texts(db: Session) -> list[str]:
    return [s.text for s in db.scalars(select(StreamPost).order_by(StreamPost.id))]


def test_a_pause_needs_a_reason(db: Session, newsroom: Newsroom) -> None:
    with pytest.raises(ValidationFailed, match="Say why publishing is paused"):
        pause.pause(db, newsroom.org, reason="   ", actor=leader(newsroom))
    assert pause.active_pauses(db, newsroom.org.id) == []


def test_the_same_scope_cannot_be_paused_twice_nor_resumed_when_running(
    db: Session, newsroom: Newsroom
) -> None:
    pause.pause(db, newsroom.org, reason=REASON, actor=leader(newsroom))
    with pytest.raises(Conflict, match="already paused"):
        pause.pause(db, newsroom.org, reason="again", actor=leader(newsroom))
    with pytest.raises(Conflict, match="not paused on Internal stream"):
        pause.resume(db, newsroom.org, actor=leader(newsroom), channel_id=newsroom.stream.id)


def test_a_channel_of_another_organisation_is_not_found(db: Session, newsroom: Newsroom) -> None:
    other = org_service.ensure_organisation(db, "Other Org", "other-org")
    theirs = channels_service.create_channel(
        db, other, kind="internal", name="Their stream", actor=factories.ACTOR
    )
    with pytest.raises(NotFound):
        pause.pause(db, newsroom.org, reason=REASON, actor=leader(newsroom), channel_id=theirs.id)


def test_a_due_post_is_held_at_claim_and_goes_out_after_publish_now(
    db: Session, newsroom: Newsroom, runner: Runner
) -> None:
    row = scheduled(db, newsroom)
    pause.pause(db, newsroom.org, reason=REASON, actor=leader(newsroom))
    db.commit()

    assert runner.run_single_cycle() == 1
    db.expire_all()
    assert row.state == "held"
    assert REASON in (row.error_message or "")
    assert stream_texts(db) == []
    assert runner.run_single_cycle() == 0  # held rows wait for a person

    held = pause.resume(db, newsroom.org, actor=leader(newsroom))
    assert [h.id for h in held] == [row.id]
    schedule.publish_now(db, row, actor=leader(newsroom))
    db.commit()

    assert runner.run_single_cycle() == 1
    db.expire_all()
    assert row.state == "confirmed"
    assert row.post.status == PostStatus.PUBLISHED
    assert stream_texts(db) == ["Trail guide out today."]


def test_a_channel_pause_holds_only_that_channel(
    db: Session, newsroom: Newsroom, runner: Runner
) -> None:
    brand = channels_service.create_channel(
        db, newsroom.org, kind="null", name="Brand", actor=factories.ACTOR
    )
    on_stream = scheduled(db, newsroom, "To the stream")
    post = drafts.create_draft(
        db,
        newsroom.org,
        newsroom.author,
        drafts.DraftInput(text="To the brand account", channel_ids=[brand.id]),
        actor=factories.ACTOR,
    )
    on_brand = schedule.schedule_post(db, post, actor=factories.ACTOR)[0]
    pause.pause(db, newsroom.org, reason=REASON, actor=leader(newsroom), channel_id=brand.id)
    db.commit()

    assert runner.run_single_cycle() == 2
    db.expire_all()
    assert (on_stream.state, on_brand.state) == ("confirmed", "held")
    assert pause.active_pause(db, newsroom.org.id, newsroom.stream.id) is None
    assert pause.active_pause(db, newsroom.org.id, brand.id) is not None


def test_the_pause_is_checked_again_right_before_the_network_call(
    db: Session, newsroom: Newsroom, runner: Runner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A leader pauses after the worker claimed the row but before it reached the network."""
    row = scheduled(db, newsroom)
    real_problem = channels_service.publishing_problem

    def pause_while_claimed(channel: Channel | None) -> str | None:
        # Runs in the claimed step: the pause lands between the two checks.
        assert channel is not None
        session = object_session(channel)
        assert session is not None
        session.add(
            PublishingPause(organisation_id=channel.organisation_id, reason="Pressed mid-flight")
        )
        session.flush()
        return real_problem(channel)

    monkeypatch.setattr(channels_service, "publishing_problem", pause_while_claimed)
    assert runner.run_single_cycle() == 1
    db.expire_all()
    assert row.state == "held"
    assert row.sent_at is None
    assert "Pressed mid-flight" in (row.error_message or "")
    assert stream_texts(db) == []


def test_pause_and_resume_are_audited_with_who_and_why(db: Session, newsroom: Newsroom) -> None:
    pause.pause(db, newsroom.org, reason=REASON, actor=leader(newsroom))
    pause.resume(db, newsroom.org, actor=leader(newsroom))
    entries = list(
        db.scalars(
            select(AuditEntry)
            .where(AuditEntry.action.in_(["publishing.paused", "publishing.resumed"]))
            .order_by(AuditEntry.seq)
        )
    )
    assert [(e.action, e.actor_id) for e in entries] == [
        ("publishing.paused", newsroom.leader.id),
        ("publishing.resumed", newsroom.leader.id),
    ]
    assert entries[0].details["reason"] == REASON
    assert entries[1].details["reason_was"] == REASON
