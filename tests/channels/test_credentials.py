"""Channel credentials over their life: renewed tokens saved at once, and "reconnect needed".

The saver's promise (a rotated refresh token survives a rolled-back publish) needs real
commits, so those tests run on a database of their own per backend instead of the
rollback-per-test fixtures, where every session shares one connection.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete, func, select
from sqlalchemy.orm import Session

from sixfold.audit import AuditEntry
from sixfold.auth import service as auth_service
from sixfold.auth.permissions import Role
from sixfold.channels import service
from sixfold.channels.base import Connector
from sixfold.channels.credentials import merge_credentials, open_credentials
from sixfold.channels.models import Channel, ChannelStatus
from sixfold.config import Settings
from sixfold.db import make_engine, migrate
from sixfold.notifications.models import EmailMessage, Notification
from sixfold.org.models import Organisation, Person
from tests import factories
from tests.channels.connect_fakes import FakeNetwork, install_fakes
from tests.conftest import _fresh_postgres_database

SETTINGS = Settings(secret_key="credentials-tests-" + "s" * 32)
STORED = {"access_token": "access-1", "refresh_token": "refresh-1", "client_id": "app"}


@pytest.fixture(autouse=True)
def fakes(monkeypatch: pytest.MonkeyPatch) -> None:
    install_fakes(monkeypatch)


def fake_channel(db: Session, org: Organisation, **settings: object) -> Channel:
    channel = service.create_channel(
        db,
        org,
        kind="fakeoauth",
        name=f"Fakedon {len(settings)}",
        actor=factories.ACTOR,
        settings=SETTINGS,
        channel_settings=dict(settings),
        credentials=STORED,
    )
    db.commit()
    return channel


def saver_of(connector: Connector) -> object:
    assert isinstance(connector, FakeNetwork)
    return connector.context.save_credentials


# Merging -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("renewed", "expected"),
    [
        ({"access_token": "access-2"}, {**STORED, "access_token": "access-2"}),
        (
            {"access_token": "a2", "refresh_token": "r2"},
            {**STORED, "access_token": "a2", "refresh_token": "r2"},
        ),
        ({"access_token": "a2", "refresh_token": ""}, {**STORED, "access_token": "a2"}),
        ({"refresh_token": None}, STORED),
        ({"refresh_jwt": ""}, STORED),
        ({"scope": ""}, {**STORED, "scope": ""}),  # only refresh tokens are guarded
        ({}, STORED),
    ],
)
def test_renewed_values_merge_over_the_stored_ones(
    renewed: dict[str, object], expected: dict[str, object]
) -> None:
    assert merge_credentials(STORED, renewed) == expected


def test_the_saver_seals_merges_and_audits_without_secrets(db: Session, org: Organisation) -> None:
    channel = fake_channel(db, org)
    save = saver_of(service.connector_for(db, channel.id, settings=SETTINGS))
    assert callable(save)
    save({"access_token": "access-2", "refresh_token": ""})

    # The caller's session sees the new value at once, without a write of its own.
    assert channel not in db.dirty
    assert open_credentials(SETTINGS, channel) == {**STORED, "access_token": "access-2"}
    [entry] = db.scalars(
        select(AuditEntry).where(AuditEntry.action == "channel.credentials_renewed")
    ).all()
    assert entry.details == {"keys": ["access_token", "refresh_token"]}
    assert "access-2" not in json.dumps(entry.details)
    assert "access-2" not in str(channel.credentials)

    save({"access_token": "access-2"})  # nothing new: nothing written, nothing audited
    assert (
        db.scalar(select(func.count()).where(AuditEntry.action == "channel.credentials_renewed"))
        == 1
    )


def test_without_the_secret_key_there_is_no_saver(db: Session, org: Organisation) -> None:
    channel = service.create_channel(db, org, kind="fakeform", name="Bare", actor=factories.ACTOR)
    assert saver_of(service.connector_for(db, channel.id, settings=None)) is None


# Saved in a transaction of its own ---------------------------------------------------------


@pytest.fixture(scope="module")
def committing_engine(
    request: pytest.FixtureRequest, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """A migrated database of the run's backend where commits are real."""
    if database_url.startswith("sqlite"):
        path: Path = tmp_path_factory.mktemp("credentials") / "committing.db"
        url = f"sqlite:///{path}"
    else:
        url = _fresh_postgres_database(
            request.getfixturevalue("postgres_server_url"), "sixfold_credentials"
        )
    engine = make_engine(url)
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def committed_channel(committing_engine: Engine) -> Iterator[int]:
    with Session(committing_engine) as session:
        org = factories.organisation(session)
        channel = fake_channel(session, org)
        channel_id = channel.id
    yield channel_id
    with Session(committing_engine) as session, session.begin():
        session.execute(delete(Channel).where(Channel.id == channel_id))


def test_a_renewed_token_survives_a_rolled_back_caller(
    committing_engine: Engine, committed_channel: int
) -> None:
    with Session(committing_engine) as caller:
        if committing_engine.dialect.name == "sqlite":
            # pysqlite begins only before writes; BEGIN makes the caller hold a read snapshot
            # while the saver writes on its own connection (WAL lets both go on).
            caller.connection().exec_driver_sql("BEGIN")
        channel = caller.get(Channel, committed_channel)
        assert channel is not None
        connector = service.connector_for(caller, committed_channel, settings=SETTINGS)
        save = saver_of(connector)
        assert callable(save)
        save({"access_token": "access-2", "refresh_token": "refresh-2"})
        assert open_credentials(SETTINGS, channel)["refresh_token"] == "refresh-2"
        caller.rollback()  # the publish failed

    with Session(committing_engine) as reader:
        channel = reader.get(Channel, committed_channel)
        assert channel is not None
        assert open_credentials(SETTINGS, channel) == {
            **STORED,
            "access_token": "access-2",
            "refresh_token": "refresh-2",
        }
        assert (
            reader.scalar(
                select(func.count()).where(
                    AuditEntry.action == "channel.credentials_renewed",
                    AuditEntry.target_id == str(committed_channel),
                )
            )
            == 1
        )


# Reconnect needed --------------------------------------------------------------------------


@pytest.fixture
def people(db: Session, org: Organisation) -> dict[str, Person]:
    team = factories.team(db, org)
    found = {
        "connector": factories.person(db, org, roles=(Role.CONTRIBUTOR,), password=None),
        "admin": factories.person(db, org, roles=(Role.ADMINISTRATOR,), password=None),
        "leader": factories.person(db, org, roles=(Role.LEADER,), password=None),
        "retired_admin": factories.person(db, org, roles=(Role.ADMINISTRATOR,), password=None),
        "team_admin": factories.person(db, org, password=None),
    }
    found["retired_admin"].is_active = False
    auth_service.assign_role(
        db, found["team_admin"], Role.ADMINISTRATOR, team=team, actor=factories.ACTOR, by=None
    )
    db.commit()
    return found


def told(db: Session) -> dict[int, int]:
    rows = db.execute(
        select(Notification.person_id, func.count())
        .where(Notification.kind == "channel_reconnect_needed")
        .group_by(Notification.person_id)
    )
    return {int(person_id): int(count) for person_id, count in rows}


def test_owners_hear_once_per_transition(
    db: Session, org: Organisation, people: dict[str, Person]
) -> None:
    channel = fake_channel(db, org, connected_by=people["connector"].id)
    assert service.mark_reconnect_needed(
        db, channel.id, "401 invalid_token", base_url="https://s.example"
    )
    assert not service.mark_reconnect_needed(db, channel.id, "401 invalid_token")  # next post
    db.commit()
    assert told(db) == {people["connector"].id: 1, people["admin"].id: 1}
    assert channel.status == ChannelStatus.RECONNECT_NEEDED
    mail = db.scalars(
        select(EmailMessage).where(EmailMessage.to_address == people["admin"].email)
    ).one()
    assert "needs reconnecting: 401 invalid_token" in mail.subject
    assert f"https://s.example/channels/{channel.id}" in mail.body

    channel.status = ChannelStatus.ACTIVE  # reconnected
    db.commit()
    assert service.mark_reconnect_needed(db, channel.id, "revoked again")
    assert told(db) == {people["connector"].id: 2, people["admin"].id: 2}


def test_a_disabled_channel_is_not_marked(db: Session, org: Organisation) -> None:
    channel = fake_channel(db, org)
    channel.status = ChannelStatus.DISABLED
    db.commit()
    assert not service.mark_reconnect_needed(db, channel.id, "revoked")
    db.expire_all()
    assert channel.status == ChannelStatus.DISABLED
