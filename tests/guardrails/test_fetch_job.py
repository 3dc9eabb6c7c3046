"""The feed-fetch job against a real local HTTP server, stepped one runner cycle at a time."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from sixfold.config import Settings
from sixfold.guardrails import feeds, suggestions
from sixfold.guardrails.models import EventSuggestion, FeedFetchJob, RiskSettings
from sixfold.jobs import Runner
from tests.guardrails.conftest import Guardians, feed

LOCAL = Settings(secret_key="guardrails-tests-secret-key", link_preview_allow_private=True)
STRICT = Settings(secret_key="guardrails-tests-secret-key")


class FeedServer(BaseHTTPRequestHandler):
    """Serves the test feeds and the ways a feed server can misbehave."""

    def do_GET(self) -> None:
        route = {
            "/news.rss": lambda: self._send(feed("news.rss"), "application/rss+xml"),
            "/news.atom": lambda: self._send(feed("news.atom"), "application/atom+xml"),
            "/laughs": lambda: self._send(feed("billion_laughs.xml"), "application/xml"),
            "/page": lambda: self._send(b"<html><body>Hi</body></html>", "text/html"),
            "/moved": lambda: self._redirect("/news.rss"),
            "/loop": lambda: self._redirect("/loop"),
            "/to-file": lambda: self._redirect("file:///etc/passwd"),
            "/huge": lambda: self._send(b"<rss>" + b" " * (3 * 2**20), "application/xml"),
            "/endless": self._endless,
            "/slow": self._slow,
            "/drip": self._drip,
            "/broken": lambda: self.send_error(500),
        }.get(self.path, lambda: self.send_error(404))
        # The reader hangs up early on a feed too large or too slow, as it should.
        with contextlib.suppress(OSError):
            route()

    def _send(self, body: bytes, content_type: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _redirect(self, location: str) -> None:
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _endless(self) -> None:
        # No Content-Length: only counting what arrives can stop it.
        self.send_response(200)
        self.send_header("Content-Type", "application/xml")
        self.end_headers()
        for _ in range(64):
            self.wfile.write(b"<item>" + b"x" * 65536)

    def _slow(self) -> None:
        time.sleep(1.0)
        self._send(feed("news.rss"), "application/rss+xml")

    def _drip(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/xml")
        self.end_headers()
        for _ in range(30):
            self.wfile.write(b"<!-- . -->")
            self.wfile.flush()
            time.sleep(0.1)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), FeedServer)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def queue(db: Session, guardians: Guardians, url: str) -> FeedFetchJob:
    db.merge(RiskSettings(organisation_id=guardians.org.id, news_feed_url=url, phone_region="NL"))
    job = suggestions.queue_feed_fetch(
        db, guardians.org, actor=guardians.actor, person=guardians.leader
    )
    db.commit()
    return job


def step(
    db: Session, session_factory: sessionmaker[Session], settings: Settings = LOCAL
) -> FeedFetchJob:
    runner = Runner(session_factory, [FeedFetchJob], services={"settings": settings})
    assert runner.run_single_cycle() == 1
    db.expire_all()
    # The read that just ran: finished, or waiting to retry; not the next hourly read.
    ran = select(FeedFetchJob).where(
        (FeedFetchJob.finished_at.is_not(None)) | (FeedFetchJob.attempts > 0)
    )
    return db.scalars(ran.order_by(FeedFetchJob.id.desc())).first()  # type: ignore[return-value]


def test_a_feed_is_read_and_tragic_stories_become_suggestions(
    db: Session, session_factory: sessionmaker[Session], guardians: Guardians, server: str
) -> None:
    queue(db, guardians, f"{server}/news.rss")
    job = step(db, session_factory)
    assert job.state == "done"
    assert job.result == {
        "feed_title": "Harbour Gazette",
        "entries": 5,
        "total": 5,
        "suggestions": 3,
    }
    assert job.finished_at is not None
    rows = db.scalars(select(EventSuggestion).order_by(EventSuggestion.guid)).all()
    assert [(r.guid, r.kind) for r in rows] == [
        ("gazette-1001", "disaster"),
        ("gazette-1004", "disaster"),
        ("gazette-1005", "tragedy"),
    ]
    # Only the headline, link and date are kept: nothing of the article's text.
    assert rows[1].title == "Harbour fire in Rotterdam: explosion at the oil terminal"
    assert rows[1].link == f"{server}/2026/11/harbour-fire"
    assert "evacuated" not in rows[1].keywords

    queue(db, guardians, f"{server}/news.rss")
    again = step(db, session_factory)
    assert (again.state, again.result["suggestions"]) == ("done", 0)


def test_redirects_are_followed_to_the_feed(
    db: Session, session_factory: sessionmaker[Session], guardians: Guardians, server: str
) -> None:
    queue(db, guardians, f"{server}/moved")
    job = step(db, session_factory)
    assert (job.state, job.result["suggestions"]) == ("done", 3)


def test_a_waiting_fetch_is_not_queued_twice(
    db: Session, guardians: Guardians, server: str
) -> None:
    first = queue(db, guardians, f"{server}/news.atom")
    assert queue(db, guardians, f"{server}/news.atom").id == first.id


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        ("/missing", "answered 404"),
        ("/page", "RSS or Atom"),
        ("/laughs", "entities"),
        ("/huge", "larger than 2 MiB"),
        ("/endless", "larger than 2 MiB"),
        ("/loop", "redirects more than 5 times"),
        ("/to-file", "http:// or https://"),
    ],
)
def test_a_feed_that_cannot_be_used_fails_at_once_with_the_reason(
    db: Session,
    session_factory: sessionmaker[Session],
    guardians: Guardians,
    server: str,
    path: str,
    problem: str,
) -> None:
    queue(db, guardians, f"{server}{path}")
    job = step(db, session_factory)
    assert job.state == "failed"
    assert problem in job.result["error"]
    assert problem in (suggestions.fetch_problem(job) or "")
    assert db.scalars(select(EventSuggestion)).all() == []


def test_private_addresses_are_refused_unless_allowed(
    db: Session, session_factory: sessionmaker[Session], guardians: Guardians, server: str
) -> None:
    queue(db, guardians, f"{server}/news.rss")
    job = step(db, session_factory, settings=STRICT)
    assert job.state == "failed"
    assert "private or local address" in job.result["error"]


def test_a_name_that_resolves_to_a_private_address_is_refused(
    db: Session, session_factory: sessionmaker[Session], guardians: Guardians, server: str
) -> None:
    queue(db, guardians, server.replace("127.0.0.1", "localhost") + "/news.rss")
    job = step(db, session_factory, settings=STRICT)
    assert job.state == "failed"
    assert "localhost is a private or local address" in job.result["error"]


@pytest.mark.parametrize(("path", "problem"), [("/broken", "answered 500"), ("/slow", "within")])
def test_a_server_that_fails_this_time_is_tried_again_later(
    db: Session,
    session_factory: sessionmaker[Session],
    guardians: Guardians,
    server: str,
    monkeypatch: pytest.MonkeyPatch,
    path: str,
    problem: str,
) -> None:
    monkeypatch.setattr(feeds, "TIMEOUT_SECONDS", 0.3)
    queue(db, guardians, f"{server}{path}")
    job = step(db, session_factory)
    assert (job.state, job.attempts) == ("queued", 1)
    assert problem in (suggestions.fetch_problem(job) or "")
    assert job.next_attempt_at is not None
    assert job.finished_at is None


def test_a_feed_that_drips_in_slowly_is_cut_off(
    db: Session,
    session_factory: sessionmaker[Session],
    guardians: Guardians,
    server: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(feeds, "TIMEOUT_SECONDS", 0.5)
    queue(db, guardians, f"{server}/drip")
    started = time.monotonic()
    job = step(db, session_factory)
    assert time.monotonic() - started < 2
    assert "took longer" in (suggestions.fetch_problem(job) or "")


def test_the_feed_is_read_again_hourly_and_fetch_now_brings_the_next_read_forward(
    db: Session, session_factory: sessionmaker[Session], guardians: Guardians, server: str
) -> None:
    queue(db, guardians, f"{server}/news.rss")
    first = step(db, session_factory)
    assert first.state == "done"
    upcoming = db.scalars(select(FeedFetchJob).where(FeedFetchJob.id != first.id)).one()
    assert upcoming.state == "queued"
    assert upcoming.next_attempt_at is not None
    assert first.finished_at is not None
    wait = upcoming.next_attempt_at - first.finished_at
    assert abs(wait - suggestions.FEED_INTERVAL) < timedelta(seconds=5)
    # The page keeps showing the read that ran, and when the next one is due.
    assert suggestions.latest_fetch(db, guardians.org).id == first.id  # type: ignore[union-attr]
    assert suggestions.next_fetch_at(db, guardians.org) == upcoming.next_attempt_at
    # Nothing is due now, so a worker does nothing...
    runner = Runner(session_factory, [FeedFetchJob], services={"settings": LOCAL})
    assert runner.run_single_cycle() == 0
    # ...until a person asks for a read now: the same job is brought forward, not a second.
    assert queue(db, guardians, f"{server}/news.rss").id == upcoming.id
    again = step(db, session_factory)
    assert (again.id, again.state) == (upcoming.id, "done")


def test_a_read_scheduled_for_an_old_address_reads_nothing(
    db: Session, session_factory: sessionmaker[Session], guardians: Guardians, server: str
) -> None:
    job = queue(db, guardians, f"{server}/news.rss")
    db.merge(RiskSettings(organisation_id=guardians.org.id, news_feed_url=f"{server}/news.atom"))
    db.commit()
    ran = step(db, session_factory)
    assert (ran.id, ran.state) == (job.id, "failed")
    assert "changed to" in ran.result["error"]
    assert db.scalars(select(EventSuggestion)).all() == []
