"""Channels as the rest of Sixfold uses them: create, list, build their connector."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import CursorResult, select, text, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

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
    TransientError,
)
from sixfold.channels.models import Channel, ChannelStatus
from sixfold.channels.registry import build_connector, connector_type, connector_types
from sixfold.config import Settings
from sixfold.crypto import SecretBox, SecretDecryptionError
from sixfold.errors import NotFound, ValidationFailed
from sixfold.notifications.service import notify
from sixfold.org.models import Organisation, Person

if TYPE_CHECKING:
    from sixfold.publishing.publisher import Publication

_URL = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SLOT_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
# How long a renewal waits for another process's (PostgreSQL; SQLite waits busy_timeout, 30 s):
# longer than the token call it waits out (channels/tokens.py), shorter than a job's lease.
RENEW_LOCK_WAIT_SECONDS = 30


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


def merge_credentials(stored: dict[str, Any], renewed: dict[str, Any]) -> dict[str, Any]:
    """`renewed` over `stored`: keys left out keep their value, and an empty refresh token
    (`refresh_token`, `refresh_jwt`, ...) never replaces a stored one, since networks that
    rotate refresh tokens often omit the new one when they did not rotate."""
    merged = dict(stored)
    for key, value in renewed.items():
        if "refresh" in key.lower() and value in (None, ""):
            continue
        merged[key] = value
    return merged


def save_renewed_credentials(
    session: Session, channel_id: int, renewed: dict[str, Any], *, settings: Settings
) -> None:
    """Store credentials a connector renewed, committed at once in a transaction of their own.

    A network that rotates refresh tokens invalidates the old one when it hands out the new
    one: losing the new one with a rolled-back publish would leave the channel unusable. The
    caller's session then sees the new sealed value without a write of its own. A caller
    must not hold uncommitted writes while its connector runs (on SQLite any write, on
    PostgreSQL the channel row or the audit head), or this waits for them and fails;
    publishing commits before every network call.
    """
    with Session(session.get_bind()) as own, own.begin():
        channel = _locked_channel(own, channel_id)
        if channel is None:
            return
        stored = open_credentials(settings, channel)
        merged = merge_credentials(stored, renewed)
        if merged == stored:
            return
        sealed = _seal_renewed(own, settings, channel, merged, keys=renewed)
    _show_sealed(session, channel_id, sealed)


def renew_credentials(
    session: Session,
    channel_id: int,
    held: dict[str, Any],
    refresh: RefreshCredentials,
    *,
    settings: Settings,
) -> dict[str, Any]:
    """Renew a channel's sign-in once, however many processes ask at the same moment
    (`ConnectorContext.renew`): the credentials now stored, renewed by `refresh` unless
    another process already renewed the ones `held`.

    The channel's row stays locked from reading the stored credentials until the renewed
    ones are committed, so a second process waits, then finds credentials other than those
    it held and uses them instead of spending a refresh token the network has retired. The
    lock is held across the network's token call, which the connectors keep short
    (channels/tokens.py). The caller's uncommitted writes are a hazard as for
    `save_renewed_credentials`.
    """
    try:
        with Session(session.get_bind()) as own, own.begin():
            channel = _locked_channel(own, channel_id, wait_seconds=RENEW_LOCK_WAIT_SECONDS)
            if channel is None:
                raise CredentialsError("The channel was removed; there is nothing to renew.")
            stored = open_credentials(settings, channel)
            if stored != held:
                return stored
            renewed = refresh(stored)
            # Through JSON, as it is stored: the connector holds it and hands it back as
            # `held`, which must then compare equal to what a later call finds stored.
            merged: dict[str, Any] = json.loads(json.dumps(merge_credentials(stored, renewed)))
            sealed = _seal_renewed(own, settings, channel, merged, keys=renewed)
    except OperationalError as error:
        # Mostly the lock was not had in time: another process's renewal is slow. The stored
        # credentials are as they were, so trying again later is the answer.
        raise TransientError("The sign-in is being renewed elsewhere; try again.") from error
    _show_sealed(session, channel_id, sealed)
    return merged


def _locked_channel(own: Session, channel_id: int, *, wait_seconds: int = 10) -> Channel | None:
    """The channel as last committed, locked against other writers until `own` ends."""
    if own.get_bind().dialect.name == "sqlite":
        # SQLite ignores FOR UPDATE and has no row locks. A write as the transaction's first
        # statement takes the database's write lock (waiting up to busy_timeout), which
        # serialises writers, and whatever is read after it is the newest committed state.
        own.execute(
            update(Channel)
            .where(Channel.id == channel_id)
            .values(credentials=Channel.credentials)
            .execution_options(synchronize_session=False)
        )
    _limit_lock_wait(own, wait_seconds)
    return own.get(Channel, channel_id, with_for_update=True, populate_existing=True)


def _seal_renewed(
    own: Session,
    settings: Settings,
    channel: Channel,
    credentials: dict[str, Any],
    *,
    keys: dict[str, Any],
) -> str | None:
    """Seal `credentials` on the locked channel and record it; the sealed value."""
    seal_credentials(settings, channel, credentials)
    audit.record(
        own,
        audit.SYSTEM,
        "channel.credentials_renewed",
        target_type="channel",
        target_id=channel.id,
        target=channel.name,
        details={"keys": sorted(keys)},
    )
    return channel.credentials


def _show_sealed(session: Session, channel_id: int, sealed: str | None) -> None:
    # The caller's session sees the new sealed value at once, without a write of its own.
    seen = session.identity_map.get(session.identity_key(Channel, channel_id))
    if isinstance(seen, Channel):
        set_committed_value(seen, "credentials", sealed)


def _limit_lock_wait(session: Session, seconds: int = 10) -> None:
    # A caller that holds the channel row or the audit head in an open transaction would
    # make this second transaction wait for it forever (PostgreSQL cannot see the cycle,
    # which runs through our own Python frame): fail after a while instead. SQLite's
    # busy_timeout bounds the wait there.
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"SET LOCAL lock_timeout = '{int(seconds)}s'"))


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
    audit.record(
        session,
        audit.SYSTEM,
        "channel.reconnect_needed",
        target_type="channel",
        target_id=channel.id,
        target=channel.name,
        details={"message": message[:500]},
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
    audit.record(
        session,
        actor,
        "channel.created",
        target_type="channel",
        target_id=channel.id,
        target=name,
        details={"kind": kind, **(audit_details or {})},
    )
    return channel
