"""Channels as the rest of Sixfold uses them: create, list, build their connector."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from sixfold import audit
from sixfold.channels.base import (
    ChannelLimits,
    Connector,
    ConnectorContext,
    MediaItem,
    OutgoingPost,
)
from sixfold.channels.models import Channel, ChannelStatus
from sixfold.channels.registry import build_connector, connector_type, connector_types
from sixfold.config import Settings
from sixfold.crypto import SecretBox
from sixfold.errors import NotFound, ValidationFailed
from sixfold.org.models import Organisation

if TYPE_CHECKING:
    from sixfold.publishing.publisher import Publication

_URL = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SLOT_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def _credentials_context(channel_id: int) -> str:
    # Binding the ciphertext to its channel stops a sealed token being copied to another.
    return f"channel:{channel_id}"


def seal_credentials(settings: Settings, channel: Channel, credentials: dict[str, Any]) -> None:
    box = SecretBox(settings.resolved_secret_key)
    channel.credentials = box.encrypt(
        json.dumps(credentials), context=_credentials_context(channel.id)
    )


def open_credentials(settings: Settings | None, channel: Channel) -> dict[str, Any]:
    if not channel.credentials:
        return {}
    if settings is None:
        raise RuntimeError("opening channel credentials needs the settings (secret key)")
    box = SecretBox(settings.resolved_secret_key)
    data: dict[str, Any] = json.loads(
        box.decrypt(channel.credentials, context=_credentials_context(channel.id))
    )
    return data


def connector_for(session: Session, channel_id: int, *, settings: Settings | None) -> Connector:
    channel = session.get(Channel, channel_id)
    if channel is None:
        raise NotFound("No such channel.")
    context = ConnectorContext(
        channel_id=channel.id,
        settings=dict(channel.settings or {}),
        credentials=open_credentials(settings, channel),
        services={"session": session},
    )
    return build_connector(channel.kind, context)


def limits_of(channel: Channel) -> ChannelLimits:
    return connector_type(channel.kind).limits


def publishing_problem(channel: Channel | None) -> str | None:
    """Why nothing can be published on this channel now, in words for people; or None."""
    if channel is None:
        return "The channel was removed."
    if channel.status == ChannelStatus.RECONNECT_NEEDED:
        return f"{channel.name} needs reconnecting: {channel.status_message or 'sign in again'}"
    if channel.status == ChannelStatus.DISABLED:
        return f"{channel.name} is disabled."
    if channel.kind not in connector_types():
        return f"The connector for {channel.kind!r} is not installed."
    return None


def mark_reconnect_needed(session: Session, channel_id: int, message: str) -> None:
    channel = session.get(Channel, channel_id)
    if channel is None or channel.status == ChannelStatus.RECONNECT_NEEDED:
        return
    channel.status = ChannelStatus.RECONNECT_NEEDED
    channel.status_message = message[:1000]
    audit.record(
        session,
        audit.SYSTEM,
        "channel.reconnect_needed",
        target_type="channel",
        target_id=channel.id,
        target=channel.name,
        details={"message": message[:500]},
    )


def first_link(text: str) -> str | None:
    match = _URL.search(text)
    return match.group(0).rstrip(".,;:!?)") if match else None


def outgoing_post(session: Session, publication: Publication) -> OutgoingPost:
    post = publication.post
    media = [MediaItem(m.filename, m.content_type, m.content, m.alt_text) for m in post.media]
    return OutgoingPost(
        text=publication.text,
        media=media,
        link=first_link(publication.text),
        author_name=post.author.name,
    )


def list_channels(
    session: Session, organisation: Organisation, *, include_disabled: bool = False
) -> list[Channel]:
    query = select(Channel).where(Channel.organisation_id == organisation.id)
    if not include_disabled:
        query = query.where(Channel.status != ChannelStatus.DISABLED)
    return list(session.scalars(query.order_by(Channel.name)))


def get_channel(session: Session, organisation: Organisation, channel_id: int) -> Channel:
    channel = session.get(Channel, channel_id)
    if channel is None or channel.organisation_id != organisation.id:
        raise NotFound("No such channel.")
    return channel


def check_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationFailed(
            f"{name!r} is not a time zone (for example Europe/London)."
        ) from None
    return name


def parse_queue_slots(text: str) -> list[dict[str, str]]:
    """Queue slots from "mon 09:00, wed 12:30" into [{"day": "mon", "time": "09:00"}, ...]."""
    slots: list[dict[str, str]] = []
    for raw in re.split(r"[,\n;]+", text):
        item = raw.strip().lower()
        if not item:
            continue
        parts = item.split()
        if len(parts) != 2 or parts[0][:3] not in _DAYS or not _SLOT_TIME.match(parts[1]):
            raise ValidationFailed(
                f"Queue slot {raw.strip()!r} is not a day and a time such as 'mon 09:00'."
            )
        slot = {"day": parts[0][:3], "time": parts[1]}
        if slot not in slots:
            slots.append(slot)
    return sorted(slots, key=lambda s: (_DAYS.index(s["day"]), s["time"]))


def format_queue_slots(slots: list[dict[str, str]]) -> str:
    return ", ".join(f"{s['day']} {s['time']}" for s in slots)


def create_channel(
    session: Session,
    organisation: Organisation,
    *,
    kind: str,
    name: str,
    actor: audit.Actor,
    settings: Settings | None = None,
    channel_settings: dict[str, Any] | None = None,
    credentials: dict[str, Any] | None = None,
    timezone: str = "UTC",
    queue_slots: list[dict[str, str]] | None = None,
    requires_review: bool = False,
) -> Channel:
    connector_type(kind)
    name = name.strip()
    if not name or len(name) > 200:
        raise ValidationFailed("A channel needs a name of at most 200 characters.")
    clash = session.scalar(
        select(Channel.id).where(Channel.organisation_id == organisation.id, Channel.name == name)
    )
    if clash is not None:
        raise ValidationFailed(f"There is already a channel called {name!r}.")
    channel = Channel(
        organisation_id=organisation.id,
        kind=kind,
        name=name,
        settings=channel_settings or {},
        timezone=check_timezone(timezone),
        queue_slots=queue_slots or [],
        requires_review=requires_review,
        status=ChannelStatus.ACTIVE,
        status_message="",
        handle="",
    )
    session.add(channel)
    session.flush()
    if credentials:
        if settings is None:
            raise RuntimeError("sealing channel credentials needs the settings (secret key)")
        seal_credentials(settings, channel, credentials)
    audit.record(
        session,
        actor,
        "channel.created",
        target_type="channel",
        target_id=channel.id,
        target=name,
        details={"kind": kind},
    )
    return channel
