"""The notifications page and the unread count in the header."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from sixfold.auth import service as auth_service
from sixfold.auth.permissions import Role
from sixfold.config import Settings
from sixfold.notifications import service
from sixfold.notifications.models import Notification
from sixfold.org.models import Person
from sixfold.web.access import CSRF_COOKIE, SESSION_COOKIE, session_signer
from sixfold.web.app import create_app
from tests import factories

CSRF = "csrf-notifications"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, secret_key="notification-views-" + "n" * 32)


@pytest.fixture
def client(settings: Settings, session_factory: sessionmaker[Session]) -> Iterator[TestClient]:
    app = create_app(settings, session_factory=session_factory)
    with TestClient(app, follow_redirects=False) as test_client:
        yield test_client


@pytest.fixture
def ada(db: Session) -> Person:
    org = factories.organisation(db)
    return factories.person(db, org, roles=(Role.CONTRIBUTOR,), name="Ada", password=None)


def sign_in(client: TestClient, db: Session, settings: Settings, person: Person) -> None:
    web = auth_service.start_session(
        db, person, settings=settings, ip_address="127.0.0.1", user_agent="tests"
    )
    db.commit()
    client.cookies.set(SESSION_COOKIE, session_signer(settings).dumps(web.id))
    client.cookies.set(CSRF_COOKIE, CSRF)


def tell(db: Session, person: Person, message: str, link: str = "/posts/1") -> Notification:
    service.notify(db, [person], kind="review_requested", message=message, link=link, email=False)
    db.commit()
    return db.scalars(select(Notification).order_by(Notification.id.desc())).first()  # type: ignore[return-value]


def unread_badge(html: str) -> str | None:
    match = re.search(r'class="unread-count">(\d+)', html)
    return match.group(1) if match else None


def test_the_page_needs_a_sign_in(client: TestClient) -> None:
    response = client.get("/notifications")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/notifications"


def test_newest_first_unread_highlighted_and_counted_in_the_header(
    client: TestClient, db: Session, settings: Settings, ada: Person
) -> None:
    older = tell(db, ada, "Bo approved “Trail guide”.")
    service.mark_read(db, older)
    newer = tell(db, ada, "Cy asks you to review <b>“Spring sale”</b>.")
    bo = factories.person(db, factories.organisation(db), name="Bo", password=None)
    tell(db, bo, "Not for Ada")
    sign_in(client, db, settings, ada)

    html = client.get("/notifications").text

    assert html.index("Spring sale") < html.index("Trail guide")
    assert "Not for Ada" not in html
    assert "&lt;b&gt;" in html  # messages are text, never markup
    unread = re.findall(r'<li class="notification unread">(.*?)</li>', html, re.S)
    assert len(unread) == 1
    assert f'href="/notifications/{newer.id}"' in unread[0]
    assert "1 unread" in html
    assert unread_badge(html) == "1"
    # Every page carries the count.
    assert unread_badge(client.get("/profile").text) == "1"


def test_a_settled_request_is_shown_done_and_not_counted(
    client: TestClient, db: Session, settings: Settings, ada: Person
) -> None:
    service.notify(
        db, [ada], kind="review_requested", message="Review it", link="/posts/7", topic="post:7"
    )
    tell(db, ada, "Something new")
    service.resolve(db, "post:7")
    settled = db.scalars(select(Notification).where(Notification.topic == "post:7")).one()
    db.commit()
    sign_in(client, db, settings, ada)

    html = client.get("/notifications").text

    assert unread_badge(html) == "1"
    [done] = re.findall(r'<li class="notification">(.*?)</li>', html, re.S)
    assert "Review it" in done
    assert ">done</span>" in done
    opened = client.get(f"/notifications/{settled.id}", follow_redirects=False)
    assert opened.headers["location"] == "/posts/7?settled=1"


def test_mark_all_read(client: TestClient, db: Session, settings: Settings, ada: Person) -> None:
    tell(db, ada, "One")
    tell(db, ada, "Two")
    sign_in(client, db, settings, ada)

    assert client.post("/notifications/read").status_code == 403  # no CSRF token
    response = client.post("/notifications/read", data={"csrf_token": CSRF})

    assert response.status_code == 303
    assert response.headers["location"] == "/notifications"
    html = client.get("/notifications").text
    assert "notification unread" not in html
    assert "Nothing unread." in html
    assert unread_badge(html) is None


def test_opening_a_notification_marks_it_read_and_follows_its_link(
    client: TestClient, db: Session, settings: Settings, ada: Person
) -> None:
    mine = tell(db, ada, "Review please", link="/posts/42")
    sneaky = tell(db, ada, "Elsewhere", link="https://evil.test/")
    bo = factories.person(db, factories.organisation(db), password=None)
    theirs = tell(db, bo, "Bo's")
    sign_in(client, db, settings, ada)

    response = client.get(f"/notifications/{mine.id}")
    assert response.status_code == 303
    assert response.headers["location"] == "/posts/42"
    db.expire_all()
    assert mine.read_at is not None
    assert client.get(f"/notifications/{sneaky.id}").headers["location"] == "/notifications"
    assert client.get(f"/notifications/{theirs.id}").status_code == 404
    db.expire_all()
    assert theirs.read_at is None


def test_an_empty_page_says_what_will_arrive(
    client: TestClient, db: Session, settings: Settings, ada: Person
) -> None:
    sign_in(client, db, settings, ada)
    html = client.get("/notifications").text
    assert "No notifications yet." in html
    assert "Mark all as read" not in html
