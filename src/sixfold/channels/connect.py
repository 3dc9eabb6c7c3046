"""Connecting a channel to an account, and reconnecting one whose sign-in failed.

The two flows of the contract in base.py: "form" (the network takes what the person typed,
such as an app password), here, and "oauth2" (the person is sent to the network and comes
back with a code) in connect_oauth.py. No HTTP in either: the views parse and render.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from sixfold import audit
from sixfold.channels import registry, service
from sixfold.channels.base import (
    Connection,
    Connector,
    ConnectorError,
    CredentialsError,
    SetupField,
    TransientError,
)
from sixfold.channels.models import Channel, ChannelStatus
from sixfold.config import Settings
from sixfold.crypto import SecretDecryptionError
from sixfold.errors import Conflict, DomainError, NotFound, ValidationFailed
from sixfold.org.models import Organisation

FLOWS = ("form", "oauth2")
T = TypeVar("T")


class ConnectFailed(DomainError):
    """Connecting did not succeed for a reason outside the form: audited."""


class ConnectRefused(ValidationFailed, ConnectFailed):
    """The network refused the credentials or the sign-in."""


class NetworkFailed(ConnectFailed):
    status_code = 502


class TryLater(ConnectFailed):
    status_code = 429


@dataclass(frozen=True)
class ChannelOptions:
    """Sixfold's own settings of a new channel, asked beside the network's fields."""

    name: str
    timezone: str = "UTC"
    queue_slots: str = ""
    requires_review: bool = False


# What a connector offers -------------------------------------------------------------------


def auth_flow_of(cls: type[Connector]) -> str | None:
    flow = getattr(cls, "auth_flow", None)
    return flow if flow in FLOWS else None


def connectable_type(kind: str) -> type[Connector]:
    cls = registry.connector_type(kind)
    if auth_flow_of(cls) is None:
        raise NotFound(f"{cls.label} has no account to connect; set it up as a plain channel.")
    return cls


def setup_fields(cls: type[Connector]) -> tuple[SetupField, ...]:
    return tuple(f for f in getattr(cls, "setup_fields", ()) if isinstance(f, SetupField))


def connect_steps(cls: type[Connector]) -> tuple[str, ...]:
    return tuple(str(step) for step in getattr(cls, "connect_steps", ()))


def summary_of(cls: type[Connector]) -> str:
    """What connecting needs, in a few words, for the network's card."""
    given = getattr(cls, "connect_summary", "")
    if isinstance(given, str) and given:
        return given
    flow = auth_flow_of(cls)
    if flow is None:
        return "nothing to sign in to"
    if flow == "oauth2":
        return f"sign in on {cls.label}"
    return ", ".join(f.label.lower() for f in setup_fields(cls) if f.required) or "no sign-in"


def read_values(
    cls: type[Connector], form: Mapping[str, Any], *, stored: Mapping[str, Any] | None = None
) -> dict[str, str]:
    """The setup fields from a form; on a reconnect, a secret left empty keeps its stored
    value (so a client secret need not be typed again to renew a token)."""
    values: dict[str, str] = {}
    missing: list[str] = []
    for field in setup_fields(cls):
        value = str(form.get(field.name, "")).strip()
        if not value and field.secret and stored and stored.get(field.name):
            value = str(stored[field.name])
        if value:
            values[field.name] = value
        elif field.required:
            missing.append(field.label)
    if missing:
        raise ValidationFailed("Please fill in: " + ", ".join(missing) + ".")
    return values


def public_values(cls: type[Connector], values: Mapping[str, str]) -> dict[str, str]:
    """The values that may be shown again and kept as channel settings: not the secrets."""
    return {f.name: values[f.name] for f in setup_fields(cls) if not f.secret and f.name in values}


# Connecting a new channel ------------------------------------------------------------------


def connect_with_form(
    session: Session,
    organisation: Organisation,
    kind: str,
    values: dict[str, str],
    options: ChannelOptions,
    *,
    settings: Settings,
    actor: audit.Actor,
) -> Channel:
    cls = flow_type(kind, "form")
    check_options(session, organisation, options)
    connection = ask_network(
        cls.label, lambda: as_connection(call_connector(cls, "connect", values))
    )
    return create_connected(
        session, organisation, cls, connection, values, options, settings=settings, actor=actor
    )


def check_options(session: Session, organisation: Organisation, options: ChannelOptions) -> None:
    """Refuse bad channel settings before the network is asked anything."""
    service.check_name(session, organisation.id, options.name)
    service.check_timezone(options.timezone.strip() or "UTC")
    service.parse_queue_slots(options.queue_slots)


def create_connected(
    session: Session,
    organisation: Organisation,
    cls: type[Connector],
    connection: Connection,
    values: dict[str, str],
    options: ChannelOptions,
    *,
    settings: Settings,
    actor: audit.Actor,
    flow_digest: str = "",
) -> Channel:
    channel_settings = _connected_settings({}, cls, values, connection, actor, flow_digest)
    channel = service.create_channel(
        session,
        organisation,
        kind=cls.kind,
        name=options.name,
        actor=actor,
        settings=settings,
        channel_settings=channel_settings,
        credentials=connection.credentials,
        timezone=options.timezone.strip() or "UTC",
        queue_slots=service.parse_queue_slots(options.queue_slots),
        requires_review=options.requires_review,
        audit_details={"via": auth_flow_of(cls), "handle": connection.handle[:300]},
    )
    channel.handle = connection.handle[:300]
    return channel


def _connected_settings(
    current: dict[str, Any],
    cls: type[Connector],
    values: Mapping[str, str],
    connection: Connection,
    actor: audit.Actor,
    flow_digest: str,
) -> dict[str, Any]:
    # `connected_by` is told when the channel needs reconnecting; `connect_flow` makes an
    # OAuth answer single-use even if its cookie was copied before it was cleared.
    merged = {**current, **public_values(cls, values), **connection.settings}
    merged["connected_by"] = actor.id
    if flow_digest:
        merged["connect_flow"] = flow_digest
    return merged


# Reconnecting ------------------------------------------------------------------------------


def reconnect_values(
    channel: Channel, form: Mapping[str, Any], *, settings: Settings
) -> dict[str, str]:
    cls = connectable_type(channel.kind)
    if channel.status == ChannelStatus.DISABLED:
        raise Conflict(f"{channel.name} is disabled; connect the account as a new channel.")
    return read_values(cls, form, stored=stored_credentials(settings, channel))


def stored_credentials(settings: Settings, channel: Channel) -> dict[str, Any]:
    """The channel's credentials, or none when they were sealed under another secret key
    (then everything is asked again instead of failing the page)."""
    try:
        return service.open_credentials(settings, channel)
    except SecretDecryptionError:
        return {}


def reconnect_with_form(
    session: Session,
    channel: Channel,
    values: dict[str, str],
    *,
    settings: Settings,
    actor: audit.Actor,
) -> Channel:
    cls = flow_type(channel.kind, "form")
    connection = ask_network(
        cls.label, lambda: as_connection(call_connector(cls, "connect", values))
    )
    return apply_reconnection(
        session, channel, connection, values=values, settings=settings, actor=actor
    )


def apply_reconnection(
    session: Session,
    channel: Channel,
    connection: Connection,
    *,
    values: Mapping[str, str],
    settings: Settings,
    actor: audit.Actor,
    flow_digest: str = "",
) -> Channel:
    """New credentials for a channel: merged over the stored ones, and the channel active."""
    cls = registry.connector_type(channel.kind)
    before = {"status": channel.status, "handle": channel.handle}
    stored = stored_credentials(settings, channel)
    service.seal_credentials(
        settings, channel, service.merge_credentials(stored, connection.credentials)
    )
    channel.settings = _connected_settings(
        dict(channel.settings or {}), cls, values, connection, actor, flow_digest
    )
    channel.status, channel.status_message = ChannelStatus.ACTIVE, ""
    channel.handle = connection.handle[:300] or channel.handle
    audit.record(
        session,
        actor,
        "channel.reconnected",
        target_type="channel",
        target_id=channel.id,
        target=channel.name,
        details={"via": auth_flow_of(cls), "before": before, "handle": channel.handle},
    )
    return channel


# Talking to the connector class ------------------------------------------------------------


def flow_type(kind: str, flow: str) -> type[Connector]:
    cls = connectable_type(kind)
    if auth_flow_of(cls) != flow:
        raise NotFound(f"{cls.label} does not connect this way.")
    return cls


def call_connector(cls: type[Connector], name: str, *args: Any) -> Any:
    # The connect classmethods are optional parts of the contract, so not on the Protocol.
    return getattr(cls, name)(*args)


def as_connection(value: object) -> Connection:
    if not isinstance(value, Connection):
        raise ConnectorError("the connector gave no connection")
    return value


def ask_network(label: str, call: Callable[[], T]) -> T:
    """Run a connector call; its errors become messages for the person connecting."""
    try:
        return call()
    except CredentialsError as error:
        raise ConnectRefused(
            f"{label} refused the sign-in: {error or 'no reason given'}"
        ) from error
    except TransientError as error:
        raise TryLater(f"{label} is busy: {wait_words(error.retry_after)}.") from error
    except ConnectorError as error:
        raise NetworkFailed(f"{label} could not connect the account: {error}") from error


def wait_words(seconds: float | None) -> str:
    if not seconds:
        return "try again in a few minutes"
    minutes = max(1, math.ceil(seconds / 60))
    return f"try again in {minutes} minute{'s' if minutes != 1 else ''}"


def record_failure(
    session: Session,
    actor: audit.Actor,
    kind: str,
    error: DomainError,
    *,
    channel: Channel | None = None,
) -> None:
    """Audit a connection the network refused or could not make (never a typing mistake:
    those are not events). The message is the network's, which carries no secret."""
    if not isinstance(error, ConnectFailed):
        return
    audit.record(
        session,
        actor,
        "channel.connect_failed",
        target_type="channel",
        target_id=channel.id if channel else "",
        target=channel.name if channel else kind,
        details={"kind": kind, "reason": type(error).__name__, "message": str(error)[:500]},
    )
