"""Sending one outbox e-mail over SMTP (smtplib; STARTTLS and login when configured)."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage as MimeMessage
from email.utils import format_datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from sixfold.config import Settings

if TYPE_CHECKING:
    from sixfold.notifications.models import EmailMessage

SMTP_TIMEOUT_SECONDS = 30


def one_line(text: str) -> str:
    """A header value on one line: a line break in a subject (a reviewer's comment quoted in
    it) must not start a header of its own."""
    return " ".join(text.split())


def build_message(message: EmailMessage, *, settings: Settings) -> MimeMessage:
    if any(c in message.to_address for c in "\r\n"):
        raise ValueError("the recipient's address contains a line break")
    mime = MimeMessage()
    mime["From"] = settings.smtp_from
    mime["To"] = message.to_address
    mime["Subject"] = one_line(message.subject)
    mime["Date"] = format_datetime(message.created_at)
    mime["Message-ID"] = message_id(message, settings=settings)
    mime.set_content(message.body)
    return mime


def message_id(message: EmailMessage, *, settings: Settings) -> str:
    """The same id on every attempt for one outbox row, so that a receiving server can drop
    a resend after a crash between its answer and our commit."""
    host = urlsplit(settings.base_url).hostname or "sixfold.local"
    return f"<sixfold-{message.id}-{int(message.created_at.timestamp())}@{host}>"


def send_email(message: EmailMessage, *, settings: Settings) -> None:
    """Send `message`; raise on any failure so the outbox retries with back-off."""
    if not settings.smtp_host:
        raise ValueError("SIXFOLD_SMTP_HOST is not set")
    mime = build_message(message, settings=settings)
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT_SECONDS) as smtp:
        if settings.smtp_starttls:
            # The default context verifies the server's certificate and name; smtplib's own
            # default would not, and the login that follows would go to anyone in between.
            smtp.starttls(context=ssl.create_default_context())
        if settings.smtp_username:
            smtp.login(settings.smtp_username, settings.smtp_password or "")
        # Explicit recipients: the envelope goes to the one address of the row, whatever the
        # headers say.
        smtp.send_message(mime, from_addr=settings.smtp_from, to_addrs=[message.to_address])
