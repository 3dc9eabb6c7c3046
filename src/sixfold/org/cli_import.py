"""`sixfold import-org`: the org-chart import from the command line, with a progress bar."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
from sqlalchemy.orm import Session, sessionmaker

from sixfold import audit
from sixfold.db import transaction
from sixfold.org import service
from sixfold.org.importer import apply_org_chart
from sixfold.org.importer_parse import OrgChartError, parse_org_chart

ERRORS_PRINTED = 200


def run_import(
    factory: sessionmaker[Session],
    path: Path,
    *,
    skip_invalid: bool,
    console: Console,
    actor: audit.Actor,
) -> int:
    """Import the file; return the exit status (0 imported, 1 rejected)."""
    try:
        with path.open("rb") as handle:
            parsed = parse_org_chart(handle)
    except OrgChartError as error:
        console.print(f"[red]error:[/red] {path}: {error}")
        return 1
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as bar:
        task = bar.add_task("importing", total=len(parsed.rows))
        with transaction(factory) as session:
            organisation = service.current_organisation(session)
            result = apply_org_chart(
                session,
                organisation,
                parsed,
                actor=actor,
                skip_invalid=skip_invalid,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
    for problem in result.errors[:ERRORS_PRINTED]:
        console.print(f"{path}:{problem}")
    if len(result.errors) > ERRORS_PRINTED:
        console.print(f"… and {len(result.errors) - ERRORS_PRINTED} more problems")
    if result.rejected:
        console.print(
            f"[red]nothing imported[/red]: {len(result.errors)} invalid rows "
            "(use --skip-invalid to import the valid ones)"
        )
        return 1
    console.print(
        f"imported: {result.created} new, {result.updated} updated, "
        f"{result.unchanged} unchanged, {result.skipped} skipped"
    )
    return 0
