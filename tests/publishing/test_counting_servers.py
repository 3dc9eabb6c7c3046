"""Mastodon channels are counted against their own server's limit wherever a post meets it:
the composer's counts, its page, and draft validation before review.

The channels are connected to a local Mastodon server (tests/channels/mastodon_factory.py)
answering with recorded instance information: one allowing 5,000 characters, one the
default 500, and one channel connected before Sixfold kept its server's limits.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from sixfold.channels import service as channels
from sixfold.channels.models import Channel
from sixfold.errors import ValidationFailed
from sixfold.publishing import drafts, review
from sixfold.publishing.models import Post
from tests import factories
from tests.channels.mastodon_factory import running_fake
from tests.publishing.conftest import Newsroom
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
    assert drafts.limit_problems(db, draft_to(db, newsroom, servers["long"])) == []
    assert drafts.limit_problems(db, draft_to(db, newsroom, servers["default"])) == [
        "Mastodon default: 1200 characters, the limit is 500."
    ]
    assert drafts.limit_problems(db, draft_to(db, newsroom, servers["before"])) == [
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
