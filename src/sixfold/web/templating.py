"""Jinja2 set-up: one environment over every capability's templates folder."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, pass_context, select_autoescape
from jinja2.runtime import Context

from sixfold.auth.permissions import Permission
from sixfold.auth.service import Principal
from sixfold.jobs.runner import error_summary
from sixfold.notifications import service as notification_service
from sixfold.org.clock import format_moment, organisation_zone, zone_labels
from sixfold.org.models import Organisation
from sixfold.web.access import CSRF_FIELD, csrf_token

PACKAGE_DIR = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class NavItem:
    label: str
    href: str
    permissions: tuple[Permission, ...]  # any of them shows the entry; none: everyone
    # Pages under other paths that belong to the entry (it is marked current on them).
    also: tuple[str, ...] = ()

    def shown_to(self, principal: Principal) -> bool:
        grants = principal.grants
        return not self.permissions or any(map(grants.has_anywhere, self.permissions))

    def current(self, path: str) -> bool:
        return any(
            path == prefix or (prefix != "/" and path.startswith(prefix))
            for prefix in (self.href, *self.also)
        )


@dataclass(frozen=True)
class SettingsArea:
    """One entry of the Settings page: set up once, changed rarely, by few people."""

    label: str
    href: str
    permission: Permission
    purpose: str


SETTINGS = (
    SettingsArea(
        "Channels",
        "/channels",
        Permission.MANAGE_SETTINGS,
        "The accounts posts go to: connect networks, queue slots, review for flagship accounts.",
    ),
    SettingsArea(
        "Review workflow",
        "/settings/publishing",
        Permission.MANAGE_SETTINGS,
        "Who approves posts, in which steps, and whether every image needs alt text.",
    ),
    SettingsArea(
        "Guardrails",
        "/settings/risk",
        Permission.MANAGE_GUARDRAILS,
        "The risk check: confidential terms, sensitive events, and what blocks a post.",
    ),
    SettingsArea(
        "Roles",
        "/roles",
        Permission.VIEW_ROLES,
        "What each role may do, and who holds it.",
    ),
    SettingsArea(
        "Import",
        "/imports",
        Permission.IMPORT_ORG_CHART,
        "Bring people, teams and managers in from an HR export.",
    ),
)

# Only areas that work are listed; each capability adds its entry when it lands. Areas set up
# once and seldom changed are grouped on the Settings page, so the bar stays one line.
NAVIGATION = (
    NavItem("Overview", "/", ()),
    NavItem("Stream", "/stream", ()),
    # "New post" lives on the Posts page: one entry for writing and finding posts.
    NavItem("Posts", "/posts", (Permission.DRAFT_POSTS,)),
    NavItem("Review", "/review", (Permission.REVIEW_POSTS,)),
    NavItem("Calendar", "/calendar", (Permission.DRAFT_POSTS,)),
    NavItem("People", "/people", (Permission.VIEW_DIRECTORY,)),
    NavItem("Teams", "/teams", (Permission.VIEW_DIRECTORY,)),
    NavItem("Network", "/network", (Permission.VIEW_NETWORK,)),
    NavItem(
        "Settings",
        "/settings",
        tuple(area.permission for area in SETTINGS),
        also=tuple(area.href for area in SETTINGS),
    ),
    NavItem("Pause", "/publishing/pause", (Permission.PAUSE_PUBLISHING,)),
    NavItem("Audit log", "/audit", (Permission.VIEW_AUDIT,)),
)


def template_dirs() -> list[Path]:
    return sorted(PACKAGE_DIR.glob("*/templates"))


@cache
def make_templates() -> Jinja2Templates:
    """One environment per process: compiled templates are shared by every app instance."""
    env = Environment(
        loader=ChoiceLoader([FileSystemLoader(str(d)) for d in template_dirs()]),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = format_when
    env.filters["plain"] = plain_value
    env.filters["zone_labels"] = labels_this_year
    env.filters["error_summary"] = error_summary
    env.globals["csrf_field_name"] = CSRF_FIELD
    return Jinja2Templates(env=env)


@pass_context
def format_when(context: Context, value: datetime | None) -> str:
    """`{{ moment | when }}`: the moment in the organisation's zone (`render` puts it in every
    page's context), labelled; UTC, labelled, where a template has no zone to hand."""
    zone = context.get("org_zone")
    return format_moment(value, zone if isinstance(zone, ZoneInfo) else ZoneInfo("UTC"))


def labels_this_year(zone: ZoneInfo) -> dict[int, str]:
    """`{{ org_zone | zone_labels | tojson }}`: what a script needs to label times alike."""
    return zone_labels(zone, year=datetime.now(zone).year)


def plain_value(value: object) -> str:
    """A stored value as a person reads it: no Python spellings of nothing, yes or no."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def nav_for(principal: Principal | None) -> list[NavItem]:
    if principal is None:
        return []
    return [item for item in NAVIGATION if item.shown_to(principal)]


def settings_for(principal: Principal) -> list[SettingsArea]:
    return [area for area in SETTINGS if principal.grants.has_anywhere(area.permission)]


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    principal: Principal | None = getattr(request.state, "principal", None)
    templates: Jinja2Templates = request.app.state.templates
    context.update(
        principal=principal,
        me=principal.person if principal else None,
        nav=nav_for(principal),
        current_path=request.url.path,
        csrf_token=csrf_token(request),
        oidc_label=request.app.state.settings.oidc_label,
        **_header_state(request, principal),
        can_resume_pause=principal is not None
        and principal.grants.has_anywhere(Permission.PAUSE_PUBLISHING),
    )
    return templates.TemplateResponse(request, template, context, status_code=status_code)


def _header_state(request: Request, principal: Principal | None) -> dict[str, Any]:
    """What every page needs besides its own context: unread notifications, the crisis-pause
    banner and the organisation's time zone, read in one session of its own (`render` is
    given none)."""
    if principal is None:
        return {"unread_notifications": 0, "active_pauses": [], "org_zone": ZoneInfo("UTC")}
    # Imported here because the pause pages import this module.
    from sixfold.publishing.views_pause import pause_notices

    organisation_id = principal.person.organisation_id
    with request.app.state.session_factory() as session:
        zone = organisation_zone(session.get(Organisation, organisation_id))
        return {
            "unread_notifications": notification_service.unread_count(session, principal.person),
            "active_pauses": pause_notices(session, organisation_id, zone),
            "org_zone": zone,
        }


def query_without_page(request: Request) -> str:
    """The current query string minus `page`, for pager and export links."""
    return urlencode([(k, v) for k, v in request.query_params.multi_items() if k != "page"])
