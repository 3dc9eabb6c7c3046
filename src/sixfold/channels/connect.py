"""Connecting a channel to an account, and reconnecting one whose sign-in failed.

The two flows of the contract in base.py: "form" (the network takes what the person typed,
such as an app password), here, and "oauth2" (the person is sent to the network and comes
back with a code) in connect_oauth.py. No HTTP in either: the views parse and render.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
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
from sixfold.channels.credentials import merge_credentials, open_credentials, seal_credentials
from sixfold.channels.models import Channel, ChannelStatus, record_event
from sixfold.config import Settings
from sixfold.crypto import SecretDecryptionError
from sixfold.errors import Conflict, DomainError, NotFound, ValidationFailed
from sixfold.org.models import Organisation

FLOWS = ("form", "oauth2")
# Channel settings that name the account itself (not the member signed in, nor a server
# address typed differently): Bluesky's did, Mastodon's account_id on its domain, X's
# user_id, LinkedIn's author_urn (a page or member; another admin of the page may sign in).
IDENTITY_KEYS = ("did", "account_id", "domain", "user_id", "author_urn")
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
    cls: type[Connector],
    form: Mapping[str, Any],
    *,
    stored: Mapping[str, Any] | None = None,
    stored_settings: Mapping[str, Any] | None = None,
) -> dict[str, str]:
    """The setup fields from a form. On a reconnect a secret left empty keeps its stored
    value (so a client secret need not be typed again to renew a token), but only while
    every other field is as stored: a secret is never sent to a server or account someone
    has just typed in (a settings manager must not be able to collect an app password)."""
    fields = setup_fields(cls)
    typed = {f.name: str(form.get(f.name, "")).strip() for f in fields}
    changed = changed_fields(fields, typed, stored_settings or {})
    for field in fields:
        if field.secret and not typed[field.name] and stored and not changed:
            typed[field.name] = str(stored.get(field.name) or "")
    missing = [f.label for f in fields if f.required and not typed[f.name]]
    if missing:
        raise ValidationFailed(_missing_message(fields, missing, changed, bool(stored)))
    return {name: value for name, value in typed.items() if value}


def changed_fields(
    fields: Sequence[SetupField], typed: Mapping[str, str], stored_settings: Mapping[str, Any]
) -> list[str]:
    """The labels of the non-secret fields whose typed value is not the stored one."""
    return [
        f.label
        for f in fields
        if not f.secret and typed[f.name] != str(stored_settings.get(f.name) or "").strip()
    ]


def _missing_message(
    fields: Sequence[SetupField], missing: list[str], changed: list[str], had_stored: bool
) -> str:
    message = "Please fill in: " + ", ".join(missing) + "."
    secrets = [f.label for f in fields if f.secret and f.label in missing]
    if had_stored and changed and secrets:
        message += (
            f" {_listed(changed)} changed, so the stored {_listed(secrets)} cannot be used:"
            " enter it again."
        )
    return message


def _listed(labels: Sequence[str]) -> str:
    return labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]


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
    return read_values(
        cls,
        form,
        stored=stored_credentials(settings, channel),
        stored_settings=channel.settings or {},
    )


def stored_credentials(settings: Settings, channel: Channel) -> dict[str, Any]:
    """The channel's credentials, or none when they were sealed under another secret key
    (then everything is asked again instead of failing the page)."""
    try:
        return open_credentials(settings, channel)
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
    """New credentials for a channel: merged over the stored ones, and the channel active.
    Only for the account the channel already posts to (see `check_same_account`)."""
    cls = registry.connector_type(channel.kind)
    check_same_account(channel, connection)
    before = {"status": channel.status, "handle": channel.handle}
    stored = stored_credentials(settings, channel)
    seal_credentials(settings, channel, merge_credentials(stored, connection.credentials))
    channel.settings = _connected_settings(
        dict(channel.settings or {}), cls, values, connection, actor, flow_digest
    )
    channel.status, channel.status_message = ChannelStatus.ACTIVE, ""
    channel.handle = connection.handle[:300] or channel.handle
    record_event(
        session,
        actor,
        "channel.reconnected",
        channel,
        {"via": auth_flow_of(cls), "before": before, "handle": channel.handle},
    )
    return channel


def check_same_account(channel: Channel, connection: Connection) -> None:
    """Refuse a reconnection that signed in to another account: publications whose fate is
    unknown would be looked for on, or posted to, the wrong account.

    The account is what the connectors keep in their settings under IDENTITY_KEYS; every
    such key present both in the channel's settings and in the new connection must agree.
    A key only one side has is not compared (a channel stored before it was kept)."""
    stored = channel.settings or {}
    for key in IDENTITY_KEYS:
        before, now = stored.get(key), connection.settings.get(key)
        if before not in (None, "") and now not in (None, "") and str(before) != str(now):
            raise ConnectRefused(
                f"This channel is {channel.handle or channel.name}; you signed in as "
                f"{connection.handle or now}. Connect a new channel for another account."
            )


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
