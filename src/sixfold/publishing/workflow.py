"""The organisation's review workflow settings: change them, and say in words what they do."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sixfold import audit
from sixfold.auth.models import RoleAssignment
from sixfold.auth.permissions import Permission, Role, permissions_for
from sixfold.channels.models import Channel, ChannelStatus
from sixfold.db import utcnow
from sixfold.errors import ValidationFailed
from sixfold.org.models import Organisation, Person
from sixfold.publishing import review
from sixfold.publishing.models import PublishingSettings

# Verdicts a post can be sent to review for; "ok" never needs it on its own.
VERDICTS = ("review", "block")
MAX_STEPS = 10
REVIEWER_ROLES = tuple(
    r for r in Role if Permission.REVIEW_POSTS in permissions_for(r, scoped=False)
)


def eligible_reviewers(session: Session, organisation: Organisation) -> list[Person]:
    """Active people who hold a role that reviews posts (anywhere): the ones a step may name."""
    # A sub-select, not DISTINCT: PostgreSQL cannot compare the people's JSON attributes.
    reviewers = select(RoleAssignment.person_id).where(
        RoleAssignment.role.in_([r.value for r in REVIEWER_ROLES])
    )
    return list(
        session.scalars(
            select(Person)
            .where(
                Person.organisation_id == organisation.id,
                Person.is_active.is_(True),
                Person.id.in_(reviewers),
            )
            .order_by(Person.name)
        )
    )


def _normalised(steps: list[review.Step]) -> list[dict[str, Any]]:
    stored: list[dict[str, Any]] = []
    for step in steps:
        item: dict[str, Any] = {"name": step.name, "mode": step.mode}
        if step.role:
            item["role"] = step.role
        if step.people:
            item["people"] = list(step.people)
        stored.append(item)
    return stored


def _check_steps(session: Session, organisation: Organisation, data: Any) -> list[dict[str, Any]]:
    steps = review.parse_steps(data)
    if len(steps) > MAX_STEPS:
        raise ValidationFailed(f"A workflow has at most {MAX_STEPS} steps.")
    allowed = {p.id for p in eligible_reviewers(session, organisation)}
    for step in steps:
        if step.role and Role(step.role) not in REVIEWER_ROLES:
            raise ValidationFailed(f"Step {step.index + 1}: {step.role} does not review posts.")
        if not set(step.people) <= allowed:
            raise ValidationFailed(
                f"Step {step.index + 1}: name only people who hold a role that reviews posts."
            )
    return _normalised(steps)


def _snapshot(row: PublishingSettings) -> dict[str, Any]:
    return {
        "review_steps": list(row.review_steps),
        "review_verdicts": sorted(row.review_verdicts),
        "alt_text_required": bool(row.alt_text_required),
    }


def save_settings(
    session: Session,
    organisation: Organisation,
    *,
    steps: Any,
    review_verdicts: list[str],
    alt_text_required: bool,
    actor: audit.Actor,
    base_url: str = "",
) -> PublishingSettings:
    """Validate and store the workflow; audit the change with what it was before.

    When who must approve changes (steps added, removed, reordered, other reviewers or
    modes), every post in review starts again at the first step."""
    stored_steps = _check_steps(session, organisation, steps)
    unknown = set(review_verdicts) - set(VERDICTS)
    if unknown:
        raise ValidationFailed(f"Unknown risk verdicts: {', '.join(sorted(unknown))}.")
    row = review.settings_of(session, organisation.id)
    before = _snapshot(row)
    verdicts = sorted(set(review_verdicts))
    after = {
        "review_steps": stored_steps,
        "review_verdicts": verdicts,
        "alt_text_required": alt_text_required,
    }
    if before == after:
        return row
    row.review_steps = stored_steps
    row.review_verdicts = verdicts
    row.alt_text_required = alt_text_required
    row.updated_at = utcnow()
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor,
        "publishing.settings_changed",
        target_type="organisation",
        target_id=organisation.id,
        target=organisation.name,
        details={"before": before, "after": after},
    )
    if _who_approves(before["review_steps"]) != _who_approves(stored_steps):
        _restart_reviews(session, organisation, actor=actor, base_url=base_url)
    return row


def _who_approves(stored: list[dict[str, Any]]) -> list[tuple[str, str | None, tuple[int, ...]]]:
    """The steps without their names: renaming a step asks nobody anything new."""
    return [(s.mode, s.role, s.people) for s in review.parse_steps(stored)]


def _restart_reviews(
    session: Session, organisation: Organisation, *, actor: audit.Actor, base_url: str
) -> None:
    restarted = review.restart_reviews(session, organisation.id, base_url=base_url)
    if not restarted:
        return
    audit.record(
        session,
        actor,
        "publishing.reviews_restarted",
        target_type="organisation",
        target_id=organisation.id,
        target=organisation.name,
        details={"posts": len(restarted), "post_ids": restarted[:100]},
    )


# In words -------------------------------------------------------------------------------


def _join(items: list[str], word: str = "or") -> str:
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {word} {items[-1]}"


def _who(step: review.Step, names: dict[int, str]) -> str:
    if step.people:
        people = [names.get(p, f"person {p}") for p in step.people]
        if step.mode == "all":
            return f"every one of {_join(people, 'and')} approves"
        return f"any one of {_join(people)} approves"
    role = Role(step.role).label.lower() + "s" if step.role else "people who may review posts"
    if step.mode == "all":
        return f"every one of the {role} for the author's team approves"
    return f"any one of the {role} for the author's team approves"


@dataclass(frozen=True)
class PolicyText:
    """The effective policy in words: when review happens, its steps, and the rest."""

    reasons: list[str]
    steps: list[str]
    notes: list[str]


def _review_reasons(
    session: Session, organisation: Organisation, row: PublishingSettings
) -> list[str]:
    reasons = ["its author is not yet cleared to publish without review"]
    if row.review_verdicts:
        verdicts = _join([f"“{v}”" for v in sorted(row.review_verdicts)])
        reasons.append(f"the risk check says {verdicts}")
    reasons.append("a leader overrode the risk check's block, with a written reason")
    flagship = list(
        session.scalars(
            select(Channel.name)
            .where(
                Channel.organisation_id == organisation.id,
                Channel.requires_review.is_(True),
                Channel.status != ChannelStatus.DISABLED,
            )
            .order_by(Channel.name)
        )
    )
    if flagship:
        reasons.append(f"it goes to {_join(flagship)}, where every post is reviewed")
    return reasons


def describe(session: Session, organisation: Organisation) -> PolicyText:
    """The effective policy as a person reads it on the settings page."""
    row = review.settings_of(session, organisation.id)
    steps = review.parse_steps(row.review_steps)
    ids = {p for s in steps for p in s.people}
    names = dict(session.execute(select(Person.id, Person.name).where(Person.id.in_(ids))).all())
    notes = ["Every step must pass, in order."] if len(steps) > 1 else []
    notes.append(
        "Authors never review their own posts, and an approval lapses when the post changes "
        "or is submitted again."
    )
    notes.append(
        "Every image needs a description (alt text) before a post can be submitted."
        if row.alt_text_required
        else "Images may be published without a description (alt text)."
    )
    return PolicyText(
        reasons=_review_reasons(session, organisation, row),
        steps=[f"{s.name}: {_who(s, names)}." for s in steps],
        notes=notes,
    )
