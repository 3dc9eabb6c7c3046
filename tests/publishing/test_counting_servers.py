"""Mastodon channels are counted against their own server's limit wherever a post meets it:
the composer's counts, its page, and draft validation before review.

The channels are connected to a local Mastodon server (tests/channels/mastodon_factory.py)
answering with recorded instance information: one allowing 5,000 characters, one the
default 500, and one channel connected before Sixfold kept its server's limits.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy.orm import Session, sessionmaker

from sixfold.channels import manage
from sixfold.channels import service as channels
from sixfold.channels.models import Channel
from sixfold.errors import ValidationFailed
from sixfold.publishing import drafts, limits, review, schedule
from sixfold.publishing.models import Post
from tests import factories
from tests.channels.mastodon_factory import running_fake
from tests.publishing.conftest import SETTINGS, Newsroom
from tests.publishing.web_support import Site, make_site

LONG_TEXT = "trail " * 199 + "guide!"  # 1,200 characters


@pytest.fixture
def servers(db: Session, newsroom: Newsroom) -> dict[str, Channel]:
    """A Mastodon channel by the server it is on: "long" (5,000), "default" (500) and
    "before" (connected before limits were kept)."""
    made = {}
    with running_fake() as fake:
        for name, instance in (
            ("long", "instance_v2_5000.json"),
            ("default", "instance_v2.json"),
            ("before", "instance_v2_5000.json"),
        ):
            fake.instances["v2"] = instance
            settings = fake.connect().settings
            if name == "before":
                del settings["server_limits"]
            made[name] = channels.create_channel(
                db,
                newsroom.org,
                kind="mastodon",
                name=f"Mastodon {name}",
                actor=factories.ACTOR,
                channel_settings=settings,
            )
    return made


def draft_to(db: Session, newsroom: Newsroom, channel: Channel, text: str = LONG_TEXT) -> Post:
    data = drafts.DraftInput(text=text, channel_ids=[channel.id])
    return drafts.create_draft(db, newsroom.org, newsroom.author, data, actor=factories.ACTOR)


def test_drafts_are_checked_against_their_channels_server(
    db: Session, newsroom: Newsroom, servers: dict[str, Channel]
) -> None:
    assert limits.limit_problems(db, draft_to(db, newsroom, servers["long"])) == []
    assert limits.limit_problems(db, draft_to(db, newsroom, servers["default"])) == [
        "Mastodon default: 1200 characters, the limit is 500."
    ]
    assert limits.limit_problems(db, draft_to(db, newsroom, servers["before"])) == [
        "Mastodon before: 1200 characters, the limit is 500."
    ]


def test_submitting_refuses_a_post_too_long_for_its_server_naming_channel_and_limit(
    db: Session, newsroom: Newsroom, servers: dict[str, Channel]
) -> None:
    too_long = draft_to(db, newsroom, servers["default"])
    with pytest.raises(
        ValidationFailed, match="Mastodon default: 1200 characters, the limit is 500"
    ):
        review.submit(db, too_long, actor=factories.ACTOR, base_url="http://testserver")
    fits = draft_to(db, newsroom, servers["long"])
    review.submit(db, fits, actor=factories.ACTOR, base_url="http://testserver")


# The composer ---------------------------------------------------------------------------------


@pytest.fixture
def site(
    db: Session,
    session_factory: sessionmaker[Session],
    newsroom: Newsroom,
    servers: dict[str, Channel],
    tmp_path: Path,
) -> Iterator[Site]:
    yield from make_site(db, session_factory, newsroom, tmp_path)


def test_the_composer_counts_against_each_channels_server(
    site: Site, servers: dict[str, Channel]
) -> None:
    site.as_(site.room.author)
    ids = [servers[name].id for name in ("long", "default", "before")]
    answer = site.json("POST", "/api/v1/character-counts", {"text": LONG_TEXT, "channel_ids": ids})
    assert answer.status_code == 200, answer.text
    assert answer.json()["counts"] == [
        {"channel_id": ids[0], "count": 1200, "max_chars": 5000, "over": False},
        {"channel_id": ids[1], "count": 1200, "max_chars": 500, "over": True},
        {"channel_id": ids[2], "count": 1200, "max_chars": 500, "over": True},
    ]


def test_the_composer_page_shows_each_channels_own_limit(
    site: Site, servers: dict[str, Channel]
) -> None:
    site.as_(site.room.author)
    post = draft_to(site.db, site.room, servers["long"])
    site.db.commit()
    page = site.client.get(f"/posts/{post.id}/edit")
    assert page.status_code == 200
    assert f'data-counter="{servers["long"].id}">1200 / 5000<' in page.text
    assert f'data-counter="{servers["default"].id}">1200 / 500<' in page.text
    assert 'data-limit="5000"' in page.text  # what composer.js counts against as you type


# Images, against the server's own media limits -------------------------------------------------


def image(kind: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "green").save(buffer, kind)
    return buffer.getvalue()


def with_images(db: Session, newsroom: Newsroom, channel: Channel) -> Post:
    post = draft_to(db, newsroom, channel, "The trail, on a map and as a route.")
    for filename, kind, alt in (
        ("map.webp", "WEBP", "Map of the trail"),
        ("route.png", "PNG", "The route from the harbour to the summit, with every stop"),
    ):
        media = drafts.attach_media(
            db, post, newsroom.author, filename=filename, content=image(kind)
        )
        drafts.set_alt_text(db, post, media.id, alt)
    return post


def test_images_are_checked_against_their_channels_server(
    db: Session, newsroom: Newsroom, servers: dict[str, Channel]
) -> None:
    settings = dict(servers["long"].settings)
    own = {"description_limit": 40, "supported_mime_types": ["image/jpeg", "image/png"]}
    settings["server_limits"] = {**settings["server_limits"], **own}
    strict = channels.create_channel(
        db,
        newsroom.org,
        kind="mastodon",
        name="Mastodon strict",
        actor=factories.ACTOR,
        channel_settings=settings,
    )
    post = with_images(db, newsroom, strict)
    problems = [
        "Mastodon strict does not take image/webp (map.webp).",
        "Mastodon strict: the alt text of route.png has 57 characters, the limit is 40.",
    ]
    assert limits.limit_problems(db, post) == problems
    with pytest.raises(ValidationFailed, match="does not take image/webp"):
        review.submit(db, post, actor=factories.ACTOR, base_url="http://testserver")
    # The same images suit a server that takes WebP and 1,500 characters of alt text.
    assert limits.limit_problems(db, with_images(db, newsroom, servers["long"])) == []


# Verify, when the server lowers its limit ------------------------------------------------------


def test_verify_names_the_scheduled_posts_a_lowered_limit_leaves_too_long(
    db: Session, newsroom: Newsroom
) -> None:
    with running_fake() as fake:
        fake.instances["v2"] = "instance_v2_5000.json"
        connection = fake.connect()
        channel = channels.create_channel(
            db,
            newsroom.org,
            kind="mastodon",
            name="Mastodon lowered",
            actor=factories.ACTOR,
            settings=SETTINGS,
            channel_settings=connection.settings,
            credentials=connection.credentials,
        )
        rows = [
            schedule.schedule_post(
                db, draft_to(db, newsroom, channel, text), actor=factories.ACTOR
            )[0]
            for text in (LONG_TEXT, LONG_TEXT, LONG_TEXT, "Short and sweet.")
        ]
        rows[1].state = "held"  # paused: it goes out when the pause ends
        rows[2].state = "confirmed"  # out already
        db.flush()

        def verify(instance: str) -> str:
            fake.instances["v2"] = instance
            result = manage.verify_channel(db, channel, settings=SETTINGS, actor=factories.ACTOR)
            assert result.ok, result.message
            return result.message

        assert verify("instance_v2.json").endswith(
            "Posts take up to 500 characters. The limit went down from 5,000: 2 scheduled "
            "posts are longer and would be refused when published: shorten them or publish "
            "them elsewhere."
        )
        assert "went down" not in verify("instance_v2_5000.json")
        rows[0].state = "cancelled"
        db.flush()
        assert verify("instance_v2.json").endswith(
            "The limit went down from 5,000: 1 scheduled post is longer and would be refused "
            "when published: shorten it or publish it elsewhere."
        )
