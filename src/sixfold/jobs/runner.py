"""The runner: claims due rows under a lease and runs one handler on each.

Every step that changes a row is fenced by the lease: it only takes effect while `locked_by`
still names this worker. A worker that stalled past its lease, and whose row was claimed by
another worker, therefore cannot overwrite the other's result; its whole transaction, side
effects included, is rolled back.
"""

from __future__ import annotations

import logging
import os
import random
import secrets
import socket
import threading
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, and_, func, inspect, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from sixfold.db import transaction, utcnow
from sixfold.jobs.models import WORKER_ID_MAX_LENGTH, ProgressMixin, StateMachineMixin

logger = logging.getLogger(__name__)

# Enough of a traceback to diagnose a failure without letting one row grow without bound.
LAST_ERROR_MAX_CHARS = 4000
# The shortest rest between cycles: a row due "now" that a cycle just missed is not worth
# a busy loop.
MIN_REST_SECONDS = 0.01

Model = type[StateMachineMixin]


class LeaseLost(Exception):
    """This worker no longer holds the row: another worker or a forced transition took it."""


class IllegalTransition(Exception):
    """A handler returned a state that its current state does not list in `to`."""


@dataclass
class Job:
    """What a handler is given besides its row.

    `session` is the handler's own transaction; the runner commits it together with the
    transition. `commit()` commits intermediate work now (for example "submitted" before a
    network call) and renews the lease; it raises `LeaseLost` if the row was taken over.
    """

    session: Session
    row: StateMachineMixin
    now: datetime
    worker_id: str
    _renew: Callable[[], None] = field(repr=False)
    wake_at: datetime | None = None
    # What the process offers handlers: settings, clients (see Runner's `services`).
    services: Mapping[str, Any] = field(default_factory=dict)
    # The state the row is in as far as the database knows; `enter` moves it on.
    state: str = ""
    attempts: int = 0

    def commit(self) -> None:
        self._renew()
        self.session.commit()

    def enter(self, state: str) -> None:
        """Move the row to `state` and commit now, keeping the lease: the handler goes on.

        This is how a handler makes an intermediate state durable before a side effect that
        cannot be undone (a network call): if the worker dies after `enter("submitted")`,
        the row is found in "submitted" and that state's handler reconciles instead of
        repeating the call. The transition must be allowed from the current state.
        """
        graph = self.row.state_graph
        if state not in graph.states[self.state].to:
            raise IllegalTransition(f"{graph.__name__}: {self.state!r} may not go to {state!r}")
        row = self.row
        row.state, row.state_changed_at, row.attempts, row.last_error = state, self.now, 0, None
        self.state, self.attempts = state, 0
        self.commit()

    def check_again_at(self, when: datetime) -> None:
        """When the handler returns None, try again at `when` instead of after poll_seconds."""
        self.wake_at = when

    def report_progress(self, done: int, total: int | None = None) -> None:
        """Record progress on a `ProgressMixin` row and commit it, so a page can show it.

        This commits everything the handler has done so far (a checkpoint): a handler that
        reports progress must be able to resume, or safely redo, after a crash.
        """
        if not isinstance(self.row, ProgressMixin):
            raise TypeError(f"{type(self.row).__name__} has no progress columns")
        self.row.progress_done = done
        if total is not None:
            self.row.progress_total = total
        self.commit()


class Runner:
    """Claims due rows of `models` and runs their handlers, one row at a time.

    Several runners, in threads or processes on any number of machines, may share a database.
    `clock` and `rng` are injectable so that tests can step time and jitter.
    """

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        models: Sequence[Model],
        *,
        worker_id: str | None = None,
        lease_seconds: float = 300.0,
        batch_size: int = 20,
        idle_seconds: float = 1.0,
        clock: Callable[[], datetime] = utcnow,
        rng: random.Random | None = None,
        services: Mapping[str, Any] | None = None,
    ) -> None:
        if lease_seconds <= 0 or batch_size < 1 or idle_seconds <= 0:
            raise ValueError("lease_seconds, batch_size and idle_seconds must be positive")
        self.session_factory = session_factory
        self.models = list(models)
        for model in self.models:
            _primary_key(model)
        self.worker_id = worker_id or default_worker_id()
        if len(self.worker_id) > WORKER_ID_MAX_LENGTH:
            raise ValueError(f"worker_id is longer than {WORKER_ID_MAX_LENGTH} characters")
        self.lease = timedelta(seconds=lease_seconds)
        self.batch_size = batch_size
        self.idle_seconds = idle_seconds
        self.clock = clock
        self.rng = rng or random.Random()
        self.services = dict(services or {})

    def run_forever(self, stop: threading.Event) -> None:
        """Run cycles until `stop` is set, resting when there is nothing to do."""
        while not stop.is_set():
            try:
                handled = self._cycle(stop)
                rest = self.rest_seconds() if handled == 0 else 0.0
            except Exception:
                # A database outage must not end the worker; leases make the retry safe.
                logger.exception("job runner cycle failed")
                handled, rest = 0, self.idle_seconds
            if handled == 0:
                stop.wait(rest)

    def rest_seconds(self) -> float:
        """How long to rest when nothing is due: until the next row falls due, at most
        `idle_seconds` (rows added meanwhile are found by the next cycle).

        Waking at the due time rather than on the next fixed tick is what makes a post
        scheduled for 09:00:00 go out at 09:00:00, not up to `idle_seconds` later.
        """
        now = self.clock()
        soonest: datetime | None = None
        with self.session_factory() as session:
            for model in self.models:
                when = session.scalar(
                    select(func.min(model.next_attempt_at)).where(
                        model.state.in_(model.state_graph.automatic_states()),
                        or_(model.locked_until.is_(None), model.locked_until < now),
                    )
                )
                if when is not None and (soonest is None or when < soonest):
                    soonest = when
        if soonest is None:
            return self.idle_seconds
        wait = (soonest - now).total_seconds()
        return min(self.idle_seconds, max(MIN_REST_SECONDS, wait))

    def run_single_cycle(self) -> int:
        """Claim due rows of every model, run one handler on each; return how many ran."""
        return self._cycle(None)

    def claim(self, model: Model) -> list[Any]:
        """Lease up to `batch_size` due rows of `model` to this worker and commit the lease."""
        now = self.clock()
        values = {"locked_by": self.worker_id, "locked_until": now + self.lease}
        pk = _primary_key(model)
        with transaction(self.session_factory) as session:
            due = select(pk).where(_due(model, now)).order_by(model.next_attempt_at)
            due = due.limit(self.batch_size)
            if session.get_bind().dialect.name == "postgresql":
                # Rows another worker is claiming right now are skipped, not waited for.
                ids = list(session.scalars(due.with_for_update(skip_locked=True)))
                if ids:
                    session.execute(_bulk(update(model).where(pk.in_(ids)).values(values)))
                return ids
            # SQLite has no row locks; one conditional UPDATE is atomic under its write lock,
            # and repeating the condition keeps it correct when several processes claim.
            stmt = update(model).where(pk.in_(due.correlate(None)), _due(model, now))
            return list(session.scalars(_bulk(stmt.values(values).returning(pk))))

    def _cycle(self, stop: threading.Event | None) -> int:
        handled = 0
        for model in self.models:
            ids = self.claim(model)
            for position, row_id in enumerate(ids):
                if stop is not None and stop.is_set():
                    self._release(model, ids[position:])
                    break
                handled += self._handle(model, row_id)
        return handled

    def _handle(self, model: Model, row_id: Any) -> bool:
        with self.session_factory() as session:
            row = session.get(model, row_id)
            now = self.clock()
            if row is None or not self._holds(row, now):
                return False
            job = Job(
                session,
                row,
                now,
                self.worker_id,
                lambda: self._renew(session, model, row_id),
                state=row.state,
                attempts=row.attempts,
                services=self.services,
            )
            try:
                next_state = _call_handler(row, job)
                self._finish(session, model, row_id, job, next_state)
            except LeaseLost:
                session.rollback()
                logger.warning("%s %s: lease lost, result discarded", model.__name__, row_id)
                return False
            except Exception as exc:
                session.rollback()
                # `job.state` is the last state committed, which `enter` may have moved on.
                logger.warning(
                    "%s %s failed in %s", model.__name__, row_id, job.state, exc_info=exc
                )
                self._record_failure(session, model, row_id, job.state, job.attempts, exc)
            return True

    def _holds(self, row: StateMachineMixin, now: datetime) -> bool:
        # Rows claimed in a batch may have expired while earlier rows ran; leave those to
        # whoever claims them next rather than race that worker.
        return row.locked_by == self.worker_id and (
            row.locked_until is not None and row.locked_until > now
        )

    def _renew(self, session: Session, model: Model, row_id: Any) -> None:
        """Extend the lease, or raise LeaseLost; on PostgreSQL this also locks the row."""
        pk = _primary_key(model)
        stmt = update(model).where(pk == row_id, model.locked_by == self.worker_id)
        result = session.execute(_bulk(stmt.values(locked_until=self.clock() + self.lease)))
        if cast(CursorResult[Any], result).rowcount != 1:
            raise LeaseLost(f"{model.__name__} {row_id} is no longer leased to {self.worker_id}")

    def _finish(
        self, session: Session, model: Model, row_id: Any, job: Job, next_state: str | None
    ) -> None:
        # The fence and the transition share one transaction: both happen or neither.
        self._renew(session, model, row_id)
        row, now = job.row, self.clock()
        if next_state is None:
            poll = timedelta(seconds=row.state_graph.states[row.state].poll_seconds)
            row.next_attempt_at = job.wake_at or now + poll
            row.locked_by = row.locked_until = None
        else:
            row.transition_to(next_state, now=now)
        session.commit()

    def _record_failure(
        self,
        session: Session,
        model: Model,
        row_id: Any,
        state: str,
        failures_before: int,
        exc: Exception,
    ) -> None:
        # Works from the key alone: the rolled-back row object is expired and would reload.
        graph = model.state_graph
        failures = failures_before + 1
        now = self.clock()
        retry = graph.states[state].retry
        values: dict[str, Any] = {
            "attempts": failures,
            "last_error": describe_error(exc),
            "locked_by": None,
            "locked_until": None,
            "next_attempt_at": now + timedelta(seconds=retry.delay_seconds(failures, self.rng)),
        }
        if retry.exhausted(failures):
            target = graph.exhaustion_target(state)
            automatic = graph.states[target].automatic
            # A terminal failure keeps the count for whoever reads it; a state that will run
            # again starts its own count.
            values |= {
                "state": target,
                "state_changed_at": now,
                "attempts": 0 if automatic else failures,
                "next_attempt_at": now if automatic else None,
            }
        pk = _primary_key(model)
        stmt = update(model).where(
            pk == row_id, model.locked_by == self.worker_id, model.state == state
        )
        result = session.execute(_bulk(stmt.values(values)))
        if cast(CursorResult[Any], result).rowcount != 1:
            logger.warning("%s %s: lease lost, failure not recorded", model.__name__, row_id)
        session.commit()

    def _release(self, model: Model, ids: list[Any]) -> None:
        """Give back claimed rows this worker will not handle (it is stopping)."""
        pk = _primary_key(model)
        with transaction(self.session_factory) as session:
            stmt = update(model).where(pk.in_(ids), model.locked_by == self.worker_id)
            session.execute(_bulk(stmt.values(locked_by=None, locked_until=None)))


def _call_handler(row: StateMachineMixin, job: Job) -> str | None:
    graph = row.state_graph
    handler: Callable[[Job], str | None] = getattr(row, graph.handler_name(job.state))
    next_state = handler(job)
    # Checked against the state the handler ends in, which `Job.enter` may have changed.
    if next_state is not None and next_state not in graph.states[job.state].to:
        raise IllegalTransition(f"{graph.__name__}: {job.state!r} may not go to {next_state!r}")
    return next_state


def _due(model: Model, now: datetime) -> ColumnElement[bool]:
    return and_(
        model.state.in_(model.state_graph.automatic_states()),
        model.next_attempt_at <= now,
        # An expired lease is a worker that died or stalled: the row is claimable again.
        or_(model.locked_until.is_(None), model.locked_until < now),
    )


def _bulk(statement: Any) -> Any:
    # The runner updates rows by key and reloads what it needs; matching the statement against
    # objects in the session would only cost time.
    return statement.execution_options(synchronize_session=False)


def _primary_key(model: Model) -> Any:
    columns = inspect(model).primary_key
    if len(columns) != 1:
        raise TypeError(f"{model.__name__} needs a single-column primary key to be run as a job")
    return columns[0]


def describe_error(exc: BaseException) -> str:
    """The exception's one-line summary, then its traceback, bounded in length.

    A long traceback loses its middle: the summary and the innermost frames matter most.
    """
    summary = "".join(traceback.format_exception_only(exc)).strip()[:500]
    detail = "".join(traceback.format_exception(exc))
    room = LAST_ERROR_MAX_CHARS - len(summary) - 3
    if len(detail) > room:
        detail = "…" + detail[-(room - 1) :]
    return f"{summary}\n\n{detail}"


def error_summary(last_error: str | None) -> str | None:
    """What people are shown of a stored error: its one-line summary. The traceback after it
    (``describe_error``) is for the operator, in the database and the server's log; it names
    the server's files."""
    return last_error.split("\n\n", 1)[0] if last_error else last_error


def default_worker_id() -> str:
    """Unique per runner: host, process and a random suffix (fencing relies on uniqueness)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
