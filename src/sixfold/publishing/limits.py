"""Channel limits: what each channel accepts in one post, checked before review.

Every channel takes only so much in one post: its network's limits, or for a Mastodon channel
its own server's (text length, how many images, which media types, how long an alt text). Texts
are counted as each network counts them (X counts a link as 23, Bluesky counts graphemes), so
the composer shows the author the number the network will see, and a post its channel would
refuse is stopped before anyone reviews it instead of failing when it is published.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from sixfold.channels import service as channels
from sixfold.channels.base import ChannelLimits
from sixfold.channels.models import Channel
from sixfold.channels.registry import connector_types
from sixfold.org.models import Organisation
from sixfold.publishing import drafts
from sixfold.publishing.models import Media, Post


def limit_problems(session: Session, post: Post) -> list[str]:
    """Texts too long for their channel, counted as its network counts them, and images it
    does not take, in words for the author. Each channel's own limits count: a Mastodon
    server sets its own, for alt text and media types as for the text. A time to publish at
    that has passed comes first: the checks before review (`review.submit`) and the composer's
    list of problems both read this one list."""
    problems = drafts.timing_problems(post)
    for target in post.targets:
        channel = session.get(Channel, target.channel_id)
        if channel is None:
            continue
        limits = channels.limits_of(channel)
        count = channels.count_characters(channel, target.text or post.text)
        if count > limits.max_chars:
            problems.append(f"{channel.name}: {count} characters, the limit is {limits.max_chars}.")
        problems += _media_problems(channel.name, limits, post.media)
    return problems


def _media_problems(name: str, limits: ChannelLimits, media: list[Media]) -> list[str]:
    problems = []
    if len(media) > limits.max_media:
        problems.append(f"{name} takes at most {limits.max_media} images.")
    for item in media:
        if item.content_type not in limits.media_types:
            problems.append(f"{name} does not take {item.content_type} ({item.filename}).")
        if len(item.alt_text) > limits.alt_text_max_chars:
            problems.append(
                f"{name}: the alt text of {item.filename} has {len(item.alt_text)} "
                f"characters, the limit is {limits.alt_text_max_chars}."
            )
    return problems


@dataclass(frozen=True)
class CharacterCount:
    """A text's length as a channel's network counts it (X counts a link as 23, Bluesky
    counts graphemes), and that channel's limit (its server's, where servers differ)."""

    channel_id: int
    count: int
    max_chars: int


def character_count(channel: Channel, text: str) -> CharacterCount | None:
    """None when the channel's connector is not installed: no one knows its rule."""
    if channel.kind not in connector_types():
        return None
    return CharacterCount(
        channel.id,
        channels.count_characters(channel, text),
        channels.limits_of(channel).max_chars,
    )


def character_counts(
    session: Session, organisation: Organisation, texts: dict[int, str]
) -> list[CharacterCount]:
    """Each channel's text (`texts` by channel id) counted as its network counts it."""
    counts = []
    for channel_id, text in texts.items():
        channel = channels.get_channel(session, organisation, channel_id)
        if (count := character_count(channel, text)) is not None:
            counts.append(count)
    return counts
