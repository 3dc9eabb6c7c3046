"""The network pages over HTTP: upload, progress, overview, people, audit, privacy."""

from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from sixfold import audit
from sixfold.auth.permissions import Role
from sixfold.config import Settings
from sixfold.jobs.runner import describe_error
from sixfold.network.store import NetworkAnalysis
from sixfold.org.models import Person
from tests import factories
from tests.network.web.conftest import NetworkWorld, interactions_csv, run_worker, zip_bomb
from tests.web.conftest import csrf_of, sign_in

SCRIPT_TAG = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)


def _signed_in(client: TestClient, db: Session, settings: Settings, role: Role) -> Person:
    world_org = factories.organisation(db)
    person = factories.person(db, world_org, roles=(role,), settings=settings)
    db.commit()
    sign_in(client, person.email, factories.PASSWORD)
    return person


def _upload(client: TestClient, files: dict[str, tuple[str, bytes, str]], **fields: str) -> str:
    response = client.post(
        "/network/analyses",
        data={"csrf_token": csrf_of(client), "title": "Winter", **fields},
        files=files,
    )
    assert response.status_code == 303, response.text
    return str(response.headers["location"])


def _analysed(
    client: TestClient, world: NetworkWorld, session_factory: sessionmaker[Session]
) -> str:
    url = _upload(client, {"interactions": ("mail.csv", interactions_csv(world), "text/csv")})
    run_worker(session_factory)
    return url


def _charts(page: str) -> dict[str, object]:
    found = re.search(r'<script type="application/json" id="network-charts">(.*?)</script>', page)
    assert found is not None
    data: dict[str, object] = json.loads(found.group(1))
    return data


def _audit_views(db: Session) -> list[audit.AuditEntry]:
    query = select(audit.AuditEntry).where(audit.AuditEntry.action == "network.person_viewed")
    return list(db.scalars(query.order_by(audit.AuditEntry.seq)))


def test_an_analyst_uploads_and_follows_the_analysis_to_its_report(
    client: TestClient,
    db: Session,
    settings: Settings,
    network_world: NetworkWorld,
    session_factory: sessionmaker[Session],
) -> None:
    _signed_in(client, db, settings, Role.NETWORK_ANALYST)
    form = client.get("/network/analyses").text
    assert 'name="csrf_token"' in form
    assert 'enctype="multipart/form-data"' in form
    url = _upload(client, {"interactions": ("mail.csv", interactions_csv(network_world), "")})
    waiting = client.get(url).text
    assert 'data-poll="/api/v1/network/analyses/' in waiting

    run_worker(session_factory)
    status = client.get(url.replace("/network/", "/api/v1/network/")).json()
    assert status["state"] == "succeeded"
    assert status["finished"] is True
    page = client.get(url).text
    assert "Who talks to whom" in page
    assert "fewer than 5 people: not shown" in page  # Tiny, and the people without a team
    charts = _charts(page)
    assert set(charts) == {"matrix", "directions", "distributions", "timeline"}
    assert client.get("/network").text.count("Who talks to whom") == 1


def test_pages_load_scripts_only_from_files(
    client: TestClient,
    db: Session,
    settings: Settings,
    network_world: NetworkWorld,
    session_factory: sessionmaker[Session],
) -> None:
    _signed_in(client, db, settings, Role.NETWORK_ANALYST)
    url = _analysed(client, network_world, session_factory)
    person = network_world.people["Ops"][0]
    for path in (url, f"{url}/people", f"{url}/people/{person.id}", "/network/analyses"):
        page = client.get(path)
        assert page.status_code == 200, path
        for attributes in SCRIPT_TAG.findall(page.text):
            assert "src=" in attributes or 'type="application/json"' in attributes, path
        assert " style=" not in page.text, path
    plotly = r'<script src="/vendor/plotly\.min\.js\?v=[\w.]+" defer>'
    assert re.search(plotly, client.get(url).text)
    script = client.get("/vendor/plotly.min.js")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert "immutable" in script.headers["cache-control"]
    assert b"plotly.js v" in script.content[:200]


def test_a_leader_sees_the_organisation_but_nobody_in_it(
    client: TestClient,
    db: Session,
    settings: Settings,
    network_world: NetworkWorld,
    session_factory: sessionmaker[Session],
) -> None:
    analyst = _signed_in(client, db, settings, Role.NETWORK_ANALYST)
    url = _analysed(client, network_world, session_factory)
    client.cookies.clear()
    leader = _signed_in(client, db, settings, Role.LEADER)
    page = client.get(url).text
    assert "Departments" in page
    main = page.split("<main", 1)[1]  # the header names the leader, signed in
    for person in [*network_world.everyone(), analyst, leader]:
        assert person.email not in main
        assert person.external_id not in main
        assert f">{person.name}<" not in main
    assert f"{url}/people" not in page
    assert client.get(f"{url}/people").status_code == 403
    assert client.get(f"{url}/people/{network_world.ceo.id}").status_code == 403
    assert client.get(url.replace("/network/", "/api/v1/network/") + "/report").status_code == 403
    assert _audit_views(db) == []


def test_every_person_level_view_is_audited(
    client: TestClient,
    db: Session,
    settings: Settings,
    network_world: NetworkWorld,
    session_factory: sessionmaker[Session],
) -> None:
    analyst = _signed_in(client, db, settings, Role.NETWORK_ANALYST)
    url = _analysed(client, network_world, session_factory)
    assert _audit_views(db) == []
    people = client.get(f"{url}/people")
    assert people.status_code == 200
    assert "recorded in the audit log" in people.text
    assert network_world.people["Ops"][0].name in people.text
    client.get(f"{url}/people?sort=degree&order=asc")
    bridge = network_world.people["Ops"][0]
    person = client.get(f"{url}/people/{bridge.id}")
    assert person.status_code == 200
    assert "Neighbourhood" in person.text
    report = client.get(url.replace("/network/", "/api/v1/network/") + "/report")
    assert report.json()["organisation"]["people"] > 0

    entries = _audit_views(db)
    assert [e.details["view"] for e in entries] == ["people", "people", "person", "report"]
    assert {e.actor_id for e in entries} == {analyst.id}
    assert entries[2].target_type == "person"
    assert entries[2].target_id == str(bridge.id)
    # Someone who joined after the analysis is not in it, and that is not a view of anyone.
    newcomer = factories.person(db, network_world.organisation, password=None)
    db.commit()
    assert client.get(f"{url}/people/{newcomer.id}").status_code == 404
    assert len(_audit_views(db)) == 4


def test_the_minimum_group_size_is_configurable_but_never_below_three(
    client: TestClient,
    db: Session,
    settings: Settings,
    network_world: NetworkWorld,
    session_factory: sessionmaker[Session],
) -> None:
    _signed_in(client, db, settings, Role.NETWORK_ANALYST)
    files = {"interactions": ("mail.csv", interactions_csv(network_world), "text/csv")}
    refused = client.post(
        "/network/analyses",
        data={"csrf_token": csrf_of(client), "min_group_size": "2"},
        files=files,
    )
    assert refused.status_code == 422
    assert db.scalars(select(NetworkAnalysis)).first() is None

    url = _upload(client, files, min_group_size="7", group_by="team")
    run_worker(session_factory)
    page = client.get(url).text
    # Teams of five and six are now below the threshold; Sales/North (5) and Ops (6) too.
    assert page.count("fewer than 7 people: not shown") >= 4
    assert _charts(page)["matrix"] == {
        "departments": [],
        "observed": [],
        "expected": [],
        "ratio": [],
    }


def test_a_hostile_upload_is_refused_and_the_last_report_stays(
    client: TestClient,
    db: Session,
    settings: Settings,
    network_world: NetworkWorld,
    session_factory: sessionmaker[Session],
) -> None:
    _signed_in(client, db, settings, Role.NETWORK_ANALYST)
    good = _analysed(client, network_world, session_factory)
    bad = _upload(client, {"slack": ("export.zip", zip_bomb(), "application/zip")}, title="Bomb")
    run_worker(session_factory)
    page = client.get(bad).text
    assert "Nothing was analysed: export.zip:" in page
    assert "zip bomb" in page
    assert "Earlier analyses are unchanged" in page
    home = client.get("/network").text
    assert f'href="{good}"' in home
    assert "Who talks to whom" in home
    listing = client.get("/network/analyses").text
    assert "Bomb" in listing
    assert "rejected" in listing


def test_an_upload_without_the_csrf_field_is_refused(
    client: TestClient, db: Session, settings: Settings, network_world: NetworkWorld
) -> None:
    _signed_in(client, db, settings, Role.NETWORK_ANALYST)
    response = client.post(
        "/network/analyses",
        data={"title": "x"},
        files={"interactions": ("mail.csv", interactions_csv(network_world), "text/csv")},
    )
    assert response.status_code == 403
    assert db.scalars(select(NetworkAnalysis)).first() is None


@pytest.mark.parametrize("role", [Role.CONTRIBUTOR, Role.COMMUNITY_MENTOR])
def test_the_network_area_is_not_for_everyone(
    client: TestClient, db: Session, settings: Settings, role: Role
) -> None:
    _signed_in(client, db, settings, role)
    assert client.get("/network").status_code == 403
    assert 'href="/network"' not in client.get("/").text


# A small group's name anywhere but in a person's own name ("Tiny Person 0").
SMALL_GROUP_NAMED = re.compile(r"\b(Tiny|Executive)\b(?! Person)")


def test_person_level_views_do_not_name_small_groups(
    client: TestClient,
    db: Session,
    settings: Settings,
    network_world: NetworkWorld,
    session_factory: sessionmaker[Session],
) -> None:
    _signed_in(client, db, settings, Role.NETWORK_ANALYST)
    url = _analysed(client, network_world, session_factory)
    # Sales/North Person 0 has ties into Tiny (two people); Ada is all of Executive.
    hub = network_world.people["Sales/North"][0]
    tiny = network_world.people["Tiny"][0]
    paths = [f"{url}/people", f"{url}/people?sort=department&order=asc"]
    paths += [f"{url}/people/{person.id}" for person in (hub, tiny, network_world.ceo)]
    for path in paths:
        page = client.get(path)
        assert page.status_code == 200, path
        main = page.text.split("<main", 1)[1]
        assert SMALL_GROUP_NAMED.search(main) is None, path
        assert "A group under 5 people" in main, path
    ties = client.get(f"{url}/people/{hub.id}").text
    assert '["A group under 5 people", ' in ties  # the bar of "Ties by department"

    report = client.get(url.replace("/network/", "/api/v1/network/") + "/report").json()
    for entry in report["departments"]:
        if entry["name"] in ("Tiny", "Executive"):
            assert entry == {"name": entry["name"], "suppressed": True}
    shown = {entry["name"] for entry in report["departments"] if not entry["suppressed"]}
    assert {person["department"] for person in report["people"]} == shown | {
        "A group under 5 people"
    }
    for window in report["timeline"]:
        for pair in window["new_bridge_examples"]:
            assert set(pair) <= shown


def test_the_two_e_i_indexes_have_their_own_names_and_churn_is_explained(
    client: TestClient,
    db: Session,
    settings: Settings,
    network_world: NetworkWorld,
    session_factory: sessionmaker[Session],
) -> None:
    _signed_in(client, db, settings, Role.NETWORK_ANALYST)
    page = client.get(_analysed(client, network_world, session_factory)).text
    # The headline counts the ties of the whole period; the timeline each window's ties.
    headline = re.search(r'<span class="stat-label">(E–I index[^<]*)</span>', page)
    assert headline is not None
    timeline = _charts(page)["timeline"]
    assert isinstance(timeline, dict)
    labels = timeline["labels"]
    assert labels["ei_index"] == "E–I index per window"
    assert headline.group(1) == "E–I index, whole period"
    caption = page.split('id="chart-structure"', 1)[1].split("</p>", 1)[0]
    assert "E–I index per window" in caption
    assert "E–I index of the whole period" in caption
    assert labels["churn"] == "churn"
    assert "<strong>Churn</strong>: how much the ties changed since the previous window" in caption


def test_a_failed_attempt_shows_what_failed_but_not_the_servers_traceback(
    client: TestClient,
    db: Session,
    settings: Settings,
    network_world: NetworkWorld,
) -> None:
    _signed_in(client, db, settings, Role.NETWORK_ANALYST)
    url = _upload(
        client, {"interactions": ("mail.csv", interactions_csv(network_world), "text/csv")}
    )
    analysis = db.scalars(select(NetworkAnalysis)).one()
    try:
        raise OSError("disk full")
    except OSError as error:
        analysis.last_error = describe_error(error)
    db.commit()
    for page in (client.get(url).text, client.get(f"/api/v1/network/analyses/{analysis.id}").text):
        assert "OSError: disk full" in page
        assert "Traceback" not in page
        assert __file__ not in page
