"""Notifications: who is told, the e-mail written beside it, reading them."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sixfold.notifications import service
from sixfold.notifications.models import EmailMessage, Notification
from sixfold.org.models import Organisation, Person
from tests import factories


@pytest.fixture
def org(db: Session) -> Organisation:
    return factories.organisation(db)


def people(db: Session, org: Organisation, count: int) -> list[Person]:
    return [factories.person(db, org, password=None) for _ in range(count)]


def count(db: Session, model: type[Notification] | type[EmailMessage]) -> int:
    return int(db.scalar(select(func.count()).select_from(model)) or 0)


def test_each_person_is_told_once_in_app_and_by_mail(db: Session, org: Organisation) -> None:
    ada, bo = people(db, org, 2)

    told = service.notify(
        db,
        [ada, bo, ada],
        kind="review_requested",
        message="Cy asks you to review “Trail guide”.",
        link="/posts/7",
        base_url="https://sixfold.test/",
    )

    assert told == 2
    assert [n.person_id for n in db.scalars(select(Notification))] == [ada.id, bo.id]
    mails = db.scalars(select(EmailMessage).order_by(EmailMessage.id)).all()
    assert [m.to_address for m in mails] == [ada.email, bo.email]
    assert mails[0].subject == "[Sixfold] Cy asks you to review “Trail guide”."
    assert "https://sixfold.test/posts/7" in mails[0].body
    assert mails[0].state == "queued"


def test_inactive_people_and_mail_free_notices(db: Session, org: Organisation) -> None:
    ada, gone = people(db, org, 2)
    gone.is_active = False

    assert service.notify(db, [ada, gone], kind="x", message="Hi", email=False) == 1
    assert count(db, Notification) == 1
    assert count(db, EmailMessage) == 0


def test_a_long_message_makes_a_bounded_subject(db: Session, org: Organisation) -> None:
    [ada] = people(db, org, 1)
    service.notify(db, [ada], kind="x", message="word " * 200)

    mail = db.scalars(select(EmailMessage)).one()
    assert len(mail.subject) <= 500


def test_nothing_is_told_when_the_cause_rolls_back(db: Session, org: Organisation) -> None:
    [ada] = people(db, org, 1)
    db.commit()
    savepoint = db.begin_nested()
    service.notify(db, [ada], kind="x", message="Approved")
    savepoint.rollback()

    assert count(db, Notification) == 0
    assert count(db, EmailMessage) == 0


def test_unread_recent_and_mark_all_read_are_per_person(db: Session, org: Organisation) -> None:
    ada, bo = people(db, org, 2)
    for text in ("first", "second", "third"):
        service.notify(db, [ada], kind="x", message=text, email=False)
    service.notify(db, [bo], kind="x", message="bo's", email=False)
    db.flush()

    assert service.unread_count(db, ada) == 3
    assert [n.message for n in service.recent(db, ada, limit=2)] == ["third", "second"]
    service.mark_all_read(db, ada)
    db.expire_all()
    assert service.unread_count(db, ada) == 0
    assert service.unread_count(db, bo) == 1


def test_a_notification_is_opened_only_by_its_person(db: Session, org: Organisation) -> None:
    ada, bo = people(db, org, 2)
    service.notify(db, [ada], kind="x", message="Hi", link="/posts/1", email=False)
    db.flush()
    mine = db.scalars(select(Notification)).one()

    assert service.get_own(db, bo, mine.id) is None
    assert service.get_own(db, ada, 10**9) is None
    assert service.get_own(db, ada, mine.id) is mine
    service.mark_read(db, mine)
    first_read = mine.read_at
    assert first_read is not None
    service.mark_read(db, mine)
    assert mine.read_at == first_read


@pytest.mark.parametrize(
    ("link", "safe"),
    [
        ("/posts/12", "/posts/12"),
        ("/review?step=2", "/review?step=2"),
        ("", "/notifications"),
        ("https://evil.test/", "/notifications"),
        ("//evil.test/", "/notifications"),
        ("/\\evil.test", "/notifications"),
        ("javascript:alert(1)", "/notifications"),
        ("/posts/1\r\nSet-Cookie: x=y", "/notifications"),
    ],
)
def test_links_stay_on_the_site(link: str, safe: str) -> None:
    assert service.safe_link(link) == safe
