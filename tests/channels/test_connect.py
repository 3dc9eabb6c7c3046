"""Connect a channel: the choice of network, and the "form" and "oauth2" flows.

The networks are the test-only connectors of connect_fakes.py; the OAuth one sends the person
to the test server, and the tests play the network by calling the callback themselves.
"""

from __future__ import annotations

import re
import time
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy.orm import Session
from starlette.requests import Request

from sixfold.auth.permissions import Role
from sixfold.channels import connect_oauth
from sixfold.channels.credentials import open_credentials
from sixfold.channels.views_connect import FLOW_COOKIE, redirect_uri
from sixfold.config import Settings
from sixfold.org.models import Organisation, Person
from tests import factories
from tests.channels.connect_fakes import FakeNetwork, install_fakes
from tests.channels.connect_helpers import (
    CALLBACK,
    CLIENT_SECRET,
    SECRET,
    actions,
    channels,
    cookie_deleted,
    form_fields,
    network_link,
    oauth_fields,
    sealed_column,
    start_oauth,
)
from tests.publishing.pages import Pages


@pytest.fixture(autouse=True)
def fakes(monkeypatch: pytest.MonkeyPatch) -> None:
    install_fakes(monkeypatch)


# Choosing a network ------------------------------------------------------------------------


def test_the_choice_shows_a_card_per_installed_connector(pages: Pages, admin: Person) -> None:
    page = pages.as_(admin).get("/channels/new")
    assert page.status_code == 200
    assert 'href="/channels/connect/fakeform"' in page.text
    assert '<span class="network-needs">an app password</span>' in page.text
    assert '<span class="network-needs">sign in on Fakedon</span>' in page.text
    assert 'href="/channels/new?kind=internal"' in page.text  # no account: the plain form
    assert 'name="kind"' not in page.text


def test_the_connect_page_numbers_the_steps_and_asks_for_the_fields(
    pages: Pages, admin: Person
) -> None:
    page = pages.as_(admin).get("/channels/connect/fakeform")
    assert page.status_code == 200
    assert '<ol class="connect-steps">' in page.text
    assert "<li>Add an app password called Sixfold and copy it.</li>" in page.text
    assert re.search(r'name="field_app_password"\s+type="password"', page.text)
    assert 'name="requires_review"' in page.text
    oauth = pages.get("/channels/connect/fakeoauth").text
    assert "Continue to Fakedon" in oauth
    assert (
        '<li>Register Sixfold as an app at <a href="https://fakedon.test/developers" '
        'rel="noopener noreferrer" target="_blank">https://fakedon.test/developers</a>.</li>'
    ) in oauth
    assert f'<code id="callback-address">http://testserver{CALLBACK}</code>' in oauth


def test_kinds_without_an_account_have_no_connect_page(pages: Pages, admin: Person) -> None:
    assert pages.as_(admin).get("/channels/connect/internal").status_code == 404
    assert pages.get("/channels/connect/myspace").status_code == 404
    refused = pages.post("/channels", {"kind": "fakeform", "name": "Sideways"})
    assert refused.status_code == 422  # networks are connected on their own page only


# The "form" flow ---------------------------------------------------------------------------


def test_a_form_network_is_connected_and_its_secret_sealed(
    pages: Pages, db: Session, admin: Person
) -> None:
    done = pages.as_(admin).post("/channels/connect/fakeform", form_fields())
    [channel] = channels(db)
    assert (done.status_code, done.headers["location"]) == (
        303,
        f"/channels/{channel.id}?connected=1",
    )
    assert (channel.kind, channel.handle, channel.requires_review) == (
        "fakeform",
        "comms.fakesky.test",
        True,
    )
    assert channel.settings == {
        "server": "https://fakesky.test",
        "identifier": "comms.fakesky.test",
        "did": "did:plc:comms.fakesky.test",
        "connected_by": admin.id,
    }
    assert open_credentials(pages.settings, channel)["app_password"] == SECRET
    assert SECRET not in sealed_column(db, channel.id)
    [created] = actions(db, "channel.created")
    assert created.details == {"kind": "fakeform", "via": "form", "handle": "comms.fakesky.test"}
    assert created.actor_id == admin.id
    assert "Connected as comms.fakesky.test" in pages.get(done.headers["location"]).text


@pytest.mark.parametrize(
    ("fields", "status", "message"),
    [
        (
            {"field_app_password": "wrong-password"},
            422,
            "Fakesky refused the sign-in: Invalid identifier or password",
        ),
        (
            {"field_server": "https://down.fakesky.test"},
            502,
            "Fakesky could not connect the account: fakesky.test did not answer",
        ),
    ],
)
def test_a_refused_or_failed_connection_keeps_what_was_typed_but_the_secret(
    pages: Pages,
    db: Session,
    admin: Person,
    fields: dict[str, str],
    status: int,
    message: str,
) -> None:
    page = pages.as_(admin).post("/channels/connect/fakeform", form_fields(**fields))
    assert page.status_code == status
    assert message in page.text
    assert 'value="comms.fakesky.test"' in page.text
    assert 'value="Fakesky main"' in page.text
    secret = fields.get("field_app_password", SECRET)
    assert secret not in page.text
    assert channels(db) == []
    [failed] = actions(db, "channel.connect_failed")
    assert failed.details["kind"] == "fakeform"
    assert secret not in str(failed.details)


def test_bad_channel_settings_are_refused_before_the_network_is_asked(
    pages: Pages, admin: Person
) -> None:
    page = pages.as_(admin).post("/channels/connect/fakeform", form_fields(timezone="Mars/Base"))
    assert page.status_code == 422
    assert "is not a time zone" in page.text
    missing = pages.post("/channels/connect/fakeform", form_fields(field_app_password=""))
    assert missing.status_code == 422
    assert "Please fill in: App password." in missing.text
    assert FakeNetwork.calls == []


# The "oauth2" flow -------------------------------------------------------------------------


def test_an_oauth_network_gets_the_person_and_a_sealed_flow(pages: Pages, admin: Person) -> None:
    started = pages.as_(admin).post("/channels/connect/fakeoauth", oauth_fields())
    assert '<script src="/static/connect.js" defer></script>' in started.text
    target = urlsplit(network_link(started))
    assert target.path == "/fake-network/authorize"
    query = parse_qs(target.query)
    assert query["redirect_uri"] == [f"http://testserver{CALLBACK}"]
    assert len(query["state"][0]) >= 40
    cookie = next(h for h in started.headers.get_list("set-cookie") if FLOW_COOKIE in h)
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Path=/channels/connect" in cookie
    assert CLIENT_SECRET not in cookie
    assert "Max-Age=900" in cookie


def test_the_callback_creates_the_channel_once(pages: Pages, db: Session, admin: Person) -> None:
    state = start_oauth(pages.as_(admin))
    done = pages.get(CALLBACK, code="good", state=state)
    [channel] = channels(db)
    assert (done.status_code, done.headers["location"]) == (
        303,
        f"/channels/{channel.id}?connected=1",
    )
    assert cookie_deleted(done)
    values, pending, uri, code = FakeNetwork.calls[-1][1]
    assert values == {"client_id": "sixfold-app", "client_secret": CLIENT_SECRET}
    assert pending == {"code_verifier": f"verifier-{state[:6]}"}
    assert (uri, code) == (f"http://testserver{CALLBACK}", "good")
    assert channel.handle == "@leader@fakedon.test"
    assert channel.settings["client_id"] == "sixfold-app"
    assert "client_secret" not in channel.settings
    assert open_credentials(pages.settings, channel)["refresh_token"] == "refresh-good"
    assert CLIENT_SECRET not in sealed_column(db, channel.id)
    assert actions(db, "channel.created")[0].details["via"] == "oauth2"

    replayed = pages.get(CALLBACK, code="good", state=state)
    assert replayed.status_code == 400
    assert "No connection is under way in this browser" in replayed.text
    assert len(channels(db)) == 1


def test_a_replayed_answer_is_refused_even_with_a_copied_cookie(
    pages: Pages, db: Session, admin: Person
) -> None:
    state = start_oauth(pages.as_(admin))
    copied = pages.client.cookies.get(FLOW_COOKIE, path="/channels/connect")
    assert pages.get(CALLBACK, code="good", state=state).status_code == 303
    pages.client.cookies.set(FLOW_COOKIE, copied, path="/channels/connect")
    again = pages.get(CALLBACK, code="good", state=state)
    assert again.status_code == 400
    assert "was used already" in again.text
    assert len(channels(db)) == 1


def test_a_wrong_state_is_refused_and_the_flow_under_way_kept(
    pages: Pages, db: Session, admin: Person
) -> None:
    state = start_oauth(pages.as_(admin))
    forged = pages.get(CALLBACK, code="good", state=state[:-2] + "xx")
    assert forged.status_code == 400
    assert "could not be verified" in forged.text
    assert not cookie_deleted(forged)
    # A forged error link is a bad link, not the network's word.
    assert "nope" not in pages.get(CALLBACK, state="other", error="nope").text
    assert ("complete" in {c[0] for c in FakeNetwork.calls}) is False
    assert pages.get(CALLBACK, code="good", state=state).status_code == 303
    assert len(channels(db)) == 1


def test_an_expired_flow_is_refused(pages: Pages, db: Session, admin: Person) -> None:
    flow = connect_oauth.Flow(
        state="s" * 43,
        kind="fakeoauth",
        organisation_id=admin.organisation_id,
        person_id=admin.id,
        values={"client_id": "sixfold-app", "client_secret": CLIENT_SECRET},
        pending={},
        options={"name": "Late", "timezone": "UTC", "queue_slots": "", "requires_review": False},
        channel_id=None,
        expires_at=time.time() - 1,
    )
    pages.as_(admin).client.cookies.set(
        FLOW_COOKIE, connect_oauth.seal_flow(pages.settings, flow), path="/channels/connect"
    )
    page = pages.get(CALLBACK, code="good", state=flow.state)
    assert page.status_code == 400
    assert "more than 15 minutes" in page.text
    assert 'value="Late"' in page.text
    assert CLIENT_SECRET not in page.text
    assert channels(db) == []


def test_a_flow_started_by_someone_else_is_refused(
    pages: Pages, db: Session, org: Organisation, admin: Person
) -> None:
    state = start_oauth(pages.as_(admin))
    stolen = pages.client.cookies.get(FLOW_COOKIE, path="/channels/connect")
    other = factories.person(db, org, roles=(Role.ADMINISTRATOR,), password=None)
    pages.as_(other).client.cookies.set(FLOW_COOKIE, stolen, path="/channels/connect")
    page = pages.get(CALLBACK, code="good", state=state)
    assert page.status_code == 400
    assert "started by someone else" in page.text
    assert channels(db) == []


@pytest.mark.parametrize(
    ("params", "status", "message"),
    [
        (
            {"error": "access_denied", "error_description": "The user denied access"},
            422,
            "Connecting was cancelled or refused on Fakedon: The user denied access",
        ),
        ({"error": "server_error"}, 422, "Fakedon did not connect the account: server_error"),
        ({"code": "refused"}, 422, "refused the sign-in: invalid_grant: the code has expired"),
        ({"code": "down"}, 502, "Fakedon could not connect the account: fakedon.test answered"),
        ({}, 502, "sent you back without a sign-in code"),
    ],
)
def test_what_the_network_says_on_the_way_back_is_shown(
    pages: Pages,
    db: Session,
    admin: Person,
    params: dict[str, str],
    status: int,
    message: str,
) -> None:
    state = start_oauth(pages.as_(admin))
    page = pages.get(CALLBACK, state=state, **params)
    assert page.status_code == status
    assert message in page.text
    assert 'value="sixfold-app"' in page.text
    assert CLIENT_SECRET not in page.text
    assert cookie_deleted(page)
    assert channels(db) == []
    assert len(actions(db, "channel.connect_failed")) == 1


def test_the_callback_address_is_the_configured_public_one_when_set() -> None:
    def request(settings: Settings) -> Request:
        app = SimpleNamespace(state=SimpleNamespace(settings=settings))
        scope = {
            "type": "http",
            "app": app,
            "scheme": "http",
            "server": ("10.0.0.5", 8000),
            "path": "/",
            "root_path": "",
            "query_string": b"",
            "headers": [(b"host", b"10.0.0.5:8000")],
        }
        return Request(scope)

    public = Settings(base_url="https://social.example.org/")
    assert redirect_uri(request(public), "x") == (
        "https://social.example.org/channels/connect/x/callback"
    )
    assert redirect_uri(request(Settings()), "x") == (
        "http://10.0.0.5:8000/channels/connect/x/callback"
    )
