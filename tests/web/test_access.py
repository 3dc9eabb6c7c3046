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
from sixfold.web.access import Require
from tests import factories
from tests.web.conftest import sign_in_directly

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
    "GET /settings": "signed in",
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
    # Publishing JSON API (publishing/api.py); the composer's routes are in api_compose.py.
    "GET /api/v1/posts": "permission posts.draft",
    "GET /api/v1/posts/{post_id}": "permission posts.draft",
    "POST /api/v1/posts/{post_id}/submit": "permission posts.draft",
    "POST /api/v1/posts/{post_id}/approve": "permission posts.review",
    "POST /api/v1/posts/{post_id}/reject": "permission posts.review",
    "POST /api/v1/posts/{post_id}/override": "permission posts.override_block",
    "POST /api/v1/posts/{post_id}/schedule": "permission posts.draft",
    "POST /api/v1/posts/{post_id}/cancel": "permission posts.draft",
    "GET /api/v1/publications": "permission posts.draft",
    "POST /api/v1/publications/{publication_id}/retry": "permission posts.draft",
    "GET /api/v1/publishing/pauses": "signed in",
    "POST /api/v1/publishing/pause": "permission publishing.pause",
    "POST /api/v1/publishing/resume": "permission publishing.pause",
    # The composer's JSON routes (publishing/api_compose.py).
    "POST /api/v1/risk/check": "permission posts.draft",
    "POST /api/v1/character-counts": "permission posts.draft",
    "POST /api/v1/posts": "permission posts.draft",
    "PUT /api/v1/posts/{post_id}": "permission posts.draft",
    "POST /api/v1/posts/{post_id}/media": "permission posts.draft",
    "PATCH /api/v1/posts/{post_id}/media/{media_id}": "permission posts.draft",
    "DELETE /api/v1/posts/{post_id}/media/{media_id}": "permission posts.draft",
    "GET /api/v1/link-preview": "permission posts.draft",
    "GET /media/{media_id}": "signed in",
    # Composer, post page, review queue, stream (publishing/views*.py).
    "GET /posts": "permission posts.draft",
    "GET /posts/new": "permission posts.draft",
    "POST /posts/new": "permission posts.draft",
    "GET /posts/{post_id}/edit": "permission posts.draft",
    "POST /posts/{post_id}/edit": "permission posts.draft",
    "GET /posts/{post_id}": "permission posts.draft",
    "POST /posts/{post_id}/submit": "permission posts.draft",
    "POST /posts/{post_id}/approve": "permission posts.review",
    "POST /posts/{post_id}/reject": "permission posts.review",
    "POST /posts/{post_id}/override": "permission posts.override_block",
    "POST /posts/{post_id}/unschedule": "permission posts.draft",
    "POST /posts/{post_id}/cancel": "permission posts.draft",
    "POST /publications/{publication_id}/retry": "permission posts.draft",
    "GET /review": "permission posts.review",
    "GET /stream": "signed in",
    # Notifications (notifications/views.py).
    "GET /notifications": "signed in",
    "POST /notifications/read": "signed in",
    "GET /notifications/{notification_id}": "signed in",
    # Calendar, crisis pause, channels, publishing settings (publishing/views_*.py,
    # channels/views.py).
    "GET /calendar": "permission posts.draft",
    "GET /publishing/pause": "permission publishing.pause",
    "POST /publishing/pause": "permission publishing.pause",
    "POST /publishing/resume": "permission publishing.pause",
    "GET /publishing/overdue": "permission publishing.pause",
    "POST /publishing/overdue/publish-all": "permission publishing.pause",
    "POST /publishing/overdue/cancel-all": "permission publishing.pause",
    "POST /publications/{publication_id}/publish-now": "permission publishing.pause",
    "POST /publications/{publication_id}/reschedule": "permission publishing.pause",
    "POST /publications/{publication_id}/cancel": "permission publishing.pause",
    "GET /channels": "permission settings.manage",
    "GET /channels/new": "permission settings.manage",
    "POST /channels": "permission settings.manage",
    "GET /channels/{channel_id}": "permission settings.manage",
    "POST /channels/{channel_id}": "permission settings.manage",
    "POST /channels/{channel_id}/disable": "permission settings.manage",
    "POST /channels/{channel_id}/verify": "permission settings.manage",
    # Connecting networks, reconnecting and the test post (channels/views_connect.py); the
    # OAuth callback is a GET the network sends the person to, under the same rule.
    "GET /channels/connect/{kind}": "permission settings.manage",
    "POST /channels/connect/{kind}": "permission settings.manage",
    "GET /channels/connect/{kind}/callback": "permission settings.manage",
    "POST /channels/{channel_id}/reconnect": "permission settings.manage",
    "POST /channels/{channel_id}/test-post": "permission settings.manage",
    "POST /channels/{channel_id}/test-post/delete": "permission settings.manage",
    "GET /settings/publishing": "permission settings.manage",
    "POST /settings/publishing": "permission settings.manage",
    # Guardrails: the risk engine's settings (guardrails/views.py).
    "GET /settings/risk": "permission guardrails.manage",
    "GET /settings/risk/events/new": "permission guardrails.manage",
    "POST /settings/risk/events": "permission guardrails.manage",
    "GET /settings/risk/events/{event_id}": "permission guardrails.manage",
    "POST /settings/risk/events/{event_id}": "permission guardrails.manage",
    "POST /settings/risk/events/{event_id}/end": "permission guardrails.manage",
    "GET /settings/risk/try": "permission guardrails.manage",
    "POST /settings/risk/try": "permission guardrails.manage",
    "GET /settings/risk/policy": "permission guardrails.manage",
    "POST /settings/risk/policy": "permission guardrails.manage",
    "POST /settings/risk/feed/fetch": "permission guardrails.manage",
    "GET /settings/risk/suggestions": "permission guardrails.manage",
    "POST /settings/risk/suggestions/{suggestion_id}/confirm": "permission guardrails.manage",
    "POST /settings/risk/suggestions/{suggestion_id}/dismiss": "permission guardrails.manage",
    # Network analysis (network/views.py, network/api.py): organisation figures for leaders and
    # analysts, anything about a person (and running analyses) for network analysts only.
    "GET /vendor/plotly.min.js": "anyone",
    "GET /network": "permission network.view",
    "GET /network/analyses/{analysis_id}": "permission network.view",
    "GET /network/analyses": "permission network.view_people",
    "POST /network/analyses": "permission network.view_people",
    "POST /network/analyses/{analysis_id}/rerun": "permission network.view_people",
    "GET /network/analyses/{analysis_id}/people": "permission network.view_people",
    "GET /network/analyses/{analysis_id}/people/{person_id}": "permission network.view_people",
    "POST /api/v1/network/analyses": "permission network.view_people",
    "GET /api/v1/network/analyses/{analysis_id}": "permission network.view",
    "GET /api/v1/network/analyses/{analysis_id}/report": "permission network.view_people",
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
    ids: dict[str, int | str]
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
        db, subject, Role.CONTRIBUTOR, team=team, actor=factories.ACTOR, by=None
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
        "analysis_id": 10**6,
        "kind": "null",
        **publishing,
    }
    return Fixture(ids=ids, people=people)


def _url(route: APIRoute, ids: dict[str, int | str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: str(ids[m.group(1)]), route.path)


def _sign_in_as(client: TestClient, db: Session, settings: Settings, person: Any) -> None:
    sign_in_directly(client, db, settings, person, csrf="csrf-test-token")


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
