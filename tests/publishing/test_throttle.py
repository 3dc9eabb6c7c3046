"""Rate limits and concurrency caps: shared through the database, by scope, never blocking
another account.

The publisher is stepped one cycle at a time with an injected clock (as in test_publisher.py);
the caps are also tried for real, by runner threads racing on a database of their own.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import ClassVar

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from sixfold.auth.permissions import Role
from sixfold.channels import service as channels
from sixfold.channels import throttle
from sixfold.channels.base import (
    ChannelLimits,
    Concurrency,
    ConnectorContext,
    Mention,
    Metrics,
    OutgoingPost,
    RateLimited,
    RemotePost,
)
from sixfold.channels.models import Channel, ConcurrencySlot, RateLimit
from sixfold.db import make_engine, make_sessionmaker, migrate, transaction
from sixfold.jobs import Retry, Runner
from sixfold.publishing import drafts, publisher, schedule
from sixfold.publishing.publisher import Publication
from tests import factories
from tests.conftest import _fresh_postgres_database
from tests.jobs.conftest import FakeClock
from tests.publishing.conftest import LEASE_SECONDS, SETTINGS, MakeRunner, Newsroom
from tests.publishing.fakes import (
    Crash,
    ScriptedNetwork,
    crash,
    install_connectors,
    limited,
)

START = datetime(2030, 1, 15, 12, 0, tzinfo=UTC)  # 13:00 in Berlin (CET)
LABEL = "Scripted network (tests)"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def room(db: Session, newsroom: Newsroom) -> Newsroom:
    newsroom.org.timezone = "Europe/Berlin"
    return newsroom


def account(db: Session, room: Newsroom, name: str, kind: str = "scripted") -> Channel:
    return channels.create_channel(db, room.org, kind=kind, name=name, actor=factories.ACTOR)


def post_to(
    db: Session, room: Newsroom, channel: Channel, text: str, at: datetime | None = None
) -> Publication:
    """Factory: one post to `channel`, scheduled (now, or `at`) and committed."""
    data = drafts.DraftInput(
        text=text,
        channel_ids=[channel.id],
        publish_mode="at" if at else "now",
        publish_at=at,
    )
    post = drafts.create_draft(db, room.org, room.author, data, actor=factories.ACTOR)
    [row] = schedule.schedule_post(db, post, actor=factories.ACTOR)
    db.commit()
    return row


def reload(db: Session, row: Publication) -> Publication:
    db.expire_all()
    fresh = db.get(Publication, row.id)
    assert fresh is not None
    return fresh


def held_slots(db: Session) -> list[str]:
    return list(
        db.scalars(select(ConcurrencySlot.holder).where(ConcurrencySlot.holder.is_not(None)))
    )


# Rate limits ----------------------------------------------------------------------------------


def test_an_account_limit_holds_that_account_and_never_another(
    db: Session, room: Newsroom, network: ScriptedNetwork, make_runner: MakeRunner, clock: FakeClock
) -> None:
    limited_account, other = account(db, room, "Limited"), account(db, room, "Other")
    first = post_to(db, room, limited_account, "First on the limited account.")
    network.script(limited("429 Too Many Requests", retry_after=600))
    runner = make_runner()
    runner.run_single_cycle()

    first = reload(db, first)
    # Not failed, no attempt burnt, nothing sent: it goes out when the limit ends.
    assert (first.state, first.attempts, first.sent_at) == ("submitted", 0, None)
    assert first.next_attempt_at == START + timedelta(minutes=10)
    assert first.error_message == (
        f"Rate limited by {LABEL} until 13:10 CET; it will go out then. (429 Too Many Requests)"
    )
    assert db.scalars(select(RateLimit.scope)).all() == [f"account:{limited_account.id}"]

    waiting = post_to(db, room, limited_account, "Second on the limited account.")
    elsewhere = post_to(db, room, other, "Due at 12:01 elsewhere.", at=START + timedelta(minutes=1))
    runner.run_single_cycle()
    waiting = reload(db, waiting)
    assert (waiting.state, waiting.attempts) == ("pending", 0)
    assert waiting.next_attempt_at == START + timedelta(minutes=10)
    assert waiting.error_message is not None
    assert "until 13:10 CET" in waiting.error_message

    clock.advance(60)
    runner.run_single_cycle()
    # The other account's post went out on time, while the limited one waits.
    assert reload(db, elsewhere).state == "confirmed"
    assert network.calls_by_channel == [limited_account.id, other.id]

    clock.advance(9 * 60)
    runner.run_single_cycle()
    for row in (first, waiting):
        row = reload(db, row)
        assert (row.state, row.attempts, row.error_message) == ("confirmed", 0, None)
    assert network.calls_by_channel == [limited_account.id, other.id, *[limited_account.id] * 2]
    assert held_slots(db) == []


def test_a_network_limit_holds_every_account_of_that_network_only(
    db: Session, room: Newsroom, network: ScriptedNetwork, make_runner: MakeRunner, clock: FakeClock
) -> None:
    first, second = account(db, room, "First"), account(db, room, "Second")
    other_network = account(db, room, "Elsewhere", kind="scripted_plain")
    network.script(limited("App rate limit exceeded", retry_after=30 * 3600, scope="network"))
    post_to(db, room, first, "Runs into the app's limit.")
    runner = make_runner()
    runner.run_single_cycle()

    same_network = post_to(db, room, second, "Same network, another account.")
    unaffected = post_to(db, room, other_network, "Another network.")
    runner.run_single_cycle()
    same_network = reload(db, same_network)
    assert (same_network.state, same_network.attempts) == ("pending", 0)
    # A wait of more than a day is a misread header: held for a day at most, and the message
    # names the day because it is not today.
    assert same_network.next_attempt_at == START + timedelta(days=1)
    assert same_network.error_message == (
        f"Rate limited by {LABEL} (every {LABEL} account here) until 16 Jan 13:00 CET; "
        "it will go out then. (App rate limit exceeded)"
    )
    assert reload(db, unaffected).state == "confirmed"
    assert network.calls_by_channel == [first.id, other_network.id]
    assert db.scalars(select(RateLimit.scope)).all() == ["network:scripted"]


def test_workers_recording_one_limit_keep_the_later_end(db: Session) -> None:
    error = RateLimited("slow down", retry_after=300)
    throttle.record_limit(db, channel_id=7, kind="k", error=error, now=START)
    shorter = RateLimited("slow down a little", retry_after=60)
    kept = throttle.record_limit(db, channel_id=7, kind="k", error=shorter, now=START)
    assert kept.until == START + timedelta(seconds=300)

    found = throttle.active_limit(db, channel_id=7, kind="k", now=START + timedelta(seconds=299))
    assert found is not None
    assert (found.until, found.whole_network) == (START + timedelta(seconds=300), False)
    assert throttle.active_limit(db, channel_id=7, kind="k", now=kept.until) is None
    assert throttle.active_limit(db, channel_id=8, kind="k", now=START) is None

    # Over, then limited again without a wait named: the default wait, from now.
    later = kept.until + timedelta(hours=1)
    unnamed = RateLimited("429", retry_after=None)
    again = throttle.record_limit(db, channel_id=7, kind="k", error=unnamed, now=later)
    assert again.until == later + timedelta(seconds=throttle.DEFAULT_LIMIT_SECONDS)


# Concurrency slots ----------------------------------------------------------------------------


def test_slots_cap_each_account_and_the_network(db: Session) -> None:
    until = START + timedelta(seconds=60)
    first = [("account:1", 2), ("network:k", 3)]
    second = [("account:2", 2), ("network:k", 3)]

    def take(caps: Sequence[tuple[str, int]], holder: str) -> throttle.SlotLease | None:
        return throttle.acquire(db, caps, holder=holder, now=START, expires_at=until)

    a1, a2, a3 = take(first, "a1"), take(first, "a2"), take(first, "a3")
    assert a1 is not None
    assert a2 is not None
    assert a3 is None
    assert take(second, "b1") is not None  # the network's third
    assert take(second, "b2") is None  # the network is full; the account slot went back
    assert not throttle.has_room(db, second, now=START)
    assert sorted(held_slots(db)) == ["a1", "a1", "a2", "a2", "b1", "b1"]

    throttle.release(db, a1)
    assert throttle.has_room(db, second, now=START)
    assert take(second, "b2") is not None


def test_a_slot_whose_lease_ran_out_is_free_and_a_late_release_frees_nothing(db: Session) -> None:
    caps = [("account:1", 1), ("network:k", 4)]
    dead = throttle.acquire(
        db, caps, holder="dead", now=START, expires_at=START + timedelta(seconds=10)
    )
    assert dead is not None
    live_until = START + timedelta(seconds=70)
    early = START + timedelta(seconds=9)
    assert throttle.acquire(db, caps, holder="live", now=early, expires_at=live_until) is None
    expired = START + timedelta(seconds=10)
    assert throttle.acquire(db, caps, holder="live", now=expired, expires_at=live_until)
    throttle.release(db, dead)  # the dead worker's call returns after all
    assert held_slots(db) == ["live", "live"]


def test_a_killed_workers_slot_frees_itself_with_its_lease(
    db: Session, room: Newsroom, network: ScriptedNetwork, make_runner: MakeRunner, clock: FakeClock
) -> None:
    channel = account(db, room, "One at a time")  # Concurrency() default: one per account
    first = post_to(db, room, channel, "Sent when the worker died.")
    network.script(crash(posted=False))
    with pytest.raises(Crash):
        make_runner("worker-a").run_single_cycle()
    assert len(held_slots(db)) == 2  # committed before the call: its account and network

    second = post_to(db, room, channel, "Waits for the slot.")
    other = make_runner("worker-b")
    for _ in range(3):
        other.run_single_cycle()
        second = reload(db, second)
        # No slot: it stays pending (a person may still cancel it) and looks again soon.
        assert (second.state, second.attempts, second.sent_at) == ("pending", 0, None)
        wait = (second.next_attempt_at - clock()).total_seconds()  # type: ignore[operator]
        assert 0.5 <= wait <= 1.5
        clock.advance(wait)
    assert network.calls_by_channel == [channel.id]

    clock.advance(LEASE_SECONDS)  # the dead worker's lease, and with it its slot, ran out
    other.run_single_cycle()
    assert [reload(db, r).state for r in (first, second)] == ["confirmed", "confirmed"]
    assert len(network.posts) == 2
    assert held_slots(db) == []


# Racing for real ------------------------------------------------------------------------------


class Meter:
    """Counts calls in flight, per account and on the whole network, and the most seen."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.now: Counter[int] = Counter()
        self.most: Counter[int] = Counter()
        self.total = self.most_total = self.calls = 0

    def enter(self, channel_id: int) -> None:
        with self._lock:
            self.now[channel_id] += 1
            self.total += 1
            self.calls += 1
            self.most[channel_id] = max(self.most[channel_id], self.now[channel_id])
            self.most_total = max(self.most_total, self.total)

    def leave(self, channel_id: int) -> None:
        with self._lock:
            self.now[channel_id] -= 1
            self.total -= 1


class InFlightConnector:
    """A network that takes 30 ms per post and records how many calls overlap."""

    kind: ClassVar[str] = "inflight"
    label: ClassVar[str] = "In-flight meter (tests)"
    limits: ClassVar[ChannelLimits] = ChannelLimits(max_chars=500)
    idempotent: ClassVar[bool] = True
    concurrency: ClassVar[Concurrency] = Concurrency(per_account=2, per_network=3)
    meter: ClassVar[Meter]

    def __init__(self, context: ConnectorContext) -> None:
        self.channel_id = context.channel_id

    def verify(self) -> str:
        return "@meter"

    def publish(self, post: OutgoingPost, idempotency_key: str) -> RemotePost:
        self.meter.enter(self.channel_id)
        try:
            time.sleep(0.03)
        finally:
            self.meter.leave(self.channel_id)
        url = f"https://meter.example/{idempotency_key}"
        return RemotePost(idempotency_key, url, post.text, datetime.now(UTC), idempotency_key)

    def delete(self, remote_id: str) -> None:
        return None

    def fetch_own_posts(self, since: datetime) -> list[RemotePost]:
        return []

    def fetch_mentions(self, since: datetime) -> list[Mention]:
        return []

    def fetch_metrics(self, remote_ids: Sequence[str]) -> list[Metrics]:
        return []


@pytest.fixture(scope="module")
def shared_engine(
    request: pytest.FixtureRequest, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """A database of this module's own, of the run's backend: the racing runners commit for
    real, from several connections at once."""
    if make_url(database_url).get_backend_name() == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('throttle') / 'throttle.db'}"
    else:
        server = request.getfixturevalue("postgres_server_url")
        url = _fresh_postgres_database(server, "sixfold_throttle")
    engine = make_engine(url)
    migrate(engine)
    yield engine
    engine.dispose()


def seed_race(factory: sessionmaker[Session], posts: int) -> list[int]:
    with transaction(factory) as session:
        org = factories.organisation(session)
        author = factories.person(session, org, roles=(Role.CONTRIBUTOR,), password=None)
        targets = [
            channels.create_channel(
                session, org, kind="inflight", name=f"Meter {n}", actor=factories.ACTOR
            )
            for n in range(3)
        ]
        for n in range(posts):
            data = drafts.DraftInput(text=f"Race {n}", channel_ids=[c.id for c in targets])
            post = drafts.create_draft(session, org, author, data, actor=factories.ACTOR)
            schedule.schedule_post(session, post, actor=factories.ACTOR)
        session.flush()
        return [c.id for c in targets]


def race(factory: sessionmaker[Session], workers: int, total: int) -> Counter[str]:
    stop = threading.Event()

    def work(n: int) -> None:
        runner = Runner(
            factory,
            [Publication],
            worker_id=f"racer-{n}",
            batch_size=2,
            lease_seconds=30,
            rng=random.Random(n),
            services={"settings": SETTINGS},
        )
        while not stop.is_set():
            if runner.run_single_cycle() == 0:
                time.sleep(0.01)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(workers)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 90
    try:
        while time.monotonic() < deadline:
            with factory() as session:
                states = Counter(session.scalars(select(Publication.state)))
            if states["confirmed"] == total:
                break
            time.sleep(0.1)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    return states


def test_racing_workers_never_exceed_the_caps(
    shared_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    meter = Meter()
    monkeypatch.setattr(InFlightConnector, "meter", meter, raising=False)
    # Rows that find no slot look again within tens of milliseconds, so the race is short.
    monkeypatch.setattr(
        publisher, "SLOT_WAIT", Retry(base_seconds=0.05, factor=1, max_seconds=0.05)
    )
    factory = make_sessionmaker(shared_engine)
    with install_connectors(monkeypatch, [InFlightConnector]):
        accounts = seed_race(factory, posts=10)
        states = race(factory, workers=5, total=30)

    assert states == Counter({"confirmed": 30})
    assert meter.calls == 30
    assert all(meter.most[a] <= 2 for a in accounts), meter.most
    assert meter.most_total <= 3
    # The calls did overlap, so the caps were what kept them down.
    assert meter.most_total >= 2
    with factory() as session:
        assert held_slots(session) == []
