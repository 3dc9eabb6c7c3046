"""What a look at the account may take as our post, and when a post not found may go again.

A text match never takes a post another publication owns or one older than our first
attempt; a keyed record never lends a same-text post; a key the network has forgotten
allows no resend; a channel disabled while a row waited stops it before it is sent.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from sixfold.channels.base import OutgoingPost, RateLimited, RemotePost, find_published
from sixfold.channels.models import Channel, ChannelStatus
from sixfold.db import utcnow
from sixfold.jobs import Runner
from sixfold.publishing import drafts, schedule
from sixfold.publishing.publisher import Publication
from sixfold.publishing.reconcile import CLOCK_SKEW
from tests import factories
from tests.jobs.conftest import FakeClock
from tests.publishing.conftest import MakeRunner, Newsroom
from tests.publishing.fakes import ScriptedNetwork, limited, lost
from tests.publishing.test_reconcile import post_to, reload, wait_of

TEXT = "Doors open at nine"


def another_post(db: Session, room: Newsroom, channel_id: int, text: str = TEXT) -> Publication:
    data = drafts.DraftInput(text=text, channel_ids=[channel_id])
    post = drafts.create_draft(db, room.org, room.author, data, actor=factories.ACTOR)
    [row] = schedule.schedule_post(db, post, actor=factories.ACTOR)
    db.commit()
    return row


def run_until_settled(runner: Runner, db: Session, row: Publication, clock: FakeClock) -> None:
    for _ in range(30):
        runner.run_single_cycle()
        current = reload(db, row)
        if current.next_attempt_at is None or current.state in ("confirmed", "failed"):
            return
        clock.advance(max(wait_of(current, clock), 1))


def test_a_text_match_never_takes_a_post_another_publication_owns(
    db: Session,
    newsroom: Newsroom,
    network: ScriptedNetwork,
    make_runner: MakeRunner,
    clock: FakeClock,
) -> None:
    first = post_to(db, newsroom, "scripted_plain", text=TEXT)
    runner = make_runner()
    runner.run_single_cycle()
    first = reload(db, first)
    assert first.state == "confirmed"

    second = another_post(db, newsroom, first.channel_id)
    network.script(lost(posted=False))
    run_until_settled(runner, db, second, clock)
    second = reload(db, second)
    assert second.remote_id != first.remote_id
    assert second.state == "failed"  # never posted, and a plain network cannot resend
    assert second.error_message is not None
    assert "Check the account before retrying" in second.error_message


def test_a_text_match_never_takes_a_post_made_before_the_first_attempt(
    db: Session,
    newsroom: Newsroom,
    network: ScriptedNetwork,
    make_runner: MakeRunner,
    clock: FakeClock,
) -> None:
    row = post_to(db, newsroom, "scripted_plain", text=TEXT)
    # Someone posted the same words by hand five minutes earlier (inside the look-back).
    network.clock = lambda: clock() - CLOCK_SKEW - timedelta(minutes=3)
    network.record(OutgoingPost(text=TEXT), "by-hand")
    network.clock = clock
    network.script(lost(posted=False))
    run_until_settled(make_runner(), db, row, clock)
    row = reload(db, row)
    assert (row.state, row.remote_id) == ("failed", None)


def test_a_keyed_record_never_lends_a_same_text_post_without_our_key(
    db: Session,
    newsroom: Newsroom,
    network: ScriptedNetwork,
    make_runner: MakeRunner,
    clock: FakeClock,
) -> None:
    row = post_to(db, newsroom, "scripted_recorded", text=TEXT)
    network.script(lost(posted=False))
    runner = make_runner()
    runner.run_single_cycle()
    network.posts.append(  # a manual post with our words, after our attempt
        RemotePost(remote_id="by-hand", url="https://x/1", text=TEXT, published_at=clock())
    )
    run_until_settled(runner, db, row, clock)
    row = reload(db, row)
    assert row.state == "confirmed"
    assert row.remote_id != "by-hand"
    assert len(network.posts_with_key(row.idempotency_key)) == 1


def test_find_published_never_matches_an_empty_text() -> None:
    blank = RemotePost(remote_id="1", url="u", text="  ", published_at=utcnow())
    assert find_published([blank], idempotency_key="k", text="") is None
    assert find_published([blank], idempotency_key="k", text="x", taken={"1"}) is None


def test_past_the_keys_window_a_post_not_found_is_not_sent_again(
    db: Session,
    newsroom: Newsroom,
    network: ScriptedNetwork,
    make_runner: MakeRunner,
    clock: FakeClock,
) -> None:
    row = post_to(db, newsroom, "scripted_windowed", text=TEXT)
    network.script(lost(posted=True))
    runner = make_runner()
    runner.run_single_cycle()
    assert reload(db, row).state == "unconfirmed"
    network.posts[0] = RemotePost(  # edited meanwhile: the text look misses it
        **{**network.posts[0].__dict__, "text": TEXT + " (edited)"}
    )
    network.fetch_failures.append(RateLimited("429", retry_after=2 * 3600))
    run_until_settled(runner, db, row, clock)
    row = reload(db, row)
    assert row.state == "failed"
    assert row.error_message is not None
    assert "Check the account before retrying" in row.error_message
    assert len(network.calls) == 1


def test_within_the_keys_window_a_post_not_found_is_sent_again(
    db: Session,
    newsroom: Newsroom,
    network: ScriptedNetwork,
    make_runner: MakeRunner,
    clock: FakeClock,
) -> None:
    row = post_to(db, newsroom, "scripted_windowed", text=TEXT)
    network.script(lost(posted=False))
    run_until_settled(make_runner(), db, row, clock)
    assert (reload(db, row).state, len(network.calls)) == ("confirmed", 2)


@pytest.mark.parametrize("status", [ChannelStatus.DISABLED, ChannelStatus.RECONNECT_NEEDED])
def test_a_channel_disabled_while_the_row_waited_stops_it_before_sending(
    db: Session,
    newsroom: Newsroom,
    network: ScriptedNetwork,
    make_runner: MakeRunner,
    clock: FakeClock,
    status: ChannelStatus,
) -> None:
    row = post_to(db, newsroom, "scripted")
    network.script(limited(retry_after=60))
    runner = make_runner()
    runner.run_single_cycle()
    assert reload(db, row).state == "submitted"
    channel = db.get(Channel, row.channel_id)
    assert channel is not None
    channel.status = status
    db.commit()
    clock.advance(60)
    runner.run_single_cycle()
    row = reload(db, row)
    assert row.state == "failed"
    assert row.error_message is not None
    assert channel.name in row.error_message
    assert len(network.calls) == 1


def test_reconciling_looks_the_post_up_by_key_where_the_connector_can(
    db: Session,
    newsroom: Newsroom,
    network: ScriptedNetwork,
    make_runner: MakeRunner,
    clock: FakeClock,
) -> None:
    row = post_to(db, newsroom, "scripted_lookup")
    network.script(lost(posted=True))
    runner = make_runner()
    runner.run_single_cycle()
    runner.run_single_cycle()
    assert reload(db, row).state == "confirmed"
    assert (network.lookups, network.fetches, len(network.calls)) == (1, 0, 1)
