"""Rate limits and concurrency caps, shared by every worker process through the database.

Two things keep a call from reaching a network:

- A rate limit in force (`RateLimit` rows). When a connector raises `RateLimited`, the wait
  it read from the response is recorded for its scope: the account (one channel), or with
  `scope="network"` every channel of the connector's kind. Nothing in that scope calls the
  network until the wait is over; other accounts go on as before.
- No free slot (`ConcurrencySlot` rows). A call holds one slot of its account and one of its
  network while it talks to the network, so at most `Concurrency.per_account` calls are in
  flight on an account and `per_network` on the network. A slot is a lease (`holder`,
  `expires_at`): the slot of a worker killed during a call frees itself when the lease runs
  out, like the worker's jobs.

Slots are taken with conditional UPDATEs that are atomic on SQLite (one writer at a time,
the condition repeated in the statement) and on PostgreSQL (`FOR UPDATE SKIP LOCKED`, so
workers racing for slots take different ones instead of waiting for each other); limits are
upserts that keep the later end.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Table, and_, bindparam, case, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from sixfold.channels.base import Connector, RateLimited, concurrency_of
from sixfold.channels.models import ConcurrencySlot, RateLimit

logger = logging.getLogger(__name__)

# A network that says "too many requests" without saying for how long is left alone this long.
DEFAULT_LIMIT_SECONDS = 60.0
# A wait of zero would make every row in the scope call again at once; a wait of a month is a
# misread header. Waits outside these bounds are brought inside them.
MIN_LIMIT_SECONDS = 1.0
MAX_LIMIT_SECONDS = 24 * 3600.0
HOLDER_MAX_CHARS = 250


def account_scope(channel_id: int) -> str:
    return f"account:{channel_id}"


def network_scope(kind: str) -> str:
    return f"network:{kind}"


# Rate limits --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Limit:
    """A rate limit in force: until when, over what, and the network's own words."""

    scope: str
    until: datetime
    message: str

    @property
    def whole_network(self) -> bool:
        return self.scope.startswith("network:")


def describe(limit: Limit, *, label: str, zone: str, now: datetime, then: str) -> str:
    """In words for the people waiting: "Rate limited by Bluesky until 14:05 CET; it will go
    out then. (the network's words)", the time in `zone`, with the day when not today."""
    try:
        local = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        local = ZoneInfo("UTC")
    until = limit.until.astimezone(local)
    same_day = until.date() == now.astimezone(local).date()
    when = until.strftime("%H:%M %Z" if same_day else "%d %b %H:%M %Z")
    scope = f" (every {label} account here)" if limit.whole_network else ""
    said = f" ({limit.message})" if limit.message else ""
    return f"Rate limited by {label}{scope} until {when}; {then}.{said}"


def active_limit(session: Session, *, channel_id: int, kind: str, now: datetime) -> Limit | None:
    """The limit that keeps this channel off its network longest, if any is in force."""
    scopes = [account_scope(channel_id), network_scope(kind)]
    row = session.execute(_LONGEST_LIMIT, {"scopes": scopes, "now": now}).first()
    return Limit(row.scope, row.until, row.message) if row is not None else None


def record_limit(
    session: Session, *, channel_id: int, kind: str, error: RateLimited, now: datetime
) -> Limit:
    """Record the limit a connector ran into; written with the caller's transaction.

    A limit already in force that ends later is kept: two workers that hit the limit at
    once must not shorten each other's wait.
    """
    scope = network_scope(kind) if error.scope == "network" else account_scope(channel_id)
    seconds = DEFAULT_LIMIT_SECONDS if error.retry_after is None else error.retry_after
    until = now + timedelta(seconds=min(max(seconds, MIN_LIMIT_SECONDS), MAX_LIMIT_SECONDS))
    message = str(error)[:2000]
    insert = _insert(session, RateLimit).values(
        scope=scope, until=until, message=message, updated_at=now
    )
    new = insert.excluded
    later = case((RateLimit.until > new.until, RateLimit.until), else_=new.until)
    upsert = insert.on_conflict_do_update(
        index_elements=[RateLimit.scope],
        set_={"until": later, "message": new.message, "updated_at": new.updated_at},
    ).returning(RateLimit.until)
    kept: datetime = session.execute(upsert).scalar_one()
    return Limit(scope, kept, message)


# Concurrency slots --------------------------------------------------------------------------


@dataclass(frozen=True)
class SlotLease:
    """Slots held together by one call; `holder` is unique to the call."""

    holder: str
    slot_ids: tuple[int, ...]


def caps_of(connector: type[Connector] | Connector, *, channel_id: int) -> list[tuple[str, int]]:
    """The scopes a call through `connector` on this channel needs a slot in, with how many
    slots each has. The account comes first, always: every caller takes slots in one order."""
    concurrency = concurrency_of(connector)
    return [
        (account_scope(channel_id), concurrency.per_account),
        (network_scope(connector.kind), concurrency.per_network),
    ]


def acquire_for(
    session: Session,
    connector: Connector,
    *,
    channel_id: int,
    worker_id: str,
    now: datetime,
    expires_at: datetime,
) -> SlotLease | None:
    """`acquire` the slots a call through `connector` on this channel needs."""
    caps = caps_of(connector, channel_id=channel_id)
    return acquire(session, caps, holder=new_holder(worker_id), now=now, expires_at=expires_at)


def has_room(session: Session, caps: Sequence[tuple[str, int]], *, now: datetime) -> bool:
    """Whether every scope of `caps` has a free slot now (a look, not a claim: the slot is
    taken, or found taken after all, right before the call)."""
    rows = session.execute(_HELD, {"scopes": [scope for scope, _ in caps], "now": now})
    held = {scope: int(count) for scope, count in rows}
    return all(held.get(scope, 0) < max(cap, 1) for scope, cap in caps)


def new_holder(worker_id: str) -> str:
    # The random part makes the holder unique per call, so a call whose lease ran out can
    # never release a slot that another call has taken since.
    return f"{secrets.token_hex(8)} {worker_id}"[:HOLDER_MAX_CHARS]


def acquire(
    session: Session,
    caps: Sequence[tuple[str, int]],
    *,
    holder: str,
    now: datetime,
    expires_at: datetime,
) -> SlotLease | None:
    """Take one free slot in every scope of `caps`, or none at all (None).

    Written with the caller's transaction: the slots count as taken for other workers once
    the caller commits, which it must do before the call they guard.
    """
    taken: list[int] = []
    for scope, cap in caps:
        slot_id = _take(session, scope, max(cap, 1), holder=holder, now=now, until=expires_at)
        if slot_id is None:
            release(session, SlotLease(holder, tuple(taken)))
            return None
        taken.append(slot_id)
    return SlotLease(holder, tuple(taken))


def release(session: Session, lease: SlotLease) -> None:
    """Give the slots back (with the caller's transaction), unless their lease ran out and
    another call holds them now."""
    if lease.slot_ids:
        session.execute(_RELEASE, {"ids": list(lease.slot_ids), "held_by": lease.holder})


@contextmanager
def held(session: Session, lease: SlotLease) -> Iterator[SlotLease]:
    """Hold `lease` for the block, then give it back.

    When the block ends normally, the release joins the block's own work and is committed
    with it (a job's result and its slot become visible together). When the block raises,
    the session is rolled back first (the job runner would roll it back anyway) and the
    release is committed alone: otherwise it would be lost with the rollback, and on SQLite
    a release through another connection would wait for this transaction's own write lock.
    """
    try:
        yield lease
    except Exception:
        _release_alone(session, lease)
        raise
    release(session, lease)


def _release_alone(session: Session, lease: SlotLease) -> None:
    try:
        session.rollback()
        release(session, lease)
        session.commit()
    except SQLAlchemyError:
        # The lease runs out by itself; the error that brought us here matters more.
        logger.warning("could not release slots %s of %s", lease.slot_ids, lease.holder)


def _take(
    session: Session, scope: str, cap: int, *, holder: str, now: datetime, until: datetime
) -> int | None:
    slot_id = _claim_free(session, scope, cap, holder=holder, now=now, until=until)
    if slot_id is None and _slot_count(session, scope, cap) < cap:
        # First use of the scope, or its cap was raised: add the missing slots, free.
        _add_slots(session, scope, cap)
        slot_id = _claim_free(session, scope, cap, holder=holder, now=now, until=until)
    return slot_id


def _claim_free(
    session: Session, scope: str, cap: int, *, holder: str, now: datetime, until: datetime
) -> int | None:
    params = {"in_scope": scope, "below": cap, "now": now, "new_holder": holder, "until": until}
    if _dialect(session) == "postgresql":
        slot_id: int | None = session.scalar(_LOCK_FIRST_FREE, params)
        if slot_id is not None:
            session.execute(_TAKE_BY_ID, {**params, "slot_id": slot_id})
        return slot_id
    found: int | None = session.scalar(_TAKE_FIRST_FREE, params)
    return found


def _slot_count(session: Session, scope: str, cap: int) -> int:
    count = session.scalar(select(func.count()).where(_SLOTS.c.scope == scope, _SLOTS.c.slot < cap))
    return int(count or 0)


def _add_slots(session: Session, scope: str, cap: int) -> None:
    rows = [{"scope": scope, "slot": n, "holder": None, "expires_at": None} for n in range(cap)]
    insert = _insert(session, ConcurrencySlot).values(rows)
    session.execute(insert.on_conflict_do_nothing(index_elements=["scope", "slot"]))


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def _insert(session: Session, model: type[Any]) -> Any:
    """INSERT with ON CONFLICT, in the dialect of the session's database."""
    if _dialect(session) == "postgresql":
        return postgresql.insert(model)
    return sqlite.insert(model)


# The statements below run for every call to a network, and building them costs more than
# running them: they are built once, with parameters. They work on the tables, not the
# models, because nothing in the session needs to learn of these updates.
_LIMITS = cast(Table, RateLimit.__table__)
_SLOTS = cast(Table, ConcurrencySlot.__table__)
_LONGEST_LIMIT = (
    select(_LIMITS.c.scope, _LIMITS.c.until, _LIMITS.c.message)
    .where(
        _LIMITS.c.scope.in_(bindparam("scopes", expanding=True)), _LIMITS.c.until > bindparam("now")
    )
    .order_by(_LIMITS.c.until.desc())
    .limit(1)
)
_HELD = (
    select(_SLOTS.c.scope, func.count())
    .where(
        _SLOTS.c.scope.in_(bindparam("scopes", expanding=True)),
        _SLOTS.c.holder.is_not(None),
        _SLOTS.c.expires_at > bindparam("now"),
    )
    .group_by(_SLOTS.c.scope)
)
_FREE = and_(
    _SLOTS.c.scope == bindparam("in_scope"),
    _SLOTS.c.slot < bindparam("below"),
    or_(_SLOTS.c.holder.is_(None), _SLOTS.c.expires_at <= bindparam("now")),
)
_FIRST_FREE = select(_SLOTS.c.id).where(_FREE).order_by(_SLOTS.c.slot).limit(1).correlate(None)
_TAKE = _SLOTS.update().values(holder=bindparam("new_holder"), expires_at=bindparam("until"))
# PostgreSQL: lock one free slot, skipping those other workers are taking right now, then
# take it. (A single UPDATE with the locking SELECT as its subquery may run the subquery once
# per row it scans, and so take several slots.)
_LOCK_FIRST_FREE = _FIRST_FREE.with_for_update(skip_locked=True)
_TAKE_BY_ID = _TAKE.where(_SLOTS.c.id == bindparam("slot_id"))
# SQLite has no row locks: one conditional UPDATE is atomic under its write lock, and the
# condition repeated outside the subquery keeps it so when several processes race.
_TAKE_FIRST_FREE = _TAKE.where(_SLOTS.c.id.in_(_FIRST_FREE), _FREE).returning(_SLOTS.c.id)
_RELEASE = (
    _SLOTS.update()
    .where(
        _SLOTS.c.id.in_(bindparam("ids", expanding=True)),
        _SLOTS.c.holder == bindparam("held_by"),
    )
    .values(holder=None, expires_at=None)
)
