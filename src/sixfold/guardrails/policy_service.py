"""The organisation's risk policy as people edit it: confidential terms, contacts, verdicts.

The saved rows are checked by building the risk library's own `Policy` from them, so what the
page accepts is exactly what the engine can use. Saving moves `RiskSettings.updated_at`, which
is part of the compiled-rules cache key in guardrails/service.py: the next check uses the
new rules.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import phonenumbers
from sqlalchemy.orm import Session

from sixfold import audit
from sixfold.db import utcnow
from sixfold.guardrails.categories import CATEGORY_NAMES
from sixfold.guardrails.forms import FormInvalid, diff, lines, list_diff, web_url_problem
from sixfold.guardrails.models import RiskSettings
from sixfold.guardrails.service import policy_from, settings_of
from sixfold.guardrails.suggestions import queue_feed_fetch
from sixfold.org.models import Organisation
from sixfold.risk import PolicyError

VERDICT_CHOICES = ("ok", "review", "block")
MAX_TERMS = 500
MAX_TERM_LENGTH = 200
_DOMAIN = re.compile(r"^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$")
_LIST_FIELDS = ("confidential_terms", "allowed_domains", "public_contacts")


@dataclass(frozen=True, slots=True)
class PolicyInput:
    """The policy form as typed: lists one entry per line, a verdict choice per category."""

    confidential_terms: str = ""
    allowed_domains: str = ""
    public_contacts: str = ""
    phone_region: str = ""
    news_feed_url: str = ""
    # Category → "ok" / "review" / "block"; "" (or absent) keeps the default.
    verdicts: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, row: RiskSettings) -> PolicyInput:
        return cls(
            confidential_terms="\n".join(row.confidential_terms),
            allowed_domains="\n".join(row.allowed_domains),
            public_contacts="\n".join(row.public_contacts),
            phone_region=row.phone_region,
            news_feed_url=row.news_feed_url,
            verdicts=dict(row.verdicts),
        )


def phone_regions() -> list[str]:
    return sorted(phonenumbers.SUPPORTED_REGIONS)


def save_policy(
    session: Session, organisation: Organisation, data: PolicyInput, *, actor: audit.Actor
) -> RiskSettings:
    row = settings_of(session, organisation.id)
    values = _validate(data, kept=_verdicts_kept(row))
    # A policy the engine cannot build must never be saved: every check would fail on it.
    try:
        policy_from(RiskSettings(**values))
    except PolicyError as error:
        raise FormInvalid({"form": str(error)}) from error
    before = _snapshot(row)
    for key, value in values.items():
        setattr(row, key, value)
    changes = _changes(before, _snapshot(row))
    if changes or row not in session:
        row.updated_at = utcnow()
        session.add(row)
        session.flush()
    if changes:
        audit.record(
            session,
            actor,
            "guardrails.policy_changed",
            target_type="risk_settings",
            target_id=organisation.id,
            target=organisation.name,
            details={"changes": changes},
        )
    if "news_feed_url" in changes and row.news_feed_url:
        # A new feed is read at once, then hourly: no one has to remember to press "fetch".
        queue_feed_fetch(session, organisation, actor=actor)
    return row


def _validate(data: PolicyInput, *, kept: Mapping[str, str]) -> dict[str, Any]:
    problems: dict[str, str] = {}
    terms = lines(data.confidential_terms)
    contacts = lines(data.public_contacts)
    domains = [_bare_domain(entry) for entry in lines(data.allowed_domains)]
    for name, entries in (("confidential_terms", terms), ("public_contacts", contacts)):
        problem = _list_problem(entries)
        if problem:
            problems[name] = problem
    bad_domains = [d for d in domains if not _DOMAIN.match(d)]
    if bad_domains:
        problems["allowed_domains"] = f"“{bad_domains[0]}” is not a domain such as example.com."
    region = data.phone_region.strip().upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        problems["phone_region"] = "Choose the country whose phone numbers your posts use."
    feed_url = data.news_feed_url.strip()
    feed_problem = web_url_problem(feed_url) if feed_url else None
    if feed_problem:
        problems["news_feed_url"] = feed_problem
    verdicts, verdict_problem = _verdicts(data.verdicts)
    if verdict_problem:
        problems["verdicts"] = verdict_problem
    if problems:
        raise FormInvalid(problems)
    return {
        "confidential_terms": terms,
        "allowed_domains": list(dict.fromkeys(domains)),
        "public_contacts": contacts,
        "phone_region": region,
        "news_feed_url": feed_url,
        "verdicts": {**kept, **verdicts},
    }


def _list_problem(entries: list[str]) -> str | None:
    if len(entries) > MAX_TERMS:
        return f"At most {MAX_TERMS} entries (there are {len(entries)})."
    long = next((e for e in entries if len(e) > MAX_TERM_LENGTH), None)
    if long is not None:
        return f"“{long[:40]}…” is longer than {MAX_TERM_LENGTH} characters."
    return None


def _bare_domain(entry: str) -> str:
    """ "https://www.Example.com/" as people paste it, reduced to the domain "www.example.com"."""
    domain = entry.strip().lower().removeprefix("https://").removeprefix("http://")
    return domain.split("/", 1)[0].removesuffix(".")


def _verdicts(chosen: Mapping[str, str]) -> tuple[dict[str, str], str | None]:
    verdicts: dict[str, str] = {}
    for category, level in chosen.items():
        if category not in CATEGORY_NAMES:
            return {}, f"“{category}” is not a category of the risk check."
        if level and level not in VERDICT_CHOICES:
            return {}, f"“{level}” is not ok, review or block."
        if level:
            verdicts[category] = level
    return verdicts, None


def _verdicts_kept(row: RiskSettings) -> dict[str, str]:
    """Overrides of scanners or categories this page does not list (written by other means)
    survive a save instead of being dropped silently."""
    return {k: v for k, v in (row.verdicts or {}).items() if k not in CATEGORY_NAMES}


def _snapshot(row: RiskSettings) -> dict[str, Any]:
    return {
        "confidential_terms": list(row.confidential_terms or []),
        "allowed_domains": list(row.allowed_domains or []),
        "public_contacts": list(row.public_contacts or []),
        "phone_region": row.phone_region,
        "news_feed_url": row.news_feed_url,
        "verdicts": dict(row.verdicts or {}),
    }


def _changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for key, change in diff(before, after).items():
        if key in _LIST_FIELDS:
            changes[key] = list_diff(change["from"], change["to"])
        elif key == "verdicts":
            changes[key] = diff(
                {k: change["from"].get(k, "default") for k in {*change["from"], *change["to"]}},
                {k: change["to"].get(k, "default") for k in {*change["from"], *change["to"]}},
            )
        else:
            changes[key] = change
    return changes
