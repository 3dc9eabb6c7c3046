"""The notifications page: what happened to your posts and what waits for you."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from sixfold.errors import NotFound
from sixfold.inputs import Id
from sixfold.notifications import service
from sixfold.web.access import DbSession, SignedIn
from sixfold.web.routing import add_routes
from sixfold.web.templating import render

router = APIRouter()
SHOWN = 100


@router.get("/notifications", response_class=HTMLResponse, include_in_schema=False)
def notifications_page(request: Request, principal: SignedIn, db: DbSession) -> HTMLResponse:
    items = service.recent(db, principal.person, limit=SHOWN)
    return render(
        request,
        "notifications/list.html",
        items=items,
        unread=sum(1 for n in items if n.read_at is None),
    )


@router.post("/notifications/read", include_in_schema=False)
def mark_all_read(principal: SignedIn, db: DbSession) -> RedirectResponse:
    service.mark_all_read(db, principal.person)
    db.commit()
    return RedirectResponse("/notifications", status_code=303)


@router.get("/notifications/{notification_id}", include_in_schema=False)
def open_notification(notification_id: Id, principal: SignedIn, db: DbSession) -> RedirectResponse:
    """Follow a notification's link, marking it read on the way."""
    notification = service.get_own(db, principal.person, notification_id)
    if notification is None:
        raise NotFound("No such notification.")
    service.mark_read(db, notification)
    db.commit()
    return RedirectResponse(service.destination(notification), status_code=303)


def register(app: FastAPI) -> None:
    add_routes(app, router)
