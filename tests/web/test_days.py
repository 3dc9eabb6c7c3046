"""Days and moments a client gives are bounded (sixfold.inputs.Day, Moment): one at the ends
of what Python's dates hold is refused with a message naming the parameter, never a server
error (the audit filter and the calendar grids add days and months to it, and a moment is
converted between zones).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, get_args

import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from sixfold.auth.permissions import Role
from sixfold.config import Settings
from sixfold.inputs import FIRST_DAY, LAST_DAY
from tests import factories
from tests.web.conftest import sign_in_directly
from tests.web.test_access import api_routes

CSRF = "csrf-test-token"
# Moments whose day is in range where they were written, out of range in UTC.
EDGE_MOMENTS = ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00"]


def _params(dependant: Dependant) -> list[Any]:
    found = [*dependant.path_params, *dependant.query_params]
    for sub in dependant.dependencies:
        found.extend(_params(sub))
    return found


def test_no_route_takes_an_unbounded_day(app: FastAPI) -> None:
    unbounded = [
        f"{route.path} {p.name}"
        for route in api_routes(app)
        for p in _params(route.dependant)
        if {date, datetime} & {p.field_info.annotation, *get_args(p.field_info.annotation)}
    ]
    assert unbounded == []


@pytest.fixture
def administrator(client: TestClient, db: Session, settings: Settings) -> TestClient:
    org = factories.organisation(db)
    person = factories.person(db, org, roles=(Role.ADMINISTRATOR,), password=None)
    db.commit()
    sign_in_directly(client, db, settings, person, csrf=CSRF)
    return client


@pytest.mark.parametrize("path", ["/audit", "/audit.csv", "/api/v1/audit"])
@pytest.mark.parametrize("query", ["until=9999-12-31", "since=0001-01-01"])
def test_an_audit_filter_day_out_of_range_is_refused(
    administrator: TestClient, path: str, query: str
) -> None:
    response = administrator.get(f"{path}?{query}")
    assert response.status_code == 422
    assert query.split("=")[0] in response.text


@pytest.mark.parametrize("view", ["week", "month"])
@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "1899-12-31", "9001-01-01"])
def test_a_calendar_day_out_of_range_is_refused(
    administrator: TestClient, view: str, day: str
) -> None:
    response = administrator.get(f"/calendar?view={view}&date={day}")
    assert response.status_code == 422
    assert "date:" in response.text


@pytest.mark.parametrize("view", ["week", "month"])
@pytest.mark.parametrize("day", [FIRST_DAY, LAST_DAY])
def test_the_first_and_last_days_are_shown(administrator: TestClient, view: str, day: date) -> None:
    assert administrator.get(f"/calendar?view={view}&date={day}").status_code == 200
    assert administrator.get(f"/api/v1/audit?since={FIRST_DAY}&until={day}").status_code == 200


@pytest.mark.parametrize("moment", EDGE_MOMENTS)
@pytest.mark.parametrize(
    ("url", "field", "body"),
    [
        ("/api/v1/risk/check", "when", {"text": "Hello"}),
        ("/api/v1/posts", "publish_at", {"text": "Hello", "publish_mode": "at"}),
        ("/api/v1/posts/1/schedule", "at", {"mode": "at"}),
    ],
)
def test_a_moment_out_of_range_in_a_body_is_refused(
    administrator: TestClient, moment: str, url: str, field: str, body: dict[str, str]
) -> None:
    response = administrator.post(url, json={**body, field: moment}, headers={"X-CSRF-Token": CSRF})
    assert response.status_code == 422
    assert response.json()["problems"] == [
        {"field": field, "problem": "Choose a day from 1900-01-01 to 9000-12-31."}
    ]


@pytest.mark.parametrize("moment", EDGE_MOMENTS)
@pytest.mark.parametrize("field", ["due_from", "due_to"])
def test_a_publication_filter_moment_out_of_range_is_refused(
    administrator: TestClient, moment: str, field: str
) -> None:
    response = administrator.get("/api/v1/publications", params={field: moment})
    assert response.status_code == 422
    assert response.json()["problems"][0]["field"] == field


@pytest.mark.parametrize("moment", EDGE_MOMENTS)
def test_the_composer_refuses_a_moment_out_of_range_and_keeps_the_text(
    administrator: TestClient, moment: str
) -> None:
    form = {"csrf_token": CSRF, "text": "My typed draft", "publish_mode": "at"}
    response = administrator.post("/posts/new", data={**form, "publish_at": moment})
    assert response.status_code == 422
    # A publishing time has a narrower range of its own (drafts.check_publish_time).
    assert "in the years 2000 to 2100" in response.text
    assert "My typed draft" in response.text
