"""Every route has exactly one access rule, and each rule holds for every role.

A new route without a rule fails here, and so does a rule that lets the wrong role in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from sixfold.auth import service as auth_service
from sixfold.auth.permissions import Role, permissions_for
from sixfold.config import Settings
from sixfold.org import imports
from sixfold.web.access import SESSION_COOKIE, Require, session_signer
from tests import factories

# The framework's own documentation routes: public by design, no data in them.
NO_RULE_NEEDED = {"/openapi.json", "/api/docs", "/docs/oauth2-redirect"}

# The access policy, written down independently of the code: a route missing here, or a
# route whose declared rule differs, fails the test.
EXPECTED = {
    "GET /": "signed in",
    "GET /favicon.ico": "anyone",
    "GET /healthz": "anyone",
    "GET /login": "anyone",
    "POST /login": "anyone",
    "POST /logout": "signed in",
    "POST /logout/everywhere": "signed in",
    "GET /profile": "signed in",
    "POST /profile/password": "signed in",
    "POST /profile/tokens": "signed in",
    "POST /profile/tokens/{token_id}/revoke": "signed in",
    "GET /roles": "permission roles.view",
    "POST /people/{person_id}/roles": "permission roles.assign",
    "POST /people/{person_id}/roles/{assignment_id}/revoke": "permission roles.assign",
    "GET /api/v1/me": "signed in",
    "GET /people": "permission directory.view",
    "GET /people/{person_id}": "permission directory.view",
    "POST /people/{person_id}/standing": "permission people.manage",
    "POST /people/{person_id}/unlock": "permission people.manage",
    "GET /teams": "permission directory.view",
    "GET /teams/{team_id}": "permission directory.view",
    "GET /api/v1/people": "permission directory.view",
    "GET /api/v1/people/{person_id}": "permission directory.view",
    "GET /api/v1/teams": "permission directory.view",
    "GET /imports": "permission org.import",
    "POST /imports": "permission org.import",
    "GET /imports/{job_id}": "permission org.import",
    "POST /api/v1/imports": "permission org.import",
    "GET /api/v1/imports/{job_id}": "permission org.import",
    "GET /audit": "permission audit.view",
    "GET /audit.csv": "permission audit.view",
    "GET /api/v1/audit": "permission audit.view",
    "GET /auth/oidc/login": "anyone",
    "GET /auth/oidc/callback": "anyone",
}


def rules_of(dependant: Dependant) -> list[Require]:
    found = [d.call for d in dependant.dependencies if isinstance(d.call, Require)]
    for sub in dependant.dependencies:
        found.extend(rules_of(sub))
    return found


def api_routes(app: FastAPI) -> list[APIRoute]:
    return [r for r in app.routes if isinstance(r, APIRoute) and r.path not in NO_RULE_NEEDED]


def _key(route: APIRoute) -> str:
    return f"{sorted(route.methods - {'HEAD'})[0]} {route.path}"


def test_every_route_declares_exactly_one_rule(app: FastAPI) -> None:
    missing = {
        r.path: len(rules_of(r.dependant))
        for r in api_routes(app)
        if len(rules_of(r.dependant)) != 1
    }
    assert missing == {}


def test_every_rule_is_the_documented_policy(app: FastAPI) -> None:
    declared = {_key(r): rules_of(r.dependant)[0].describe() for r in api_routes(app)}
    assert declared == EXPECTED


@dataclass
class Fixture:
    ids: dict[str, int]
    people: dict[str, Any]


@pytest.fixture
def world(db: Session, settings: Settings) -> Fixture:
    org = factories.organisation(db)
    team = factories.team(db, org)
    # No passwords: sessions are created directly, and argon2 is deliberately slow.
    people = {
        role.value: factories.person(db, org, roles=(role,), team_=team, password=None)
        for role in Role
    }
    people["nobody"] = factories.person(db, org, team_=team, password=None)
    subject = factories.person(db, org, team_=team, password=None)
    grant = auth_service.assign_role(
        db, subject, Role.CONTRIBUTOR, team=team, actor=factories.ACTOR
    )
    job = imports.queue_import(
        db, org, filename="x.csv", content=b"id\n", skip_invalid=False, actor=factories.ACTOR
    )
    publishing = factories.publishing_world(db, org, author=subject)
    db.commit()
    ids = {
        "person_id": subject.id,
        "team_id": team.id,
        "assignment_id": grant.id,
        "job_id": job.id,
        "token_id": 10**6,
        **publishing,
    }
    return Fixture(ids=ids, people=people)


def _url(route: APIRoute, ids: dict[str, int]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: str(ids[m.group(1)]), route.path)


def _sign_in_as(client: TestClient, db: Session, settings: Settings, person: Any) -> None:
    """A fresh session for each request: some routes (sign out) end the one they run in."""
    client.cookies.clear()
    client.cookies.set("sixfold_csrf", "csrf-test-token")
    if person is not None:
        web_session = auth_service.start_session(
            db, person, settings=settings, ip_address="127.0.0.1", user_agent="tests"
        )
        db.commit()
        client.cookies.set(SESSION_COOKIE, session_signer(settings).dumps(web_session.id))


def _call(client: TestClient, route: APIRoute, url: str) -> httpx.Response:
    method = sorted(route.methods - {"HEAD"})[0]
    headers = {"x-csrf-token": "csrf-test-token"}
    if method == "GET":
        return client.get(url, headers=headers)
    return client.request(method, url, headers=headers, data={})


def _denied(response: httpx.Response, expected: str) -> bool:
    if expected == "anyone":
        # A public route may still answer 401 (a failed login): only 403 means "not you".
        return response.status_code == 403
    sent_to_login = response.status_code == 303 and response.headers["location"].startswith(
        "/login?next="
    )
    return response.status_code in (401, 403) or sent_to_login


def _allowed(expected: str, role: str | None) -> bool:
    if expected == "anyone":
        return True
    if role is None:
        return False
    if expected == "signed in":
        return True
    permission = expected.removeprefix("permission ")
    return role != "nobody" and permission in {
        p.value for p in permissions_for(Role(role), scoped=False)
    }


@pytest.mark.parametrize("role", [*[r.value for r in Role], "nobody", None])
def test_each_rule_holds_for_the_role(
    role: str | None, app: FastAPI, db: Session, settings: Settings, world: Fixture
) -> None:
    wrong = []
    routes = api_routes(app)
    assert len(routes) == len(EXPECTED)
    client = TestClient(app, follow_redirects=False)
    for route in routes:
        expected = EXPECTED[_key(route)]
        _sign_in_as(client, db, settings, world.people[role] if role else None)
        response = _call(client, route, _url(route, world.ids))
        if _allowed(expected, role) == _denied(response, expected):
            wrong.append(f"{_key(route)} ({expected}): {response.status_code}")
    assert wrong == []
