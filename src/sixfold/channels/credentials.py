"""Channel credentials over their lifetime: sealed at rest, renewed once across processes.

Apart from service.py because this is the one place that reads or writes
`Channel.credentials`: sealing binds the ciphertext to its channel, and renewal locks the
channel's row so that two processes holding the same refresh token spend it once.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text, update
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from sixfold import audit
from sixfold.channels.base import CredentialsError, RefreshCredentials, TransientError
from sixfold.channels.models import Channel, record_event
from sixfold.config import Settings
from sixfold.crypto import SecretBox

# How long a renewal waits for another process's (PostgreSQL; SQLite waits busy_timeout, 30 s):
# longer than the token call it waits out (channels/tokens.py), shorter than a job's lease.
RENEW_LOCK_WAIT_SECONDS = 30
# How often a renewal the network answered is saved again when its own commit failed.
RESCUE_ATTEMPTS = 3

logger = logging.getLogger(__name__)


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
) -> dict[str, Any] | None:
    """Store credentials a connector renewed, committed at once in a transaction of their own;
    the credentials now stored (None when the channel was removed).

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
            return None
        stored = open_credentials(settings, channel)
        merged = _as_stored(merge_credentials(stored, renewed))
        if merged == stored:
            return stored
        sealed, audited = _seal_renewed(own, settings, channel, merged, keys=renewed)
    _after_renewal(session, channel_id, sealed, keys=renewed, audited=audited)
    return merged


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
    another process already renewed the ones `held`. `held` is compared with the stored
    credentials as a whole dict, so a connector hands back what it was given.

    The channel's row stays locked from reading the stored credentials until the renewed
    ones are committed, so a second process waits, then finds credentials other than those
    it held and uses them instead of spending a refresh token the network has retired. The
    lock is held across the network's token call, which the connectors keep short
    (channels/tokens.py). The caller's uncommitted writes are a hazard as for
    `save_renewed_credentials`.

    Once `refresh` has returned, its answer is never dropped: the network may have retired
    the refresh token stored, so the next renewal would be refused and the channel marked
    "reconnect needed". A renewal whose audit entry cannot be written in time is committed
    without it and recorded just after; one whose commit fails is saved again in a fresh
    transaction (`RESCUE_ATTEMPTS` times) and returned as if nothing had happened.
    """
    answered: list[dict[str, Any]] = []

    def answering(stored: dict[str, Any]) -> dict[str, Any]:
        answered.append(refresh(stored))
        return answered[-1]

    try:
        renewal = _renew_locked(session, channel_id, held, answering, settings=settings)
    except SQLAlchemyError as error:
        if answered:
            return _keep_answered(session, channel_id, answered[0], settings=settings)
        if isinstance(error, OperationalError):
            # Mostly the lock was not had in time: another process's renewal is slow. The
            # stored credentials are as they were, so trying again later is the answer.
            raise TransientError("The sign-in is being renewed elsewhere; try again.") from error
        raise
    if answered:
        _after_renewal(
            session, channel_id, renewal.sealed, keys=answered[0], audited=renewal.audited
        )
    return renewal.credentials


@dataclass(frozen=True)
class _Renewal:
    credentials: dict[str, Any]
    sealed: str | None = None
    audited: bool = True


def _renew_locked(
    session: Session,
    channel_id: int,
    held: dict[str, Any],
    refresh: RefreshCredentials,
    *,
    settings: Settings,
) -> _Renewal:
    with Session(session.get_bind()) as own, own.begin():
        channel = _locked_channel(own, channel_id, wait_seconds=RENEW_LOCK_WAIT_SECONDS)
        if channel is None:
            raise CredentialsError("The channel was removed; there is nothing to renew.")
        stored = open_credentials(settings, channel)
        if stored != held:
            return _Renewal(stored)
        renewed = refresh(stored)
        merged = _as_stored(merge_credentials(stored, renewed))
        sealed, audited = _seal_renewed(own, settings, channel, merged, keys=renewed)
        return _Renewal(merged, sealed, audited)


def _keep_answered(
    session: Session, channel_id: int, renewed: dict[str, Any], *, settings: Settings
) -> dict[str, Any]:
    """Save what the network answered after the renewal's own transaction failed to."""
    failure: SQLAlchemyError | None = None
    for _ in range(RESCUE_ATTEMPTS):
        try:
            kept = save_renewed_credentials(session, channel_id, renewed, settings=settings)
        except SQLAlchemyError as error:
            failure = error
            continue
        if kept is None:
            raise CredentialsError("The channel was removed; there is nothing to renew.")
        return kept
    logger.error("channel %s: renewed credentials could not be saved", channel_id)
    raise TransientError("The renewed sign-in could not be saved; try again.") from failure


def _as_stored(credentials: dict[str, Any]) -> dict[str, Any]:
    # Through JSON, as it is stored: the connector holds it and hands it back as `held`,
    # which must then compare equal to what a later call finds stored.
    kept: dict[str, Any] = json.loads(json.dumps(credentials))
    return kept


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
) -> tuple[str | None, bool]:
    """Seal `credentials` on the locked channel and record it: the sealed value, and
    whether the audit entry was written."""
    seal_credentials(settings, channel, credentials)
    sealed = channel.credentials
    own.flush()
    try:
        with own.begin_nested():
            _record_renewal(own, channel, keys=keys)
    except OperationalError:
        # The audit head was not had in time (PostgreSQL's lock_timeout; SQLite's write
        # lock is held already). The credentials are committed all the same, since the
        # network may have retired the ones stored, and the entry is written after.
        return sealed, False
    return sealed, True


def _record_renewal(
    own: Session, channel: Channel, *, keys: dict[str, Any], late: bool = False
) -> None:
    record_event(
        own,
        audit.SYSTEM,
        "channel.credentials_renewed",
        channel,
        {"keys": sorted(keys), **({"recorded_after_saving": True} if late else {})},
    )


def _after_renewal(
    session: Session, channel_id: int, sealed: str | None, *, keys: dict[str, Any], audited: bool
) -> None:
    _show_sealed(session, channel_id, sealed)
    if audited:
        return
    try:
        with Session(session.get_bind()) as own, own.begin():
            _limit_lock_wait(own, RENEW_LOCK_WAIT_SECONDS)
            channel = own.get(Channel, channel_id)
            if channel is not None:
                _record_renewal(own, channel, keys=keys, late=True)
    except OperationalError:
        logger.error("channel %s: renewed credentials saved without an audit entry", channel_id)


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
