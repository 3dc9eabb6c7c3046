"""The `sixfold` command."""

from __future__ import annotations

import getpass
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy.orm import Session, sessionmaker

from sixfold import audit
from sixfold.auth import service as auth_service
from sixfold.auth.permissions import Role
from sixfold.config import Settings, load_settings
from sixfold.db import make_engine, make_sessionmaker, migrate, transaction
from sixfold.errors import DomainError
from sixfold.network import cli as network_cli
from sixfold.org import service as org_service
from sixfold.risk import cli as risk_cli

app = typer.Typer(
    help="Sixfold: governed social media for organisations.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
user_app = typer.Typer(help="Manage people who can sign in.", no_args_is_help=True)
token_app = typer.Typer(help="Manage API tokens.", no_args_is_help=True)
audit_app = typer.Typer(help="Inspect the audit log.", no_args_is_help=True)
app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")
app.add_typer(audit_app, name="audit")
risk_cli.register(app)
network_cli.register(app)
console = Console(stderr=True)
CLI_ACTOR = audit.Actor(id=None, label="cli")


def _settings() -> Settings:
    return load_settings()


@contextmanager
def _database(settings: Settings) -> Iterator[sessionmaker[Session]]:
    """A migrated database for the duration of one command; connections closed after."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.resolved_database_url)
    try:
        migrate(engine)
        yield make_sessionmaker(engine)
    finally:
        engine.dispose()


def _fail(message: str, code: int = 1) -> typer.Exit:
    console.print(f"[red]error:[/red] {message}")
    return typer.Exit(code)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Migrate the database to the newest schema and serve the web app and API."""
    import uvicorn

    from sixfold.web.app import create_app

    settings = _settings()
    with _database(settings) as factory:
        settings.resolved_secret_key  # noqa: B018 - creates the key file before the first request
        web_app = create_app(settings, session_factory=factory)
        stop = threading.Event()
        worker = (
            _start_embedded_worker(factory, stop, settings) if settings.embedded_worker else None
        )
        console.print(f"Sixfold is serving at http://{host}:{port}")
        try:
            uvicorn.run(web_app, host=host, port=port, log_level="info")
        finally:
            stop.set()
            if worker is not None:
                worker.join(timeout=10)


def _start_embedded_worker(
    factory: sessionmaker[Session], stop: threading.Event, settings: Settings
) -> threading.Thread:
    from sixfold.channels.registry import connector_types
    from sixfold.jobs import Runner
    from sixfold.workers import state_machines

    connector_types()  # loaded before serving, as for `sixfold worker`
    runner = Runner(factory, models=state_machines(), services={"settings": settings})
    thread = threading.Thread(
        target=runner.run_forever, args=(stop,), daemon=True, name="sixfold-worker"
    )
    thread.start()
    return thread


@app.command()
def worker(
    worker_id: Annotated[str | None, typer.Option(help="Name of this worker in leases.")] = None,
    lease_seconds: Annotated[
        float,
        typer.Option(
            min=1,
            help="How long a claimed job stays this worker's; a killed worker's jobs wait "
            "this long before another worker takes them over.",
        ),
    ] = 300.0,
) -> None:
    """Run durable jobs (imports, later publishing) until interrupted."""
    import os
    import signal
    import socket

    from sixfold.channels.registry import connector_types
    from sixfold.jobs import Runner
    from sixfold.workers import state_machines

    settings = _settings()
    with _database(settings) as factory:
        # Every network's client library is loaded now (0.6 s, most of it atproto) rather
        # than on the first due post: a worker that says "started", or restarts after a
        # crash, is ready to publish on time.
        connector_types()
        name = worker_id or f"{socket.gethostname()}:{os.getpid()}"
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        runner = Runner(
            factory,
            models=state_machines(),
            worker_id=name,
            lease_seconds=lease_seconds,
            services={"settings": settings},
        )
        console.print(f"worker {name} started")
        try:
            runner.run_forever(stop)
        except KeyboardInterrupt:
            stop.set()


@app.command()
def demo() -> None:
    """Create the demo organisation (safe to run again: it changes nothing the second time)."""
    from sixfold.org.demo import seed_demo

    settings = _settings()
    with _database(settings) as factory:
        with transaction(factory) as session:
            logins = seed_demo(session, settings=settings)
        _print_logins(logins)


def _print_logins(logins: list[tuple[str, str, str]]) -> None:
    if not logins:
        console.print(
            "The demo organisation already exists; its logins were printed when it "
            "was created (see README)."
        )
        return
    typer.echo("Demo logins (role, e-mail, password):")
    for role, email, password in logins:
        typer.echo(f"  {role:<18} {email:<32} {password}")


@user_app.command("create")
def user_create(
    email: Annotated[str, typer.Option(help="E-mail address, used to sign in.")],
    name: Annotated[str, typer.Option(help="Full name.")],
    role: Annotated[list[Role], typer.Option(help="Role to grant (repeatable).")] = [],  # noqa: B006 - Typer reads the default, never mutates it
    title: Annotated[str, typer.Option(help="Job title.")] = "",
    password: Annotated[
        str | None,
        typer.Option(
            help="Password; prompted for when omitted. Prefer the prompt: shell history keeps "
            "options."
        ),
    ] = None,
) -> None:
    """Create a person who can sign in, with roles organisation-wide."""
    settings = _settings()
    with _database(settings) as factory:
        secret = password or getpass.getpass("Password: ")
        try:
            with transaction(factory) as session:
                organisation = org_service.ensure_organisation(
                    session, "My organisation", "default"
                )
                person = org_service.create_person(
                    session, organisation, name=name, email=email, title=title, actor=CLI_ACTOR
                )
                auth_service.set_password(
                    session, person, secret, settings=settings, actor=CLI_ACTOR
                )
                for each in role:
                    auth_service.assign_role(
                        session, person, each, team=None, actor=CLI_ACTOR, by=None
                    )
        except DomainError as error:
            raise _fail(str(error)) from error
        console.print(f"Created {email}.")


@token_app.command("create")
def token_create(
    user: Annotated[str, typer.Option(help="E-mail of the token's owner.")],
    name: Annotated[str, typer.Option(help="What the token is for.")] = "cli",
) -> None:
    """Create an API token and print it once (only its hash is stored)."""
    with _database(_settings()) as factory:
        try:
            with transaction(factory) as session:
                person = auth_service.find_person_by_email(session, user)
                if person is None:
                    raise _fail(f"nobody has the e-mail address {user}")
                _token, secret = auth_service.create_api_token(
                    session, person, name, actor=CLI_ACTOR
                )
        except DomainError as error:
            raise _fail(str(error)) from error
        typer.echo(secret)


@audit_app.command("verify")
def audit_verify() -> None:
    """Check the hash chain of the audit log; name the first broken entry."""
    with _database(_settings()) as factory:
        with factory() as session:
            report = audit.verify_chain(session)
        if report.ok:
            console.print(f"[green]ok[/green]: {report.checked} entries, chain intact")
            return
        console.print(
            f"[red]broken[/red] at entry {report.first_broken}: {report.reason} "
            f"({report.checked} entries before it are intact)"
        )
        raise typer.Exit(1)


@app.command("import-org")
def import_org(
    path: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="Org-chart CSV file.")
    ],
    skip_invalid: Annotated[
        bool, typer.Option(help="Import the valid rows, skip the rest.")
    ] = False,
) -> None:
    """Import an org chart (id,name,email,title,department,manager_id) from CSV."""
    from sixfold.org.cli_import import run_import

    with _database(_settings()) as factory:
        raise typer.Exit(
            run_import(factory, path, skip_invalid=skip_invalid, console=console, actor=CLI_ACTOR)
        )


@app.command("pause")
def pause_publishing(
    reason: Annotated[
        str, typer.Option(help="Why: shown on every page and kept in the audit log.")
    ],
    channel: Annotated[
        str | None, typer.Option(help="Pause only this channel (its name or id).")
    ] = None,
) -> None:
    """Stop publishing at once, organisation-wide or on one channel (the crisis pause)."""
    from sixfold.publishing.cli_pause import run_pause

    with _database(_settings()) as factory:
        raise typer.Exit(run_pause(factory, reason=reason, channel=channel, console=console))


@app.command("resume")
def resume_publishing(
    channel: Annotated[
        str | None, typer.Option(help="Resume only this channel (its name or id).")
    ] = None,
) -> None:
    """End the crisis pause and list the held posts that became overdue."""
    from sixfold.publishing.cli_pause import run_resume

    with _database(_settings()) as factory:
        raise typer.Exit(
            run_resume(factory, channel=channel, console=console, out=Console(width=120))
        )


def main() -> None:
    app()
