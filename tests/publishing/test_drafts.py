"""Drafts as a service: versions, conflicts, autosave folding, and hostile uploads."""

from __future__ import annotations

import io
import random
import struct
import zlib
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from sixfold.auth.permissions import Role
from sixfold.channels import service as channels
from sixfold.channels.models import ChannelStatus
from sixfold.db import utcnow
from sixfold.errors import Conflict, ValidationFailed
from sixfold.org.models import Organisation
from sixfold.publishing import drafts, editing, limits, review
from sixfold.publishing.models import PostStatus, PostVersion, PublishMode
from tests import factories
from tests.publishing.conftest import Newsroom


def _input(room: Newsroom, text: str, **kw: object) -> drafts.DraftInput:
    return drafts.DraftInput(text=text, channel_ids=[room.stream.id], **kw)  # type: ignore[arg-type]


def _versions(db: Session, post_id: int) -> list[tuple[int, str, str]]:
    rows = db.scalars(
        select(PostVersion).where(PostVersion.post_id == post_id).order_by(PostVersion.number)
    )
    return [(v.number, v.reason, v.text) for v in rows]


# Versions and conflicts ---------------------------------------------------------------------------


def test_every_save_is_a_version_and_an_unchanged_save_is_none(
    db: Session, newsroom: Newsroom
) -> None:
    post = newsroom.draft(db, "one")
    drafts.save_draft(db, post, newsroom.author, _input(newsroom, "two"), base_version=1)
    drafts.save_draft(db, post, newsroom.author, _input(newsroom, "two"), base_version=2)
    assert post.version == 2
    assert _versions(db, post.id) == [(1, "save", "one"), (2, "save", "two")]


def test_a_save_from_an_old_version_is_a_conflict_that_keeps_both(
    db: Session, newsroom: Newsroom
) -> None:
    post = newsroom.draft(db, "the original")
    drafts.save_draft(db, post, newsroom.mentor, _input(newsroom, "theirs"), base_version=1)
    with pytest.raises(drafts.DraftConflict) as raised:
        drafts.save_draft(db, post, newsroom.author, _input(newsroom, "mine"), base_version=1)
    conflict = raised.value
    assert (conflict.current_version, conflict.current_text, conflict.editor_name) == (
        2,
        "theirs",
        newsroom.mentor.name,
    )
    assert conflict.status_code == 409
    assert post.text == "theirs"


def test_autosaves_by_one_person_fold_into_one_version(db: Session, newsroom: Newsroom) -> None:
    post = newsroom.draft(db, "v1")
    for base, text in ((1, "v2"), (2, "v3"), (3, "v4")):
        drafts.save_draft(
            db, post, newsroom.author, _input(newsroom, text), base_version=base, autosave=True
        )
    assert _versions(db, post.id) == [(1, "save", "v1"), (4, "autosave", "v4")]


def test_autosaves_do_not_fold_across_people_or_after_a_pause(
    db: Session, newsroom: Newsroom
) -> None:
    post = newsroom.draft(db, "v1")
    drafts.save_draft(
        db, post, newsroom.author, _input(newsroom, "v2"), base_version=1, autosave=True
    )
    drafts.save_draft(
        db, post, newsroom.mentor, _input(newsroom, "v3"), base_version=2, autosave=True
    )
    head = db.scalars(select(PostVersion).where(PostVersion.number == 3)).one()
    head.created_at = datetime.now(UTC) - drafts.AUTOSAVE_FOLD - timedelta(seconds=1)
    drafts.save_draft(
        db, post, newsroom.mentor, _input(newsroom, "v4"), base_version=3, autosave=True
    )
    assert [n for n, _, _ in _versions(db, post.id)] == [1, 2, 3, 4]


def test_a_channel_text_equal_to_the_shared_text_is_not_kept(
    db: Session, newsroom: Newsroom
) -> None:
    post = newsroom.draft(db, "same", channel_texts={newsroom.stream.id: "same"})
    assert [t.text for t in post.targets] == [None]
    assert drafts.texts_by_channel(db, post) == {newsroom.stream.id: "same"}


def test_only_a_post_being_written_or_reviewed_can_change(db: Session, newsroom: Newsroom) -> None:
    post = newsroom.draft(db, "hello")
    post.status = PostStatus.SCHEDULED
    with pytest.raises(Conflict, match="move it back to draft"):
        drafts.save_draft(db, post, newsroom.author, _input(newsroom, "changed"), base_version=1)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"text": "x" * (drafts.TEXT_MAX_CHARS + 1)}, "longer than"),
        ({"publish_mode": "whenever"}, "Choose to publish now"),
        ({"publish_mode": "at"}, "Choose the date and time"),
        (
            {"publish_mode": "at", "publish_at": datetime(2030, 1, 1, 9)},  # noqa: DTZ001 - naive on purpose
            "needs a time zone",
        ),
    ],
)
def test_input_is_checked_with_clear_messages(
    db: Session, newsroom: Newsroom, changes: dict[str, object], message: str
) -> None:
    data = _input(newsroom, "hello")
    for name, value in changes.items():
        setattr(data, name, value)
    with pytest.raises(ValidationFailed, match=message):
        drafts.create_draft(db, newsroom.org, newsroom.author, data, actor=factories.ACTOR)


@pytest.mark.parametrize(
    "typed", ["0001-01-01T00:00+05:00", "9999-12-31T23:59-05:00", "9999-12-31T23:59", "1999-12-31"]
)
def test_a_time_outside_the_years_one_publishes_in_is_refused_by_name(typed: str) -> None:
    # At the ends of the calendar the move to UTC itself fails: year 1 at +05:00 is before the
    # first moment UTC can express, 9999-12-31 in New York after the last.
    with pytest.raises(ValidationFailed, match="in the years 2000 to 2100"):
        editing.parse_when(typed, ZoneInfo("America/New_York"))


def test_the_years_end_at_one_moment_whatever_the_offset_a_time_is_written_with(
    db: Session, newsroom: Newsroom
) -> None:
    # Every check compares moments: 18:00 in New York on 31 December 2100 is 23:00 UTC, inside;
    # 21:00 there is 02:00 on 1 January 2101 UTC, outside, whether read typed or converted.
    zone = ZoneInfo("America/New_York")
    evening = editing.parse_when("2100-12-31T18:00", zone)
    assert evening == datetime(2100, 12, 31, 23, 0, tzinfo=UTC)
    post = newsroom.draft(db, publish_mode=PublishMode.AT, publish_at=evening)
    assert post.publish_at == evening
    with pytest.raises(ValidationFailed, match="2100-12-31T21:00-05:00 is not a time"):
        editing.parse_when("2100-12-31T21:00", zone)
    with pytest.raises(ValidationFailed, match="in the years 2000 to 2100"):
        newsroom.draft(
            db, publish_mode=PublishMode.AT, publish_at=datetime(2101, 1, 1, 2, 0, tzinfo=UTC)
        )


def test_a_draft_is_not_saved_with_a_time_outside_the_years_one_publishes_in(
    db: Session, newsroom: Newsroom
) -> None:
    last = datetime(9999, 12, 31, 23, 59, tzinfo=timezone(timedelta(hours=-5)))
    with pytest.raises(ValidationFailed, match="9999-12-31T23:59-05:00 is not a time"):
        newsroom.draft(db, publish_mode=PublishMode.AT, publish_at=last)
    post = newsroom.draft(db)
    with pytest.raises(ValidationFailed, match="in the years 2000 to 2100"):
        drafts.save_draft(
            db,
            post,
            newsroom.author,
            _input(newsroom, "later", publish_mode=PublishMode.AT, publish_at=last),
            base_version=post.version,
        )


def test_a_past_time_is_kept_in_the_draft_but_stops_its_submission(
    db: Session, newsroom: Newsroom
) -> None:
    past = datetime(2001, 1, 1, 9, tzinfo=UTC)
    post = newsroom.draft(db, publish_mode=PublishMode.AT, publish_at=past)
    assert post.publish_at == past
    assert drafts.PAST_TIME in editing.problems(db, post)
    with pytest.raises(ValidationFailed, match="The time is in the past"):
        review.submit(db, post, actor=factories.ACTOR)
    assert post.status == PostStatus.DRAFT
    later = utcnow() + timedelta(days=1)
    data = _input(newsroom, post.text, publish_mode=PublishMode.AT, publish_at=later)
    drafts.save_draft(db, post, newsroom.author, data, base_version=post.version)
    assert editing.problems(db, post) == []
    assert review.submit(db, post, actor=factories.ACTOR) == PostStatus.IN_REVIEW


def test_a_time_that_passes_during_review_is_no_problem_of_the_post(
    db: Session, newsroom: Newsroom
) -> None:
    # Approval then publishes it at once, as the author asked for a time already come.
    post = newsroom.draft(db, publish_mode=PublishMode.AT, publish_at=utcnow() + timedelta(days=1))
    review.submit(db, post, actor=factories.ACTOR)
    post.publish_at = utcnow() - timedelta(minutes=1)
    assert editing.problems(db, post) == []


def test_channels_of_other_organisations_and_disabled_ones_are_refused(
    db: Session, newsroom: Newsroom
) -> None:
    other = Organisation(name="Elsewhere", slug="elsewhere")
    db.add(other)
    db.flush()
    foreign = channels.create_channel(db, other, kind="null", name="Theirs", actor=factories.ACTOR)
    with pytest.raises(ValidationFailed, match="does not exist"):
        drafts.create_draft(
            db,
            newsroom.org,
            newsroom.author,
            drafts.DraftInput(text="hi", channel_ids=[foreign.id]),
            actor=factories.ACTOR,
        )
    newsroom.stream.status = ChannelStatus.DISABLED
    with pytest.raises(ValidationFailed, match="is disabled"):
        newsroom.draft(db, "hi")


def test_the_verdict_is_the_strongest_over_every_channel_text(
    db: Session, newsroom: Newsroom
) -> None:
    other = channels.create_channel(
        db, newsroom.org, kind="null", name="Elsewhere", actor=factories.ACTOR
    )
    data = drafts.DraftInput(
        text="A calm announcement.",
        channel_ids=[newsroom.stream.id, other.id],
        channel_texts={other.id: "The password: hunter2hunter2"},
    )
    post = drafts.create_draft(db, newsroom.org, newsroom.author, data, actor=factories.ACTOR)
    assert post.risk_verdict == "block"
    assert drafts.is_blocked(post)
    review.override_block(db, post, newsroom.leader, reason="Known", actor=factories.ACTOR)
    assert not drafts.is_blocked(post)


def test_texts_too_long_for_a_channel_are_named(db: Session, newsroom: Newsroom) -> None:
    post = newsroom.draft(db, "x" * 10_001)
    assert limits.limit_problems(db, post) == [
        "Internal stream: 10001 characters, the limit is 10000."
    ]


# Media --------------------------------------------------------------------------------------------


def _image(kind: str, size: tuple[int, int] = (4, 3)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format=kind)
    return buffer.getvalue()


def _png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims a huge canvas: a decompression bomb's calling card."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def _with_short_header() -> bytes:
    """A PNG whose IHDR chunk claims 4 bytes: Pillow answers ValueError, not OSError."""
    broken = bytearray(_image("PNG"))
    broken[8:12] = struct.pack(">I", 4)
    return bytes(broken)


@pytest.mark.parametrize(
    ("kind", "content_type"),
    [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("GIF", "image/gif"), ("WEBP", "image/webp")],
)
def test_images_are_attached_with_their_type_and_size(
    db: Session, newsroom: Newsroom, kind: str, content_type: str
) -> None:
    post = newsroom.draft(db)
    media = drafts.attach_media(
        db, post, newsroom.author, filename=f"x.{kind.lower()}", content=_image(kind)
    )
    assert (media.content_type, media.width, media.height) == (content_type, 4, 3)
    assert drafts.missing_alt_text(post) == [media]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"GIF89a but not really", "not a PNG, JPEG, GIF or WebP"),
        (b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>", "not a PNG"),
        (b"%PDF-1.7\n", "not a PNG"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "not a PNG"),
        (_png_claiming(8000, 6000), "too many pixels"),
        (_png_claiming(10000, 10000), "too many pixels"),  # Pillow warns
        (_png_claiming(20000, 20000), "too many pixels"),  # Pillow's own bomb guard
        (_with_short_header(), "not a PNG"),
        (_image("BMP"), "Only PNG, JPEG, GIF and WebP"),
        (_image("TIFF"), "Only PNG, JPEG, GIF and WebP"),
        (b"\x89PNG" + b"\x00" * (drafts.MEDIA_MAX_BYTES), "larger than 8 MiB"),
    ],
    ids=[
        "empty",
        "fake-gif",
        "svg",
        "pdf",
        "broken-png",
        "48-megapixels",
        "100-megapixels",
        "bomb",
        "truncated-header",
        "bmp",
        "tiff",
        "huge",
    ],
)
def test_hostile_files_are_refused(
    db: Session, newsroom: Newsroom, content: bytes, message: str
) -> None:
    post = newsroom.draft(db)
    with pytest.raises(ValidationFailed, match=message):
        drafts.attach_media(db, post, newsroom.author, filename="evil.png", content=content)
    assert post.media == []


def test_a_corrupted_image_is_refused(db: Session, newsroom: Newsroom) -> None:
    good = bytearray(_image("PNG", (32, 32)))
    idat = good.index(b"IDAT")
    good[idat + 8] ^= 0xFF  # the checksum no longer matches
    post = newsroom.draft(db)
    with pytest.raises(ValidationFailed, match="not a PNG"):
        drafts.attach_media(db, post, newsroom.author, filename="bad.png", content=bytes(good))


@pytest.mark.parametrize("kind", ["PNG", "JPEG", "GIF", "WEBP"])
def test_truncated_and_corrupted_images_are_refused_or_read_never_crash(kind: str) -> None:
    # A small fuzz over damaged copies of a valid image: whatever Pillow trips on, the answer
    # is an image read or a ValidationFailed, never another exception (a 500, a lost draft).
    good = _image(kind, (64, 48))
    damaged = [good[:cut] for cut in range(1, len(good))]
    # Headers are where parsers trust lengths and sizes: each of their bytes set to values
    # that make a length short or a size huge (one PNG case is a 4-byte IHDR chunk).
    for position in range(64):
        for value in (0x00, 0x01, 0x04, 0x7F, 0x80, 0xFF):
            copy = bytearray(good)
            copy[position] = value
            damaged.append(bytes(copy))
    rng = random.Random(f"fuzz-{kind}")
    for _ in range(300):
        copy = bytearray(good)
        for _ in range(rng.randint(1, 8)):
            copy[rng.randrange(len(copy))] = rng.randrange(256)
        damaged.append(bytes(copy))
    for content in damaged:
        try:
            media_type, width, height = drafts.inspect_image(content)
        except ValidationFailed:
            continue
        assert media_type in drafts.MEDIA_TYPES.values()
        assert width * height <= drafts.MEDIA_MAX_PIXELS


def test_alt_text_is_set_checked_and_images_are_removed_in_order(
    db: Session, newsroom: Newsroom
) -> None:
    post = newsroom.draft(db)
    first, second, third = (
        drafts.attach_media(db, post, newsroom.author, filename=f"{n}.png", content=_image("PNG"))
        for n in range(3)
    )
    drafts.set_alt_text(db, post, second.id, "  A red square  ")
    assert second.alt_text == "A red square"
    with pytest.raises(ValidationFailed, match="Alt text is longer"):
        drafts.set_alt_text(db, post, first.id, "x" * (drafts.ALT_TEXT_MAX_CHARS + 1))
    drafts.remove_media(db, post, first.id)
    assert [(m.id, m.position) for m in post.media] == [(second.id, 0), (third.id, 1)]
    assert first.post_id is None
    assert drafts.missing_alt_text(post) == [third]


def test_a_post_carries_a_limited_number_of_images(db: Session, newsroom: Newsroom) -> None:
    post = newsroom.draft(db)
    for n in range(drafts.MEDIA_PER_POST):
        drafts.attach_media(db, post, newsroom.author, filename=f"{n}.gif", content=_image("GIF"))
    with pytest.raises(ValidationFailed, match="at most 10 images"):
        drafts.attach_media(db, post, newsroom.author, filename="x.gif", content=_image("GIF"))


def test_submitting_asks_for_missing_alt_text_when_the_policy_requires_it(
    db: Session, newsroom: Newsroom
) -> None:
    post = newsroom.draft(db)
    drafts.attach_media(db, post, newsroom.author, filename="cat.png", content=_image("PNG"))
    with pytest.raises(ValidationFailed, match=r"alt text\): cat.png"):
        review.submit(db, post, actor=factories.ACTOR)
    assert post.status == PostStatus.DRAFT


def test_the_editor_of_each_version_is_recorded(db: Session, newsroom: Newsroom) -> None:
    curator = factories.person(db, newsroom.org, roles=(Role.CONTENT_CURATOR,), password=None)
    post = newsroom.draft(db, "v1")
    drafts.save_draft(db, post, curator, _input(newsroom, "v2"), base_version=1)
    assert post.updated_by_id == curator.id
    editors = db.scalars(
        select(PostVersion.editor_id)
        .where(PostVersion.post_id == post.id)
        .order_by(PostVersion.number)
    ).all()
    assert editors == [newsroom.author.id, curator.id]


def test_alt_text_is_settled_once_the_post_is_scheduled(db: Session, newsroom: Newsroom) -> None:
    post = newsroom.draft(db)
    media = drafts.attach_media(db, post, newsroom.author, filename="a.png", content=_image("PNG"))
    post.status = PostStatus.SCHEDULED
    with pytest.raises(Conflict, match="Alt text can only change"):
        drafts.set_alt_text(db, post, media.id, "Changed after approval")
    assert media.alt_text == ""
