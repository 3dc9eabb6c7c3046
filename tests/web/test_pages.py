"""The directory, roles, imports and audit pages doing their work end to end over HTTP."""

from __future__ import annotations

import csv
import io

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from sixfold import audit
from sixfold.auth import service as auth_service
from sixfold.auth.permissions import Role
from sixfold.config import Settings
from sixfold.jobs import Runner
from sixfold.org import imports as imports_module
from sixfold.org.imports import ImportJob
from sixfold.org.models import Person, Team
from sixfold.web.audit_views import safe_cell
from tests import factories
from tests.web.conftest import csrf_of, sign_in

CHART = (
    "id,name,email,title,department,manager_id,cost_centre\n"
    "E1,Ada Boss,ada@example.org,CEO,Executive,,CC1\n"
    "E2,Bo Lead,bo@example.org,Head of Platform,Engineering/Platform,E1,CC2\n"
    "E3,Cy Dev,cy@example.org,Engineer,Engineering/Platform,E2,CC2\n"
)


def _admin(client: TestClient, db: Session, settings: Settings) -> Person:
    admin = factories.person(
        db, factories.organisation(db), roles=(Role.ADMINISTRATOR,), settings=settings
    )
    db.commit()
    sign_in(client, admin.email, factories.PASSWORD)
    return admin


def test_upload_is_imported_by_the_worker_and_shown(
    client: TestClient,
    db: Session,
    settings: Settings,
    session_factory: sessionmaker[Session],
) -> None:
    _admin(client, db, settings)
    response = client.post(
        "/imports",
        data={"csrf_token": csrf_of(client)},
        files={"file": ("chart.csv", CHART.encode(), "text/csv")},
    )
    assert response.status_code == 303
    job_url = response.headers["location"]
    assert "queued" in client.get(job_url).text
    assert Runner(session_factory, models=[ImportJob]).run_single_cycle() == 1
    page = client.get(job_url).text
    assert "Imported: 3 new" in page
    assert "Platform" in client.get("/teams").text
    cy = db.scalars(select(Person).where(Person.email == "cy@example.org")).one()
    assert cy.manager is not None
    assert cy.manager.email == "bo@example.org"
    assert cy.attributes == {"cost_centre": "CC2"}
    status = client.get(f"/api{job_url.replace('/imports', '/v1/imports')}").json()
    assert status["finished"] is True
    assert status["result"]["created"] == 3


def test_an_invalid_upload_imports_nothing_and_names_the_lines(
    client: TestClient,
    db: Session,
    settings: Settings,
    session_factory: sessionmaker[Session],
) -> None:
    _admin(client, db, settings)
    bad = CHART + "E4,Di Ghost,di@example.org,Engineer,Engineering,E99,CC3\n"
    response = client.post(
        "/imports",
        data={"csrf_token": csrf_of(client)},
        files={"file": ("bad.csv", bad.encode(), "text/csv")},
    )
    Runner(session_factory, models=[ImportJob]).run_single_cycle()
    page = client.get(response.headers["location"]).text
    assert "Nothing was imported" in page
    assert "E99" in page
    assert db.scalars(select(Person).where(Person.email == "ada@example.org")).first() is None


def test_a_department_too_deep_is_refused_and_a_deep_tree_still_shows(
    client: TestClient,
    db: Session,
    settings: Settings,
    session_factory: sessionmaker[Session],
) -> None:
    admin = _admin(client, db, settings)
    deep = "id,name,email,title,department,manager_id\nx1,A,x1@example.org,T,"
    response = client.post(
        "/imports",
        data={"csrf_token": csrf_of(client)},
        files={"file": ("deep.csv", (deep + "/".join(["d"] * 400) + ",\n").encode(), "text/csv")},
    )
    Runner(session_factory, models=[ImportJob]).run_single_cycle()
    page = client.get(response.headers["location"]).text
    assert "Nothing was imported" in page
    reason = "department has 400 levels of teams; at most 20 are allowed"
    assert f"<td>2</td><td>department</td><td>{reason}</td>" in page
    # A tree imported before departments had a depth limit still shows, every level of it.
    parent: Team | None = None
    for depth in range(400):
        parent = Team(
            organisation_id=admin.organisation_id,
            name=f"Level {depth}",
            path=f"{parent.path[:900]}/{depth}" if parent else "0",
            parent_id=parent.id if parent else None,
        )
        db.add(parent)
        db.flush()
    db.commit()
    teams = client.get("/teams")
    assert teams.status_code == 200
    tree = teams.text.split('aria-label="Team tree">')[1].split("</nav>")[0]
    assert "Level 399</a>" in tree
    assert tree.count("<ul") == tree.count("</ul>") == 400  # the roots and 399 sub-lists
    assert tree.count("<li>") == tree.count("</li>") == 400


def test_granting_a_role_is_audited(client: TestClient, db: Session, settings: Settings) -> None:
    _admin(client, db, settings)
    someone = factories.person(db, factories.organisation(db), password=None)
    db.commit()
    response = client.post(
        f"/people/{someone.id}/roles",
        data={"csrf_token": csrf_of(client), "role": "community_mentor"},
    )
    assert response.status_code == 303
    assert "Community mentor" in client.get(f"/people/{someone.id}").text
    entry = db.scalars(
        select(audit.AuditEntry)
        .where(audit.AuditEntry.action == "role.granted")
        .order_by(audit.AuditEntry.seq.desc())
    ).first()
    assert entry is not None
    assert entry.details["role"] == "community_mentor"


def test_the_last_administrator_cannot_be_removed(
    client: TestClient, db: Session, settings: Settings
) -> None:
    admin = _admin(client, db, settings)
    (grant,) = auth_service.assignments_of(db, admin)
    response = client.post(
        f"/people/{admin.id}/roles/{grant.id}/revoke", data={"csrf_token": csrf_of(client)}
    )
    assert response.status_code == 422
    assert "last administrator" in response.text


def _leader(client: TestClient, db: Session, settings: Settings) -> Person:
    leader = factories.person(
        db, factories.organisation(db), roles=(Role.LEADER,), settings=settings
    )
    db.commit()
    sign_in(client, leader.email, factories.PASSWORD)
    return leader


@pytest.mark.parametrize("team", [False, True])
@pytest.mark.parametrize("role", ["administrator", "network_analyst"])
def test_nobody_grants_a_role_with_permissions_they_do_not_hold(
    client: TestClient, db: Session, settings: Settings, role: str, team: bool
) -> None:
    leader = _leader(client, db, settings)
    scope = str(factories.team(db, factories.organisation(db), "Stores").id) if team else ""
    db.commit()
    response = client.post(
        f"/people/{leader.id}/roles",
        data={"csrf_token": csrf_of(client), "role": role, "team_id": scope},
    )
    assert response.status_code == 403
    assert "Only someone who holds every permission of the role" in response.text
    db.expire_all()
    assert [a.role for a in auth_service.assignments_of(db, leader)] == ["leader"]
    offered = client.get(f"/people/{leader.id}").text
    assert 'value="community_mentor"' in offered
    assert f'value="{role}"' not in offered


def test_nobody_revokes_a_role_with_permissions_they_do_not_hold(
    client: TestClient, db: Session, settings: Settings
) -> None:
    _leader(client, db, settings)
    admin = factories.person(db, factories.organisation(db), roles=(Role.ADMINISTRATOR,))
    mentor = factories.person(db, factories.organisation(db), roles=(Role.COMMUNITY_MENTOR,))
    db.commit()
    (grant,) = auth_service.assignments_of(db, admin)
    assert f"/roles/{grant.id}/revoke" not in client.get(f"/people/{admin.id}").text
    response = client.post(
        f"/people/{admin.id}/roles/{grant.id}/revoke", data={"csrf_token": csrf_of(client)}
    )
    assert response.status_code == 403
    db.expire_all()
    assert [a.role for a in auth_service.assignments_of(db, admin)] == ["administrator"]
    (mentoring,) = auth_service.assignments_of(db, mentor)
    revoked = client.post(
        f"/people/{mentor.id}/roles/{mentoring.id}/revoke", data={"csrf_token": csrf_of(client)}
    )
    assert revoked.status_code == 303  # a leader holds every permission of a mentor's role
    db.expire_all()
    assert auth_service.assignments_of(db, mentor) == []


@pytest.mark.parametrize("scope", ["Stores", "²", "99999999999999999999", "2147483648", "1 OR 1"])
def test_a_scope_that_is_not_a_team_of_the_list_is_refused(
    client: TestClient, db: Session, settings: Settings, scope: str
) -> None:
    leader = _leader(client, db, settings)
    response = client.post(
        f"/people/{leader.id}/roles",
        data={"csrf_token": csrf_of(client), "role": "community_mentor", "team_id": scope},
    )
    assert response.status_code == 422
    assert "Choose the scope from the list" in response.text
    db.expire_all()
    assert [a.role for a in auth_service.assignments_of(db, leader)] == ["leader"]


def test_audit_filters_and_exports_formula_safe_csv(
    client: TestClient, db: Session, settings: Settings
) -> None:
    _admin(client, db, settings)
    audit.record(
        db,
        audit.Actor(id=None, label='=HYPERLINK("http://evil")'),
        "test.export",
        target="+SUM(A1)",
    )
    db.commit()
    page = client.get("/audit", params={"action": "test.export"}).text
    assert "test.export" in page
    assert "auth.login" not in page.split("<tbody>")[1]
    exported = client.get("/audit.csv", params={"action": "test.export"})
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [row["action"] for row in rows] == ["test.export"]
    assert rows[0]["actor"].startswith("'=")
    assert rows[0]["target"] == "'+SUM(A1)"


def test_safe_cell_neutralises_every_formula_prefix() -> None:
    for prefix in ("=", "+", "-", "@", "\t", "\r", "|", "%"):
        assert safe_cell(prefix + "1").startswith("'")
    assert safe_cell("plain") == "plain"
    assert safe_cell(None) == ""


def test_an_oversized_upload_is_refused_before_anything_is_stored(
    client: TestClient, db: Session, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    _admin(client, db, settings)
    monkeypatch.setattr(imports_module, "MAX_UPLOAD_BYTES", 1024)
    response = client.post(
        "/imports",
        data={"csrf_token": csrf_of(client)},
        files={"file": ("big.csv", b"x" * 5000, "text/csv")},
    )
    assert response.status_code == 422
    assert "larger than" in response.text
    assert db.scalars(select(ImportJob)).all() == []


@pytest.mark.parametrize(
    ("role", "areas"),
    [
        (Role.ADMINISTRATOR, ["Channels", "Review workflow", "Guardrails", "Roles", "Import"]),
        (Role.LEADER, ["Guardrails", "Roles"]),
        (Role.CONTRIBUTOR, ["Roles"]),
    ],
)
def test_settings_gathers_the_areas_a_person_may_change(
    client: TestClient, db: Session, settings: Settings, role: Role, areas: list[str]
) -> None:
    person = factories.person(db, factories.organisation(db), roles=(role,), settings=settings)
    db.commit()
    sign_in(client, person.email, factories.PASSWORD)
    page = client.get("/settings").text
    shown = [part.split('">', 1)[1].split("</a>")[0] for part in page.split("<h2><a href=")[1:]]
    assert shown == areas
    nav = page.split('aria-label="Main"')[1].split("</nav>")[0]
    assert '<a href="/settings" aria-current="page">Settings</a>' in nav
    for moved in ("/channels", "/roles", "/imports", "/settings/risk"):
        assert f'href="{moved}"' not in nav  # on the Settings page, not in the bar
    roles_page = client.get("/roles").text.split("</nav>")[0]
    assert '<a href="/settings" aria-current="page">Settings</a>' in roles_page


def test_an_address_that_answers_no_page_keeps_the_navigation_of_who_is_signed_in(
    client: TestClient, db: Session, settings: Settings
) -> None:
    admin = _admin(client, db, settings)
    for response, status in ((client.get("/no/such/page"), 404), (client.put("/settings"), 405)):
        assert response.status_code == status
        assert 'aria-label="Main"' in response.text
        assert admin.name in response.text


def test_an_address_that_answers_no_page_with_a_token_that_is_not_valid_is_still_a_404(
    client: TestClient,
) -> None:
    headers = {"Authorization": "Bearer not-a-token", "Accept": "text/html"}
    assert client.get("/no/such/page", headers=headers).status_code == 404
    assert client.put("/", headers=headers).status_code == 405
