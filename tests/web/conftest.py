from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from sixfold.auth import service as auth_service
from sixfold.config import Settings
from sixfold.org.models import Person
from sixfold.web.access import CSRF_COOKIE, SESSION_COOKIE, session_signer
from sixfold.web.app import create_app


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path,
        secret_key="test-secret-key-" + "x" * 32,
        login_max_failures=3,
        login_lock_seconds=60,
    )


@pytest.fixture
def app(settings: Settings, session_factory: sessionmaker[Session]) -> FastAPI:
    return create_app(settings, session_factory=session_factory)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as test_client:
        yield test_client


def csrf_of(client: TestClient) -> str:
    """Fetch a page so the CSRF cookie is set, and return its value."""
    if "sixfold_csrf" not in client.cookies:
        client.get("/login")
    return str(client.cookies["sixfold_csrf"])


def sign_in(client: TestClient, email: str, password: str) -> None:
    token = csrf_of(client)
    response = client.post(
        "/login", data={"email": email, "password": password, "csrf_token": token, "next": "/"}
    )
    assert response.status_code == 303, response.text


def sign_in_directly(
    client: TestClient, db: Session, settings: Settings, person: Person | None, *, csrf: str
) -> None:
    """Make `client` a browser signed in as `person` (None: signed out) with CSRF token `csrf`.

    The session is created directly: argon2 is deliberately slow, and the password form has
    tests of its own. A fresh session each time, since some routes end the one they run in.
    """
    client.cookies.clear()
    client.cookies.set(CSRF_COOKIE, csrf)
    if person is not None:
        web_session = auth_service.start_session(
            db, person, settings=settings, ip_address="127.0.0.1", user_agent="tests"
        )
        db.commit()
        client.cookies.set(SESSION_COOKIE, session_signer(settings).dumps(web_session.id))
