"""Lengths are checked as each network counts them, wherever a post meets a channel's limit.

The connectors here count like the real ones will (X: a link is 23, a CJK character 2;
Mastodon: a link is 23; Bluesky: graphemes), each through its `count_characters` classmethod,
which is all the platform relies on.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import ClassVar

import pytest
import regex
from sqlalchemy.orm import Session, sessionmaker

from sixfold.channels import service as channels
from sixfold.channels.base import (
    ChannelLimits,
    ConnectorContext,
    Mention,
    Metrics,
    OutgoingPost,
    RemotePost,
)
from sixfold.channels.models import Channel
from sixfold.errors import ValidationFailed
from sixfold.org.models import Organisation
from sixfold.publishing import drafts, limits, review
from sixfold.publishing.models import Post
from tests import factories
from tests.publishing.conftest import Newsroom
from tests.publishing.fakes import install_connectors
from tests.publishing.web_support import Site, make_site

LINK = re.compile(r"https?://\S+")
CJK = re.compile(r"[\u1100-\u11ff\u2e80-\ua4cf\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]")
LONG_LINK = "https://example.com/" + "trail-guide/" * 20  # 260 code points


class CountingConnector:
    """A network that refuses nothing; subclasses say how it counts and what it accepts."""

    kind: ClassVar[str]
    label: ClassVar[str]
    limits: ClassVar[ChannelLimits]
    idempotent: ClassVar[bool] = True

    def __init__(self, context: ConnectorContext) -> None:
        self.context = context

    def verify(self) -> str:
        return "@counter"

    def publish(self, post: OutgoingPost, idempotency_key: str) -> RemotePost:
        raise NotImplementedError("counting only")

    def delete(self, remote_id: str) -> None:
        raise NotImplementedError("counting only")

    def fetch_own_posts(self, since: datetime) -> list[RemotePost]:
        return []

    def fetch_mentions(self, since: datetime) -> list[Mention]:
        return []

    def fetch_metrics(self, remote_ids: Sequence[str]) -> list[Metrics]:
        return []


class XLikeConnector(CountingConnector):
    kind: ClassVar[str] = "counts_like_x"
    label: ClassVar[str] = "Counts like X"
    limits: ClassVar[ChannelLimits] = ChannelLimits(max_chars=280)

    @classmethod
    def count_characters(cls, text: str) -> int:
        rest = LINK.sub("", text)
        return 23 * len(LINK.findall(text)) + len(rest) + len(CJK.findall(rest))


class MastodonLikeConnector(CountingConnector):
    kind: ClassVar[str] = "counts_like_mastodon"
    label: ClassVar[str] = "Counts like Mastodon"
    limits: ClassVar[ChannelLimits] = ChannelLimits(max_chars=500)

    @classmethod
    def count_characters(cls, text: str) -> int:
        return 23 * len(LINK.findall(text)) + len(LINK.sub("", text))


class BlueskyLikeConnector(CountingConnector):
    kind: ClassVar[str] = "counts_like_bluesky"
    label: ClassVar[str] = "Counts like Bluesky"
    limits: ClassVar[ChannelLimits] = ChannelLimits(max_chars=300)

    @classmethod
    def count_characters(cls, text: str) -> int:
        return len(regex.findall(r"\X", text))


COUNTERS = (XLikeConnector, MastodonLikeConnector, BlueskyLikeConnector)


@pytest.fixture
def counted(
    db: Session, newsroom: Newsroom, monkeypatch: pytest.MonkeyPatch
) -> Iterator[dict[str, Channel]]:
    """A channel on each counting network (and the internal stream, which counts code
    points), by network."""
    with install_connectors(monkeypatch, COUNTERS):
        made = {
            cls.kind: channels.create_channel(
                db, newsroom.org, kind=cls.kind, name=cls.label, actor=factories.ACTOR
            )
            for cls in COUNTERS
        }
        yield {
            "x": made["counts_like_x"],
            "mastodon": made["counts_like_mastodon"],
            "bluesky": made["counts_like_bluesky"],
            "internal": newsroom.stream,
        }


def draft_to(db: Session, newsroom: Newsroom, channel: Channel, text: str) -> Post:
    data = drafts.DraftInput(text=text, channel_ids=[channel.id])
    return drafts.create_draft(db, newsroom.org, newsroom.author, data, actor=factories.ACTOR)


def counts_of(
    db: Session, org: Organisation, text: str, targets: dict[str, Channel]
) -> dict[str, int]:
    found = limits.character_counts(db, org, {c.id: text for c in targets.values()})
    names = {c.id: name for name, c in targets.items()}
    return {names[c.channel_id]: c.count for c in found}


# Each network's rule, through the platform ------------------------------------------------------


def test_each_channel_counts_by_its_networks_rule(
    db: Session, newsroom: Newsroom, counted: dict[str, Channel]
) -> None:
    link = f"Read the guide: {LONG_LINK}"  # 16 + 260 code points
    assert counts_of(db, newsroom.org, link, counted) == {
        "x": 16 + 23,
        "mastodon": 16 + 23,
        "bluesky": 276,
        "internal": 276,
    }
    cjk = "新しいトレイルガイド"  # ten CJK characters
    assert counts_of(db, newsroom.org, cjk, counted) == {
        "x": 20,
        "mastodon": 10,
        "bluesky": 10,
        "internal": 10,
    }
    family = "👨‍👩‍👧" * 3  # one grapheme of five code points, three times
    assert counts_of(db, newsroom.org, family, counted) == {
        "x": 15,
        "mastodon": 15,
        "bluesky": 3,
        "internal": 15,
    }


def test_a_long_link_is_within_the_limit_where_the_network_shortens_it(
    db: Session, newsroom: Newsroom, counted: dict[str, Channel]
) -> None:
    text = f"Our trail guide is out: {LONG_LINK}"  # 284 code points, 47 on X and Mastodon
    for name in ("x", "mastodon"):
        assert limits.limit_problems(db, draft_to(db, newsroom, counted[name], text)) == []
    twice = f"{text} {LONG_LINK}"
    assert limits.limit_problems(db, draft_to(db, newsroom, counted["x"], twice)) == []
    assert limits.limit_problems(db, draft_to(db, newsroom, counted["bluesky"], twice)) == [
        "Counts like Bluesky: 545 characters, the limit is 300."
    ]


def test_cjk_text_is_too_long_only_where_the_network_counts_it_double(
    db: Session, newsroom: Newsroom, counted: dict[str, Channel]
) -> None:
    text = "山" * 150
    assert limits.limit_problems(db, draft_to(db, newsroom, counted["x"], text)) == [
        "Counts like X: 300 characters, the limit is 280."
    ]
    assert limits.limit_problems(db, draft_to(db, newsroom, counted["bluesky"], text)) == []


def test_graphemes_are_counted_where_the_network_counts_graphemes(
    db: Session, newsroom: Newsroom, counted: dict[str, Channel]
) -> None:
    text = "👍🏽" * 200  # 200 graphemes, 400 code points
    assert limits.limit_problems(db, draft_to(db, newsroom, counted["bluesky"], text)) == []
    assert limits.limit_problems(db, draft_to(db, newsroom, counted["mastodon"], text)) == []
    assert limits.limit_problems(db, draft_to(db, newsroom, counted["x"], text)) == [
        "Counts like X: 400 characters, the limit is 280."
    ]


def test_submitting_refuses_a_text_too_long_as_the_network_counts_it(
    db: Session, newsroom: Newsroom, counted: dict[str, Channel]
) -> None:
    post = draft_to(db, newsroom, counted["x"], "山" * 150)
    with pytest.raises(ValidationFailed, match="Counts like X: 300 characters, the limit is 280"):
        review.submit(db, post, actor=factories.ACTOR, base_url="http://testserver")

    fits = draft_to(db, newsroom, counted["x"], f"Out today: {LONG_LINK}")
    review.submit(db, fits, actor=factories.ACTOR, base_url="http://testserver")


# The composer ---------------------------------------------------------------------------------


@pytest.fixture
def site(
    db: Session,
    session_factory: sessionmaker[Session],
    newsroom: Newsroom,
    counted: dict[str, Channel],
    tmp_path: Path,
) -> Iterator[Site]:
    yield from make_site(db, session_factory, newsroom, tmp_path)


def test_the_composer_asks_the_server_for_each_channels_count(
    site: Site, counted: dict[str, Channel]
) -> None:
    site.as_(site.room.author)
    x, bluesky, stream = counted["x"], counted["bluesky"], counted["internal"]
    text = f"Out today: {LONG_LINK}"
    answer = site.json(
        "POST",
        "/api/v1/character-counts",
        {
            "text": text,
            "channel_ids": [x.id, bluesky.id, stream.id],
            "channel_texts": {str(bluesky.id): "山" * 301},
        },
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["counts"] == [
        {"channel_id": x.id, "count": 11 + 23, "max_chars": 280, "over": False},
        {"channel_id": bluesky.id, "count": 301, "max_chars": 300, "over": True},
        {"channel_id": stream.id, "count": 271, "max_chars": 10_000, "over": False},
    ]


def test_counts_are_refused_for_another_organisations_channel(site: Site, db: Session) -> None:
    other = Organisation(name="Other", slug="other")
    db.add(other)
    db.flush()
    foreign = channels.create_channel(db, other, kind="null", name="X", actor=factories.ACTOR)
    db.commit()
    site.as_(site.room.author)
    answer = site.json(
        "POST", "/api/v1/character-counts", {"text": "hi", "channel_ids": [foreign.id]}
    )
    assert answer.status_code == 404


def test_the_composer_page_starts_with_the_networks_counts(
    site: Site, counted: dict[str, Channel]
) -> None:
    site.as_(site.room.author)
    post = draft_to(site.db, site.room, counted["x"], "山" * 150)
    site.db.commit()
    page = site.client.get(f"/posts/{post.id}/edit")
    assert page.status_code == 200
    assert f'data-counter="{counted["x"].id}">300 / 280<' in page.text
    assert 'data-count="300"' in page.text
    assert f'data-counter="{counted["bluesky"].id}">150 / 300<' in page.text
