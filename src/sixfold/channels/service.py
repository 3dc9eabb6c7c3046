"""Channels as the rest of Sixfold uses them: create, list, build their connector."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from sixfold import audit
from sixfold.auth.models import RoleAssignment
from sixfold.auth.permissions import Permission, Role, permissions_for
from sixfold.channels import base
from sixfold.channels.base import (
    ChannelLimits,
    Connector,
    ConnectorContext,
    CredentialsError,
    MediaItem,
    OutgoingPost,
    RefreshCredentials,
)
from sixfold.channels.credentials import (
    open_credentials,
    renew_credentials,
    save_renewed_credentials,
    seal_credentials,
)
from sixfold.channels.models import Channel, ChannelStatus, record_event
from sixfold.channels.registry import build_connector, connector_type, connector_types
from sixfold.config import Settings
from sixfold.crypto import SecretDecryptionError
from sixfold.errors import NotFound, ValidationFailed
from sixfold.notifications.service import notify
from sixfold.org.models import Organisation, Person

if TYPE_CHECKING:
    from sixfold.publishing.publisher import Publication

_URL = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SLOT_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def connector_for(session: Session, channel_id: int, *, settings: Settings | None) -> Connector:
    channel = session.get(Channel, channel_id)
    if channel is None:
        raise NotFound("No such channel.")
    try:
        credentials = open_credentials(settings, channel)
    except SecretDecryptionError:
        # Sealed under another secret key (restored from elsewhere, key rotated): only
        # connecting the account again can help, which is what CredentialsError says.
        raise CredentialsError(
            "The stored sign-in cannot be opened with this installation's secret key; "
            "reconnect the channel."
        ) from None
    context = ConnectorContext(
        channel_id=channel.id,
        settings=dict(channel.settings or {}),
        credentials=credentials,
        services={"session": session},
        save_credentials=_saver(session, channel.id, settings) if settings else None,
        renew=_renewer(session, channel.id, settings) if settings else None,
    )
    return build_connector(channel.kind, context)


def _saver(
    session: Session, channel_id: int, settings: Settings
) -> Callable[[dict[str, Any]], None]:
    def save(renewed: dict[str, Any]) -> None:
        save_renewed_credentials(session, channel_id, renewed, settings=settings)

    return save


def _renewer(
    session: Session, channel_id: int, settings: Settings
) -> Callable[[dict[str, Any], RefreshCredentials], dict[str, Any]]:
    def renew(held: dict[str, Any], refresh: RefreshCredentials) -> dict[str, Any]:
        return renew_credentials(session, channel_id, held, refresh, settings=settings)

    return renew


def limits_of(channel: Channel) -> ChannelLimits:
    """The channel's own limits: what its server reported where servers differ (Mastodon)."""
    return base.limits_of(connector_type(channel.kind), channel.settings or {})


def count_characters(channel: Channel, text: str) -> int:
    """`text`'s length as the channel's network (and server) counts it."""
    return base.count_characters(
        connector_type(channel.kind), text, settings=channel.settings or {}
    )


def keep_reported_settings(channel: Channel, reported: dict[str, Any]) -> dict[str, Any]:
    """Store what the network reported about the account's server (a Mastodon server's
    limits: `base.reported_settings`) with the channel's settings; returns what changed,
    before and after."""
    stored = channel.settings or {}
    changed = {
        key: {"before": stored.get(key), "after": value}
        for key, value in reported.items()
        if stored.get(key) != value
    }
    if changed:
        channel.settings = {**stored, **reported}  # a new dict, so the JSON column is saved
    return changed


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


def mark_reconnect_needed(
    session: Session, channel_id: int, message: str, *, base_url: str = ""
) -> bool:
    """Mark an active channel "reconnect needed" and tell its owners; True if this call did.

    The conditional update makes the transition happen once however many posts fail at the
    same moment (PostgreSQL re-checks the condition after a concurrent update commits), so
    the owners hear about it once per transition, not once per failed post.
    """
    message = message.strip() or "sign in again"
    result = session.execute(
        update(Channel)
        .where(Channel.id == channel_id, Channel.status == ChannelStatus.ACTIVE)
        .values(status=ChannelStatus.RECONNECT_NEEDED, status_message=message[:1000])
    )
    if cast(CursorResult[Any], result).rowcount != 1:
        return False
    channel = session.get(Channel, channel_id, populate_existing=True)
    if channel is None:
        return False
    record_event(
        session, audit.SYSTEM, "channel.reconnect_needed", channel, {"message": message[:500]}
    )
    notify(
        session,
        channel_owners(session, channel),
        kind="channel_reconnect_needed",
        message=f"{channel.name} needs reconnecting: {message[:300]}",
        link=f"/channels/{channel.id}",
        base_url=base_url,
    )
    return True


def channel_owners(session: Session, channel: Channel) -> list[Person]:
    """Who answers for a channel: whoever connected it, and every settings manager."""
    roles = [
        r.value for r in Role if Permission.MANAGE_SETTINGS in permissions_for(r, scoped=False)
    ]
    managers = session.scalars(
        select(Person)
        .join(RoleAssignment, RoleAssignment.person_id == Person.id)
        .where(
            Person.organisation_id == channel.organisation_id,
            RoleAssignment.role.in_(roles),
            RoleAssignment.team_id.is_(None),
        )
        .order_by(Person.id)
    ).all()
    connected_by = (channel.settings or {}).get("connected_by")
    person = session.get(Person, connected_by) if isinstance(connected_by, int) else None
    if person is None or person.organisation_id != channel.organisation_id:
        return list(managers)
    return [person, *managers]


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


def check_name(
    session: Session, organisation_id: int, name: str, *, channel_id: int | None = None
) -> str:
    """The name stripped, once it is short enough and no other channel of the
    organisation has it."""
    name = name.strip()
    if not name or len(name) > 200:
        raise ValidationFailed("A channel needs a name of at most 200 characters.")
    clash = session.scalar(
        select(Channel.id).where(
            Channel.organisation_id == organisation_id,
            Channel.name == name,
            Channel.id != (channel_id or 0),
        )
    )
    if clash is not None:
        raise ValidationFailed(f"There is already a channel called {name!r}.")
    return name


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
    audit_details: dict[str, Any] | None = None,
) -> Channel:
    connector_type(kind)
    name = check_name(session, organisation.id, name)
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
    record_event(
        session, actor, "channel.created", channel, {"kind": kind, **(audit_details or {})}
    )
    return channel
