"""What the connect-page tests share: the forms a person fills in and reading the answers."""

from __future__ import annotations

import html
import re
from http.cookies import SimpleCookie
from urllib.parse import parse_qs, urlsplit

import httpx
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from sixfold.audit import AuditEntry
from sixfold.channels.models import Channel
from sixfold.channels.views_connect import FLOW_COOKIE
from tests.publishing.pages import Pages

SECRET = "abcd-efgh-ijkl-mnop"
CLIENT_SECRET = "client-secret-7f3a9c"
CALLBACK = "/channels/connect/fakeoauth/callback"


def actions(db: Session, action: str) -> list[AuditEntry]:
    return list(db.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def channels(db: Session) -> list[Channel]:
    db.expire_all()
    return list(db.scalars(select(Channel).order_by(Channel.id)))


def form_fields(**fields: str) -> dict[str, str]:
    return {
        "field_server": "https://fakesky.test",
        "field_identifier": "comms.fakesky.test",
        "field_app_password": SECRET,
        "name": "Fakesky main",
        "timezone": "Europe/London",
        "queue_slots": "mon 09:00",
        "requires_review": "true",
        **fields,
    }


def oauth_fields(**fields: str) -> dict[str, str]:
    return {
        "field_client_id": "sixfold-app",
        "field_client_secret": CLIENT_SECRET,
        "name": "Fakedon",
        "timezone": "UTC",
        **fields,
    }


def sealed_column(db: Session, channel_id: int) -> str:
    return str(
        db.execute(text(f"SELECT credentials FROM channels WHERE id = {channel_id}")).one()[0]
    )


def network_link(page: httpx.Response) -> str:
    """The address the "Continue to the network" page follows at once."""
    assert page.status_code == 200, page.text
    found = re.search(r'<a class="button wide" href="([^"]+)" data-follow-now', page.text)
    assert found is not None, page.text
    return html.unescape(found.group(1))


def state_of(page: httpx.Response) -> str:
    return parse_qs(urlsplit(network_link(page)).query)["state"][0]


def start_oauth(pages: Pages, url: str = "/channels/connect/fakeoauth", **fields: str) -> str:
    """Start a flow; return the state the network was given."""
    return state_of(pages.post(url, oauth_fields(**fields)))


def cookie_deleted(response: httpx.Response) -> bool:
    jar: SimpleCookie = SimpleCookie()
    for header in response.headers.get_list("set-cookie"):
        jar.load(header)
    return FLOW_COOKIE in jar and jar[FLOW_COOKIE]["max-age"] == "0"
