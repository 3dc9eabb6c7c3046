"""The demo organisation's network: a year of synthetic interactions among its real people.

Built with the generator's scripted events, so the demo's network area has something to
show: Engineering closes in on itself from June (a silo), Marketing and Communications start
working as one from August, and the first brokers leave in October. Seeded, so every machine
shows the same picture; analysed at once, so `make run` opens on a finished report.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from sixfold import audit
from sixfold.network import pipeline
from sixfold.network.store import NetworkAnalysis
from sixfold.org.models import Organisation

SEED = 20130215
INTERACTIONS = 40_000
TITLE = "A year of collaboration (synthetic demo data)"
# Positions the generator's scripted events use (see generator.interactions_among): the
# organisation's top in first place, then the silo, then the two departments that merge.
SCRIPT = ("Executive Office", "Engineering", "Marketing", "Communications")


def seed_network(session: Session, organisation: Organisation, actor: audit.Actor) -> None:
    """Generate, store and analyse the demo interactions (about two seconds)."""
    from sixfold.network.generator import SyntheticSpec, interactions_among
    from sixfold.network.orgchart import Person, build_orgchart

    snapshot = pipeline.chart_snapshot(session, organisation, "department")
    order = {name: f"{rank:02d}" for rank, name in enumerate(SCRIPT)}
    # Department names that sort in the order the script needs; the interactions name people
    # by id only, so these labels never reach the analysis.
    scripted = build_orgchart(
        [
            Person(
                row["id"],
                "",
                "",
                "",
                order.get(row["department"], f"99 {row['department']}"),
                row["manager_id"],
            )
            for row in snapshot
        ]
    )
    frame = interactions_among(
        scripted, SyntheticSpec(interactions=INTERACTIONS, broker_share=0.02, seed=SEED)
    )
    analysis = NetworkAnalysis.create(
        session,
        organisation_id=organisation.id,
        requested_by_id=None,
        title=TITLE,
        settings=pipeline.AnalysisSettings().to_json(),
        chart=[],
        problems=[],
        interactions=pipeline.to_parquet(frame),
        interaction_count=frame.height,
    )
    session.flush()
    pipeline.analyse_now(session, analysis)
    audit.record(
        session,
        actor,
        "network.analysis_queued",
        target_type="network_analysis",
        target_id=analysis.id,
        target=TITLE,
        details={"interactions": frame.height, "synthetic": True},
    )
