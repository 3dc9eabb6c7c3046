"""Tell people what needs them: an in-app notification, and an e-mail through the outbox."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from sixfold.db import utcnow
from sixfold.notifications.models import EmailMessage, Notification
from sixfold.org.models import Person

SUBJECT_PREFIX = "[Sixfold] "


def notify(
    session: Session,
    people: Iterable[Person],
    *,
    kind: str,
    message: str,
    link: str = "",
    email: bool = True,
    base_url: str = "",
    topic: str | None = None,
) -> int:
    """Notify each person once, in the caller's transaction; return how many were told.

    The e-mail is a row in the outbox: it is sent by a worker after this transaction
    commits, and not at all if it rolls back. A `topic` names what the notice asks of its
    reader, for `resolve` to settle when that no longer waits for them.
    """
    told = 0
    seen: set[int] = set()
    for person in people:
        if person.id in seen or not person.is_active:
            continue
        seen.add(person.id)
        notification = Notification(
            organisation_id=person.organisation_id,
            person_id=person.id,
            kind=kind,
            message=message,
            link=link,
            topic=topic,
        )
        session.add(notification)
        if email and person.email:
            body = f"{message}\n\n{base_url.rstrip('/')}{link}\n" if link else f"{message}\n"
            EmailMessage.create(
                session,
                organisation_id=person.organisation_id,
                to_address=person.email,
                subject=SUBJECT_PREFIX + message[:200],
                body=body + "\n— Sixfold\n",
                notification=notification,
            )
        told += 1
    return told


def resolve(session: Session, topic: str, *, people: Collection[int] | None = None) -> int:
    """Settle the open notifications about `topic` (of `people`, or of everyone); return how
    many. They stay in the history, read and shown as done; their unsent e-mails are
    withdrawn."""
    query = select(Notification).where(
        Notification.topic == topic, Notification.resolved_at.is_(None)
    )
    if people is not None:
        query = query.where(Notification.person_id.in_(people))
    settled = list(session.scalars(query))
    now = utcnow()
    for notification in settled:
        notification.resolved_at = now
        notification.read_at = notification.read_at or now
    _withdraw_mail(session, [n.id for n in settled])
    return len(settled)


def _withdraw_mail(session: Session, notification_ids: list[int]) -> None:
    if not notification_ids:
        return
    now = utcnow()
    # A mail a worker holds right now is left to it: it may be on the wire already, and its
    # state should say what happened. Locked rows are skipped on PostgreSQL for the same
    # reason; the handler itself drops a mail whose notification is settled.
    waiting = session.scalars(
        select(EmailMessage)
        .where(
            EmailMessage.notification_id.in_(notification_ids),
            EmailMessage.state == "queued",
            or_(EmailMessage.locked_until.is_(None), EmailMessage.locked_until < now),
        )
        .with_for_update(skip_locked=True)
    )
    for mail in waiting:
        mail.transition_to("withdrawn", now=now)


def unread_count(session: Session, person: Person) -> int:
    count = session.scalar(
        select(func.count())
        .select_from(Notification)
        .where(Notification.person_id == person.id, Notification.read_at.is_(None))
    )
    return int(count or 0)


def recent(session: Session, person: Person, limit: int = 50) -> list[Notification]:
    return list(
        session.scalars(
            select(Notification)
            .where(Notification.person_id == person.id)
            .order_by(Notification.id.desc())
            .limit(limit)
        )
    )


def mark_all_read(session: Session, person: Person) -> None:
    session.execute(
        update(Notification)
        .where(Notification.person_id == person.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )


def get_own(session: Session, person: Person, notification_id: int) -> Notification | None:
    """The notification if it is this person's; someone else's is as good as absent."""
    notification = session.get(Notification, notification_id)
    if notification is None or notification.person_id != person.id:
        return None
    return notification


def mark_read(session: Session, notification: Notification) -> None:
    if notification.read_at is None:
        notification.read_at = utcnow()


def destination(notification: Notification) -> str:
    """Where opening the notification leads: its link, marked `settled=1` when what it asked
    is settled, so that the page can say so instead of asking again."""
    link = safe_link(notification.link)
    if notification.resolved_at is None or link == "/notifications":
        return link
    parts = urlsplit(link)
    query = f"{parts.query}&settled=1" if parts.query else "settled=1"
    return urlunsplit(parts._replace(query=query))


def safe_link(link: str) -> str:
    """The link if it stays on this site; a notification never sends anyone elsewhere."""
    local = link.startswith("/") and not link.startswith(("//", "/\\"))
    return link if local and "\n" not in link and "\r" not in link else "/notifications"
