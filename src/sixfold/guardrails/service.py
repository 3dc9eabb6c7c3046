"""The organisation's risk rules, and the risk engine's verdict under them."""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sixfold.guardrails.models import RiskSettings, SensitiveEvent
from sixfold.org.models import Organisation
from sixfold.risk import Context, Event, EventRegister, Policy, Verdict, check_text

# Compiled rules per organisation, keyed by a fingerprint of the rows they came from, so
# live feedback while typing does not rebuild the keyword automata on every keystroke.
_CACHE_SIZE = 32
_cache: OrderedDict[tuple[object, ...], tuple[Policy, EventRegister]] = OrderedDict()
_cache_lock = threading.Lock()


def settings_of(session: Session, organisation_id: int) -> RiskSettings:
    row = session.get(RiskSettings, organisation_id)
    if row is None:
        row = RiskSettings(
            organisation_id=organisation_id,
            confidential_terms=[],
            allowed_domains=[],
            public_contacts=[],
            verdicts={},
            phone_region="US",
            news_feed_url="",
        )
    return row


def policy_from(row: RiskSettings) -> Policy:
    return Policy.from_data(
        {
            "confidential_terms": row.confidential_terms,
            "allowed_domains": row.allowed_domains,
            "public_contacts": row.public_contacts,
            "verdicts": row.verdicts,
            "phone_region": row.phone_region,
        }
    )


def event_from(row: SensitiveEvent) -> Event:
    return Event(
        name=row.name,
        start=row.starts_on,
        # An event nobody has ended yet stays active.
        end=row.ends_on or dt.date.max,
        kind=row.kind,
        keywords=tuple(row.keywords),
        recurs=row.recurs,
    )


def organisation_events(session: Session, organisation_id: int) -> list[SensitiveEvent]:
    return list(
        session.scalars(
            select(SensitiveEvent)
            .where(SensitiveEvent.organisation_id == organisation_id)
            .order_by(SensitiveEvent.starts_on.desc(), SensitiveEvent.id.desc())
        )
    )


def rules_for(session: Session, organisation_id: int) -> tuple[Policy, EventRegister]:
    row = session.get(RiskSettings, organisation_id)
    stamp = session.execute(
        select(func.count(SensitiveEvent.id), func.max(SensitiveEvent.updated_at)).where(
            SensitiveEvent.organisation_id == organisation_id
        )
    ).one()
    key = (organisation_id, row.updated_at if row else None, stamp[0], stamp[1])
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    policy = policy_from(row) if row else Policy()
    events = EventRegister.builtin().extended(
        EventRegister(event_from(e) for e in organisation_events(session, organisation_id))
    )
    with _cache_lock:
        _cache[key] = (policy, events)
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return policy, events


def risk_context(
    session: Session,
    organisation: Organisation | int,
    *,
    when: dt.datetime | None = None,
    channel: str = "",
) -> Context:
    organisation_id = organisation if isinstance(organisation, int) else organisation.id
    policy, events = rules_for(session, organisation_id)
    moment = when or dt.datetime.now(dt.UTC)
    return Context(when=moment, channel=channel, policy=policy, events=events)


def check(
    session: Session,
    organisation: Organisation | int,
    text: str,
    *,
    when: dt.datetime | None = None,
    channel: str = "",
    alt_texts: Sequence[str] = (),
) -> Verdict:
    """The verdict on `text` under the organisation's rules, at the time it would go out.
    ``alt_texts`` are the descriptions of the post's images, read with the text; a finding in
    one has ``location`` "alt_text" and the image's index, and its span points into it."""
    context = risk_context(session, organisation, when=when, channel=channel)
    return check_text(text, context, alt_texts=alt_texts)
