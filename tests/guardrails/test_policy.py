"""The organisation's policy as people edit it, and the categories the page offers."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from sixfold.audit import AuditEntry
from sixfold.guardrails import policy_service, service
from sixfold.guardrails.categories import (
    CATEGORIES,
    CATEGORY_NAMES,
    LEXICON_KINDS,
    categories_by_scanner,
    event_kinds,
)
from sixfold.guardrails.forms import FormInvalid
from sixfold.guardrails.models import RiskSettings
from sixfold.guardrails.policy_service import PolicyInput
from sixfold.risk import Context, VerdictLevel, check_text, load_registry
from tests.guardrails.conftest import Guardians

BASE = PolicyInput(phone_region="NL")


def save(db: Session, guardians: Guardians, data: PolicyInput) -> RiskSettings:
    return policy_service.save_policy(db, guardians.org, data, actor=guardians.actor)


def last_entry(db: Session) -> AuditEntry:
    entry = db.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
    assert entry is not None
    return entry


def test_a_confidential_term_blocks_posts_from_the_next_check(
    db: Session, guardians: Guardians
) -> None:
    text = "Sneak peek: Project Kestrel is nearly here"
    assert service.check(db, guardians.org, text).verdict == VerdictLevel.OK
    save(db, guardians, PolicyInput(confidential_terms="Project Kestrel\n", phone_region="GB"))
    db.commit()
    verdict = service.check(db, guardians.org, text)
    assert verdict.verdict == VerdictLevel.BLOCK
    assert [f.category for f in verdict.findings] == ["confidential_term"]


def test_a_verdict_override_changes_the_verdict(db: Session, guardians: Guardians) -> None:
    text = "Vote for the Labour party candidate on Thursday"
    assert service.check(db, guardians.org, text).verdict == VerdictLevel.REVIEW
    save(db, guardians, PolicyInput(phone_region="GB", verdicts={"politics": "ok"}))
    assert service.check(db, guardians.org, text).verdict == VerdictLevel.OK
    save(db, guardians, PolicyInput(phone_region="GB", verdicts={"politics": ""}))
    assert service.check(db, guardians.org, text).verdict == VerdictLevel.REVIEW


def test_saving_bumps_the_stamp_the_rules_cache_is_keyed_on(
    db: Session, guardians: Guardians
) -> None:
    first = save(db, guardians, BASE).updated_at
    again = save(db, guardians, PolicyInput(phone_region="NL", public_contacts="press@x.example"))
    assert again.updated_at > first


def test_the_policy_change_is_audited_as_a_diff(db: Session, guardians: Guardians) -> None:
    save(db, guardians, PolicyInput(confidential_terms="Kestrel\nOsprey", phone_region="NL"))
    save(
        db,
        guardians,
        PolicyInput(
            confidential_terms="Kestrel\nHarrier",
            allowed_domains="https://Shop.Example.com/\nexample.org",
            phone_region="DE",
            verdicts={"hygiene": "ok", "profanity": ""},
        ),
    )
    entry = last_entry(db)
    assert entry.action == "guardrails.policy_changed"
    assert entry.details["changes"] == {
        "confidential_terms": {"added": ["Harrier"], "removed": ["Osprey"]},
        "allowed_domains": {"added": ["shop.example.com", "example.org"], "removed": []},
        "phone_region": {"from": "NL", "to": "DE"},
        "verdicts": {"hygiene": {"from": "default", "to": "ok"}},
    }
    count = len(list(db.scalars(select(AuditEntry))))
    save(db, guardians, PolicyInput.of(service.settings_of(db, guardians.org.id)))
    assert len(list(db.scalars(select(AuditEntry)))) == count  # nothing changed, nothing logged


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (PolicyInput(phone_region=""), "phone_region"),
        (PolicyInput(phone_region="XX"), "phone_region"),
        (PolicyInput(phone_region="NL", allowed_domains="not a domain"), "allowed_domains"),
        (PolicyInput(phone_region="NL", news_feed_url="ftp://news.example/"), "news_feed_url"),
        (PolicyInput(phone_region="NL", news_feed_url="file:///etc/passwd"), "news_feed_url"),
        (PolicyInput(phone_region="NL", verdicts={"profanity": "maybe"}), "verdicts"),
        (PolicyInput(phone_region="NL", verdicts={"nonsense": "ok"}), "verdicts"),
        (PolicyInput(phone_region="NL", confidential_terms="x" * 201), "confidential_terms"),
        (
            PolicyInput(phone_region="NL", public_contacts="\n".join(map(str, range(501)))),
            "public_contacts",
        ),
    ],
)
def test_invalid_policies_are_refused_and_nothing_is_saved(
    db: Session, guardians: Guardians, data: PolicyInput, field: str
) -> None:
    with pytest.raises(FormInvalid) as caught:
        save(db, guardians, data)
    assert field in caught.value.problems
    assert db.get(RiskSettings, guardians.org.id) is None


def test_overrides_set_outside_the_page_survive_a_save(db: Session, guardians: Guardians) -> None:
    db.add(
        RiskSettings(
            organisation_id=guardians.org.id,
            verdicts={"hot_topics": "ok", "profanity": "block"},
            phone_region="NL",
        )
    )
    db.flush()
    row = save(db, guardians, PolicyInput(phone_region="NL", verdicts={"profanity": ""}))
    assert row.verdicts == {"hot_topics": "ok"}


def test_every_category_the_scanners_report_is_offered() -> None:
    samples = [
        "Stay safe from the hurricane! 20% off everything today",
        "1 RT = 1 breakfast for a vulnerable child",
        "This is fucking great",
        "You are an idiot, @dave",
        "The schoolgirl is a slut",
        "Our results: good numbers = happy board, keep it quiet",
        "Layoffs coming, we were acquired by Acme",
        "Card 4111 1111 1111 1111 and call me on 06 12345678",
        "My password: hunter2 and key AKIAIOSFODNN7EXAMPLE",
        "Vote Labour, pray to God, abortion is a right",
        "So drunk lol, my boyfriend forgot my birthday",
        "Deals at https://bit.ly/x and http://192.168.1.1/login",
        "BUY NOW!!!!! #2024",
    ]
    found = {f.category for text in samples for f in check_text(text, Context()).findings}
    assert found - CATEGORY_NAMES == set()
    assert len(found) > 15


def test_categories_belong_to_scanners_of_the_registry() -> None:
    scanners = {spec.name for spec in load_registry()}
    assert {c.scanner for c in CATEGORIES} <= scanners
    grouped = [c for _, group in categories_by_scanner() for c in group]
    assert sorted(c.name for c in grouped) == sorted(CATEGORY_NAMES)


def test_event_kinds_cover_the_calendar_and_the_lexicons() -> None:
    from sixfold.risk import EventRegister

    kinds = event_kinds()
    assert {e.kind for e in EventRegister.builtin().events} <= set(kinds)
    assert set(LEXICON_KINDS.values()) <= set(kinds)
    assert kinds[0] == "tragedy"
    assert {"observance", "celebration"} <= set(kinds)
