"""A Mastodon server for the tests: real HTTP on 127.0.0.1, answering with the recorded
payload shapes in payloads/mastodon/, so Mastodon.py does its real requests and parsing.

It keeps the state the connector relies on and behaves as Mastodon does there:
- POST /api/v1/statuses honours `Idempotency-Key` per account for an hour, checked before
  validation and stored only once a status was made (post_status_service.rb);
- timelines page newest first with `limit` (at most 40), `max_id`/`since_id`/`min_id` and
  Link headers, a "next" link only after a full page (as Mastodon's controllers do);
- POST /api/v2/media answers 202 while processing and GET /api/v1/media/:id 206 until done;
- its instance information and the length it enforces from a recorded payload (`instances`;
  None answers 404, as a server without that version does);
- OAuth: /api/v1/apps, /oauth/token for codes that `approve` hands out as the server's
  authorisation page would, tokens that can be revoked or lack the write scope;
- errors from errors.json (or nginx's HTML pages) on request with `fail_next`,
  `rate_limit_next`, and answers that come late with `slow_next`.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from sixfold.channels.base import Connection, ConnectorContext
from sixfold.channels.connectors.mastodon import MastodonConnector
from tests.channels.conformance import ConformanceEnv, context_factory
from tests.channels.mastodon_payloads import (
    DOMAIN,
    PAYLOADS,
    error_payload,
    payload,
    render,
    timestamp,
)

IDEMPOTENCY_SECONDS = 3600
ROUTES = (
    ("GET", r"/\.well-known/oauth-authorization-server", "oauth_metadata"),
    ("POST", r"/api/v1/apps", "create_app"),
    ("POST", r"/oauth/token", "token"),
    ("GET", r"/api/v1/instance/?", "instance_v1"),
    ("GET", r"/api/v2/instance/?", "instance_v2"),
    ("GET", r"/api/v1/accounts/verify_credentials", "verify_credentials"),
    ("GET", r"/api/v1/accounts/(?P<account_id>\d+)/statuses", "account_statuses"),
    ("POST", r"/api/v1/statuses", "post_status"),
    ("GET", r"/api/v1/statuses/(?P<status_id>\d+)", "get_status"),
    ("DELETE", r"/api/v1/statuses/(?P<status_id>\d+)", "delete_status"),
    ("POST", r"/api/v[12]/media", "upload"),
    ("GET", r"/api/v1/media/(?P<media_id>\d+)", "get_media"),
    ("GET", r"/api/v1/notifications", "notifications"),
)
PUBLIC = frozenset({"oauth_metadata", "create_app", "token", "instance_v1", "instance_v2"})
WRITING = frozenset({"post_status", "delete_status", "upload"})


@dataclass
class Scripted:
    """What the next matching request gets instead of (or before) the normal answer."""

    method: str
    path: str
    status: int = 0  # 0: answer normally, after `delay`
    body: str = ""
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


class FakeMastodon:
    def __init__(self) -> None:
        self.http = HTTPServer(host="127.0.0.1", threaded=True)
        self.lock = threading.RLock()
        self.clock: Callable[[], float] = time.time
        self.statuses: list[dict[str, Any]] = []  # the account's, newest first
        self.sources: dict[str, str] = {}
        self.keys: dict[str, tuple[str, float]] = {}
        self.media: dict[str, dict[str, Any]] = {}
        self.uploads: list[dict[str, Any]] = []
        self.processing_polls = 0  # how often GET /api/v1/media/:id answers 206 first
        self.pending_polls: dict[str, int] = {}
        self.notifications: list[dict[str, Any]] = []
        self.apps: dict[str, dict[str, Any]] = {}
        self.codes: dict[str, dict[str, str]] = {}
        self.tokens: dict[str, str] = {}  # token → granted scopes
        self.revoked: set[str] = set()
        self.scripted: list[Scripted] = []
        self.instances: dict[str, str | None] = {"v1": "instance_v1.json", "v2": "instance_v2.json"}
        self.seen: list[tuple[str, str, dict[str, str]]] = []
        self._used_ids: set[int] = set()

    @property
    def base(self) -> str:
        return self.http.url_for("/").rstrip("/")

    @property
    def account(self) -> dict[str, Any]:
        account: dict[str, Any] = payload("account.json", self.base)
        account["statuses_count"] = len(self.statuses)
        return account

    def context(self, channel_id: int = 1, *, scopes: str = "read write") -> ConnectorContext:
        settings = {"server": self.base, "account_id": self.account["id"], "domain": DOMAIN}
        credentials = {"client_id": "cid", "client_secret": "secret"}
        return ConnectorContext(
            channel_id, settings, {**credentials, "access_token": self.issue_token(scopes)}
        )

    # Scripting -------------------------------------------------------------------------

    def issue_token(self, scopes: str = "read write") -> str:
        token = secrets.token_urlsafe(32)
        self.tokens[token] = scopes
        return token

    def fail_next(self, method: str, path: str, error: str) -> None:
        status, body = error_payload(error)
        self.scripted.append(Scripted(method, path, status, json.dumps(body)))

    def fail_next_html(self, method: str, path: str, status: int, page: str) -> None:
        body = (PAYLOADS / page).read_text()
        self.scripted.append(Scripted(method, path, status, body, "text/html"))

    def rate_limit_next(self, method: str, path: str, *, reset_in: float) -> None:
        # Mastodon's throttled_responder: the reset as an ISO timestamp, microseconds.
        reset = datetime.fromtimestamp(time.time() + reset_in, UTC)
        headers = {
            "X-RateLimit-Limit": "300",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": reset.isoformat(timespec="microseconds")[:-6] + "Z",
        }
        status, body = error_payload("rate_limited")
        self.scripted.append(Scripted(method, path, status, json.dumps(body), headers=headers))

    def odd_headers_next(self, method: str, path: str, headers: dict[str, str]) -> None:
        """The next matching request is answered normally, with these headers added."""
        self.scripted.append(Scripted(method, path, headers=headers))

    def slow_next(self, method: str, path: str, seconds: float) -> None:
        self.scripted.append(Scripted(method, path, delay=seconds))

    def approve(self, authorize_url: str) -> str:
        """What the person does on the server's page: sign in and approve; gives the code."""
        query = {k: v[0] for k, v in parse_qs(urlsplit(authorize_url).query).items()}
        app = self.apps[query["client_id"]]
        assert query["response_type"] == "code"
        assert query["redirect_uri"] in app["redirect_uris"]
        assert set(query["scope"].split()) <= set(app["scopes"])
        code = secrets.token_urlsafe(16)
        self.codes[code] = {**query, "client_secret": app["client_secret"]}
        return code

    def connect(self, redirect_uri: str = "https://sixfold.example/callback") -> Connection:
        """The connect flow as the connect pages drive it, the person approving on the way."""
        authorization = MastodonConnector.authorize({"server": self.base}, redirect_uri, "s")
        code = self.approve(authorization.url)
        return MastodonConnector.complete({}, authorization.pending, redirect_uri, code)

    def add_status(self, text: str, *, at: float, reblog: bool = False) -> dict[str, Any]:
        with self.lock:
            status = self._status(text, at=at)
            if reblog:
                status["reblog"] = payload("notification_mention.json")["status"]
            self.statuses.insert(0, status)
            self.statuses.sort(key=lambda s: int(s["id"]), reverse=True)
            return status

    def add_notification(self, text: str, *, at: float, kind: str = "mention") -> dict[str, Any]:
        with self.lock:
            notification: dict[str, Any] = payload("notification_mention.json", self.base)
            notification["type"] = kind
            status = notification["status"]
            status["content"], status["mentions"], status["tags"] = render(text, self.base)
            status["id"], status["created_at"] = str(self._next_id(at)), timestamp(at)
            notification["id"], notification["created_at"] = str(self._next_id(at)), timestamp(at)
            self.notifications.insert(0, notification)
            self.notifications.sort(key=lambda n: int(n["id"]), reverse=True)
            return notification

    # Serving ---------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        self.seen.append((request.method, request.path, dict(request.headers)))
        script = self._script_for(request)
        if script is not None:
            time.sleep(script.delay)  # the work still happens: only the answer is late
            if script.status:
                return Response(
                    script.body, script.status, script.headers, None, script.content_type
                )
        for method, pattern, name in ROUTES:
            match = re.fullmatch(pattern, request.path)
            if match and method == request.method:
                refusal = self._refusal(request, name)
                if refusal is not None:
                    return refusal
                with self.lock:
                    response: Response = getattr(self, f"_{name}")(request, **match.groupdict())
                if script is not None:
                    response.headers.update(script.headers)
                return response
        return self._error("not_found")

    def _script_for(self, request: Request) -> Scripted | None:
        with self.lock:
            for script in self.scripted:
                if script.method == request.method and re.fullmatch(script.path, request.path):
                    self.scripted.remove(script)
                    return script
        return None

    def _refusal(self, request: Request, name: str) -> Response | None:
        if name in PUBLIC:
            return None
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if token in self.revoked:
            return self._error("revoked_token")
        if token not in self.tokens:
            return self._error("invalid_token")
        if name in WRITING and "write" not in self.tokens[token].split():
            return self._error("outside_scopes")
        return None

    def _json(
        self, data: Any, status: int = 200, headers: dict[str, str] | None = None
    ) -> Response:
        return Response(json.dumps(data), status, headers, None, "application/json; charset=utf-8")

    def _error(self, name: str) -> Response:
        status, body = error_payload(name)
        return self._json(body, status)

    # OAuth and the instance ------------------------------------------------------------

    def _oauth_metadata(self, request: Request) -> Response:
        return self._json(payload("oauth_authorization_server.json", self.base))

    def _instance_v1(self, request: Request) -> Response:
        name = self.instances["v1"]
        return self._json(payload(name, self.base)) if name else self._error("not_found")

    def _instance_v2(self, request: Request) -> Response:
        name = self.instances["v2"]
        return self._json(payload(name, self.base)) if name else self._error("not_found")

    def max_characters(self) -> int:
        """The length the instance information announces, which posting enforces."""
        info = payload(self.instances["v2"] or self.instances["v1"] or "instance_v2.json")
        return int(
            info.get("configuration", {}).get("statuses", {}).get("max_characters")
            or info["max_toot_chars"]
        )

    def _create_app(self, request: Request) -> Response:
        uris = request.form.get("redirect_uris", "").split("\n")
        if not all(urlsplit(uri).scheme and urlsplit(uri).netloc for uri in uris):
            return self._error("redirect_uri")
        app = payload("application.json", self.base)
        app.update(
            name=request.form["client_name"],
            website=request.form.get("website"),
            scopes=request.form.get("scopes", "read").split(),
            redirect_uri="\n".join(uris),
            redirect_uris=uris,
            client_id=secrets.token_urlsafe(32),
            client_secret=secrets.token_urlsafe(32),
        )
        self.apps[app["client_id"]] = app
        return self._json(app)

    def _token(self, request: Request) -> Response:
        form = request.form
        grant = self.codes.pop(form.get("code", ""), None)
        if grant is None or any(
            form.get(name) != grant[name] for name in ("client_id", "client_secret", "redirect_uri")
        ):
            return self._error("invalid_grant")
        token = payload("token.json")
        token.update(access_token=self.issue_token(grant["scope"]), scope=grant["scope"])
        return self._json(token)

    def _verify_credentials(self, request: Request) -> Response:
        return self._json(self.account)

    # Statuses --------------------------------------------------------------------------

    def _account_statuses(self, request: Request, account_id: str) -> Response:
        if account_id != self.account["id"]:
            return self._error("not_found")
        items = self.statuses
        if request.args.get("exclude_reblogs") in ("1", "true"):
            items = [s for s in items if not s["reblog"]]
        return self._page(request, items)

    def _post_status(self, request: Request) -> Response:
        key = request.headers.get("Idempotency-Key")
        earlier = self.keys.get(key or "")
        if earlier is not None and self.clock() - earlier[1] < IDEMPOTENCY_SECONDS:
            return self._get_status(request, earlier[0])
        text = request.form.get("status", "").strip()
        media_ids = request.form.getlist("media_ids[]")
        refusal = self._invalid(text, media_ids, request.form.get("in_reply_to_id"))
        if refusal is not None:
            return self._error(refusal)
        status = self.add_status(text, at=self.clock())
        status["media_attachments"] = [self.media.pop(i) for i in media_ids]
        status["in_reply_to_id"] = request.form.get("in_reply_to_id")
        status["visibility"] = request.form.get("visibility", "public")
        if key:
            self.keys[key] = (status["id"], self.clock())
        return self._json(status)

    def _invalid(self, text: str, media_ids: list[str], reply_to: str | None) -> str | None:
        if reply_to and self._find(reply_to) is None:
            return "not_found"
        if not text and not media_ids:
            return "text_blank"
        if len(re.sub(r"https?://\S+", "x" * 23, text)) > self.max_characters():
            return "text_too_long"
        if any(i not in self.media for i in media_ids):
            return "not_found"
        if any(self.media[i]["url"] is None for i in media_ids):
            return "media_not_ready"
        return None

    def _get_status(self, request: Request, status_id: str) -> Response:
        status = self._find(status_id)
        return self._error("not_found") if status is None else self._json(status)

    def _delete_status(self, request: Request, status_id: str) -> Response:
        status = self._find(status_id)
        if status is None or status not in self.statuses:
            return self._error("not_found")
        self.statuses.remove(status)
        return self._json({**status, "text": self.sources.pop(status_id, "")})

    def _find(self, status_id: str) -> dict[str, Any] | None:
        mentioning = [n["status"] for n in self.notifications]
        return next((s for s in self.statuses + mentioning if s["id"] == status_id), None)

    def _notifications(self, request: Request) -> Response:
        types = request.args.getlist("types[]")
        return self._page(
            request, [n for n in self.notifications if not types or n["type"] in types]
        )

    def _page(self, request: Request, items: list[dict[str, Any]]) -> Response:
        args = request.args
        limit = min(int(args.get("limit", 20)), 40)
        bounds = {
            name: int(args[name]) for name in ("max_id", "since_id", "min_id") if name in args
        }
        chosen = [
            item
            for item in items
            if int(item["id"]) < bounds.get("max_id", 2**63)
            and int(item["id"]) > max(bounds.get("since_id", 0), bounds.get("min_id", 0))
        ]
        # min_id asks for the page just above it, still newest first; the others the newest.
        chosen = chosen[-limit:] if "min_id" in bounds else chosen[:limit]
        url, links = self.base + request.path, []
        if len(chosen) == limit:
            links.append(f'<{url}?limit={limit}&max_id={chosen[-1]["id"]}>; rel="next"')
        if chosen:
            links.append(f'<{url}?limit={limit}&min_id={chosen[0]["id"]}>; rel="prev"')
        return self._json(chosen, headers={"Link": ", ".join(links)} if links else None)

    # Media -----------------------------------------------------------------------------

    def _upload(self, request: Request) -> Response:
        upload = request.files["file"]
        description = request.form.get("description")
        if not upload.mimetype.startswith(("image/", "video/", "audio/")):
            return self._error("media_type")
        if description and len(description) > 1500:
            return self._error("description_too_long")
        media = payload("media_attachment.json", self.base)
        media.update(id=str(self._next_id(self.clock())), description=description)
        media["type"] = upload.mimetype.split("/")[0]
        content = upload.read()
        self.uploads.append(
            {"content_type": upload.mimetype, "description": description, "size": len(content)}
        )
        if self.processing_polls:
            self.pending_polls[media["id"]] = self.processing_polls
            media["url"] = None
        self.media[media["id"]] = media
        return self._json(media, 202 if self.processing_polls else 200)

    def _get_media(self, request: Request, media_id: str) -> Response:
        media = self.media.get(media_id)
        if media is None:
            return self._error("not_found")
        left = self.pending_polls.get(media_id, 0)
        if left:
            self.pending_polls[media_id] = left - 1
            return self._json(media, 206)
        media["url"] = media["preview_url"].replace("/small/", "/original/")
        return self._json(media)

    # What Mastodon makes of a text ------------------------------------------------------

    def _next_id(self, at: float) -> int:
        # Mastodon's ids are snowflakes: milliseconds shifted left 16 bits, then a sequence.
        snowflake = int(at * 1000) << 16
        while snowflake in self._used_ids:
            snowflake += 1
        self._used_ids.add(snowflake)
        return snowflake

    def _status(self, text: str, *, at: float) -> dict[str, Any]:
        status: dict[str, Any] = payload("status.json", self.base)
        status_id = str(self._next_id(at))
        status.update(id=status_id, created_at=timestamp(at), account=self.account)
        status["content"], status["mentions"], status["tags"] = render(text, self.base)
        status["uri"] = f"{self.base}/users/sixfold/statuses/{status_id}"
        status["url"] = f"{self.base}/@sixfold/{status_id}"
        self.sources[status_id] = text
        return status


@contextmanager
def running_fake() -> Iterator[FakeMastodon]:
    fake = FakeMastodon()
    fake.http.expect_request(re.compile(".*")).respond_with_handler(fake.handle)
    fake.http.start()
    try:
        yield fake
        fake.http.check_handler_errors()
    finally:
        fake.http.stop()


_RUNNING: dict[int, FakeMastodon] = {}


@context_factory("mastodon")
def mastodon_context(env: ConformanceEnv) -> ConnectorContext:
    # One server per conformance test, however many connectors the check builds.
    fake = _RUNNING.get(id(env))
    if fake is None:
        fake = env.resources.enter_context(running_fake())
        _RUNNING[id(env)] = fake
        env.resources.callback(_RUNNING.pop, id(env), None)
    return fake.context(env.channel.id)
