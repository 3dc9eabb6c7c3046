"""A stateful fake of the X API v2 on a real local HTTP server, and the "x" conformance factory.

`FakeX` keeps what X keeps for one account: its posts, shown as X shows them (links rewritten
to t.co, `&`, `<` and `>` escaped, a t.co link appended for attached images), uploaded images
and their alt text, posts by others that mention it, and the OAuth tokens it issued (access
tokens expire; a refresh token is spent when used and a new one issued, so a second refresh
with the same token is refused even when both arrive at once). Every answer has
the shape of the recorded payloads in payloads/x/ (see the README there), so tweepy and the
connector meet X's real formats over real HTTP.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import re
import secrets
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from sixfold.channels import tokens
from sixfold.channels.base import ConnectorContext
from sixfold.db import utcnow
from tests.channels.conformance import ConformanceEnv, context_factory

PAYLOADS = Path(__file__).parent / "payloads" / "x"
CLIENT_ID = "M1M5R3BMVy13QmpScXkzTUt5OE46MTpjaQ"
CLIENT_SECRET = "kZ7Xq3mV9wLr2TtYcB8nHsJ4dFgA6uE1pQoWiN5xKzR0yM"
ACCOUNT = {"id": "2244994945", "name": "X Dev", "username": "XDevelopers"}
SNOWFLAKE_EPOCH_MS = 1288834974657
METRICS = (
    "retweet_count",
    "reply_count",
    "like_count",
    "quote_count",
    "bookmark_count",
    "impression_count",
)
_LINK = re.compile(r"https?://\S+?(?=[.,;:!?)]*(?:\s|$))")
Handler = Callable[[Request], Response]


def payload(name: str) -> dict[str, Any]:
    recorded: dict[str, Any] = json.loads((PAYLOADS / f"{name}.json").read_text("utf-8"))
    return recorded


def recorded(name: str, **headers: str) -> Response:
    """The recorded answer `name`, with its status and headers (some replaced)."""
    answer = payload(name)
    merged = {**answer["headers"], **{k.replace("_", "-"): v for k, v in headers.items()}}
    return Response(json.dumps(answer["body"]), status=answer["status"], headers=merged)


def answer(body: dict[str, Any], status: int = 200, **headers: str) -> Response:
    return Response(
        json.dumps(body), status=status, headers={"content-type": "application/json", **headers}
    )


def invalid(parameter: str, message: str) -> Response:
    body = payload("bad_request")["body"]
    return answer({**body, "errors": [{"parameters": {parameter: []}, "message": message}]}, 400)


@dataclass
class Tweet:
    id: str
    text: str  # as X shows it
    author_id: str
    created_at: datetime
    sent: str  # as it was sent, to spot duplicates
    entities: dict[str, Any] = field(default_factory=dict)
    public_metrics: dict[str, int] = field(default_factory=dict)

    def shown(self, fields: set[str]) -> dict[str, Any]:
        shown: dict[str, Any] = {"id": self.id, "text": self.text}
        shown["edit_history_tweet_ids"] = [self.id]
        optional = {
            "created_at": self.created_at.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "author_id": self.author_id,
            "entities": self.entities,
            "public_metrics": self.public_metrics,
        }
        shown.update({name: value for name, value in optional.items() if name in fields})
        return shown


class FakeX:
    def __init__(self, server: HTTPServer, *, reject_duplicates: bool = True) -> None:
        self.server = server
        self.reject_duplicates = reject_duplicates
        self.token_lifetime = 7200
        self.send_refresh_tokens = True
        # Seconds X takes to answer a token request, and a signal that one has arrived: the
        # window in which a second process may try to refresh with the same token.
        self.token_delay = 0.0
        self.token_arrived = threading.Event()
        self._token_lock = threading.Lock()
        self.tweets: dict[str, Tweet] = {}
        self.users = {ACCOUNT["id"]: dict(ACCOUNT)}
        self.media: dict[str, dict[str, Any]] = {}
        self.access_tokens: dict[str, float] = {}
        self.refresh_tokens: set[str] = set()
        self.codes: dict[str, dict[str, str]] = {}
        self.saved: list[dict[str, Any]] = []
        self._sequence = itertools.count()
        self._page_tokens: dict[str, int] = {}
        self._install()

    @property
    def api_base(self) -> str:
        return f"http://{self.server.host}:{self.server.port}"

    # What a test sets up --------------------------------------------------------------------
    def credentials(self, *, expires_in: int | None = None) -> dict[str, Any]:
        issued = self._issue(expires_in)
        lifetime = issued["expires_in"]
        return {
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "access_token": issued["access_token"],
            "refresh_token": issued["refresh_token"],
            "expires_at": tokens.expiry_after(utcnow(), timedelta(seconds=lifetime)),
        }

    def context(
        self, credentials: dict[str, Any] | None = None, *, channel_id: int = 1, **settings: Any
    ) -> ConnectorContext:
        return ConnectorContext(
            channel_id=channel_id,
            settings={"api_base": self.api_base, **ACCOUNT_SETTINGS, **settings},
            credentials=credentials if credentials is not None else self.credentials(),
            save_credentials=self.saved.append,
        )

    def approve(self, authorize_url: str) -> str:
        """The account's owner says yes on X's consent page: the code X sends back."""
        query = {k: v[0] for k, v in parse_qs(urlsplit(authorize_url).query).items()}
        assert query["code_challenge_method"] == "S256"
        code = secrets.token_urlsafe(24)
        self.codes[code] = query
        return code

    def add_mention(self, username: str, text: str) -> Tweet:
        author_id = str(100000 + len(self.users))
        self.users[author_id] = {"id": author_id, "name": username, "username": username}
        return self._store(f"@{ACCOUNT['username']} {text}", author_id=author_id)

    def stall_after_creating(self, seconds: float) -> None:
        """The next post is made, but X's answer comes too late: a lost answer."""

        def create_then_stall(request: Request) -> Response:
            created = self._signed(self._create)(request)
            time.sleep(seconds)
            return created

        self.server.expect_oneshot_request("/2/tweets", method="POST").respond_with_handler(
            create_then_stall
        )

    def requests_to(self, path: str, method: str = "GET") -> list[Request]:
        return [r for r, _ in self.server.log if r.path == path and r.method == method]

    # Handlers -------------------------------------------------------------------------------
    def _install(self) -> None:
        routes: list[tuple[str | re.Pattern[str], str, Handler]] = [
            ("/2/oauth2/token", "POST", self._token),
            ("/2/users/me", "GET", self._signed(self._me)),
            ("/2/tweets", "POST", self._signed(self._create)),
            ("/2/tweets", "GET", self._signed(self._lookup)),
            (re.compile(r"^/2/tweets/\d+$"), "DELETE", self._signed(self._delete)),
            (re.compile(r"^/2/users/\d+/tweets$"), "GET", self._signed(self._timeline)),
            (re.compile(r"^/2/users/\d+/mentions$"), "GET", self._signed(self._mentions)),
            ("/2/media/upload", "POST", self._signed(self._upload)),
            ("/2/media/metadata", "POST", self._signed(self._metadata)),
        ]
        for uri, method, handler in routes:
            self.server.expect_request(uri, method=method).respond_with_handler(handler)

    def _signed(self, handler: Handler) -> Handler:
        def checked(request: Request) -> Response:
            token = request.headers.get("Authorization", "").removeprefix("Bearer ")
            if self.access_tokens.get(token, 0) < time.time():
                return recorded("unauthorized")
            return handler(request)

        return checked

    def _token(self, request: Request) -> Response:
        expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if request.headers.get("Authorization") != f"Basic {expected}":
            refusal = "Missing valid authorization header"
            return answer({"error": "unauthorized_client", "error_description": refusal}, 401)
        form = request.form
        if form.get("grant_type") == "authorization_code":
            granted = self._grant_code(form.get("code", ""), form)
        elif form.get("grant_type") == "refresh_token":
            self.token_arrived.set()
            time.sleep(self.token_delay)
            granted = self._spend_refresh_token(form.get("refresh_token", ""))
        else:
            granted = False
        return answer(self._issue(), 200) if granted else recorded("token_invalid")

    def _grant_code(self, code: str, form: Any) -> bool:
        asked = self.codes.pop(code, None)
        if asked is None or asked["redirect_uri"] != form.get("redirect_uri"):
            return False
        digest = hashlib.sha256(form.get("code_verifier", "").encode("ascii")).digest()
        challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
        return asked["code_challenge"] == challenge and asked["client_id"] == CLIENT_ID

    def _spend_refresh_token(self, token: str) -> bool:
        # Requests are served on threads of their own: checked and spent in one step, or two
        # refreshes arriving together could both spend the same token.
        with self._token_lock:
            if token not in self.refresh_tokens:
                return False
            if self.send_refresh_tokens:
                self.refresh_tokens.discard(token)  # X rotates: the old one is spent
            return True

    def _issue(self, expires_in: int | None = None) -> dict[str, Any]:
        lifetime = self.token_lifetime if expires_in is None else expires_in
        access = secrets.token_urlsafe(48)
        self.access_tokens[access] = time.time() + lifetime
        body: dict[str, Any] = {**payload("token")["body"], "access_token": access}
        body["expires_in"] = lifetime
        if self.send_refresh_tokens:
            body["refresh_token"] = secrets.token_urlsafe(48)
            self.refresh_tokens.add(body["refresh_token"])
        else:
            del body["refresh_token"]
        return body

    def _me(self, request: Request) -> Response:
        return answer({"data": ACCOUNT})

    def _create(self, request: Request) -> Response:
        body = request.get_json()
        text = str(body.get("text") or "")
        media_ids = (body.get("media") or {}).get("media_ids") or []
        reply_to = (body.get("reply") or {}).get("in_reply_to_tweet_id")
        if len(text) > 280:  # the connector counts X's weights; this stands in for X's own
            return invalid("text", "Tweet text is too long")
        if reply_to is not None and reply_to not in self.tweets:
            return invalid("reply.in_reply_to_tweet_id", "The post replied to does not exist")
        if any(media_id not in self.media for media_id in media_ids):
            return invalid("media.media_ids", "Your media IDs are invalid.")
        if self.reject_duplicates and any(t.sent == text for t in self._own()):
            return recorded("duplicate")
        tweet = self._store(text, author_id=ACCOUNT["id"], media_ids=media_ids)
        created = {"id": tweet.id, "text": tweet.text, "edit_history_tweet_ids": [tweet.id]}
        location = f"https://api.twitter.com/2/tweets/{tweet.id}"
        return answer({"data": created}, 201, location=location)

    def _delete(self, request: Request) -> Response:
        tweet_id = request.path.rsplit("/", 1)[1]
        return answer({"data": {"deleted": self.tweets.pop(tweet_id, None) is not None}})

    def _lookup(self, request: Request) -> Response:
        ids = request.args.get("ids", "").split(",")
        fields = set(request.args.get("tweet.fields", "").split(","))
        body: dict[str, Any] = {}
        found = [self.tweets[i].shown(fields) for i in ids if i in self.tweets]
        if found:
            body["data"] = found
        missing = [_not_found(i) for i in ids if i not in self.tweets]
        if missing:
            body["errors"] = missing
        return answer(body)

    def _timeline(self, request: Request) -> Response:
        page = self._page(request, self._own())
        return page if isinstance(page, Response) else answer(page)

    def _mentions(self, request: Request) -> Response:
        mentioning = [t for t in self._newest_first() if t.author_id != ACCOUNT["id"]]
        page = self._page(request, mentioning)
        if isinstance(page, Response):
            return page
        if "author_id" in request.args.get("expansions", "") and page.get("data"):
            authors = sorted({t["author_id"] for t in page["data"]})
            page["includes"] = {"users": [self.users[a] for a in authors]}
        return answer(page)

    def _page(self, request: Request, tweets: list[Tweet]) -> dict[str, Any] | Response:
        args = request.args
        size = int(args.get("max_results", "10"))
        if not 5 <= size <= 100:
            return invalid("max_results", f"[{size}] is not between 5 and 100")
        if "start_time" in args:
            start = datetime.fromisoformat(args["start_time"].replace("Z", "+00:00"))
            tweets = [t for t in tweets if t.created_at >= start]
        offset = self._page_tokens.get(args.get("pagination_token", ""), 0)
        page = tweets[offset : offset + size]
        meta: dict[str, Any] = {"result_count": len(page)}
        if page:
            meta.update(newest_id=page[0].id, oldest_id=page[-1].id)
        if offset + size < len(tweets):
            meta["next_token"] = secrets.token_hex(16)
            self._page_tokens[meta["next_token"]] = offset + size
        fields = set(args.get("tweet.fields", "").split(","))
        shown = {"data": [t.shown(fields) for t in page]} if page else {}
        return {**shown, "meta": meta}

    def _upload(self, request: Request) -> Response:
        body = request.get_json()
        if body.get("media_category") != "tweet_image":
            return invalid("media_category", "The simple upload takes images only")
        content = base64.b64decode(body.get("media", ""), validate=True)
        media_id = self._snowflake()
        self.media[media_id] = {"type": body.get("media_type"), "size": len(content), "alt": None}
        uploaded = payload("media_upload")["body"]["data"]
        created = {**uploaded, "id": media_id, "media_key": f"3_{media_id}", "size": len(content)}
        return answer({"data": created})

    def _metadata(self, request: Request) -> Response:
        body = request.get_json()
        media = self.media.get(str(body.get("id")))
        if media is None:
            return invalid("id", "The media id is not known")
        media["alt"] = body["metadata"]["alt_text"]["text"]
        associated = {"alt_text": {"text": media["alt"]}}
        return answer({"data": {"id": body["id"], "associated_metadata": associated}})

    # The account ----------------------------------------------------------------------------
    def _own(self) -> list[Tweet]:
        return [t for t in self._newest_first() if t.author_id == ACCOUNT["id"]]

    def _newest_first(self) -> list[Tweet]:
        return sorted(self.tweets.values(), key=lambda t: int(t.id), reverse=True)

    def _snowflake(self) -> str:
        milliseconds = int(time.time() * 1000) - SNOWFLAKE_EPOCH_MS
        return str((milliseconds << 22) | (next(self._sequence) & 0x3FFFFF))

    def _store(self, text: str, *, author_id: str, media_ids: Sequence[str] = ()) -> Tweet:
        tweet_id = self._snowflake()
        shown, links = _as_x_shows(text, media_ids, tweet_id)
        created = datetime.fromtimestamp(((int(tweet_id) >> 22) + SNOWFLAKE_EPOCH_MS) / 1000, UTC)
        metrics = dict.fromkeys(METRICS, 0)
        tweet = Tweet(tweet_id, shown, author_id, created, text, {"urls": links}, metrics)
        self.tweets[tweet_id] = tweet
        return tweet


ACCOUNT_SETTINGS = {"user_id": ACCOUNT["id"], "username": ACCOUNT["username"]}


def _not_found(tweet_id: str) -> dict[str, Any]:
    missing: dict[str, Any] = payload("tweets_lookup")["body"]["errors"][0]
    detail = f"Could not find tweet with ids: [{tweet_id}]."
    return {**missing, "value": tweet_id, "resource_id": tweet_id, "detail": detail}


def _as_x_shows(text: str, media_ids: Sequence[str], tweet_id: str) -> tuple[str, list[Any]]:
    """X's text for a post: each link a t.co link, a t.co link per image, HTML escapes."""
    plain, links, position = "", [], 0
    for match in _LINK.finditer(text):
        plain += text[position : match.start()]
        short = f"https://t.co/{secrets.token_urlsafe(7)[:10]}"
        display = match.group(0).split("://", 1)[1][:24]
        links.append(_link(len(plain), short, match.group(0), display))
        plain, position = plain + short, match.end()
    plain += text[position:]
    for number, media_id in enumerate(media_ids, start=1):
        short = f"https://t.co/{secrets.token_urlsafe(7)[:10]}"
        plain += f" {short}"
        photo = f"https://x.com/{ACCOUNT['username']}/status/{tweet_id}/photo/{number}"
        link = _link(len(plain) - len(short), short, photo, f"pic.x.com/{short[-10:]}")
        links.append({**link, "media_key": f"3_{media_id}"})
    escaped = plain.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return escaped, links


def _link(start: int, short: str, expanded: str, display: str) -> dict[str, Any]:
    return {
        "start": start,
        "end": start + len(short),
        "url": short,
        "expanded_url": expanded,
        "display_url": display,
    }


def start_fake_x(resources: ExitStack, *, reject_duplicates: bool = True) -> FakeX:
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    resources.callback(server.stop)
    return FakeX(server, reject_duplicates=reject_duplicates)


_FAKES: dict[int, FakeX] = {}


@context_factory("x")
def x_context(env: ConformanceEnv) -> ConnectorContext:
    # One account per test, however many connectors the check builds. Like X, the fake
    # refuses a second identical post (403 duplicate content).
    fake = _FAKES.get(id(env))
    if fake is None:
        fake = _FAKES[id(env)] = start_fake_x(env.resources)
        env.resources.callback(_FAKES.pop, id(env), None)
        env.resources.callback(fake.server.check_handler_errors)
    return fake.context(channel_id=env.channel.id)
