"""The Bluesky connector against a real Personal Data Server (tools/pds, tests/bluesky)."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from atproto import Client, Session
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from sixfold.channels.base import (
    Connection,
    ConnectorContext,
    ConnectorError,
    CredentialsError,
    MediaItem,
    OutgoingPost,
    PermanentError,
    count_characters,
)
from sixfold.channels.connectors import bluesky_records as records
from sixfold.channels.connectors.bluesky import BlueskyConnector
from sixfold.db import utcnow
from tests.bluesky.pds import Account, LocalPds


@pytest.fixture
def account(bluesky_pds: LocalPds) -> Account:
    return bluesky_pds.create_account()


def connector_for(
    pds: LocalPds,
    account: Account,
    *,
    credentials: dict[str, Any] | None = None,
    saved: list[dict[str, Any]] | None = None,
) -> BlueskyConnector:
    context = ConnectorContext(
        channel_id=1,
        settings={"service": pds.url, "did": account.did},
        credentials=credentials or {"app_password": account.app_password},
        save_credentials=saved.append if saved is not None else None,
    )
    return BlueskyConnector(context)


def stored_record(pds: LocalPds, remote_id: str) -> dict[str, Any]:
    uri = records.parse_at_uri(remote_id)
    assert uri is not None
    answer = httpx.get(
        f"{pds.url}/xrpc/com.atproto.repo.getRecord",
        params={"repo": uri.repo, "collection": uri.collection, "rkey": uri.rkey},
    )
    assert answer.status_code == 200, answer.text
    value: dict[str, Any] = answer.json()["value"]
    return value


def png(width: int = 40, height: int = 30) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (20, 120, 200)).save(out, format="PNG")
    return out.getvalue()


# Connecting and sessions -------------------------------------------------------------------


def test_connect_keeps_the_session_and_the_did(bluesky_pds: LocalPds, account: Account) -> None:
    connection = BlueskyConnector.connect(
        {
            "service": bluesky_pds.url,
            "handle": f"@{account.handle}",
            "app_password": account.app_password,
        }
    )
    assert isinstance(connection, Connection)
    assert connection.handle == account.handle
    assert connection.settings == {"service": bluesky_pds.url, "did": account.did}
    assert connection.credentials["app_password"] == account.app_password
    session = Session.decode(connection.credentials["session"])
    assert session.did == account.did


def test_connect_refuses_the_accounts_own_password(bluesky_pds: LocalPds, account: Account) -> None:
    with pytest.raises(CredentialsError, match="app password"):
        BlueskyConnector.connect(
            {"service": bluesky_pds.url, "handle": account.handle, "app_password": account.password}
        )


def test_connect_with_a_wrong_app_password_is_refused(
    bluesky_pds: LocalPds, account: Account
) -> None:
    with pytest.raises(CredentialsError, match="Invalid identifier or password"):
        BlueskyConnector.connect(
            {
                "service": bluesky_pds.url,
                "handle": account.handle,
                "app_password": "aaaa-bbbb-cccc-dddd",
            }
        )


def test_a_wrong_app_password_is_a_credentials_error(
    bluesky_pds: LocalPds, account: Account
) -> None:
    connector = connector_for(bluesky_pds, account, credentials={"app_password": "wrong-pass"})
    with pytest.raises(CredentialsError):
        connector.verify()


def test_a_first_call_logs_in_once_and_saves_the_session(
    bluesky_pds: LocalPds, account: Account
) -> None:
    saved: list[dict[str, Any]] = []
    connector = connector_for(bluesky_pds, account, saved=saved)
    assert connector.verify() == account.handle
    connector.fetch_own_posts(utcnow() - timedelta(days=1))
    assert len(saved) == 1, "one login, saved once"
    assert Session.decode(saved[0]["session"]).did == account.did


def test_a_stored_session_is_reused_without_logging_in(
    bluesky_pds: LocalPds, account: Account
) -> None:
    session = BlueskyConnector.connect(
        {"service": bluesky_pds.url, "handle": account.handle, "app_password": account.app_password}
    ).credentials["session"]
    saved: list[dict[str, Any]] = []
    # With a wrong password, only the stored session can make these calls work.
    connector = connector_for(
        bluesky_pds,
        account,
        credentials={"session": session, "app_password": "not-the-password"},
        saved=saved,
    )
    assert connector.verify() == account.handle
    connector.publish(OutgoingPost(text="Made with the stored session."), "stored-session-key")
    assert saved == []


def test_a_refused_session_falls_back_to_the_app_password(
    bluesky_pds: LocalPds, account: Account
) -> None:
    good = BlueskyConnector.connect(
        {"service": bluesky_pds.url, "handle": account.handle, "app_password": account.app_password}
    ).credentials["session"]
    session = Session.decode(good)
    # A token whose signature the PDS cannot verify: the session is refused, not the request.
    header, body, _ = session.access_jwt.split(".")
    session.access_jwt = f"{header}.{body}.c2lnbmF0dXJl"
    saved: list[dict[str, Any]] = []
    connector = connector_for(
        bluesky_pds,
        account,
        credentials={"session": session.export(), "app_password": account.app_password},
        saved=saved,
    )
    assert connector.verify() == account.handle
    assert len(saved) == 1
    assert Session.decode(saved[0]["session"]).access_jwt != session.access_jwt


def test_a_refused_session_and_a_refused_password_need_reconnecting(
    bluesky_pds: LocalPds, account: Account
) -> None:
    session = Session.decode(
        BlueskyConnector.connect(
            {
                "service": bluesky_pds.url,
                "handle": account.handle,
                "app_password": account.app_password,
            }
        ).credentials["session"]
    )
    header, body, _ = session.access_jwt.split(".")
    session.access_jwt = f"{header}.{body}.c2lnbmF0dXJl"
    connector = connector_for(
        bluesky_pds, account, credentials={"session": session.export(), "app_password": "revoked"}
    )
    with pytest.raises(CredentialsError):
        connector.publish(OutgoingPost(text="Never sent."), "refused-key")


def test_a_session_near_expiry_is_renewed_and_saved(
    bluesky_pds: LocalPds, account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = BlueskyConnector.connect(
        {"service": bluesky_pds.url, "handle": account.handle, "app_password": account.app_password}
    ).credentials["session"]
    saved: list[dict[str, Any]] = []
    connector = connector_for(
        bluesky_pds,
        account,
        credentials={"session": session, "app_password": "not-the-password"},
        saved=saved,
    )
    # The SDK renews access tokens that expire within 15 minutes; these expire in two hours.
    later = datetime.now(UTC) + timedelta(hours=1, minutes=50)
    monkeypatch.setattr(Client, "get_current_time", lambda self: later)
    assert connector.verify() == account.handle
    assert len(saved) == 1
    renewed = Session.decode(saved[0]["session"])
    assert renewed.refresh_jwt != Session.decode(session).refresh_jwt
    assert connector.credentials["session"] == saved[0]["session"]


# Publishing --------------------------------------------------------------------------------


def test_every_link_gets_a_facet_at_its_utf8_bytes(bluesky_pds: LocalPds, account: Account) -> None:
    text = (
        "Café naïve 👨‍👩‍👧 déjà vu 🎉: https://example.com/trail?walk=1&lang=pt, "
        "e também example.org/mapa."
    )
    remote = connector_for(bluesky_pds, account).publish(OutgoingPost(text=text), "facets-key")
    record = stored_record(bluesky_pds, remote.remote_id)
    raw = record["text"].encode("utf-8")
    links = {
        raw[f["index"]["byteStart"] : f["index"]["byteEnd"]].decode(): f["features"][0]["uri"]
        for f in record["facets"]
        if f["features"][0]["$type"] == "app.bsky.richtext.facet#link"
    }
    assert links == {
        "https://example.com/trail?walk=1&lang=pt": "https://example.com/trail?walk=1&lang=pt",
        "example.org/mapa": "https://example.org/mapa",
    }


def test_images_go_out_with_their_alt_text(bluesky_pds: LocalPds, account: Account) -> None:
    media = [
        MediaItem("map.png", "image/png", png(40, 30), alt_text="A map of the harbour walk 🗺️"),
        MediaItem("view.png", "image/png", png(10, 20), alt_text="The view from the pier"),
    ]
    post = OutgoingPost(text="Two pictures of Saturday's walk.", media=media)
    remote = connector_for(bluesky_pds, account).publish(post, "images-key")
    images = stored_record(bluesky_pds, remote.remote_id)["embed"]["images"]
    assert [i["alt"] for i in images] == [m.alt_text for m in media]
    assert [(i["aspectRatio"]["width"], i["aspectRatio"]["height"]) for i in images] == [
        (40, 30),
        (10, 20),
    ]
    blob = httpx.get(
        f"{bluesky_pds.url}/xrpc/com.atproto.sync.getBlob",
        params={"did": account.did, "cid": images[0]["image"]["ref"]["$link"]},
    )
    assert blob.content == media[0].content


def test_what_bluesky_refuses_is_refused_before_sending(
    bluesky_pds: LocalPds, account: Account
) -> None:
    connector = connector_for(bluesky_pds, account)
    too_big = MediaItem("big.png", "image/png", b"x" * 1_000_001, alt_text="big")
    refused = [
        OutgoingPost(text="🎉" * 301),
        OutgoingPost(text="👨‍👩‍👧" * 200),  # 200 graphemes, but 3,600 bytes
        OutgoingPost(text="Five images.", media=[MediaItem("a.png", "image/png", png())] * 5),
        OutgoingPost(text="A video.", media=[MediaItem("a.mp4", "video/mp4", b"\0")]),
        OutgoingPost(text="A large image.", media=[too_big]),
    ]
    for n, post in enumerate(refused):
        with pytest.raises(PermanentError):
            connector.publish(post, f"refused-{n}")
    assert bluesky_pds.records(account.did) == []


def test_300_graphemes_are_allowed(bluesky_pds: LocalPds, account: Account) -> None:
    # 300 graphemes of 4 bytes: within both limits (300 graphemes, 3,000 bytes).
    text = "🎉" * 300
    remote = connector_for(bluesky_pds, account).publish(OutgoingPost(text=text), "long-key")
    assert stored_record(bluesky_pds, remote.remote_id)["text"] == text


def test_the_same_key_twice_leaves_one_record(bluesky_pds: LocalPds, account: Account) -> None:
    connector = connector_for(bluesky_pds, account)
    first = connector.publish(OutgoingPost(text="Once only."), "twice-key")
    second = connector_for(bluesky_pds, account).publish(
        OutgoingPost(text="Once only."), "twice-key"
    )
    assert second == first
    stored = bluesky_pds.records(account.did)
    assert [r["uri"] for r in stored] == [first.remote_id]
    assert first.remote_id.endswith("/" + records.record_key("twice-key"))
    assert first.idempotency_key == "twice-key"


def test_replies_name_their_parent_and_the_thread_root(
    bluesky_pds: LocalPds, account: Account
) -> None:
    connector = connector_for(bluesky_pds, account)
    root = connector.publish(OutgoingPost(text="Thread start."), "thread-1")
    middle = connector.publish(OutgoingPost(text="Second.", reply_to=root.remote_id), "thread-2")
    web = f"https://bsky.app/profile/{account.handle}/post/{middle.remote_id.rsplit('/', 1)[1]}"
    last = connector.publish(OutgoingPost(text="Third.", reply_to=web), "thread-3")
    reply = stored_record(bluesky_pds, last.remote_id)["reply"]
    assert reply["parent"]["uri"] == middle.remote_id
    assert reply["root"]["uri"] == root.remote_id
    with pytest.raises(PermanentError):
        connector.publish(OutgoingPost(text="To nothing.", reply_to="a post"), "thread-4")


def test_delete_removes_the_post(bluesky_pds: LocalPds, account: Account) -> None:
    connector = connector_for(bluesky_pds, account)
    remote = connector.publish(OutgoingPost(text="Soon gone."), "delete-key")
    connector.delete(remote.remote_id)
    assert bluesky_pds.records(account.did) == []
    with pytest.raises(PermanentError):
        connector.delete(f"at://did:plc:someoneelse/app.bsky.feed.post/{records.record_key('x')}")


def test_own_posts_hold_ours_and_the_apps_since_the_given_time(
    bluesky_pds: LocalPds, account: Account
) -> None:
    connector = connector_for(bluesky_pds, account)
    ours = connector.publish(OutgoingPost(text="From Sixfold."), "since-key")
    client = Client(base_url=bluesky_pds.url)
    client.login(account.handle, account.app_password, fetch_bsky_profile=False)
    theirs = client.send_post("From the Bluesky app.", profile_identify=account.did)
    client.request.close()
    found = {p.remote_id: p for p in connector.fetch_own_posts(utcnow() - timedelta(minutes=1))}
    assert set(found) == {ours.remote_id, theirs.uri}
    assert found[ours.remote_id].idempotency_key == "since-key"
    assert found[theirs.uri].idempotency_key is None
    assert connector.fetch_own_posts(utcnow() + timedelta(minutes=1)) == []


def test_own_posts_read_every_page(bluesky_pds: LocalPds, account: Account) -> None:
    connector = connector_for(bluesky_pds, account)
    keys = [f"page-{n}" for n in range(130)]
    for key in keys:
        connector.publish(OutgoingPost(text=f"Post {key}."), key)
    found = connector.fetch_own_posts(utcnow() - timedelta(minutes=5))
    assert sorted(p.idempotency_key or "" for p in found) == sorted(keys)


def test_find_post_reads_our_record_by_key_and_nothing_else(
    bluesky_pds: LocalPds, account: Account
) -> None:
    connector = connector_for(bluesky_pds, account)
    ours = connector.publish(OutgoingPost(text="Doors open at nine"), "lookup-key")
    client = Client(base_url=bluesky_pds.url)
    client.login(account.handle, account.app_password, fetch_bsky_profile=False)
    client.send_post("Doors open at nine", profile_identify=account.did)
    client.request.close()
    found = connector.find_post("lookup-key")
    assert found is not None
    assert (found.remote_id, found.idempotency_key) == (ours.remote_id, "lookup-key")
    assert connector.find_post("never-sent") is None


@pytest.mark.parametrize(
    "service",
    ["http://pds.example.test", "http://10.0.0.5:2583", "ftp://pds.example.test", "pds"],
)
def test_a_remote_server_must_use_https(service: str) -> None:
    with pytest.raises(ConnectorError):
        BlueskyConnector.connect({"service": service, "handle": "a.test", "app_password": "x"})
    context = ConnectorContext(
        channel_id=1,
        settings={"service": service, "did": "did:plc:a"},
        credentials={"app_password": "x"},
    )
    with pytest.raises(CredentialsError):
        BlueskyConnector(context)


def test_this_machine_may_use_plain_http() -> None:
    for service in ("http://127.0.0.1:2583", "http://localhost:2583/", "http://[::1]:2583", ""):
        assert records.service_url(service) in (service.rstrip("/"), "https://bsky.social")


def test_a_local_pds_links_to_the_record_and_bsky_social_to_the_app() -> None:
    assert records.web_base("http://127.0.0.1:2583", None) is None
    assert records.web_base("https://pds.example.test", None) is None
    assert records.web_base("https://bsky.social", None) == "https://bsky.app"
    assert records.web_base("https://pds.example.com", None) == "https://bsky.app"
    assert records.web_base("http://10.0.0.5", "https://deer.social/") == "https://deer.social"
    assert (
        records.post_url(web="https://bsky.app", service="", did="did:plc:a", rkey="3k")
        == "https://bsky.app/profile/did:plc:a/post/3k"
    )


# Record keys and lengths -------------------------------------------------------------------


@given(st.text(min_size=1, max_size=200))
def test_record_keys_are_valid_tids_made_from_the_key_alone(key: str) -> None:
    rkey = records.record_key(key)
    assert rkey == records.record_key(key)
    assert records.tid_value(rkey) is not None, rkey
    low, high = records.band_bounds()
    assert low <= rkey < high
    # Inside the band: before 1989, so never a key that a client's clock would mint.
    timestamp = records.tid_time_us(rkey)
    assert timestamp is not None
    assert datetime(1980, 1, 1, tzinfo=UTC) <= datetime.fromtimestamp(timestamp / 1e6, UTC)
    assert datetime.fromtimestamp(timestamp / 1e6, UTC) < datetime(1989, 1, 1, tzinfo=UTC)


@given(st.lists(st.text(max_size=40), min_size=2, max_size=50, unique=True))
def test_different_keys_make_different_record_keys(keys: list[str]) -> None:
    assert len({records.record_key(k) for k in keys}) == len(keys)


@given(st.integers(min_value=0, max_value=(1 << 63) - 1))
def test_tids_encode_and_decode(value: int) -> None:
    assert records.tid_value(records.encode_tid(value)) == value


def test_characters_are_counted_as_bluesky_counts_them() -> None:
    assert count_characters(BlueskyConnector, "👨‍👩‍👧") == 1
    assert count_characters(BlueskyConnector, "e\u0301") == 1  # e + combining accent
    assert count_characters(BlueskyConnector, "🇵🇹 ok") == 4
    assert count_characters(BlueskyConnector, "naïve") == 5
    assert BlueskyConnector.limits.max_chars == 300
