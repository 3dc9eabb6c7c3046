"""`sixfold network …`: the command-line contract of the network analysis."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

if TYPE_CHECKING:
    import polars as pl

    from sixfold.network.analysis import NetworkReport
    from sixfold.network.importers import ImportLimits, ImportProblem, InteractionImport
    from sixfold.network.orgchart import OrgChart
    from sixfold.network.privacy import Pseudonymiser

# The analysis modules are imported inside the commands: the main `sixfold` command loads
# this module to list its subcommands, and NetworKit's import alone takes about a second.

network_app = typer.Typer(help="Organisational network analysis.", no_args_is_help=True)
Loader = Callable[[Path, "ImportLimits | None"], "InteractionImport"]
Source = Annotated[Path | None, typer.Option(exists=True, dir_okay=False, readable=True)]


def register(app: typer.Typer) -> None:
    """Add the `network` command group to the main `sixfold` command."""
    app.add_typer(network_app, name="network")


@network_app.command("analyze")
def analyze_command(
    people: Annotated[Path, typer.Option(exists=True, dir_okay=False, help="org-chart CSV")],
    interactions: Annotated[
        Path | None, typer.Option(exists=True, dir_okay=False, help="interactions CSV")
    ] = None,
    slack: Source = None,
    mbox: Source = None,
    mattermost: Source = None,
    since: Annotated[str | None, typer.Option(help="ISO date, inclusive")] = None,
    until: Annotated[str | None, typer.Option(help="ISO date, exclusive")] = None,
    min_interactions: Annotated[float, typer.Option(min=0.001)] = 2.0,
    broadcast_recipients: Annotated[int, typer.Option(min=1)] = 25,
    min_group_size: Annotated[int, typer.Option(min=3)] = 5,
    window_days: Annotated[int, typer.Option(min=1)] = 28,
    step_days: Annotated[int, typer.Option(min=1)] = 28,
    pseudonymise_key_file: Source = None,
    out: Annotated[Path, typer.Option(file_okay=False)] = Path("network-report"),
) -> None:
    """Analyse collaboration metadata against the org chart; write report.json and report.html."""
    from sixfold.network.analysis import STEPS, analyze
    from sixfold.network.config import AnalysisConfig
    from sixfold.network.importers import (
        load_interactions_csv,
        load_mattermost_export,
        load_mbox,
        load_slack_export,
    )
    from sixfold.network.importers.timestamps import parse_date_bound
    from sixfold.network.privacy import Pseudonymiser

    err = Console(stderr=True)
    sources = {
        path: loader
        for path, loader in (
            (interactions, load_interactions_csv),
            (slack, load_slack_export),
            (mbox, load_mbox),
            (mattermost, load_mattermost_export),
        )
        if path is not None
    }
    if not sources:
        raise typer.BadParameter(
            "give at least one of --interactions, --slack, --mbox, --mattermost"
        )
    try:
        config = AnalysisConfig(
            min_interactions=min_interactions,
            broadcast_recipients=broadcast_recipients,
            since=parse_date_bound(since) if since else None,
            until=parse_date_bound(until) if until else None,
            min_group_size=min_group_size,
            window_days=window_days,
            window_step_days=step_days,
        )
        hasher = (
            Pseudonymiser(pseudonymise_key_file.read_bytes().strip())
            if pseudonymise_key_file is not None
            else None
        )
    except ValueError as error:
        raise typer.BadParameter(str(error)) from error
    with _progress(err) as bar:
        task = bar.add_task("importing", total=2 + len(STEPS))
        chart, frame, imported = _import(people, sources, hasher, err)
        bar.advance(task)

        def step(name: str) -> None:
            bar.update(task, advance=1, description=name)

        report = analyze(
            chart,
            frame,
            config,
            progress=step,
            problems=imported.problems,
            problem_count=imported.count,
        )
        _write(report, out)
        bar.advance(task)
    _summarise(err, imported, frame.height, out)


@dataclass(frozen=True, slots=True)
class _Imported:
    problems: tuple[ImportProblem, ...]
    count: int


def _import(
    people: Path, sources: Mapping[Path, Loader], hasher: Pseudonymiser | None, err: Console
) -> tuple[OrgChart, pl.DataFrame, _Imported]:
    """Read every source; a refused source ends the command with status 2."""
    import polars as pl

    from sixfold.network.importers import ImportAborted, load_people

    try:
        chart, chart_problems = load_people(people)
        imports = [loader(path, None) for path, loader in sources.items()]
    except ImportAborted as error:
        err.print("[red]import refused:[/red]", str(error), markup=True, highlight=False)
        raise typer.Exit(2) from error
    frame = pl.concat([item.frame for item in imports])
    if hasher is not None:
        chart, frame = hasher.chart(chart), hasher.interactions(frame)
    problems = tuple(chart_problems) + tuple(p for item in imports for p in item.problems)
    count = len(chart_problems) + sum(item.problem_count for item in imports)
    return chart, frame, _Imported(problems, count)


def _write(report: NetworkReport, out: Path) -> None:
    from sixfold.network.report_html import render_html
    from sixfold.network.report_json import to_json_dict

    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(
        json.dumps(to_json_dict(report), allow_nan=False), encoding="utf-8"
    )
    (out / "report.html").write_text(render_html(report), encoding="utf-8")


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


def _summarise(err: Console, imported: _Imported, rows: int, out: Path) -> None:
    err.print(f"read {rows} interactions; {imported.count} rows or records skipped")
    for problem in imported.problems[:10]:
        err.print(f"  {problem}", markup=False, highlight=False)
    if imported.count > 10:
        err.print(f"  … and {imported.count - 10} more (the first 200 are in report.json → meta)")
    err.print(f"wrote {out / 'report.json'} and {out / 'report.html'}")


@network_app.command("generate")
def generate_command(
    out: Annotated[Path, typer.Option(file_okay=False)],
    people: Annotated[int, typer.Option(min=10)] = 1_000,
    interactions: Annotated[int, typer.Option(min=1)] = 100_000,
    seed: int = 1,
) -> None:
    """Write a synthetic organisation (people.csv, interactions.csv) for demos and tests."""
    from sixfold.network.generator import (
        SyntheticSpec,
        generate_organisation,
        write_interactions_csv,
        write_people_csv,
    )

    chart, frame = generate_organisation(
        SyntheticSpec(people=people, interactions=interactions, seed=seed)
    )
    out.mkdir(parents=True, exist_ok=True)
    write_people_csv(chart, out / "people.csv")
    write_interactions_csv(frame, out / "interactions.csv")
    Console(stderr=True).print(f"wrote {out / 'people.csv'} and {out / 'interactions.csv'}")
