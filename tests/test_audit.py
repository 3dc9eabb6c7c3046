from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from sixfold import audit


def _write(db: Session, count: int) -> list[audit.AuditEntry]:
    actor = audit.Actor(id=None, label="tester", ip_address="127.0.0.1")
    return [
        audit.record(
            db,
            actor,
            "test.action",
            target_type="thing",
            target_id=i,
            details={"n": i, "note": "ünïcode"},
        )
        for i in range(count)
    ]


def test_chain_links_each_entry_to_the_previous(db: Session) -> None:
    entries = _write(db, 3)
    assert entries[0].prev_hash == audit.GENESIS_HASH
    assert [e.prev_hash for e in entries[1:]] == [e.hash for e in entries[:-1]]
    db.expire_all()
    report = audit.verify_chain(db)
    assert report.ok
    assert report.checked == 3


def test_database_refuses_updates_and_deletes(db: Session) -> None:
    _write(db, 1)
    with pytest.raises(DBAPIError, match="append-only"), db.begin_nested():
        db.execute(text("UPDATE audit_entries SET action = 'forged'"))
    with pytest.raises(DBAPIError, match="append-only"), db.begin_nested():
        db.execute(text("DELETE FROM audit_entries"))


def _drop_guard(db: Session) -> None:
    if db.get_bind().dialect.name == "postgresql":
        db.execute(text("ALTER TABLE audit_entries DISABLE TRIGGER audit_entries_append_only"))
    else:
        db.execute(text("DROP TRIGGER audit_entries_no_update"))
        db.execute(text("DROP TRIGGER audit_entries_no_delete"))


def test_verify_names_the_first_altered_entry(db: Session) -> None:
    entries = _write(db, 5)
    _drop_guard(db)
    db.execute(
        text("UPDATE audit_entries SET action = 'forged' WHERE seq = :seq"), {"seq": entries[2].seq}
    )
    db.expire_all()
    report = audit.verify_chain(db)
    assert report.first_broken == entries[2].seq
    assert "altered" in report.reason


def test_verify_names_a_removed_entry(db: Session) -> None:
    seqs = [entry.seq for entry in _write(db, 4)]
    _drop_guard(db)
    db.execute(text("DELETE FROM audit_entries WHERE seq = :seq"), {"seq": seqs[1]})
    db.expire_all()
    report = audit.verify_chain(db)
    assert report.first_broken == seqs[1]
    assert "missing" in report.reason


def test_verify_notices_a_truncated_tail(db: Session) -> None:
    seqs = [entry.seq for entry in _write(db, 3)]
    _drop_guard(db)
    db.execute(text("DELETE FROM audit_entries WHERE seq = :seq"), {"seq": seqs[-1]})
    db.expire_all()
    assert audit.verify_chain(db).first_broken == seqs[-1]
