"""Each Mastodon channel is held to its own server's limits: read from the server's instance
information when the channel connects and at every Verify, kept with the channel's settings,
and 500 characters for a channel connected before they were kept."""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from sixfold.audit import AuditEntry
from sixfold.channels import manage, service
from sixfold.channels.base import (
    ConnectorContext,
    MediaItem,
    OutgoingPost,
    PermanentError,
    count_characters,
    limits_of,
    reported_settings,
)
from sixfold.channels.connectors import mastodon_instance, mastodon_text
from sixfold.channels.connectors.mastodon import MastodonConnector
from sixfold.channels.connectors.transport import count_graphemes
from sixfold.channels.models import Channel, ChannelStatus
from sixfold.config import Settings
from tests import factories
from tests.channels.mastodon_factory import FakeMastodon, running_fake
from tests.channels.mastodon_payloads import payload

SECRETS = Settings(secret_key="mastodon-limits-tests-" + "s" * 32)
LONG_TEXT = "trail " * 199 + "guide!"  # 1,200 characters
LINK = "https://example.com/" + "trail-guide/" * 10
PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)


@pytest.fixture
def fake() -> Iterator[FakeMastodon]:
    with running_fake() as server:
        yield server


def serving(fake: FakeMastodon, v2: str | None, v1: str | None = "instance_v1.json") -> None:
    fake.instances = {"v1": v1, "v2": v2}


def stored_limits(settings: dict[str, Any]) -> dict[str, Any]:
    return dict(settings["server_limits"])


# Connecting ---------------------------------------------------------------------------------


def test_connecting_keeps_the_servers_limits_with_the_channel(fake: FakeMastodon) -> None:
    serving(fake, "instance_v2_5000.json")
    settings = fake.connect().settings
    recorded = payload("instance_v2_5000.json")["configuration"]
    assert stored_limits(settings) == {
        "max_characters": 5000,
        "max_media_attachments": 4,
        "characters_reserved_per_url": 23,
        "description_limit": 1500,
        "supported_mime_types": recorded["media_attachments"]["supported_mime_types"],
    }
    limits = limits_of(MastodonConnector, settings)
    assert (limits.max_chars, limits.max_media, limits.alt_text_max_chars) == (5000, 4, 1500)
    assert limits.media_types == MastodonConnector.limits.media_types  # the server takes all


def test_a_server_without_v2_is_read_from_v1_as_pleroma_gives_it(fake: FakeMastodon) -> None:
    serving(fake, None, "instance_v1_pleroma.json")
    connection = fake.connect()
    assert stored_limits(connection.settings) == {
        "max_characters": 5000,
        "max_media_attachments": 100,  # Pleroma says 1,000: held to the bound
        "description_limit": 5000,
    }
    # No v2, so no LOCAL_DOMAIN: accounts are known by the server's host.
    assert connection.handle == f"@sixfold@{fake.base.removeprefix('http://')}"
    limits = limits_of(MastodonConnector, connection.settings)
    assert (limits.max_chars, limits.max_media, limits.alt_text_max_chars) == (5000, 100, 5000)


# Channels connected before, and values no server gives ----------------------------------------


def test_a_channel_connected_before_limits_were_kept_stays_at_500() -> None:
    before = {"server": "https://social.example", "account_id": "1", "domain": "social.example"}
    assert limits_of(MastodonConnector, before).max_chars == 500
    assert limits_of(MastodonConnector) == MastodonConnector.limits
    text = f"Read {LINK}"
    assert count_characters(MastodonConnector, text, settings=before) == 5 + 23


@pytest.mark.parametrize(
    "stored",
    [{"max_characters": 0}, {"max_characters": "5000"}, {"max_characters": True}, None, "5000"],
)
def test_a_stored_limit_no_server_would_give_leaves_the_default(stored: object) -> None:
    assert limits_of(MastodonConnector, {"server_limits": stored}).max_chars == 500


def test_links_count_what_the_server_reserves_for_them() -> None:
    text = f"Read {LINK} today"
    reserving = {"server_limits": {"characters_reserved_per_url": 30}}
    assert count_characters(MastodonConnector, text, settings=reserving) == 5 + 30 + 6
    assert count_characters(MastodonConnector, text, settings={}) == 5 + 23 + 6
    assert count_characters(MastodonConnector, text) == 5 + 23 + 6


def test_a_server_that_lists_none_of_the_usual_image_types_is_not_read_as_taking_none() -> None:
    pleroma = {"server_limits": {"supported_mime_types": ["application/octet-stream"]}}
    assert limits_of(MastodonConnector, pleroma).media_types == MastodonConnector.limits.media_types
    images_only = {"server_limits": {"supported_mime_types": ["image/png", "image/jpeg"]}}
    assert limits_of(MastodonConnector, images_only).media_types == ("image/png", "image/jpeg")


# A server that is not to be trusted ----------------------------------------------------------

HOSTILE = {
    "configuration": {
        "statuses": {
            "max_characters": 10**12,
            "max_media_attachments": 10**6,
            "characters_reserved_per_url": 10**12,
        },
        "media_attachments": {
            "description_limit": 10**9,
            "supported_mime_types": ["image/png", 7, "image/" + "x" * 10_000, "image/png"]
            + [f"image/x-{n}" for n in range(10_000)],
        },
    }
}


def test_a_servers_numbers_are_held_to_what_real_servers_give() -> None:
    limits = mastodon_instance.server_limits(HOSTILE)
    types = limits.pop("supported_mime_types")
    assert limits == {
        "max_characters": 1_000_000,
        "max_media_attachments": 100,
        "characters_reserved_per_url": 1_000,
        "description_limit": 100_000,
    }
    # Media types only, each once, 50 at most.
    assert types == ["image/png"] + [f"image/x-{n}" for n in range(49)]


def test_limits_stored_before_they_were_bounded_are_bounded_when_read() -> None:
    stored = {"server_limits": HOSTILE["configuration"]["statuses"]}
    limits = limits_of(MastodonConnector, stored)
    assert (limits.max_chars, limits.max_media) == (1_000_000, 100)
    assert count_characters(MastodonConnector, f"Read {LINK}", settings=stored) == 5 + 1_000


def counted_with_peak(count: Callable[[], int]) -> tuple[int, int]:
    tracemalloc.start()
    try:
        return count(), tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_links_weight_is_added_not_spelled_out() -> None:
    text = f"Read {LINK} and {LINK}"
    usual, usual_peak = counted_with_peak(lambda: mastodon_text.count_characters(text, 23))
    huge, huge_peak = counted_with_peak(lambda: mastodon_text.count_characters(text, 10**7))
    assert (usual, huge) == (5 + 23 + 5 + 23, 5 + 10**7 + 5 + 10**7)
    # Building the weight as text took 20 MB here; adding it takes what 23 takes.
    assert huge_peak < 100_000
    assert huge_peak < usual_peak * 2 + 10_000


@pytest.mark.parametrize(
    ("before", "link", "after"),
    [
        ("Read ", LINK, " today"),
        ("", "https://example.com", ""),
        ("\u0600", "https://example.com", " \u0301x"),  # a prepended mark joins what follows
        ("🏳️‍🌈 ", "https://example.com/a?b=c", "). Done 👍🏽"),
    ],
)
def test_a_link_counts_as_that_many_letters_would(before: str, link: str, after: str) -> None:
    for weight in (1, 2, 23, 57):
        spelled = before + "x" * weight + after
        counted = mastodon_text.count_characters(before + link + after, weight)
        assert counted == count_graphemes(spelled), (weight, before + link + after)


# Posting ------------------------------------------------------------------------------------


def test_a_long_post_goes_out_where_the_server_takes_it_and_is_refused_where_not(
    fake: FakeMastodon,
) -> None:
    connector = MastodonConnector(fake.context())
    with pytest.raises(PermanentError, match="character limit of 500"):
        connector.publish(OutgoingPost(text=LONG_TEXT), "key-1")
    serving(fake, "instance_v2_5000.json")
    posted = connector.publish(OutgoingPost(text=LONG_TEXT), "key-2")
    assert posted.text == LONG_TEXT


def test_attachments_past_the_servers_own_limit_are_refused_before_sending(
    fake: FakeMastodon,
) -> None:
    context = fake.context()
    settings = {**context.settings, "server_limits": {"max_media_attachments": 2}}
    connector = MastodonConnector(ConnectorContext(1, settings, context.credentials))
    images = [MediaItem(f"{n}.png", "image/png", PNG, alt_text="Map") for n in range(3)]
    with pytest.raises(PermanentError, match="at most 2 attachments"):
        connector.publish(OutgoingPost(text="Maps", media=images), "key-1")
    assert fake.uploads == []


# Verify -------------------------------------------------------------------------------------


def mastodon_channel(db: Session, fake: FakeMastodon, **settings: Any) -> Channel:
    connection = fake.connect()
    return service.create_channel(
        db,
        factories.organisation(db),
        kind="mastodon",
        name="Trail news",
        actor=factories.ACTOR,
        settings=SECRETS,
        channel_settings={**connection.settings, **settings},
        credentials=connection.credentials,
    )


def updates(db: Session, channel: Channel) -> list[dict[str, Any]]:
    entries = db.scalars(
        select(AuditEntry).where(
            AuditEntry.action == "channel.updated", AuditEntry.target_id == str(channel.id)
        )
    )
    return [e.details for e in entries]


def test_verify_reads_the_limit_again_and_keeps_a_changed_one(
    db: Session, fake: FakeMastodon
) -> None:
    channel = mastodon_channel(db, fake)
    db.commit()
    assert service.limits_of(channel).max_chars == 500

    serving(fake, "instance_v2_5000.json")  # the admin raised the limit
    result = manage.verify_channel(db, channel, settings=SECRETS, actor=factories.ACTOR)
    db.commit()
    db.expire_all()
    assert result.ok, result.message
    assert "up to 5,000 characters" in result.message
    assert channel.settings["server_limits"]["max_characters"] == 5000
    assert service.limits_of(channel).max_chars == 5000
    [change] = updates(db, channel)
    before, after = change["settings"]["server_limits"].values()
    assert (before["max_characters"], after["max_characters"]) == (500, 5000)

    manage.verify_channel(db, channel, settings=SECRETS, actor=factories.ACTOR)
    assert len(updates(db, channel)) == 1  # nothing changed, nothing recorded

    serving(fake, "instance_v2.json")  # and lowered it again
    manage.verify_channel(db, channel, settings=SECRETS, actor=factories.ACTOR)
    db.commit()
    db.expire_all()
    assert service.limits_of(channel).max_chars == 500


def test_verify_gives_a_channel_connected_before_its_servers_limit(
    db: Session, fake: FakeMastodon
) -> None:
    channel = mastodon_channel(db, fake)
    channel.settings = {k: v for k, v in channel.settings.items() if k != "server_limits"}
    db.commit()
    assert service.limits_of(channel).max_chars == 500

    serving(fake, "instance_v2_5000.json")
    assert manage.verify_channel(db, channel, settings=SECRETS, actor=factories.ACTOR).ok
    db.commit()
    db.expire_all()
    assert service.limits_of(channel).max_chars == 5000


def test_verify_leaves_the_stored_limits_when_the_server_gives_no_instance_information(
    db: Session, fake: FakeMastodon
) -> None:
    serving(fake, "instance_v2_5000.json")
    channel = mastodon_channel(db, fake)
    db.commit()
    serving(fake, None, None)
    connector = service.connector_for(db, channel.id, settings=SECRETS)
    assert reported_settings(connector) == {}
    assert manage.verify_channel(db, channel, settings=SECRETS, actor=factories.ACTOR).ok
    assert service.limits_of(channel).max_chars == 5000


def test_verify_keeps_each_stored_limit_the_servers_answer_leaves_out(
    db: Session, fake: FakeMastodon, monkeypatch: pytest.MonkeyPatch
) -> None:
    serving(fake, "instance_v2_5000.json")
    channel = mastodon_channel(db, fake)
    db.commit()
    kept = stored_limits(channel.settings)
    recorded = payload("instance_v2_5000.json", fake.base)
    answers = iter(
        [
            {k: v for k, v in recorded.items() if k != "configuration"},
            {**recorded, "configuration": {"statuses": {"max_characters": 3000}}},
        ]
    )
    monkeypatch.setattr(fake, "_instance_v2", lambda _request: fake._json(next(answers)))

    assert manage.verify_channel(db, channel, settings=SECRETS, actor=factories.ACTOR).ok
    assert stored_limits(channel.settings) == kept
    assert service.limits_of(channel).max_chars == 5000

    result = manage.verify_channel(db, channel, settings=SECRETS, actor=factories.ACTOR)
    assert "up to 3,000 characters" in result.message
    assert stored_limits(channel.settings) == {**kept, "max_characters": 3000}


@pytest.mark.parametrize("refusal", ["nginx_502.html", "invalid_token", "outside_scopes"])
def test_verify_answers_for_the_credentials_alone_when_the_limits_cannot_be_read(
    db: Session, fake: FakeMastodon, refusal: str
) -> None:
    serving(fake, "instance_v2_5000.json")
    channel = mastodon_channel(db, fake)
    channel.status = ChannelStatus.RECONNECT_NEEDED
    db.commit()
    if refusal.endswith(".html"):
        fake.fail_next_html("GET", "/api/v2/instance/?", 502, refusal)
    else:
        fake.fail_next("GET", "/api/v2/instance/?", refusal)

    result = manage.verify_channel(db, channel, settings=SECRETS, actor=factories.ACTOR)
    db.commit()
    assert result.ok, result.message
    assert "could not read the server's limits" in result.message
    assert "kept the stored ones: posts take up to 5,000 characters" in result.message
    assert channel.status == ChannelStatus.ACTIVE
    assert service.limits_of(channel).max_chars == 5000
    reconnects = db.scalars(
        select(AuditEntry).where(
            AuditEntry.action == "channel.reconnect_needed",
            AuditEntry.target_id == str(channel.id),
        )
    )
    assert list(reconnects) == []
