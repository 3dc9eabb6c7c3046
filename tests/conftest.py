"""Shared fixtures: one real database per backend for the run, a rollback per test.

Every database test runs on SQLite and on PostgreSQL. PostgreSQL is a throwaway cluster the
run starts itself (tests/pgcluster.py), or the server named by SIXFOLD_TEST_POSTGRES_URL.
Where no PostgreSQL can be had the PostgreSQL tests fail; a developer can opt out on their own
machine with SIXFOLD_TEST_BACKENDS=sqlite, which CI refuses.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from sixfold.db import make_engine, migrate
from tests.pgcluster import Cluster, start_cluster

ALL_BACKENDS = ("sqlite", "postgresql")

# The local Bluesky PDS (tests/bluesky): started on first use, stopped when the run ends.
pytest_plugins = ["tests.bluesky.plugin"]


def selected_backends() -> tuple[str, ...]:
    wanted = os.environ.get("SIXFOLD_TEST_BACKENDS")
    if not wanted:
        return ALL_BACKENDS
    if os.environ.get("CI"):
        raise pytest.UsageError("CI runs every backend: unset SIXFOLD_TEST_BACKENDS")
    return tuple(name.strip() for name in wanted.split(",") if name.strip())


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    given = os.environ.get("SIXFOLD_TEST_POSTGRES_URL")
    if given:
        yield given
        return
    cluster: Cluster = start_cluster()
    try:
        yield cluster.url
    finally:
        cluster.stop()


def _fresh_postgres_database(server_url: str, name: str) -> str:
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return server_url.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture(scope="session", params=selected_backends())
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The URL of an empty database of one backend, created once for the run."""
    if request.param == "sqlite":
        path: Path = tmp_path_factory.mktemp("sqlite") / "sixfold.db"
        return f"sqlite:///{path}"
    server = request.getfixturevalue("postgres_server_url")
    return _fresh_postgres_database(server, "sixfold_test")


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on a database migrated to head."""
    eng = make_engine(database_url)
    migrate(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def backend(engine: Engine) -> str:
    return engine.dialect.name


@pytest.fixture
def session_factory(engine: Engine) -> Iterator[sessionmaker[Session]]:
    """Sessions that share one outer transaction, rolled back after the test.

    Code under test may commit freely: its commits release savepoints, and nothing it
    writes outlives the test.
    """
    connection = engine.connect()
    outer = connection.begin()
    if engine.dialect.name == "sqlite":
        # Python's sqlite3 driver defers BEGIN until the first write, so a SAVEPOINT issued
        # before it would open (and its RELEASE commit) a real transaction. Beginning
        # explicitly makes every savepoint nest inside the transaction rolled back below.
        connection.exec_driver_sql("BEGIN")
    factory = sessionmaker(
        bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
    )
    yield factory
    outer.rollback()
    connection.close()


@pytest.fixture
def db(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    with session_factory() as session:
        yield session
