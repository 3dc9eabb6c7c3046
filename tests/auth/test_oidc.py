"""Single sign-on against a fake OpenID Connect issuer served on 127.0.0.1.

The issuer (tests/auth/fake_issuer.py) runs for the module; each test bends its answers.
The browser's part is played by the test: Sixfold's pages through TestClient, the issuer's
through httpx, following each redirect by hand.
"""

from __future__ import annotations

import secrets
import socket
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from joserfc.jwk import RSAKey
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from sixfold.audit import AuditEntry
from sixfold.auth import oidc
from sixfold.auth.models import ExternalIdentity
from sixfold.config import Settings
from sixfold.org.models import Person
from sixfold.web.access import SESSION_COOKIE
from sixfold.web.app import create_app
from tests import factories
from tests.auth.fake_issuer import CLIENT_ID, CLIENT_SECRET, FakeIssuer, serving


@pytest.fixture(scope="module")
def running_issuer() -> Iterator[FakeIssuer]:
    with serving(FakeIssuer()) as issuer:
        yield issuer


@pytest.fixture
def issuer(running_issuer: FakeIssuer) -> FakeIssuer:
    running_issuer.reset()
    return running_issuer


def _settings(tmp_path: Path, issuer_url: str | None) -> Settings:
    return Settings(
        data_dir=tmp_path,
        secret_key="test-secret-key-" + "x" * 32,
        base_url="http://testserver",
        oidc_issuer=issuer_url,
        oidc_client_id=CLIENT_ID if issuer_url else None,
        oidc_client_secret=CLIENT_SECRET if issuer_url else None,
    )


@pytest.fixture
def client(
    tmp_path: Path, issuer: FakeIssuer, session_factory: sessionmaker[Session]
) -> Iterator[TestClient]:
    app = create_app(_settings(tmp_path, issuer.url), session_factory=session_factory)
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as test_client:
        yield test_client


@pytest.fixture
def alice(db: Session, issuer: FakeIssuer) -> Person:
    """A person without a password, whom the issuer knows by the same (verified) address."""
    org = factories.organisation(db)
    email = f"alice-{secrets.token_hex(4)}@example.org"
    person = factories.person(db, org, name="Alice Example", email=email, password=None)
    db.commit()
    issuer.email = email
    return person


@pytest.fixture
def audit_mark(db: Session) -> int:
    """The last audit entry before the test, so that only the test's own entries are read."""
    return db.scalar(select(func.max(AuditEntry.seq))) or 0


def start(client: TestClient, target: str = "/people") -> str:
    """Click "Single sign-on": the URL Sixfold sends the browser to."""
    response = client.get("/auth/oidc/login", params={"next": target})
    assert response.status_code == 302, response.text
    return response.headers["location"]


def at_issuer(url: str) -> str:
    """The browser at the issuer, which approves at once: the URL it sends the browser back to."""
    with httpx.Client(trust_env=False) as browser:
        response = browser.get(url)
    assert response.status_code == 302, response.text
    return response.headers["location"]


class Page(Protocol):
    """What the tests read of a response (TestClient's, which may be httpx2's)."""

    @property
    def status_code(self) -> int: ...
    @property
    def text(self) -> str: ...
    @property
    def headers(self) -> Mapping[str, str]: ...
    @property
    def cookies(self) -> Mapping[str, str]: ...


def sign_in(client: TestClient, target: str = "/people") -> Page:
    return client.get(at_issuer(start(client, target)))


def auth_events(db: Session, since: int) -> list[tuple[str, dict[str, Any]]]:
    db.expire_all()
    entries = db.scalars(
        select(AuditEntry)
        .where(AuditEntry.action.like("auth.%"), AuditEntry.seq > since)
        .order_by(AuditEntry.seq)
    )
    return [(entry.action, entry.details) for entry in entries]


def links(db: Session, person: Person) -> list[tuple[str, str]]:
    rows = db.scalars(
        select(ExternalIdentity)
        .where(ExternalIdentity.person_id == person.id)
        .order_by(ExternalIdentity.id)
    )
    return [(row.issuer, row.subject) for row in rows]


def assert_refused(response: Page, db: Session, since: int, reason: str, says: str) -> None:
    assert response.status_code == 401
    assert says in response.text
    assert "Traceback" not in response.text
    assert 'href="/auth/oidc/login' in response.text  # the login page, ready to try again
    assert SESSION_COOKIE not in response.cookies
    action, details = auth_events(db, since)[-1]
    assert (action, details["reason"], details["method"]) == ("auth.login_failed", reason, "oidc")


def test_first_sign_in_links_the_person_by_verified_email(
    client: TestClient, issuer: FakeIssuer, db: Session, alice: Person, audit_mark: int
) -> None:
    issuer.email = alice.email.upper()

    response = sign_in(client, "/people?page=2")

    assert response.status_code == 303
    assert response.headers["location"] == "/people?page=2"
    assert client.get("/profile").status_code == 200
    assert links(db, alice) == [(issuer.url, issuer.subject)]
    events = auth_events(db, audit_mark)
    assert [action for action, _ in events] == ["auth.oidc_linked", "auth.login"]
    assert events[-1][1] == {"method": "oidc", "issuer": issuer.url}
    (asked,) = issuer.authorize_requests
    assert asked["code_challenge_method"] == "S256"
    assert asked["nonce"]
    assert asked["state"]
    assert asked["scope"] == "openid email profile"
    assert asked["redirect_uri"] == "http://testserver/auth/oidc/callback"


def test_a_later_sign_in_finds_the_person_by_subject(
    client: TestClient, issuer: FakeIssuer, db: Session, alice: Person, audit_mark: int
) -> None:
    assert sign_in(client).status_code == 303
    client.cookies.clear()
    # The provider now reports another, unverified address: the subject alone decides.
    issuer.email, issuer.email_verified = "alice.renamed@elsewhere.example", False

    response = sign_in(client)

    assert response.status_code == 303
    assert client.get("/profile").status_code == 200
    assert links(db, alice) == [(issuer.url, issuer.subject)]
    assert [action for action, _ in auth_events(db, audit_mark)] == [
        "auth.oidc_linked",
        "auth.login",
        "auth.login",
    ]


def test_email_known_only_to_userinfo_is_used(
    client: TestClient, issuer: FakeIssuer, db: Session, alice: Person
) -> None:
    issuer.email_in_id_token = False

    assert sign_in(client).status_code == 303
    assert links(db, alice) == [(issuer.url, issuer.subject)]


@pytest.mark.parametrize("verified", [False, "false", None])
def test_an_unverified_email_is_refused(
    client: TestClient,
    issuer: FakeIssuer,
    db: Session,
    alice: Person,
    audit_mark: int,
    verified: Any,
) -> None:
    issuer.email_verified = verified

    response = sign_in(client)

    assert_refused(
        response, db, audit_mark, "email_unverified", "has not verified the e-mail address"
    )
    assert links(db, alice) == []


def test_an_unknown_person_is_refused_and_not_created(
    client: TestClient, issuer: FakeIssuer, db: Session, audit_mark: int
) -> None:
    issuer.email = f"stranger-{secrets.token_hex(4)}@example.org"
    people_before = db.scalar(select(func.count()).select_from(Person))

    response = sign_in(client)

    assert_refused(response, db, audit_mark, "unknown_person", "no active Sixfold account for")
    assert issuer.email in response.text
    assert db.scalar(select(func.count()).select_from(Person)) == people_before


def test_a_new_subject_cannot_take_over_a_linked_account(
    client: TestClient, issuer: FakeIssuer, db: Session, alice: Person, audit_mark: int
) -> None:
    assert sign_in(client).status_code == 303
    client.cookies.clear()
    first = issuer.subject
    issuer.subject += "-new"  # the address was handed to someone new at the provider

    response = sign_in(client)

    assert_refused(response, db, audit_mark, "linked_to_other_subject", "already linked")
    assert links(db, alice) == [(issuer.url, first)]


def test_a_deactivated_person_is_refused(
    client: TestClient, issuer: FakeIssuer, db: Session, alice: Person, audit_mark: int
) -> None:
    assert sign_in(client).status_code == 303
    client.cookies.clear()
    alice.is_active = False
    db.commit()

    assert_refused(sign_in(client), db, audit_mark, "person_inactive", "deactivated")


def test_cancelling_at_the_issuer_is_explained(
    client: TestClient, issuer: FakeIssuer, db: Session, alice: Person, audit_mark: int
) -> None:
    issuer.deny = True

    response = sign_in(client)

    assert_refused(response, db, audit_mark, "provider:access_denied", "cancelled or refused")


def test_a_forged_error_link_does_not_end_a_sign_in(
    client: TestClient, issuer: FakeIssuer, db: Session, alice: Person, audit_mark: int
) -> None:
    back = at_issuer(start(client))

    forged = client.get("/auth/oidc/callback?error=access_denied&state=forged")

    assert_refused(forged, db, audit_mark, "state_mismatch", "could not be verified")
    assert client.get(back).status_code == 303


def test_a_tampered_state_is_refused(
    client: TestClient, issuer: FakeIssuer, db: Session, alice: Person, audit_mark: int
) -> None:
    back = urlsplit(at_issuer(start(client)))
    query = parse_qs(back.query)
    forged = urlencode({"code": query["code"][0], "state": "forged-" + query["state"][0]})

    response = client.get(f"{back.path}?{forged}")

    assert_refused(response, db, audit_mark, "state_mismatch", "could not be verified")
    assert links(db, alice) == []


def test_a_tampered_flow_cookie_is_refused(
    client: TestClient, issuer: FakeIssuer, db: Session, alice: Person, audit_mark: int
) -> None:
    back = at_issuer(start(client))
    (cookie,) = [c for c in client.cookies.jar if c.name == oidc.FLOW_COOKIE]
    assert cookie.path == oidc.FLOW_PATH
    assert cookie.value
    cookie.value = "x" + cookie.value

    response = client.get(back)

    assert_refused(response, db, audit_mark, "flow_tampered", "could not be verified")


def test_a_callback_from_another_browser_or_replayed_is_refused(
    client: TestClient, issuer: FakeIssuer, db: Session, alice: Person, audit_mark: int
) -> None:
    back = at_issuer(start(client))
    assert client.get(back).status_code == 303

    assert_refused(client.get(back), db, audit_mark, "flow_missing", "another browser")


def test_an_expired_sign_in_is_refused(
    client: TestClient,
    issuer: FakeIssuer,
    db: Session,
    alice: Person,
    audit_mark: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    back = at_issuer(start(client))
    monkeypatch.setattr(oidc, "FLOW_SECONDS", -1)

    assert_refused(client.get(back), db, audit_mark, "flow_expired", "has expired")


OTHER_KEY = RSAKey.generate_key(2048, {"kid": "key-1"})
UNPUBLISHED_KEY = RSAKey.generate_key(2048, {"kid": "key-9"})


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"aud": "another-client"}, "id_token_claim:aud"),
        ({"iss": "http://127.0.0.1:1/not-the-issuer"}, "id_token_claim:iss"),
        ({"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200}, "id_token_expired"),
        ({"nonce": "replayed-nonce"}, "id_token_claim:nonce"),
        ("sign_with_other_key", "id_token_signature:bad_signature"),
        ("sign_with_unpublished_key", "id_token_signature:invalid_key_id"),
    ],
)
def test_an_id_token_that_fails_a_check_is_refused(
    client: TestClient,
    issuer: FakeIssuer,
    db: Session,
    alice: Person,
    audit_mark: int,
    change: dict[str, Any] | str,
    reason: str,
) -> None:
    if change == "sign_with_other_key":
        issuer.sign_with = OTHER_KEY
    elif change == "sign_with_unpublished_key":
        issuer.sign_with = UNPUBLISHED_KEY
    else:
        assert isinstance(change, dict)
        issuer.id_token_overrides = change

    response = sign_in(client)

    assert_refused(response, db, audit_mark, reason, "could not be verified")
    assert links(db, alice) == []


def test_an_unreachable_issuer_is_explained(
    tmp_path: Path, session_factory: sessionmaker[Session]
) -> None:
    with socket.socket() as probe:  # a port that was free a moment ago and has no listener
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    app = create_app(_settings(tmp_path, closed), session_factory=session_factory)
    with TestClient(app, follow_redirects=False) as test_client:
        response = test_client.get("/auth/oidc/login")

    assert response.status_code == 503
    assert "Traceback" not in response.text
    assert "could not be reached" in response.text


def test_the_login_page_offers_single_sign_on(client: TestClient) -> None:
    page = client.get("/login", params={"next": "/teams"})

    assert 'href="/auth/oidc/login?next=/teams"' in page.text
    assert "Single sign-on" in page.text


@pytest.mark.parametrize("path", ["/auth/oidc/login", "/auth/oidc/callback?code=x&state=y"])
def test_without_settings_single_sign_on_is_not_found(
    tmp_path: Path, session_factory: sessionmaker[Session], path: str
) -> None:
    app = create_app(_settings(tmp_path, None), session_factory=session_factory)
    with TestClient(app, follow_redirects=False) as test_client:
        response = test_client.get(path)
        login_page = test_client.get("/login")

    assert response.status_code == 404
    assert "Single sign-on is not set up" in response.text
    assert "/auth/oidc/login" not in login_page.text
