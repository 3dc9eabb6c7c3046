"""Who an OpenID Connect identity is in Sixfold. No HTTP here.

A known (issuer, subject) pair signs its person in. The first time, an active person whose
e-mail the issuer has verified is linked; nobody is ever created by single sign-on, because
the organisation chart, not the sign-in provider, decides who belongs.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from sixfold import audit
from sixfold.auth.models import ExternalIdentity
from sixfold.auth.oidc_client import VerifiedIdentity
from sixfold.auth.service import find_person_by_email
from sixfold.errors import AuthenticationFailed
from sixfold.org.models import Person

NO_EMAIL = (
    "Your sign-in provider did not share your e-mail address, so Sixfold cannot tell who you "
    "are. Ask your administrator to check the single sign-on set-up."
)
UNVERIFIED = (
    "Your sign-in provider has not verified the e-mail address {email}, so it cannot be "
    "linked to a Sixfold account. Verify it with your provider, or sign in with your password."
)
NO_ACCOUNT = (
    "There is no active Sixfold account for {email}. Single sign-on never creates accounts: "
    "ask an administrator to add you."
)
LINKED_ELSEWHERE = (
    "The Sixfold account for {email} is already linked to a different identity at your "
    "sign-in provider. Ask an administrator to sort out the link."
)
DEACTIVATED = "This Sixfold account has been deactivated. Ask an administrator if that is wrong."


class OidcRefused(AuthenticationFailed):
    """A verified identity that may not sign in; `reason` goes to the audit log."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def person_for_identity(session: Session, identity: VerifiedIdentity, *, ip_address: str) -> Person:
    """The person this identity signs in as, linking by verified e-mail on first use.

    Success is audited here (`auth.oidc_linked` when a link is made, then `auth.login`);
    a refusal raises OidcRefused and the caller records it with `record_failure`.
    """
    linked = session.scalars(
        select(ExternalIdentity).where(
            ExternalIdentity.issuer == identity.issuer,
            ExternalIdentity.subject == identity.subject,
        )
    ).first()
    if linked is not None:
        person = session.get(Person, linked.person_id)
        if person is None or not person.is_active:
            raise OidcRefused("person_inactive", DEACTIVATED)
    else:
        person = _link_by_email(session, identity, ip_address=ip_address)
    audit.record(
        session,
        _actor(person, ip_address),
        "auth.login",
        target_type="person",
        target_id=person.id,
        target=person.email,
        details={"method": "oidc", "issuer": identity.issuer},
    )
    return person


def _link_by_email(session: Session, identity: VerifiedIdentity, *, ip_address: str) -> Person:
    email = identity.email
    if email is None:
        raise OidcRefused("no_email", NO_EMAIL)
    if not identity.email_verified:
        raise OidcRefused("email_unverified", UNVERIFIED.format(email=email))
    person = find_person_by_email(session, email)
    if person is None or not person.is_active:
        raise OidcRefused("unknown_person", NO_ACCOUNT.format(email=email))
    # An e-mail address handed to someone new at the provider arrives with a new subject;
    # it must not inherit the account that an earlier subject already holds.
    already = session.scalars(
        select(ExternalIdentity).where(
            ExternalIdentity.person_id == person.id, ExternalIdentity.issuer == identity.issuer
        )
    ).first()
    if already is not None:
        raise OidcRefused("linked_to_other_subject", LINKED_ELSEWHERE.format(email=email))
    session.add(
        ExternalIdentity(person_id=person.id, issuer=identity.issuer, subject=identity.subject)
    )
    session.flush()
    audit.record(
        session,
        _actor(person, ip_address),
        "auth.oidc_linked",
        target_type="person",
        target_id=person.id,
        target=person.email,
        details={"issuer": identity.issuer, "subject": identity.subject},
    )
    return person


def record_failure(
    session: Session,
    *,
    reason: str,
    ip_address: str,
    identity: VerifiedIdentity | None = None,
) -> None:
    """Audit a refused single sign-on; the label is the e-mail or subject when one is known."""
    label = "single sign-on"
    if identity is not None:
        label = identity.email or f"{identity.issuer}#{identity.subject}"
    # Only an address the provider vouches for may tie the failure to a person's record.
    person = None
    if identity is not None and identity.email and identity.email_verified:
        person = find_person_by_email(session, identity.email)
    details: dict[str, str] = {"method": "oidc", "reason": reason}
    if identity is not None:
        details.update(issuer=identity.issuer, subject=identity.subject)
    audit.record(
        session,
        audit.Actor(id=person.id if person else None, label=label[:320], ip_address=ip_address),
        "auth.login_failed",
        details=details,
    )


def _actor(person: Person, ip_address: str) -> audit.Actor:
    return audit.Actor(id=person.id, label=person.email, ip_address=ip_address)
