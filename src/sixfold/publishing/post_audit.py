"""Audit entries about posts, all written alike: the post as target, its opening words as the
label a person scans the log by, and what happened in the details."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from sixfold import audit

LABEL_CHARS = 80


def record(
    session: Session,
    actor: audit.Actor,
    action: str,
    *,
    post_id: int,
    text: str,
    **details: Any,
) -> None:
    audit.record(
        session,
        actor,
        action,
        target_type="post",
        target_id=post_id,
        target=text[:LABEL_CHARS],
        details=details or None,
    )
