"""How the LinkedIn connector reads LinkedIn's answers, served by a real local HTTP server
from recorded payloads (tests/channels/linkedin_factory.py): errors, paging, metrics and
mentions."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta

import pytest
from pytest_httpserver import HTTPServer

from sixfold.channels.base import (
    AmbiguousError,
    CredentialsError,
    OutgoingPost,
    PermanentError,
    RateLimited,
    TransientError,
)
from sixfold.db import utcnow
from tests.channels.linkedin_factory import (
    MEMBER,
    FakeLinkedIn,
    fresh,
    now_ms,
    start_fake,
    start_server,
)


@pytest.fixture(scope="module")
def server() -> Iterator[HTTPServer]:
    with ExitStack() as resources:
        yield start_server(resources)


@pytest.fixture
def fake(server: HTTPServer) -> Iterator[FakeLinkedIn]:
    yield from fresh(server)


@pytest.fixture
def member_fake(server: HTTPServer) -> Iterator[FakeLinkedIn]:
    yield from fresh(server, author=MEMBER)


@pytest.fixture
def slow_fake() -> Iterator[FakeLinkedIn]:
    # Its own server: a slow answer still being given must not reach another test's fake.
    with ExitStack() as resources:
        yield start_fake(resources)


# Errors --------------------------------------------------------------------------------------


def midnight_utc_in() -> float:
    now = datetime.now(UTC)
    midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), UTC)
    return (midnight - now).total_seconds()


@pytest.mark.parametrize(
    ("recorded", "error", "words"),
    [
        ("error_400_bad_request", PermanentError, "sortBy.field: QUERY_PARAM_NOT_ALLOWED"),
        ("error_422_too_long", PermanentError, "/commentary: Text length exceeds"),
        ("error_401_revoked", CredentialsError, "revoked by the user"),
        ("error_403_author", CredentialsError, "processing fields \\[/author\\]"),
        ("error_500", AmbiguousError, "500"),
        ("error_503", AmbiguousError, "503"),
    ],
)
def test_linkedin_errors_on_posting(
    fake: FakeLinkedIn, recorded: str, error: type[Exception], words: str
) -> None:
    fake.once("POST", "/rest/posts", recorded)
    with pytest.raises(error, match=words):
        fake.connector().publish(OutgoingPost(text="Hello"), "k")


def test_the_application_day_limit_holds_every_account_until_midnight(fake: FakeLinkedIn) -> None:
    fake.once("POST", "/rest/posts", "error_429_application_day")
    with pytest.raises(RateLimited) as limited:
        fake.connector().publish(OutgoingPost(text="Hello"), "k")
    assert limited.value.scope == "network"
    assert limited.value.retry_after is not None
    assert abs(limited.value.retry_after - midnight_utc_in()) < 5


def test_a_retry_after_header_is_honoured(fake: FakeLinkedIn) -> None:
    fake.once("POST", "/rest/posts", "error_429_member_retry_after")
    with pytest.raises(RateLimited) as limited:
        fake.connector().publish(OutgoingPost(text="Hello"), "k")
    assert (limited.value.scope, limited.value.retry_after) == ("account", 3600)


def test_reading_a_members_posts_without_permission_is_not_a_reconnect(
    member_fake: FakeLinkedIn,
) -> None:
    with pytest.raises(PermanentError, match="does not let this app read") as refused:
        member_fake.connector().fetch_own_posts(utcnow() - timedelta(hours=1))
    assert not isinstance(refused.value, CredentialsError)


def test_a_server_error_on_reading_is_only_transient(fake: FakeLinkedIn) -> None:
    fake.once("GET", "/rest/posts", "error_503")
    with pytest.raises(TransientError) as failed:
        fake.connector().fetch_own_posts(utcnow())
    assert not isinstance(failed.value, AmbiguousError)


def test_no_answer_to_a_post_is_ambiguous(slow_fake: FakeLinkedIn) -> None:
    slow_fake.once("POST", "/rest/posts", "posts_create", delay=1.0)
    connector = slow_fake.connector(settings={"timeout_seconds": 0.2})
    with pytest.raises(AmbiguousError):
        connector.publish(OutgoingPost(text="Hello"), "k")


def test_no_answer_to_a_read_is_only_transient(slow_fake: FakeLinkedIn) -> None:
    slow_fake.once("GET", "/rest/posts", "posts_by_author", delay=1.0)
    connector = slow_fake.connector(settings={"timeout_seconds": 0.2})
    with pytest.raises(TransientError) as failed:
        connector.fetch_own_posts(utcnow())
    assert not isinstance(failed.value, AmbiguousError)


def test_a_post_that_could_not_be_sent_at_all_is_only_transient(fake: FakeLinkedIn) -> None:
    connector = fake.connector(settings={"api_base": "http://127.0.0.1:9"})
    with pytest.raises(TransientError) as failed:
        connector.publish(OutgoingPost(text="Hello"), "k")
    assert not isinstance(failed.value, AmbiguousError)


# Reading -------------------------------------------------------------------------------------


def test_own_posts_stop_paging_once_older_than_since(fake: FakeLinkedIn) -> None:
    start = now_ms()
    urns = [fake.seed_post(f"Post {i}", at_ms=start - i * 60_000) for i in range(130)]
    fake.seed_post("Someone else's", at_ms=start, author="urn:li:organization:1")
    since = datetime.fromtimestamp((start - 75 * 60_000 - 30_000) / 1000, UTC)
    own = fake.connector().fetch_own_posts(since)
    assert [p.remote_id for p in own] == urns[:76]
    assert [p.text for p in own[:2]] == ["Post 0", "Post 1"]
    pages = [r.args["start"] for r in fake.requests() if r.path == "/rest/posts"]
    assert pages == ["0", "50"]
    assert all(r.args["sortBy"] == "LAST_MODIFIED" for r in fake.requests())


def test_metrics_are_likes_and_comments(fake: FakeLinkedIn) -> None:
    connector = fake.connector()
    remote = connector.publish(OutgoingPost(text="Counted"), "k")
    fake.likes[remote.remote_id] = (7, 3)
    metrics = connector.fetch_metrics([remote.remote_id, "urn:li:share:404"])
    assert [(m.remote_id, m.values) for m in metrics] == [
        (remote.remote_id, {"likes": 7, "comments": 3})
    ]


def test_mentions_of_a_page_come_from_its_notifications(fake: FakeLinkedIn) -> None:
    note = fake.seed_mention(now_ms() - 60_000)
    fake.seed_mention(now_ms() - 3 * 3600_000, sourcePost="urn:li:share:1")
    mentions = fake.connector().fetch_mentions(utcnow() - timedelta(hours=1))
    assert len(mentions) == 1
    mention = mentions[0]
    assert mention.remote_id == note["sourcePost"]
    assert mention.author == "urn:li:person:qUvas1UvE2"
    assert mention.text == "Walked the north loop with Trail Co (worth it) #outdoors"
    assert mention.url == f"https://www.linkedin.com/feed/update/{note['sourcePost']}"


def test_a_member_has_no_mentions_to_fetch(member_fake: FakeLinkedIn) -> None:
    assert member_fake.connector().fetch_mentions(utcnow() - timedelta(days=1)) == []
    assert member_fake.requests() == []
