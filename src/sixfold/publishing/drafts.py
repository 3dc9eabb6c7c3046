"""Drafts: writing, saving and versioning a post, and its media.

Nothing typed is lost: every save is a version, and a save made from an older version than
the current one is refused as a conflict that shows both, never written over the other.
Autosaves by the same editor fold into one version so the history stays readable.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from sixfold import audit
from sixfold.channels.models import Channel, ChannelStatus
from sixfold.db import utcnow
from sixfold.errors import Conflict, NotFound, ValidationFailed
from sixfold.guardrails import service as guardrails
from sixfold.org.models import Organisation, Person
from sixfold.publishing import post_audit
from sixfold.publishing.models import (
    Media,
    Post,
    PostStatus,
    PostTarget,
    PostVersion,
    PublishMode,
)
from sixfold.risk import Verdict, VerdictLevel

TEXT_MAX_CHARS = 20_000
MEDIA_MAX_BYTES = 8 * 2**20
MEDIA_MAX_PIXELS = 40_000_000
TOO_MANY_PIXELS = "The image has too many pixels (40 megapixels at most)."
MEDIA_PER_POST = 10
# What an image's alt text may hold at all; each channel's own limit, which may be lower (X:
# 1,000, a Mastodon server's `description_limit`), is checked before review (limits.limit_problems).
ALT_TEXT_MAX_CHARS = 1500
MEDIA_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif", "WEBP": "image/webp"}
# The years a post may be planned for. A time outside them is a slip of the keyboard (0026 for
# 2026, 9999 for "some day"), and staying far inside the years Python's datetime holds means
# moving a time between zones never runs off the calendar (0001-01-01 at +05:00 comes before the
# first moment UTC can express, 9999-12-31 at -05:00 after the last).
PUBLISH_YEARS = range(2000, 2101)
# The same years as moments: one test whatever the offset a time is written with, so a time
# typed in New York on the last evening of 2100 is not refused once it reads 2101 in UTC.
# (Comparing aware datetimes never overflows, as converting them can.)
_PUBLISH_FROM = datetime(PUBLISH_YEARS[0], 1, 1, tzinfo=UTC)
_PUBLISH_UNTIL = datetime(PUBLISH_YEARS[-1] + 1, 1, 1, tzinfo=UTC)
# What the schedule routes say of a time that has passed, said the same way before a submit.
PAST_TIME = "The time is in the past; choose a later one or publish now."
# Autosaves closer together than this, by the same person, update one version.
AUTOSAVE_FOLD = timedelta(minutes=10)
EDITABLE = frozenset({PostStatus.DRAFT, PostStatus.IN_REVIEW, PostStatus.CHANGES_REQUESTED})


class DraftConflict(Conflict):
    """Someone saved the post since this editor loaded it; carries what they saved."""

    def __init__(self, post: Post, editor_name: str) -> None:
        super().__init__(
            f"{editor_name} saved this post while you were editing (version {post.version}). "
            "Your text is kept below: compare, then save again."
        )
        self.current_version = post.version
        self.current_text = post.text
        self.editor_name = editor_name


@dataclass
class DraftInput:
    """What an editor sends: the shared text, the channels, per-channel text, the timing."""

    text: str
    channel_ids: list[int]
    channel_texts: dict[int, str] = field(default_factory=dict)
    publish_mode: str = PublishMode.NOW
    publish_at: datetime | None = None


def get_post(session: Session, organisation: Organisation, post_id: int) -> Post:
    post = session.get(Post, post_id)
    if post is None or post.organisation_id != organisation.id:
        raise NotFound("No such post.")
    return post


def create_draft(
    session: Session,
    organisation: Organisation,
    author: Person,
    data: DraftInput,
    *,
    actor: audit.Actor,
) -> Post:
    _check_input(session, organisation, data)
    post = Post(
        organisation_id=organisation.id,
        author_id=author.id,
        status=PostStatus.DRAFT,
        version=1,
        text="",
        publish_mode=PublishMode.NOW,
        risk_findings=[],
        updated_by_id=author.id,
    )
    session.add(post)
    _apply(post, data)
    session.flush()
    _record_version(session, post, author, reason="save")
    refresh_verdict(session, post)
    post_audit.record(session, actor, "post.created", post_id=post.id, text=post.text)
    return post


def save_draft(
    session: Session,
    post: Post,
    editor: Person,
    data: DraftInput,
    *,
    base_version: int,
    autosave: bool = False,
    reason: str | None = None,
) -> Post:
    """Save an edit made from `base_version`; a stale base is a DraftConflict."""
    if post.status not in EDITABLE:
        raise Conflict(
            f"This post is {post.status.replace('_', ' ')}: move it back to draft to change it."
        )
    organisation = session.get(Organisation, post.organisation_id)
    assert organisation is not None
    _check_input(session, organisation, data)
    # Lock the row so two saves from the same version cannot both pass the check.
    session.flush()
    session.refresh(post, with_for_update=True)
    if base_version != post.version:
        last = session.get(Person, post.updated_by_id) if post.updated_by_id else None
        raise DraftConflict(post, last.name if last else "Someone")
    if _unchanged(post, data):
        return post
    _apply(post, data)
    post.version += 1
    post.updated_at, post.updated_by_id = utcnow(), editor.id
    _record_version(session, post, editor, reason=reason or ("autosave" if autosave else "save"))
    refresh_verdict(session, post)
    return post


def _check_input(session: Session, organisation: Organisation, data: DraftInput) -> None:
    if len(data.text) > TEXT_MAX_CHARS:
        raise ValidationFailed(f"The text is longer than {TEXT_MAX_CHARS} characters.")
    if data.publish_mode not in set(PublishMode):
        raise ValidationFailed("Choose to publish now, at a time, or in the channel's queue.")
    if data.publish_mode == PublishMode.AT and data.publish_at is None:
        raise ValidationFailed("Choose the date and time to publish at.")
    if data.publish_at is not None:
        check_publish_time(data.publish_at)
    for channel_id in {*data.channel_ids, *data.channel_texts}:
        channel = session.get(Channel, channel_id)
        if channel is None or channel.organisation_id != organisation.id:
            raise ValidationFailed(f"Channel {channel_id} does not exist.")
        if channel.status == ChannelStatus.DISABLED:
            raise ValidationFailed(f"{channel.name} is disabled.")
    for text in data.channel_texts.values():
        if len(text) > TEXT_MAX_CHARS:
            raise ValidationFailed(f"A channel's text is longer than {TEXT_MAX_CHARS} characters.")


def check_publish_time(when: datetime) -> None:
    """Refuse a time to publish at that has no zone or lies outside PUBLISH_YEARS (a past
    time is allowed here: a draft keeps it, and `timing_problems` stops its submission)."""
    if when.tzinfo is None:
        raise ValidationFailed("The publishing time needs a time zone.")
    if not _PUBLISH_FROM <= when < _PUBLISH_UNTIL:
        raise ValidationFailed(
            f"{when.isoformat(timespec='minutes')} is not a time to publish at: choose one "
            f"in the years {PUBLISH_YEARS[0]} to {PUBLISH_YEARS[-1]}."
        )


def timing_problems(post: Post) -> list[str]:
    """A time to publish at that has passed stops a draft being submitted: approval would
    publish it at once. The draft keeps the time, for its author to change."""
    if post.status not in (PostStatus.DRAFT, PostStatus.CHANGES_REQUESTED):
        # A time that passes while the post is in review means "as soon as approved".
        return []
    at = post.publish_at if post.publish_mode == PublishMode.AT else None
    return [PAST_TIME] if at is not None and at <= utcnow() else []


def _unchanged(post: Post, data: DraftInput) -> bool:
    return (
        post.text == data.text
        and _targets_of(post) == _targets_wanted(data)
        and post.publish_mode == data.publish_mode
        and post.publish_at == data.publish_at
    )


def _targets_of(post: Post) -> dict[int, str | None]:
    return {t.channel_id: t.text for t in post.targets}


def _targets_wanted(data: DraftInput) -> dict[int, str | None]:
    wanted: dict[int, str | None] = {}
    for channel_id in data.channel_ids:
        custom = data.channel_texts.get(channel_id)
        # A channel text equal to the shared text is no custom text.
        wanted[channel_id] = custom if custom and custom != data.text else None
    return wanted


def _apply(post: Post, data: DraftInput) -> None:
    post.text = data.text
    post.publish_mode = data.publish_mode
    post.publish_at = data.publish_at if data.publish_mode == PublishMode.AT else None
    wanted = _targets_wanted(data)
    post.targets = [
        PostTarget(channel_id=channel_id, text=text) for channel_id, text in sorted(wanted.items())
    ]


def _record_version(session: Session, post: Post, editor: Person, *, reason: str) -> None:
    snapshot: dict[str, Any] = {
        "text": post.text,
        "targets": {str(t.channel_id): t.text for t in post.targets},
        "media": [{"id": m.id, "alt": m.alt_text} for m in post.media],
    }
    head = session.scalars(
        select(PostVersion)
        .where(PostVersion.post_id == post.id)
        .order_by(PostVersion.number.desc())
        .limit(1)
    ).first()
    now = utcnow()
    if (
        reason == "autosave"
        and head is not None
        and head.reason == "autosave"
        and head.editor_id == editor.id
        and now - head.created_at < AUTOSAVE_FOLD
    ):
        head.number, head.updated_at = post.version, now
        head.text, head.targets, head.media = (
            snapshot["text"],
            snapshot["targets"],
            snapshot["media"],
        )
        return
    session.add(
        PostVersion(
            post_id=post.id,
            number=post.version,
            editor_id=editor.id,
            reason=reason,
            created_at=now,
            updated_at=now,
            **snapshot,
        )
    )


def versions(session: Session, post: Post) -> list[PostVersion]:
    return list(
        session.scalars(
            select(PostVersion)
            .where(PostVersion.post_id == post.id)
            .order_by(PostVersion.number.desc())
        )
    )


def texts_by_channel(session: Session, post: Post) -> dict[int, str]:
    return {t.channel_id: t.text or post.text for t in post.targets}


def posting_time(post: Post) -> datetime:
    return post.publish_at if post.publish_at and post.publish_mode == PublishMode.AT else utcnow()


def verdict_of(session: Session, post: Post) -> Verdict:
    """The strongest verdict over every text the post would send, at its publishing time."""
    texts = set(texts_by_channel(session, post).values()) or {post.text}
    verdicts = [
        guardrails.check(
            session,
            post.organisation_id,
            text,
            when=posting_time(post),
            alt_texts=image_descriptions(post),
        )
        for text in sorted(texts)
    ]
    return max(verdicts, key=lambda v: (v.verdict.rank, v.score))


def image_descriptions(post: Post) -> list[str]:
    """The alt texts of the post's images, which the risk engine reads with the text: an
    image says as much as words (Dodge's meteor, a "sale" picture beside a tragedy)."""
    return [m.alt_text for m in post.media]


def refresh_verdict(session: Session, post: Post) -> Verdict:
    verdict = verdict_of(session, post)
    post.risk_verdict = verdict.verdict.value
    post.risk_score = round(verdict.score, 3)
    post.risk_findings = [f.to_dict() for f in verdict.findings]
    return verdict


def is_blocked(post: Post) -> bool:
    """Blocked by the risk engine and not overridden for this very version."""
    return post.risk_verdict == VerdictLevel.BLOCK and post.override_version != post.version


# Media ----------------------------------------------------------------------------------


def attach_media(
    session: Session,
    post: Post,
    uploader: Person,
    *,
    filename: str,
    content: bytes,
    alt_text: str = "",
) -> Media:
    if post.status not in EDITABLE:
        raise Conflict("Media can only be added to a post that is being written or reviewed.")
    if len(post.media) >= MEDIA_PER_POST:
        raise ValidationFailed(f"A post carries at most {MEDIA_PER_POST} images.")
    if not content:
        raise ValidationFailed("The file is empty.")
    if len(content) > MEDIA_MAX_BYTES:
        raise ValidationFailed(f"The image is larger than {MEDIA_MAX_BYTES // 2**20} MiB.")
    kind, width, height = inspect_image(content)
    media = Media(
        organisation_id=post.organisation_id,
        post_id=post.id,
        uploaded_by_id=uploader.id,
        filename=(filename or "image")[:300],
        content_type=kind,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        width=width,
        height=height,
        content=content,
        alt_text=_alt(alt_text),
        position=len(post.media),
    )
    post.media.append(media)
    session.flush()
    return media


def inspect_image(content: bytes) -> tuple[str, int, int]:
    """An upload's media type, width and height; ValidationFailed for anything that is not a
    PNG, JPEG, GIF or WebP image of at most MEDIA_MAX_PIXELS."""
    try:
        with Image.open(io.BytesIO(content)) as image:
            width, height = image.size
            kind = MEDIA_TYPES.get(image.format or "")
            image.verify()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # Pillow's own guard, for headers claiming far more pixels than ours allows (the
        # warning is raised where warnings are errors).
        raise ValidationFailed(TOO_MANY_PIXELS) from None
    except Exception:
        # Pillow's parsers answer hostile bytes with whatever their code trips on (ValueError,
        # SyntaxError, struct.error, IndexError, EOFError...): every one means "not an image".
        raise ValidationFailed("The file is not a PNG, JPEG, GIF or WebP image.") from None
    if width * height > MEDIA_MAX_PIXELS:
        raise ValidationFailed(TOO_MANY_PIXELS)
    if kind is None:
        raise ValidationFailed("Only PNG, JPEG, GIF and WebP images can be attached.")
    return kind, width, height


def _alt(text: str) -> str:
    text = text.strip()
    if len(text) > ALT_TEXT_MAX_CHARS:
        raise ValidationFailed(f"Alt text is longer than {ALT_TEXT_MAX_CHARS} characters.")
    return text


def set_alt_text(session: Session, post: Post, media_id: int, alt_text: str) -> Media:
    # Alt text goes out with the post: once approved it is as settled as the text.
    if post.status not in EDITABLE:
        raise Conflict("Alt text can only change while the post is being written or reviewed.")
    media = _media_of(post, media_id)
    media.alt_text = _alt(alt_text)
    return media


def remove_media(session: Session, post: Post, media_id: int) -> None:
    if post.status not in EDITABLE:
        raise Conflict("Media can only be removed from a post that is being written or reviewed.")
    media = _media_of(post, media_id)
    post.media.remove(media)
    media.post_id = None
    for position, item in enumerate(post.media):
        item.position = position


def _media_of(post: Post, media_id: int) -> Media:
    for media in post.media:
        if media.id == media_id:
            return media
    raise NotFound("No such image on this post.")


def missing_alt_text(post: Post) -> list[Media]:
    return [m for m in post.media if not m.alt_text.strip()]
