"""Signing in and out, lock-out, CSRF, API tokens and security headers, through HTTP."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from sixfold import audit
from sixfold.auth import service as auth_service
from sixfold.auth.models import WebSession
from sixfold.auth.permissions import Role
from sixfold.config import Settings
from tests import factories
from tests.web.conftest import csrf_of, sign_in


def _actions(db: Session) -> list[str]:
    return list(db.scalars(select(audit.AuditEntry.action).order_by(audit.AuditEntry.seq)))


def test_sign_in_sets_a_hardened_cookie_and_audits(
    client: TestClient, db: Session, settings: Settings
) -> None:
    person = factories.person(
        db, factories.organisation(db), roles=(Role.CONTRIBUTOR,), settings=settings
    )
    db.commit()
    token = csrf_of(client)
    response = client.post(
        "/login",
        data={
            "email": person.email.upper(),
            "csrf_token": token,
            "password": factories.PASSWORD,
            "next": "/people",
        },
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/people"
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert client.get("/").status_code == 200
    assert "auth.login" in _actions(db)


def test_wrong_password_and_unknown_account_read_the_same(
    client: TestClient, db: Session, settings: Settings
) -> None:
    person = factories.person(db, factories.organisation(db), settings=settings)
    db.commit()
    token = csrf_of(client)
    wrong = client.post(
        "/login", data={"email": person.email, "password": "nope" * 4, "csrf_token": token}
    )
    unknown = client.post(
        "/login", data={"email": "ghost@example.org", "password": "x" * 12, "csrf_token": token}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert auth_service.LOGIN_FAILED in wrong.text
    assert auth_service.LOGIN_FAILED in unknown.text
    assert _actions(db).count("auth.login_failed") == 2


def test_repeated_failures_lock_the_account(
    client: TestClient, db: Session, settings: Settings
) -> None:
    person = factories.person(db, factories.organisation(db), settings=settings)
    db.commit()
    token = csrf_of(client)
    for _ in range(settings.login_max_failures):
        client.post(
            "/login",
            data={"email": person.email, "password": "wrong-password", "csrf_token": token},
        )
    locked = client.post(
        "/login", data={"email": person.email, "csrf_token": token, "password": factories.PASSWORD}
    )
    assert locked.status_code == 401
    assert "locked" in locked.text
    assert "auth.login_refused_locked" in _actions(db)


def test_open_redirects_are_refused(client: TestClient, db: Session, settings: Settings) -> None:
    person = factories.person(db, factories.organisation(db), settings=settings)
    db.commit()
    token = csrf_of(client)
    for target in ("https://evil.example/", "//evil.example", "javascript:alert(1)"):
        response = client.post(
            "/login",
            data={
                "email": person.email,
                "csrf_token": token,
                "password": factories.PASSWORD,
                "next": target,
            },
        )
        assert response.headers["location"] == "/"


def test_forms_without_the_csrf_token_are_refused(
    client: TestClient, db: Session, settings: Settings
) -> None:
    person = factories.person(db, factories.organisation(db), settings=settings)
    db.commit()
    sign_in(client, person.email, factories.PASSWORD)
    response = client.post("/profile/tokens", data={"name": "sneaky"})
    assert response.status_code == 403
    forged = client.post("/profile/tokens", data={"name": "sneaky", "csrf_token": "forged"})
    assert forged.status_code == 403
    assert auth_service.tokens_of(db, person) == []


def test_sign_out_everywhere_ends_every_session(
    app: object, client: TestClient, db: Session, settings: Settings
) -> None:
    person = factories.person(db, factories.organisation(db), settings=settings)
    db.commit()
    sign_in(client, person.email, factories.PASSWORD)
    with TestClient(client.app, follow_redirects=False) as other:
        sign_in(other, person.email, factories.PASSWORD)
        assert db.scalars(select(WebSession).where(WebSession.person_id == person.id)).all()
        response = client.post("/logout/everywhere", data={"csrf_token": csrf_of(client)})
        assert response.status_code == 303
        assert other.get("/").status_code == 303
    db.expire_all()
    assert db.scalars(select(WebSession).where(WebSession.person_id == person.id)).all() == []


def test_api_tokens_authenticate_scripts_until_revoked(
    client: TestClient, db: Session, settings: Settings
) -> None:
    person = factories.person(
        db, factories.organisation(db), roles=(Role.LEADER,), settings=settings
    )
    token, secret = auth_service.create_api_token(db, person, "script", actor=factories.ACTOR)
    db.commit()
    assert token.token_hash != secret
    assert secret not in str(db.scalars(select(audit.AuditEntry.details)).all())
    headers = {"Authorization": f"Bearer {secret}"}
    me = client.get("/api/v1/me", headers=headers)
    assert me.status_code == 200
    assert me.json()["email"] == person.email
    assert me.json()["via"] == "token"
    auth_service.revoke_api_token(db, person, token.id, actor=factories.ACTOR)
    db.commit()
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_unsigned_api_calls_get_json_401(client: TestClient) -> None:
    response = client.get("/api/v1/people")
    assert response.status_code == 401
    assert response.json() == {"error": "Please sign in."}


def test_pages_carry_security_headers(client: TestClient) -> None:
    headers = client.get("/login").headers
    assert "script-src 'self'" in headers["content-security-policy"]
    assert "unsafe-inline" not in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"


def test_output_is_escaped(client: TestClient, db: Session, settings: Settings) -> None:
    org = factories.organisation(db)
    viewer = factories.person(db, org, roles=(Role.CONTRIBUTOR,), settings=settings)
    factories.person(db, org, name="<script>alert('x')</script>", password=None)
    db.commit()
    sign_in(client, viewer.email, factories.PASSWORD)
    page = client.get("/people").text
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert" in page


def test_unknown_pages_are_explained_not_dumped(client: TestClient) -> None:
    page = client.get("/no-such-page", headers={"accept": "text/html"})
    assert page.status_code == 404
    assert "There is no page at this address." in page.text
    api = client.get("/api/v1/no-such-thing")
    assert api.status_code == 404
    assert api.json() == {"error": "Not Found"}


def test_an_administrator_sees_a_lock_and_lifts_it_with_a_confirmation(
    client: TestClient, db: Session, settings: Settings
) -> None:
    org = factories.organisation(db)
    person = factories.person(db, org, settings=settings)
    admin = factories.person(db, org, roles=(Role.ADMINISTRATOR,), settings=settings)
    db.commit()
    token = csrf_of(client)
    for _ in range(settings.login_max_failures):
        client.post(
            "/login",
            data={"email": person.email, "password": "wrong-password", "csrf_token": token},
        )
    sign_in(client, admin.email, factories.PASSWORD)
    page = client.get(f"/people/{person.id}").text
    assert "sign-in locked after failed attempts until" in page
    assert f'action="/people/{person.id}/unlock"' in page
    unlocked = client.post(f"/people/{person.id}/unlock", data={"csrf_token": csrf_of(client)})
    assert unlocked.headers["location"] == f"/people/{person.id}?done=unlocked"
    page = client.get(unlocked.headers["location"]).text
    assert f"Sign-in unlocked: {person.name} can sign in again." in page
    assert "sign-in locked" not in page
    assert f'action="/people/{person.id}/unlock"' not in page  # nothing left to unlock
    assert "auth.unlocked" in _actions(db)
    standing = client.post(
        f"/people/{person.id}/standing",
        data={"csrf_token": csrf_of(client), "without_review": "true"},
    )
    page = client.get(standing.headers["location"]).text
    assert f"Saved: posts by {person.name} go out without review." in page
