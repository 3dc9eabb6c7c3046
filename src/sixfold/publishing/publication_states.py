"""The Publication state graph and its timings (the handlers are in publisher.py)."""

from __future__ import annotations

import secrets
from datetime import timedelta

from sixfold.jobs import Retry, State, StateGraph

TRANSIENT_ATTEMPTS = 8
TRANSIENT_DELAY = Retry(base_seconds=15, factor=2, max_seconds=900, jitter=0.2)
# A row that finds every slot of its account or network taken looks again this soon, spread
# by jitter so that the rows waiting for one account do not all wake together.
SLOT_WAIT = Retry(base_seconds=1, factor=1, max_seconds=1, jitter=0.5)
# How often a post whose fate is unknown looks at its channel while it needs reconnecting.
RECONNECT_WAIT = timedelta(minutes=5)


class PublicationState(StateGraph, initial="pending"):
    pending = State(
        to=["claimed", "held"], poll_seconds=5, retry=Retry(base_seconds=5), on_exhausted="failed"
    )
    claimed = State(
        to=["submitted", "held", "failed"], retry=Retry(base_seconds=5), on_exhausted="failed"
    )
    submitted = State(
        to=["confirmed", "unconfirmed", "held", "failed"],
        poll_seconds=15,
        retry=Retry(base_seconds=10, max_seconds=600, max_attempts=6),
        on_exhausted="unconfirmed",
    )
    unconfirmed = State(
        to=["confirmed", "submitted", "failed"],
        poll_seconds=20,
        retry=Retry(base_seconds=30, max_seconds=900, max_attempts=10),
        on_exhausted="failed",
    )
    confirmed = State(terminal=True)
    held = State(external=True)
    failed = State(external=True)
    cancelled = State(terminal=True)


# States a person may still change: cancel, reschedule, publish now.
WAITING_STATES = frozenset({"pending", "held", "failed"})
IN_FLIGHT_STATES = frozenset({"claimed", "submitted", "unconfirmed"})


def new_idempotency_key() -> str:
    return f"sfx-{secrets.token_hex(12)}"
