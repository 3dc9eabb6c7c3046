"""Managing channels from the settings pages: edit, disable, verify."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from sixfold import audit
from sixfold.channels import service
from sixfold.channels.base import ConnectorError, CredentialsError, reported_settings
from sixfold.channels.models import Channel, ChannelStatus
from sixfold.config import Settings
from sixfold.errors import Conflict, NotFound, ValidationFailed

FILE_CHANNELS_DIR = "channels"


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
    base = (data_dir / FILE_CHANNELS_DIR).resolve()
    path = (base / raw).resolve()
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
        audit.record(
            session,
            actor,
            "channel.updated",
            target_type="channel",
            target_id=channel.id,
            target=channel.name,
            details=changed,
        )
    return changed


def disable_channel(session: Session, channel: Channel, *, actor: audit.Actor) -> None:
    if channel.status == ChannelStatus.DISABLED:
        raise Conflict(f"{channel.name} is disabled already.")
    before = channel.status
    channel.status = ChannelStatus.DISABLED
    audit.record(
        session,
        actor,
        "channel.disabled",
        target_type="channel",
        target_id=channel.id,
        target=channel.name,
        details={"status_before": before},
    )


def verify_channel(
    session: Session, channel: Channel, *, settings: Settings | None, actor: audit.Actor
) -> Verification:
    """Ask the network whether the credentials work; record what it said on the channel,
    and what it says now about the account's server (its limits, where servers differ)."""
    try:
        connector = service.connector_for(session, channel.id, settings=settings)
        handle = connector.verify()
        reported = reported_settings(connector)
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
    changed = service.keep_reported_settings(channel, reported)
    if channel.status == ChannelStatus.RECONNECT_NEEDED or channel.handle != handle or changed:
        before = {"status": channel.status, "handle": channel.handle}
        if channel.status == ChannelStatus.RECONNECT_NEEDED:
            channel.status, channel.status_message = ChannelStatus.ACTIVE, ""
        channel.handle = handle[:300]
        audit.record(
            session,
            actor,
            "channel.updated",
            target_type="channel",
            target_id=channel.id,
            target=channel.name,
            details={
                "verified": True,
                "before": before,
                "handle": channel.handle,
                **({"settings": changed} if changed else {}),
            },
        )
    most = service.limits_of(channel).max_chars
    return Verification(True, f"Connected as {handle}. Posts take up to {most:,} characters.")
