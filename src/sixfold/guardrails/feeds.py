"""Reading the organisation's news feed for sensitive-event suggestions (being written)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from sixfold.config import Settings

if TYPE_CHECKING:
    from sixfold.guardrails.models import FeedFetchJob


def run_feed_fetch(session: Session, job: FeedFetchJob, *, settings: Settings | None) -> None:
    raise NotImplementedError
