"""The Mastodon connector against a local Mastodon server (mastodon_factory.FakeMastodon):
Mastodon.py makes real HTTP requests and reads the recorded payload shapes."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from sixfold.channels.base import (
    AmbiguousError,
    ConnectorContext,
    ConnectorError,
    CredentialsError,
    MediaItem,
    Metrics,
    OutgoingPost,
    PermanentError,
    RateLimited,
    TransientError,
    count_characters,
    find_published,
)
from sixfold.channels.connectors.mastodon import MastodonConnector, server_url
from sixfold.channels.connectors.mastodon_text import status_text
from tests.channels.mastodon_factory import FakeMastodon, running_fake
from tests.channels.mastodon_payloads import payload

REDIRECT = "https://sixfold.example/channels/connect/mastodon/callback"
STATUSES = "/api/v1/statuses"
TEXT = "The ridge trail is open again."
PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)


@pytest.fixture
def fake() -> Iterator[FakeMastodon]:
    with running_fake() as server:
        yield server


@pytest.fixture
def connector(fake: FakeMastodon) -> MastodonConnector:
    return MastodonConnector(fake.context())


def minutes_ago(minutes: float) -> datetime:
    return datetime.now(UTC) - timedelta(minutes=minutes)


def post(text: str = TEXT, **fields: object) -> OutgoingPost:
    return OutgoingPost(text=text, **fields)  # type: ignore[arg-type]


def sent(fake: FakeMastodon, method: str, prefix: str) -> list[dict[str, str]]:
    return [headers for m, path, headers in fake.seen if m == method and path.startswith(prefix)]


# Connecting ---------------------------------------------------------------------------------


def test_connecting_registers_the_app_sends_the_person_over_and_stores_the_token(
    fake: FakeMastodon,
) -> None:
    authorization = MastodonConnector.authorize({"server": fake.base}, REDIRECT, "state-42")
    query = parse_qs(urlsplit(authorization.url).query)
    assert authorization.url.startswith(f"{fake.base}/oauth/authorize?")
    assert query["state"] == ["state-42"]
    assert query["redirect_uri"] == [REDIRECT]
    assert query["scope"] == ["read write"]
    [app] = fake.apps.values()
    assert app["redirect_uris"] == [REDIRECT]
    assert app["website"] == "https://sixfold.example"
    assert authorization.pending == {
        "client_id": app["client_id"],
        "client_secret": app["client_secret"],
        "server": fake.base,
    }

    code = fake.approve(authorization.url)
    values = {"server": fake.base}
    connection = MastodonConnector.complete(values, authorization.pending, REDIRECT, code)

    assert connection.handle == "@sixfold@social.example"
    limits = connection.settings.pop("server_limits")  # see test_mastodon_limits.py
    assert limits["max_characters"] == 500
    assert connection.settings == {
        "server": fake.base,
        "account_id": "109302175384922046",
        "domain": "social.example",
    }
    token = connection.credentials["access_token"]
    assert fake.tokens[token] == "read write"
    assert connection.credentials["client_secret"] == app["client_secret"]
    connected = MastodonConnector(ConnectorContext(1, connection.settings, connection.credentials))
    assert connected.verify() == "@sixfold@social.example"


def test_a_code_used_twice_or_made_up_is_refused(fake: FakeMastodon) -> None:
    authorization = MastodonConnector.authorize({"server": fake.base}, REDIRECT, "s")
    code = fake.approve(authorization.url)
    MastodonConnector.complete({}, authorization.pending, REDIRECT, code)
    for wrong in (code, "made-up-code"):
        with pytest.raises(CredentialsError, match="did not accept the sign-in"):
            MastodonConnector.complete({}, authorization.pending, REDIRECT, wrong)


def test_a_server_that_will_not_register_the_app_or_cannot_be_reached_is_explained(
    fake: FakeMastodon,
) -> None:
    fake.fail_next("POST", "/api/v1/apps", "redirect_uri")
    with pytest.raises(ConnectorError, match="did not register Sixfold"):
        MastodonConnector.authorize({"server": fake.base}, REDIRECT, "s")
    with pytest.raises(ConnectorError, match="Could not reach"):
        MastodonConnector.authorize({"server": f"http://127.0.0.1:{closed_port()}"}, REDIRECT, "s")


@pytest.mark.parametrize(
    ("typed", "url"),
    [
        ("https://Mastodon.Social/", "https://mastodon.social"),
        ("mastodon.social", "https://mastodon.social"),
        ("http://localhost:3000", "http://localhost:3000"),
        ("http://127.0.0.1:8080/", "http://127.0.0.1:8080"),
    ],
)
def test_server_addresses_are_normalised(typed: str, url: str) -> None:
    assert server_url(typed) == url


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "http://mastodon.social",
        "ftp://mastodon.social",
        "https://mastodon.social/@someone",
        "https://me:secret@mastodon.social",
        "https://mastodon.social/?next=/",
    ],
)
def test_server_addresses_must_be_https_except_on_this_machine(typed: str) -> None:
    with pytest.raises(ConnectorError):
        server_url(typed)


# Publishing exactly once -------------------------------------------------------------------


def test_the_idempotency_key_is_sent_and_the_same_key_returns_the_same_status(
    fake: FakeMastodon, connector: MastodonConnector
) -> None:
    first = connector.publish(post(), "publication-1")
    again = connector.publish(post(), "publication-1")
    other = connector.publish(post(), "publication-2")
    assert again.remote_id == first.remote_id
    assert other.remote_id != first.remote_id
    keys = [h.get("Idempotency-Key") for h in sent(fake, "POST", STATUSES)]
    assert keys == ["publication-1", "publication-1", "publication-2"]
    assert len(fake.statuses) == 2
    assert first.idempotency_key is None  # Mastodon does not show the key on the status
    assert first.url == f"{fake.base}/@sixfold/{first.remote_id}"
    assert first.published_at.tzinfo is not None


def test_past_the_hour_the_key_is_forgotten_and_reconciliation_finds_the_post_by_text(
    fake: FakeMastodon, connector: MastodonConnector
) -> None:
    start = time.time()
    fake.clock = lambda: start
    first = connector.publish(post(), "publication-1")
    fake.clock = lambda: start + 3601
    own = connector.fetch_own_posts(minutes_ago(10))
    found = find_published(own, idempotency_key="publication-1", text=TEXT)
    assert found is not None
    assert found.remote_id == first.remote_id
    # What the look-up prevents: a blind resend after the hour posts a second status.
    assert connector.publish(post(), "publication-1").remote_id != first.remote_id


def test_an_answer_that_never_comes_is_ambiguous_and_the_post_is_found_after(
    fake: FakeMastodon, connector: MastodonConnector, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(MastodonConnector, "request_timeout", 0.3)
    fake.slow_next("POST", STATUSES, 1.0)
    with pytest.raises(AmbiguousError, match="No answer"):
        connector.publish(post(), "publication-slow")
    wait_until(lambda: len(fake.statuses) == 1)
    own = connector.fetch_own_posts(minutes_ago(5))
    found = find_published(own, idempotency_key="publication-slow", text=TEXT)
    assert found is not None
    assert connector.publish(post(), "publication-slow").remote_id == found.remote_id
    assert len(fake.statuses) == 1


def test_a_server_that_cannot_be_reached_did_not_get_the_post() -> None:
    settings = {"server": f"http://127.0.0.1:{closed_port()}", "account_id": "1"}
    unreachable = MastodonConnector(ConnectorContext(1, settings, {"access_token": "t"}))
    with pytest.raises(TransientError, match="Could not reach") as raised:
        unreachable.publish(post(), "publication-1")
    assert type(raised.value) is TransientError


# What the server says ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "expected", "message"),
    [
        (lambda f: f.fail_next("POST", STATUSES, "temporary_problem"), TransientError, "temporary"),
        (lambda f: f.fail_next("POST", STATUSES, "media_not_ready"), TransientError, "processing"),
        (
            lambda f: f.fail_next_html("POST", STATUSES, 502, "nginx_502.html"),
            AmbiguousError,
            "502",
        ),
        (
            lambda f: f.fail_next_html("POST", STATUSES, 504, "nginx_504.html"),
            AmbiguousError,
            "504",
        ),
        (lambda f: f.fail_next("POST", STATUSES, "invalid_token"), CredentialsError, "invalid"),
    ],
)
def test_publish_errors_are_sorted_by_what_publishing_must_do(
    fake: FakeMastodon,
    connector: MastodonConnector,
    answer: Callable[[FakeMastodon], None],
    expected: type[Exception],
    message: str,
) -> None:
    answer(fake)
    with pytest.raises(expected, match=message) as raised:
        connector.publish(post(), "publication-1")
    assert type(raised.value) is expected


def test_a_gateway_timeout_on_a_read_is_simply_tried_again(
    fake: FakeMastodon, connector: MastodonConnector
) -> None:
    fake.fail_next_html("GET", r"/api/v1/accounts/\d+/statuses", 504, "nginx_504.html")
    with pytest.raises(TransientError) as raised:
        connector.fetch_own_posts(minutes_ago(5))
    assert type(raised.value) is TransientError


def test_a_rate_limit_says_when_to_come_back_without_putting_the_worker_to_sleep(
    fake: FakeMastodon, connector: MastodonConnector
) -> None:
    fake.rate_limit_next("POST", STATUSES, reset_in=120)
    started = time.monotonic()
    with pytest.raises(RateLimited) as raised:
        connector.publish(post(), "publication-1")
    assert time.monotonic() - started < 5
    assert raised.value.scope == "account"
    assert raised.value.retry_after is not None
    assert 118 <= raised.value.retry_after <= 122
    assert fake.statuses == []


# A proxy's own X-RateLimit-Reset (or Date) that Mastodon.py cannot read as a time: it then
# raises its rate-limit error after the server has answered, whatever the answer was.
UNREADABLE_RESET = {"X-RateLimit-Remaining": "299", "X-RateLimit-Reset": "soon"}


def test_an_unreadable_rate_limit_header_on_a_post_that_was_made_is_ambiguous(
    fake: FakeMastodon, connector: MastodonConnector
) -> None:
    fake.odd_headers_next("POST", STATUSES, UNREADABLE_RESET)
    with pytest.raises(AmbiguousError, match="could not be read"):
        connector.publish(post(), "publication-1")
    assert len(fake.statuses) == 1  # made: sending it again unasked would be a duplicate


def test_an_unreadable_rate_limit_header_on_a_read_is_simply_tried_again(
    fake: FakeMastodon, connector: MastodonConnector
) -> None:
    fake.odd_headers_next("GET", r"/api/v1/accounts/\d+/statuses", UNREADABLE_RESET)
    with pytest.raises(TransientError) as raised:
        connector.fetch_own_posts(minutes_ago(5))
    assert type(raised.value) is TransientError


def test_a_post_over_the_limit_is_refused_with_the_servers_words_and_the_key_stays_free(
    fake: FakeMastodon, connector: MastodonConnector
) -> None:
    with pytest.raises(PermanentError, match="Text character limit of 500 exceeded"):
        connector.publish(post("x" * 501), "publication-1")
    assert connector.publish(post("x" * 500), "publication-1").text == "x" * 500


def test_a_revoked_token_or_one_without_write_access_needs_reconnecting(
    fake: FakeMastodon, connector: MastodonConnector
) -> None:
    assert connector.verify() == "@sixfold@social.example"
    read_only = MastodonConnector(fake.context(scopes="read"))
    with pytest.raises(CredentialsError, match="outside the authorized scopes"):
        read_only.publish(post(), "publication-1")
    fake.revoked.add(connector.credentials["access_token"])
    with pytest.raises(CredentialsError, match="revoked"):
        connector.verify()
    with pytest.raises(CredentialsError, match="not connected"):
        MastodonConnector(ConnectorContext(1, {}, {})).verify()


def test_replies_name_the_status_they_answer_and_an_unknown_one_is_refused(
    fake: FakeMastodon, connector: MastodonConnector
) -> None:
    question = fake.add_notification("@sixfold is the ridge open?", at=time.time())["status"]
    connector.publish(post("It is!", reply_to=question["id"]), "publication-1")
    assert fake.statuses[0]["in_reply_to_id"] == question["id"]
    with pytest.raises(PermanentError, match="Record not found"):
        connector.publish(post("Lost", reply_to="1"), "publication-2")


# Media --------------------------------------------------------------------------------------


def test_media_go_up_with_their_alt_text_and_are_attached(
    fake: FakeMastodon, connector: MastodonConnector
) -> None:
    media = [
        MediaItem("ridge.png", "image/png", PNG, "The ridge at dawn"),
        MediaItem("map.jpg", "image/jpeg", b"\xff\xd8\xff" + bytes(32), "Trail map"),
    ]
    connector.publish(post(media=media), "publication-1")
    assert [(u["content_type"], u["description"]) for u in fake.uploads] == [
        ("image/png", "The ridge at dawn"),
        ("image/jpeg", "Trail map"),
    ]
    attached = fake.statuses[0]["media_attachments"]
    assert [m["description"] for m in attached] == ["The ridge at dawn", "Trail map"]


def test_media_still_processing_are_waited_for_and_never_forever(
    fake: FakeMastodon, connector: MastodonConnector, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(MastodonConnector, "media_poll_seconds", 0.01)
    video = MediaItem("walk.mp4", "video/mp4", bytes(128), "Walking the ridge")
    fake.processing_polls = 2
    connector.publish(post(media=[video]), "publication-1")
    assert len(sent(fake, "GET", "/api/v1/media/")) == 3  # 206, 206, then 200
    assert len(fake.statuses[0]["media_attachments"]) == 1

    monkeypatch.setattr(MastodonConnector, "media_wait_seconds", 0.05)
    fake.processing_polls = 1000
    with pytest.raises(TransientError, match=r"still processing walk\.mp4"):
        connector.publish(post("Again", media=[video]), "publication-2")
    assert len(fake.statuses) == 1


def test_media_mastodon_would_refuse_or_drop_are_refused(
    fake: FakeMastodon, connector: MastodonConnector
) -> None:
    five = [MediaItem(f"{n}.png", "image/png", PNG, "") for n in range(5)]
    with pytest.raises(PermanentError, match="at most 4"):
        connector.publish(post(media=five), "publication-1")
    assert fake.seen == []
    text_file = MediaItem("notes.txt", "text/plain", b"notes", "")
    with pytest.raises(PermanentError, match="File content type is invalid"):
        connector.publish(post(media=[text_file]), "publication-1")


# Text ---------------------------------------------------------------------------------------


def test_the_text_is_read_back_whole_from_mastodons_html(
    fake: FakeMastodon, connector: MastodonConnector
) -> None:
    text = (
        "Ridge trail is open again!\n"
        "Details: https://trails.example.org/notices/2024/ridge-trail-reopening?ref=social\n\n"
        "Thanks @ranger@parks.example and @sixfold & friends <3 #hiking"
    )
    remote = connector.publish(post(text), "publication-1")
    content = fake.statuses[0]["content"]
    assert 'class="ellipsis"' in content  # the link is shortened in the HTML...
    assert "&amp; friends &lt;3" in content
    assert remote.text == text  # ...and whole again in the text
    assert [p.text for p in connector.fetch_own_posts(minutes_ago(5))] == [text]


@pytest.mark.parametrize(
    ("content", "text"),
    [
        ("<p>Hello world</p>", "Hello world"),
        ("<p>a &amp; b &lt;3 &#39;quoted&#39; &quot;x&quot;</p>", "a & b <3 'quoted' \"x\""),
        ("<p>one<br>two<br />three</p><p>four</p>", "one\ntwo\nthree\n\nfour"),
        (
            '<p><a href="https://www.patreon.com/mastodon" rel="me nofollow noopener noreferrer" '
            'target="_blank"><span class="invisible">https://www.</span><span class="">'
            'patreon.com/mastodon</span><span class="invisible"></span></a></p>',
            "https://www.patreon.com/mastodon",
        ),
    ],
)
def test_html_content_becomes_the_plain_text(content: str, text: str) -> None:
    assert status_text({"content": content, "mentions": []}) == text


def test_a_recorded_mention_reads_as_its_author_wrote_it() -> None:
    status = payload("notification_mention.json")["status"]
    assert status_text(status) == "@sixfold when does the ridge trail open? #hiking"


@pytest.mark.parametrize(
    ("text", "length"),
    [
        ("Trail open", 10),
        ("See https://example.com/a/long/path/that/goes/on/and/on?with=query", 4 + 23),
        ("Read https://example.com.", 5 + 23 + 1),
        ("Thanks @ranger@parks.example!", len("Thanks @ranger!")),
        ("Write to bob@example.com", 24),
        ("cafe\u0301", 4),
        ("👍🏽 👩\u200d👩\u200d👧 ❤️", 5),
        ("🇬🇧🇫🇷", 2),
        ("नमस्ते", 3),
    ],
)
def test_characters_are_counted_as_mastodon_counts_them(text: str, length: int) -> None:
    assert count_characters(MastodonConnector, text) == length


# Reading the account ------------------------------------------------------------------------


def test_own_posts_are_read_page_by_page_back_to_since_without_boosts(
    fake: FakeMastodon, connector: MastodonConnector
) -> None:
    now = time.time()
    for minute in range(100):
        fake.add_status(f"Post {minute}", at=now - minute * 60)
    fake.add_status("A boost", at=now - 30, reblog=True)
    own = connector.fetch_own_posts(datetime.fromtimestamp(now - 90 * 60 - 1, UTC))
    assert [p.text for p in own] == [f"Post {minute}" for minute in range(91)]
    assert len(sent(fake, "GET", "/api/v1/accounts/")) == 3  # 40 a page, stopped at since


def test_mentions_since_a_time_come_with_their_author_and_text(
    fake: FakeMastodon, connector: MastodonConnector
) -> None:
    now = time.time()
    recent = fake.add_notification("@sixfold is the ridge trail open?", at=now - 60)
    fake.add_notification("@sixfold thanks for the map", at=now - 120, kind="favourite")
    fake.add_notification("@sixfold an old question", at=now - 3 * 3600)
    [mention] = connector.fetch_mentions(minutes_ago(60))
    assert mention.remote_id == recent["status"]["id"]
    assert mention.author == "@zsc@elsewhere.example"
    assert mention.text == "@sixfold is the ridge trail open?"
    assert mention.url == recent["status"]["url"]
    assert abs(mention.published_at.timestamp() - (now - 60)) < 1


def test_metrics_count_replies_boosts_and_favourites_and_skip_deleted_posts(
    fake: FakeMastodon, connector: MastodonConnector
) -> None:
    kept = connector.publish(post("Kept"), "publication-1")
    gone = connector.publish(post("Gone"), "publication-2")
    fake.statuses[1].update(replies_count=3, reblogs_count=5, favourites_count=8)
    connector.delete(gone.remote_id)
    connector.delete(gone.remote_id)  # already gone: nothing to do
    assert [s["id"] for s in fake.statuses] == [kept.remote_id]
    assert connector.fetch_metrics([kept.remote_id, gone.remote_id]) == [
        Metrics(kept.remote_id, {"replies": 3, "reblogs": 5, "favourites": 8})
    ]


# Helpers ------------------------------------------------------------------------------------


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the fake server never got there"
        time.sleep(0.02)
