"""Teams as a service: paths with a depth limit, and the tree as pages show it."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from sixfold.errors import ValidationFailed
from sixfold.org import service
from sixfold.org.models import Team
from tests import factories


def test_a_team_path_deeper_than_the_limit_is_refused(db: Session) -> None:
    organisation = factories.organisation(db)
    deepest = service.ensure_team_path(db, organisation, "/".join(["d"] * 20))
    assert deepest.path.count("/") == 19
    with pytest.raises(ValidationFailed, match="21 levels; at most 20 are allowed"):
        service.ensure_team_path(db, organisation, "/".join(["d"] * 21))


def test_rows_open_and_close_one_list_per_level_of_the_tree(db: Session) -> None:
    organisation = factories.organisation(db)
    for path in ("A/B/C", "A/D", "E"):
        service.ensure_team_path(db, organisation, path)
    factories.person(db, organisation, team_=service.ensure_team_path(db, organisation, "A/B/C"))
    rows = service.team_rows(service.team_tree(db, organisation))
    shape = [(r.node.team.path, r.depth, r.opens, r.closes) for r in rows]
    assert shape == [
        ("A", 0, False, 0),
        ("A/B", 1, True, 0),
        ("A/B/C", 2, True, 1),
        ("A/D", 1, False, 1),
        ("E", 0, False, 0),
    ]
    assert [r.node.members for r in rows] == [1, 1, 1, 0, 0]


def test_a_tree_hundreds_of_levels_deep_is_counted_without_recursion(db: Session) -> None:
    # Teams imported before paths had a depth limit may be this deep.
    organisation = factories.organisation(db)
    parent: Team | None = None
    for depth in range(1, 1201):
        parent = Team(
            organisation_id=organisation.id,
            name="d",
            path="d" if parent is None else f"{parent.path[:900]}/{depth}",
            parent_id=parent.id if parent else None,
        )
        db.add(parent)
        db.flush()
    assert parent is not None
    factories.person(db, organisation, team_=parent)
    rows = service.team_rows(service.team_tree(db, organisation))
    assert len(rows) == 1200
    assert rows[0].node.members == 1
    assert rows[-1].closes == 1199
