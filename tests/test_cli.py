"""The `sixfold` command as a user runs it."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sixfold.cli import app


@pytest.fixture
def env(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    # A database of its own: the CLI commits for real.
    if database_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'cli.db'}"
    else:
        from tests.conftest import _fresh_postgres_database

        url = _fresh_postgres_database(database_url.rsplit("/", 1)[0] + "/postgres", "sixfold_cli")
    monkeypatch.setenv("SIXFOLD_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SIXFOLD_DATABASE_URL", url)
    monkeypatch.delenv("SIXFOLD_SECRET_KEY", raising=False)
    return tmp_path / "data"


def test_demo_is_idempotent_and_prints_a_login_per_role(env: Path) -> None:
    runner = CliRunner()
    first = runner.invoke(app, ["demo"])
    assert first.exit_code == 0, first.output
    for role in (
        "administrator",
        "leader",
        "community_mentor",
        "content_curator",
        "network_analyst",
        "contributor",
    ):
        assert role in first.output
    again = runner.invoke(app, ["demo"])
    assert again.exit_code == 0
    assert again.output == first.output
    logins = env / "demo-logins.json"
    assert stat.S_IMODE(logins.stat().st_mode) == 0o600


def test_token_is_printed_once_and_audit_verifies(env: Path) -> None:
    runner = CliRunner()
    created = runner.invoke(
        app,
        [
            "user",
            "create",
            "--email",
            "ops@example.org",
            "--name",
            "Ops Person",
            "--role",
            "administrator",
            "--password",
            "a long enough password",
        ],
    )
    assert created.exit_code == 0, created.output
    token = runner.invoke(app, ["token", "create", "--user", "ops@example.org"])
    assert token.exit_code == 0
    assert token.output.strip().startswith("sfx_")
    unknown = runner.invoke(app, ["token", "create", "--user", "nobody@example.org"])
    assert unknown.exit_code == 1
    verified = runner.invoke(app, ["audit", "verify"])
    assert verified.exit_code == 0
    assert "chain intact" in verified.output


def test_user_create_rejects_a_short_password(env: Path) -> None:
    result = CliRunner().invoke(
        app, ["user", "create", "--email", "a@example.org", "--name", "A", "--password", "short"]
    )
    assert result.exit_code == 1
    assert "at least 12 characters" in result.output


def test_import_org_reports_bad_lines(env: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    runner.invoke(app, ["demo"])
    chart = tmp_path / "chart.csv"
    chart.write_text(
        "id,name,email,title,department,manager_id\n"
        "X1,Ann,ann@example.org,Boss,Sales,\n"
        "X2,Bob,bob@example.org,Rep,Sales,X9\n",
        encoding="utf-8",
    )
    rejected = runner.invoke(app, ["import-org", str(chart)])
    assert rejected.exit_code == 1
    assert "line 3" in rejected.output
    skipped = runner.invoke(app, ["import-org", str(chart), "--skip-invalid"])
    assert skipped.exit_code == 0, skipped.output
    assert "1 new" in skipped.output


def test_every_command_has_help() -> None:
    runner = CliRunner()
    for command in (
        ["--help"],
        ["serve", "--help"],
        ["worker", "--help"],
        ["demo", "--help"],
        ["user", "create", "--help"],
        ["token", "create", "--help"],
        ["audit", "verify", "--help"],
        ["import-org", "--help"],
    ):
        result = runner.invoke(app, command)
        assert result.exit_code == 0, command
