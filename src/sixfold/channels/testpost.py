"""The test post a settings manager sends from a channel's page to see the connection work.

It goes straight through the connector, not through publishing: it is the person's explicit
action on the account, not a post of the organisation, so it needs no review and no schedule.
Each test post gets a fresh idempotency key. The last one's remote id is kept in the channel's
settings, and only that id may be deleted through Sixfold.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from sixfold import audit
from sixfold.channels import registry, service
from sixfold.channels.base import (
    AmbiguousError,
    ConnectorError,
    CredentialsError,
    OutgoingPost,
    TransientError,
)
from sixfold.channels.connect import wait_words
from sixfold.channels.models import Channel, ChannelStatus, record_event
from sixfold.config import Settings
from sixfold.errors import Conflict, NotFound

TEXT = "Sixfold connection test — {time}; this post can be deleted"
SETTING = "test_post"


@dataclass(frozen=True)
class Outcome:
    """What the page tells the person; a refusal is an answer, not an error page."""

    ok: bool
    message: str
    status_code: int = 200


def last_test_post(channel: Channel) -> dict[str, Any] | None:
    value = (channel.settings or {}).get(SETTING)
    return value if isinstance(value, dict) and value.get("remote_id") else None


def send_test_post(
    session: Session, channel: Channel, *, settings: Settings, actor: audit.Actor, now: datetime
) -> Outcome:
    if channel.status == ChannelStatus.DISABLED:
        raise Conflict(f"{channel.name} is disabled: nothing is sent to it.")
    text = TEXT.format(time=now.strftime("%d %b %Y %H:%M UTC"))
    key = f"test-post-{channel.id}-{uuid.uuid4().hex}"
    try:
        connector = service.connector_for(session, channel.id, settings=settings)
        remote = connector.publish(OutgoingPost(text=text, author_name=actor.label), key)
    except ConnectorError as error:
        return _failed(session, channel, "channel.test_post_failed", error, settings, actor)
    url = remote.url if remote.url.startswith(("https://", "http://")) else ""
    record = {"remote_id": remote.remote_id, "url": url, "at": now.isoformat()}
    channel.settings = {**(channel.settings or {}), SETTING: record}
    record_event(session, actor, "channel.test_post", channel, record)
    where = f" at {url}" if url else ""
    return Outcome(True, f"The test post is on {_label(channel)}{where}.")


def delete_test_post(
    session: Session,
    channel: Channel,
    remote_id: str,
    *,
    settings: Settings,
    actor: audit.Actor,
) -> Outcome:
    last = last_test_post(channel)
    # Only the post Sixfold itself sent as a test may be deleted from here: the form's id is
    # whatever the browser sends, and must not reach any other post on the account.
    if last is None or remote_id != last["remote_id"]:
        raise NotFound("That is not this channel's test post.")
    try:
        service.connector_for(session, channel.id, settings=settings).delete(remote_id)
    except ConnectorError as error:
        return _failed(session, channel, "channel.test_post_delete_failed", error, settings, actor)
    channel.settings = {k: v for k, v in (channel.settings or {}).items() if k != SETTING}
    record_event(session, actor, "channel.test_post_deleted", channel, last)
    return Outcome(True, "The test post was deleted.")


def _failed(
    session: Session,
    channel: Channel,
    action: str,
    error: ConnectorError,
    settings: Settings,
    actor: audit.Actor,
) -> Outcome:
    outcome = _explain(channel, error)
    if isinstance(error, CredentialsError):
        service.mark_reconnect_needed(
            session, channel.id, str(error) or "sign in again", base_url=settings.base_url
        )
    record_event(session, actor, action, channel, {"message": outcome.message[:500]})
    return outcome


def _explain(channel: Channel, error: ConnectorError) -> Outcome:
    label = _label(channel)
    if isinstance(error, CredentialsError):
        return Outcome(False, f"{label} refused the channel's sign-in: {error}. Reconnect it.", 422)
    if isinstance(error, TransientError):
        return Outcome(False, f"{label} is busy: {wait_words(error.retry_after)}.", 429)
    if isinstance(error, AmbiguousError):
        return Outcome(
            False,
            f"No answer from {label}: the post may have gone out. Look at the account before "
            "trying again.",
            504,
        )
    return Outcome(False, f"{label} refused: {error}", 502)


def _label(channel: Channel) -> str:
    types = registry.connector_types()
    return types[channel.kind].label if channel.kind in types else channel.kind
