"""Tell people what needs them: an in-app notification, and an e-mail through the outbox."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select, update
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
) -> int:
    """Notify each person once, in the caller's transaction; return how many were told.

    The e-mail is a row in the outbox: it is sent by a worker after this transaction
    commits, and not at all if it rolls back.
    """
    told = 0
    seen: set[int] = set()
    for person in people:
        if person.id in seen or not person.is_active:
            continue
        seen.add(person.id)
        session.add(
            Notification(
                organisation_id=person.organisation_id,
                person_id=person.id,
                kind=kind,
                message=message,
                link=link,
            )
        )
        if email and person.email:
            body = f"{message}\n\n{base_url.rstrip('/')}{link}\n" if link else f"{message}\n"
            EmailMessage.create(
                session,
                organisation_id=person.organisation_id,
                to_address=person.email,
                subject=SUBJECT_PREFIX + message[:200],
                body=body + "\n— Sixfold\n",
            )
        told += 1
    return told


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


def safe_link(link: str) -> str:
    """The link if it stays on this site; a notification never sends anyone elsewhere."""
    local = link.startswith("/") and not link.startswith(("//", "/\\"))
    return link if local and "\n" not in link and "\r" not in link else "/notifications"
