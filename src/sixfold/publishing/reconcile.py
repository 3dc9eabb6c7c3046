"""Looking for a publication's post on the account, and deciding whether it may be resent.

A post is looked for whenever an earlier call may have reached the network. The look is
exact where the network keeps our idempotency key (a direct `find_post`, or the key on the
account's posts); otherwise it is a guess by text, which must never take a post that is not
ours: a post another publication already owns, one made before our first attempt, or, on a
network whose record carries our key on every post, any post without our key.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from sixfold.channels.base import (
    Connector,
    RemotePost,
    authoritative_record,
    find_published,
    idempotency_window,
)

if TYPE_CHECKING:
    from sixfold.publishing.publisher import Publication

# How long after an unanswered call the post may take to appear on the account before
# its absence counts as proven.
RECONCILE_GRACE = timedelta(minutes=2)
# How far before the first attempt to read the account (clocks differ).
RECONCILE_LOOKBACK = timedelta(minutes=10)
# How much earlier than our first attempt the network's clock may date our post. A post with
# our text dated before that was made by someone else (a person, an earlier publication).
CLOCK_SKEW = timedelta(minutes=2)


def look_for(session: Session, row: Publication, connector: Connector) -> RemotePost | None:
    """The row's post on the account, or None when the look did not find it."""
    find_post = getattr(connector, "find_post", None)
    if callable(find_post):
        found = find_post(row.idempotency_key)
        return found if isinstance(found, RemotePost) else None
    first_sent = row.sent_at or row.due_at
    own = connector.fetch_own_posts(first_sent - RECONCILE_LOOKBACK)
    return find_published(
        own,
        idempotency_key=row.idempotency_key,
        text=row.text,
        taken=_taken(session, row, [p.remote_id for p in own if p.idempotency_key is None]),
        not_before=first_sent - CLOCK_SKEW,
        by_text=not authoritative_record(connector),
    )


def may_send_again(connector: Connector, first_sent: datetime | None, now: datetime) -> bool:
    """Whether a post not found on the account may be sent again without posting twice:
    the account's record proves it absent, or the network still remembers the key of the
    first attempt (`first_sent`) and would answer a second call with the first post."""
    if authoritative_record(connector):
        return True
    if not connector.idempotent:
        return False
    window = idempotency_window(connector)
    return window is None or first_sent is None or now - first_sent < window


def _taken(session: Session, row: Publication, candidates: list[str]) -> set[str]:
    """Which of `candidates` (remote ids) other publications on the same channel own."""
    from sixfold.publishing.publisher import Publication

    if not candidates:
        return set()
    ids = session.scalars(
        select(Publication.remote_id).where(
            Publication.channel_id == row.channel_id,
            Publication.id != row.id,
            Publication.remote_id.in_(candidates),
        )
    )
    return {remote_id for remote_id in ids if remote_id}
