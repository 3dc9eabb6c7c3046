"""The per-test rollback really isolates tests, even when the code under test commits.

The second test runs after the first (pytest keeps file order within a backend) and
checks that what the first committed did not survive.
"""

from __future__ import annotations

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

MARKER = "isolation-check"


def test_code_under_test_may_commit(session_factory: sessionmaker[Session]) -> None:
    with session_factory() as session:
        session.execute(
            text(
                "INSERT INTO organisations (name, slug, created_at) "
                "VALUES ('x', :slug, CURRENT_TIMESTAMP)"
            ),
            {"slug": MARKER},
        )
        session.commit()
        with session.begin_nested():
            session.execute(text("SELECT 1"))
        session.commit()


def test_nothing_it_committed_survived(engine: Engine) -> None:
    with engine.connect() as connection:
        count = connection.execute(
            text("SELECT count(*) FROM organisations WHERE slug = :slug"), {"slug": MARKER}
        ).scalar()
    assert count == 0
