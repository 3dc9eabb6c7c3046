"""Ids a client sends are bounded (sixfold.inputs.Id): one too large for the database is a
missing object in an address and a refused value in a query or a JSON body, never a server
error (PostgreSQL refused one past 32 bits, SQLite's driver one past 64).
"""

from __future__ import annotations

import re
import types
from typing import Any, Union, get_args, get_origin

import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from sixfold.auth.permissions import Role
from sixfold.config import Settings
from sixfold.inputs import MAX_ID
from tests import factories
from tests.web.conftest import sign_in_directly
from tests.web.test_access import _call, api_routes

# Just past the bound (PostgreSQL's INTEGER), and past SQLite's 64 bits.
TOO_LARGE = [MAX_ID + 1, 2**63]
CSRF = "csrf-test-token"


def _params(dependant: Dependant) -> list[Any]:
    found = [*dependant.path_params, *dependant.query_params]
    for sub in dependant.dependencies:
        found.extend(_params(sub))
    return found


def _is_bare_int(annotation: Any) -> bool:
    """`int` or `int | None` with no bounds (a bounded int is an Annotated type)."""
    if annotation is int:
        return True
    union = get_origin(annotation) in (Union, types.UnionType)
    return union and int in get_args(annotation)


def _int_path_params(route: APIRoute) -> list[str]:
    return [
        p.name
        for p in route.dependant.path_params
        if p.field_info.metadata or _is_bare_int(p.field_info.annotation)
    ]


def test_no_route_takes_an_unbounded_int(app: FastAPI) -> None:
    unbounded = [
        f"{route.path} {p.name}"
        for route in api_routes(app)
        for p in _params(route.dependant)
        if _is_bare_int(p.field_info.annotation) and not p.field_info.metadata
    ]
    assert unbounded == []


@pytest.fixture
def everyone(app: FastAPI, client: TestClient, db: Session, settings: Settings) -> TestClient:
    """A browser signed in with every role, so that no route refuses it before the id."""
    org = factories.organisation(db)
    person = factories.person(db, org, roles=tuple(Role), password=None)
    db.commit()
    sign_in_directly(client, db, settings, person, csrf=CSRF)
    return client


def _wrong_answers(client: TestClient, routes: list[APIRoute], value: int) -> dict[str, int]:
    """The routes that do not answer 404 with `value` as every id in their address."""
    wrong = {}
    for route in routes:
        response = _call(client, route, re.sub(r"\{\w+\}", str(value), route.path))
        if response.status_code != 404:
            wrong[f"{sorted(route.methods)[0]} {route.path}"] = response.status_code
    return wrong


@pytest.mark.parametrize("too_large", TOO_LARGE)
def test_an_id_too_large_in_the_address_is_not_found(
    app: FastAPI, everyone: TestClient, too_large: int
) -> None:
    routes = [route for route in api_routes(app) if _int_path_params(route)]
    assert len(routes) > 50  # the walk found the routes with an id in their address
    assert _wrong_answers(everyone, routes, too_large) == {}


def test_the_largest_id_is_looked_up_and_not_found(app: FastAPI, everyone: TestClient) -> None:
    # Both databases hold MAX_ID, so the bound is low enough. GET only: the other methods
    # would refuse their empty form or body before looking the id up.
    routes = [r for r in api_routes(app) if _int_path_params(r) and "GET" in r.methods]
    assert _wrong_answers(everyone, routes, MAX_ID) == {}


@pytest.mark.parametrize("accept", ["text/html", "application/json"])
def test_an_id_out_of_range_reads_like_a_missing_page(everyone: TestClient, accept: str) -> None:
    response = everyone.get(f"/posts/{MAX_ID + 1}", headers={"Accept": accept})
    assert response.status_code == 404
    assert str(MAX_ID) not in response.text  # no framework internals


@pytest.mark.parametrize(
    "url",
    [
        "/people?team={}",
        "/api/v1/people?team={}",
        "/api/v1/posts?channel={}",
        "/api/v1/publications?channel={}",
        "/calendar?channel={}",
    ],
)
@pytest.mark.parametrize("value", [*TOO_LARGE, 0])
def test_an_id_out_of_range_in_a_filter_is_refused(
    everyone: TestClient, url: str, value: int
) -> None:
    response = everyone.get(url.format(value))
    assert response.status_code == 422
    name = url.split("?")[1].split("=")[0]
    assert name in response.text


@pytest.mark.parametrize(
    ("url", "body"),
    [
        ("/api/v1/posts", {"text": "Hello", "channel_ids": [MAX_ID + 1]}),
        ("/api/v1/posts", {"text": "Hello", "channel_texts": {str(MAX_ID + 1): "Hi"}}),
        ("/api/v1/character-counts", {"text": "Hello", "channel_ids": [MAX_ID + 1]}),
        ("/api/v1/risk/check", {"text": "Hello", "channel_id": MAX_ID + 1}),
        ("/api/v1/publishing/pause", {"reason": "Storm", "channel_id": MAX_ID + 1}),
        ("/api/v1/publishing/resume", {"channel_id": MAX_ID + 1}),
    ],
)
def test_an_id_out_of_range_in_a_body_is_refused(
    everyone: TestClient, url: str, body: dict[str, Any]
) -> None:
    response = everyone.post(url, json=body, headers={"X-CSRF-Token": CSRF})
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "The request is not valid."
