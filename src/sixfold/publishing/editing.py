"""The composer's use cases, shared by its pages and its JSON routes (no HTTP here).

Who saves decides how: an author saves a draft (`drafts.save_draft`, autosaves fold into one
version); a reviewer's edit of a post in review goes through `review.edit_in_review`, which
records the edit and starts review again, as does the author's new publishing time for a post
in review (`change_timing`). Times typed into the composer are read in the organisation's time
zone.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from sixfold import audit
from sixfold.auth.service import Principal
from sixfold.channels import service as channels
from sixfold.channels.base import ChannelLimits
from sixfold.channels.models import Channel
from sixfold.channels.registry import connector_type
from sixfold.errors import Conflict, NotFound, ValidationFailed
from sixfold.guardrails import service as guardrails
from sixfold.org.models import Organisation, Person
from sixfold.publishing import access, drafts, post_audit, review
from sixfold.publishing.access import EditMode
from sixfold.publishing.limits import limit_problems
from sixfold.publishing.models import Post, PostStatus, PublishMode
from sixfold.risk import Verdict


def organisation_of(session: Session, principal: Principal) -> Organisation:
    organisation = session.get(Organisation, principal.person.organisation_id)
    if organisation is None:
        raise NotFound("No organisation.")
    return organisation


def parse_when(value: str | datetime | None, zone: ZoneInfo) -> datetime | None:
    """A moment from the composer or the API, in UTC; one without an offset is read in
    `zone` (the datetime-local input sends none). Its year is checked before it is moved to
    UTC, which cannot express the calendar's very first and last hours."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValidationFailed(f"{value!r} is not a date and time.") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    drafts.check_publish_time(value)
    return value.astimezone(UTC)


def local_input(moment: datetime | None, zone: ZoneInfo) -> str:
    """The value of a datetime-local input showing `moment` in `zone`."""
    if moment is None:
        return ""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(zone).strftime("%Y-%m-%dT%H:%M")


# Saving -------------------------------------------------------------------------------------


def create(
    session: Session, principal: Principal, data: drafts.DraftInput, *, actor: audit.Actor
) -> Post:
    organisation = organisation_of(session, principal)
    return drafts.create_draft(session, organisation, principal.person, data, actor=actor)


def save(
    session: Session,
    principal: Principal,
    post: Post,
    data: drafts.DraftInput,
    *,
    base_version: int,
    autosave: bool,
    actor: audit.Actor,
    base_url: str,
) -> EditMode:
    """Save the editor's text the way they may; Conflict when they may not change it now."""
    mode = access.edit_mode(session, principal, post)
    if mode is None:
        raise Conflict(access.not_editable_reason(post, principal))
    if mode == EditMode.AUTHOR:
        drafts.save_draft(
            session, post, principal.person, data, base_version=base_version, autosave=autosave
        )
    else:
        # Every reviewer edit restarts review, so it is never an autosave.
        review.edit_in_review(
            session,
            post,
            principal.person,
            data,
            base_version=base_version,
            actor=actor,
            base_url=base_url,
        )
    return mode


def change_timing(
    session: Session,
    post: Post,
    author: Person,
    *,
    mode: PublishMode,
    at: datetime | None,
    actor: audit.Actor,
    base_url: str,
) -> None:
    """The author's new publishing time for a post not yet scheduled: a new version, so any
    approvals lapse and a post in review is reviewed again (its risk verdict depends on the
    day). Audited, because the versions keep the text and not the time."""
    before = _timing_of(post)
    data = drafts.DraftInput(
        text=post.text,
        channel_ids=[t.channel_id for t in post.targets],
        channel_texts={t.channel_id: t.text for t in post.targets if t.text},
        publish_mode=mode,
        publish_at=at,
    )
    version = post.version
    drafts.save_draft(session, post, author, data, base_version=version)
    if post.version == version:
        return
    post_audit.record(
        session,
        actor,
        "post.timing_changed",
        post_id=post.id,
        text=post.text,
        version=post.version,
        before=before,
        after=_timing_of(post),
    )
    if post.status == PostStatus.IN_REVIEW:
        review.review_again(session, post, base_url=base_url)


def _timing_of(post: Post) -> dict[str, str | None]:
    at = post.publish_at.isoformat() if post.publish_at else None
    return {"mode": post.publish_mode, "at": at}


def media_editable(session: Session, principal: Principal, post: Post) -> None:
    """Images change with the author's draft only: a reviewer's change of an image would not
    restart review the way an edit of the text does."""
    if access.edit_mode(session, principal, post) != EditMode.AUTHOR:
        raise Conflict(
            access.not_editable_reason(post, principal)
            if post.author_id == principal.person.id
            else "Only the author adds, describes or removes images."
        )


def problems(session: Session, post: Post) -> list[str]:
    """What stops the post being submitted, before anyone presses the button."""
    found = limit_problems(session, post)
    if review.settings_of(session, post.organisation_id).alt_text_required:
        found += [f"{m.filename} needs alt text." for m in drafts.missing_alt_text(post)]
    return found


# Channels and risk, for the pages ------------------------------------------------------------


@dataclass(frozen=True)
class ChannelChoice:
    channel: Channel
    label: str
    limits: ChannelLimits | None  # None: the connector is not installed
    selected: bool
    custom_text: str
    problem: str | None
    queue: str


def channel_choices(
    session: Session, organisation: Organisation, chosen: dict[int, str | None]
) -> list[ChannelChoice]:
    """Every channel the composer offers, with the author's choices marked."""
    offered = channels.list_channels(session, organisation)
    offered_ids = {c.id for c in offered}
    # A chosen channel that has since been disabled still shows, so nothing is hidden.
    extra = [session.get(Channel, i) for i in chosen if i not in offered_ids]
    return [
        _choice(channel, chosen) for channel in [*offered, *(c for c in extra if c is not None)]
    ]


@dataclass(frozen=True)
class AltTextLimit:
    """The longest alt text that every chosen channel takes, and the channel that sets it
    (None: no chosen channel takes less than a draft keeps)."""

    chars: int
    channel: str | None


def alt_text_limit(choices: Iterable[ChannelChoice]) -> AltTextLimit:
    limit = AltTextLimit(drafts.ALT_TEXT_MAX_CHARS, None)
    for choice in choices:
        chars = choice.limits.alt_text_max_chars if choice.limits else limit.chars
        if choice.selected and chars < limit.chars:
            limit = AltTextLimit(chars, choice.channel.name)
    return limit


def _choice(channel: Channel, chosen: dict[int, str | None]) -> ChannelChoice:
    try:
        kind = connector_type(channel.kind)
        label, limits = kind.label, channels.limits_of(channel)
    except NotFound:
        label, limits = channel.kind, None
    return ChannelChoice(
        channel=channel,
        label=label,
        limits=limits,
        selected=channel.id in chosen,
        custom_text=chosen.get(channel.id) or "",
        problem=channels.publishing_problem(channel),
        queue=channels.format_queue_slots(channel.queue_slots or []),
    )


@dataclass(frozen=True)
class ChannelText:
    channels: tuple[str, ...]
    text: str
    verdict: Verdict


def checked_texts(session: Session, post: Post, names: dict[int, str]) -> list[ChannelText]:
    """Each distinct text the post would send, with the channels it goes to and the risk
    engine's findings on it at the post's publishing time (spans point into that text)."""
    by_text: dict[str, list[str]] = {}
    for channel_id, text in drafts.texts_by_channel(session, post).items():
        by_text.setdefault(text, []).append(names.get(channel_id, f"Channel {channel_id}"))
    if not by_text:
        by_text[post.text] = []
    when = drafts.posting_time(post)
    return [
        ChannelText(
            channels=tuple(sorted(targets)),
            text=text,
            verdict=guardrails.check(
                session,
                post.organisation_id,
                text,
                when=when,
                alt_texts=drafts.image_descriptions(post),
            ),
        )
        for text, targets in by_text.items()
    ]


def channel_names(session: Session, ids: Iterable[int]) -> dict[int, str]:
    found = {}
    for channel_id in ids:
        channel = session.get(Channel, channel_id)
        if channel is not None:
            found[channel_id] = channel.name
    return found
