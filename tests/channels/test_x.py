"""The X connector against a fake X API v2 on a real local HTTP server (tests/channels/x_factory.py)
and X's recorded answers (payloads/x/): sign-in, token renewal, errors, reconciliation, counting."""

from __future__ import annotations

import base64
import hashlib
import socket
import time
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy.orm import Session

from sixfold.channels import service
from sixfold.channels.base import (
    AmbiguousError,
    CredentialsError,
    MediaItem,
    OutgoingPost,
    PermanentError,
    RateLimited,
    TransientError,
    count_characters,
    find_published,
)
from sixfold.channels.connectors.x import XConnector
from sixfold.channels.credentials import open_credentials
from sixfold.channels.tokens import read_expiry
from sixfold.config import Settings
from sixfold.db import utcnow
from tests import factories
from tests.channels.x_factory import (
    ACCOUNT,
    ACCOUNT_SETTINGS,
    CLIENT_ID,
    CLIENT_SECRET,
    FakeX,
    recorded,
    start_fake_x,
)

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
SECRETS = Settings(secret_key="x-connector-tests-" + "s" * 32)
LINKED = "Our trail guide for the weekend: https://example.org/trail-guide?utm_source=x & more"


@pytest.fixture(scope="module")
def server() -> Iterator[HTTPServer]:
    # One server for the module (stopping one takes half a second); a fresh fake X per test.
    with ExitStack() as resources:
        yield start_fake_x(resources).server


@pytest.fixture
def fake(server: HTTPServer) -> Iterator[FakeX]:
    server.clear()
    fake = FakeX(server)
    yield fake
    server.check_handler_errors()
    server.clear()


def connector(
    fake: FakeX, credentials: dict[str, Any] | None = None, **settings: Any
) -> XConnector:
    return XConnector(fake.context(credentials, **settings))


def serve_once(fake: FakeX, path: str, name: str, method: str = "POST", **headers: str) -> None:
    fake.server.expect_oneshot_request(path, method=method).respond_with_response(
        recorded(name, **headers)
    )


def an_hour_ago() -> Any:
    return utcnow() - timedelta(hours=1)


def expiry_of(credentials: dict[str, Any]) -> datetime:
    expiry = read_expiry(credentials["expires_at"])
    assert expiry is not None
    return expiry


# Connecting ---------------------------------------------------------------------------------
def test_oauth_round_trip_with_pkce(fake: FakeX) -> None:
    values = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "api_base": fake.api_base}
    redirect = "https://sixfold.example/channels/connect/x/callback"
    authorization = XConnector.authorize(values, redirect, "state-123")
    query = {k: v[0] for k, v in parse_qs(urlsplit(authorization.url).query).items()}
    verifier = authorization.pending["code_verifier"]
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    assert query["code_challenge"] == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    assert query["code_challenge_method"] == "S256"
    assert query["state"] == "state-123"
    assert query["client_id"] == CLIENT_ID
    assert set(query["scope"].split()) >= {"tweet.write", "offline.access", "media.write"}

    connection = XConnector.complete(
        values, authorization.pending, redirect, fake.approve(authorization.url)
    )
    assert connection.handle == "@XDevelopers"
    assert connection.settings["user_id"] == ACCOUNT["id"]
    credentials = connection.credentials
    assert credentials["refresh_token"] in fake.refresh_tokens
    assert credentials["client_secret"] == CLIENT_SECRET
    assert timedelta(seconds=7100) < expiry_of(credentials) - utcnow() <= timedelta(hours=2)
    assert XConnector(fake.context(credentials)).verify() == "@XDevelopers"


def test_a_code_without_its_verifier_is_refused(fake: FakeX) -> None:
    values = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "api_base": fake.api_base}
    authorization = XConnector.authorize(values, "https://sixfold.example/cb", "s")
    code = fake.approve(authorization.url)
    with pytest.raises(CredentialsError, match="token was invalid"):
        XConnector.complete(values, {"code_verifier": "x" * 64}, "https://sixfold.example/cb", code)


# Tokens -------------------------------------------------------------------------------------
def test_a_token_near_expiry_is_renewed_first_and_saved_at_once(fake: FakeX) -> None:
    old = fake.credentials(expires_in=120)  # inside the five-minute margin
    x = connector(fake, old)
    x.publish(OutgoingPost(text="Renewed before posting."), "key-1")
    assert len(fake.saved) == 1
    saved = fake.saved[0]
    assert saved["access_token"] != old["access_token"]
    assert saved["refresh_token"] in fake.refresh_tokens
    assert old["refresh_token"] not in fake.refresh_tokens  # X rotated it
    assert expiry_of(saved) > utcnow() + timedelta(seconds=7000)
    sent = fake.requests_to("/2/tweets", "POST")[0]
    assert sent.headers["Authorization"] == f"Bearer {saved['access_token']}"


def test_credentials_sealed_with_an_epoch_expiry_are_still_renewed_in_time(fake: FakeX) -> None:
    # Before channels/tokens.py, X's expiry was stored as epoch seconds.
    old = {**fake.credentials(expires_in=120), "expires_at": int(time.time()) + 120}
    x = connector(fake, old)
    x.verify()
    assert len(fake.requests_to("/2/oauth2/token", "POST")) == 1
    assert expiry_of(x.credentials) > utcnow() + timedelta(seconds=7000)

    fresh = {**fake.credentials(), "expires_at": int(time.time()) + 3600}
    connector(fake, fresh).verify()
    assert len(fake.requests_to("/2/oauth2/token", "POST")) == 1  # an hour left: kept


def test_a_renewal_without_a_new_refresh_token_keeps_the_stored_one(fake: FakeX) -> None:
    old = fake.credentials(expires_in=60)
    fake.send_refresh_tokens = False
    x = connector(fake, old)
    x.verify()
    assert "refresh_token" not in fake.saved[0]
    assert x.credentials["refresh_token"] == old["refresh_token"]


def test_renewed_tokens_are_sealed_by_the_platform_and_never_emptied(
    db: Session, fake: FakeX
) -> None:
    old = fake.credentials(expires_in=60)
    channel = service.create_channel(
        db,
        factories.organisation(db),
        kind="x",
        name="X main",
        actor=factories.ACTOR,
        settings=SECRETS,
        channel_settings={"api_base": fake.api_base, **ACCOUNT_SETTINGS},
        credentials=old,
    )
    db.commit()
    service.connector_for(db, channel.id, settings=SECRETS).verify()
    renewed = open_credentials(SECRETS, channel)
    assert renewed["refresh_token"] in fake.refresh_tokens
    assert renewed["access_token"] != old["access_token"]
    assert renewed["client_secret"] == CLIENT_SECRET

    fake.send_refresh_tokens = False
    fake.access_tokens[renewed["access_token"]] = 0  # a 401 this time, not the clock
    service.connector_for(db, channel.id, settings=SECRETS).verify()
    again = open_credentials(SECRETS, channel)
    assert again["access_token"] != renewed["access_token"]
    assert again["refresh_token"] == renewed["refresh_token"]


def test_an_expired_token_is_renewed_once_and_the_call_repeated(fake: FakeX) -> None:
    credentials = fake.credentials()
    fake.access_tokens[credentials["access_token"]] = 0  # X expired it before its time
    remote = connector(fake, credentials).publish(OutgoingPost(text="After a 401."), "k")
    assert len(fake.requests_to("/2/tweets", "POST")) == 2
    assert len(fake.requests_to("/2/oauth2/token", "POST")) == 1
    assert fake.tweets[remote.remote_id].sent == "After a 401."


def test_a_refused_renewal_needs_reconnecting(fake: FakeX) -> None:
    credentials = {**fake.credentials(), "refresh_token": "spent-already"}
    fake.access_tokens[credentials["access_token"]] = 0
    with pytest.raises(CredentialsError, match="refused the sign-in"):
        connector(fake, credentials).publish(OutgoingPost(text="Never sent."), "k")
    assert fake.tweets == {}


def test_a_second_401_after_renewing_needs_reconnecting(fake: FakeX) -> None:
    serve_once(fake, "/2/tweets", "unauthorized")
    serve_once(fake, "/2/tweets", "unauthorized")
    with pytest.raises(CredentialsError, match="Unauthorized"):
        connector(fake).publish(OutgoingPost(text="Refused twice."), "k")


# Errors, from X's recorded answers ------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "error", "message"),
    [
        ("bad_request", PermanentError, "is not valid"),
        ("duplicate", PermanentError, "not allowed to create a Tweet with duplicate content"),
        ("over_capacity", AmbiguousError, "Over capacity"),
        ("internal_error", AmbiguousError, "Internal error"),
    ],
)
def test_refusals_of_a_post(fake: FakeX, name: str, error: type[Exception], message: str) -> None:
    serve_once(fake, "/2/tweets", name)
    with pytest.raises(error, match=message) as raised:
        connector(fake).publish(OutgoingPost(text="Refused."), "k")
    assert type(raised.value) is error


@pytest.mark.parametrize(
    ("name", "reset_header", "scope"),
    [
        ("too_many_requests", "x_rate_limit_reset", "account"),
        ("user_limit_24h", "x_user_limit_24hour_reset", "account"),
        ("app_limit_24h", "x_app_limit_24hour_reset", "network"),
    ],
)
def test_rate_limits_say_how_long_and_whose(
    fake: FakeX, name: str, reset_header: str, scope: str
) -> None:
    serve_once(fake, "/2/tweets", name, **{reset_header: str(int(time.time()) + 600)})
    started = time.monotonic()
    with pytest.raises(RateLimited) as limited:
        connector(fake).publish(OutgoingPost(text="Limited."), "k")
    assert time.monotonic() - started < 5, "tweepy must not sleep until the reset"
    assert limited.value.scope == scope
    assert limited.value.retry_after is not None
    assert 590 <= limited.value.retry_after <= 601


def test_a_server_error_while_reading_is_only_transient(fake: FakeX) -> None:
    serve_once(fake, f"/2/users/{ACCOUNT['id']}/tweets", "internal_error", method="GET")
    with pytest.raises(TransientError) as raised:
        connector(fake).fetch_own_posts(an_hour_ago())
    assert not isinstance(raised.value, AmbiguousError)


def test_over_capacity_while_reading_is_only_transient(fake: FakeX) -> None:
    serve_once(fake, f"/2/users/{ACCOUNT['id']}/tweets", "over_capacity", method="GET")
    with pytest.raises(TransientError, match="Over capacity"):
        connector(fake).fetch_own_posts(an_hour_ago())


def test_a_post_whose_answer_times_out_is_ambiguous_and_found_again(fake: FakeX) -> None:
    fake.stall_after_creating(seconds=1.5)
    x = connector(fake, timeout_seconds=0.3)
    with pytest.raises(AmbiguousError):
        x.publish(OutgoingPost(text=LINKED), "key-timeout")
    time.sleep(1.3)
    found = find_published(
        x.fetch_own_posts(an_hour_ago()), idempotency_key="key-timeout", text=LINKED
    )
    assert found is not None
    assert found.text == LINKED


def test_a_connection_never_made_is_transient(fake: FakeX) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    x = connector(fake, api_base=f"http://127.0.0.1:{closed_port}")
    with pytest.raises(TransientError) as raised:
        x.publish(OutgoingPost(text="Nowhere to go."), "k")
    assert not isinstance(raised.value, AmbiguousError)


def test_what_x_would_refuse_is_refused_before_sending(fake: FakeX) -> None:
    x = connector(fake)
    with pytest.raises(PermanentError, match="282 characters as X counts them"):
        x.publish(OutgoingPost(text="😷" * 141), "k")
    gif = MediaItem("cat.gif", "image/gif", b"GIF89a")
    with pytest.raises(PermanentError, match="image/gif"):
        x.publish(OutgoingPost(text="A cat.", media=[gif]), "k")
    assert fake.server.log == []


# Publishing and reading back -----------------------------------------------------------------
def test_a_post_with_a_link_and_an_image_is_found_by_its_text(fake: FakeX) -> None:
    image = MediaItem("map.png", "image/png", PNG, alt_text="Map of the northern loop")
    x = connector(fake)
    remote = x.publish(OutgoingPost(text=LINKED, media=[image]), "key-link")
    shown = fake.tweets[remote.remote_id].text
    assert "https://t.co/" in shown
    assert "example.org" not in shown
    assert "&amp;" in shown
    assert [m["alt"] for m in fake.media.values()] == ["Map of the northern loop"]
    own = x.fetch_own_posts(an_hour_ago())
    found = find_published(own, idempotency_key="key-link", text=LINKED)
    assert found is not None
    assert found.remote_id == remote.remote_id
    assert found.text == LINKED
    assert remote.url == f"https://x.com/XDevelopers/status/{remote.remote_id}"


def test_recorded_timeline_pages_are_read_to_the_end_from_since(fake: FakeX) -> None:
    path = f"/2/users/{ACCOUNT['id']}/tweets"
    serve_once(fake, path, "user_tweets", method="GET")
    serve_once(fake, path, "user_tweets_last_page", method="GET")
    since = utcnow() - timedelta(days=30)
    posts = connector(fake).fetch_own_posts(since)
    assert [p.text for p in posts] == [
        "Trail guide & map for the weekend: https://example.org/trail-guide?utm_source=x",
        "Rules of thumb: 3 < 5 && 5 > 3",
        "Opening hours change on Monday.",
    ]
    first, second = (r.args for r in fake.requests_to(path))
    assert first["start_time"] == since.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert "pagination_token" not in first
    assert second["pagination_token"] == "7140dibdnow9c7btw3w29grvxfcgvpb9n9coehpk7xz5i"
    assert posts[0].published_at.isoformat() == "2023-11-30T00:09:10+00:00"


def test_replies_go_to_the_post_they_answer(fake: FakeX) -> None:
    x = connector(fake)
    first = x.publish(OutgoingPost(text="1/2 The trail reopens."), "k1")
    x.publish(OutgoingPost(text="2/2 Bring boots.", reply_to=first.remote_id), "k2")
    reply = fake.requests_to("/2/tweets", "POST")[1].get_json()
    assert reply["reply"] == {"in_reply_to_tweet_id": first.remote_id}


def test_mentions_name_their_author_and_keep_their_links(fake: FakeX) -> None:
    fake.add_mention("trailfan", "is the trail open? https://news.example.com/storm")
    mentions = connector(fake).fetch_mentions(an_hour_ago())
    assert [(m.author, m.text) for m in mentions] == [
        ("@trailfan", "@XDevelopers is the trail open? https://news.example.com/storm")
    ]
    assert mentions[0].url.startswith("https://x.com/trailfan/status/")


def test_recorded_mentions(fake: FakeX) -> None:
    serve_once(fake, f"/2/users/{ACCOUNT['id']}/mentions", "mentions", method="GET")
    (mention,) = connector(fake).fetch_mentions(an_hour_ago())
    assert mention.author == "@X"
    assert mention.text.endswith("https://news.example.com/storm")


def test_metrics_are_counts_and_deleted_posts_are_left_out(fake: FakeX) -> None:
    x = connector(fake)
    kept = x.publish(OutgoingPost(text="Kept."), "k1")
    gone = x.publish(OutgoingPost(text="Deleted."), "k2")
    fake.tweets[kept.remote_id].public_metrics["like_count"] = 7
    x.delete(gone.remote_id)
    x.delete(gone.remote_id)  # deleting twice is no error
    metrics = x.fetch_metrics([kept.remote_id, gone.remote_id])
    assert [m.remote_id for m in metrics] == [kept.remote_id]
    assert metrics[0].values["like_count"] == 7


def test_recorded_metrics(fake: FakeX) -> None:
    serve_once(fake, "/2/tweets", "tweets_lookup", method="GET")
    (metrics,) = connector(fake).fetch_metrics(["1730000000000000002", "1725000000000000000"])
    assert metrics.values == {
        "retweet_count": 4, "reply_count": 2, "like_count": 31, "quote_count": 1,
        "bookmark_count": 3, "impression_count": 1207,
    }  # fmt: skip


# Counting as X counts -------------------------------------------------------------------------
FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"
ENGLAND = "\U0001f3f4\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f"


@pytest.mark.parametrize(
    ("text", "weight"),
    [
        # twitter-text conformance/validate.yml, WeightedTweetsWithDiscountedEmojiCounterTest
        ("Hi http://test.co", 26),
        ("http://test.co", 23),
        ("285 chars-" + "xxxxxxxxxx-" * 25, 285),
        ("https://www.twitter.com/aloha " * 10, 240),
        ("H\U0001f431\u263a" + FAMILY, 7),
        ("😷👾😡🔥💩", 10),
        ("🙋🏽👨\u200d🎤", 4),
        (FAMILY * 140, 280),
        (f"Unicode 10.0 emoji: 🤪; 🧕; 🧕🏾; {ENGLAND}", 34),
        ("Unicode 9.0 emoji: 🤠; 💃; 💃🏾", 29),
        ("A\u0301B", 2),  # NFC first: Á is one character
        ("randomurlrandomurlrandomurlrandomurlrandomurlrandomurlrandomurls.com", 68),
        ("\u2066\u202ahttp://foobar.پاکستان/\u202c\u2069", 31),
        # conformance/validate.yml, lengths and urls_without_protocol
        ("Test https://test.com test https://test.com test.com test", 86),
        ("example.com", 23),
        ("foo.co.jp", 23),
        ("t.co", 23),
        ("저찀쯿쿿", 8),
        # and what the rules imply
        ("故人西辞黄鹤楼", 14),
        ("1\u20e3 #\ufe0f\u20e3", 5),
        ("🇫🇷🇩🇪", 4),
        ("file.py and me@example.com", 26),
        ("see example.com/a.", 28),
    ],
)
def test_weighted_counting(text: str, weight: int) -> None:
    assert XConnector.count_characters(text) == weight
    assert count_characters(XConnector, text) == weight


def test_general_punctuation_weighs_one() -> None:
    spaces = "".join(chr(c) for c in range(0x2000, 0x200E))
    dashes_and_quotes = "".join(chr(c) for c in [*range(0x2010, 0x2020), *range(0x2032, 0x2038)])
    assert XConnector.count_characters(spaces + dashes_and_quotes) == 14 + 16 + 6
