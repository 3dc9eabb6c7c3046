"""The state machines a worker runs: every capability's long work."""

from __future__ import annotations

from typing import Any


def state_machines() -> list[type[Any]]:
    from sixfold.org.imports import ImportJob

    return [ImportJob]
