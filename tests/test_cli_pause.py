"""`sixfold pause` and `sixfold resume` as an operator runs them, against a real database."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from sixfold.audit import AuditEntry
from sixfold.channels import service as channels_service
from sixfold.cli import app
from sixfold.db import make_engine, make_sessionmaker, migrate, transaction, utcnow
from sixfold.org import service as org_service
from sixfold.publishing import drafts
from sixfold.publishing.models import PublishingPause
from sixfold.publishing.publisher import Publication, new_idempotency_key
from tests import factories

REASON = "Harbour fire: nothing promotional until further notice."


@pytest.fixture
def database(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[sessionmaker[Session]]:
    """A database of its own (the CLI commits for real) with an organisation and two channels."""
    if database_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'cli.db'}"
    else:
        from tests.conftest import _fresh_postgres_database

        url = _fresh_postgres_database(
            database_url.rsplit("/", 1)[0] + "/postgres", "sixfold_cli_pause"
        )
    monkeypatch.setenv("SIXFOLD_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SIXFOLD_DATABASE_URL", url)
    monkeypatch.setenv("SIXFOLD_SECRET_KEY", "cli-pause-tests-" + "k" * 32)
    monkeypatch.setattr("getpass.getuser", lambda: "ops")
    engine = make_engine(url)
    migrate(engine)
    factory = make_sessionmaker(engine)
    with transaction(factory) as session:
        org = org_service.ensure_organisation(session, "My organisation", "default")
        org.timezone = "Europe/London"
        for kind, name in (("internal", "Internal stream"), ("null", "Brand account")):
            channels_service.create_channel(
                session, org, kind=kind, name=name, actor=factories.ACTOR
            )
    yield factory
    engine.dispose()


def held_post(factory: sessionmaker[Session], text: str) -> int:
    """A post that came due an hour ago while publishing was paused."""
    with transaction(factory) as session:
        org = org_service.current_organisation(session)
        author = factories.person(session, org, password=None)
        [channel] = channels_service.list_channels(session, org)[:1]
        post = drafts.create_draft(
            session,
            org,
            author,
            drafts.DraftInput(text=text, channel_ids=[channel.id]),
            actor=factories.ACTOR,
        )
        due = utcnow() - timedelta(hours=1)
        row = Publication.create(
            session,
            state="held",
            organisation_id=org.id,
            post_id=post.id,
            channel_id=channel.id,
            idempotency_key=new_idempotency_key(),
            text=text,
            post_version=post.version,
            due_at=due,
            error_message=f"Held by the publishing pause: {REASON}",
        )
        session.flush()
        return row.id


def pauses(factory: sessionmaker[Session]) -> list[tuple[int | None, str, bool]]:
    with factory() as session:
        rows = session.scalars(select(PublishingPause).order_by(PublishingPause.id))
        return [(p.channel_id, p.reason, p.ended_at is None) for p in rows]


def test_pause_needs_a_reason(database: sessionmaker[Session]) -> None:
    runner = CliRunner()
    missing = runner.invoke(app, ["pause"])
    assert missing.exit_code == 2
    assert "--reason" in missing.output
    blank = runner.invoke(app, ["pause", "--reason", "   "])
    assert blank.exit_code == 1
    assert "Say why publishing is paused" in blank.output
    assert pauses(database) == []


def test_pause_stops_everything_and_names_the_operator(database: sessionmaker[Session]) -> None:
    result = CliRunner().invoke(app, ["pause", "--reason", REASON])
    assert result.exit_code == 0, result.output
    assert f"Publishing is paused organisation-wide: {REASON}" in result.output
    assert pauses(database) == [(None, REASON, True)]
    with database() as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "publishing.paused")
        ).one()
    assert (entry.actor, entry.details["reason"]) == ("cli:ops", REASON)
    again = CliRunner().invoke(app, ["pause", "--reason", "again"])
    assert again.exit_code == 1
    assert "already paused" in again.output


def test_one_channel_is_paused_by_name_or_id(database: sessionmaker[Session]) -> None:
    runner = CliRunner()
    by_name = runner.invoke(app, ["pause", "--reason", REASON, "--channel", "brand ACCOUNT"])
    assert by_name.exit_code == 0, by_name.output
    assert "paused on brand ACCOUNT" in by_name.output
    [(channel_id, _, _)] = pauses(database)
    assert channel_id is not None
    resumed = runner.invoke(app, ["resume", "--channel", str(channel_id)])
    assert resumed.exit_code == 0, resumed.output
    for unknown_name in ("Myspace", "²", "9" * 30):
        unknown = runner.invoke(app, ["pause", "--reason", REASON, "--channel", unknown_name])
        assert unknown.exit_code == 1
        assert f"No channel is called {unknown_name!r}" in unknown.output


def test_resume_prints_what_is_held_and_overdue(database: sessionmaker[Session]) -> None:
    runner = CliRunner()
    runner.invoke(app, ["pause", "--reason", REASON])
    publication_id = held_post(database, "Big weekend sale")
    result = runner.invoke(app, ["resume"])
    assert result.exit_code == 0, result.output
    assert "Publishing resumed." in result.output
    assert "Held and overdue" in result.output
    assert "was due (Europe/London)" in result.output
    row = next(line for line in result.output.splitlines() if "Big weekend sale" in line)
    assert str(publication_id) in row
    assert "Brand account" in row  # the first channel by name
    assert "1 h 0 min" in row or "59 min" in row
    assert "1 held post(s) wait for a decision" in result.output
    assert pauses(database) == [(None, REASON, False)]
    with database() as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "publishing.resumed")
        ).one()
    assert (entry.actor, entry.details["held"]) == ("cli:ops", 1)


def test_resume_without_a_pause_or_held_posts(database: sessionmaker[Session]) -> None:
    runner = CliRunner()
    nothing = runner.invoke(app, ["resume"])
    assert nothing.exit_code == 1
    assert "Publishing is not paused" in nothing.output
    runner.invoke(app, ["pause", "--reason", REASON])
    result = runner.invoke(app, ["resume"])
    assert result.exit_code == 0
    assert "Nothing is held." in result.output


def test_both_commands_have_help() -> None:
    for command in ("pause", "resume"):
        result = CliRunner().invoke(app, [command, "--help"])
        assert result.exit_code == 0
        assert "--channel" in result.output
