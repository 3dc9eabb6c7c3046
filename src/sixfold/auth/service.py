"""Use cases of accounts: signing in, sessions, API tokens, roles. No HTTP here."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from sixfold import audit
from sixfold.auth.grants import Grants
from sixfold.auth.models import ApiToken, Credential, RoleAssignment, WebSession
from sixfold.auth.passwords import (
    check_password_rules,
    hash_password,
    needs_rehash,
    verify_password,
)
from sixfold.auth.permissions import Role, permissions_for
from sixfold.config import Settings
from sixfold.db import utcnow
from sixfold.errors import AuthenticationFailed, Conflict, Forbidden, NotFound, ValidationFailed
from sixfold.org.models import Organisation, Person, Team

TOKEN_PREFIX = "sfx_"  # noqa: S105 - the public prefix that marks our tokens
LOGIN_FAILED = "E-mail or password is not correct."


@dataclass(frozen=True)
class Principal:
    """Who is making a request, and how they proved it."""

    person: Person
    grants: Grants
    via: str  # "session" or "token"
    session_id: str | None = None

    def actor(self, ip_address: str = "") -> audit.Actor:
        return audit.Actor(id=self.person.id, label=self.person.email, ip_address=ip_address)


def find_person_by_email(session: Session, email: str) -> Person | None:
    return session.scalars(
        select(Person).where(func.lower(Person.email) == email.strip().lower())
    ).first()


def set_password(
    session: Session, person: Person, password: str, *, settings: Settings, actor: audit.Actor
) -> None:
    check_password_rules(password, min_length=settings.password_min_length, email=person.email)
    credential = session.get(Credential, person.id) or Credential(person_id=person.id)
    credential.password_hash = hash_password(password)
    credential.password_changed_at = utcnow()
    credential.failed_logins, credential.locked_until = 0, None
    session.add(credential)
    audit.record(
        session,
        actor,
        "auth.password_set",
        target_type="person",
        target_id=person.id,
        target=person.email,
    )


def change_password(
    session: Session,
    person: Person,
    current: str,
    new: str,
    *,
    settings: Settings,
    actor: audit.Actor,
) -> None:
    credential = session.get(Credential, person.id)
    if credential is None or not verify_password(credential.password_hash, current):
        raise ValidationFailed("The current password is not correct.")
    set_password(session, person, new, settings=settings, actor=actor)


def authenticate(
    session: Session,
    email: str,
    password: str,
    *,
    settings: Settings,
    ip_address: str,
    now: datetime | None = None,
) -> Person:
    """Check a password login, with lock-out that doubles after each further failure.

    Every outcome is audited; the error never says whether the address exists.
    """
    now = now or utcnow()
    person = find_person_by_email(session, email)
    credential = session.get(Credential, person.id) if person else None
    actor = audit.Actor(
        id=person.id if person else None, label=email.strip()[:320], ip_address=ip_address
    )
    if person is None or credential is None or not person.is_active:
        verify_password(None, password)
        audit.record(session, actor, "auth.login_failed", details={"reason": "unknown"})
        raise AuthenticationFailed(LOGIN_FAILED)
    if credential.locked_until and credential.locked_until > now:
        audit.record(
            session,
            actor,
            "auth.login_refused_locked",
            target_type="person",
            target_id=person.id,
            target=person.email,
        )
        raise AuthenticationFailed(_locked_message(credential.locked_until, now))
    if not verify_password(credential.password_hash, password):
        _register_failure(credential, settings, now)
        audit.record(
            session,
            actor,
            "auth.login_failed",
            target_type="person",
            target_id=person.id,
            target=person.email,
            details={"failures": credential.failed_logins},
        )
        raise AuthenticationFailed(LOGIN_FAILED)
    if credential.password_hash and needs_rehash(credential.password_hash):
        credential.password_hash = hash_password(password)
    credential.failed_logins, credential.locked_until = 0, None
    credential.last_login_at = now
    audit.record(
        session,
        actor,
        "auth.login",
        target_type="person",
        target_id=person.id,
        target=person.email,
        details={"method": "password"},
    )
    return person


def _register_failure(credential: Credential, settings: Settings, now: datetime) -> None:
    credential.failed_logins += 1
    excess = credential.failed_logins - settings.login_max_failures
    if excess >= 0:
        seconds = settings.login_lock_seconds * (2 ** min(excess, 10))
        credential.locked_until = now + timedelta(seconds=seconds)


def _locked_message(until: datetime, now: datetime) -> str:
    minutes = max(1, round((until - now).total_seconds() / 60))
    return (
        f"Too many failed attempts: this account is locked for about {minutes} "
        f"minute{'s' if minutes != 1 else ''}."
    )


def start_session(
    session: Session,
    person: Person,
    *,
    settings: Settings,
    ip_address: str,
    user_agent: str,
    method: str = "password",
) -> WebSession:
    now = utcnow()
    web_session = WebSession(
        id=secrets.token_urlsafe(32),
        person_id=person.id,
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(days=settings.session_days),
        ip_address=ip_address[:64],
        user_agent=user_agent[:300],
        method=method,
    )
    session.add(web_session)
    return web_session


def load_session(
    session: Session, session_id: str, now: datetime | None = None
) -> WebSession | None:
    now = now or utcnow()
    web_session = session.get(WebSession, session_id)
    if web_session is None or web_session.expires_at <= now:
        return None
    if not web_session.person.is_active:
        return None
    # Touch at most once a minute: a write per request would serialise SQLite readers.
    if (now - web_session.last_seen_at).total_seconds() > 60:
        web_session.last_seen_at = now
    return web_session


def end_session(session: Session, session_id: str, *, actor: audit.Actor) -> None:
    session.execute(delete(WebSession).where(WebSession.id == session_id))
    audit.record(session, actor, "auth.logout")


def end_all_sessions(session: Session, person: Person, *, actor: audit.Actor) -> int:
    result = session.execute(delete(WebSession).where(WebSession.person_id == person.id))
    count = int(getattr(result, "rowcount", 0) or 0)
    audit.record(
        session,
        actor,
        "auth.logout_everywhere",
        target_type="person",
        target_id=person.id,
        target=person.email,
        details={"sessions": count},
    )
    return count


def sessions_of(session: Session, person: Person) -> list[WebSession]:
    return list(
        session.scalars(
            select(WebSession)
            .where(WebSession.person_id == person.id)
            .order_by(WebSession.last_seen_at.desc())
        )
    )


def _token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create_api_token(
    session: Session, person: Person, name: str, *, actor: audit.Actor
) -> tuple[ApiToken, str]:
    """Create a token; the secret is returned once and only its hash is kept."""
    name = name.strip()
    if not 1 <= len(name) <= 200:
        raise ValidationFailed("Give the token a name of 1 to 200 characters.")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        person_id=person.id, name=name, prefix=secret[:12], token_hash=_token_hash(secret)
    )
    session.add(token)
    session.flush()
    audit.record(
        session,
        actor,
        "auth.token_created",
        target_type="api_token",
        target_id=token.id,
        target=name,
        details={"owner": person.email},
    )
    return token, secret


def resolve_api_token(session: Session, secret: str) -> Person | None:
    if not secret.startswith(TOKEN_PREFIX):
        return None
    token = session.scalars(
        select(ApiToken).where(
            ApiToken.token_hash == _token_hash(secret), ApiToken.revoked_at.is_(None)
        )
    ).first()
    if token is None or not token.person.is_active:
        return None
    now = utcnow()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        token.last_used_at = now
    return token.person


def tokens_of(session: Session, person: Person) -> list[ApiToken]:
    return list(
        session.scalars(
            select(ApiToken)
            .where(ApiToken.person_id == person.id, ApiToken.revoked_at.is_(None))
            .order_by(ApiToken.created_at.desc())
        )
    )


def revoke_api_token(
    session: Session, person: Person, token_id: int, *, actor: audit.Actor
) -> None:
    token = session.get(ApiToken, token_id)
    if token is None or token.person_id != person.id or token.revoked_at is not None:
        raise NotFound("No such token.")
    token.revoked_at = utcnow()
    audit.record(
        session,
        actor,
        "auth.token_revoked",
        target_type="api_token",
        target_id=token.id,
        target=token.name,
    )


def grants_for(session: Session, person: Person) -> Grants:
    rows = session.execute(
        select(RoleAssignment.role, RoleAssignment.team_id).where(
            RoleAssignment.person_id == person.id
        )
    ).all()
    return Grants.from_assignments((Role(role), team) for role, team in rows)


def assignments_of(session: Session, person: Person) -> list[RoleAssignment]:
    return list(
        session.scalars(
            select(RoleAssignment)
            .where(RoleAssignment.person_id == person.id)
            .order_by(RoleAssignment.role)
        )
    )


def may_change_role(grants: Grants | None, role: Role, *, scoped: bool) -> bool:
    """Whether someone holding ``grants`` may grant or revoke ``role`` (within a team when
    ``scoped``): only if they hold, organisation-wide, every permission it carries there, so
    nobody hands out or takes away more than they have. None stands for the system itself
    (setting up, the command line)."""
    return grants is None or permissions_for(role, scoped=scoped) <= grants.organisation


def _refuse_beyond_grantor(grants: Grants | None, role: Role, *, scoped: bool) -> None:
    if not may_change_role(grants, role, scoped=scoped):
        raise Forbidden(
            f"Only someone who holds every permission of the role {role.label} may grant "
            "or revoke it."
        )


def assign_role(
    session: Session,
    person: Person,
    role: Role,
    *,
    team: Team | None,
    actor: audit.Actor,
    by: Grants | None,
) -> RoleAssignment:
    """Grants ``role`` to ``person``; ``by`` holds the grantor's permissions."""
    _refuse_beyond_grantor(by, role, scoped=team is not None)
    team_id = team.id if team else None
    existing = session.scalars(
        select(RoleAssignment).where(
            RoleAssignment.person_id == person.id,
            RoleAssignment.role == role.value,
            RoleAssignment.team_id.is_(None)
            if team_id is None
            else RoleAssignment.team_id == team_id,
        )
    ).first()
    if existing is not None:
        raise Conflict(f"{person.name} already holds the role {role.label} there.")
    assignment = RoleAssignment(
        person_id=person.id, role=role.value, team_id=team_id, granted_by_id=actor.id
    )
    session.add(assignment)
    session.flush()
    audit.record(
        session,
        actor,
        "role.granted",
        target_type="person",
        target_id=person.id,
        target=person.email,
        details={"role": role.value, "team": team.path if team else None},
    )
    return assignment


def revoke_role(
    session: Session,
    assignment_id: int,
    *,
    person_id: int,
    actor: audit.Actor,
    by: Grants | None,
) -> None:
    assignment = session.get(RoleAssignment, assignment_id)
    if assignment is None or assignment.person_id != person_id:
        raise NotFound("No such role assignment.")
    _refuse_beyond_grantor(by, Role(assignment.role), scoped=assignment.team_id is not None)
    if assignment.role == Role.ADMINISTRATOR and assignment.team_id is None:
        _refuse_removing_last_administrator(session)
    person, team = assignment.person, assignment.team
    session.delete(assignment)
    audit.record(
        session,
        actor,
        "role.revoked",
        target_type="person",
        target_id=person.id,
        target=person.email,
        details={"role": assignment.role, "team": team.path if team else None},
    )


def _refuse_removing_last_administrator(session: Session) -> None:
    count = session.scalar(
        select(func.count())
        .select_from(RoleAssignment)
        .where(RoleAssignment.role == Role.ADMINISTRATOR.value, RoleAssignment.team_id.is_(None))
    )
    if (count or 0) <= 1:
        raise ValidationFailed(
            "This is the last administrator; grant the role to someone else first."
        )


def role_holders(session: Session, organisation: Organisation) -> dict[str, list[RoleAssignment]]:
    rows = session.scalars(
        select(RoleAssignment)
        .join(Person, Person.id == RoleAssignment.person_id)
        .where(Person.organisation_id == organisation.id)
        .order_by(Person.name)
    ).all()
    holders: dict[str, list[RoleAssignment]] = {role.value: [] for role in Role}
    for assignment in rows:
        holders.setdefault(assignment.role, []).append(assignment)
    return holders


def locked_until(session: Session, person: Person) -> datetime | None:
    """Until when the person's sign-in is locked after failed attempts (None: it is not)."""
    credential = session.get(Credential, person.id)
    until = credential.locked_until if credential is not None else None
    return until if until is not None and until > utcnow() else None


def unlock(session: Session, person: Person, *, actor: audit.Actor) -> None:
    session.execute(
        update(Credential)
        .where(Credential.person_id == person.id)
        .values(failed_logins=0, locked_until=None)
    )
    audit.record(
        session,
        actor,
        "auth.unlocked",
        target_type="person",
        target_id=person.id,
        target=person.email,
    )
