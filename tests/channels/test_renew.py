"""Renewing a sign-in while other processes use the same channel (`ConnectorContext.renew`).

X retires a refresh token as it hands out the next. Two processes that refresh with the same
token at once (the Verify button while a worker publishes, two workers) leave one refused, and
the channel marked "reconnect needed" though the tokens the other stored are good. The races
here run two callers on threads, each with its own session and connection, on a database of
each backend where commits are real, against fakes that refuse a spent refresh token.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from datetime import timedelta
from pathlib import Path
from threading import Event
from typing import Any, TypeVar

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import Engine, event, func, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from sixfold import audit
from sixfold.audit import AuditEntry
from sixfold.channels import credentials as channel_credentials
from sixfold.channels import manage, service
from sixfold.channels.base import CredentialsError, OutgoingPost, RemotePost, TransientError
from sixfold.channels.credentials import open_credentials, renew_credentials
from sixfold.channels.models import Channel, ChannelStatus
from sixfold.config import Settings
from sixfold.db import make_engine, migrate, utcnow
from tests import factories
from tests.channels import linkedin_factory
from tests.channels.linkedin_factory import FakeLinkedIn
from tests.channels.x_factory import ACCOUNT_SETTINGS, FakeX, start_fake_x
from tests.conftest import _fresh_postgres_database

SETTINGS = Settings(secret_key="renew-tests-" + "s" * 32)
# Long enough for the second caller to read the channel's tokens while the first is still
# waiting for the network's answer, so both start out holding the same refresh token.
TOKEN_DELAY = 0.5
T = TypeVar("T")
U = TypeVar("U")
NUMBERS = itertools.count(1)  # channel names: several channels share one organisation


@pytest.fixture(scope="module")
def committing_engine(
    request: pytest.FixtureRequest, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """A migrated database of the run's backend where commits are real."""
    if database_url.startswith("sqlite"):
        path: Path = tmp_path_factory.mktemp("renew") / "renew.db"
        url = f"sqlite:///{path}"
    else:
        url = _fresh_postgres_database(
            request.getfixturevalue("postgres_server_url"), "sixfold_renew"
        )
    engine = make_engine(url)
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def x_server() -> Iterator[HTTPServer]:
    with ExitStack() as resources:
        yield start_fake_x(resources).server


@pytest.fixture
def fake_x(x_server: HTTPServer) -> Iterator[FakeX]:
    x_server.clear()
    fake = FakeX(x_server)
    fake.token_delay = TOKEN_DELAY
    yield fake
    x_server.check_handler_errors()
    x_server.clear()


@pytest.fixture(scope="module")
def linkedin_server() -> Iterator[HTTPServer]:
    with ExitStack() as resources:
        yield linkedin_factory.start_server(resources)


@pytest.fixture
def fake_linkedin(linkedin_server: HTTPServer) -> Iterator[FakeLinkedIn]:
    for fake in linkedin_factory.fresh(linkedin_server):
        fake.rotate_refresh_tokens = True
        fake.token_delay = TOKEN_DELAY
        yield fake


def x_channel(engine: Engine, fake: FakeX) -> int:
    # Five minutes is X's margin: a minute left, and every caller renews first.
    settings = {"api_base": fake.api_base, **ACCOUNT_SETTINGS}
    return make_channel(engine, "x", settings, fake.credentials(expires_in=60))


def linkedin_channel(engine: Engine, fake: FakeLinkedIn) -> int:
    # Expired, so a refused renewal cannot fall back on the old token.
    expired = (utcnow() - timedelta(hours=1)).isoformat()
    credentials = fake.credentials(expires_at=expired, refresh_token=fake.issue_refresh_token())
    return make_channel(engine, "linkedin", fake.settings(), credentials)


def make_channel(
    engine: Engine, kind: str, settings: dict[str, Any], credentials: dict[str, Any]
) -> int:
    with Session(engine) as session:
        channel = service.create_channel(
            session,
            factories.organisation(session),
            kind=kind,
            name=f"Renewed {kind} {next(NUMBERS)}",
            actor=factories.ACTOR,
            settings=SETTINGS,
            channel_settings=settings,
            credentials=credentials,
        )
        session.commit()
        return channel.id


def verify(engine: Engine, channel_id: int) -> manage.Verification:
    """The Verify button: it marks the channel "reconnect needed" when refused."""
    with Session(engine) as session:
        channel = session.get(Channel, channel_id)
        assert channel is not None
        result = manage.verify_channel(session, channel, settings=SETTINGS, actor=factories.ACTOR)
        session.commit()
        return result


def publish(engine: Engine, channel_id: int, words: str) -> RemotePost:
    """What a worker does, committed before the network call as publishing does."""
    with Session(engine) as session:
        connector = service.connector_for(session, channel_id, settings=SETTINGS)
        return connector.publish(OutgoingPost(text=words), idempotency_key=words)


def race(first: Callable[[], T], second: Callable[[], U], renewing: Event) -> tuple[T, U]:
    """`second` starts once `first` is renewing (its token request is at the network)."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        one = pool.submit(first)
        assert renewing.wait(timeout=30), "the first caller never renewed"
        two = pool.submit(second)
        return one.result(timeout=60), two.result(timeout=60)


def stored(engine: Engine, channel_id: int) -> tuple[Channel, dict[str, Any]]:
    with Session(engine) as session:
        channel = session.get(Channel, channel_id)
        assert channel is not None
        session.expunge(channel)
        return channel, open_credentials(SETTINGS, channel)


def recorded(engine: Engine, channel_id: int, action: str) -> int:
    with Session(engine) as session:
        count = session.scalar(
            select(func.count()).where(
                AuditEntry.action == action, AuditEntry.target_id == str(channel_id)
            )
        )
        return int(count or 0)


def assert_renewed_once(engine: Engine, channel_id: int) -> dict[str, Any]:
    channel, credentials = stored(engine, channel_id)
    assert channel.status == ChannelStatus.ACTIVE, channel.status_message
    assert recorded(engine, channel_id, "channel.reconnect_needed") == 0
    assert recorded(engine, channel_id, "channel.credentials_renewed") == 1
    return credentials


# X -------------------------------------------------------------------------------------------


def test_verify_while_a_worker_publishes_renews_once(
    committing_engine: Engine, fake_x: FakeX
) -> None:
    channel_id = x_channel(committing_engine, fake_x)
    checked, posted = race(
        lambda: verify(committing_engine, channel_id),
        lambda: publish(committing_engine, channel_id, "Out while the channel was verified."),
        fake_x.token_arrived,
    )
    assert checked.ok, checked.message
    assert fake_x.tweets[posted.remote_id].sent == "Out while the channel was verified."
    assert len(fake_x.requests_to("/2/oauth2/token", "POST")) == 1
    credentials = assert_renewed_once(committing_engine, channel_id)
    assert credentials["refresh_token"] in fake_x.refresh_tokens
    assert credentials["access_token"] in fake_x.access_tokens
    # Both callers sent with the one renewed token.
    sent = [r.headers["Authorization"] for r in fake_x.requests_to("/2/users/me")]
    sent += [r.headers["Authorization"] for r in fake_x.requests_to("/2/tweets", "POST")]
    assert set(sent) == {f"Bearer {credentials['access_token']}"}


def test_two_verifies_at_once_renew_once(committing_engine: Engine, fake_x: FakeX) -> None:
    channel_id = x_channel(committing_engine, fake_x)
    first, second = race(
        lambda: verify(committing_engine, channel_id),
        lambda: verify(committing_engine, channel_id),
        fake_x.token_arrived,
    )
    assert (first.ok, second.ok) == (True, True), (first.message, second.message)
    assert len(fake_x.requests_to("/2/oauth2/token", "POST")) == 1
    credentials = assert_renewed_once(committing_engine, channel_id)
    assert credentials["refresh_token"] in fake_x.refresh_tokens


def test_without_the_lock_the_race_is_lost_as_on_x(
    committing_engine: Engine, fake_x: FakeX, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The same race with renewals unserialised (each connector refreshes and saves, as
    # before ConnectorContext.renew): X refuses the spent token and the channel is marked.
    # This keeps the tests above honest: their callers really do hold the same token.
    monkeypatch.setattr(service, "_renewer", lambda *_: None)
    channel_id = x_channel(committing_engine, fake_x)
    first, second = race(
        lambda: verify(committing_engine, channel_id),
        lambda: verify(committing_engine, channel_id),
        fake_x.token_arrived,
    )
    assert sorted([first.ok, second.ok]) == [False, True]
    assert len(fake_x.requests_to("/2/oauth2/token", "POST")) == 2
    channel, _ = stored(committing_engine, channel_id)
    assert channel.status == ChannelStatus.RECONNECT_NEEDED


# LinkedIn ------------------------------------------------------------------------------------


def test_linkedin_renews_once_even_if_it_rotates_refresh_tokens(
    committing_engine: Engine, fake_linkedin: FakeLinkedIn
) -> None:
    channel_id = linkedin_channel(committing_engine, fake_linkedin)
    first, second = race(
        lambda: verify(committing_engine, channel_id),
        lambda: verify(committing_engine, channel_id),
        fake_linkedin.token_arrived,
    )
    assert (first.ok, second.ok) == (True, True), (first.message, second.message)
    assert len(fake_linkedin.token_calls()) == 1
    credentials = assert_renewed_once(committing_engine, channel_id)
    assert credentials["refresh_token"] in fake_linkedin.refresh_tokens
    assert credentials["access_token"] in fake_linkedin.access_tokens


# The renewal itself ----------------------------------------------------------------------------

HELD = {"access_token": "a1", "refresh_token": "r1", "client_id": "app"}


@pytest.fixture
def caller(committing_engine: Engine) -> Iterator[Session]:
    # Not the rollback-per-test `db`: a renewal that fails rolls back its own transaction,
    # which on `db`'s shared connection would be the test's.
    with Session(committing_engine) as session:
        yield session


def held_channel(session: Session) -> Channel:
    channel = service.create_channel(
        session,
        factories.organisation(session),
        kind="null",
        name=f"Held {next(NUMBERS)}",
        actor=factories.ACTOR,
        settings=SETTINGS,
        credentials=HELD,
    )
    session.commit()
    return channel


def refresher(calls: list[dict[str, Any]], **renewed: Any) -> Callable[..., dict[str, Any]]:
    def refresh(credentials: dict[str, Any]) -> dict[str, Any]:
        calls.append(credentials)
        return renewed

    return refresh


def renewals(session: Session, channel: Channel) -> int:
    return int(
        session.scalar(
            select(func.count()).where(
                AuditEntry.action == "channel.credentials_renewed",
                AuditEntry.target_id == str(channel.id),
            )
        )
        or 0
    )


def test_renewing_what_is_stored_refreshes_and_saves_it(caller: Session) -> None:
    channel = held_channel(caller)
    calls: list[dict[str, Any]] = []
    refresh = refresher(calls, access_token="a2", refresh_token="", expires_at="2030-01-01")
    renewed = renew_credentials(caller, channel.id, dict(HELD), refresh, settings=SETTINGS)
    assert calls == [HELD]
    # Merged as save_credentials merges: an empty refresh token keeps the stored one.
    assert renewed == {**HELD, "access_token": "a2", "expires_at": "2030-01-01"}
    assert channel not in caller.dirty
    assert open_credentials(SETTINGS, channel) == renewed
    assert renewals(caller, channel) == 1


def test_credentials_renewed_elsewhere_are_taken_as_they_are(caller: Session) -> None:
    channel = held_channel(caller)
    calls: list[dict[str, Any]] = []
    earlier = {**HELD, "access_token": "a0", "refresh_token": "r0"}
    renewed = renew_credentials(caller, channel.id, earlier, refresher(calls), settings=SETTINGS)
    assert renewed == HELD
    assert calls == []
    assert renewals(caller, channel) == 0


def test_a_refused_refresh_saves_nothing(caller: Session) -> None:
    channel = held_channel(caller)

    def refused(_: dict[str, Any]) -> dict[str, Any]:
        raise CredentialsError("X refused the sign-in: invalid_request")

    with pytest.raises(CredentialsError, match="invalid_request"):
        renew_credentials(caller, channel.id, dict(HELD), refused, settings=SETTINGS)
    caller.expire_all()
    assert open_credentials(SETTINGS, channel) == HELD
    assert renewals(caller, channel) == 0


def test_a_removed_channel_cannot_be_renewed(caller: Session) -> None:
    with pytest.raises(CredentialsError, match="removed"):
        renew_credentials(caller, 987654, dict(HELD), refresher([]), settings=SETTINGS)


def test_a_renewal_that_waits_too_long_for_the_lock_is_transient(
    committing_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Session(committing_engine) as session:
        channel = held_channel(session)
        channel_id = channel.id
    impatient = make_engine(committing_engine.url.render_as_string(hide_password=False))
    event.listen(impatient, "connect", _short_busy_timeout)
    monkeypatch.setattr(channel_credentials, "RENEW_LOCK_WAIT_SECONDS", 1)
    calls: list[dict[str, Any]] = []
    with committing_engine.connect() as holder, Session(impatient) as caller:
        _hold_channel(holder, channel_id)
        with pytest.raises(TransientError, match="renewed elsewhere"):
            renew_credentials(caller, channel_id, dict(HELD), refresher(calls), settings=SETTINGS)
        holder.rollback()
    impatient.dispose()
    assert calls == []


def _hold_channel(connection: Any, channel_id: int) -> None:
    # Another process in the middle of renewing: the channel's row (SQLite: the database's
    # write lock) held in an open transaction.
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        connection.execute(
            text("SELECT id FROM channels WHERE id = :id FOR UPDATE"), {"id": channel_id}
        )


def _short_busy_timeout(dbapi_connection: Any, _record: Any) -> None:
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout=300")
        cursor.close()


# What the network answered is never lost ----------------------------------------------------
#
# A rotating network retires the refresh token it was given when it answers: if the renewal
# then failed to save the new one, the next renewal would spend the retired token and the
# channel would need reconnecting for nothing.

ROTATED = {"access_token": "a2", "refresh_token": "r2"}


@contextmanager
def audit_head_busy(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, *, until_first_timeout: bool
) -> Iterator[None]:
    """The audit head held by another transaction while the renewal runs, past its lock
    wait (shortened to 1 s), and let go once a wait for it has failed, or only at the end.

    On PostgreSQL that is a real transaction, on a thread of its own. SQLite has no lock
    on the head alone (a renewal takes the database's write lock before the network call),
    so there the wait for the head fails as PostgreSQL's lock_timeout makes it fail.
    """
    monkeypatch.setattr(channel_credentials, "RENEW_LOCK_WAIT_SECONDS", 1)
    if engine.dialect.name == "sqlite":
        yield from _sqlite_head_busy(monkeypatch, until_first_timeout=until_first_timeout)
        return
    taken, release = Event(), Event()

    def hold() -> None:
        with engine.connect() as holder:
            holder.execute(text("SELECT id FROM audit_head WHERE id = 1 FOR UPDATE"))
            taken.set()
            release.wait(timeout=60)
            holder.rollback()

    def on_error(context: Any) -> None:
        if until_first_timeout and isinstance(context.sqlalchemy_exception, OperationalError):
            release.set()

    event.listen(engine, "handle_error", on_error)
    with ThreadPoolExecutor(max_workers=1) as pool:
        holding = pool.submit(hold)
        assert taken.wait(timeout=30), "the audit head was never taken"
        try:
            yield
        finally:
            release.set()
            event.remove(engine, "handle_error", on_error)
            holding.result(timeout=30)


def _sqlite_head_busy(
    monkeypatch: pytest.MonkeyPatch, *, until_first_timeout: bool
) -> Iterator[None]:
    locked_head = audit._locked_head
    waits = itertools.count()

    def busy(session: Session) -> Any:
        if next(waits) == 0 or not until_first_timeout:
            raise OperationalError("SELECT audit_head", {}, Exception("database is locked"))
        return locked_head(session)

    monkeypatch.setattr(audit, "_locked_head", busy)
    yield


def renewed_entries(engine: Engine, channel_id: int) -> list[dict[str, Any]]:
    with Session(engine) as session:
        entries = session.scalars(
            select(AuditEntry).where(
                AuditEntry.action == "channel.credentials_renewed",
                AuditEntry.target_id == str(channel_id),
            )
        )
        return [entry.details for entry in entries]


def renew_while_head_busy(
    engine: Engine, monkeypatch: pytest.MonkeyPatch, *, until_first_timeout: bool
) -> tuple[int, list[dict[str, Any]], dict[str, Any]]:
    """Renews a held channel's credentials while the audit head is held; returns the channel,
    the refresh calls made and the credentials renewed."""
    with Session(engine) as session:
        channel_id = held_channel(session).id
    calls: list[dict[str, Any]] = []
    with (
        audit_head_busy(engine, monkeypatch, until_first_timeout=until_first_timeout),
        Session(engine) as caller,
    ):
        renewed = renew_credentials(
            caller, channel_id, dict(HELD), refresher(calls, **ROTATED), settings=SETTINGS
        )
    return channel_id, calls, renewed


def test_new_tokens_are_kept_when_the_audit_entry_must_wait(
    committing_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    channel_id, calls, renewed = renew_while_head_busy(
        committing_engine, monkeypatch, until_first_timeout=True
    )
    assert calls == [HELD]
    assert renewed == {**HELD, **ROTATED}
    channel, credentials = stored(committing_engine, channel_id)
    assert credentials == renewed
    assert channel.status == ChannelStatus.ACTIVE
    # Recorded once the head was free, and marked as written after the credentials.
    assert renewed_entries(committing_engine, channel_id) == [
        {"keys": ["access_token", "refresh_token"], "recorded_after_saving": True}
    ]


def test_new_tokens_are_kept_while_the_audit_head_stays_held(
    committing_engine: Engine, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # The reviewer's reproduction: the head held from before the renewal to after it.
    channel_id, calls, renewed = renew_while_head_busy(
        committing_engine, monkeypatch, until_first_timeout=False
    )
    assert len(calls) == 1
    assert stored(committing_engine, channel_id)[1]["refresh_token"] == "r2"
    assert renewed["refresh_token"] == "r2"
    assert renewed_entries(committing_engine, channel_id) == []
    assert f"channel {channel_id}: renewed credentials saved without an audit entry" in (
        caplog.text
    )


def test_new_tokens_are_saved_again_when_the_renewals_commit_fails(
    committing_engine: Engine,
) -> None:
    with Session(committing_engine) as session:
        channel_id = held_channel(session).id
    commits = itertools.count()

    def first_commit_fails(_connection: Any) -> None:
        if next(commits) == 0:
            raise OperationalError("COMMIT", {}, Exception("server closed the connection"))

    calls: list[dict[str, Any]] = []
    event.listen(committing_engine, "commit", first_commit_fails)
    try:
        with Session(committing_engine) as caller:
            renewed = renew_credentials(
                caller, channel_id, dict(HELD), refresher(calls, **ROTATED), settings=SETTINGS
            )
            channel = caller.get(Channel, channel_id)
            assert channel is not None
            assert open_credentials(SETTINGS, channel) == renewed  # the caller sees them
    finally:
        event.remove(committing_engine, "commit", first_commit_fails)
    assert calls == [HELD]
    assert renewed == {**HELD, **ROTATED}
    assert stored(committing_engine, channel_id)[1] == renewed
    assert renewed_entries(committing_engine, channel_id) == [
        {"keys": ["access_token", "refresh_token"]}
    ]
