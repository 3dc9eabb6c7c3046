"""Managing channels from the settings pages: edit, disable, verify."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sixfold import audit
from sixfold.channels import service
from sixfold.channels.base import (
    Connector,
    ConnectorError,
    CredentialsError,
    reported_settings,
)
from sixfold.channels.models import Channel, ChannelStatus, record_event
from sixfold.config import Settings
from sixfold.errors import Conflict, NotFound, ValidationFailed
from sixfold.publishing.publisher import Publication

FILE_CHANNELS_DIR = "channels"
# Publications approved and not yet sent: a lowered limit fails them when they are sent.
UNSENT_STATES = ("pending", "held")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class ChannelChanges:
    """What an edit form sends; validated by `update_channel`."""

    name: str
    timezone: str
    queue_slots: str
    requires_review: bool
    channel_settings: dict[str, Any]


@dataclass(frozen=True)
class Verification:
    ok: bool
    message: str


def file_path_setting(data_dir: Path, raw: str) -> str:
    """Where a file channel set up through the web writes: inside the data folder only.

    Letting a web form name any path would let a settings manager append to any file the
    server may write (a shell profile, say); a file under the data folder harms nobody.
    """
    raw = raw.strip()
    if not raw:
        raise ValidationFailed("A file channel needs a file name, such as dry-run.jsonl.")
    if _CONTROL.search(raw):
        # No file system takes a NUL byte in a name, and a line break or other control
        # character in one is a pasting accident; say so instead of failing to resolve it.
        raise ValidationFailed(
            "The file name contains a control character (a line break or a NUL byte, say); "
            "give a name such as dry-run.jsonl."
        )
    base = (data_dir / FILE_CHANNELS_DIR).resolve()
    try:
        path = (base / raw).resolve()
    except (OSError, ValueError):
        # A name the operating system refuses outright (one it cannot encode, say).
        raise ValidationFailed(
            "The file name is not one this server can use; give a name such as dry-run.jsonl."
        ) from None
    if not path.is_relative_to(base) or path == base:
        raise ValidationFailed(
            f"The file must be inside {base}; give a name such as dry-run.jsonl."
        )
    return str(path)


def update_channel(
    session: Session, channel: Channel, changes: ChannelChanges, *, actor: audit.Actor
) -> dict[str, Any]:
    """Apply an edit; audit what changed (before and after). Returns the changes."""
    name = service.check_name(session, channel.organisation_id, changes.name, channel_id=channel.id)
    wanted: dict[str, Any] = {
        "name": name,
        "timezone": service.check_timezone(changes.timezone.strip() or "UTC"),
        "queue_slots": service.parse_queue_slots(changes.queue_slots),
        "requires_review": changes.requires_review,
        "settings": {**(channel.settings or {}), **changes.channel_settings},
    }
    changed = {
        field: {"before": getattr(channel, field), "after": value}
        for field, value in wanted.items()
        if getattr(channel, field) != value
    }
    for field, change in changed.items():
        setattr(channel, field, change["after"])
    if changed:
        record_event(session, actor, "channel.updated", channel, changed)
    return changed


def disable_channel(session: Session, channel: Channel, *, actor: audit.Actor) -> None:
    if channel.status == ChannelStatus.DISABLED:
        raise Conflict(f"{channel.name} is disabled already.")
    before = channel.status
    channel.status = ChannelStatus.DISABLED
    record_event(session, actor, "channel.disabled", channel, {"status_before": before})


def verify_channel(
    session: Session, channel: Channel, *, settings: Settings | None, actor: audit.Actor
) -> Verification:
    """Ask the network whether the credentials work; record what it said on the channel,
    and what it says now about the account's server (its limits, where servers differ).

    Only the credentials decide the answer. The server's limits are read after them, and
    failing to read them (a 502 from its proxy, a 401 from a server that hides its
    information) keeps the limits stored and says so: it says nothing about the sign-in.
    """
    try:
        connector = service.connector_for(session, channel.id, settings=settings)
        handle = connector.verify()
    except CredentialsError as error:
        service.mark_reconnect_needed(
            session,
            channel.id,
            str(error) or "sign in again",
            base_url=settings.base_url if settings else "",
        )
        return Verification(False, f"The network refused the credentials: {error}")
    except (ConnectorError, NotFound) as error:
        return Verification(False, f"The check did not succeed: {error}")
    before = service.limits_of(channel).max_chars
    reported, unread = _server_report(connector)
    changed = service.keep_reported_settings(channel, reported)
    _record_verified(session, channel, handle, changed, actor=actor)
    most = service.limits_of(channel).max_chars
    if unread is not None:
        message = (
            f"Connected as {handle}, but could not read the server's limits ({unread}); "
            f"kept the stored ones: posts take up to {most:,} characters."
        )
    else:
        message = f"Connected as {handle}. Posts take up to {most:,} characters."
    if most < before:
        message += " " + _lowered_limit(session, channel, before)
    return Verification(True, message)


def _server_report(connector: Connector) -> tuple[dict[str, Any], str | None]:
    """What the network reports about the account's server, or why it could not be read."""
    try:
        return reported_settings(connector), None
    except ConnectorError as error:
        return {}, str(error) or type(error).__name__


def _record_verified(
    session: Session,
    channel: Channel,
    handle: str,
    changed: dict[str, Any],
    *,
    actor: audit.Actor,
) -> None:
    unchanged = channel.status != ChannelStatus.RECONNECT_NEEDED and channel.handle == handle
    if unchanged and not changed:
        return
    before = {"status": channel.status, "handle": channel.handle}
    if channel.status == ChannelStatus.RECONNECT_NEEDED:
        channel.status, channel.status_message = ChannelStatus.ACTIVE, ""
    channel.handle = handle[:300]
    record_event(
        session,
        actor,
        "channel.updated",
        channel,
        {
            "verified": True,
            "before": before,
            "handle": channel.handle,
            **({"settings": changed} if changed else {}),
        },
    )


def _lowered_limit(session: Session, channel: Channel, before: int) -> str:
    """What a lowered limit means for the posts already approved for this channel: the
    server refuses each one longer than its limit (422) when it is published."""
    most = service.limits_of(channel).max_chars
    texts = session.scalars(
        select(Publication.text).where(
            Publication.channel_id == channel.id, Publication.state.in_(UNSENT_STATES)
        )
    )
    over = sum(1 for text in texts if service.count_characters(channel, text) > most)
    if not over:
        return f"The limit went down from {before:,}; no scheduled post is longer."
    posts, them = ("post is", "it") if over == 1 else ("posts are", "them")
    return (
        f"The limit went down from {before:,}: {over} scheduled {posts} longer and would "
        f"be refused when published: shorten {them} or publish {them} elsewhere."
    )
