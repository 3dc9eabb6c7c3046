"""Roles and the permissions they carry: the single source of who may do what."""

from __future__ import annotations

from enum import StrEnum


class Permission(StrEnum):
    VIEW_DIRECTORY = "directory.view"  # people and teams pages
    MANAGE_PEOPLE = "people.manage"  # create people, edit flags, deactivate
    IMPORT_ORG_CHART = "org.import"
    MANAGE_TEAMS = "teams.manage"
    VIEW_ROLES = "roles.view"
    ASSIGN_ROLES = "roles.assign"
    VIEW_AUDIT = "audit.view"
    DRAFT_POSTS = "posts.draft"
    REVIEW_POSTS = "posts.review"
    PUBLISH_POSTS = "posts.publish"
    OVERRIDE_BLOCK = "posts.override_block"
    PAUSE_PUBLISHING = "publishing.pause"
    MENTOR = "people.mentor"
    MANAGE_CONTENT_LIBRARY = "content.manage"
    VIEW_NETWORK = "network.view"
    VIEW_NETWORK_PEOPLE = "network.view_people"
    MANAGE_SETTINGS = "settings.manage"  # channels, review workflow, installation settings
    MANAGE_GUARDRAILS = "guardrails.manage"  # sensitive events, risk policy, news feed


class Role(StrEnum):
    ADMINISTRATOR = "administrator"
    LEADER = "leader"
    COMMUNITY_MENTOR = "community_mentor"
    CONTENT_CURATOR = "content_curator"
    NETWORK_ANALYST = "network_analyst"
    CONTRIBUTOR = "contributor"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]

    @property
    def description(self) -> str:
        return ROLE_DESCRIPTIONS[self]


ROLE_LABELS = {
    Role.ADMINISTRATOR: "Administrator",
    Role.LEADER: "Leader",
    Role.COMMUNITY_MENTOR: "Community mentor",
    Role.CONTENT_CURATOR: "Content curator",
    Role.NETWORK_ANALYST: "Network analyst",
    Role.CONTRIBUTOR: "Contributor",
}

ROLE_DESCRIPTIONS = {
    Role.ADMINISTRATOR: "Runs the installation: people, imports, roles, settings, audit log.",
    Role.LEADER: "Orchestrates: sets guardrails, approves and overrides, pauses publishing "
    "in a crisis, sees the audit log and network analytics.",
    Role.COMMUNITY_MENTOR: "Reviews other people's posts and mentors them in social-media "
    "literacy.",
    Role.CONTENT_CURATOR: "Maintains the content library that contributors draw on.",
    Role.NETWORK_ANALYST: "Reads the organisational network analysis, including person-level "
    "views.",
    Role.CONTRIBUTOR: "Drafts posts for review.",
}

_EVERYONE = frozenset({Permission.VIEW_DIRECTORY, Permission.VIEW_ROLES})

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMINISTRATOR: frozenset(Permission),
    Role.LEADER: _EVERYONE
    | {
        Permission.VIEW_AUDIT,
        Permission.DRAFT_POSTS,
        Permission.REVIEW_POSTS,
        Permission.PUBLISH_POSTS,
        Permission.OVERRIDE_BLOCK,
        Permission.PAUSE_PUBLISHING,
        Permission.MENTOR,
        Permission.VIEW_NETWORK,
        Permission.ASSIGN_ROLES,
        Permission.MANAGE_GUARDRAILS,
    },
    Role.COMMUNITY_MENTOR: _EVERYONE
    | {Permission.DRAFT_POSTS, Permission.REVIEW_POSTS, Permission.MENTOR},
    Role.CONTENT_CURATOR: _EVERYONE | {Permission.DRAFT_POSTS, Permission.MANAGE_CONTENT_LIBRARY},
    Role.NETWORK_ANALYST: _EVERYONE | {Permission.VIEW_NETWORK, Permission.VIEW_NETWORK_PEOPLE},
    Role.CONTRIBUTOR: _EVERYONE | {Permission.DRAFT_POSTS},
}

# Permissions that only make sense organisation-wide: a team-scoped grant does not carry them.
ORGANISATION_ONLY = frozenset(
    {
        Permission.MANAGE_SETTINGS,
        Permission.IMPORT_ORG_CHART,
        Permission.VIEW_AUDIT,
        Permission.PAUSE_PUBLISHING,
        Permission.ASSIGN_ROLES,
        Permission.MANAGE_PEOPLE,
        Permission.MANAGE_TEAMS,
        Permission.MANAGE_GUARDRAILS,
    }
)


def permissions_for(role: Role, *, scoped: bool) -> frozenset[Permission]:
    granted = ROLE_PERMISSIONS[role]
    return granted - ORGANISATION_ONLY if scoped else granted
