"""Notifications: who is told, the e-mail written beside it, reading them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sixfold.db import utcnow
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


def test_settling_a_topic_keeps_the_notices_read_and_done_and_stops_their_mail(
    db: Session, org: Organisation
) -> None:
    ada, bo = people(db, org, 2)
    service.notify(db, [ada, bo], kind="review_requested", message="Review 7", topic="post:7")
    service.notify(db, [ada], kind="review_requested", message="Review 8", topic="post:8")

    assert service.resolve(db, "post:7") == 2

    assert service.unread_count(db, ada) == 1
    assert service.unread_count(db, bo) == 0
    by_message = {(n.person_id, n.message): n for n in db.scalars(select(Notification))}
    settled = by_message[(ada.id, "Review 7")]
    assert settled.resolved_at is not None
    assert settled.read_at == settled.resolved_at
    assert by_message[(ada.id, "Review 8")].resolved_at is None
    states = {m.subject: m.state for m in db.scalars(select(EmailMessage))}
    assert states == {"[Sixfold] Review 7": "withdrawn", "[Sixfold] Review 8": "queued"}
    assert service.resolve(db, "post:7") == 0  # settled once


def test_settling_for_some_people_leaves_the_others_asked(db: Session, org: Organisation) -> None:
    ada, bo = people(db, org, 2)
    service.notify(db, [ada, bo], kind="review_requested", message="Review 7", topic="post:7")
    db.flush()
    read_before = db.scalars(select(Notification).where(Notification.person_id == ada.id)).one()
    service.mark_read(db, read_before)
    first_read = read_before.read_at

    assert service.resolve(db, "post:7", people=[ada.id]) == 1

    assert read_before.read_at == first_read  # when it was read stays true
    assert service.unread_count(db, bo) == 1
    mails = {m.to_address: m.state for m in db.scalars(select(EmailMessage))}
    assert mails == {ada.email: "withdrawn", bo.email: "queued"}


def test_a_mail_a_worker_holds_is_left_to_it(db: Session, org: Organisation) -> None:
    [ada] = people(db, org, 1)
    service.notify(db, [ada], kind="review_requested", message="Review 7", topic="post:7")
    mail = db.scalars(select(EmailMessage)).one()
    mail.locked_by, mail.locked_until = "worker-a", utcnow() + timedelta(minutes=1)

    service.resolve(db, "post:7")

    assert mail.state == "queued"


def test_opening_a_settled_notice_says_so_to_the_page(db: Session, org: Organisation) -> None:
    [ada] = people(db, org, 1)
    for link in ("/posts/7", "/review?step=2", "https://evil.test/"):
        service.notify(db, [ada], kind="x", message=link, link=link, topic="t", email=False)
    db.flush()
    notices = {n.link: n for n in db.scalars(select(Notification))}
    assert service.destination(notices["/posts/7"]) == "/posts/7"

    service.resolve(db, "t")

    assert service.destination(notices["/posts/7"]) == "/posts/7?settled=1"
    assert service.destination(notices["/review?step=2"]) == "/review?step=2&settled=1"
    assert service.destination(notices["https://evil.test/"]) == "/notifications"


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
