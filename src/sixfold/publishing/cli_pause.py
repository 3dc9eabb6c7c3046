"""`sixfold pause` and `sixfold resume`: the crisis pause from a terminal.

For the moment the web app is out of reach, or the person on call has only a shell. The
actor in the audit log is the operating-system user, so a pause is never anonymous.
"""

from __future__ import annotations

import getpass
from datetime import datetime

from rich.console import Console
from rich.table import Table
from rich.text import Text
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from sixfold import audit
from sixfold.channels.models import Channel
from sixfold.db import transaction, utcnow
from sixfold.errors import DomainError, NotFound
from sixfold.inputs import parse_id
from sixfold.org import service as org_service
from sixfold.org.clock import organisation_zone
from sixfold.org.models import Organisation
from sixfold.publishing import pause
from sixfold.publishing.publisher import Publication


def cli_actor() -> audit.Actor:
    try:
        user = getpass.getuser()
    except (OSError, KeyError):
        # No login name (a container without /etc/passwd entry): still say it was the CLI.
        user = "unknown"
    return audit.Actor(id=None, label=f"cli:{user}")


def find_channel(session: Session, organisation: Organisation, name_or_id: str) -> Channel:
    wanted = name_or_id.strip()
    query = select(Channel).where(Channel.organisation_id == organisation.id)
    channel_id = parse_id(wanted)
    if channel_id is not None:
        channel = session.scalar(query.where(Channel.id == channel_id))
    else:
        channel = session.scalar(query.where(func.lower(Channel.name) == wanted.lower()))
    if channel is None:
        raise NotFound(f"No channel is called {wanted!r}.")
    return channel


def _channel_id(session: Session, organisation: Organisation, name_or_id: str | None) -> int | None:
    return find_channel(session, organisation, name_or_id).id if name_or_id else None


def run_pause(
    factory: sessionmaker[Session], *, reason: str, channel: str | None, console: Console
) -> int:
    """Pause publishing; return the exit status."""
    try:
        with transaction(factory) as session:
            organisation = org_service.current_organisation(session)
            row = pause.pause(
                session,
                organisation,
                reason=reason,
                channel_id=_channel_id(session, organisation, channel),
                actor=cli_actor(),
            )
            scope = f"on {channel}" if row.channel_id else "organisation-wide"
    except DomainError as error:
        console.print(Text.assemble(("error:", "red"), f" {error}"))
        return 1
    # markup=False: a reason such as "[red]" is the operator's text, not styling.
    console.print(f"Publishing is paused {scope}: {reason.strip()}", markup=False, soft_wrap=True)
    console.print("Resume with `sixfold resume`; posts due meanwhile are held for your decision.")
    return 0


def run_resume(
    factory: sessionmaker[Session], *, channel: str | None, console: Console, out: Console
) -> int:
    """Resume publishing and print what is held and overdue; return the exit status."""
    try:
        with transaction(factory) as session:
            organisation = org_service.current_organisation(session)
            held = pause.resume(
                session,
                organisation,
                channel_id=_channel_id(session, organisation, channel),
                actor=cli_actor(),
            )
            table = held_table(held, organisation) if held else None
    except DomainError as error:
        console.print(Text.assemble(("error:", "red"), f" {error}"))
        return 1
    console.print(f"Publishing resumed{' on ' + channel if channel else ''}.", markup=False)
    if table is None:
        out.print("Nothing is held.")
        return 0
    out.print(table)
    out.print(
        f"{len(held)} held post(s) wait for a decision: publish, reschedule or cancel each "
        "on /publishing/overdue."
    )
    return 0


def held_table(rows: list[Publication], organisation: Organisation) -> Table:
    zone = organisation_zone(organisation)
    now = utcnow()
    table = Table(title="Held and overdue", title_justify="left")
    for column in ("publication", "channel", f"was due ({zone.key})", "overdue by", "post"):
        table.add_column(column)
    for row in rows:
        # Text cells: names and posts are shown as written, never read as rich markup.
        table.add_row(
            str(row.id),
            Text(row.channel.name),
            f"{row.due_at.astimezone(zone):%Y-%m-%d %H:%M}",
            _overdue(now, row.due_at),
            Text(" ".join(row.text.split())[:60]),
        )
    return table


def _overdue(now: datetime, due: datetime) -> str:
    minutes = max(0, int((now - due).total_seconds() // 60))
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"
