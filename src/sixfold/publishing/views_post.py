"""The post page and what people do on it: submit, review, override, withdraw, retry.

Every action answers with a redirect back to the page and a short message (`?done=`), or,
when the service refuses, with the page itself showing why, and with what the person typed
(a comment, a reason) still in its field.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from sixfold.auth.permissions import Permission
from sixfold.auth.service import Principal
from sixfold.errors import Conflict, DomainError
from sixfold.inputs import Id, ascii_int
from sixfold.publishing import access, drafts, editing, highlight, review, schedule
from sixfold.publishing.models import Post, PostStatus, PostVersion
from sixfold.web.access import DbSession, Require, client_ip, settings_of
from sixfold.web.templating import render

router = APIRouter()
CanDraft = Annotated[Principal, Require(Permission.DRAFT_POSTS).as_dependency()]
CanReview = Annotated[Principal, Require(Permission.REVIEW_POSTS).as_dependency()]
CanOverride = Annotated[Principal, Require(Permission.OVERRIDE_BLOCK).as_dependency()]
Text = Annotated[str, Form(max_length=review.COMMENT_MAX_CHARS)]

DONE = {
    "saved": "Saved.",
    "submitted": "Submitted: the reviewers have been asked.",
    "scheduled": "Scheduled: it goes out at its time.",
    "approved": "Approved.",
    "rejected": "Sent back to the author with your comment.",
    "edited": "Your edit is saved; review starts again from the first step.",
    "overridden": "The block is overridden for this version; it can be submitted for review.",
    "unscheduled": "Back to draft: nothing of it goes out until it is submitted again.",
    "cancelled": "Cancelled.",
    "retried": "Publishing again.",
}
WITHDRAWABLE = frozenset({PostStatus.IN_REVIEW, PostStatus.CHANGES_REQUESTED, PostStatus.SCHEDULED})
CANCELLABLE = WITHDRAWABLE | {PostStatus.DRAFT}


def post_page(
    request: Request,
    db: Session,
    principal: Principal,
    post: Post,
    *,
    status_code: int = 200,
    error: str | None = None,
    typed: dict[str, str] | None = None,
) -> HTMLResponse:
    organisation = editing.organisation_of(db, principal)
    publications = schedule.publications_of(db, post)
    names = editing.channel_names(
        db, {*(t.channel_id for t in post.targets), *(p.channel_id for p in publications)}
    )
    texts = editing.checked_texts(db, post, names)
    step = review.current_step(db, post) if post.status == PostStatus.IN_REVIEW else None
    versions = drafts.versions(db, post)
    return render(
        request,
        "publishing/post.html",
        status_code=status_code,
        post=post,
        texts=texts,
        marked=[
            highlight.segments(t.text, [f.to_dict() for f in t.verdict.findings]) for t in texts
        ],
        names=names,
        publications=publications,
        step=step,
        steps=review.steps_for(db, organisation.id),
        reviewers=review.reviewers_for(db, post, step) if step else [],
        approvals=review.approvals(db, post),
        history=review.history(db, post),
        need=review.review_need(db, post),
        versions=versions,
        shown_version=_shown_version(request, versions),
        can=_abilities(db, principal, post),
        missing_alt=drafts.missing_alt_text(post),
        problems=editing.problems(db, post),
        done=_done_message(request, post, principal),
        error=error,
        typed=typed or {},
    )


def _shown_version(request: Request, versions: list[PostVersion]) -> PostVersion | None:
    wanted = request.query_params.get("version", "")
    return next((v for v in versions if str(v.number) == wanted), None)


def _done_message(request: Request, post: Post, principal: Principal) -> str | None:
    done = request.query_params.get("done", "")
    if done == "locked":
        return access.not_editable_reason(post, principal)
    return DONE.get(done)


def _abilities(db: Session, principal: Principal, post: Post) -> dict[str, bool]:
    is_author = post.author_id == principal.person.id
    withdraw = access.may_withdraw(db, principal, post)
    return {
        "edit": access.edit_mode(db, principal, post) is not None,
        "submit": is_author and post.status in access.AUTHOR_EDITABLE,
        "review": access.reviewing_step(db, principal, post) is not None,
        "override": post.risk_verdict == "block"
        and post.override_version != post.version
        and post.status in access.AUTHOR_EDITABLE
        and access.may_override(db, principal, post),
        "unschedule": withdraw and post.status in WITHDRAWABLE,
        "cancel": withdraw and post.status in CANCELLABLE,
        "retry": withdraw,
    }


@router.get("/posts/{post_id}", response_class=HTMLResponse, include_in_schema=False)
def show_post(request: Request, post_id: Id, principal: CanDraft, db: DbSession) -> HTMLResponse:
    return post_page(request, db, principal, access.visible_post(db, principal, post_id))


def _act(
    request: Request,
    db: Session,
    principal: Principal,
    post: Post,
    action: Callable[[], str],
    typed: dict[str, str] | None = None,
) -> Response:
    """Run a service call; commit and go back to the page, or show the page with the error."""
    try:
        done = action()
        db.commit()
    except DomainError as error:
        db.rollback()
        return post_page(
            request,
            db,
            principal,
            post,
            status_code=error.status_code,
            error=str(error),
            typed=typed,
        )
    return RedirectResponse(f"/posts/{post.id}?done={done}", status_code=303)


def _read_version(version: str) -> int | None:
    """The version the reviewer's page showed (the review service refuses a newer one)."""
    return ascii_int(version)


@router.post("/posts/{post_id}/submit", include_in_schema=False)
def submit_post(request: Request, post_id: Id, principal: CanDraft, db: DbSession) -> Response:
    post = access.visible_post(db, principal, post_id)
    access.require(post.author_id == principal.person.id)

    def submit() -> str:
        status = review.submit(
            db,
            post,
            actor=principal.actor(client_ip(request)),
            base_url=settings_of(request).base_url,
        )
        return "submitted" if status == PostStatus.IN_REVIEW else "scheduled"

    return _act(request, db, principal, post, submit)


@router.post("/posts/{post_id}/approve", include_in_schema=False)
def approve_post(
    request: Request,
    post_id: Id,
    principal: CanReview,
    db: DbSession,
    comment: Text = "",
    version: Annotated[str, Form()] = "",
) -> Response:
    return _review(request, db, principal, post_id, (comment, version), review.approve, "approve")


@router.post("/posts/{post_id}/reject", include_in_schema=False)
def reject_post(
    request: Request,
    post_id: Id,
    principal: CanReview,
    db: DbSession,
    comment: Text = "",
    version: Annotated[str, Form()] = "",
) -> Response:
    return _review(request, db, principal, post_id, (comment, version), review.reject, "reject")


_DECIDED = {"approve": "approved", "reject": "rejected"}


def _review(
    request: Request,
    db: Session,
    principal: Principal,
    post_id: int,
    form: tuple[str, str],
    decide: Callable[..., object],
    verb: str,
) -> Response:
    """A reviewer's approval or rejection (``verb``: "approve" or "reject"): the same checks,
    form fields (comment, version) and outcome page for both."""
    comment, version = form
    post = access.visible_post(db, principal, post_id)

    def act() -> str:
        decide(
            db,
            post,
            principal.person,
            comment=comment,
            actor=principal.actor(client_ip(request)),
            base_url=settings_of(request).base_url,
            version=_read_version(version),
        )
        return _DECIDED[verb]

    return _act(request, db, principal, post, act, {f"{verb}_comment": comment})


@router.post("/posts/{post_id}/override", include_in_schema=False)
def override_post(
    request: Request,
    post_id: Id,
    principal: CanOverride,
    db: DbSession,
    reason: Text = "",
    version: Annotated[str, Form()] = "",
) -> Response:
    post = access.visible_post(db, principal, post_id)
    access.require(access.may_override(db, principal, post))

    def override() -> str:
        review.override_block(
            db,
            post,
            principal.person,
            reason=reason,
            actor=principal.actor(client_ip(request)),
            version=_read_version(version),
        )
        return "overridden"

    return _act(request, db, principal, post, override, {"override_reason": reason})


@router.post("/posts/{post_id}/unschedule", include_in_schema=False)
def unschedule_post(request: Request, post_id: Id, principal: CanDraft, db: DbSession) -> Response:
    return _withdraw(request, post_id, principal, db, PostStatus.DRAFT)


@router.post("/posts/{post_id}/cancel", include_in_schema=False)
def cancel_post(request: Request, post_id: Id, principal: CanDraft, db: DbSession) -> Response:
    return _withdraw(request, post_id, principal, db, PostStatus.CANCELLED)


def _withdraw(
    request: Request, post_id: int, principal: Principal, db: Session, to: PostStatus
) -> Response:
    post = access.visible_post(db, principal, post_id)
    access.require(access.may_withdraw(db, principal, post))

    def withdraw() -> str:
        allowed = WITHDRAWABLE if to == PostStatus.DRAFT else CANCELLABLE
        if post.status not in allowed:
            wanted = "go back to draft" if to == PostStatus.DRAFT else "be cancelled"
            raise Conflict(f"This post is {post.status.replace('_', ' ')}; it cannot {wanted}.")
        schedule.withdraw(db, post, actor=principal.actor(client_ip(request)), to=to)
        return "unscheduled" if to == PostStatus.DRAFT else "cancelled"

    return _act(request, db, principal, post, withdraw)


@router.post("/publications/{publication_id}/retry", include_in_schema=False)
def retry_publication(
    request: Request, publication_id: Id, principal: CanDraft, db: DbSession
) -> Response:
    row = access.visible_publication(db, principal, publication_id)
    post = row.post
    access.require(access.may_withdraw(db, principal, post))

    def retry() -> str:
        if row.state != "failed":
            raise Conflict(f"This publication is {row.state}; only a failed one is retried.")
        schedule.publish_now(db, row, actor=principal.actor(client_ip(request)))
        return "retried"

    return _act(request, db, principal, post, retry)
