"""A stand-in for LinkedIn's REST API on a real local HTTP server, and the conformance factory.

`FakeLinkedIn` answers with the recorded payloads of tests/channels/payloads/linkedin/ and
keeps state where the connector needs it to (a post published, then found among the author's
own posts; an image uploaded, then attached). It behaves as LinkedIn does where that matters
to the connector: versioned headers required, bearer tokens checked, commentary read as
little text and cut at the first unescaped reserved character, duplicates refused with the
earlier post's URN, member authors' posts unreadable (no r_member_social), newest first.
Its little-text reading is written independently of the connector's, so a wrong escape in
the connector shows up as a post that does not read back as sent.
"""

from __future__ import annotations

import copy
import itertools
import json
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from sixfold.channels.base import ConnectorContext
from sixfold.channels.connectors.linkedin import LinkedInConnector
from sixfold.db import utcnow
from tests.channels.conformance import ConformanceEnv, context_factory

PAYLOADS = Path(__file__).parent / "payloads" / "linkedin"
ORGANISATION = "urn:li:organization:5515715"
MEMBER = "urn:li:person:782bbtaQ"
CLIENT_ID = "86yz0bs1uhv6el"
CLIENT_SECRET = "WPL_AP1.fake.client.secret"
RESERVED = set("\\|{}@[]()<>#*_~")
TEMPLATE = re.compile(r"\{hashtag\|\\?[#＃]\|([^}\\]*)\}")
MENTION = re.compile(r"@\[([^\]]*)\]\(urn:li:[a-z]+:[^)]+\)")
HASHTAG = re.compile(r"#(\w+)")


def payload(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((PAYLOADS / f"{name}.json").read_text())
    return data


def serve(name: str, body: Any = ..., **headers: str) -> Response:
    """A recorded response, optionally with its body or headers replaced."""
    recorded = payload(name)
    content = recorded["body"] if body is ... else body
    response = Response(
        "" if content is None else json.dumps(content),
        status=recorded["status"],
        headers={**recorded["headers"], **headers},
    )
    return response


def little_text(commentary: str) -> tuple[str, str]:
    """How LinkedIn reads commentary: (the raw text it keeps, the text people see). At an
    unescaped reserved character that starts no element, LinkedIn cuts the post."""
    kept, shown, i = 0, [], 0
    while i < len(commentary):
        char = commentary[i]
        if char == "\\" and commentary[i + 1 : i + 2] in RESERVED:
            shown.append(commentary[i + 1])
            i += 2
        elif (match := TEMPLATE.match(commentary, i)) is not None:
            shown.append("#" + match.group(1))
            i = match.end()
        elif (match := MENTION.match(commentary, i) or HASHTAG.match(commentary, i)) is not None:
            shown.append(match.group(0) if char == "#" else match.group(1))
            i = match.end()
        elif char in RESERVED:
            break
        else:
            shown.append(char)
            i += 1
        kept = i
    return commentary[:kept], "".join(shown)


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class Scripted:
    """A response served once, instead of the fake's own, to the next matching request."""

    method: str
    path: str
    respond: Callable[[], Response]
    delay: float = 0.0


class FakeLinkedIn:
    def __init__(
        self, server: HTTPServer, *, author: str = ORGANISATION, reject_duplicates: bool = True
    ) -> None:
        self.server = server
        self.author = author
        self.reject_duplicates = reject_duplicates
        self.member_posts_readable = False
        self.refresh_omits_token = False
        # LinkedIn keeps a refresh token today; a fake that rotates them shows what would
        # happen to two processes renewing at once if it stopped.
        self.rotate_refresh_tokens = False
        self.token_delay = 0.0
        self.token_arrived = threading.Event()
        self.posts: dict[str, dict[str, Any]] = {}
        self.images: dict[str, bytes | None] = {}
        self.likes: dict[str, tuple[int, int]] = {}
        self.notifications: list[dict[str, Any]] = []
        self.access_tokens: dict[str, float] = {}
        self.refresh_tokens: set[str] = set()
        self.codes: dict[str, str] = {}
        self.scripted: list[Scripted] = []
        self.lock = threading.Lock()
        self.ids = itertools.count(7_400_000_000_000_000_000)
        server.expect_request(re.compile(".*")).respond_with_handler(self.handle)

    # Set-up for tests ------------------------------------------------------------------------

    @property
    def base(self) -> str:
        return self.server.url_for("").rstrip("/")

    def issue_token(self, lifetime: timedelta = timedelta(days=60)) -> str:
        token = f"AQV{secrets.token_urlsafe(24)}"
        self.access_tokens[token] = time.time() + lifetime.total_seconds()
        return token

    def issue_refresh_token(self) -> str:
        token = f"AQW{secrets.token_urlsafe(24)}"
        self.refresh_tokens.add(token)
        return token

    def approve(self, redirect_uri: str) -> str:
        """The person approved the app at LinkedIn: the code LinkedIn sends back."""
        code = f"AQT{secrets.token_urlsafe(16)}"
        self.codes[code] = redirect_uri
        return code

    def settings(self) -> dict[str, Any]:
        return {
            "author_urn": self.author,
            "member_urn": MEMBER,
            "api_base": self.base,
            "oauth_base": f"{self.base}/oauth/v2",
        }

    def credentials(self, **overrides: Any) -> dict[str, Any]:
        found = {
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "access_token": self.issue_token(),
            "expires_at": (utcnow() + timedelta(days=60)).isoformat(),
        }
        return {**found, **overrides}

    def context(self, channel_id: int = 1, **settings: Any) -> ConnectorContext:
        return ConnectorContext(channel_id, {**self.settings(), **settings}, self.credentials())

    def connector(
        self,
        *,
        saved: list[dict[str, Any]] | None = None,
        settings: dict[str, Any] | None = None,
        **credentials: Any,
    ) -> LinkedInConnector:
        """A connector on this fake; renewed credentials are appended to `saved`."""
        context = ConnectorContext(
            1,
            {**self.settings(), **(settings or {})},
            self.credentials(**credentials),
            save_credentials=saved.append if saved is not None else None,
        )
        return LinkedInConnector(context)

    def once(
        self, method: str, path: str, name: str, *, delay: float = 0.0, **headers: str
    ) -> None:
        """Answer the next `method path` with the recorded payload `name`."""
        self.scripted.append(Scripted(method, path, lambda: serve(name, **headers), delay))

    def seed_post(self, commentary: str, *, at_ms: int, author: str | None = None) -> str:
        element = copy.deepcopy(payload("post_get")["body"])
        urn = f"urn:li:share:{next(self.ids)}"
        element.update(id=urn, author=author or self.author, commentary=commentary)
        element.update(createdAt=at_ms, publishedAt=at_ms, lastModifiedAt=at_ms)
        self.posts[urn] = element
        return urn

    def seed_mention(self, at_ms: int, **changes: Any) -> dict[str, Any]:
        note = copy.deepcopy(payload("organizational_entity_notifications")["body"]["elements"][0])
        note.update(lastModifiedAt=at_ms, organizationalEntity=self.author, **changes)
        self.notifications.append(note)
        return note

    def requests(self) -> list[Request]:
        return [request for request, _ in self.server.log]

    def token_calls(self) -> list[dict[str, list[str]]]:
        return [parse_qs(r.get_data(as_text=True)) for r in self.requests() if "Token" in r.path]

    # Answering -------------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        if request.path == "/oauth/v2/accessToken":
            self.token_arrived.set()
            time.sleep(self.token_delay)
        scripted = self._scripted(request)
        if scripted is not None:
            time.sleep(scripted.delay)
            return scripted.respond()
        with self.lock:
            return self._route(request)

    def _scripted(self, request: Request) -> Scripted | None:
        with self.lock:
            for item in self.scripted:
                if item.method == request.method and request.path.startswith(item.path):
                    self.scripted.remove(item)
                    return item
        return None

    def _route(self, request: Request) -> Response:
        path, method = request.path, request.method
        if path == "/oauth/v2/accessToken" and method == "POST":
            return self._token(request)
        if path.startswith("/dms-uploads/") and method == "PUT":
            return self._authorized(request, self._upload)
        if not _versioned(request):
            return serve("error_400_version_missing")
        return self._authorized(request, self._rest)

    def _authorized(self, request: Request, answer: Callable[[Request], Response]) -> Response:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        expiry = self.access_tokens.get(token)
        if expiry is None or expiry < time.time():
            return serve("error_401_invalid")
        return answer(request)

    def _rest(self, request: Request) -> Response:
        path, method = request.path, request.method
        routes: dict[tuple[str, str], Callable[[Request], Response]] = {
            ("GET", "/v2/userinfo"): lambda _: serve("userinfo"),
            ("POST", "/rest/posts"): self._create,
            ("GET", "/rest/posts"): self._by_author,
            ("POST", "/rest/images"): self._initialize_upload,
            ("GET", "/rest/organizationalEntityNotifications"): self._notifications,
        }
        if (method, path) in routes:
            return routes[(method, path)](request)
        if path.startswith("/rest/posts/"):
            return self._one_post(method, path.removeprefix("/rest/posts/"))
        if path.startswith("/rest/socialActions/") and method == "GET":
            return self._social_actions(path.removeprefix("/rest/socialActions/"))
        return _not_found(path)

    def _token(self, request: Request) -> Response:
        form = request.form
        if (form.get("client_id"), form.get("client_secret")) != (CLIENT_ID, CLIENT_SECRET):
            return serve("oauth_error_invalid_code")
        if form.get("grant_type") == "authorization_code":
            if self.codes.pop(form.get("code", ""), None) != form.get("redirect_uri"):
                return serve("oauth_error_invalid_code")
            body = payload("token_authorization_code")["body"]
            return serve("token_authorization_code", dict(body, **self._new_tokens()))
        if form.get("grant_type") == "refresh_token":
            if form.get("refresh_token") not in self.refresh_tokens:
                return serve("oauth_error_refresh_revoked")
            body = dict(payload("token_refresh")["body"], access_token=self.issue_token())
            body["refresh_token"] = form["refresh_token"]  # LinkedIn does not rotate them...
            if self.rotate_refresh_tokens:  # ... unless a test asks it to.
                self.refresh_tokens.discard(form["refresh_token"])
                body["refresh_token"] = self.issue_refresh_token()
            if self.refresh_omits_token:
                del body["refresh_token"], body["refresh_token_expires_in"]
            return serve("token_refresh", body)
        return serve("oauth_error_invalid_code")

    def _new_tokens(self) -> dict[str, str]:
        return {"access_token": self.issue_token(), "refresh_token": self.issue_refresh_token()}

    def _create(self, request: Request) -> Response:
        body = request.get_json()
        if body.get("author") != self.author:
            return serve("error_403_author")
        kept, shown = little_text(body.get("commentary", ""))
        if len(shown) > 3000:
            return serve("error_422_too_long")
        for post in self.posts.values() if self.reject_duplicates else ():
            if post["author"] == self.author and post["commentary"] == kept:
                duplicate = dict(payload("error_422_duplicate")["body"])
                duplicate["message"] = f"Content is a duplicate of {post['id']}"
                return serve("error_422_duplicate", duplicate)
        if not self._images_uploaded(body.get("content") or {}):
            return serve("error_400_bad_request")
        urn = self.seed_post(kept, at_ms=now_ms())
        if body.get("content"):
            self.posts[urn]["content"] = body["content"]
        return serve("posts_create", **{"x-restli-id": urn, "x-linkedin-id": urn})

    def _images_uploaded(self, content: dict[str, Any]) -> bool:
        images = content.get("multiImage", {}).get("images", [])
        images = images + ([content["media"]] if "media" in content else [])
        return all(self.images.get(image["id"]) for image in images)

    def _by_author(self, request: Request) -> Response:
        author = request.args.get("author")
        if request.args.get("q") != "author" or author is None:
            return serve("error_400_bad_request")
        if author.startswith("urn:li:person:") and not self.member_posts_readable:
            return serve("error_403_read")
        mine = [p for p in self.posts.values() if p["author"] == author]
        mine.sort(key=lambda p: p["lastModifiedAt"], reverse=True)
        return self._page(request, "posts_by_author", mine)

    def _page(self, request: Request, name: str, items: list[dict[str, Any]]) -> Response:
        start, count = int(request.args.get("start", 0)), int(request.args.get("count", 10))
        body = copy.deepcopy(payload(name)["body"])
        body["elements"] = items[start : start + count]
        body["paging"] = {"start": start, "count": count, "links": [], "total": len(items)}
        return serve(name, body)

    def _one_post(self, method: str, urn: str) -> Response:
        post = self.posts.get(urn)
        if post is None:
            return _not_found(urn)
        if method == "DELETE":
            del self.posts[urn]
            return Response(status=204)
        return serve("post_get", post)

    def _initialize_upload(self, request: Request) -> Response:
        owner = request.get_json().get("initializeUploadRequest", {}).get("owner")
        if request.args.get("action") != "initializeUpload" or owner != self.author:
            return serve("error_403_author")
        key = secrets.token_hex(8).upper()
        self.images[f"urn:li:image:{key}"] = None
        body = copy.deepcopy(payload("images_initialize_upload")["body"])
        body["value"].update(
            image=f"urn:li:image:{key}", uploadUrl=self.server.url_for(f"/dms-uploads/{key}/0")
        )
        return serve("images_initialize_upload", body)

    def _upload(self, request: Request) -> Response:
        key = request.path.split("/")[2]
        if f"urn:li:image:{key}" not in self.images:
            return _not_found(request.path)
        self.images[f"urn:li:image:{key}"] = request.get_data()
        return Response(status=201)

    def _social_actions(self, urn: str) -> Response:
        if urn not in self.posts:
            return _not_found(urn)
        likes, comments = self.likes.get(urn, (0, 0))
        body = copy.deepcopy(payload("social_actions")["body"])
        body["target"] = urn
        body["likesSummary"].update(totalLikes=likes, aggregatedTotalLikes=likes)
        body["commentsSummary"].update(
            aggregatedTotalComments=comments, totalFirstLevelComments=comments
        )
        return serve("social_actions", body)

    def _notifications(self, request: Request) -> Response:
        window = re.fullmatch(r"\(start:(\d+),end:(\d+)\)", request.args.get("timeRange", ""))
        actions = re.fullmatch(r"List\(([A-Z_,]+)\)", request.args.get("actions", ""))
        if request.args.get("q") != "criteria" or window is None or actions is None:
            return serve("error_400_bad_request")
        start, end = int(window.group(1)), int(window.group(2))
        wanted = actions.group(1).split(",")
        found = [
            n
            for n in self.notifications
            if n["organizationalEntity"] == request.args.get("organizationalEntity")
            and n["action"] in wanted
            and start <= n["lastModifiedAt"] <= end
        ]
        return self._page(request, "organizational_entity_notifications", found)


def _versioned(request: Request) -> bool:
    version = request.headers.get("LinkedIn-Version", "")
    protocol = request.headers.get("X-Restli-Protocol-Version")
    return bool(re.fullmatch(r"20\d{2}(0[1-9]|1[0-2])", version)) and protocol == "2.0.0"


def _not_found(what: str) -> Response:
    body = {"message": f"Not found: {what}", "status": 404}
    return Response(json.dumps(body), status=404, content_type="application/json")


def start_server(resources: ExitStack) -> HTTPServer:
    """A local server, stopped (after checking its handlers raised nothing) when `resources`
    closes. Threaded, so a deliberately slow answer does not hold up the next request."""
    server = HTTPServer(host="127.0.0.1", threaded=True)
    server.start()
    resources.callback(server.stop)
    resources.callback(server.check_handler_errors)
    return server


def start_fake(
    resources: ExitStack, *, author: str = ORGANISATION, reject_duplicates: bool = True
) -> FakeLinkedIn:
    return FakeLinkedIn(start_server(resources), author=author, reject_duplicates=reject_duplicates)


def fresh(server: HTTPServer, *, author: str = ORGANISATION) -> Iterator[FakeLinkedIn]:
    """For a fixture: a new fake on a server shared by a module (stopping a server takes half
    a second), checked for handler errors afterwards."""
    server.clear()
    yield FakeLinkedIn(server, author=author)
    server.check_handler_errors()


@context_factory("linkedin")
def linkedin_context(env: ConformanceEnv) -> ConnectorContext:
    # An organisation page: LinkedIn lets an app read a page's own posts (r_organization_social),
    # which the conformance checks need; a member's posts need r_member_social. Like LinkedIn,
    # the fake refuses a second identical post.
    return start_fake(env.resources).context(env.channel.id)
