"""The internal stream connector beyond the shared conformance checks."""

from __future__ import annotations

from sqlalchemy.orm import Session

from sixfold.channels import service as channels
from sixfold.channels.base import OutgoingPost
from sixfold.inputs import MAX_ID
from tests import factories


def test_metrics_skip_ids_that_cannot_be_ours(db: Session) -> None:
    org = factories.organisation(db)
    stream = channels.create_channel(db, org, kind="internal", name="Stream", actor=factories.ACTOR)
    connector = channels.connector_for(db, stream.id, settings=None)
    ours = connector.publish(OutgoingPost(text="Hello"), "key-1").remote_id
    # "²" passes str.isdigit() but not int(); one past MAX_ID is out of PostgreSQL's range.
    asked = [ours, "²", str(MAX_ID + 1), "9" * 30]
    assert [m.remote_id for m in connector.fetch_metrics(asked)] == [ours]
