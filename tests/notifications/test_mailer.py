"""The e-mail outbox against a real SMTP server (aiosmtpd on 127.0.0.1)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage as MimeMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope
from aiosmtpd.smtp import Session as SmtpSession
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from sixfold.config import Settings
from sixfold.db import utcnow
from sixfold.jobs import Runner
from sixfold.notifications import service
from sixfold.notifications.models import EmailMessage
from tests import factories


class Inbox:
    """An aiosmtpd handler that keeps every message it accepts."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []

    async def handle_DATA(  # noqa: N802 - the name aiosmtpd calls
        self, server: SMTP, session: SmtpSession, envelope: Envelope
    ) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def messages(self) -> list[MimeMessage]:
        parsed = []
        for envelope in self.envelopes:
            content = envelope.content
            raw = content if isinstance(content, bytes) else str(content).encode()
            message = message_from_bytes(raw, policy=policy.default)
            assert isinstance(message, MimeMessage)
            parsed.append(message)
        return parsed


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def inbox(smtp_port: int) -> Iterator[Inbox]:
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        yield handler
    finally:
        controller.stop()


def mail_settings(port: int, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "secret_key": "mailer-tests-" + "m" * 32,
        "smtp_host": "127.0.0.1",
        "smtp_port": port,
        "smtp_from": "sixfold@northwind.test",
        "base_url": "https://sixfold.northwind.test",
    }
    return Settings(**(values | overrides))


def queue(db: Session, *, subject: str = "[Sixfold] Please review", to: str = "") -> EmailMessage:
    org = factories.organisation(db)
    row = EmailMessage.create(
        db,
        organisation_id=org.id,
        to_address=to or "mentor@northwind.test",
        subject=subject,
        body="Ada asks you to review a post.\n\nhttps://sixfold.northwind.test/posts/1\n",
    )
    db.commit()
    return row


def outbox(
    session_factory: sessionmaker[Session], settings: Settings, at: datetime | None = None
) -> Runner:
    clock = (lambda: at) if at is not None else utcnow
    return Runner(session_factory, [EmailMessage], services={"settings": settings}, clock=clock)


def test_a_queued_message_arrives(
    db: Session, session_factory: sessionmaker[Session], inbox: Inbox, smtp_port: int
) -> None:
    row = queue(db)

    assert outbox(session_factory, mail_settings(smtp_port)).run_single_cycle() == 1

    db.expire_all()
    assert row.state == "sent"
    assert row.sent_at is not None
    [envelope] = inbox.envelopes
    assert envelope.mail_from == "sixfold@northwind.test"
    assert envelope.rcpt_tos == ["mentor@northwind.test"]
    [message] = inbox.messages()
    assert message["Subject"] == "[Sixfold] Please review"
    assert message["To"] == "mentor@northwind.test"
    assert message["From"] == "sixfold@northwind.test"
    assert message["Message-ID"].endswith("@sixfold.northwind.test>")
    body = message.get_content()
    assert "Ada asks you to review a post." in body
    assert "https://sixfold.northwind.test/posts/1" in body
    # Sent once: a second cycle finds nothing to do.
    assert outbox(session_factory, mail_settings(smtp_port)).run_single_cycle() == 0


def test_a_server_that_is_down_is_retried_with_back_off(
    db: Session, session_factory: sessionmaker[Session], smtp_port: int
) -> None:
    row = queue(db)
    settings = mail_settings(smtp_port)  # nothing listens on the port yet
    start = utcnow()

    outbox(session_factory, settings, at=start).run_single_cycle()
    db.expire_all()
    assert row.state == "queued"
    assert row.attempts == 1
    assert row.last_error is not None
    assert "ConnectionRefusedError" in row.last_error
    assert row.next_attempt_at is not None
    first_wait = row.next_attempt_at - start
    assert timedelta(seconds=20) < first_wait < timedelta(seconds=40)

    # Not due before its time; after it, a second failure waits about twice as long.
    assert (
        outbox(session_factory, settings, at=start + timedelta(seconds=10)).run_single_cycle() == 0
    )
    retry_at = row.next_attempt_at
    outbox(session_factory, settings, at=retry_at).run_single_cycle()
    db.expire_all()
    assert row.attempts == 2
    second_wait = row.next_attempt_at - retry_at
    assert timedelta(seconds=45) < second_wait < timedelta(seconds=75)

    # The server comes back: the message is delivered, not lost.
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        outbox(session_factory, settings, at=row.next_attempt_at).run_single_cycle()
    finally:
        controller.stop()
    db.expire_all()
    assert row.state == "sent"
    assert len(handler.envelopes) == 1


def test_without_an_smtp_host_mail_is_not_sent(
    db: Session, session_factory: sessionmaker[Session], inbox: Inbox
) -> None:
    row = queue(db)

    outbox(session_factory, mail_settings(0, smtp_host=None)).run_single_cycle()

    db.expire_all()
    assert row.state == "not_sent"
    assert row.sent_at is None
    assert inbox.envelopes == []


def test_a_mail_whose_request_was_settled_is_not_sent(
    db: Session, session_factory: sessionmaker[Session], inbox: Inbox, smtp_port: int
) -> None:
    org = factories.organisation(db)
    ada = factories.person(db, org, password=None)
    service.notify(db, [ada], kind="review_requested", message="Review 7", topic="post:7")
    db.commit()
    row = db.scalars(select(EmailMessage)).one()
    # A worker holds it while the request is settled: the settling leaves it alone...
    row.locked_by, row.locked_until = "worker-z", utcnow() + timedelta(minutes=5)
    service.resolve(db, "post:7")
    db.commit()
    assert row.state == "queued"
    # ...and the next attempt (the lease ran out) sees the settled request and drops it.
    later = utcnow() + timedelta(minutes=6)

    assert outbox(session_factory, mail_settings(smtp_port), at=later).run_single_cycle() == 1

    db.expire_all()
    assert row.state == "withdrawn"
    assert row.sent_at is None
    assert inbox.envelopes == []


def test_a_line_break_in_a_subject_adds_no_header(
    db: Session, session_factory: sessionmaker[Session], inbox: Inbox, smtp_port: int
) -> None:
    subject = "[Sixfold] Changes asked: fine\r\nBcc: victim@evil.test\r\nX-Injected: yes"
    row = queue(db, subject=subject)

    outbox(session_factory, mail_settings(smtp_port)).run_single_cycle()

    db.expire_all()
    assert row.state == "sent"
    [envelope] = inbox.envelopes
    assert envelope.rcpt_tos == ["mentor@northwind.test"]
    [message] = inbox.messages()
    assert message["Bcc"] is None
    assert message["X-Injected"] is None
    assert message["Subject"] == (
        "[Sixfold] Changes asked: fine Bcc: victim@evil.test X-Injected: yes"
    )


def test_a_recipient_with_a_line_break_is_never_sent(
    db: Session, session_factory: sessionmaker[Session], inbox: Inbox, smtp_port: int
) -> None:
    row = queue(db, to="mentor@northwind.test\r\nBcc: victim@evil.test")

    outbox(session_factory, mail_settings(smtp_port)).run_single_cycle()

    db.expire_all()
    assert row.state == "queued"
    assert row.last_error is not None
    assert "line break" in row.last_error
    assert inbox.envelopes == []


def test_a_rejection_comment_reaches_the_author_with_its_link(
    db: Session, session_factory: sessionmaker[Session], inbox: Inbox, smtp_port: int
) -> None:
    settings = mail_settings(smtp_port)
    org = factories.organisation(db)
    ada = factories.person(db, org, email="ada@northwind.test", password=None)
    comment = "Name the trail.\nBcc: victim@evil.test"
    service.notify(
        db,
        [ada],
        kind="post_rejected",
        message=f"Bo asks for changes to “Trail guide”: {comment}",
        link="/posts/3",
        base_url=settings.base_url,
    )
    db.commit()

    outbox(session_factory, settings).run_single_cycle()

    [envelope] = inbox.envelopes
    assert envelope.rcpt_tos == ["ada@northwind.test"]
    [message] = inbox.messages()
    assert message["Bcc"] is None
    assert message["Subject"] == (
        "[Sixfold] Bo asks for changes to “Trail guide”: Name the trail. Bcc: victim@evil.test"
    )
    body = message.get_content().replace("\r\n", "\n")  # SMTP lines end in CRLF
    assert comment in body
    assert "https://sixfold.northwind.test/posts/3" in body
