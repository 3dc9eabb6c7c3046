"""Append-only, hash-chained audit log.

Each entry stores the SHA-256 of its own content together with the hash of the entry before
it, so changing, removing or reordering any entry breaks the chain from that point on.
A one-row `audit_head` table serialises writers: the row lock (PostgreSQL) or the write lock
(SQLite) taken by updating it guarantees that two transactions never chain onto the same
predecessor.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, cast

from sqlalchemy import JSON, ForeignKey, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from sixfold.db import Base, UTCDateTime, utcnow

GENESIS_HASH = "0" * 64


class AuditHead(Base):
    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_seq: Mapped[int] = mapped_column(default=0)
    last_hash: Mapped[str] = mapped_column(String(64), default=GENESIS_HASH)


class AuditEntry(Base):
    __tablename__ = "audit_entries"

    # The sequence number is assigned from audit_head, not by the database, so that the
    # chain order is exactly the order in which entries were hashed.
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    actor: Mapped[str] = mapped_column(String(320))
    action: Mapped[str] = mapped_column(String(100), index=True)
    target_type: Mapped[str] = mapped_column(String(100), default="")
    target_id: Mapped[str] = mapped_column(String(200), default="")
    target: Mapped[str] = mapped_column(String(500), default="")
    ip_address: Mapped[str] = mapped_column(String(64), default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    def content_hash(self) -> str:
        return compute_hash(self)


@dataclass(frozen=True)
class Actor:
    """Who did something: a person, or the system itself (id None)."""

    id: int | None
    label: str
    ip_address: str = ""


SYSTEM = Actor(id=None, label="system")


class _EntryFields(Protocol):
    seq: int
    at: datetime
    actor_id: int | None
    actor: str
    action: str
    target_type: str
    target_id: str
    target: str
    ip_address: str
    details: dict[str, Any]
    prev_hash: str
    hash: str


def compute_hash(entry: _EntryFields) -> str:
    content = {
        "seq": entry.seq,
        "at": entry.at.isoformat(),
        "actor_id": entry.actor_id,
        "actor": entry.actor,
        "action": entry.action,
        "target_type": entry.target_type,
        "target_id": entry.target_id,
        "target": entry.target,
        "ip_address": entry.ip_address,
        "details": entry.details,
        "prev_hash": entry.prev_hash,
    }
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def record(
    session: Session,
    actor: Actor,
    action: str,
    *,
    target_type: str = "",
    target_id: str | int = "",
    target: str = "",
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append an entry in the caller's transaction: it lands if and only if the action does."""
    head = _locked_head(session)
    entry = AuditEntry(
        seq=head.last_seq + 1,
        at=utcnow(),
        actor_id=actor.id,
        actor=actor.label,
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        target=target[:500],
        ip_address=actor.ip_address,
        # A JSON round trip makes the hashed form equal to what the database returns.
        details=json.loads(json.dumps(details or {}, default=str)),
        prev_hash=head.last_hash,
    )
    entry.hash = compute_hash(entry)
    head.last_seq, head.last_hash = entry.seq, entry.hash
    session.add(entry)
    session.flush()
    return entry


def _locked_head(session: Session) -> AuditHead:
    head = session.scalars(select(AuditHead).where(AuditHead.id == 1).with_for_update()).first()
    if head is None:
        head = AuditHead(id=1, last_seq=0, last_hash=GENESIS_HASH)
        session.add(head)
        session.flush()
    return head


@dataclass(frozen=True)
class ChainReport:
    checked: int
    first_broken: int | None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.first_broken is None


def iter_entries(session: Session, batch: int = 5_000) -> Iterator[_EntryFields]:
    """Every entry in chain order, read in batches of plain rows (not ORM objects) so a
    long log is walked in constant memory."""
    table = AuditEntry.__table__
    last = 0
    while True:
        rows = session.execute(
            select(table).where(table.c.seq > last).order_by(table.c.seq).limit(batch)
        ).all()
        if not rows:
            return
        for row in rows:
            yield cast(_EntryFields, row)
        last = rows[-1].seq


def verify_chain(session: Session) -> ChainReport:
    """Walk the chain from the start and name the first entry that does not fit."""
    expected_prev, expected_seq, checked = GENESIS_HASH, 1, 0
    for entry in iter_entries(session):
        problem = _entry_problem(entry, expected_seq, expected_prev)
        if problem:
            # A gap is reported at the missing number, anything else at the entry itself.
            broken = min(entry.seq, expected_seq)
            return ChainReport(checked=checked, first_broken=broken, reason=problem)
        expected_prev, expected_seq, checked = entry.hash, entry.seq + 1, checked + 1
    head = session.get(AuditHead, 1)
    if head is not None and (head.last_seq, head.last_hash) != (expected_seq - 1, expected_prev):
        return ChainReport(
            checked=checked,
            first_broken=expected_seq,
            reason=f"the log ends at entry {expected_seq - 1} but {head.last_seq} were written",
        )
    return ChainReport(checked=checked, first_broken=None)


def _entry_problem(entry: _EntryFields, expected_seq: int, expected_prev: str) -> str:
    if entry.seq != expected_seq:
        return f"entry {expected_seq} is missing (next present is {entry.seq})"
    if entry.prev_hash != expected_prev:
        return "its link to the previous entry does not match (an entry before it changed)"
    if compute_hash(entry) != entry.hash:
        return "its content does not match its hash (the entry was altered)"
    return ""
