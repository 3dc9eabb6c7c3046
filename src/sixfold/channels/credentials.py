"""Channel credentials over their lifetime: sealed at rest, renewed once across processes.

Apart from service.py because this is the one place that reads or writes
`Channel.credentials`: sealing binds the ciphertext to its channel, and renewal locks the
channel's row so that two processes holding the same refresh token spend it once.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import text, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from sixfold import audit
from sixfold.channels.base import CredentialsError, RefreshCredentials, TransientError
from sixfold.channels.models import Channel
from sixfold.config import Settings
from sixfold.crypto import SecretBox

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
