"""What a person may do, computed once per request from their role assignments."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sixfold.auth.permissions import Permission, Role, permissions_for


@dataclass(frozen=True)
class Grants:
    """Permissions held organisation-wide, and those held only within team subtrees."""

    organisation: frozenset[Permission] = frozenset()
    by_team: Mapping[int, frozenset[Permission]] = field(default_factory=dict)
    roles: tuple[tuple[Role, int | None], ...] = ()

    @classmethod
    def from_assignments(cls, assignments: Iterable[tuple[Role, int | None]]) -> Grants:
        organisation: set[Permission] = set()
        by_team: dict[int, set[Permission]] = {}
        held = tuple(assignments)
        for role, team_id in held:
            if team_id is None:
                organisation |= permissions_for(role, scoped=False)
            else:
                by_team.setdefault(team_id, set()).update(permissions_for(role, scoped=True))
        return cls(
            organisation=frozenset(organisation),
            by_team={team: frozenset(perms) for team, perms in by_team.items()},
            roles=held,
        )

    def has_anywhere(self, permission: Permission) -> bool:
        """Held at some scope: enough to open a page, which then shows only what is in scope."""
        return permission in self.organisation or any(
            permission in perms for perms in self.by_team.values()
        )

    def has(self, permission: Permission, *, team_ancestry: Iterable[int] = ()) -> bool:
        """Held for an object in a team whose ancestry (itself first) is given."""
        if permission in self.organisation:
            return True
        return any(permission in self.by_team.get(team, frozenset()) for team in team_ancestry)
