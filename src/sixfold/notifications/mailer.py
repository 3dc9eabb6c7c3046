"""Sending one outbox e-mail over SMTP (smtplib; STARTTLS and login when configured)."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage as MimeMessage
from email.utils import make_msgid
from typing import TYPE_CHECKING

from sixfold.config import Settings

if TYPE_CHECKING:
    from sixfold.notifications.models import EmailMessage


def send_email(message: EmailMessage, *, settings: Settings) -> None:
    """Send `message`; raise on any failure so the outbox retries with back-off."""
    if not settings.smtp_host:
        raise ValueError("SIXFOLD_SMTP_HOST is not set")
    mime = MimeMessage()
    mime["From"] = settings.smtp_from
    mime["To"] = message.to_address
    mime["Subject"] = message.subject
    # A stable id per outbox row lets a receiving server drop a resend after a crash.
    mime["Message-ID"] = make_msgid(idstring=f"sixfold-{message.id}", domain="sixfold.local")
    mime.set_content(message.body)
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_username:
            smtp.login(settings.smtp_username, settings.smtp_password or "")
        smtp.send_message(mime)
