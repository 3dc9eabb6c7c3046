"""Test-only state machines on their own declarative base.

They are kept off sixfold.db.Base, whose metadata must match the migrations exactly; the
tables are created in the test database by tests/jobs/conftest.py and dropped afterwards.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from typing import ClassVar

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from sixfold.jobs import Job, ProgressMixin, Retry, State, StateGraph, StateMachineMixin


class JobsTestBase(DeclarativeBase):
    pass


class Crash(BaseException):
    """Stands for the worker process being killed mid-handler: nothing catches it."""


class FakeRemote:
    """A remote network that, like Mastodon's Idempotency-Key, posts each key once."""

    def __init__(self) -> None:
        self.posts: dict[str, str] = {}
        self.calls: Counter[str] = Counter()
        self._lock = threading.Lock()

    def post(self, key: str, body: str) -> None:
        with self._lock:
            self.calls[key] += 1
            self.posts.setdefault(key, body)


class DeliveryState(StateGraph, initial="queued", failure="failed"):
    queued = State(to=["sending"], poll_seconds=5)
    sending = State(
        to=["sent"],
        poll_seconds=30,
        retry=Retry(base_seconds=10, factor=2, max_seconds=25, jitter=0, max_attempts=3),
    )
    sent = State(terminal=True)
    cancelled = State(terminal=True)
    failed = State(terminal=True)


Hook = Callable[["Delivery", Job], None]


class Delivery(StateMachineMixin, JobsTestBase):
    """A post to deliver: the shape publishing will have."""

    __tablename__ = "jobs_test_delivery"
    state_graph = DeliveryState

    # Set per test with monkeypatch: the remote, and a hook run inside handle_sending.
    remote: ClassVar[FakeRemote] = FakeRemote()
    before_send: ClassVar[Hook | None] = None
    after_send: ClassVar[Hook | None] = None

    id: Mapped[int] = mapped_column(primary_key=True)
    body: Mapped[str] = mapped_column(String(200), default="hello")
    fail_times: Mapped[int] = mapped_column(default=0)
    ready: Mapped[bool] = mapped_column(default=True)
    route: Mapped[str | None] = mapped_column(String(64))

    def handle_queued(self, job: Job) -> str | None:
        return self.route or "sending"

    def handle_sending(self, job: Job) -> str | None:
        hook = type(self).before_send
        if hook is not None:
            hook(self, job)
        job.session.add(SendLog(delivery_id=self.id, worker_id=job.worker_id))
        if self.attempts < self.fail_times:
            raise RuntimeError(f"remote down (attempt {self.attempts + 1})")
        if not self.ready:
            return None
        # A stable idempotency key per row makes a re-run after a crash harmless.
        type(self).remote.post(f"delivery-{self.id}", self.body)
        hook = type(self).after_send
        if hook is not None:
            hook(self, job)
        return "sent"


class SendLog(JobsTestBase):
    """A side effect written in the handler's transaction: it must commit with the result."""

    __tablename__ = "jobs_test_send_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("jobs_test_delivery.id"))
    worker_id: Mapped[str] = mapped_column(String(200))


class ImportState(StateGraph, failure="failed"):
    importing = State(to=["done"], retry=Retry(max_attempts=None))
    done = State(terminal=True)
    failed = State(terminal=True)


class Import(StateMachineMixin, ProgressMixin, JobsTestBase):
    """A long import that reports progress and resumes where it stopped."""

    __tablename__ = "jobs_test_import"
    state_graph = ImportState
    chunk = 10

    id: Mapped[int] = mapped_column(primary_key=True)
    items: Mapped[int] = mapped_column(default=35)
    crash_at: Mapped[int | None] = mapped_column()
    runs: Mapped[int] = mapped_column(default=0)

    def handle_importing(self, job: Job) -> str | None:
        self.runs += 1
        # Resuming from the committed progress is what makes a re-run after a crash safe.
        done = self.progress_done
        while done < self.items:
            done = min(done + self.chunk, self.items)
            job.report_progress(done, self.items)
            if done == self.crash_at:
                raise Crash
        return "done"
