"""The network area's use cases on both databases: queue, import, analyse, read, audit."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from sixfold import audit
from sixfold.auth import service as auth_service
from sixfold.auth.permissions import Role
from sixfold.errors import Forbidden, ValidationFailed
from sixfold.network import importers, pipeline, service
from sixfold.network.analysis import STEPS
from sixfold.network.pipeline import AnalysisSettings
from sixfold.network.store import NetworkAnalysis
from tests import factories
from tests.network.web.conftest import (
    NetworkWorld,
    interactions_csv,
    org_wide_analyst,
    run_worker,
    zip_bomb,
)


def _queue(
    db: Session, world: NetworkWorld, uploads: list[service.Upload], **settings: object
) -> NetworkAnalysis:
    analyst, grants = org_wide_analyst(db, world)
    analysis = service.queue_analysis(
        db,
        world.organisation,
        uploads=uploads,
        settings=AnalysisSettings(**settings),  # type: ignore[arg-type]
        title="Test run",
        actor=audit.Actor(id=analyst.id, label=analyst.email),
        grants=grants,
    )
    db.commit()
    return analysis


def _csv(world: NetworkWorld) -> service.Upload:
    return service.Upload("interactions", "mail.csv", interactions_csv(world))


def _audit_actions(db: Session, action: str) -> list[audit.AuditEntry]:
    query = select(audit.AuditEntry).where(audit.AuditEntry.action == action)
    return list(db.scalars(query.order_by(audit.AuditEntry.seq)))


def test_the_progress_total_counts_the_library_steps() -> None:
    assert len(STEPS) + 1 == pipeline.ANALYSIS_STEPS


def test_the_org_chart_comes_from_the_directory(db: Session, network_world: NetworkWorld) -> None:
    north = network_world.people["Sales/North"]
    north[4].is_active = False
    db.flush()
    rows = pipeline.chart_snapshot(db, network_world.organisation, "department")
    by_email = {row["email"]: row for row in rows}
    assert north[4].email not in by_email
    assert by_email[north[1].email]["department"] == "Sales"
    assert by_email[north[1].email]["manager_id"] == north[0].external_id
    assert by_email[north[1].email]["person_id"] == north[1].id
    teams = pipeline.chart_snapshot(db, network_world.organisation, "team")
    assert {row["department"] for row in teams} >= {"Sales/North", "Sales/South", "Ops", "Tiny"}
    chart = pipeline.chart_from_snapshot(rows)
    assert chart.size == len(rows)
    assert chart.manager_of[chart.ids.index(north[0].external_id)] == chart.ids.index(
        network_world.ceo.external_id
    )


def test_an_upload_is_imported_and_analysed_by_the_worker(
    db: Session, network_world: NetworkWorld, session_factory: sessionmaker[Session]
) -> None:
    analysis = _queue(db, network_world, [_csv(network_world)])
    assert analysis.state == "importing"
    run_worker(session_factory)
    db.refresh(analysis)
    assert analysis.state == "succeeded", analysis.last_error
    assert analysis.progress_done == analysis.progress_total
    report = analysis.report
    assert report is not None
    assert set(report) >= {"people", "departments", "organisation", "timeline", "meta"}
    assert report["organisation"]["people"] == len(analysis.chart)
    assert len(report["timeline"]) == 3
    # The upload is gone; the metadata table and the tie graph stay.
    assert [source.content for source in analysis.sources] == [None]
    assert analysis.sources[0].interactions == analysis.interaction_count > 0
    assert analysis.interactions is not None
    assert analysis.ties is not None
    assert service.latest_analysis(db, network_world.organisation) == analysis
    (entry,) = _audit_actions(db, "network.analysis_queued")
    assert entry.details["files"] == [
        {"kind": "interactions", "file": "mail.csv", "bytes": len(interactions_csv(network_world))}
    ]


def test_a_zip_bomb_is_rejected_and_loses_nothing(
    db: Session, network_world: NetworkWorld, session_factory: sessionmaker[Session]
) -> None:
    good = _queue(db, network_world, [_csv(network_world)])
    run_worker(session_factory)
    db.refresh(good)
    report_before = good.report

    bomb = _queue(
        db, network_world, [_csv(network_world), service.Upload("slack", "export.zip", zip_bomb())]
    )
    run_worker(session_factory)
    db.refresh(bomb)
    db.refresh(good)
    assert bomb.state == "rejected"
    assert bomb.rejection is not None
    assert bomb.rejection.startswith("export.zip: ")
    assert "zip bomb" in bomb.rejection
    assert [source.content for source in bomb.sources] == [None, None]
    assert bomb.report is None
    # The earlier analysis is still the one the pages open on, unchanged.
    assert service.latest_analysis(db, network_world.organisation) == good
    assert good.report == report_before


@pytest.mark.parametrize(
    ("kind", "content", "reason"),
    [
        ("interactions", b"\x89PNG\r\n\x1a\n\x00\x00garbage", "missing column"),
        ("slack", b"PK\x03\x04 not really a zip", "not a readable ZIP archive"),
        ("mattermost", b"{not json\n\xff\xfe\n", "No interaction could be read"),
    ],
)
def test_garbage_is_rejected_with_a_reason(
    db: Session,
    network_world: NetworkWorld,
    session_factory: sessionmaker[Session],
    kind: str,
    content: bytes,
    reason: str,
) -> None:
    analysis = _queue(db, network_world, [service.Upload(kind, "upload.bin", content)])
    run_worker(session_factory)
    db.refresh(analysis)
    assert analysis.state == "rejected"
    assert reason in (analysis.rejection or "")
    assert analysis.sources[0].content is None


@pytest.mark.parametrize(
    "failure",
    [
        TypeError("'int' object is not iterable"),
        OverflowError("int value too large for Polars integer types"),
        RecursionError("maximum recursion depth exceeded"),
        KeyError("/srv/sixfold/secret-path"),
    ],
    ids=type,
)
def test_an_importer_failure_rejects_the_file_without_a_traceback(
    db: Session,
    network_world: NetworkWorld,
    session_factory: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    failure: Exception,
) -> None:
    def broken_importer(path: Path, limits: object) -> None:
        raise failure

    monkeypatch.setattr(importers, "load_mattermost_export", broken_importer)
    upload = service.Upload("mattermost", "chat.jsonl", b'{"type": "post"}\n')
    analysis = _queue(db, network_world, [_csv(network_world), upload])
    run_worker(session_factory, cycles=1)  # refused at once, not retried
    db.refresh(analysis)
    assert analysis.state == "rejected"
    assert analysis.last_error is None
    assert analysis.rejection == (
        "chat.jsonl: could not be read as a Mattermost bulk export (JSONL): the importer failed "
        "on something in it; the details are in the server log for your administrator."
    )
    assert [source.content for source in analysis.sources] == [None, None]
    logged = [record for record in caplog.records if record.name == "sixfold.network.pipeline"]
    assert logged[0].exc_info is not None
    assert logged[0].exc_info[1] is failure


def test_interactions_between_strangers_are_rejected(
    db: Session, network_world: NetworkWorld, session_factory: sessionmaker[Session]
) -> None:
    strangers = b"timestamp,source,target\n2026-01-05T09:00:00Z,x@else.example,y@else.example\n"
    analysis = _queue(db, network_world, [service.Upload("interactions", "x.csv", strangers)])
    run_worker(session_factory)
    db.refresh(analysis)
    assert analysis.state == "rejected"
    assert "None of the 1 interactions" in (analysis.rejection or "")


def test_uploads_are_checked_before_anything_is_stored(
    db: Session, network_world: NetworkWorld
) -> None:
    with pytest.raises(ValidationFailed, match="at least one file"):
        _queue(db, network_world, [])
    with pytest.raises(ValidationFailed, match="is empty"):
        _queue(db, network_world, [service.Upload("mbox", "mail.mbox", b"")])
    with pytest.raises(ValidationFailed, match="Unknown kind"):
        _queue(db, network_world, [service.Upload("pdf", "x.pdf", b"x")])
    assert db.scalars(select(NetworkAnalysis)).first() is None


def test_groups_are_never_smaller_than_three() -> None:
    with pytest.raises(ValidationFailed, match="never below 3"):
        AnalysisSettings(min_group_size=2)
    with pytest.raises(ValidationFailed, match="not an ISO date"):
        AnalysisSettings(since="last tuesday")
    assert AnalysisSettings(min_group_size=3).config().min_group_size == 3


def test_a_team_scoped_analyst_cannot_run_an_analysis(
    db: Session, network_world: NetworkWorld
) -> None:
    analyst = factories.person(db, network_world.organisation, password=None)
    team = network_world.people["Ops"][0].team
    auth_service.assign_role(
        db, analyst, Role.NETWORK_ANALYST, team=team, actor=factories.ACTOR, by=None
    )
    with pytest.raises(Forbidden, match="whole organisation"):
        service.queue_analysis(
            db,
            network_world.organisation,
            uploads=[_csv(network_world)],
            settings=AnalysisSettings(),
            title="",
            actor=audit.Actor(id=analyst.id, label=analyst.email),
            grants=auth_service.grants_for(db, analyst),
        )


def test_an_analysis_runs_again_with_other_settings(
    db: Session, network_world: NetworkWorld, session_factory: sessionmaker[Session]
) -> None:
    first = _queue(db, network_world, [_csv(network_world)])
    run_worker(session_factory)
    db.refresh(first)
    analyst, grants = org_wide_analyst(db, network_world)
    again = service.rerun_analysis(
        db,
        network_world.organisation,
        first.id,
        settings=AnalysisSettings(group_by="team", min_group_size=3),
        title="",
        actor=audit.Actor(id=analyst.id, label=analyst.email),
        grants=grants,
    )
    db.commit()
    run_worker(session_factory)
    db.refresh(again)
    assert again.state == "succeeded", again.last_error
    assert again.title == "Test run"
    assert again.report is not None
    names = {d["name"] for d in again.report["departments"] if not d["suppressed"]}
    assert names == {"Sales/North", "Sales/South", "Ops"}


def _finished(db: Session, world: NetworkWorld, sf: sessionmaker[Session]) -> NetworkAnalysis:
    analysis = _queue(db, world, [_csv(world)])
    run_worker(sf)
    db.refresh(analysis)
    assert analysis.state == "succeeded", analysis.last_error
    return analysis


def test_the_overview_names_nobody_and_hides_small_groups(
    db: Session, network_world: NetworkWorld, session_factory: sessionmaker[Session]
) -> None:
    analysis = _finished(db, network_world, session_factory)
    view = service.overview(analysis)
    rows = {d["name"]: d for d in view["departments"]}
    assert rows["Tiny"] == {"name": "Tiny", "suppressed": True}
    assert rows["Sales"]["size"] == 10
    assert "Tiny" not in view["charts"]["matrix"]["departments"]
    assert "Sales" in view["charts"]["matrix"]["departments"]
    text = repr(view)
    for person in network_world.everyone():
        assert person.email not in text
        assert person.external_id not in text
        assert person.name not in text


def test_person_level_views_are_audited(
    db: Session, network_world: NetworkWorld, session_factory: sessionmaker[Session]
) -> None:
    analysis = _finished(db, network_world, session_factory)
    analyst, grants = org_wide_analyst(db, network_world)
    actor = audit.Actor(id=analyst.id, label=analyst.email)
    page = service.people_page(db, analysis, actor=actor, grants=grants)
    assert page.total == len(analysis.chart)
    assert page.rows[0]["betweenness"] == max(r["betweenness"] for r in page.rows)
    bridge = network_world.people["Ops"][0]
    view = service.person_view(db, analysis, bridge.id, actor=actor, grants=grants)
    assert view["row"]["name"] == bridge.name
    assert "broker" in view["row"]["roles"] or view["row"]["breadth"] >= 2
    assert {t["department"] for t in view["neighbourhood"]["ties"]} >= {"Sales", "Ops"}
    service.export_report(db, analysis, actor=actor, grants=grants)
    entries = _audit_actions(db, "network.person_viewed")
    assert [e.details["view"] for e in entries] == ["people", "person", "report"]
    assert all(e.actor_id == analyst.id for e in entries)
    assert entries[1].target_type == "person"
    assert entries[1].target_id == str(bridge.id)


def test_a_team_scoped_analyst_sees_only_their_teams_people(
    db: Session, network_world: NetworkWorld, session_factory: sessionmaker[Session]
) -> None:
    analysis = _finished(db, network_world, session_factory)
    ops = network_world.people["Ops"]
    analyst = factories.person(db, network_world.organisation, password=None)
    auth_service.assign_role(
        db, analyst, Role.NETWORK_ANALYST, team=ops[0].team, actor=factories.ACTOR, by=None
    )
    grants = auth_service.grants_for(db, analyst)
    actor = audit.Actor(id=analyst.id, label=analyst.email)
    page = service.people_page(db, analysis, actor=actor, grants=grants)
    assert {row["person_id"] for row in page.rows} == {person.id for person in ops}
    with pytest.raises(Forbidden):
        service.person_view(
            db, analysis, network_world.people["Sales/North"][1].id, actor=actor, grants=grants
        )
    view = service.person_view(db, analysis, ops[0].id, actor=actor, grants=grants)
    outside = [t for t in view["neighbourhood"]["ties"] if t["department"] != "Ops"]
    assert outside
    assert all(t["name"].startswith("Someone in ") and t["person_id"] is None for t in outside)
    with pytest.raises(Forbidden):
        service.export_report(db, analysis, actor=actor, grants=grants)
