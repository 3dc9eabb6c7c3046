"""The channel settings pages: list, connect, edit, disable and verify, each change audited."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sixfold.audit import AuditEntry
from sixfold.auth.permissions import Role
from sixfold.channels import service as channels_service
from sixfold.channels.base import (
    AmbiguousError,
    ConnectorError,
    CredentialsError,
    PermanentError,
    RateLimited,
    TransientError,
)
from sixfold.channels.connectors.null import NullConnector
from sixfold.channels.models import Channel, ChannelStatus
from sixfold.notifications.models import Notification
from sixfold.org import service as org_service
from sixfold.org.clock import format_moment, organisation_zone
from sixfold.org.models import Organisation, Person
from sixfold.publishing import drafts, schedule
from sixfold.publishing.publisher import Publication
from tests import factories
from tests.channels.connect_fakes import FakeNetwork, install_fakes
from tests.publishing.pages import Pages


@pytest.fixture
def stream(db: Session, org: Organisation) -> Channel:
    channel = channels_service.create_channel(
        db, org, kind="internal", name="Internal stream", actor=factories.ACTOR
    )
    db.commit()
    return channel


def actions(db: Session, action: str) -> list[AuditEntry]:
    return list(db.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def connect(**fields: str) -> dict[str, str]:
    return {
        "kind": "file",
        "name": "Dry run",
        "path": "dry.jsonl",
        "timezone": "Europe/London",
        "queue_slots": "wed 12:30, mon 09:00",
        "requires_review": "true",
        **fields,
    }


def test_the_list_shows_status_slots_zone_review_and_counts(
    pages: Pages, db: Session, org: Organisation, admin: Person, stream: Channel
) -> None:
    stream.queue_slots = channels_service.parse_queue_slots("mon 09:00, fri 16:00")
    stream.timezone = "Europe/Berlin"
    broken = channels_service.create_channel(
        db, org, kind="null", name="Old account", actor=factories.ACTOR
    )
    channels_service.mark_reconnect_needed(db, broken.id, "The token was revoked.")
    post = drafts.create_draft(
        db, org, admin, drafts.DraftInput(text="Hi", channel_ids=[stream.id]), actor=factories.ACTOR
    )
    schedule.schedule_post(db, post, actor=factories.ACTOR)
    db.commit()

    page = pages.as_(admin).get("/channels")
    assert page.status_code == 200
    assert "mon 09:00, fri 16:00" in page.text
    assert "Europe/Berlin" in page.text
    assert "Null (sends nothing)" in page.text
    assert '<span class="status-pill failed">reconnect needed</span>' in page.text
    assert '<span class="danger-text">The token was revoked.</span>' in page.text
    assert f'<a href="/calendar?channel={stream.id}">1</a>' in page.text


def test_connecting_a_file_channel_keeps_its_file_in_the_data_folder(
    pages: Pages, db: Session, org: Organisation, admin: Person
) -> None:
    choice = pages.as_(admin).get("/channels/new").text
    for label in ("Internal stream", "JSON Lines file (dry run)", "Null (sends nothing)"):
        assert label in choice
    assert 'href="/channels/new?kind=file"' in choice
    form = pages.get("/channels/new?kind=file").text
    assert '<input type="radio" name="kind" value="file" checked required>' in form

    done = pages.post("/channels", connect())
    assert done.status_code == 303
    channel = db.scalars(select(Channel).where(Channel.name == "Dry run")).one()
    assert done.headers["location"] == f"/channels/{channel.id}?saved=1"
    assert channel.settings["path"] == str(
        (pages.settings.data_dir / "channels" / "dry.jsonl").resolve()
    )
    assert channel.queue_slots == [{"day": "mon", "time": "09:00"}, {"day": "wed", "time": "12:30"}]
    assert (channel.timezone, channel.requires_review) == ("Europe/London", True)
    assert [e.actor_id for e in actions(db, "channel.created")] == [admin.id]
    assert "Saved." in pages.get(done.headers["location"]).text


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"queue_slots": "someday 9am"}, "is not a day and a time such as"),
        ({"kind": ""}, "Choose what kind of channel"),
        ({"kind": "myspace"}, "Choose what kind of channel"),
        ({"timezone": "Mars/Base"}, "is not a time zone"),
        ({"name": ""}, "needs a name"),
        ({"path": "../../outside.jsonl"}, "The file must be inside"),
        ({"path": ""}, "needs a file name"),
        ({"path": "a\x00b.jsonl"}, "The file name contains a control character"),
        ({"path": "a\nb.jsonl"}, "The file name contains a control character"),
    ],
)
def test_a_channel_with_bad_settings_is_refused_and_nothing_is_created(
    pages: Pages, db: Session, admin: Person, fields: dict[str, str], message: str
) -> None:
    page = pages.as_(admin).post("/channels", connect(**fields))
    assert page.status_code == 422
    assert message in page.text
    assert db.scalars(select(Channel)).all() == []


def test_a_duplicate_name_is_refused(
    pages: Pages, db: Session, admin: Person, stream: Channel
) -> None:
    page = pages.as_(admin).post("/channels", {"kind": "internal", "name": "Internal stream"})
    assert page.status_code == 422
    assert "There is already a channel called" in page.text


def test_an_edit_is_saved_and_audited_with_before_and_after(
    pages: Pages, db: Session, admin: Person, stream: Channel
) -> None:
    page = pages.as_(admin).get(f"/channels/{stream.id}")
    assert page.status_code == 200
    assert 'name="path"' not in page.text  # only file channels have a file
    done = pages.post(
        f"/channels/{stream.id}",
        {"name": "Staff stream", "timezone": "Europe/Paris", "queue_slots": "tue 10:00"},
    )
    assert done.status_code == 303
    db.expire_all()
    assert (stream.name, stream.timezone, stream.queue_slots, stream.requires_review) == (
        "Staff stream",
        "Europe/Paris",
        [{"day": "tue", "time": "10:00"}],
        False,
    )
    [entry] = actions(db, "channel.updated")
    assert entry.details["name"] == {"before": "Internal stream", "after": "Staff stream"}
    assert entry.details["timezone"]["before"] == "UTC"
    assert "requires_review" not in entry.details


def test_an_invalid_edit_changes_nothing(
    pages: Pages, db: Session, admin: Person, stream: Channel
) -> None:
    page = pages.as_(admin).post(
        f"/channels/{stream.id}", {"name": "Renamed", "timezone": "UTC", "queue_slots": "mon 25:00"}
    )
    assert page.status_code == 422
    assert "is not a day and a time" in page.text
    assert 'value="Renamed"' in page.text  # what was typed is kept
    db.expire_all()
    assert stream.name == "Internal stream"
    assert actions(db, "channel.updated") == []


def test_disabling_is_audited_and_happens_once(
    pages: Pages, db: Session, admin: Person, stream: Channel
) -> None:
    done = pages.as_(admin).post(f"/channels/{stream.id}/disable")
    assert (done.status_code, done.headers["location"]) == (303, "/channels")
    db.expire_all()
    assert stream.status == ChannelStatus.DISABLED
    assert [e.actor_id for e in actions(db, "channel.disabled")] == [admin.id]
    again = pages.post(f"/channels/{stream.id}/disable")
    assert again.status_code == 409
    assert "disabled" in pages.get("/channels").text


def test_verify_shows_the_account_and_clears_a_reconnect(
    pages: Pages, db: Session, admin: Person, stream: Channel
) -> None:
    channels_service.mark_reconnect_needed(db, stream.id, "expired")
    db.commit()
    page = pages.as_(admin).post(f"/channels/{stream.id}/verify")
    assert page.status_code == 200
    assert "Connected as internal." in page.text
    db.expire_all()
    assert (stream.status, stream.handle) == (ChannelStatus.ACTIVE, "internal")


def test_verify_marks_refused_credentials_as_reconnect_needed(
    pages: Pages,
    db: Session,
    org: Organisation,
    admin: Person,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    channel = channels_service.create_channel(
        db, org, kind="null", name="Brand", actor=factories.ACTOR
    )
    db.commit()

    def refused(self: NullConnector) -> str:
        raise CredentialsError("401 The access token was revoked")

    monkeypatch.setattr(NullConnector, "verify", refused)
    page = pages.as_(admin).post(f"/channels/{channel.id}/verify")
    assert page.status_code == 200
    assert "The network refused the credentials: 401 The access token was revoked" in page.text
    db.expire_all()
    assert channel.status == ChannelStatus.RECONNECT_NEEDED
    assert "revoked" in channel.status_message
    assert "reconnect needed" in pages.get("/channels").text


def test_only_settings_managers_reach_channels(
    pages: Pages, db: Session, org: Organisation, stream: Channel
) -> None:
    leader = factories.person(db, org, roles=(Role.LEADER,), password=None)
    pages.as_(leader)
    assert pages.get("/channels").status_code == 403
    assert pages.get(f"/channels/{stream.id}").status_code == 403
    assert pages.post(f"/channels/{stream.id}/disable").status_code == 403
    db.expire_all()
    assert stream.status == ChannelStatus.ACTIVE


def test_a_channel_of_another_organisation_is_not_found(
    pages: Pages, db: Session, admin: Person
) -> None:
    other = org_service.ensure_organisation(db, "Other Org", "other-org")
    theirs = channels_service.create_channel(
        db, other, kind="internal", name="Theirs", actor=factories.ACTOR
    )
    db.commit()
    pages.as_(admin)
    assert pages.get(f"/channels/{theirs.id}").status_code == 404
    assert pages.post(f"/channels/{theirs.id}/disable").status_code == 404


# The test post -----------------------------------------------------------------------------


@pytest.fixture
def network_channel(
    db: Session, org: Organisation, admin: Person, monkeypatch: pytest.MonkeyPatch
) -> Channel:
    install_fakes(monkeypatch)
    channel = channels_service.create_channel(
        db,
        org,
        kind="fakeform",
        name="Fakesky",
        actor=factories.ACTOR,
        channel_settings={"connected_by": admin.id},
    )
    db.commit()
    return channel


def test_a_test_post_goes_straight_to_the_network_and_can_be_deleted(
    pages: Pages, db: Session, admin: Person, network_channel: Channel
) -> None:
    done = pages.as_(admin).post(f"/channels/{network_channel.id}/test-post")
    assert (done.status_code, done.headers["location"]) == (
        303,
        f"/channels/{network_channel.id}?tested=1#test-post",
    )
    [(remote_id, post)] = FakeNetwork.posts.items()
    assert post.text.startswith("Sixfold connection test — ")
    assert post.text.endswith("; this post can be deleted")
    assert FakeNetwork.keys[0].startswith(f"test-post-{network_channel.id}-")
    assert db.scalar(select(func.count()).select_from(Publication)) == 0
    [entry] = actions(db, "channel.test_post")
    assert (entry.details["url"], entry.actor_id) == (post.url, admin.id)
    page = pages.get(f"/channels/{network_channel.id}?tested=1").text
    assert f'<a href="{post.url}" rel="noopener noreferrer" target="_blank">' in page
    assert f'name="remote_id" value="{remote_id}"' in page
    # In the organisation's zone and format, like every other time the app shows.
    zone = organisation_zone(db.get(Organisation, network_channel.organisation_id))
    shown = format_moment(datetime.fromisoformat(entry.details["at"]), zone)
    assert f'{shown}: <a href="{post.url}"' in page

    pages.post(f"/channels/{network_channel.id}/test-post")
    assert len(set(FakeNetwork.keys)) == 2  # a fresh key each time, so no "duplicate"
    latest = list(FakeNetwork.posts)[-1]
    refused = pages.post(
        f"/channels/{network_channel.id}/test-post/delete", {"remote_id": remote_id}
    )
    assert refused.status_code == 404  # not the last test post: never deleted from here
    deleted = pages.post(f"/channels/{network_channel.id}/test-post/delete", {"remote_id": latest})
    assert deleted.status_code == 303
    assert list(FakeNetwork.posts) == [remote_id]
    db.expire_all()
    assert "test_post" not in network_channel.settings
    assert [e.details["remote_id"] for e in actions(db, "channel.test_post_deleted")] == [latest]


@pytest.mark.parametrize(
    ("failure", "status", "message"),
    [
        (RateLimited("Rate limit exceeded", retry_after=125), 429, "try again in 3 minutes"),
        (TransientError("503 Service Unavailable"), 429, "try again in a few minutes"),
        (AmbiguousError("read timed out"), 504, "the post may have gone out"),
        (PermanentError("Text too long"), 502, "Fakesky refused: Text too long"),
    ],
)
def test_a_failed_test_post_says_what_to_do(
    pages: Pages,
    db: Session,
    admin: Person,
    network_channel: Channel,
    failure: ConnectorError,
    status: int,
    message: str,
) -> None:
    FakeNetwork.failure = failure
    page = pages.as_(admin).post(f"/channels/{network_channel.id}/test-post")
    assert page.status_code == status
    assert message in page.text
    assert [e.actor_id for e in actions(db, "channel.test_post_failed")] == [admin.id]
    db.expire_all()
    assert network_channel.status == ChannelStatus.ACTIVE


def test_a_test_post_refused_for_credentials_marks_the_channel(
    pages: Pages, db: Session, admin: Person, network_channel: Channel
) -> None:
    FakeNetwork.failure = CredentialsError("401 invalid_token")
    page = pages.as_(admin).post(f"/channels/{network_channel.id}/test-post")
    assert page.status_code == 422
    assert "Fakesky refused the channel&#39;s sign-in: 401 invalid_token" in page.text
    db.expire_all()
    assert network_channel.status == ChannelStatus.RECONNECT_NEEDED
    told = db.scalars(select(Notification.person_id)).all()
    assert told == [admin.id]  # the person who connected it, who is also the administrator
