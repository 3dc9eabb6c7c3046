"""Between the database and the analysis library: the org chart from the organisation's own
people, the uploaded sources read into one interaction table, the analysis run and stored.

The analysis modules (NetworKit, scikit-learn) are imported inside the functions that run
them: the web app and every `sixfold` command load this module, and those imports take a
second that only the worker should pay.
"""

from __future__ import annotations

import io
import logging
import re
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from sixfold.db import utcnow
from sixfold.errors import NotFound, ValidationFailed
from sixfold.org import service as org_service

if TYPE_CHECKING:
    import polars as pl

    from sixfold.network.config import AnalysisConfig
    from sixfold.network.importers import ImportLimits, InteractionImport
    from sixfold.network.orgchart import OrgChart
    from sixfold.network.store import NetworkAnalysis, NetworkSource
    from sixfold.org.models import Organisation

logger = logging.getLogger(__name__)

Progress = Callable[[int, int | None], None]

# What an upload may be, with the label the pages use.
SOURCE_KINDS: dict[str, str] = {
    "interactions": "Interactions CSV",
    "slack": "Slack export (ZIP)",
    "mattermost": "Mattermost bulk export (JSONL)",
    "mbox": "E-mail headers (mbox)",
}
# All files of one upload together; a larger organisation runs `sixfold network analyze`.
MAX_UPLOAD_BYTES = 256 * 1024**2
UNASSIGNED = "(no team)"
GROUPINGS = ("department", "team")
PROBLEMS_KEPT = 200
# The library's steps (analysis.STEPS) and one for storing the report; written out so the web
# process need not import the analysis modules to count them (a test keeps the two equal).
ANALYSIS_STEPS = 10


@dataclass(frozen=True, slots=True, kw_only=True)
class AnalysisSettings:
    """The choices an analyst makes for one run; stored with the analysis as JSON."""

    min_interactions: float = 2.0
    min_group_size: int = 5
    broadcast_recipients: int = 25
    window_days: int = 28
    step_days: int = 28
    since: str | None = None  # ISO date, inclusive
    until: str | None = None  # ISO date, exclusive
    # "department": the top-level team; "team": the whole team path (Marketing/Brand).
    group_by: str = "department"

    def __post_init__(self) -> None:
        if self.group_by not in GROUPINGS:
            raise ValidationFailed("Group people by department or by team.")
        try:
            self.config()
        except ValueError as error:
            raise ValidationFailed(_sentence(str(error))) from error
        if self.window_days < 1 or self.step_days < 1 or self.broadcast_recipients < 1:
            raise ValidationFailed("Window, step and broadcast sizes must be at least 1.")

    @classmethod
    def from_json(cls, values: dict[str, Any]) -> AnalysisSettings:
        known = {field.name for field in fields(cls)}
        return cls(**{key: value for key, value in values.items() if key in known})

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def config(self) -> AnalysisConfig:
        from sixfold.network.config import AnalysisConfig

        return AnalysisConfig(
            min_interactions=self.min_interactions,
            min_group_size=self.min_group_size,
            broadcast_recipients=self.broadcast_recipients,
            window_days=self.window_days,
            window_step_days=self.step_days,
            since=_bound(self.since, "start"),
            until=_bound(self.until, "end"),
        )


def _bound(text: str | None, which: str) -> int | None:
    from sixfold.network.importers.timestamps import parse_date_bound

    if not text:
        return None
    try:
        return parse_date_bound(text)
    except ValueError as error:
        raise ValueError(f"the {which} date {text!r} is not an ISO date") from error


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


# The org chart --------------------------------------------------------------------------


def chart_snapshot(
    session: Session, organisation: Organisation, group_by: str
) -> list[dict[str, Any]]:
    """The organisation's active people as the analysis sees them, one object each.

    `id` is the HR identifier (what interaction exports name people by, besides e-mail);
    `person_id` links back to the directory; `department` is the group the analysis uses.
    """
    people = org_service.active_people(session, organisation)
    paths = org_service.team_names(session, organisation)
    external = {person.id: person.external_id for person in people}
    return [
        {
            "id": person.external_id,
            "person_id": person.id,
            "name": person.name,
            "email": person.email.strip().lower(),
            "title": person.title,
            "department": _group(paths.get(person.team_id or 0, ""), group_by),
            "team_id": person.team_id,
            "manager_id": external.get(person.manager_id or 0, ""),
        }
        for person in people
    ]


def _group(path: str, group_by: str) -> str:
    if not path:
        return UNASSIGNED
    return path if group_by == "team" else path.split("/", 1)[0]


def chart_from_snapshot(snapshot: Iterable[dict[str, Any]]) -> OrgChart:
    """Build the library's org chart; reporting loops (which imports refuse) are cut."""
    from sixfold.network.orgchart import Person, build_orgchart, find_cycle_members

    rows = list(snapshot)
    known = {row["id"] for row in rows}
    links = {row["id"]: row["manager_id"] for row in rows if row["manager_id"] in known}
    loops = find_cycle_members(links)
    return build_orgchart(
        [
            Person(
                row["id"],
                row["name"],
                row["email"],
                row["title"],
                row["department"],
                "" if row["id"] in loops else links.get(row["id"], ""),
            )
            for row in rows
        ]
    )


# Importing -----------------------------------------------------------------------------


def web_limits() -> ImportLimits:
    from sixfold.network.importers import ImportLimits

    return ImportLimits(
        max_file_bytes=MAX_UPLOAD_BYTES,
        max_member_bytes=256 * 1024**2,
        max_total_unzipped_bytes=1024**3,
    )


def _safe_filename(name: str) -> str:
    """The uploaded name, reduced to what is safe as a file name (problems quote it)."""
    base = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(name.replace("\\", "/")).name).strip("._")
    return base[:100] or "upload"


def read_source(source: NetworkSource, folder: Path) -> InteractionImport:
    """Read one upload with its importer; ImportAborted says why a whole file is refused.

    An importer that fails in any other way has met a file it was not written for. The
    failure is the same on every attempt, so retrying it only delays the answer, and its
    traceback names server paths: it is logged for the operators, and the file is refused
    with a sentence the analyst can act on.
    """
    from sixfold.network import importers

    loaders = {
        "interactions": importers.load_interactions_csv,
        "slack": importers.load_slack_export,
        "mattermost": importers.load_mattermost_export,
        "mbox": importers.load_mbox,
    }
    path = folder / f"{source.id}-{_safe_filename(source.filename)}"
    path.write_bytes(source.content or b"")
    try:
        return loaders[source.kind](path, web_limits())
    except importers.ImportAborted:
        raise
    except Exception as error:
        logger.exception(
            "network import of source %s (%s, %r) failed", source.id, source.kind, source.filename
        )
        raise importers.ImportAborted(
            f"could not be read as a {SOURCE_KINDS[source.kind]}: the importer failed on "
            "something in it; the details are in the server log for your administrator."
        ) from error
    finally:
        path.unlink(missing_ok=True)


def import_sources(session: Session, analysis: NetworkAnalysis, progress: Progress) -> str:
    """The `importing` state: org chart and sources in, one interaction table out.

    An analysis run again with other settings has no sources: it brings the interaction table
    of the earlier run, and only the org chart is taken afresh.
    """
    from sixfold.org.models import Organisation

    organisation = session.get(Organisation, analysis.organisation_id)
    if organisation is None:
        raise NotFound("the organisation of this analysis no longer exists")
    settings = AnalysisSettings.from_json(analysis.settings)
    total = len(analysis.sources) + 1 + ANALYSIS_STEPS
    progress(0, total)
    snapshot = chart_snapshot(session, organisation, settings.group_by)
    if not analysis.sources:
        return _store_interactions(analysis, snapshot, from_parquet(analysis.interactions or b""))
    outcome = _read_sources(analysis, lambda done: progress(done, total))
    if isinstance(outcome, str):
        return reject(analysis, outcome)
    analysis.problems = [str(p) for item in outcome for p in item.problems][:PROBLEMS_KEPT]
    analysis.problem_count = sum(item.problem_count for item in outcome)
    return _store_interactions(analysis, snapshot, _concat(outcome))


def _read_sources(
    analysis: NetworkAnalysis, progress: Callable[[int], None]
) -> list[InteractionImport] | str:
    """Every source read, or why one of them was refused as a whole."""
    from sixfold.network.importers import ImportAborted

    imports = []
    with tempfile.TemporaryDirectory(prefix="sixfold-network-") as folder:
        for done, source in enumerate(analysis.sources, start=1):
            try:
                imported = read_source(source, Path(folder))
            except ImportAborted as error:
                return f"{source.filename}: {error}"
            source.interactions = imported.frame.height
            imports.append(imported)
            progress(done)
    return imports


def _concat(imports: list[InteractionImport]) -> pl.DataFrame:
    import polars as pl

    from sixfold.network.importers import INTERACTION_SCHEMA

    return pl.concat([item.frame.cast(INTERACTION_SCHEMA) for item in imports])


def _store_interactions(
    analysis: NetworkAnalysis, snapshot: list[dict[str, Any]], frame: pl.DataFrame
) -> str:
    if frame.is_empty():
        return reject(analysis, "No interaction could be read from the uploaded files.")
    if not snapshot:
        return reject(analysis, "The organisation has no active people to analyse.")
    if _known_rows(frame, snapshot) == 0:
        return reject(
            analysis,
            f"None of the {frame.height} interactions is between two people of the "
            "organisation: people are matched by their HR id or their e-mail address.",
        )
    analysis.chart = snapshot
    analysis.interactions = to_parquet(frame)
    analysis.interaction_count = frame.height
    _forget_uploads(analysis)
    return "analysing"


def _known_rows(frame: pl.DataFrame, snapshot: list[dict[str, Any]]) -> int:
    import polars as pl

    keys = [row["id"] for row in snapshot] + [row["email"] for row in snapshot if row["email"]]
    return frame.filter(pl.col("source").is_in(keys) & pl.col("target").is_in(keys)).height


def _forget_uploads(analysis: NetworkAnalysis) -> None:
    # The raw files may hold message bodies; only the metadata table outlives the import.
    for source in analysis.sources:
        source.content = None


def reject(analysis: NetworkAnalysis, reason: str) -> str:
    analysis.rejection = reason
    analysis.finished_at = utcnow()
    _forget_uploads(analysis)
    return "rejected"


# Analysing -----------------------------------------------------------------------------


def run_analysis(analysis: NetworkAnalysis, progress: Progress) -> str:
    """The `analysing` state: the library over the stored table; the report stored as JSON."""
    from sixfold.network.analysis import analyze
    from sixfold.network.report_json import to_json_dict

    settings = AnalysisSettings.from_json(analysis.settings)
    try:
        config = settings.config()
    except ValueError as error:
        return reject(analysis, _sentence(str(error)))
    chart = chart_from_snapshot(analysis.chart)
    frame = from_parquet(analysis.interactions or b"")
    total = len(analysis.sources) + 1 + ANALYSIS_STEPS
    done = len(analysis.sources) + 1
    steps: list[str] = []

    def step(name: str) -> None:
        steps.append(name)
        progress(done + len(steps), total)

    report = analyze(chart, frame, config, progress=step)
    analysis.report = to_json_dict(report)
    analysis.ties = ties_parquet(report.ties.u, report.ties.v, report.ties.weight)
    analysis.finished_at = utcnow()
    progress(total, total)
    return "succeeded"


def to_parquet(frame: pl.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.write_parquet(buffer, compression="zstd")
    return buffer.getvalue()


def from_parquet(data: bytes) -> pl.DataFrame:
    import polars as pl

    return pl.read_parquet(io.BytesIO(data))


def ties_parquet(u: Any, v: Any, weight: Any) -> bytes:
    import polars as pl

    return to_parquet(pl.DataFrame({"u": u, "v": v, "weight": weight}))


def analyse_now(session: Session, analysis: NetworkAnalysis) -> None:
    """Run both states at once, in the caller's transaction (the demo, which has no worker).

    The same handlers the worker runs; only the scheduling differs.
    """

    def ignore(done: int, total: int | None) -> None:
        return None

    state = import_sources(session, analysis, ignore)
    if state == "analysing":
        analysis.transition_to(state)
        state = run_analysis(analysis, ignore)
    analysis.transition_to(state)
