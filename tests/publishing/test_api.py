"""The publishing JSON API: read posts, review them, schedule, cancel, retry, pause."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from sixfold.audit import AuditEntry
from sixfold.auth import service as auth_service
from sixfold.auth.permissions import Role
from sixfold.config import Settings
from sixfold.inputs import MAX_ID
from sixfold.jobs import Runner
from sixfold.notifications.models import Notification
from sixfold.org.models import Person
from sixfold.publishing import drafts, review
from sixfold.publishing.models import Post, PublishingSettings
from sixfold.publishing.publisher import Publication
from sixfold.web.access import SESSION_COOKIE, session_signer
from sixfold.web.app import create_app
from tests import factories
from tests.publishing.conftest import SETTINGS, Newsroom

BLOCKED_TEXT = "Pay with card 4111 1111 1111 1111 today"
REVIEW_TEXT = "Vote Republican this year"


class Api:
    """Calls the API as a person, with an API token of theirs (as a script would)."""

    def __init__(self, client: TestClient, db: Session) -> None:
        self.client, self.db = client, db
        self.tokens: dict[int, str] = {}

    def _headers(self, person: Person) -> dict[str, str]:
        if person.id not in self.tokens:
            _, secret = auth_service.create_api_token(
                self.db, person, "tests", actor=factories.ACTOR
            )
            self.tokens[person.id] = secret
        self.db.commit()
        return {"Authorization": f"Bearer {self.tokens[person.id]}"}

    def get(self, person: Person, url: str, **params: Any) -> httpx.Response:
        return self.client.get(url, params=params, headers=self._headers(person))

    def post(self, person: Person, url: str, body: Any = None) -> httpx.Response:
        headers = self._headers(person)
        if body is None:
            return self.client.post(url, headers=headers)
        return self.client.post(url, json=body, headers=headers)


@pytest.fixture
def api(db: Session, session_factory: sessionmaker[Session], tmp_path: Path) -> Iterator[Api]:
    settings = Settings(data_dir=tmp_path, secret_key="api-tests-" + "k" * 32)
    app = create_app(settings, session_factory=session_factory)
    with TestClient(app, follow_redirects=False) as client:
        yield Api(client, db)


def submitted(db: Session, newsroom: Newsroom, text: str = "Trail guide out today.") -> Post:
    post = newsroom.draft(db, text)
    review.submit(db, post, actor=factories.ACTOR)
    db.commit()
    return post


def approved(db: Session, newsroom: Newsroom) -> Post:
    post = submitted(db, newsroom)
    review.approve(db, post, newsroom.mentor, actor=factories.ACTOR)
    db.commit()
    return post


def in_two_days() -> datetime:
    return (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)


# Reading -----------------------------------------------------------------------------------


def test_a_post_is_read_with_its_targets_media_risk_and_review(
    api: Api, db: Session, newsroom: Newsroom
) -> None:
    post = newsroom.draft(db, REVIEW_TEXT)
    drafts.attach_media(
        db, post, newsroom.author, filename="dot.png", content=factories.PNG_1PX, alt_text="A dot"
    )
    db.commit()

    response = api.get(newsroom.author, f"/api/v1/posts/{post.id}")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "draft"
    assert body["targets"] == [
        {"channel_id": newsroom.stream.id, "channel": "Internal stream", "text": None}
    ]
    assert [(m["filename"], m["alt_text"]) for m in body["media"]] == [("dot.png", "A dot")]
    assert body["risk"]["verdict"] == "review"
    assert [f["category"] for f in body["risk"]["findings"]] == ["politics"]
    assert body["review"]["needed"] is True
    assert body["review"]["needed_because"] == [
        f"{newsroom.author.name} is not yet cleared to publish without review.",
        "The risk check says review.",
    ]
    assert body["review"]["current_step"] is None
    assert body["publications"] == []
    assert body["override"] is None


def test_a_post_is_hidden_from_people_without_a_part_in_it(
    api: Api, db: Session, newsroom: Newsroom
) -> None:
    post = newsroom.draft(db)
    stranger = factories.person(db, newsroom.org, roles=(Role.CONTRIBUTOR,), password=None)
    db.commit()

    response = api.get(stranger, f"/api/v1/posts/{post.id}")
    assert response.status_code == 404
    assert response.json() == {"error": "No such post."}
    assert api.get(stranger, "/api/v1/posts").json()["total"] == 0
    assert api.post(stranger, f"/api/v1/posts/{post.id}/submit").status_code == 404
    # A reviewer of every team sees it.
    assert api.get(newsroom.mentor, f"/api/v1/posts/{post.id}").status_code == 200


def test_a_team_scoped_mentor_sees_the_posts_of_their_teams(
    api: Api, db: Session, newsroom: Newsroom
) -> None:
    outdoors = factories.team(db, newsroom.org, "Marketing/Outdoors")
    finance = factories.team(db, newsroom.org, "Finance")
    mentor = factories.person(db, newsroom.org, password=None)
    marketing = factories.team(db, newsroom.org, "Marketing")
    auth_service.assign_role(
        db, mentor, Role.COMMUNITY_MENTOR, team=marketing, actor=factories.ACTOR, by=None
    )
    ours, theirs = (_post_by(db, newsroom, team) for team in (outdoors, finance))
    db.commit()

    listed = api.get(mentor, "/api/v1/posts").json()
    assert [p["id"] for p in listed["items"]] == [ours.id]
    assert api.get(mentor, f"/api/v1/posts/{theirs.id}").status_code == 404


def _post_by(db: Session, newsroom: Newsroom, team: Any) -> Post:
    member = factories.person(db, newsroom.org, team_=team, password=None)
    data = drafts.DraftInput(text=f"From {team.name}.", channel_ids=[newsroom.stream.id])
    return drafts.create_draft(db, newsroom.org, member, data, actor=factories.ACTOR)


def test_posts_are_filtered_and_paginated(api: Api, db: Session, newsroom: Newsroom) -> None:
    first, second, third = (newsroom.draft(db, f"Post {n}") for n in range(3))
    review.submit(db, second, actor=factories.ACTOR)
    data = drafts.DraftInput(text="Mentor's own", channel_ids=[newsroom.stream.id])
    own = drafts.create_draft(db, newsroom.org, newsroom.mentor, data, actor=factories.ACTOR)
    db.commit()
    mentor = newsroom.mentor

    every = api.get(mentor, "/api/v1/posts").json()
    assert every["total"] == 4
    assert [p["id"] for p in every["items"]][:1] == [own.id]  # newest change first
    assert _ids(api.get(mentor, "/api/v1/posts", status="in_review")) == [second.id]
    assert _ids(api.get(mentor, "/api/v1/posts", author="me")) == [own.id]
    assert api.get(mentor, "/api/v1/posts", channel=newsroom.stream.id).json()["total"] == 4
    assert api.get(mentor, "/api/v1/posts", channel=10**6).json()["total"] == 0
    page = api.get(mentor, "/api/v1/posts", limit=2, offset=2).json()
    assert (page["total"], len(page["items"]), page["offset"]) == (4, 2, 2)
    assert set(_ids(api.get(mentor, "/api/v1/posts", limit=2, offset=2))) <= {
        first.id,
        second.id,
        third.id,
    }
    assert api.get(mentor, "/api/v1/posts", status="bogus").status_code == 422
    assert api.get(mentor, "/api/v1/posts", limit=0).status_code == 422


def _ids(response: httpx.Response) -> list[int]:
    assert response.status_code == 200, response.text
    return [p["id"] for p in response.json()["items"]]


# Review ------------------------------------------------------------------------------------


def test_submit_and_approve_schedule_the_post(api: Api, db: Session, newsroom: Newsroom) -> None:
    post = newsroom.draft(db)
    db.commit()

    submitted_ = api.post(newsroom.author, f"/api/v1/posts/{post.id}/submit").json()
    assert submitted_["status"] == "in_review"
    assert submitted_["review"]["current_step"]["name"] == "Review"

    response = api.post(newsroom.mentor, f"/api/v1/posts/{post.id}/approve", {"comment": "Nice"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "scheduled"
    assert [(a["reviewer_id"], a["comment"]) for a in body["review"]["approvals"]] == [
        (newsroom.mentor.id, "Nice")
    ]
    [publication] = body["publications"]
    assert publication["state"] == "pending"
    assert publication["channel"] == "Internal stream"


def test_a_token_carries_only_its_persons_permissions(
    api: Api, db: Session, newsroom: Newsroom
) -> None:
    post = submitted(db, newsroom)
    response = api.post(newsroom.author, f"/api/v1/posts/{post.id}/approve")
    assert response.status_code == 403
    assert "roles do not allow" in response.json()["error"]
    assert api.post(newsroom.mentor, f"/api/v1/posts/{post.id}/submit").status_code == 404


def test_a_reviewer_never_approves_their_own_post(
    api: Api, db: Session, newsroom: Newsroom
) -> None:
    data = drafts.DraftInput(text="Mentor's post.", channel_ids=[newsroom.stream.id])
    post = drafts.create_draft(db, newsroom.org, newsroom.mentor, data, actor=factories.ACTOR)
    db.commit()
    api.post(newsroom.mentor, f"/api/v1/posts/{post.id}/submit")

    response = api.post(newsroom.mentor, f"/api/v1/posts/{post.id}/approve")
    assert response.status_code == 403
    assert response.json() == {"error": "Authors never review their own posts."}


def test_a_rejection_needs_a_comment(api: Api, db: Session, newsroom: Newsroom) -> None:
    post = submitted(db, newsroom)
    url = f"/api/v1/posts/{post.id}/reject"

    assert api.post(newsroom.mentor, url, {}).json()["problems"][0]["field"] == "comment"
    blank = api.post(newsroom.mentor, url, {"comment": "  "})
    assert blank.status_code == 422
    assert "Write a comment" in blank.json()["error"]
    body = api.post(newsroom.mentor, url, {"comment": "Name the trail."}).json()
    assert body["status"] == "changes_requested"
    assert [(h["decision"], h["comment"]) for h in body["review"]["history"]] == [
        ("rejected", "Name the trail.")
    ]


def test_a_leader_overrides_a_block_with_a_reason(
    api: Api, db: Session, newsroom: Newsroom
) -> None:
    post = newsroom.draft(db, BLOCKED_TEXT)
    db.commit()
    url = f"/api/v1/posts/{post.id}/override"

    refused = api.post(newsroom.author, f"/api/v1/posts/{post.id}/submit")
    assert refused.status_code == 403
    assert "blocks this post" in refused.json()["error"]
    assert api.post(newsroom.mentor, url, {"reason": "ok"}).status_code == 403
    assert api.post(newsroom.leader, url, {"reason": " "}).status_code == 422

    body = api.post(newsroom.leader, url, {"reason": "A published test number."}).json()
    assert body["override"] == {
        "by_id": newsroom.leader.id,
        "reason": "A published test number.",
        "version": post.version,
        "applies": True,
    }
    submitted_ = api.post(newsroom.author, f"/api/v1/posts/{post.id}/submit").json()
    assert submitted_["status"] == "in_review"
    assert "A leader overrode the risk engine's block." in submitted_["review"]["needed_because"]


# Timing and cancelling ---------------------------------------------------------------------


def test_the_author_chooses_when_a_draft_goes_out(
    api: Api, db: Session, newsroom: Newsroom
) -> None:
    post = newsroom.draft(db)
    db.commit()
    url = f"/api/v1/posts/{post.id}/schedule"
    when = in_two_days().astimezone(timezone(timedelta(hours=2)))

    body = api.post(newsroom.author, url, {"mode": "at", "at": when.isoformat()}).json()
    assert body["publish_mode"] == "at"
    assert datetime.fromisoformat(body["publish_at"]) == when
    assert body["version"] == 2

    naive = when.replace(tzinfo=None).isoformat()
    assert api.post(newsroom.author, url, {"mode": "at", "at": naive}).status_code == 422
    past = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    assert api.post(newsroom.author, url, {"mode": "at", "at": past}).status_code == 422
    assert api.post(newsroom.author, url, {"mode": "at"}).status_code == 422
    last = api.post(newsroom.author, url, {"mode": "at", "at": "9999-12-31T23:59:00-05:00"})
    assert last.status_code == 422
    assert last.json()["problems"][0]["field"] == "at"  # beyond any day a client may name
    later = api.post(newsroom.author, url, {"mode": "at", "at": "2150-01-01T09:00:00+00:00"})
    assert later.status_code == 422
    assert "in the years 2000 to 2100" in later.json()["error"]
    assert api.post(newsroom.author, url, {"mode": "soon"}).status_code == 422
    assert api.post(newsroom.mentor, url, {"mode": "now"}).status_code == 404
    assert api.post(newsroom.author, url, {"mode": "now"}).json()["publish_at"] is None


def test_a_new_time_restarts_the_review_of_a_post_in_review(
    api: Api, db: Session, newsroom: Newsroom
) -> None:
    post = submitted(db, newsroom)
    url = f"/api/v1/posts/{post.id}/schedule"

    body = api.post(newsroom.author, url, {"mode": "at", "at": in_two_days().isoformat()}).json()

    assert body["status"] == "in_review"
    assert body["version"] == 2
    assert body["review"]["current_step"]["index"] == 0


def test_a_new_time_in_review_is_audited_and_asks_the_first_step_again(
    api: Api, db: Session, newsroom: Newsroom
) -> None:
    db.add(
        PublishingSettings(
            organisation_id=newsroom.org.id,
            review_steps=[
                {"name": "Mentor review", "mode": "any", "role": "community_mentor"},
                {"name": "Leader sign-off", "mode": "any", "role": "leader"},
            ],
            review_verdicts=["review", "block"],
            alt_text_required=True,
        )
    )
    post = submitted(db, newsroom)
    review.approve(db, post, newsroom.mentor, actor=factories.ACTOR)
    db.commit()
    when = in_two_days()

    body = api.post(
        newsroom.author, f"/api/v1/posts/{post.id}/schedule", {"mode": "at", "at": when.isoformat()}
    ).json()

    # The mentor's approval was of version 1: the mentor is asked again, not the leader.
    assert body["review"]["current_step"]["index"] == 0
    db.expire_all()
    [entry] = db.scalars(
        select(AuditEntry).where(
            AuditEntry.target_id == str(post.id), AuditEntry.action == "post.timing_changed"
        )
    )
    assert entry.actor_id == newsroom.author.id
    assert entry.details == {
        "version": 2,
        "before": {"mode": "now", "at": None},
        "after": {"mode": "at", "at": when.isoformat()},
    }
    asked = db.scalars(
        select(Notification).where(
            Notification.person_id == newsroom.mentor.id,
            Notification.kind == "review_requested",
        )
    )
    assert len(list(asked)) == 2


def test_a_scheduled_post_is_rescheduled_per_publication(
    api: Api, db: Session, newsroom: Newsroom
) -> None:
    post = approved(db, newsroom)
    response = api.post(newsroom.author, f"/api/v1/posts/{post.id}/schedule", {"mode": "now"})
    assert response.status_code == 409
    assert "publications" in response.json()["error"]


def test_cancelling_stops_the_publications(api: Api, db: Session, newsroom: Newsroom) -> None:
    post = approved(db, newsroom)
    url = f"/api/v1/posts/{post.id}/cancel"

    assert api.post(newsroom.mentor, url).status_code == 404  # reviews, does not publish
    body = api.post(newsroom.author, url).json()
    assert body["status"] == "cancelled"
    assert [p["state"] for p in body["publications"]] == ["cancelled"]
    assert api.post(newsroom.author, url).status_code == 409


# Publications ------------------------------------------------------------------------------


def test_a_failed_publication_is_retried(api: Api, db: Session, newsroom: Newsroom) -> None:
    post = approved(db, newsroom)
    row = db.scalars(select(Publication).where(Publication.post_id == post.id)).one()
    url = f"/api/v1/publications/{row.id}/retry"
    assert api.post(newsroom.author, url).status_code == 409  # pending: nothing to retry
    row.transition_to("failed")
    row.sent_at, row.error_message = datetime.now(UTC), "Server said no"
    db.commit()

    body = api.post(newsroom.author, url).json()

    assert body["state"] == "pending"
    assert body["error"] is None
    db.expire_all()
    assert row.sent_at is None  # a retry sends; it does not wait to reconcile
    publisher = factories.person(db, newsroom.org, roles=(Role.LEADER,), password=None)
    db.commit()
    row.transition_to("failed")
    db.commit()
    assert api.post(newsroom.mentor, url).status_code == 404
    assert api.post(publisher, url).status_code == 200


def test_publications_are_listed_with_filters(api: Api, db: Session, newsroom: Newsroom) -> None:
    soon, later = approved(db, newsroom), approved(db, newsroom)
    rows = {
        r.post_id: r
        for r in db.scalars(select(Publication).where(Publication.post_id.in_([soon.id, later.id])))
    }
    rows[later.id].due_at = in_two_days()
    rows[later.id].transition_to("failed")
    rows[later.id].error_message = "Rate limited"
    stranger = factories.person(db, newsroom.org, roles=(Role.CONTRIBUTOR,), password=None)
    db.commit()
    author = newsroom.author

    every = api.get(author, "/api/v1/publications").json()
    assert [p["post_id"] for p in every["items"]] == [later.id, soon.id]
    failed = api.get(author, "/api/v1/publications", state="failed").json()["items"]
    assert [(p["post_id"], p["error"]) for p in failed] == [(later.id, "Rate limited")]
    now = datetime.now(UTC)
    tomorrow = {"due_from": (now - timedelta(hours=1)).isoformat(), "due_to": _day(now, 1)}
    assert _post_ids(api.get(author, "/api/v1/publications", **tomorrow)) == [soon.id]
    after = {"due_from": _day(now, 1), "due_to": _day(now, 3)}
    assert _post_ids(api.get(author, "/api/v1/publications", **after)) == [later.id]
    assert api.get(author, "/api/v1/publications", channel=10**6).json()["total"] == 0
    assert api.get(author, "/api/v1/publications", state="lost").status_code == 422
    assert api.get(stranger, "/api/v1/publications").json()["total"] == 0


def _day(now: datetime, days: int) -> str:
    return (now + timedelta(days=days)).isoformat()


def _post_ids(response: httpx.Response) -> list[int]:
    assert response.status_code == 200, response.text
    return [p["post_id"] for p in response.json()["items"]]


# Crisis pause ------------------------------------------------------------------------------


def test_pause_holds_publications_and_resume_lists_them(
    api: Api, db: Session, newsroom: Newsroom, session_factory: sessionmaker[Session]
) -> None:
    post = approved(db, newsroom)
    leader = newsroom.leader

    assert api.post(newsroom.mentor, "/api/v1/publishing/pause", {"reason": "x"}).status_code == 403
    assert api.post(leader, "/api/v1/publishing/pause", {"reason": " "}).status_code == 422
    paused = api.post(leader, "/api/v1/publishing/pause", {"reason": "Storm on the coast"})
    assert paused.status_code == 201
    assert paused.json()["started_by"] == leader.name
    again = api.post(leader, "/api/v1/publishing/pause", {"reason": "Again"})
    assert again.status_code == 409
    pauses = api.get(newsroom.author, "/api/v1/publishing/pauses").json()
    assert [(p["reason"], p["channel_id"]) for p in pauses] == [("Storm on the coast", None)]

    Runner(session_factory, [Publication], services={"settings": SETTINGS}).run_single_cycle()

    resumed = api.post(leader, "/api/v1/publishing/resume").json()
    assert [(h["post_id"], h["state"]) for h in resumed["held"]] == [(post.id, "held")]
    assert "Storm on the coast" in resumed["held"][0]["error"]
    assert api.get(leader, "/api/v1/publishing/pauses").json() == []
    assert api.post(leader, "/api/v1/publishing/resume", {"channel_id": None}).status_code == 409


def test_a_channel_pause_names_its_channel(api: Api, db: Session, newsroom: Newsroom) -> None:
    db.commit()
    body = {"reason": "Account review", "channel_id": newsroom.stream.id}
    assert api.post(newsroom.leader, "/api/v1/publishing/pause", body).json()["channel_id"] == (
        newsroom.stream.id
    )
    # The largest id there can be: in range, so it is looked up and not found.
    unknown = api.post(
        newsroom.leader, "/api/v1/publishing/pause", {"reason": "x", "channel_id": MAX_ID}
    )
    assert unknown.status_code == 404
    resumed = api.post(
        newsroom.leader, "/api/v1/publishing/resume", {"channel_id": newsroom.stream.id}
    )
    assert resumed.status_code == 200


# The browser's way in, and the description -------------------------------------------------


def test_a_browser_session_must_send_the_csrf_header(
    api: Api, db: Session, newsroom: Newsroom
) -> None:
    post = newsroom.draft(db)
    web = auth_service.start_session(
        db, newsroom.author, settings=SETTINGS, ip_address="127.0.0.1", user_agent="tests"
    )
    db.commit()
    client = api.client
    client.cookies.set(SESSION_COOKIE, session_signer(client.app.state.settings).dumps(web.id))
    client.cookies.set("sixfold_csrf", "token-1")
    url = f"/api/v1/posts/{post.id}/submit"

    assert client.post(url).status_code == 403
    assert client.post(url, headers={"X-CSRF-Token": "token-1"}).json()["status"] == "in_review"


def test_the_routes_are_described_in_openapi(api: Api) -> None:
    paths = api.client.get("/openapi.json").json()["paths"]
    ours = {
        (method.upper(), path): operation
        for path, operations in paths.items()
        for method, operation in operations.items()
        if "publishing" in operation.get("tags", [])
    }
    assert ("POST", "/api/v1/posts/{post_id}/approve") in ours
    assert ("GET", "/api/v1/publications") in ours
    assert all(op.get("summary") for op in ours.values())
    reject = ours[("POST", "/api/v1/posts/{post_id}/reject")]
    assert reject["requestBody"]["required"] is True
