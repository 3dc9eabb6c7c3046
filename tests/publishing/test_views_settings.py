"""The publishing settings page: review steps (add, remove, reorder; by role or by name), the
verdicts that force review, alt text, and the policy said in words."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from sixfold.audit import AuditEntry
from sixfold.auth.permissions import Role
from sixfold.notifications.models import Notification
from sixfold.org.models import Person
from sixfold.publishing import review
from tests import factories
from tests.publishing.conftest import Newsroom
from tests.publishing.pages import Pages, open_pages


@pytest.fixture
def pages(db: Session, session_factory: sessionmaker[Session], tmp_path: Path) -> Iterator[Pages]:
    yield from open_pages(db, session_factory, tmp_path)


@pytest.fixture
def admin(db: Session, newsroom: Newsroom) -> Person:
    person = factories.person(db, newsroom.org, roles=(Role.ADMINISTRATOR,), password=None)
    db.commit()
    return person


def step(
    index: int, name: str, *, mode: str = "any", reviewers: str = "", **more: Any
) -> dict[str, Any]:
    fields = {
        f"step-{index}-name": name,
        f"step-{index}-mode": mode,
        f"step-{index}-reviewers": reviewers,
    }
    fields.update({f"step-{index}-{key}": value for key, value in more.items()})
    return fields


def form(
    *steps: dict[str, Any], verdicts: tuple[str, ...] = ("review", "block"), alt: bool = True
) -> dict[str, Any]:
    data: dict[str, Any] = {"step_count": str(len(steps))}
    for fields in steps:
        data.update(fields)
    data["review_verdicts"] = list(verdicts)
    if alt:
        data["alt_text_required"] = "1"
    return data


def test_the_page_shows_the_default_workflow_in_words(pages: Pages, admin: Person) -> None:
    page = pages.as_(admin).get("/settings/publishing")
    assert page.status_code == 200
    assert "A post is reviewed when any of these holds" in page.text
    assert "its author is not yet cleared to publish without review" in page.text
    assert "the risk check says “block” or “review”" in page.text
    assert "Review: any one of the people who may review posts for the author" in page.text
    assert 'name="step-0-name" value="Review"' in page.text
    assert 'name="step-1-new" value="1"' in page.text


def test_two_steps_by_role_and_by_name_are_saved_audited_and_described(
    pages: Pages, db: Session, newsroom: Newsroom, admin: Person
) -> None:
    data = form(
        step(0, "Mentor review", reviewers="role:community_mentor", position="1"),
        step(
            1,
            "Leader sign-off",
            mode="all",
            reviewers="people",
            people=[str(newsroom.leader.id)],
            new="1",
            position="2",
        ),
        verdicts=("review",),
        alt=False,
    )
    done = pages.as_(admin).post("/settings/publishing", data)
    assert (done.status_code, done.headers["location"]) == (303, "/settings/publishing?saved=1")

    steps = review.steps_for(db, newsroom.org.id)
    assert [(s.name, s.mode, s.role, s.people) for s in steps] == [
        ("Mentor review", "any", "community_mentor", ()),
        ("Leader sign-off", "all", None, (newsroom.leader.id,)),
    ]
    stored = review.settings_of(db, newsroom.org.id)
    assert (stored.review_verdicts, stored.alt_text_required) == (["review"], False)

    entry = db.scalars(
        select(AuditEntry).where(AuditEntry.action == "publishing.settings_changed")
    ).one()
    assert entry.actor_id == admin.id
    assert entry.details["before"]["review_steps"] == [{"name": "Review", "mode": "any"}]
    assert entry.details["after"]["review_verdicts"] == ["review"]

    page = pages.get("/settings/publishing?saved=1").text
    assert "Saved." in page
    assert "Mentor review: any one of the community mentors for the author" in page
    assert f"Leader sign-off: every one of {newsroom.leader.name} approves." in page
    assert "Every step must pass, in order." in page
    assert "Images may be published without a description" in page


def test_steps_are_reordered_by_position_and_removed_by_the_box(
    pages: Pages, db: Session, newsroom: Newsroom, admin: Person
) -> None:
    pages.as_(admin)
    pages.post("/settings/publishing", form(step(0, "First"), step(1, "Second"), step(2, "Third")))
    swapped = form(
        step(0, "First", position="3"),
        step(1, "Second", position="1", remove="1"),
        step(2, "Third", position="2"),
        step(3, "", new="1", position="4"),
    )
    assert pages.post("/settings/publishing", swapped).status_code == 303
    assert [s.name for s in review.steps_for(db, newsroom.org.id)] == ["Third", "First"]


def test_a_post_stranded_by_a_removed_step_is_reviewed_again_from_the_first(
    pages: Pages, db: Session, newsroom: Newsroom, admin: Person
) -> None:
    pages.as_(admin)
    mentor = step(0, "Mentor review", reviewers="role:community_mentor", position="1")
    leader = step(1, "Leader sign-off", reviewers="role:leader", position="2")
    pages.post("/settings/publishing", form(mentor, leader))
    post = newsroom.draft(db)
    review.submit(db, post, actor=factories.ACTOR)
    review.approve(db, post, newsroom.mentor, actor=factories.ACTOR)  # at step 2 of 2
    db.commit()

    removed = form(mentor, step(1, "Leader sign-off", remove="1", position="2"))
    assert pages.post("/settings/publishing", removed).status_code == 303

    db.expire_all()
    assert review.queue_for(db, newsroom.org, newsroom.mentor) == [post]
    asked = db.scalars(
        select(Notification).where(
            Notification.person_id == newsroom.mentor.id, Notification.resolved_at.is_(None)
        )
    ).one()
    assert f"asks you to review “{post.text}” (Mentor review)" in asked.message
    restarted = db.scalars(
        select(AuditEntry).where(AuditEntry.action == "publishing.reviews_restarted")
    ).one()
    assert (restarted.actor_id, restarted.details["posts"]) == (admin.id, 1)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (form(step(0, "Only", remove="1")), "needs at least one step"),
        (form(step(0, "Named", reviewers="people")), "Named: choose at least one person"),
        (form(step(0, "Odd", mode="most")), "Step 1: mode is"),
        (form(step(0, "Authors", reviewers="role:contributor")), "contributor does not review"),
        (form(step(0, "Fine"), verdicts=("ok",)), "Unknown risk verdicts: ok"),
        (form(step(0, "Fine", position="first")), "A position is not a number"),
        ({}, "needs at least one step"),
    ],
)
def test_an_invalid_workflow_is_refused_and_nothing_changes(
    pages: Pages, db: Session, newsroom: Newsroom, admin: Person, data: dict[str, Any], message: str
) -> None:
    page = pages.as_(admin).post("/settings/publishing", data)
    assert page.status_code == 422
    assert message in page.text
    assert review.settings_of(db, newsroom.org.id).review_steps == review.DEFAULT_STEPS


def row_html(page: str, index: int) -> str:
    """The fieldset of one step row, to read what the form shows in it."""
    start = page.index(f'name="step-{index}-position"')
    return page[start : page.index("</fieldset>", start)]


def test_a_refused_form_comes_back_as_it_was_typed(
    pages: Pages, db: Session, newsroom: Newsroom, admin: Person
) -> None:
    data = form(
        step(
            0,
            "Renamed, not saved",
            mode="all",
            reviewers="people",
            position="2",
            people=[str(newsroom.mentor.id)],
        ),
        step(1, "Dropped", reviewers="role:leader", remove="1"),
        step(2, "Legal sign-off", reviewers="people", new="1", position="1"),
        verdicts=("review",),
        alt=False,
    )
    page = pages.as_(admin).post("/settings/publishing", data)

    assert page.status_code == 422
    assert "Legal sign-off: choose at least one person" in page.text
    assert 'name="step_count" value="3"' in page.text
    renamed, dropped, added = (row_html(page.text, i) for i in range(3))
    assert 'value="2"' in renamed
    assert 'value="Renamed, not saved"' in renamed
    assert '<option value="all" selected>' in renamed
    assert '<option value="people" selected>' in renamed
    assert f'<option value="{newsroom.mentor.id}" selected>' in renamed
    assert '<option value="role:leader" selected>' in dropped
    assert 'name="step-1-remove" value="1" checked' in dropped
    assert 'value="Legal sign-off"' in added
    assert 'name="step-2-new" value="1"' in page.text
    assert 'name="step-3-' not in page.text  # no row the person did not send
    assert 'value="review" checked' in page.text
    assert 'value="block" checked' not in page.text
    assert 'name="alt_text_required" value="1" checked' not in page.text
    assert review.settings_of(db, newsroom.org.id).review_steps == review.DEFAULT_STEPS


def test_only_people_who_review_may_be_named(
    pages: Pages, db: Session, newsroom: Newsroom, admin: Person
) -> None:
    data = form(step(0, "Named", reviewers="people", people=[str(newsroom.author.id)]))
    page = pages.as_(admin).post("/settings/publishing", data)
    assert page.status_code == 422
    assert "name only people who hold a role that reviews posts" in page.text
    listed = pages.get("/settings/publishing").text
    assert f'<option value="{newsroom.mentor.id}"' in listed
    assert f'<option value="{newsroom.author.id}"' not in listed


def test_only_settings_managers_reach_the_page(pages: Pages, newsroom: Newsroom) -> None:
    pages.as_(newsroom.leader)
    assert pages.get("/settings/publishing").status_code == 403
    assert pages.post("/settings/publishing", form(step(0, "Mine"))).status_code == 403
