"""The demo's network: synthetic interactions among real people, analysed at once."""

from __future__ import annotations

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from sixfold.network import pipeline
from sixfold.network.demo import seed_network
from sixfold.network.generator import SyntheticSpec, interactions_among
from sixfold.network.store import NetworkAnalysis
from tests import factories
from tests.network.factories import make_chart
from tests.network.web.conftest import NetworkWorld


def test_interactions_among_an_existing_chart_name_only_its_people() -> None:
    rows = [("ceo", "a", "")] + [(f"p{i}", f"d{i % 4}", "ceo") for i in range(1, 60)]
    chart = make_chart(rows)
    spec = SyntheticSpec(interactions=5_000, seed=3)
    frame = interactions_among(chart, spec)
    people = set(chart.ids)
    assert set(frame["source"].to_list()) <= people
    assert set(frame["target"].to_list()) <= people
    assert frame.filter(pl.col("message_id").is_null()).height > 4_000
    assert frame.equals(interactions_among(chart, spec))  # seeded: the same every time


def test_the_demo_analysis_is_finished_when_the_demo_is(
    db: Session, network_world: NetworkWorld
) -> None:
    seed_network(db, network_world.organisation, factories.ACTOR)
    analysis = db.scalars(select(NetworkAnalysis)).one()
    assert analysis.state == "succeeded"
    assert analysis.report is not None
    assert analysis.report["organisation"]["people"] == len(network_world.everyone())
    assert analysis.report["organisation"]["ties"] > 0
    assert len(analysis.report["timeline"]) >= 12
    assert analysis.interaction_count == pipeline.from_parquet(analysis.interactions or b"").height
