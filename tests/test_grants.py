"""What a team-scoped role means: it reaches the team and the teams below it, never up."""

from __future__ import annotations

from sqlalchemy.orm import Session

from sixfold.auth.grants import Grants
from sixfold.auth.permissions import Permission, Role
from sixfold.org import service as org_service
from tests import factories


def test_team_scoped_role_reaches_sub_teams_only(db: Session) -> None:
    org = factories.organisation(db)
    marketing = org_service.ensure_team_path(db, org, "Marketing")
    social = org_service.ensure_team_path(db, org, "Marketing/Social")
    finance = org_service.ensure_team_path(db, org, "Finance")
    grants = Grants.from_assignments([(Role.COMMUNITY_MENTOR, marketing.id)])

    assert grants.has(
        Permission.REVIEW_POSTS, team_ancestry=org_service.team_ancestry(db, social.id)
    )
    assert not grants.has(
        Permission.REVIEW_POSTS, team_ancestry=org_service.team_ancestry(db, finance.id)
    )
    assert grants.has_anywhere(Permission.REVIEW_POSTS)
    assert org_service.team_ancestry(db, social.id) == [social.id, marketing.id]


def test_organisation_only_permissions_do_not_come_with_a_team_scope() -> None:
    scoped = Grants.from_assignments([(Role.ADMINISTRATOR, 1)])
    assert not scoped.has_anywhere(Permission.VIEW_AUDIT)
    assert not scoped.has_anywhere(Permission.ASSIGN_ROLES)
    assert scoped.has_anywhere(Permission.DRAFT_POSTS)
    whole = Grants.from_assignments([(Role.ADMINISTRATOR, None)])
    assert whole.has(Permission.VIEW_AUDIT)
