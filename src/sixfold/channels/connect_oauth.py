"""Connecting through OAuth 2: the person is sent to the network and comes back with a code.

Between the two requests the flow (state, what the person typed, the connector's pending
values such as a PKCE verifier) lives in a cookie sealed with SecretBox, so no table is
needed and nothing secret is readable in the browser. The state is the callback's only CSRF
defence: it is compared in constant time, expires after 15 minutes and is used once.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sixfold import audit
from sixfold.channels import registry, service
from sixfold.channels.base import Authorization, ConnectorError
from sixfold.channels.connect import (
    ChannelOptions,
    ConnectFailed,
    ConnectRefused,
    NetworkFailed,
    apply_reconnection,
    as_connection,
    ask_network,
    call_connector,
    check_options,
    create_connected,
    flow_type,
)
from sixfold.channels.models import Channel
from sixfold.config import Settings
from sixfold.crypto import SecretBox, SecretDecryptionError
from sixfold.org.models import Organisation

FLOW_SECONDS = 15 * 60
_FLOW_CONTEXT = "channel-connect-flow"

FLOW_MISSING = (
    "No connection is under way in this browser: it finished already, it was started in "
    "another browser, or cookies are blocked. Please start again."
)
FLOW_INVALID = "This answer from the network could not be verified and was stopped. Start again."
FLOW_EXPIRED = "Connecting took more than 15 minutes and has expired. Please start again."
FLOW_USED = "This answer from the network was used already. Start again to connect once more."
FLOW_NOT_YOURS = "This connection was started by someone else. Please start your own."


class FlowRejected(ConnectFailed):
    """The callback does not continue a flow this person started in this browser."""

    status_code = 400


class StateMismatch(FlowRejected):
    """A callback carrying someone else's state: the flow under way is kept."""


@dataclass(frozen=True)
class Flow:
    """An OAuth connection under way, sealed in a cookie until the network sends the person
    back. It holds what the person typed, secrets included, so it is never stored in clear."""

    state: str
    kind: str
    organisation_id: int
    person_id: int
    values: dict[str, str]
    pending: dict[str, Any]
    options: dict[str, Any]
    channel_id: int | None
    expires_at: float


def start_oauth(
    session: Session,
    organisation: Organisation,
    kind: str,
    values: dict[str, str],
    options: ChannelOptions,
    *,
    person_id: int,
    redirect_uri: str,
    now: float,
    channel: Channel | None = None,
) -> tuple[str, Flow]:
    """Where to send the person, and the flow to keep until they come back."""
    cls = flow_type(kind, "oauth2")
    if channel is None:
        check_options(session, organisation, options)
    state = secrets.token_urlsafe(32)
    authorization = ask_network(
        cls.label,
        lambda: _authorization(call_connector(cls, "authorize", values, redirect_uri, state)),
    )
    flow = Flow(
        state=state,
        kind=kind,
        organisation_id=organisation.id,
        person_id=person_id,
        values=values,
        pending=dict(authorization.pending),
        options=asdict(options),
        channel_id=channel.id if channel else None,
        expires_at=now + FLOW_SECONDS,
    )
    return authorization.url, flow


def finish_oauth(
    session: Session,
    organisation: Organisation,
    flow: Flow,
    *,
    code: str,
    redirect_uri: str,
    settings: Settings,
    actor: audit.Actor,
) -> Channel:
    """Exchange the code and create the channel, or renew the one being reconnected."""
    cls = flow_type(flow.kind, "oauth2")
    if flow_used(session, organisation, flow.state):
        raise FlowRejected(FLOW_USED)
    if not code:
        raise NetworkFailed(f"{cls.label} sent you back without a sign-in code. Start again.")
    connection = ask_network(
        cls.label,
        lambda: as_connection(
            call_connector(cls, "complete", flow.values, flow.pending, redirect_uri, code)
        ),
    )
    digest = _digest(flow.state)
    if flow.channel_id is not None:
        channel = service.get_channel(session, organisation, flow.channel_id)
        return apply_reconnection(
            session,
            channel,
            connection,
            values=flow.values,
            settings=settings,
            actor=actor,
            flow_digest=digest,
        )
    options = ChannelOptions(**flow.options)
    return create_connected(
        session,
        organisation,
        cls,
        connection,
        flow.values,
        options,
        settings=settings,
        actor=actor,
        flow_digest=digest,
    )


# OAuth flow between the two requests -------------------------------------------------------


def seal_flow(settings: Settings, flow: Flow) -> str:
    box = SecretBox(settings.resolved_secret_key)
    return box.encrypt(json.dumps(asdict(flow)), context=_FLOW_CONTEXT)


def open_flow(settings: Settings, sealed: str | None) -> Flow:
    """The flow in this browser's cookie; `check_flow` says whether a callback continues it."""
    if not sealed:
        raise FlowRejected(FLOW_MISSING)
    try:
        plain = SecretBox(settings.resolved_secret_key).decrypt(sealed, context=_FLOW_CONTEXT)
        return Flow(**json.loads(plain))
    except (SecretDecryptionError, ValueError, TypeError) as bad:
        raise FlowRejected(FLOW_INVALID) from bad


def check_flow(
    flow: Flow, *, state: str, kind: str, organisation_id: int, person_id: int, now: float
) -> None:
    """The callback's state must be the flow's (in constant time), the flow young enough,
    for this network, and started by the person now signed in."""
    if not state or not hmac.compare_digest(flow.state.encode(), state.encode()):
        raise StateMismatch(FLOW_INVALID)
    if now > flow.expires_at:
        raise FlowRejected(FLOW_EXPIRED)
    if flow.kind != kind:
        raise FlowRejected(FLOW_INVALID)
    if flow.organisation_id != organisation_id or flow.person_id != person_id:
        raise FlowRejected(FLOW_NOT_YOURS)


def flow_used(session: Session, organisation: Organisation, state: str) -> bool:
    digest = _digest(state)
    used = session.scalars(
        select(Channel.settings).where(Channel.organisation_id == organisation.id)
    )
    return any((s or {}).get("connect_flow") == digest for s in used)


def network_said_no(kind: str, error: str, description: str) -> ConnectRefused:
    """The error a network put in the callback, for the person who was sent there."""
    label = registry.connector_type(kind).label
    said = (description or error).strip()[:300]
    if error == "access_denied":
        return ConnectRefused(f"Connecting was cancelled or refused on {label}: {said}")
    return ConnectRefused(f"{label} did not connect the account: {said}")


def _digest(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()[:40]


def _authorization(value: object) -> Authorization:
    if not isinstance(value, Authorization) or not value.url.startswith(("https://", "http://")):
        raise ConnectorError("the connector gave no address to sign in at")
    return value
