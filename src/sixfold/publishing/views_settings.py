"""The publishing settings page: the review workflow, the verdicts that force review, alt text.

The form works without JavaScript: every step is a row with a position, a "remove" box and
its reviewers; one blank row adds a step. Rows are sorted by position when saved. A refused
form comes back with its rows as they were typed, so no change is lost to one mistake.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from sixfold.auth.permissions import Permission
from sixfold.auth.service import Principal
from sixfold.errors import DomainError, ValidationFailed
from sixfold.inputs import ascii_int
from sixfold.org import service as org_service
from sixfold.publishing import review, workflow
from sixfold.web.access import DbSession, Require, client_ip, settings_of
from sixfold.web.routing import add_routes
from sixfold.web.templating import render

router = APIRouter(include_in_schema=False)
CanManage = Annotated[Principal, Require(Permission.MANAGE_SETTINGS).as_dependency()]
PAGE = "/settings/publishing"
ROW_FIELD = re.compile(r"step-([0-9]{1,2})-")


@dataclass(frozen=True)
class StepRow:
    """One row of the workflow form, as the page shows it."""

    position: str
    name: str = ""
    mode: str = "any"
    reviewers: str = ""  # "", "role:<role>" or "people", as the select sends it
    people: tuple[str, ...] = ()
    remove: bool = False
    is_new: bool = False


def _stored_rows(steps: list[dict[str, Any]]) -> list[StepRow]:
    """The stored steps, then a blank row to add one while there is room."""
    rows = [
        StepRow(
            position=str(index + 1),
            name=str(step.get("name", "")),
            mode=str(step.get("mode", "any")),
            reviewers=_reviewers_choice(step),
            people=tuple(str(p) for p in step.get("people", [])),
        )
        for index, step in enumerate(steps)
    ]
    if len(rows) < workflow.MAX_STEPS:
        rows.append(StepRow(position=str(len(rows) + 1), is_new=True))
    return rows


def _reviewers_choice(step: dict[str, Any]) -> str:
    """The value of the reviewers select for a stored step."""
    if step.get("people"):
        return "people"
    return f"role:{step['role']}" if step.get("role") else ""


def _typed_rows(form: FormData) -> list[StepRow]:
    """Every row the form sent, as typed (found by its fields, whatever step_count says)."""
    found = {int(m[1]) for key in form if (m := ROW_FIELD.match(key))}
    indices = sorted(i for i in found if i <= workflow.MAX_STEPS)
    return [_typed_row(form, f"step-{i}-") for i in indices]


def _typed_row(form: FormData, prefix: str) -> StepRow:
    return StepRow(
        position=str(form.get(prefix + "position", "")),
        name=str(form.get(prefix + "name", "")),
        mode=str(form.get(prefix + "mode", "any")),
        reviewers=str(form.get(prefix + "reviewers", "")),
        people=tuple(str(p) for p in form.getlist(prefix + "people")),
        remove=bool(form.get(prefix + "remove")),
        is_new=bool(form.get(prefix + "new")),
    )


def _page(
    request: Request,
    db: Session,
    *,
    rows: list[StepRow] | None = None,
    verdicts: list[str] | None = None,
    alt_text_required: bool | None = None,
    status_code: int = 200,
    error: str | None = None,
) -> HTMLResponse:
    organisation = org_service.current_organisation(db)
    stored = review.settings_of(db, organisation.id)
    return render(
        request,
        "publishing/settings.html",
        status_code=status_code,
        rows=_stored_rows(stored.review_steps) if rows is None else rows,
        verdicts=stored.review_verdicts if verdicts is None else verdicts,
        alt_text_required=(
            stored.alt_text_required if alt_text_required is None else alt_text_required
        ),
        all_verdicts=workflow.VERDICTS,
        roles=workflow.REVIEWER_ROLES,
        people=workflow.eligible_reviewers(db, organisation),
        policy=workflow.describe(db, organisation),
        max_steps=workflow.MAX_STEPS,
        saved=request.query_params.get("saved") == "1",
        error=error,
    )


@router.get(PAGE, response_class=HTMLResponse)
def settings_page(request: Request, principal: CanManage, db: DbSession) -> HTMLResponse:
    return _page(request, db)


def _number(raw: str, what: str) -> int:
    number = ascii_int(raw)
    if number is None:
        raise ValidationFailed(f"{what} is not a number: {raw!r}.")
    return number


def _step_from_form(row: StepRow, index: int) -> dict[str, Any] | None:
    """One row of the form as a stored step; None for a removed or unused row."""
    name = row.name.strip()
    if row.remove or (row.is_new and not name):
        return None
    step: dict[str, Any] = {"name": name, "mode": row.mode}
    if row.reviewers.startswith("role:"):
        step["role"] = row.reviewers.removeprefix("role:")
    elif row.reviewers == "people":
        people = [_number(p, "A reviewer") for p in row.people]
        if not people:
            where = name or f"Step {index + 1}"
            raise ValidationFailed(f"{where}: choose at least one person, or choose a role.")
        step["people"] = people
    return step


def steps_from_form(form: FormData) -> list[dict[str, Any]]:
    """The rows in the order of their positions (ties keep the order on the page). The rows
    are read as `_typed_row` reads them for showing a refused form again."""
    count = _number(str(form.get("step_count", "0")), "The number of steps")
    ranked = []
    for index in range(min(max(count, 0), workflow.MAX_STEPS + 1)):
        row = _typed_row(form, f"step-{index}-")
        step = _step_from_form(row, index)
        if step is not None:
            position = row.position.strip()
            ranked.append((_number(position, "A position") if position else index + 1, index, step))
    return [step for _, _, step in sorted(ranked, key=lambda r: (r[0], r[1]))]


@router.post(PAGE)
async def save_settings(request: Request, principal: CanManage, db: DbSession) -> Response:
    form = await request.form()
    verdicts = [str(v) for v in form.getlist("review_verdicts")]
    alt_text_required = bool(form.get("alt_text_required"))
    try:
        workflow.save_settings(
            db,
            org_service.current_organisation(db),
            steps=steps_from_form(form),
            review_verdicts=verdicts,
            alt_text_required=alt_text_required,
            actor=principal.actor(client_ip(request)),
            base_url=settings_of(request).base_url,
        )
    except DomainError as error:
        db.rollback()
        return _page(
            request,
            db,
            rows=_typed_rows(form),
            verdicts=verdicts,
            alt_text_required=alt_text_required,
            status_code=error.status_code,
            error=str(error),
        )
    db.commit()
    return RedirectResponse(f"{PAGE}?saved=1", status_code=303)


def register(app: FastAPI) -> None:
    add_routes(app, router)
