"""Reconnecting a channel whose sign-in failed, and who may use the connect pages.

The networks are the test-only connectors of connect_fakes.py.
"""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from sixfold.auth.permissions import Role
from sixfold.channels import service
from sixfold.channels.credentials import open_credentials, seal_credentials
from sixfold.channels.models import Channel, ChannelStatus
from sixfold.config import Settings
from sixfold.org import service as org_service
from sixfold.org.models import Organisation, Person
from tests import factories
from tests.channels.connect_fakes import FakeNetwork, install_fakes
from tests.channels.connect_helpers import (
    CALLBACK,
    CLIENT_SECRET,
    SECRET,
    actions,
    channels,
    form_fields,
    start_oauth,
    state_of,
)
from tests.publishing.pages import Pages


@pytest.fixture(autouse=True)
def fakes(monkeypatch: pytest.MonkeyPatch) -> None:
    install_fakes(monkeypatch)


# Reconnecting ------------------------------------------------------------------------------


def broken_form_channel(pages: Pages, db: Session, admin: Person) -> Channel:
    pages.as_(admin).post("/channels/connect/fakeform", form_fields())
    [channel] = channels(db)
    service.mark_reconnect_needed(db, channel.id, "Token has been revoked")
    db.commit()
    return channel


def test_a_broken_channel_offers_reconnecting_with_the_networks_message(
    pages: Pages, db: Session, admin: Person
) -> None:
    channel = broken_form_channel(pages, db, admin)
    page = pages.get(f"/channels/{channel.id}")
    assert '<section class="card highlight" id="reconnect"' in page.text
    assert 'Fakesky said: <span class="danger-text">Token has been revoked</span>' in page.text
    assert 'value="comms.fakesky.test"' in page.text
    assert SECRET not in page.text
    assert "Leave it empty to keep the one stored." in page.text


def test_reconnecting_a_form_channel_restores_it(pages: Pages, db: Session, admin: Person) -> None:
    channel = broken_form_channel(pages, db, admin)
    done = pages.post(
        f"/channels/{channel.id}/reconnect",
        {"field_server": "https://fakesky.test", "field_identifier": "comms.fakesky.test"},
    )
    assert (done.status_code, done.headers["location"]) == (
        303,
        f"/channels/{channel.id}?reconnected=1",
    )
    # The app password left empty was the stored one.
    assert FakeNetwork.calls[-1] == (
        "connect",
        {
            "server": "https://fakesky.test",
            "identifier": "comms.fakesky.test",
            "app_password": SECRET,
        },
    )
    db.expire_all()
    assert (channel.status, channel.status_message) == (ChannelStatus.ACTIVE, "")
    [entry] = actions(db, "channel.reconnected")
    assert entry.details["before"]["status"] == "reconnect_needed"
    assert "Reconnected as comms.fakesky.test" in pages.get(done.headers["location"]).text


def test_a_refused_reconnect_leaves_the_channel_broken(
    pages: Pages, db: Session, admin: Person
) -> None:
    channel = broken_form_channel(pages, db, admin)
    page = pages.post(
        f"/channels/{channel.id}/reconnect",
        {
            "field_server": "https://fakesky.test",
            "field_identifier": "comms.fakesky.test",
            "field_app_password": "wrong-password",
        },
    )
    assert page.status_code == 422
    assert 'id="reconnect-error">Fakesky refused the sign-in' in page.text
    assert "wrong-password" not in page.text
    db.expire_all()
    assert channel.status == ChannelStatus.RECONNECT_NEEDED
    assert open_credentials(pages.settings, channel)["app_password"] == SECRET


@pytest.mark.parametrize(
    ("typed", "changed"),
    [
        ({"field_server": "https://pds.attacker.test"}, "Server changed"),
        ({"field_identifier": "someone.else.test"}, "Handle changed"),
    ],
)
def test_a_stored_secret_goes_only_to_the_server_and_account_it_was_made_for(
    pages: Pages, db: Session, admin: Person, typed: dict[str, str], changed: str
) -> None:
    channel = broken_form_channel(pages, db, admin)
    calls = len(FakeNetwork.calls)
    form = {"field_server": "https://fakesky.test", "field_identifier": "comms.fakesky.test"}
    page = pages.post(f"/channels/{channel.id}/reconnect", form | typed)
    assert page.status_code == 422
    assert (
        f"Please fill in: App password. {changed}, so the stored App password cannot be used:"
        " enter it again."
    ) in page.text
    assert len(FakeNetwork.calls) == calls  # the stored password was sent nowhere
    db.expire_all()
    assert channel.status == ChannelStatus.RECONNECT_NEEDED


def test_reconnecting_a_form_channel_to_another_account_is_refused(
    pages: Pages, db: Session, admin: Person
) -> None:
    channel = broken_form_channel(pages, db, admin)
    page = pages.post(
        f"/channels/{channel.id}/reconnect",
        {
            "field_server": "https://fakesky.test",
            "field_identifier": "other.fakesky.test",
            "field_app_password": "other-password",
        },
    )
    assert page.status_code == 422
    assert (
        "This channel is comms.fakesky.test; you signed in as other.fakesky.test. "
        "Connect a new channel for another account."
    ) in page.text
    db.expire_all()
    assert channel.status == ChannelStatus.RECONNECT_NEEDED
    assert channel.settings["did"] == "did:plc:comms.fakesky.test"
    assert open_credentials(pages.settings, channel)["app_password"] == SECRET
    assert actions(db, "channel.reconnected") == []
    [failed] = actions(db, "channel.connect_failed")
    assert failed.details["reason"] == "ConnectRefused"


def test_reconnecting_through_oauth_to_another_account_is_refused(
    pages: Pages, db: Session, admin: Person
) -> None:
    pages.get(CALLBACK, code="good", state=start_oauth(pages.as_(admin)))
    [channel] = channels(db)
    service.mark_reconnect_needed(db, channel.id, "invalid_token")
    db.commit()
    started = pages.post(f"/channels/{channel.id}/reconnect", {"field_client_id": "sixfold-app"})
    page = pages.get(CALLBACK, code="other-account", state=state_of(started))
    assert page.status_code == 422
    assert (
        "This channel is @leader@fakedon.test; you signed in as @other@fakedon.test."
    ) in page.text
    [channel] = channels(db)
    assert channel.status == ChannelStatus.RECONNECT_NEEDED
    assert channel.settings["account_id"] == "42"
    assert open_credentials(pages.settings, channel)["access_token"] == "access-good"


def test_reconnecting_through_oauth_renews_the_same_channel(
    pages: Pages, db: Session, admin: Person
) -> None:
    state = start_oauth(pages.as_(admin))
    pages.get(CALLBACK, code="good", state=state)
    [channel] = channels(db)
    service.mark_reconnect_needed(db, channel.id, "invalid_token")
    db.commit()

    started = pages.post(f"/channels/{channel.id}/reconnect", {"field_client_id": "sixfold-app"})
    state = state_of(started)
    done = pages.get(CALLBACK, code="no-refresh", state=state)
    assert done.headers["location"] == f"/channels/{channel.id}?reconnected=1"
    [channel] = channels(db)
    assert channel.status == ChannelStatus.ACTIVE
    credentials = open_credentials(pages.settings, channel)
    # A new access token; the empty refresh token did not replace the stored one.
    assert credentials["access_token"] == "access-no-refresh"
    assert credentials["refresh_token"] == "refresh-good"
    assert credentials["client_secret"] == CLIENT_SECRET
    assert len(actions(db, "channel.reconnected")) == 1


def test_reconnect_is_for_network_channels_of_ones_own_organisation(
    pages: Pages, db: Session, org: Organisation, admin: Person
) -> None:
    stream = service.create_channel(db, org, kind="internal", name="Stream", actor=factories.ACTOR)
    other = org_service.ensure_organisation(db, "Other Org", "other-org")
    theirs = service.create_channel(
        db, other, kind="fakeform", name="Theirs", actor=factories.ACTOR
    )
    db.commit()
    pages.as_(admin)
    assert pages.post(f"/channels/{stream.id}/reconnect").status_code == 404
    assert pages.post(f"/channels/{theirs.id}/reconnect").status_code == 404
    assert pages.post(f"/channels/{theirs.id}/test-post").status_code == 404
    assert pages.post(f"/channels/{theirs.id}/test-post/delete").status_code == 404


def test_connect_pages_are_for_settings_managers_with_a_csrf_token(
    pages: Pages, db: Session, org: Organisation, admin: Person
) -> None:
    leader = factories.person(db, org, roles=(Role.LEADER,), password=None)
    pages.as_(leader)
    assert pages.get("/channels/connect/fakeform").status_code == 403
    assert pages.post("/channels/connect/fakeform", form_fields()).status_code == 403
    pages.as_(admin)
    no_token = pages.client.post("/channels/connect/fakeform", data=form_fields())
    assert no_token.status_code == 403
    assert channels(db) == []


def test_credentials_sealed_under_another_key_are_asked_again(
    pages: Pages, db: Session, org: Organisation, admin: Person
) -> None:
    other_key = Settings(secret_key="a-key-from-before-" + "o" * 32)
    channel = service.create_channel(
        db,
        org,
        kind="fakeform",
        name="Old key",
        actor=factories.ACTOR,
        settings=other_key,
        channel_settings={"server": "https://fakesky.test", "identifier": "old.fakesky.test"},
        credentials={"app_password": SECRET},
    )
    service.mark_reconnect_needed(db, channel.id, "cannot open the credentials")
    db.commit()
    page = pages.as_(admin).get(f"/channels/{channel.id}")
    assert page.status_code == 200
    assert "Leave it empty to keep the one stored." not in page.text
    refused = pages.post(
        f"/channels/{channel.id}/reconnect",
        {"field_server": "https://fakesky.test", "field_identifier": "old.fakesky.test"},
    )
    assert refused.status_code == 422
    assert "Please fill in: App password." in refused.text
    done = pages.post(
        f"/channels/{channel.id}/reconnect",
        {
            "field_server": "https://fakesky.test",
            "field_identifier": "old.fakesky.test",
            "field_app_password": "new-app-password",
        },
    )
    assert done.status_code == 303
    db.expire_all()
    assert open_credentials(pages.settings, channel)["app_password"] == "new-app-password"
    # And a test post on unreadable credentials says to reconnect instead of failing.
    seal_credentials(other_key, channel, {"app_password": SECRET})
    db.commit()
    page = pages.post(f"/channels/{channel.id}/test-post")
    assert page.status_code == 422
    assert "cannot be opened with this installation&#39;s secret key" in page.text
