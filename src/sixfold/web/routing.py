"""How capabilities add their routes to the app."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI


def add_routes(app: FastAPI, router: APIRouter) -> None:
    """Add a capability's routes to the app's own, flat route table.

    Recent FastAPI keeps an included router as one nested entry; copying the routes keeps
    `app.routes` a complete list, which the access test walks to prove every route has a
    rule. A router's prefix is already part of each route's path.
    """
    app.router.routes.extend(router.routes)
