"""`Job.enter`: a handler makes an intermediate state durable and goes on working.

A test-only machine (start → working → done) whose handlers do what each test sets in
`Step.plan`; rows are committed for real so that other connections see what `enter` wrote.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import ClassVar

import pytest
from sqlalchemy import Engine, delete
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from sixfold.db import make_sessionmaker
from sixfold.jobs import IllegalTransition, Job, Retry, Runner, State, StateGraph
from sixfold.jobs import StateMachineMixin as Machine
from tests.jobs.conftest import FakeClock
from tests.jobs.machines import Crash

LEASE_SECONDS = 60
Plan = Callable[["Step", Job], str | None]


class EnterTestBase(DeclarativeBase):
    pass


class StepState(StateGraph, initial="start", failure="failed"):
    start = State(to=["working", "done"], retry=Retry(base_seconds=5, jitter=0, max_attempts=3))
    working = State(
        to=["done"],
        retry=Retry(base_seconds=7, jitter=0, max_attempts=2),
        on_exhausted="stuck",
    )
    done = State(terminal=True)
    stuck = State(external=True)
    failed = State(terminal=True)


class Step(Machine, EnterTestBase):
    __tablename__ = "jobs_test_enter_step"
    state_graph = StepState

    # What each handler does, set per test with monkeypatch.
    on_start: ClassVar[Plan] = staticmethod(lambda row, job: "done")
    on_working: ClassVar[Plan] = staticmethod(lambda row, job: "done")

    id: Mapped[int] = mapped_column(primary_key=True)
    working_runs: Mapped[int] = mapped_column(default=0)

    def handle_start(self, job: Job) -> str | None:
        return type(self).on_start(self, job)

    def handle_working(self, job: Job) -> str | None:
        self.working_runs += 1
        return type(self).on_working(self, job)


@pytest.fixture(scope="module")
def step_tables(engine: Engine) -> Iterator[Engine]:
    EnterTestBase.metadata.create_all(engine)
    yield engine
    EnterTestBase.metadata.drop_all(engine)


@pytest.fixture
def factory(step_tables: Engine) -> Iterator[sessionmaker[Session]]:
    yield make_sessionmaker(step_tables)
    with make_sessionmaker(step_tables).begin() as session:
        session.execute(delete(Step))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_runner(factory: sessionmaker[Session], clock: FakeClock) -> Callable[[str], Runner]:
    def make(worker_id: str = "worker-a") -> Runner:
        return Runner(
            factory,
            [Step],
            worker_id=worker_id,
            lease_seconds=LEASE_SECONDS,
            clock=clock,
            rng=random.Random(0),
        )

    return make


def plan(monkeypatch: pytest.MonkeyPatch, state: str, handler: Plan) -> None:
    monkeypatch.setattr(Step, f"on_{state}", staticmethod(handler))


def add_step(factory: sessionmaker[Session], clock: FakeClock) -> int:
    with factory.begin() as session:
        row = Step.create(session, now=clock())
        session.flush()
        return row.id


def load(factory: sessionmaker[Session], row_id: int) -> Step:
    with factory() as session:
        row = session.get(Step, row_id)
        assert row is not None
        return row


def test_enter_commits_the_state_while_the_handler_goes_on(
    factory: sessionmaker[Session],
    clock: FakeClock,
    make_runner: Callable[[str], Runner],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    row_id = add_step(factory, clock)
    seen: list[tuple[str, str | None, int]] = []

    def enter_then_look(row: Step, job: Job) -> str:
        clock.advance(10)
        job.enter("working")
        # Another connection sees the new state: it is committed, not just flushed.
        other = load(factory, row_id)
        seen.append((other.state, other.locked_by, other.attempts))
        assert other.state_changed_at == clock() - timedelta(seconds=10)
        # The lease is renewed from this moment, not lost.
        assert other.locked_until == clock() + timedelta(seconds=LEASE_SECONDS)
        assert job.state == "working"
        return "done"

    plan(monkeypatch, "start", enter_then_look)
    assert make_runner("worker-a").run_single_cycle() == 1
    assert seen == [("working", "worker-a", 0)]
    row = load(factory, row_id)
    # The handler's return is a transition from the entered state.
    assert (row.state, row.locked_by, row.working_runs) == ("done", None, 0)


def test_entered_row_keeps_its_lease_against_other_workers(
    factory: sessionmaker[Session],
    clock: FakeClock,
    make_runner: Callable[[str], Runner],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    row_id = add_step(factory, clock)
    claimed_by_other: list[int] = []

    def enter_then_let_another_worker_try(row: Step, job: Job) -> str:
        job.enter("working")
        clock.advance(LEASE_SECONDS - 1)
        claimed_by_other.extend(make_runner("worker-b").claim(Step))
        return "done"

    plan(monkeypatch, "start", enter_then_let_another_worker_try)
    make_runner("worker-a").run_single_cycle()
    assert claimed_by_other == []
    assert load(factory, row_id).state == "done"


def test_enter_refuses_a_transition_the_graph_does_not_allow(
    factory: sessionmaker[Session],
    clock: FakeClock,
    make_runner: Callable[[str], Runner],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    row_id = add_step(factory, clock)
    errors: list[str] = []

    def enter_illegally(row: Step, job: Job) -> str:
        with pytest.raises(IllegalTransition) as refused:
            job.enter("failed")
        errors.append(str(refused.value))
        raise refused.value

    plan(monkeypatch, "start", enter_illegally)
    make_runner("worker-a").run_single_cycle()
    assert errors == ["StepState: 'start' may not go to 'failed'"]
    row = load(factory, row_id)
    # Nothing was entered: the failure counts against the state the row was in.
    assert (row.state, row.attempts, row.locked_by) == ("start", 1, None)
    assert row.last_error is not None
    assert "IllegalTransition" in row.last_error


def test_return_after_enter_is_checked_against_the_entered_state(
    factory: sessionmaker[Session],
    clock: FakeClock,
    make_runner: Callable[[str], Runner],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    row_id = add_step(factory, clock)

    def enter_then_return_the_same_state(row: Step, job: Job) -> str:
        job.enter("working")
        # Allowed from "start", but the return is a transition from "working" now.
        return "working"

    plan(monkeypatch, "start", enter_then_return_the_same_state)
    make_runner("worker-a").run_single_cycle()
    row = load(factory, row_id)
    assert (row.state, row.attempts) == ("working", 1)
    assert row.last_error is not None
    assert "'working' may not go to 'working'" in row.last_error


def test_failure_after_enter_is_recorded_against_the_entered_state(
    factory: sessionmaker[Session],
    clock: FakeClock,
    make_runner: Callable[[str], Runner],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    row_id = add_step(factory, clock)

    def enter_then_fail(row: Step, job: Job) -> str:
        job.enter("working")
        raise RuntimeError("network down after entering")

    def fail_again(row: Step, job: Job) -> str:
        raise RuntimeError("still down")

    plan(monkeypatch, "start", enter_then_fail)
    plan(monkeypatch, "working", fail_again)
    runner = make_runner("worker-a")
    runner.run_single_cycle()
    row = load(factory, row_id)
    # Working's own retry policy applies (7 s), not start's (5 s).
    assert (row.state, row.attempts, row.locked_by) == ("working", 1, None)
    assert row.last_error is not None
    assert row.last_error.startswith("RuntimeError: network down after entering")
    assert row.next_attempt_at == clock() + timedelta(seconds=7)

    clock.advance(7)
    runner.run_single_cycle()
    row = load(factory, row_id)
    # Working's second failure exhausts it, and working's on_exhausted decides where it goes.
    assert (row.state, row.attempts) == ("stuck", 2)
    assert row.last_error is not None
    assert row.last_error.startswith("RuntimeError: still down")


def test_worker_killed_after_enter_resumes_in_the_entered_state(
    factory: sessionmaker[Session],
    clock: FakeClock,
    make_runner: Callable[[str], Runner],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    row_id = add_step(factory, clock)

    def enter_then_die(row: Step, job: Job) -> str:
        job.enter("working")
        raise Crash

    plan(monkeypatch, "start", enter_then_die)
    with pytest.raises(Crash):
        make_runner("worker-a").run_single_cycle()
    row = load(factory, row_id)
    assert (row.state, row.locked_by) == ("working", "worker-a")

    clock.advance(LEASE_SECONDS + 1)
    assert make_runner("worker-b").run_single_cycle() == 1
    row = load(factory, row_id)
    # The next worker ran working's handler; start's was not repeated.
    assert (row.state, row.working_runs) == ("done", 1)


def test_enter_after_the_row_was_taken_over_loses_the_lease(
    factory: sessionmaker[Session],
    clock: FakeClock,
    make_runner: Callable[[str], Runner],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    row_id = add_step(factory, clock)

    def someone_else_decides_first(row: Step, job: Job) -> str:
        with factory.begin() as session:
            other = session.get(Step, row_id)
            assert other is not None
            other.transition_to("stuck", now=clock())
        job.enter("working")
        return "done"

    plan(monkeypatch, "start", someone_else_decides_first)
    make_runner("worker-a").run_single_cycle()
    row = load(factory, row_id)
    assert (row.state, row.attempts, row.last_error) == ("stuck", 0, None)
