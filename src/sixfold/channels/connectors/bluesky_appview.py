"""What only the Bluesky AppView knows: who mentioned the account, and how posts fare.

These are `app.bsky.*` calls. The account's PDS forwards them to the AppView it is
configured with (on bsky.social, Bluesky's own), signing them for the account, so the
connector needs no second address or credential. The AppView is an index built from the
network's firehose: it may lag, drop a deleted post or answer 502 when it is down. None of
that touches publishing (which reads the PDS itself); its failures surface as
TransientError for the analytics and inbox jobs to retry.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from atproto import models

from sixfold.channels.base import Mention, Metrics
from sixfold.channels.connectors import bluesky_records as records

if TYPE_CHECKING:
    from sixfold.channels.connectors.bluesky import BlueskyConnector

# Notifications that carry a post addressed to the account.
MENTION_REASONS = ("mention", "reply", "quote")
_MAX_PAGES = 20
_POSTS_PER_CALL = 25  # app.bsky.feed.getPosts: uris maxLength


def mentions(connector: BlueskyConnector, since: datetime) -> list[Mention]:
    """Mentions, replies and quotes since `since`, newest first (at most 2,000)."""
    found: list[Mention] = []
    cursor: str | None = None
    for _ in range(_MAX_PAGES):
        page = _notifications(connector, cursor)
        for note in page.notifications:
            mention = _mention(connector, note)
            if mention is None or note.reason not in MENTION_REASONS:
                continue
            if mention.published_at < since:
                return found  # Notifications come newest first.
            found.append(mention)
        cursor = page.cursor
        if not cursor or not page.notifications:
            break
    return found


def _notifications(connector: BlueskyConnector, cursor: str | None) -> Any:
    return connector.call(
        lambda c: c.app.bsky.notification.list_notifications(
            models.AppBskyNotificationListNotifications.Params(
                limit=100, cursor=cursor, reasons=list(MENTION_REASONS)
            )
        )
    )


def _mention(connector: BlueskyConnector, note: Any) -> Mention | None:
    uri = records.parse_at_uri(str(note.uri))
    published = records.parse_time(str(note.indexed_at))
    if uri is None or published is None:
        return None
    return Mention(
        remote_id=str(note.uri),
        author=str(note.author.handle),
        text=str(records.field(note.record, "text", "")),
        url=connector.post_url(str(note.author.did), uri.rkey),
        published_at=published,
    )


def metrics(connector: BlueskyConnector, remote_ids: Sequence[str]) -> list[Metrics]:
    """Likes, reposts, replies and quotes of the account's posts; posts the AppView does
    not know (deleted, not yet indexed) are left out."""
    wanted = [r for r in remote_ids if records.parse_at_uri(r) is not None]
    found: list[Metrics] = []
    for start in range(0, len(wanted), _POSTS_PER_CALL):
        batch = wanted[start : start + _POSTS_PER_CALL]
        answer = _posts(connector, batch)
        found.extend(_metrics(view) for view in answer.posts if str(view.uri) in batch)
    return found


def _posts(connector: BlueskyConnector, uris: list[str]) -> Any:
    return connector.call(
        lambda c: c.app.bsky.feed.get_posts(models.AppBskyFeedGetPosts.Params(uris=uris))
    )


def _metrics(view: Any) -> Metrics:
    counts = {
        "likes": view.like_count,
        "reposts": view.repost_count,
        "replies": view.reply_count,
        "quotes": view.quote_count,
    }
    return Metrics(
        remote_id=str(view.uri),
        values={name: int(value) for name, value in counts.items() if value is not None},
    )
