"""Reconciling when the look at the account fails, and connectors refused before any call.

A post whose fate is unknown (its call may have reached the network) is never sent again on
a failed look: it waits, and only a successful look decides. Stepped one cycle at a time
with an injected clock, like test_publisher.py.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from sixfold.channels import service as channels
from sixfold.channels.base import (
    AmbiguousError,
    CredentialsError,
    PermanentError,
    RateLimited,
    TransientError,
)
from sixfold.channels.models import Channel, ChannelStatus
from sixfold.jobs import Runner
from sixfold.notifications.models import Notification
from sixfold.publishing import drafts, schedule
from sixfold.publishing.publisher import (
    RECONCILE_GRACE,
    RECONNECT_WAIT,
    TRANSIENT_ATTEMPTS,
    Publication,
)
from tests import factories
from tests.jobs.conftest import FakeClock
from tests.publishing.conftest import LEASE_SECONDS, MakeRunner, Newsroom
from tests.publishing.fakes import Crash, ScriptedNetwork, crash, lost


def post_to(db: Session, room: Newsroom, kind: str, text: str = "Harbour walk") -> Publication:
    """Factory: a channel of `kind` and one post to it, scheduled now and committed."""
    channel = channels.create_channel(
        db, room.org, kind=kind, name=f"{kind} account", actor=factories.ACTOR
    )
    data = drafts.DraftInput(text=text, channel_ids=[channel.id])
    post = drafts.create_draft(db, room.org, room.author, data, actor=factories.ACTOR)
    [row] = schedule.schedule_post(db, post, actor=factories.ACTOR)
    db.commit()
    return row


def reload(db: Session, row: Publication) -> Publication:
    db.expire_all()
    fresh = db.get(Publication, row.id)
    assert fresh is not None
    return fresh


def after_a_dead_worker(
    db: Session, row: Publication, make_runner: MakeRunner, clock: FakeClock
) -> Runner:
    """Worker A dies during the call (the row is left `submitted` with `sent_at`); the
    lease runs out and worker B, returned, will look at the account first."""
    with pytest.raises(Crash):
        make_runner("worker-a").run_single_cycle()
    assert reload(db, row).sent_at is not None
    clock.advance(LEASE_SECONDS + 1)
    return make_runner("worker-b")


def wait_of(row: Publication, clock: FakeClock) -> float:
    assert row.next_attempt_at is not None
    return (row.next_attempt_at - clock()).total_seconds()


@pytest.mark.parametrize(
    ("failure", "waits"),
    [
        # As long as the network asked for; else the first back-off step, 15 s ± 20 %.
        (TransientError("503 Service Unavailable", retry_after=30), (30, 30)),
        (AmbiguousError("timed out"), (12, 18)),
    ],
)
def test_a_failed_look_before_resending_waits_and_never_sends(
    db: Session,
    newsroom: Newsroom,
    network: ScriptedNetwork,
    make_runner: MakeRunner,
    clock: FakeClock,
    failure: Exception,
    waits: tuple[float, float],
) -> None:
    row = post_to(db, newsroom, "scripted")
    network.script(crash(posted=False))
    other = after_a_dead_worker(db, row, make_runner, clock)
    network.fetch_failures.append(failure)  # type: ignore[arg-type]

    other.run_single_cycle()
    row = reload(db, row)
    assert (row.state, row.attempts) == ("submitted", 1)
    assert row.error_message == f"Could not look for the post on the account: {failure}"
    assert len(network.calls) == 1
    assert waits[0] <= wait_of(row, clock) <= waits[1]

    clock.advance(wait_of(row, clock))
    other.run_single_cycle()
    # Looked, found nothing, and the network dedupes by key: sent again, once.
    assert reload(db, row).state == "confirmed"
    assert len(network.calls) == 2
    assert len(network.posts) == 1


def test_looks_that_keep_failing_end_in_a_failure_that_says_to_check_the_account(
    db: Session,
    newsroom: Newsroom,
    network: ScriptedNetwork,
    make_runner: MakeRunner,
    clock: FakeClock,
) -> None:
    row = post_to(db, newsroom, "scripted")
    network.script(lost(posted=False))
    network.fetch_failures.extend(
        TransientError("502 Bad Gateway") for _ in range(2 * TRANSIENT_ATTEMPTS)
    )
    runner = make_runner()
    for _ in range(2 * TRANSIENT_ATTEMPTS + 1):
        runner.run_single_cycle()
        current = reload(db, row)
        if current.next_attempt_at is None:
            break
        clock.advance(wait_of(current, clock))
    row = reload(db, row)
    assert row.state == "failed"
    assert row.error_message == (
        "Sixfold could not read the account: 502 Bad Gateway. Check the account before "
        "retrying, so it is not posted twice."
    )
    assert len(network.calls) == 1
    assert newsroom.author.id in {
        n.person_id
        for n in db.scalars(select(Notification).where(Notification.kind == "publish_failed"))
    }


def test_a_rate_limited_look_waits_for_the_limit_and_holds_the_account(
    db: Session,
    newsroom: Newsroom,
    network: ScriptedNetwork,
    make_runner: MakeRunner,
    clock: FakeClock,
) -> None:
    row = post_to(db, newsroom, "scripted")
    network.script(lost(posted=True))
    runner = make_runner()
    runner.run_single_cycle()
    assert reload(db, row).state == "unconfirmed"

    network.fetch_failures.append(RateLimited("429 Too Many Requests", retry_after=90))
    runner.run_single_cycle()
    row = reload(db, row)
    assert (row.state, row.attempts, wait_of(row, clock)) == ("unconfirmed", 0, 90)
    assert row.error_message is not None
    assert "Sixfold looks for it then" in row.error_message
    looks = network.fetches
    clock.advance(89)
    runner.run_single_cycle()
    assert network.fetches == looks  # nothing calls the network during the limit

    clock.advance(1)
    runner.run_single_cycle()
    assert (reload(db, row).state, len(network.calls)) == ("confirmed", 1)


@pytest.mark.parametrize(("posted", "outcome"), [(True, "confirmed"), (False, "failed")])
def test_refused_credentials_while_looking_wait_for_the_reconnect_then_look_first(
    db: Session,
    newsroom: Newsroom,
    network: ScriptedNetwork,
    make_runner: MakeRunner,
    clock: FakeClock,
    posted: bool,
    outcome: str,
) -> None:
    # A network without idempotency keys: only a look can tell whether the post is there.
    row = post_to(db, newsroom, "scripted_plain")
    network.script(lost(posted=posted))
    network.fetch_failures.append(CredentialsError("401 The access token expired"))
    runner = make_runner()
    runner.run_single_cycle()
    runner.run_single_cycle()

    row = reload(db, row)
    channel = db.get(Channel, row.channel_id)
    assert channel is not None
    assert channel.status == ChannelStatus.RECONNECT_NEEDED
    assert row.state == "unconfirmed"  # not failed: a retry of a failure would send blindly
    assert row.error_message is not None
    assert "looks for it there before sending anything" in row.error_message
    assert wait_of(row, clock) == RECONNECT_WAIT.total_seconds()
    looks = network.fetches
    clock.advance(RECONNECT_WAIT.total_seconds())
    runner.run_single_cycle()
    assert (reload(db, row).state, network.fetches) == ("unconfirmed", looks)

    channel.status, channel.status_message = ChannelStatus.ACTIVE, ""  # reconnected
    db.commit()
    clock.advance(RECONNECT_WAIT.total_seconds())
    runner.run_single_cycle()
    row = reload(db, row)
    assert row.state == outcome
    assert len(network.calls) == 1  # never sent again
    if outcome == "failed":
        assert row.error_message is not None
        assert "Check the account before retrying" in row.error_message


def test_refused_credentials_on_the_look_before_resending_move_to_unconfirmed(
    db: Session,
    newsroom: Newsroom,
    network: ScriptedNetwork,
    make_runner: MakeRunner,
    clock: FakeClock,
) -> None:
    row = post_to(db, newsroom, "scripted")
    network.script(crash(posted=True))
    other = after_a_dead_worker(db, row, make_runner, clock)
    network.fetch_failures.append(CredentialsError("401 revoked"))
    other.run_single_cycle()
    row = reload(db, row)
    assert row.state == "unconfirmed"
    assert row.error_message is not None
    assert row.error_message.startswith("The channel needs reconnecting: 401 revoked")
    assert len(network.calls) == 1


def test_a_permanent_look_failure_is_unconfirmed_and_never_resent(
    db: Session,
    newsroom: Newsroom,
    network: ScriptedNetwork,
    make_runner: MakeRunner,
    clock: FakeClock,
) -> None:
    row = post_to(db, newsroom, "scripted")
    network.script(crash(posted=False))
    other = after_a_dead_worker(db, row, make_runner, clock)
    network.fetch_failures.extend(
        PermanentError("403 This app may not read posts") for _ in range(20)
    )
    other.run_single_cycle()
    row = reload(db, row)
    assert row.state == "unconfirmed"
    assert (
        row.error_message
        == "Could not look for the post on the account: 403 This app may not read posts"
    )

    for _ in range(20):
        other.run_single_cycle()
        current = reload(db, row)
        if current.next_attempt_at is None:
            break
        clock.advance(wait_of(current, clock))
    row = reload(db, row)
    assert row.state == "failed"
    assert row.error_message == (
        "Sixfold could not read the account: 403 This app may not read posts. Check the "
        "account before retrying, so it is not posted twice."
    )
    assert clock() - row.sent_at >= RECONCILE_GRACE  # type: ignore[operator]
    assert len(network.calls) == 1


def test_a_connector_refused_before_any_call_fails_the_row_like_a_refused_publish(
    db: Session, newsroom: Newsroom, network: ScriptedNetwork, make_runner: MakeRunner
) -> None:
    row = post_to(db, newsroom, "scripted")

    def expired() -> None:
        raise CredentialsError("The access token expired and there is no refresh token")

    network.on_connect = expired
    make_runner().run_single_cycle()
    row = reload(db, row)
    assert row.state == "failed"
    assert row.error_message == (
        "The channel needs reconnecting: The access token expired and there is no refresh token"
    )
    channel = db.get(Channel, row.channel_id)
    assert channel is not None
    assert channel.status == ChannelStatus.RECONNECT_NEEDED
    assert network.calls == []


def test_a_connector_refused_while_the_posts_fate_is_unknown_waits_for_the_reconnect(
    db: Session,
    newsroom: Newsroom,
    network: ScriptedNetwork,
    make_runner: MakeRunner,
    clock: FakeClock,
) -> None:
    row = post_to(db, newsroom, "scripted_plain")
    network.script(lost(posted=True))
    runner = make_runner()
    runner.run_single_cycle()

    def expired() -> None:
        raise CredentialsError("The refresh token was revoked")

    network.on_connect = expired
    runner.run_single_cycle()
    row = reload(db, row)
    assert row.state == "unconfirmed"
    assert wait_of(row, clock) == RECONNECT_WAIT.total_seconds()
    assert row.error_message is not None
    assert row.error_message.startswith("The channel needs reconnecting: The refresh token")
    assert network.fetches == 0
