"""The post page and its actions, the review queue and the internal stream, over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from sixfold.auth.permissions import Role
from sixfold.jobs import Runner
from sixfold.notifications.models import Notification
from sixfold.publishing import drafts, review
from sixfold.publishing.models import Post, PostStatus
from sixfold.publishing.publisher import Publication
from tests import factories
from tests.publishing.conftest import Newsroom
from tests.publishing.web_support import Site, make_site


@pytest.fixture
def site(
    db: Session, session_factory: sessionmaker[Session], newsroom: Newsroom, tmp_path: Path
) -> Iterator[Site]:
    yield from make_site(db, session_factory, newsroom, tmp_path)


def _post(site: Site, text: str = "Our new trail guide is out today.") -> Post:
    post = site.room.draft(site.db, text)
    site.db.commit()
    return post


def _submitted(site: Site, text: str = "Our new trail guide is out today.") -> Post:
    post = _post(site, text)
    review.submit(site.db, post, actor=factories.ACTOR)
    site.db.commit()
    return post


def _fresh(site: Site, post: Post) -> Post:
    site.db.expire_all()
    found = site.db.get(Post, post.id)
    assert found is not None
    return found


# The page ----------------------------------------------------------------------------------------


def test_post_page_shows_text_findings_review_and_versions(site: Site) -> None:
    post = _post(site, "Mail jo.private@example.org <script>alert(1)</script>")
    site.as_(site.room.author)
    page = site.client.get(f"/posts/{post.id}")
    assert page.status_code == 200
    assert '<mark class="finding severity-review"' in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "<script>alert" not in page.text
    assert f"{site.room.author.name} is not yet cleared to publish without review." in page.text
    assert f'action="/posts/{post.id}/submit"' in page.text
    assert "/approve" not in page.text  # the author never sees a way to approve
    assert "Versions" in page.text


def test_an_old_version_can_be_read(site: Site) -> None:
    post = _post(site, "The first words")
    data = drafts.DraftInput(text="The second words", channel_ids=[site.room.stream.id])
    drafts.save_draft(site.db, post, site.room.author, data, base_version=1)
    site.db.commit()
    site.as_(site.room.author)
    page = site.client.get(f"/posts/{post.id}?version=1").text
    assert "Version 1</h3>" in page
    assert "The first words" in page
    assert "The second words" in page


def test_people_who_may_not_see_a_post_get_404(site: Site) -> None:
    post = _post(site)
    site.as_(site.person(Role.CONTRIBUTOR))
    assert site.client.get(f"/posts/{post.id}").status_code == 404
    assert site.form(f"/posts/{post.id}/submit").status_code == 404
    assert site.form(f"/posts/{post.id}/cancel").status_code == 404


# Submit, review ---------------------------------------------------------------------------------


def test_submit_asks_the_reviewers(site: Site) -> None:
    post = _post(site)
    site.as_(site.room.author)
    response = site.form(f"/posts/{post.id}/submit")
    assert response.status_code == 303
    assert response.headers["location"] == f"/posts/{post.id}?done=submitted"
    assert "the reviewers have been asked" in site.client.get(response.headers["location"]).text
    assert _fresh(site, post).status == PostStatus.IN_REVIEW
    told = site.db.scalars(
        select(Notification.person_id).where(Notification.kind == "review_requested")
    ).all()
    assert site.room.mentor.id in told


def test_a_refused_submit_shows_why_and_keeps_the_draft(site: Site) -> None:
    post = _post(site, "Our password: hunter2hunter2")
    site.as_(site.room.author)
    response = site.form(f"/posts/{post.id}/submit")
    assert response.status_code == 403
    assert "The risk check blocks this post" in response.text
    assert _fresh(site, post).status == PostStatus.DRAFT


def test_reviewer_approves_and_the_post_is_scheduled(site: Site) -> None:
    post = _submitted(site)
    site.as_(site.room.mentor)
    page = site.client.get(f"/posts/{post.id}").text
    assert "Approve version 1" in page
    assert site.room.mentor.name in page  # among those who may approve
    response = site.form(f"/posts/{post.id}/approve", {"comment": "Lovely", "version": "1"})
    assert response.status_code == 303
    assert _fresh(site, post).status == PostStatus.SCHEDULED
    page = site.client.get(f"/posts/{post.id}").text
    assert "Lovely" in page
    assert "pending" in page


def test_a_request_someone_else_decided_opens_on_a_page_that_says_so(site: Site) -> None:
    post = _submitted(site)
    asked = site.db.scalars(
        select(Notification).where(
            Notification.kind == "review_requested", Notification.person_id == site.room.mentor.id
        )
    ).one()
    site.as_(site.room.leader)
    site.form(f"/posts/{post.id}/approve", {"version": "1"})

    site.as_(site.room.mentor)
    opened = site.client.get(f"/notifications/{asked.id}", follow_redirects=False)
    assert opened.headers["location"] == f"/posts/{post.id}?settled=1"
    page = site.client.get(opened.headers["location"]).text
    assert "that is settled: it was approved and is scheduled." in page
    assert "Approve version" not in page
    # The page says nothing of the kind to whoever comes without a settled request.
    assert "that is settled" not in site.client.get(f"/posts/{post.id}").text


def test_the_author_cannot_approve_their_own_post(site: Site) -> None:
    leader = site.room.leader
    post = drafts.create_draft(
        site.db,
        site.room.org,
        leader,
        drafts.DraftInput(text="From the top", channel_ids=[site.room.stream.id]),
        actor=factories.ACTOR,
    )
    review.submit(site.db, post, actor=factories.ACTOR)
    site.db.commit()
    site.as_(leader)
    assert "Approve version" not in site.client.get(f"/posts/{post.id}").text
    response = site.form(f"/posts/{post.id}/approve", {"version": "1"})
    assert response.status_code == 403
    assert "Authors never review their own posts." in response.text
    assert _fresh(site, post).status == PostStatus.IN_REVIEW


def test_a_decision_on_a_version_that_changed_is_refused(site: Site) -> None:
    post = _submitted(site)
    site.as_(site.room.mentor)
    response = site.form(f"/posts/{post.id}/approve", {"version": "0", "comment": "ok"})
    assert response.status_code == 409
    assert "changed while you were reading it" in response.text
    assert _fresh(site, post).status == PostStatus.IN_REVIEW


@pytest.mark.parametrize("version", ["²", "9" * 5000])
def test_a_version_that_is_no_number_is_read_as_none_given(site: Site, version: str) -> None:
    post = _submitted(site)
    site.as_(site.room.mentor)
    response = site.form(f"/posts/{post.id}/approve", {"comment": "ok", "version": version})
    assert response.status_code == 303
    assert _fresh(site, post).status == PostStatus.SCHEDULED


def test_reject_needs_a_comment_and_keeps_what_was_typed(site: Site) -> None:
    post = _submitted(site)
    site.as_(site.room.mentor)
    empty = site.form(f"/posts/{post.id}/reject", {"comment": "  ", "version": "1"})
    assert empty.status_code == 422
    assert "Write a comment" in empty.text
    response = site.form(f"/posts/{post.id}/reject", {"comment": "Name the lake", "version": "1"})
    assert response.status_code == 303
    assert _fresh(site, post).status == PostStatus.CHANGES_REQUESTED
    site.as_(site.room.author)
    page = site.client.get(f"/posts/{post.id}").text
    assert "Name the lake" in page
    assert f"/posts/{post.id}/edit" in page


def test_a_leader_overrides_a_block_with_a_written_reason(site: Site) -> None:
    post = _post(site, "Reset your password: hunter2hunter2 (a joke about bad passwords)")
    assert post.risk_verdict == "block"
    site.as_(site.room.leader)
    page = site.client.get(f"/posts/{post.id}").text
    assert "Override the block" in page
    refused = site.form(f"/posts/{post.id}/override", {"reason": "", "version": "1"})
    assert refused.status_code == 422
    done = site.form(
        f"/posts/{post.id}/override", {"reason": "A known joke password.", "version": "1"}
    )
    assert done.status_code == 303
    fresh = _fresh(site, post)
    assert (fresh.override_reason, fresh.override_version) == ("A known joke password.", 1)
    site.as_(site.room.author)
    assert site.form(f"/posts/{post.id}/submit").status_code == 303
    assert _fresh(site, post).status == PostStatus.IN_REVIEW


def test_a_mentor_may_not_override(site: Site) -> None:
    post = _post(site, "password: hunter2hunter2")
    site.as_(site.room.mentor)
    assert "Override the block" not in site.client.get(f"/posts/{post.id}").text
    assert site.form(f"/posts/{post.id}/override", {"reason": "x"}).status_code == 403


# Withdraw, retry --------------------------------------------------------------------------------


def test_the_author_moves_a_scheduled_post_back_to_draft_and_cancels_it(site: Site) -> None:
    post = _submitted(site)
    review.approve(site.db, post, site.room.mentor, actor=factories.ACTOR)
    site.db.commit()
    site.as_(site.room.mentor)  # a reviewer who does not publish may not withdraw it
    assert site.form(f"/posts/{post.id}/unschedule").status_code == 404
    site.as_(site.room.author)
    assert site.form(f"/posts/{post.id}/unschedule").status_code == 303
    assert _fresh(site, post).status == PostStatus.DRAFT
    states = site.db.scalars(select(Publication.state).where(Publication.post_id == post.id))
    assert list(states) == ["cancelled"]
    again = site.form(f"/posts/{post.id}/unschedule")
    assert again.status_code == 409
    assert "cannot go back to draft" in again.text
    assert site.form(f"/posts/{post.id}/cancel").status_code == 303
    assert _fresh(site, post).status == PostStatus.CANCELLED


def test_a_post_moved_back_to_draft_and_submitted_again_is_in_the_review_queue(
    site: Site,
) -> None:
    post = _submitted(site, "Back to the reviewers")
    review.approve(site.db, post, site.room.mentor, actor=factories.ACTOR)
    site.db.commit()
    site.as_(site.room.author)
    assert site.form(f"/posts/{post.id}/unschedule").status_code == 303
    assert site.form(f"/posts/{post.id}/submit").status_code == 303
    assert _fresh(site, post).status == PostStatus.IN_REVIEW
    site.as_(site.room.mentor)
    assert f'href="/posts/{post.id}"' in site.client.get("/review").text
    response = site.form(f"/posts/{post.id}/approve", {"version": str(post.version)})
    assert response.status_code == 303
    assert _fresh(site, post).status == PostStatus.SCHEDULED


def test_a_failed_publication_shows_the_network_message_and_is_retried(site: Site) -> None:
    post = _submitted(site)
    review.approve(site.db, post, site.room.mentor, actor=factories.ACTOR)
    row = site.db.scalars(select(Publication).where(Publication.post_id == post.id)).one()
    row.transition_to("failed")
    row.error_message = "Status is over 500 characters <said the network>"
    site.db.commit()
    site.as_(site.room.author)
    page = site.client.get(f"/posts/{post.id}").text
    assert "Status is over 500 characters &lt;said the network&gt;" in page
    assert f"/publications/{row.id}/retry" in page
    site.as_(site.room.mentor)
    assert site.form(f"/publications/{row.id}/retry").status_code == 404
    site.as_(site.room.author)
    assert site.form(f"/publications/{row.id}/retry").status_code == 303
    site.db.expire_all()
    assert site.db.get(Publication, row.id).state == "pending"
    again = site.form(f"/publications/{row.id}/retry")
    assert again.status_code == 409


# Review queue, stream ------------------------------------------------------------------------


def test_review_queue_lists_what_the_reviewer_may_decide(site: Site) -> None:
    post = _submitted(site, "Queue me up please")
    site.as_(site.room.mentor)
    page = site.client.get("/review").text
    assert "Queue me up please" in page
    assert 'class="verdict verdict-ok"' in page
    assert f'href="/posts/{post.id}"' in page
    site.as_(site.room.author)
    assert site.client.get("/review").status_code == 403


def test_published_posts_appear_on_the_stream_for_every_member(site: Site, runner: Runner) -> None:
    post = _post(site, "Welcome <b>everyone</b> to the stream")
    image = drafts.attach_media(
        site.db,
        post,
        site.room.author,
        filename="dot.png",
        content=factories.PNG_1PX,
        alt_text='A "tiny" dot',
    )
    review.submit(site.db, post, actor=factories.ACTOR)
    review.approve(site.db, post, site.room.mentor, actor=factories.ACTOR)
    site.db.commit()
    assert runner.run_single_cycle() == 1
    draft = _post(site, "Not published yet")
    hidden = drafts.attach_media(
        site.db, draft, site.room.author, filename="d.png", content=factories.PNG_1PX
    )
    site.db.commit()

    site.as_(site.person(name="Plain Member"))  # no role at all
    page = site.client.get("/stream")
    assert page.status_code == 200
    assert "Welcome &lt;b&gt;everyone&lt;/b&gt; to the stream" in page.text
    assert 'id="post-' in page.text
    assert f'src="/media/{image.id}" alt="A &#34;tiny&#34; dot"' in page.text
    assert site.room.author.name in page.text
    assert "Not published yet" not in page.text
    assert site.client.get(f"/media/{image.id}").status_code == 200
    assert site.client.get(f"/media/{hidden.id}").status_code == 404


def test_posts_list_filters_by_status(site: Site) -> None:
    _post(site, "A quiet draft")
    _submitted(site, "Waiting for review")
    site.as_(site.room.author)
    everything = site.client.get("/posts").text
    assert "A quiet draft" in everything
    assert "Waiting for review" in everything
    drafts_only = site.client.get("/posts?status=draft").text
    assert "A quiet draft" in drafts_only
    assert "Waiting for review" not in drafts_only
    site.as_(site.room.mentor)
    assert "A quiet draft" not in site.client.get("/posts").text
    assert "A quiet draft" in site.client.get("/posts?scope=all").text


@pytest.mark.parametrize(
    "action", ["submit", "approve", "reject", "override", "unschedule", "cancel"]
)
def test_every_action_needs_the_csrf_token(site: Site, action: str) -> None:
    post = _post(site)
    site.as_(site.room.leader)
    response = site.client.post(f"/posts/{post.id}/{action}", data={"comment": "x"})
    assert response.status_code == 403
    assert "The form has expired" in response.text
    assert _fresh(site, post).status == PostStatus.DRAFT


def test_an_image_description_is_checked_with_the_text_and_named_on_the_post_page(
    site: Site,
) -> None:
    post = _post(site, "Our new autumn collection is in the shops today.")
    drafts.attach_media(
        site.db,
        post,
        site.room.author,
        filename="ad.png",
        content=factories.PNG_1PX,
        alt_text="A model in the new coat giving the finger, captioned 'fuck off, winter'",
    )
    verdict = drafts.refresh_verdict(site.db, post)
    site.db.commit()
    found = [f for f in verdict.findings if f.location.value == "alt_text"]
    assert found, "the image description was not read"
    assert verdict.verdict.value != "ok"
    site.as_(site.room.author)
    page = site.client.get(f"/posts/{post.id}").text
    assert "in the description of image 1:" in page
    # The text itself is not highlighted for what the description says.
    assert '<mark class="finding' not in page.split("Our new autumn collection")[1][:40]
