"""The runner, stepped one cycle at a time on SQLite and on PostgreSQL."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from sixfold.jobs import Job, Runner, StateMachineMixin
from tests.jobs.conftest import FakeClock
from tests.jobs.machines import Crash, Delivery, FakeRemote, Import, SendLog

MakeRunner = Callable[..., Runner]
M = TypeVar("M", bound=StateMachineMixin)


def add_deliveries(
    factory: sessionmaker[Session], clock: FakeClock, count: int = 1, **values: Any
) -> list[int]:
    """Factory: `count` committed deliveries in their initial state."""
    with factory.begin() as session:
        rows = [Delivery.create(session, now=clock(), **values) for _ in range(count)]
        session.flush()
        return [row.id for row in rows]


def load(factory: sessionmaker[Session], model: type[M], row_id: int) -> M:
    with factory() as session:
        row = session.get(model, row_id)
        assert row is not None
        return row


def send_logs(factory: sessionmaker[Session]) -> list[tuple[int, str]]:
    with factory() as session:
        rows = session.execute(select(SendLog.delivery_id, SendLog.worker_id).order_by(SendLog.id))
        return [(delivery_id, worker_id) for delivery_id, worker_id in rows]


def use_hook(monkeypatch: pytest.MonkeyPatch, hook: Callable[[Delivery, Job], None]) -> None:
    monkeypatch.setattr(Delivery, "before_send", hook)


def test_row_walks_its_graph_one_cycle_at_a_time(
    factory: sessionmaker[Session], clock: FakeClock, make_runner: MakeRunner, remote: FakeRemote
) -> None:
    [delivery_id] = add_deliveries(factory, clock, body="first post")
    runner = make_runner()

    assert runner.run_single_cycle() == 1
    row = load(factory, Delivery, delivery_id)
    assert (row.state, row.attempts, row.locked_by) == ("sending", 0, None)
    assert row.next_attempt_at == clock()

    assert runner.run_single_cycle() == 1
    row = load(factory, Delivery, delivery_id)
    assert (row.state, row.next_attempt_at, row.locked_until) == ("sent", None, None)
    assert row.is_finished
    assert remote.posts == {f"delivery-{delivery_id}": "first post"}
    assert send_logs(factory) == [(delivery_id, "worker-a")]

    assert runner.run_single_cycle() == 0


def test_row_is_invisible_to_workers_until_the_causing_transaction_commits(
    factory: sessionmaker[Session], clock: FakeClock, make_runner: MakeRunner, backend: str
) -> None:
    runner = make_runner()
    with factory() as session:
        Delivery.create(session, now=clock())
        if backend == "postgresql":
            # On SQLite a flushed write holds the database lock, so the runner would wait.
            session.flush()
        assert runner.run_single_cycle() == 0
        session.commit()
    assert runner.run_single_cycle() == 1


def test_not_before_delays_the_first_attempt(
    factory: sessionmaker[Session], clock: FakeClock, make_runner: MakeRunner
) -> None:
    with factory.begin() as session:
        Delivery.create(session, now=clock(), not_before=clock() + timedelta(minutes=5))
    runner = make_runner()
    assert runner.run_single_cycle() == 0
    clock.advance(300)
    assert runner.run_single_cycle() == 1


def test_an_idle_worker_rests_until_the_next_row_falls_due(
    factory: sessionmaker[Session], clock: FakeClock, make_runner: MakeRunner
) -> None:
    runner = make_runner(idle_seconds=1.0)
    assert runner.rest_seconds() == 1.0  # nothing at all: the full rest
    with factory.begin() as session:
        Delivery.create(session, now=clock(), not_before=clock() + timedelta(seconds=0.25))
        Delivery.create(session, now=clock(), not_before=clock() + timedelta(minutes=5))
    assert runner.rest_seconds() == pytest.approx(0.25)
    clock.advance(0.3)
    # Due already (a cycle just missed it): a short pause, not a busy loop.
    assert runner.rest_seconds() == pytest.approx(0.01)


def test_none_keeps_the_state_and_tries_again_later(
    factory: sessionmaker[Session], clock: FakeClock, make_runner: MakeRunner
) -> None:
    [delivery_id] = add_deliveries(factory, clock, ready=False)
    runner = make_runner()
    runner.run_single_cycle()
    runner.run_single_cycle()
    row = load(factory, Delivery, delivery_id)
    assert (row.state, row.attempts, row.last_error) == ("sending", 0, None)
    assert row.next_attempt_at == clock() + timedelta(seconds=30)  # its poll_seconds

    clock.advance(29)
    assert runner.run_single_cycle() == 0
    clock.advance(1)
    assert runner.run_single_cycle() == 1


def test_handler_can_choose_when_to_be_asked_again(
    factory: sessionmaker[Session],
    clock: FakeClock,
    make_runner: MakeRunner,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    [delivery_id] = add_deliveries(factory, clock, ready=False)
    wake = clock() + timedelta(hours=2)
    use_hook(monkeypatch, lambda row, job: job.check_again_at(wake))
    runner = make_runner()
    runner.run_single_cycle()
    runner.run_single_cycle()
    assert load(factory, Delivery, delivery_id).next_attempt_at == wake


def test_failure_records_the_error_and_backs_off_exponentially(
    factory: sessionmaker[Session], clock: FakeClock, make_runner: MakeRunner, remote: FakeRemote
) -> None:
    [delivery_id] = add_deliveries(factory, clock, fail_times=2)
    runner = make_runner()
    runner.run_single_cycle()  # queued -> sending

    assert runner.run_single_cycle() == 1
    row = load(factory, Delivery, delivery_id)
    assert (row.state, row.attempts, row.locked_by) == ("sending", 1, None)
    assert row.last_error is not None
    assert row.last_error.startswith("RuntimeError: remote down (attempt 1)")
    assert "Traceback" in row.last_error
    assert row.next_attempt_at == clock() + timedelta(seconds=10)
    # The failed attempt's side effects were rolled back with it.
    assert send_logs(factory) == []

    clock.advance(9)
    assert runner.run_single_cycle() == 0
    clock.advance(1)
    assert runner.run_single_cycle() == 1
    row = load(factory, Delivery, delivery_id)
    assert row.attempts == 2
    assert row.next_attempt_at == clock() + timedelta(seconds=20)

    clock.advance(20)
    assert runner.run_single_cycle() == 1
    row = load(factory, Delivery, delivery_id)
    assert (row.state, row.attempts, row.last_error) == ("sent", 0, None)
    assert len(remote.posts) == 1


def test_exhausted_attempts_move_the_row_to_the_failure_state(
    factory: sessionmaker[Session], clock: FakeClock, make_runner: MakeRunner, remote: FakeRemote
) -> None:
    [delivery_id] = add_deliveries(factory, clock, fail_times=99)
    runner = make_runner()
    runner.run_single_cycle()
    for _ in range(3):  # max_attempts of "sending"
        assert runner.run_single_cycle() == 1
        clock.advance(60)

    row = load(factory, Delivery, delivery_id)
    assert (row.state, row.attempts, row.next_attempt_at) == ("failed", 3, None)
    assert row.last_error is not None
    assert row.last_error.startswith("RuntimeError: remote down (attempt 3)")
    assert runner.run_single_cycle() == 0
    assert remote.posts == {}


def test_undeclared_transition_counts_as_a_failure(
    factory: sessionmaker[Session], clock: FakeClock, make_runner: MakeRunner
) -> None:
    [delivery_id] = add_deliveries(factory, clock, route="sent")
    make_runner().run_single_cycle()
    row = load(factory, Delivery, delivery_id)
    assert (row.state, row.attempts) == ("queued", 1)
    assert row.last_error is not None
    assert row.last_error.startswith(
        "sixfold.jobs.runner.IllegalTransition: DeliveryState: 'queued' may not go to 'sent'"
    )


def test_claim_is_committed_before_the_handler_runs(
    factory: sessionmaker[Session],
    clock: FakeClock,
    make_runner: MakeRunner,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    [delivery_id] = add_deliveries(factory, clock, state="sending")
    seen: list[tuple[str | None, Any]] = []

    def look_from_elsewhere(row: Delivery, job: Job) -> None:
        other = load(factory, Delivery, delivery_id)
        seen.append((other.locked_by, other.locked_until))

    use_hook(monkeypatch, look_from_elsewhere)
    make_runner(lease_seconds=90).run_single_cycle()
    assert seen == [("worker-a", clock() + timedelta(seconds=90))]


def test_expired_lease_of_a_dead_worker_is_claimed_again(
    factory: sessionmaker[Session],
    clock: FakeClock,
    make_runner: MakeRunner,
    monkeypatch: pytest.MonkeyPatch,
    remote: FakeRemote,
) -> None:
    [delivery_id] = add_deliveries(factory, clock, state="sending")
    use_hook(monkeypatch, lambda row, job: _raise(Crash()))
    with pytest.raises(Crash):
        make_runner("worker-a").run_single_cycle()
    monkeypatch.setattr(Delivery, "before_send", None)

    row = load(factory, Delivery, delivery_id)
    assert (row.state, row.locked_by) == ("sending", "worker-a")
    survivor = make_runner("worker-b")
    clock.advance(59)
    assert survivor.run_single_cycle() == 0  # the lease still holds
    clock.advance(2)
    assert survivor.run_single_cycle() == 1
    assert load(factory, Delivery, delivery_id).state == "sent"
    assert send_logs(factory) == [(delivery_id, "worker-b")]


def test_rerun_after_a_crash_between_remote_call_and_commit_posts_once(
    factory: sessionmaker[Session],
    clock: FakeClock,
    make_runner: MakeRunner,
    monkeypatch: pytest.MonkeyPatch,
    remote: FakeRemote,
) -> None:
    [delivery_id] = add_deliveries(factory, clock, state="sending", body="once")
    crashes = iter([Crash()])
    monkeypatch.setattr(Delivery, "after_send", lambda row, job: _raise(next(crashes, None)))
    with pytest.raises(Crash):
        make_runner("worker-a").run_single_cycle()
    clock.advance(61)
    assert make_runner("worker-b").run_single_cycle() == 1

    key = f"delivery-{delivery_id}"
    assert remote.calls[key] == 2
    assert remote.posts == {key: "once"}
    assert load(factory, Delivery, delivery_id).state == "sent"


def test_worker_that_lost_its_lease_cannot_commit(
    factory: sessionmaker[Session],
    clock: FakeClock,
    make_runner: MakeRunner,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    [delivery_id] = add_deliveries(factory, clock, state="sending")
    slow, fast = make_runner("worker-slow"), make_runner("worker-fast")

    def stall_past_the_lease(row: Delivery, job: Job) -> None:
        if job.worker_id == "worker-slow":
            clock.advance(61)
            assert fast.run_single_cycle() == 1

    use_hook(monkeypatch, stall_past_the_lease)
    assert slow.run_single_cycle() == 0

    row = load(factory, Delivery, delivery_id)
    assert (row.state, row.locked_by) == ("sent", None)
    # The slow worker's side effect was rolled back with its transition.
    assert send_logs(factory) == [(delivery_id, "worker-fast")]


def test_worker_that_lost_its_lease_does_not_record_its_failure(
    factory: sessionmaker[Session],
    clock: FakeClock,
    make_runner: MakeRunner,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    [delivery_id] = add_deliveries(factory, clock, state="sending")
    slow, fast = make_runner("worker-slow"), make_runner("worker-fast")

    def stall_then_fail(row: Delivery, job: Job) -> None:
        if job.worker_id == "worker-slow":
            clock.advance(61)
            fast.run_single_cycle()
            raise RuntimeError("too late")

    use_hook(monkeypatch, stall_then_fail)
    slow.run_single_cycle()
    row = load(factory, Delivery, delivery_id)
    assert (row.state, row.attempts, row.last_error) == ("sent", 0, None)


def test_forced_transition_overrides_a_running_handler(
    factory: sessionmaker[Session],
    clock: FakeClock,
    make_runner: MakeRunner,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    [delivery_id] = add_deliveries(factory, clock, state="sending")

    def cancel_meanwhile(row: Delivery, job: Job) -> None:
        with factory.begin() as session:
            other = session.get(Delivery, delivery_id)
            assert other is not None
            other.transition_to("cancelled", now=clock())

    use_hook(monkeypatch, cancel_meanwhile)
    make_runner().run_single_cycle()
    row = load(factory, Delivery, delivery_id)
    assert (row.state, row.next_attempt_at, row.locked_by) == ("cancelled", None, None)
    assert send_logs(factory) == []


def test_progress_is_committed_during_the_run_and_the_job_resumes_after_a_crash(
    factory: sessionmaker[Session], clock: FakeClock, make_runner: MakeRunner
) -> None:
    with factory.begin() as session:
        job = Import.create(session, now=clock(), items=35, crash_at=20)
        session.flush()
        import_id = job.id
    with pytest.raises(Crash):
        make_runner("worker-a").run_single_cycle()

    row = load(factory, Import, import_id)
    assert (row.state, row.progress_done, row.progress_total) == ("importing", 20, 35)
    # Each progress report renewed the lease.
    assert row.locked_until == clock() + timedelta(seconds=60)

    clock.advance(61)
    assert make_runner("worker-b").run_single_cycle() == 1
    row = load(factory, Import, import_id)
    assert (row.state, row.progress_done, row.runs) == ("done", 35, 2)


def test_stopping_worker_gives_back_rows_it_will_not_handle(
    factory: sessionmaker[Session],
    clock: FakeClock,
    make_runner: MakeRunner,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ids = add_deliveries(factory, clock, 3, state="sending")
    stop = threading.Event()
    use_hook(monkeypatch, lambda row, job: stop.set())
    make_runner(models=[Delivery]).run_forever(stop)

    rows = [load(factory, Delivery, delivery_id) for delivery_id in ids]
    assert [row.state for row in rows] == ["sent", "sending", "sending"]
    assert [row.locked_by for row in rows] == [None, None, None]


def test_two_runners_in_threads_handle_every_row_exactly_once(
    factory: sessionmaker[Session],
    clock: FakeClock,
    make_runner: MakeRunner,
    monkeypatch: pytest.MonkeyPatch,
    remote: FakeRemote,
) -> None:
    ids = add_deliveries(factory, clock, 40)
    handled: Counter[int] = Counter()
    lock = threading.Lock()

    def count(row: Delivery, job: Job) -> None:
        with lock:
            handled[row.id] += 1

    use_hook(monkeypatch, count)
    stop = threading.Event()
    runners = [make_runner(name, batch_size=5, idle_seconds=0.005) for name in ("a", "b")]
    threads = [threading.Thread(target=r.run_forever, args=(stop,)) for r in runners]
    for thread in threads:
        thread.start()
    try:
        _wait_until(lambda: _count_in_state(factory, "sent") == len(ids))
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=10)

    assert handled == Counter(dict.fromkeys(ids, 1))
    assert sorted(remote.calls.values()) == [1] * len(ids)
    assert sorted(delivery_id for delivery_id, _ in send_logs(factory)) == sorted(ids)


# Row locks exist only on PostgreSQL (SQLite claims under its database-wide write lock), so
# this test runs on that backend alone rather than being skipped on the other.
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_skip_locked_passes_over_rows_another_transaction_holds(
    factory: sessionmaker[Session], clock: FakeClock, make_runner: MakeRunner, backend: str
) -> None:
    assert backend == "postgresql"
    held, *others = add_deliveries(factory, clock, 3, state="sending")
    handled: list[int] = []
    with factory() as blocker:
        blocker.execute(select(Delivery.id).where(Delivery.id == held).with_for_update())
        # Without SKIP LOCKED the claim would wait for the blocker: fail instead of hanging.
        worker = threading.Thread(target=lambda: handled.append(make_runner().run_single_cycle()))
        worker.start()
        worker.join(timeout=10)
        assert not worker.is_alive(), "the runner waited for a locked row"
        blocker.rollback()

    assert handled == [2]
    assert load(factory, Delivery, held).state == "sending"
    assert {load(factory, Delivery, i).state for i in others} == {"sent"}


def test_worker_loop_survives_a_failing_cycle(
    factory: sessionmaker[Session],
    clock: FakeClock,
    make_runner: MakeRunner,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    [delivery_id] = add_deliveries(factory, clock, state="sending")
    runner = make_runner(models=[Delivery], idle_seconds=0.001)
    stop = threading.Event()
    outages = iter([RuntimeError("database unreachable")])
    real_claim = runner.claim

    def flaky_claim(model: type[StateMachineMixin]) -> list[Any]:
        _raise(next(outages, None))
        return real_claim(model)

    monkeypatch.setattr(runner, "claim", flaky_claim)
    use_hook(monkeypatch, lambda row, job: stop.set())
    runner.run_forever(stop)
    assert "job runner cycle failed" in caplog.text
    assert load(factory, Delivery, delivery_id).state == "sent"


def _count_in_state(factory: sessionmaker[Session], state: str) -> int:
    with factory() as session:
        query = select(func.count()).select_from(Delivery).where(Delivery.state == state)
        return session.scalar(query) or 0


def _wait_until(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def _raise(exc: BaseException | None) -> None:
    if exc is not None:
        raise exc
