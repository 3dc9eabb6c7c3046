"""The LinkedIn connector against a real local HTTP server that answers with LinkedIn's
recorded payloads (tests/channels/linkedin_factory.py): sign-in, token renewal, versioned
requests, escaping and publishing. Errors and reading: test_linkedin_answers.py."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pytest_httpserver import HTTPServer

from sixfold.channels.base import (
    ConnectorContext,
    CredentialsError,
    MediaItem,
    OutgoingPost,
    PermanentError,
    find_published,
)
from sixfold.channels.connectors.linkedin import LinkedInConnector
from sixfold.channels.connectors.linkedin_api import (
    LINKEDIN_VERSION,
    escape_little,
    unescape_little,
)
from sixfold.db import utcnow
from tests.channels.linkedin_factory import (
    CLIENT_ID,
    CLIENT_SECRET,
    MEMBER,
    ORGANISATION,
    FakeLinkedIn,
    fresh,
    payload,
    start_server,
)

REDIRECT = "https://sixfold.example.org/channels/connect/callback"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)


@pytest.fixture(scope="module")
def server() -> Iterator[HTTPServer]:
    with ExitStack() as resources:
        yield start_server(resources)


@pytest.fixture
def fake(server: HTTPServer) -> Iterator[FakeLinkedIn]:
    yield from fresh(server)


def posted(fake: FakeLinkedIn) -> list[dict[str, Any]]:
    return list(fake.posts.values())


# Connecting ----------------------------------------------------------------------------------


def test_authorize_sends_the_person_to_linkedin_with_state_redirect_and_scopes() -> None:
    values = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "post_as": ""}
    authorization = LinkedInConnector.authorize(values, REDIRECT, "state-123")
    url = urlsplit(authorization.url)
    query = parse_qs(url.query)
    assert (url.netloc, url.path) == ("www.linkedin.com", "/oauth/v2/authorization")
    assert query["state"] == ["state-123"]
    assert query["redirect_uri"] == [REDIRECT]
    assert query["client_id"] == [CLIENT_ID]
    assert query["response_type"] == ["code"]
    assert query["scope"] == ["openid profile w_member_social"]


def test_authorize_for_a_page_asks_for_the_page_permissions() -> None:
    values = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "post_as": " 12345 "}
    authorization = LinkedInConnector.authorize(values, REDIRECT, "s")
    scopes = parse_qs(urlsplit(authorization.url).query)["scope"][0].split()
    assert {"w_organization_social", "r_organization_social", "openid"} <= set(scopes)
    assert "w_member_social" not in scopes
    assert authorization.pending["page"] == "urn:li:organization:12345"


@pytest.mark.parametrize("post_as", ["acme", "12a45", "urn:li:person:1", "-1"])
def test_a_page_that_is_not_a_page_number_is_refused(post_as: str) -> None:
    values = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "post_as": post_as}
    with pytest.raises(PermanentError, match="page number"):
        LinkedInConnector.authorize(values, REDIRECT, "s")


def connect(fake: FakeLinkedIn, post_as: str = "", code: str | None = None) -> Any:
    values = {
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "post_as": post_as,
        "api_base": fake.base,
        "oauth_base": f"{fake.base}/oauth/v2",
    }
    authorization = LinkedInConnector.authorize(values, REDIRECT, "state")
    code = code if code is not None else fake.approve(REDIRECT)
    return LinkedInConnector.complete(values, authorization.pending, REDIRECT, code)


def test_completing_exchanges_the_code_and_reads_who_signed_in(fake: FakeLinkedIn) -> None:
    connection = connect(fake)
    assert connection.handle == "John Doe"
    assert connection.settings["author_urn"] == "urn:li:person:782bbtaQ"
    credentials = connection.credentials
    assert credentials["client_id"] == CLIENT_ID
    assert credentials["client_secret"] == CLIENT_SECRET
    assert credentials["refresh_token"] in fake.refresh_tokens
    expires = datetime.fromisoformat(credentials["expires_at"])
    assert abs(expires - (utcnow() + timedelta(days=60))) < timedelta(minutes=1)
    refresh_expires = datetime.fromisoformat(credentials["refresh_token_expires_at"])
    assert abs(refresh_expires - (utcnow() + timedelta(days=365))) < timedelta(minutes=1)
    grant = fake.token_calls()[0]
    assert grant["grant_type"] == ["authorization_code"]
    assert grant["redirect_uri"] == [REDIRECT]
    context = ConnectorContext(1, connection.settings, connection.credentials)
    assert LinkedInConnector(context).verify() == "John Doe"


def test_completing_for_a_page_posts_as_the_page(fake: FakeLinkedIn) -> None:
    connection = connect(fake, post_as="urn:li:organization:5515715")
    assert connection.settings["author_urn"] == ORGANISATION
    assert connection.settings["member_urn"] == MEMBER
    assert connection.handle == "page 5515715 via John Doe"


def test_a_code_linkedin_refuses_is_a_credentials_error(fake: FakeLinkedIn) -> None:
    with pytest.raises(CredentialsError, match="authorization code expired"):
        connect(fake, code="AQT-not-issued")


# Tokens --------------------------------------------------------------------------------------


def soon(**delta: float) -> str:
    return (utcnow() + timedelta(**delta)).isoformat()


def test_a_token_near_expiry_is_renewed_and_saved_at_once(fake: FakeLinkedIn) -> None:
    saved: list[dict[str, Any]] = []
    refresh = fake.issue_refresh_token()
    old = fake.issue_token(timedelta(days=3))
    connector = fake.connector(
        saved=saved, access_token=old, expires_at=soon(days=3), refresh_token=refresh
    )
    connector.verify()
    assert len(saved) == 1
    assert saved[0]["access_token"] not in (old, None)
    assert saved[0]["refresh_token"] == refresh
    assert datetime.fromisoformat(saved[0]["expires_at"]) > utcnow() + timedelta(days=59)
    assert fake.token_calls()[0]["grant_type"] == ["refresh_token"]
    userinfo = next(r for r in fake.requests() if r.path == "/v2/userinfo")
    assert userinfo.headers["Authorization"] == f"Bearer {saved[0]['access_token']}"


def test_a_renewal_without_a_refresh_token_keeps_the_stored_one(fake: FakeLinkedIn) -> None:
    fake.refresh_omits_token = True
    saved: list[dict[str, Any]] = []
    refresh = fake.issue_refresh_token()
    connector = fake.connector(saved=saved, expires_at=soon(days=1), refresh_token=refresh)
    connector.verify()
    assert len(saved) == 1
    assert "refresh_token" not in saved[0], "an empty refresh token must never be saved"
    assert connector.api.tokens.credentials["refresh_token"] == refresh
    connector.verify()  # Renewed until 60 days out: no second renewal.
    assert len(fake.token_calls()) == 1


def test_a_rotated_refresh_token_is_saved_and_held(fake: FakeLinkedIn) -> None:
    fake.rotate_refresh_tokens = True
    saved: list[dict[str, Any]] = []
    old = fake.issue_refresh_token()
    connector = fake.connector(saved=saved, expires_at=soon(days=1), refresh_token=old)
    connector.verify()
    [renewed] = saved
    assert renewed["refresh_token"] in fake.refresh_tokens
    assert old not in fake.refresh_tokens
    assert connector.api.tokens.credentials["refresh_token"] == renewed["refresh_token"]


def test_a_token_far_from_expiry_is_left_alone(fake: FakeLinkedIn) -> None:
    saved: list[dict[str, Any]] = []
    fake.connector(saved=saved, expires_at=soon(days=8), refresh_token="R").verify()
    assert saved == []
    assert fake.token_calls() == []


def test_an_expired_token_without_refresh_is_refused_before_any_call(fake: FakeLinkedIn) -> None:
    expired = utcnow() - timedelta(days=2)
    connector = fake.connector(expires_at=expired.isoformat())
    with pytest.raises(CredentialsError) as refused:
        connector.publish(OutgoingPost(text="Hello"), "key-1")
    assert str(refused.value) == (
        f"the LinkedIn sign-in expired on {expired.date().isoformat()}: reconnect"
    )
    assert fake.requests() == []


def test_an_expired_refresh_token_cannot_renew(fake: FakeLinkedIn) -> None:
    connector = fake.connector(
        expires_at=soon(days=-1),
        refresh_token=fake.issue_refresh_token(),
        refresh_token_expires_at=soon(hours=-1),
    )
    with pytest.raises(CredentialsError, match="expired on"):
        connector.fetch_own_posts(utcnow())
    assert fake.requests() == []


def test_a_refused_renewal_of_an_expired_token_asks_to_reconnect(fake: FakeLinkedIn) -> None:
    connector = fake.connector(expires_at=soon(days=-1), refresh_token="AQW-revoked")
    with pytest.raises(CredentialsError, match="refresh token is invalid, expired or revoked"):
        connector.verify()


def test_a_refused_renewal_of_a_valid_token_still_posts(fake: FakeLinkedIn) -> None:
    connector = fake.connector(expires_at=soon(days=2), refresh_token="AQW-revoked")
    remote = connector.publish(OutgoingPost(text="Still signed in for two days"), "k")
    assert remote.remote_id in fake.posts


# Requests ------------------------------------------------------------------------------------


def test_every_rest_call_carries_the_version_headers(fake: FakeLinkedIn) -> None:
    connector = fake.connector()
    image = MediaItem("map.png", "image/png", PNG, "Map of the north loop")
    remote = connector.publish(OutgoingPost(text="With a map", media=[image]), "k")
    connector.verify()
    connector.fetch_own_posts(utcnow() - timedelta(hours=1))
    connector.fetch_metrics([remote.remote_id])
    connector.fetch_mentions(utcnow() - timedelta(hours=1))
    connector.delete(remote.remote_id)
    rest = [r for r in fake.requests() if r.path.startswith(("/rest/", "/v2/"))]
    assert len(rest) == 7
    for request in rest:
        assert request.headers["LinkedIn-Version"] == LINKEDIN_VERSION, request.path
        assert request.headers["X-Restli-Protocol-Version"] == "2.0.0", request.path
    assert re.fullmatch(r"20\d\d(0[1-9]|1[0-2])", LINKEDIN_VERSION)


def test_urns_reach_linkedin_encoded(fake: FakeLinkedIn) -> None:
    connector = fake.connector()
    remote = connector.publish(OutgoingPost(text="Encoded"), "k")
    connector.delete(remote.remote_id)
    delete = next(r for r in fake.requests() if r.method == "DELETE")
    assert delete.environ["RAW_URI"].endswith(remote.remote_id.replace(":", "%3A"))


# Little text ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "commentary"),
    [
        ("Guide (2nd edition)", "Guide \\(2nd edition\\)"),
        ("Hike #outdoors today", "Hike {hashtag|\\#|outdoors} today"),
        ("C# and a_b ~ *c*", "C\\# and a\\_b \\~ \\*c\\*"),
        ("@ada <b> [x] {y} a|b \\", "\\@ada \\<b\\> \\[x\\] \\{y\\} a\\|b \\\\"),
        ("#my_tag", "{hashtag|\\#|my}\\_tag"),
        ("plain words, émoji 🥾", "plain words, émoji 🥾"),
    ],
)
def test_commentary_escapes_reserved_characters(text: str, commentary: str) -> None:
    assert escape_little(text) == commentary
    assert unescape_little(commentary) == text


TEMPLATE = re.compile(r"\{hashtag\|\\#\|[^\W_]+\}")
RESERVED = set("\\|{}@[]()<>#*_~")
reserved_heavy = st.text(alphabet=st.sampled_from("\\|{}@[]()<>#*_~ aZ9é🥾\n"), max_size=60)


@given(st.one_of(st.text(max_size=200), reserved_heavy))
def test_escaping_then_unescaping_gives_the_text_back(text: str) -> None:
    assert unescape_little(escape_little(text)) == text


@given(st.one_of(st.text(max_size=200), reserved_heavy))
def test_no_reserved_character_goes_out_unescaped(text: str) -> None:
    escaped = TEMPLATE.sub("", escape_little(text))
    i = 0
    while i < len(escaped):
        if escaped[i] == "\\":
            assert escaped[i + 1] in RESERVED, escaped
            i += 2
        else:
            assert escaped[i] not in RESERVED, escaped
            i += 1


def test_commentary_linkedin_returns_reads_as_people_see_it() -> None:
    first, second = payload("posts_by_author")["body"]["elements"]
    assert unescape_little(first["commentary"]) == (
        "The trail guide (2nd edition) is out today #hiking"
    )
    assert unescape_little(second["commentary"]) == "Map of the north loop Trail Co *new*"


def test_a_text_full_of_reserved_characters_reads_back_as_sent(fake: FakeLinkedIn) -> None:
    connector = fake.connector()
    text = "Rules (draft): a_b, [x] {y} <z> @team #trail C# \\o/ ~*|"
    remote = connector.publish(OutgoingPost(text=text), "k")
    own = connector.fetch_own_posts(utcnow() - timedelta(minutes=1))
    assert find_published(own, idempotency_key="k", text=text) == own[0]
    assert own[0].remote_id == remote.remote_id


def test_escaping_does_not_count_against_the_limit(fake: FakeLinkedIn) -> None:
    text = "(" * 3000
    assert LinkedInConnector.count_characters(text) == 3000
    assert LinkedInConnector.count_characters("🥾") == 2
    assert fake.connector().publish(OutgoingPost(text=text), "k").text == text


# Publishing ----------------------------------------------------------------------------------


def test_an_image_goes_up_with_its_alt_text(fake: FakeLinkedIn) -> None:
    image = MediaItem("map.png", "image/png", PNG, "Hand-drawn map of the north loop")
    remote = fake.connector().publish(OutgoingPost(text="Map", media=[image]), "k")
    media = fake.posts[remote.remote_id]["content"]["media"]
    assert media["altText"] == "Hand-drawn map of the north loop"
    assert fake.images[media["id"]] == PNG
    assert remote.url == f"https://www.linkedin.com/feed/update/{remote.remote_id}"


def test_several_images_go_up_as_a_multi_image_post(fake: FakeLinkedIn) -> None:
    images = [MediaItem(f"{n}.jpg", "image/jpeg", PNG + bytes([n]), f"Photo {n}") for n in (1, 2)]
    remote = fake.connector().publish(OutgoingPost(text="Two photos", media=images), "k")
    sent = fake.posts[remote.remote_id]["content"]["multiImage"]["images"]
    assert [image["altText"] for image in sent] == ["Photo 1", "Photo 2"]
    assert [fake.images[image["id"]] for image in sent] == [PNG + b"\x01", PNG + b"\x02"]


@pytest.mark.parametrize(
    "post",
    [
        OutgoingPost(text="x", media=[MediaItem("a.webp", "image/webp", PNG)]),
        OutgoingPost(text="x", media=[MediaItem("a.png", "image/png", PNG, "a" * 4087)]),
        OutgoingPost(text="x", media=[MediaItem("a.png", "image/png", PNG)] * 10),
        OutgoingPost(text="x", reply_to="urn:li:share:1"),
    ],
)
def test_what_linkedin_cannot_take_is_refused_before_sending(
    fake: FakeLinkedIn, post: OutgoingPost
) -> None:
    with pytest.raises(PermanentError):
        fake.connector().publish(post, "k")
    assert fake.requests() == []


def test_the_same_text_again_is_refused_naming_the_earlier_post(fake: FakeLinkedIn) -> None:
    # The publisher never resends to LinkedIn after an unanswered call, so the duplicate is
    # an earlier, different post: taking it as this one would mark this one published unposted.
    connector = fake.connector()
    first = connector.publish(OutgoingPost(text="Once only"), "k-1")
    with pytest.raises(PermanentError) as refused:
        connector.publish(OutgoingPost(text="Once only"), "k-2")
    assert str(refused.value) == f"LinkedIn refused this as a duplicate of {first.url}"
    assert len(posted(fake)) == 1


def test_delete_removes_the_post_and_a_second_delete_is_harmless(fake: FakeLinkedIn) -> None:
    connector = fake.connector()
    remote = connector.publish(OutgoingPost(text="Short-lived"), "k")
    connector.delete(remote.remote_id)
    connector.delete(remote.remote_id)
    assert fake.posts == {}
