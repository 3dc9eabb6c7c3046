"""The state machines a worker runs: every capability's long work."""

from __future__ import annotations

from typing import Any


def state_machines() -> list[type[Any]]:
    from sixfold.guardrails.models import FeedFetchJob
    from sixfold.network.store import NetworkAnalysis
    from sixfold.notifications.models import EmailMessage
    from sixfold.org.imports import ImportJob
    from sixfold.publishing.publisher import Publication

    # Publications first: a cycle serves what is due to go out before anything else.
    # Network analyses last: one may run for minutes, and it should not hold up the rest.
    return [Publication, ImportJob, EmailMessage, FeedFetchJob, NetworkAnalysis]
