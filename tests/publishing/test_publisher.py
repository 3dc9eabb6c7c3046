"""The publication state machine, stepped one cycle at a time with an injected clock.

Each test scripts what the network answers (tests/publishing/fakes.py) and checks where the
row ends, what people are told, and how many times the network was really called.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from sixfold.audit import AuditEntry
from sixfold.channels import service as channels
from sixfold.channels.connectors.internal import InternalStreamConnector
from sixfold.channels.models import Channel, ChannelStatus, StreamPost
from sixfold.db import utcnow
from sixfold.jobs import Runner
from sixfold.notifications.models import Notification
from sixfold.publishing import drafts, pause, schedule
from sixfold.publishing.models import Post, PostStatus, PublishMode
from sixfold.publishing.publisher import (
    RECONCILE_GRACE,
    TRANSIENT_ATTEMPTS,
    Publication,
)
from tests import factories
from tests.jobs.conftest import FakeClock
from tests.publishing.conftest import LEASE_SECONDS, MakeRunner, Newsroom
from tests.publishing.fakes import (
    Crash,
    ScriptedNetwork,
    busy,
    crash,
    lost,
    refuse,
    revoked,
)


def add_channel(db: Session, newsroom: Newsroom, kind: str) -> Channel:
    return channels.create_channel(
        db, newsroom.org, kind=kind, name=f"{kind} account", actor=factories.ACTOR
    )


def scheduled(
    db: Session,
    newsroom: Newsroom,
    *targets: Channel,
    text: str = "The spring trail guide is out today.",
    at: datetime | None = None,
) -> list[Publication]:
    """Factory: a post to `targets` (default: the internal stream), scheduled and committed."""
    data = drafts.DraftInput(
        text=text,
        channel_ids=[c.id for c in targets or (newsroom.stream,)],
        publish_mode=PublishMode.AT if at else PublishMode.NOW,
        publish_at=at,
    )
    post = drafts.create_draft(db, newsroom.org, newsroom.author, data, actor=factories.ACTOR)
    rows = schedule.schedule_post(db, post, actor=factories.ACTOR)
    db.commit()
    return rows


def reload(db: Session, row: Publication) -> Publication:
    db.expire_all()
    fresh = db.get(Publication, row.id)
    assert fresh is not None
    return fresh


def run_until_settled(runner: Runner, clock: FakeClock, db: Session, row: Publication) -> str:
    """Step the runner, jumping the clock to each wake-up, until the row needs a person."""
    for _ in range(50):
        current = reload(db, row)
        if current.next_attempt_at is None:
            return current.state
        clock.advance(max((current.next_attempt_at - clock()).total_seconds(), 0))
        runner.run_single_cycle()
    raise AssertionError(f"publication {row.id} did not settle")


def failure_notices(db: Session) -> set[int]:
    rows = db.scalars(select(Notification).where(Notification.kind == "publish_failed"))
    return {n.person_id for n in rows}


def test_happy_path_confirms_on_the_internal_stream(
    db: Session, newsroom: Newsroom, make_runner: MakeRunner
) -> None:
    [row] = scheduled(db, newsroom)
    runner = make_runner()

    assert runner.run_single_cycle() == 1
    row = reload(db, row)
    stream_post = db.scalars(select(StreamPost)).one()
    assert (row.state, row.remote_id) == ("confirmed", str(stream_post.id))
    assert row.sent_at is not None
    assert row.confirmed_at is not None
    assert (row.locked_by, row.next_attempt_at, row.error_message) == (None, None, None)
    assert stream_post.idempotency_key == row.idempotency_key
    assert db.get(Post, row.post_id).status == PostStatus.PUBLISHED  # type: ignore[union-attr]
    published = db.scalars(select(AuditEntry).where(AuditEntry.action == "post.published")).one()
    assert published.details["publication_id"] == row.id
    assert runner.run_single_cycle() == 0


def test_permanent_error_fails_with_the_networks_words_and_tells_people(
    db: Session, newsroom: Newsroom, network: ScriptedNetwork, make_runner: MakeRunner
) -> None:
    [row] = scheduled(db, newsroom, add_channel(db, newsroom, "scripted"))
    network.script(refuse("Validation failed: Text character limit of 500 exceeded"))

    make_runner().run_single_cycle()
    row = reload(db, row)
    assert row.state == "failed"
    assert row.error_message == "Validation failed: Text character limit of 500 exceeded"
    # The author and whoever may publish hear of it; a mentor, who may not, does not.
    assert failure_notices(db) == {newsroom.author.id, newsroom.leader.id}
    assert len(network.calls) == 1
    assert make_runner().run_single_cycle() == 0


def test_transient_errors_back_off_as_told_then_fail(
    db: Session,
    newsroom: Newsroom,
    network: ScriptedNetwork,
    make_runner: MakeRunner,
    clock: FakeClock,
) -> None:
    [row] = scheduled(db, newsroom, add_channel(db, newsroom, "scripted"))
    network.script(busy("429 Too Many Requests", retry_after=42))
    network.script(*[busy("503 Service Unavailable")] * TRANSIENT_ATTEMPTS)
    runner = make_runner()

    runner.run_single_cycle()
    row = reload(db, row)
    assert (row.state, row.attempts, row.sent_at) == ("submitted", 1, None)
    assert row.error_message == "429 Too Many Requests"
    assert row.next_attempt_at == clock() + timedelta(seconds=42)
    clock.advance(41)
    assert runner.run_single_cycle() == 0
    clock.advance(1)
    assert runner.run_single_cycle() == 1
    row = reload(db, row)
    assert row.attempts == 2
    # Without retry_after the back-off grows: 15 s doubled once, ±20 % jitter.
    wait = (row.next_attempt_at - clock()).total_seconds()  # type: ignore[operator]
    assert 24 <= wait <= 36

    assert run_until_settled(runner, clock, db, row) == "failed"
    assert reload(db, row).error_message == "503 Service Unavailable"
    assert len(network.calls) == TRANSIENT_ATTEMPTS
    assert network.posts == []
    assert newsroom.author.id in failure_notices(db)


@pytest.mark.parametrize("kind", ["scripted", "scripted_plain", "scripted_recorded"])
def test_unanswered_call_is_reconciled_not_repeated(
    db: Session, newsroom: Newsroom, network: ScriptedNetwork, make_runner: MakeRunner, kind: str
) -> None:
    [row] = scheduled(db, newsroom, add_channel(db, newsroom, kind))
    network.script(lost(posted=True))
    runner = make_runner()

    runner.run_single_cycle()
    row = reload(db, row)
    assert row.state == "unconfirmed"
    assert row.error_message == "No answer from the network: read timed out after 30 s"

    runner.run_single_cycle()
    row = reload(db, row)
    assert (row.state, row.remote_id, row.error_message) == ("confirmed", "remote-1", None)
    assert len(network.calls) == 1


def test_absent_after_the_grace_period_is_sent_again_where_the_network_dedupes(
    db: Session,
    newsroom: Newsroom,
    network: ScriptedNetwork,
    make_runner: MakeRunner,
    clock: FakeClock,
) -> None:
    [row] = scheduled(db, newsroom, add_channel(db, newsroom, "scripted"))
    network.script(lost(posted=False))
    runner = make_runner()
    runner.run_single_cycle()
    runner.run_single_cycle()
    row = reload(db, row)
    # Not there yet, but the network may be slow to show it: look again, do not send.
    assert row.state == "unconfirmed"
    assert row.next_attempt_at == clock() + timedelta(seconds=20)
    assert len(network.calls) == 1

    assert run_until_settled(runner, clock, db, row) == "confirmed"
    assert len(network.calls) == 2
    assert len(network.posts_with_key(row.idempotency_key)) == 1


def test_absent_after_the_grace_period_fails_where_a_resend_could_double_post(
    db: Session,
    newsroom: Newsroom,
    network: ScriptedNetwork,
    make_runner: MakeRunner,
    clock: FakeClock,
) -> None:
    [row] = scheduled(db, newsroom, add_channel(db, newsroom, "scripted_plain"))
    network.script(lost(posted=False))
    runner = make_runner()
    started = clock()

    assert run_until_settled(runner, clock, db, row) == "failed"
    row = reload(db, row)
    assert clock() - started >= RECONCILE_GRACE
    assert row.error_message is not None
    assert "Check the account before retrying" in row.error_message
    assert len(network.calls) == 1
    assert newsroom.author.id in failure_notices(db)


def test_refused_credentials_mark_the_channel_for_reconnecting(
    db: Session, newsroom: Newsroom, network: ScriptedNetwork, make_runner: MakeRunner
) -> None:
    channel = add_channel(db, newsroom, "scripted")
    [first] = scheduled(db, newsroom, channel)
    network.script(revoked("401 The access token was revoked"))
    make_runner().run_single_cycle()

    first = reload(db, first)
    assert first.state == "failed"
    assert first.error_message == "The channel needs reconnecting: 401 The access token was revoked"
    assert channel.status == ChannelStatus.RECONNECT_NEEDED
    assert channel.status_message == "401 The access token was revoked"
    # Nothing more goes out on it, and nothing more is sent to try.
    [second] = scheduled(db, newsroom, channel, text="A second post for the same account.")
    make_runner().run_single_cycle()
    second = reload(db, second)
    assert second.state == "failed"
    assert second.error_message is not None
    assert "needs reconnecting" in second.error_message
    assert len(network.calls) == 1


@pytest.mark.parametrize("kind", ["scripted", "scripted_plain", "scripted_recorded"])
def test_worker_killed_after_the_network_took_the_post_is_not_repeated(
    db: Session,
    newsroom: Newsroom,
    network: ScriptedNetwork,
    make_runner: MakeRunner,
    clock: FakeClock,
    kind: str,
) -> None:
    [row] = scheduled(db, newsroom, add_channel(db, newsroom, kind))
    network.script(crash(posted=True))
    with pytest.raises(Crash):
        make_runner("worker-a").run_single_cycle()
    row = reload(db, row)
    assert (row.state, row.locked_by) == ("submitted", "worker-a")
    assert row.sent_at is not None

    other = make_runner("worker-b")
    assert other.run_single_cycle() == 0  # The dead worker's lease still holds.
    clock.advance(LEASE_SECONDS + 1)
    assert other.run_single_cycle() == 1
    row = reload(db, row)
    assert (row.state, row.remote_id) == ("confirmed", "remote-1")
    assert len(network.calls) == 1


@pytest.mark.parametrize(
    ("kind", "outcome", "calls"),
    [
        # The network dedupes by key: sending again is harmless.
        ("scripted", "confirmed", 2),
        # The account's exact record proves the post absent: sending again is informed.
        ("scripted_recorded", "confirmed", 2),
        # Found by text only and maybe slow to show it: a person must look.
        ("scripted_plain", "failed", 1),
    ],
)
def test_worker_killed_before_the_network_took_the_post(
    db: Session,
    newsroom: Newsroom,
    network: ScriptedNetwork,
    make_runner: MakeRunner,
    clock: FakeClock,
    kind: str,
    outcome: str,
    calls: int,
) -> None:
    [row] = scheduled(db, newsroom, add_channel(db, newsroom, kind))
    network.script(crash(posted=False))
    with pytest.raises(Crash):
        make_runner("worker-a").run_single_cycle()
    clock.advance(LEASE_SECONDS + 1)

    assert run_until_settled(make_runner("worker-b"), clock, db, row) == outcome
    assert len(network.calls) == calls
    assert len(network.posts_with_key(row.idempotency_key)) == (outcome == "confirmed")


def test_worker_killed_after_writing_the_stream_post_leaves_one_post(
    db: Session,
    newsroom: Newsroom,
    make_runner: MakeRunner,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    [row] = scheduled(db, newsroom)
    publish = InternalStreamConnector.publish

    def publish_then_die(self: InternalStreamConnector, *args: object) -> object:
        publish(self, *args)  # type: ignore[arg-type]
        raise Crash

    monkeypatch.setattr(InternalStreamConnector, "publish", publish_then_die)
    with pytest.raises(Crash):
        make_runner("worker-a").run_single_cycle()
    monkeypatch.setattr(InternalStreamConnector, "publish", publish)
    clock.advance(LEASE_SECONDS + 1)
    make_runner("worker-b").run_single_cycle()

    assert reload(db, row).state == "confirmed"
    assert [s.idempotency_key for s in db.scalars(select(StreamPost))] == [row.idempotency_key]


def test_pause_active_at_claim_holds_the_row(
    db: Session, newsroom: Newsroom, network: ScriptedNetwork, make_runner: MakeRunner
) -> None:
    channel = add_channel(db, newsroom, "scripted")
    pause.pause(db, newsroom.org, reason="Storm on the coast", actor=factories.ACTOR)
    [row] = scheduled(db, newsroom, channel)

    make_runner().run_single_cycle()
    row = reload(db, row)
    assert (row.state, row.next_attempt_at) == ("held", None)
    assert row.error_message == "Held by the publishing pause: Storm on the coast"
    assert network.calls == []


def test_pause_on_another_channel_does_not_hold(
    db: Session, newsroom: Newsroom, network: ScriptedNetwork, make_runner: MakeRunner
) -> None:
    channel = add_channel(db, newsroom, "scripted")
    pause.pause(
        db, newsroom.org, reason="Stream only", actor=factories.ACTOR, channel_id=newsroom.stream.id
    )
    [row] = scheduled(db, newsroom, channel)
    make_runner().run_single_cycle()
    assert reload(db, row).state == "confirmed"


def test_pause_started_after_the_claim_stops_the_network_call(
    db: Session,
    session_factory: sessionmaker[Session],
    newsroom: Newsroom,
    network: ScriptedNetwork,
    make_runner: MakeRunner,
) -> None:
    [row] = scheduled(db, newsroom, add_channel(db, newsroom, "scripted"))

    def leader_pauses_meanwhile() -> None:
        with session_factory.begin() as other:
            org = other.merge(newsroom.org)
            pause.pause(other, org, reason="Breaking news", actor=factories.ACTOR)

    network.on_connect = leader_pauses_meanwhile
    make_runner().run_single_cycle()
    row = reload(db, row)
    assert row.state == "held"
    assert row.error_message == "Held by the publishing pause: Breaking news"
    assert network.calls == []


def test_held_row_published_after_resume(
    db: Session,
    newsroom: Newsroom,
    network: ScriptedNetwork,
    make_runner: MakeRunner,
    clock: FakeClock,
) -> None:
    channel = add_channel(db, newsroom, "scripted")
    pause.pause(db, newsroom.org, reason="Storm", actor=factories.ACTOR)
    [row] = scheduled(db, newsroom, channel)
    make_runner().run_single_cycle()
    db.expire_all()  # A person acts later, on what the worker left.

    held = pause.resume(db, newsroom.org, actor=factories.ACTOR)
    assert [h.id for h in held] == [row.id]
    schedule.publish_now(db, held[0], actor=factories.ACTOR)
    db.commit()
    clock.advance(1)  # publish_now stamps the wall clock.
    make_runner().run_single_cycle()
    row = reload(db, row)
    assert (row.state, row.error_message) == ("confirmed", None)
    assert len(network.calls) == 1


def test_cancelled_pending_row_is_never_sent(
    db: Session, newsroom: Newsroom, make_runner: MakeRunner, clock: FakeClock
) -> None:
    [row] = scheduled(db, newsroom, at=utcnow() + timedelta(hours=3))
    runner = make_runner()
    assert runner.run_single_cycle() == 0  # Not due yet.

    schedule.cancel_publication(db, row, actor=factories.ACTOR)
    db.commit()
    clock.advance(4 * 3600)
    assert runner.run_single_cycle() == 0
    row = reload(db, row)
    assert (row.state, row.next_attempt_at) == ("cancelled", None)
    assert row.post.status == PostStatus.CANCELLED
    assert db.scalars(select(StreamPost)).all() == []


def test_post_is_published_only_when_every_channel_confirmed(
    db: Session,
    newsroom: Newsroom,
    network: ScriptedNetwork,
    make_runner: MakeRunner,
    clock: FakeClock,
) -> None:
    rows = scheduled(db, newsroom, newsroom.stream, add_channel(db, newsroom, "scripted"))
    network.script(busy(retry_after=30))
    runner = make_runner()

    assert runner.run_single_cycle() == 2
    post = db.get(Post, rows[0].post_id)
    assert post is not None
    assert [reload(db, r).state for r in rows] == ["confirmed", "submitted"]
    assert post.status == PostStatus.SCHEDULED

    clock.advance(30)
    runner.run_single_cycle()
    assert [reload(db, r).state for r in rows] == ["confirmed", "confirmed"]
    assert post.status == PostStatus.PUBLISHED
