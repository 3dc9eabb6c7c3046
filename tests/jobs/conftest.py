"""Fixtures for the job runner: real commits on the run's databases, an injected clock."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, delete
from sqlalchemy.orm import Session, sessionmaker

from sixfold.db import make_sessionmaker
from sixfold.jobs import Runner
from tests.jobs.machines import Delivery, FakeRemote, Import, JobsTestBase, SendLog

START = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)


class FakeClock:
    """Time that moves only when a test says so; shared safely between threads."""

    def __init__(self, start: datetime = START) -> None:
        self._now = start
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += timedelta(seconds=seconds)


@pytest.fixture(scope="module")
def job_tables(engine: Engine) -> Iterator[Engine]:
    # Runners need real commits seen from several connections, which the rollback-per-test
    # session cannot give; these tables live only as long as this test module.
    JobsTestBase.metadata.create_all(engine)
    yield engine
    JobsTestBase.metadata.drop_all(engine)


@pytest.fixture
def factory(job_tables: Engine) -> Iterator[sessionmaker[Session]]:
    yield make_sessionmaker(job_tables)
    with make_sessionmaker(job_tables).begin() as session:
        for model in (SendLog, Delivery, Import):
            session.execute(delete(model))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def remote(monkeypatch: pytest.MonkeyPatch) -> FakeRemote:
    fresh = FakeRemote()
    monkeypatch.setattr(Delivery, "remote", fresh)
    return fresh


@pytest.fixture
def make_runner(
    factory: sessionmaker[Session], clock: FakeClock, remote: FakeRemote
) -> Callable[..., Runner]:
    def make(worker_id: str = "worker-a", **options: Any) -> Runner:
        options.setdefault("models", [Delivery, Import])
        options.setdefault("lease_seconds", 60)
        return Runner(factory, worker_id=worker_id, clock=clock, rng=random.Random(0), **options)

    return make
