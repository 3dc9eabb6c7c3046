"""The Bluesky fault test: workers killed with SIGKILL at random publish every post once.

200 posts to one Bluesky account on a real local PDS (tests/bluesky/pds.py), falling due
over 12 s. That PDS holds back each putRecord answer for ANSWER_DELAY_MS after the record is
written, as a slow network does, so that many kills land in the worst moment: the post is on
the PDS, and the worker that sent it dies before it hears so. Three `sixfold worker`
processes share a real database; every 0.2-1.0 s one of them, chosen at random, is killed
with SIGKILL and started again (at least 10 and at most 25 times; test_fault.py drives them
the same way). Then every publication must
be confirmed, and listRecords on the PDS must show each post exactly once: one record per
publication, under the record key derived from its idempotency key, with its text.

Runs on SQLite and on PostgreSQL, like test_fault.py.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from sixfold import audit
from sixfold.audit import AuditEntry
from sixfold.auth.permissions import Role
from sixfold.channels import service as channels
from sixfold.channels.connectors.bluesky_records import POST_COLLECTION, record_key
from sixfold.config import Settings
from sixfold.db import make_engine, make_sessionmaker, migrate, transaction, utcnow
from sixfold.publishing import drafts, schedule
from sixfold.publishing.models import Post, PostStatus, PublishMode
from sixfold.publishing.publisher import Publication
from tests import factories
from tests.bluesky.pds import Account, LocalPds, start_pds
from tests.conftest import _fresh_postgres_database
from tests.publishing import test_fault
from tests.publishing.test_fault import (
    LEASE_SECONDS,
    MIN_KILLS,
    Workers,
    run_with_kills,
    worker_environment,
)

POSTS = 200
WORKERS = 3
DUE_SPREAD_SECONDS = 12
ANSWER_DELAY_MS = 300
# Every killed worker holds the account's one concurrency slot until its lease runs out, so
# this run takes longer than test_fault.py's; it gets more time to settle.
DEADLINE_SECONDS = 240


@pytest.fixture
def slow_pds() -> Iterator[LocalPds]:
    pds = start_pds(answer_delay_ms=ANSWER_DELAY_MS)
    yield pds
    pds.stop()


@pytest.fixture
def bluesky_fault_engine(
    request: pytest.FixtureRequest, database_url: str, tmp_path: Path
) -> Iterator[tuple[str, Engine]]:
    """A database of its own for this test (workers commit for real), of the run's backend."""
    if make_url(database_url).get_backend_name() == "sqlite":
        url = f"sqlite:///{tmp_path / 'bluesky-fault.db'}"
    else:
        server = request.getfixturevalue("postgres_server_url")
        url = _fresh_postgres_database(server, "sixfold_bluesky_fault")
    engine = make_engine(url)
    migrate(engine)
    yield url, engine
    engine.dispose()


def seed(factory: sessionmaker[Session], pds: LocalPds, account: Account, key: str) -> None:
    """POSTS posts to the account, falling due over the next DUE_SPREAD_SECONDS."""
    with transaction(factory) as session:
        org = factories.organisation(session)
        author = factories.person(session, org, roles=(Role.CONTRIBUTOR,), password=None)
        channel = channels.create_channel(
            session,
            org,
            kind="bluesky",
            name="Bluesky",
            channel_settings={"service": pds.url, "did": account.did},
            credentials={"app_password": account.app_password},
            settings=Settings(secret_key=key),
            actor=factories.ACTOR,
        )
        start = utcnow() + timedelta(seconds=2)
        for n in range(POSTS):
            data = drafts.DraftInput(
                text=f"Bluesky fault test post {n}: the harbour walk opens on Saturday.",
                channel_ids=[channel.id],
                publish_mode=PublishMode.AT,
                publish_at=start + timedelta(seconds=DUE_SPREAD_SECONDS * n / POSTS),
            )
            post = drafts.create_draft(session, org, author, data, actor=factories.ACTOR)
            schedule.schedule_post(session, post, actor=factories.ACTOR)


@pytest.mark.slow
def test_killed_workers_post_every_post_to_bluesky_exactly_once(
    bluesky_fault_engine: tuple[str, Engine],
    slow_pds: LocalPds,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(test_fault, "DEADLINE_SECONDS", DEADLINE_SECONDS)
    url, engine = bluesky_fault_engine
    factory = make_sessionmaker(engine)
    account = slow_pds.create_account("fault")
    env = worker_environment(url, tmp_path / "data")
    seed(factory, slow_pds, account, env["SIXFOLD_SECRET_KEY"])
    sixfold = str(Path(sys.executable).with_name("sixfold"))
    workers = Workers([sixfold, "worker", "--lease-seconds", str(LEASE_SECONDS)], env, tmp_path)
    started = time.monotonic()
    for slot in range(WORKERS):
        workers.start(slot)
    try:
        counts = run_with_kills(workers, factory, total=POSTS)
    finally:
        workers.stop_all()
    elapsed = time.monotonic() - started
    print(
        f"\nBluesky fault test on {engine.dialect.name}: {POSTS} posts to a real PDS "
        f"(started in {slow_pds.startup_seconds:.1f} s, answers {ANSWER_DELAY_MS} ms late), "
        f"{WORKERS} workers, {workers.kills} SIGKILLs leaving {workers.orphans} publications "
        f"in flight ({workers.orphans_sent} after sent_at, caught mid-send), "
        f"{renewals(factory)} sessions saved, {elapsed:.1f} s, states {dict(counts)}"
    )

    assert counts == Counter({"confirmed": POSTS}), workers.problems()[-5000:]
    assert workers.kills >= MIN_KILLS, f"only {workers.kills} kills before the work was done"
    # The case the test exists for: a kill after the record was sent, before it was confirmed.
    assert workers.orphans_sent >= 1, "no kill landed between the send and its confirmation"
    check_posted_once(factory, slow_pds, account)
    assert workers.problems() == ""


def check_posted_once(factory: sessionmaker[Session], pds: LocalPds, account: Account) -> None:
    stored = pds.records(account.did)
    with factory() as session:
        rows = session.scalars(select(Publication)).all()
        assert len(rows) == POSTS
        rkeys = Counter(r["uri"].rsplit("/", 1)[1] for r in stored)
        assert rkeys == Counter(record_key(r.idempotency_key) for r in rows)
        assert Counter(r["value"]["text"] for r in stored) == Counter(r.text for r in rows)
        assert {r.remote_id for r in rows} == {
            f"at://{account.did}/{POST_COLLECTION}/{record_key(r.idempotency_key)}" for r in rows
        }
        statuses = Counter(session.scalars(select(Post.status)))
        assert statuses == Counter({PostStatus.PUBLISHED.value: POSTS})
        published = session.scalar(
            select(func.count()).where(AuditEntry.action == "post.published")
        )
        assert published == POSTS
        assert audit.verify_chain(session).ok


def renewals(factory: sessionmaker[Session]) -> int:
    """How many times a worker logged in and saved the session (the rest reused one)."""
    with factory() as session:
        count = session.scalar(
            select(func.count()).where(AuditEntry.action == "channel.credentials_renewed")
        )
        return int(count or 0)
