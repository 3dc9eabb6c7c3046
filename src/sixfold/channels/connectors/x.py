"""The X (formerly Twitter) connector: X API v2 through tweepy, signed in with OAuth 2.0.

Exactly once without an idempotency key. X keeps no key for a post, so a second POST
/2/tweets after a lost answer posts again (or is refused as duplicate content). The
connector says `idempotent = False`, and publishing reconciles before any retry: it reads
the account's recent posts (`fetch_own_posts`) and matches them by text.

Media go through the v2 upload endpoint (POST /2/media/upload, alt text with POST
/2/media/metadata), which accepts OAuth 2.0 user tokens with the `media.write` scope; the
v1.1 upload that tweepy wraps needs OAuth 1.0a keys this connector never holds. The simple
v2 upload takes images only (no GIF, no video: those need the chunked upload).
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable, Iterator, Sequence
from contextlib import suppress
from datetime import UTC, datetime
from functools import partial
from typing import Any, ClassVar, TypeVar

import requests
import tweepy  # type: ignore[import-untyped]  # the package ships no type hints

from sixfold.channels import tokens
from sixfold.channels.base import (
    AmbiguousError,
    Authorization,
    ChannelLimits,
    Connection,
    ConnectorContext,
    MediaItem,
    Mention,
    Metrics,
    OutgoingPost,
    PermanentError,
    RemotePost,
    SetupField,
    TransientError,
)
from sixfold.channels.connectors import x_oauth
from sixfold.channels.connectors.x_errors import translate
from sixfold.channels.connectors.x_oauth import API_BASE, TIMEOUT_SECONDS, XSession, api_base_of
from sixfold.channels.connectors.x_text import MAX_WEIGHTED_LENGTH, weighted_length
from sixfold.db import utcnow

T = TypeVar("T")
TWEET_URL = "https://x.com/{username}/status/{id}"
# X's ids are snowflakes: milliseconds since this moment, shifted left by 22 bits.
SNOWFLAKE_EPOCH_MS = 1288834974657
PAGE_SIZE = 100  # the most X returns per page, and the most ids one lookup takes
MAX_PAGES = 32  # 3,200 posts: all a user timeline ever returns
OWN_FIELDS = ["created_at", "entities"]
MENTION_FIELDS = ["created_at", "entities", "author_id"]
ALT_TEXT_MAX = 1000


class XConnector:
    kind: ClassVar[str] = "x"
    label: ClassVar[str] = "X (formerly Twitter)"
    limits: ClassVar[ChannelLimits] = ChannelLimits(
        max_chars=MAX_WEIGHTED_LENGTH,
        max_media=4,
        alt_text_max_chars=ALT_TEXT_MAX,
        media_types=("image/png", "image/jpeg", "image/webp"),
    )
    idempotent: ClassVar[bool] = False
    auth_flow: ClassVar[str] = "oauth2"
    setup_fields: ClassVar[tuple[SetupField, ...]] = (
        SetupField("client_id", "OAuth 2.0 Client ID", help="From the app's Keys and tokens page."),
        SetupField(
            "client_secret",
            "OAuth 2.0 Client Secret",
            help="Shown once when X creates it; regenerate it there if it was lost.",
            secret=True,
            input_type="password",
        ),
    )
    connect_steps: ClassVar[tuple[str, ...]] = (
        "In the X developer portal, open your project's app and its User authentication "
        "settings: choose Read and write, and the type Web App (a confidential client).",
        "Add this page's callback address to the app's Callback URI / Redirect URL list.",
        "Copy the OAuth 2.0 Client ID and Client Secret from Keys and tokens into the form.",
        "Continue: X asks the account's owner to authorise Sixfold, then sends you back here.",
    )

    def __init__(self, context: ConnectorContext) -> None:
        self.context = context
        self.credentials: dict[str, Any] = dict(context.credentials)
        self.user_id = str(context.settings.get("user_id") or "")
        self.username = str(context.settings.get("username") or "")
        timeout = float(context.settings.get("timeout_seconds") or TIMEOUT_SECONDS)
        self.session = XSession(api_base_of(context.settings), timeout)
        self.client = _client(self.session, self.credentials.get("access_token"))

    @classmethod
    def count_characters(cls, text: str) -> int:
        return weighted_length(text)

    # Connecting ------------------------------------------------------------------------------
    @classmethod
    def authorize(cls, values: dict[str, Any], redirect_uri: str, state: str) -> Authorization:
        verifier = secrets.token_urlsafe(64)  # 86 characters; PKCE allows 43 to 128
        url = x_oauth.authorization_url(
            values, redirect_uri=redirect_uri, state=state, code_verifier=verifier
        )
        return Authorization(url=url, pending={"code_verifier": verifier})

    @classmethod
    def complete(
        cls, values: dict[str, Any], pending: dict[str, Any], redirect_uri: str, code: str
    ) -> Connection:
        session = XSession(api_base_of(values))
        credentials = x_oauth.exchange_code(
            session,
            values,
            code=code,
            code_verifier=str(pending.get("code_verifier") or ""),
            redirect_uri=redirect_uri,
        )
        try:
            me = _client(session, credentials["access_token"]).get_me(user_auth=False)["data"]
        except (tweepy.TweepyException, requests.RequestException) as exc:
            raise translate(exc, creates=False) from exc
        settings = {"user_id": str(me["id"]), "username": str(me["username"])}
        if api_base_of(values) != API_BASE:
            settings["api_base"] = api_base_of(values)
        return Connection(handle=f"@{me['username']}", settings=settings, credentials=credentials)

    # The Connector protocol -------------------------------------------------------------------
    def verify(self) -> str:
        me = self._call(partial(self.client.get_me, user_auth=False))["data"]
        self.user_id, self.username = str(me["id"]), str(me["username"])
        return f"@{self.username}"

    def publish(self, post: OutgoingPost, idempotency_key: str) -> RemotePost:
        # X keeps no idempotency key: publishing finds an earlier attempt by its text.
        self._check(post)
        media_ids = [self._upload(item) for item in post.media]
        created = self._call(
            partial(
                self.client.create_tweet,
                text=post.text,
                in_reply_to_tweet_id=post.reply_to,
                media_ids=media_ids or None,
                user_auth=False,
            ),
            creates=True,
        )
        remote_id = str((created.get("data") or {}).get("id") or "")
        if not remote_id:
            raise AmbiguousError("X answered the post without its id; it may have been posted.")
        return RemotePost(
            remote_id=remote_id,
            url=self._url(remote_id),
            text=post.text,
            published_at=created_at_of_id(remote_id),
        )

    def delete(self, remote_id: str) -> None:
        self._call(partial(_delete_tweet, self.client, remote_id))

    def fetch_own_posts(self, since: datetime) -> list[RemotePost]:
        if since >= utcnow():
            return []  # X refuses a start_time in the future, and nothing was posted there.
        fetch = partial(
            self.client.get_users_tweets,
            self._user_id(),
            start_time=since,
            max_results=PAGE_SIZE,
            tweet_fields=OWN_FIELDS,
            user_auth=False,
        )
        return [self._remote(tweet) for page in self._pages(fetch) for tweet in _data(page)]

    def fetch_mentions(self, since: datetime) -> list[Mention]:
        if since >= utcnow():
            return []
        fetch = partial(
            self.client.get_users_mentions,
            self._user_id(),
            start_time=since,
            max_results=PAGE_SIZE,
            expansions=["author_id"],
            user_fields=["username"],
            tweet_fields=MENTION_FIELDS,
            user_auth=False,
        )
        return [mention for page in self._pages(fetch) for mention in _mentions(page)]

    def fetch_metrics(self, remote_ids: Sequence[str]) -> list[Metrics]:
        ids = [str(remote_id) for remote_id in remote_ids]
        found: list[Metrics] = []
        for start in range(0, len(ids), PAGE_SIZE):
            lookup = partial(
                self.client.get_tweets,
                ids[start : start + PAGE_SIZE],
                tweet_fields=["public_metrics"],
                user_auth=False,
            )
            # Deleted posts come back under "errors", not "data": they are left out.
            for tweet in _data(self._call(lookup)):
                counts = tweet.get("public_metrics") or {}
                found.append(Metrics(str(tweet["id"]), {k: int(v) for k, v in counts.items()}))
        return found

    # Calls ------------------------------------------------------------------------------------
    def _call(self, action: Callable[[], T], *, creates: bool = False) -> T:
        """Run one API call with a fresh token, and turn what goes wrong into the platform's
        errors. `creates` marks the call that makes a post: only its failures can leave the
        account in doubt."""
        if x_oauth.due_for_refresh(self.credentials):
            self._renew()
        try:
            try:
                return action()
            except tweepy.Unauthorized:
                # A token X stopped accepting before its time (revoked, or clocks apart):
                # renew once and try again. A 401 means X did not act on the request.
                self._renew()
                return action()
        except (tweepy.TweepyException, requests.RequestException) as exc:
            raise translate(exc, creates=creates) from exc

    def _renew(self) -> None:
        """Refresh the tokens, stored before the lock on them is let go (tokens.renew). X
        retires a refresh token as it hands out the next: losing the new one would lose the
        account, and a second process refreshing with the old one would be refused, so the
        tokens another process renewed meanwhile are taken instead of refreshing again."""
        self.credentials = tokens.renew(
            self.context, self.credentials, partial(x_oauth.refresh, self.session)
        )
        self.client.bearer_token = self.credentials.get("access_token")

    def _pages(self, fetch: Callable[..., dict[str, Any]]) -> Iterator[dict[str, Any]]:
        token: str | None = None
        for _ in range(MAX_PAGES):
            extra = {"pagination_token": token} if token else {}
            page = self._call(partial(fetch, **extra))
            yield page
            token = (page.get("meta") or {}).get("next_token")
            if not token:
                return

    def _upload(self, item: MediaItem) -> str:
        payload = {
            "media": base64.b64encode(item.content).decode("ascii"),
            "media_category": "tweet_image",
            "media_type": item.content_type,
        }
        uploaded = self._call(partial(self._post_json, "/2/media/upload", payload))
        media_id = str((uploaded.get("data") or {}).get("id") or "")
        if not media_id:
            raise TransientError(f"X did not return an id for the image {item.filename!r}.")
        if item.alt_text:
            metadata = {"id": media_id, "metadata": {"alt_text": {"text": item.alt_text}}}
            self._call(partial(self._post_json, "/2/media/metadata", metadata))
        return media_id

    def _post_json(self, route: str, payload: dict[str, Any]) -> dict[str, Any]:
        # tweepy's own request method: same session, bearer token and error classes.
        body = self.client.request("POST", route, json=payload, user_auth=False).json()
        return body if isinstance(body, dict) else {}

    def _check(self, post: OutgoingPost) -> None:
        length = weighted_length(post.text)
        if length > MAX_WEIGHTED_LENGTH:
            raise PermanentError(
                f"The post is {length} characters as X counts them (every link 23, an emoji "
                f"2); X allows {MAX_WEIGHTED_LENGTH}."
            )
        if not post.text.strip() and not post.media:
            raise PermanentError("X does not take an empty post.")
        if len(post.media) > self.limits.max_media:
            raise PermanentError(f"X takes at most {self.limits.max_media} images a post.")
        for item in post.media:
            if item.content_type not in self.limits.media_types:
                raise PermanentError(f"X does not take {item.content_type} ({item.filename}).")
            if len(item.alt_text) > ALT_TEXT_MAX:
                raise PermanentError(f"X takes alt text of at most {ALT_TEXT_MAX} characters.")

    def _user_id(self) -> str:
        if not self.user_id:
            self.verify()
        return self.user_id

    def _remote(self, tweet: dict[str, Any]) -> RemotePost:
        remote_id = str(tweet["id"])
        return RemotePost(
            remote_id=remote_id,
            url=self._url(remote_id),
            text=original_text(tweet),
            published_at=_created_at(tweet),
        )

    def _url(self, remote_id: str) -> str:
        return tweet_url(self.username, remote_id)


# Reading X's answers ---------------------------------------------------------------------------
def original_text(tweet: dict[str, Any]) -> str:
    """The text as it was sent, rebuilt from the text X shows.

    X rewrites every link in `text` to a t.co link, appends a t.co link to attached images,
    and escapes &, < and > as HTML entities. Reconciliation matches our posts by their text
    (channels.base.find_published); compared as X shows it, a post with a link would never
    match, publishing would conclude it was never made, and sending it again would post it
    twice. The entities carry what each t.co link stands for, so the original comes back.
    (A link typed without "https://" comes back with X's "http://" added and will not match:
    publishing then waits out its grace period and asks a person, rather than post again.)
    """
    text = str(tweet.get("text") or "")
    had_media = False
    for link in (tweet.get("entities") or {}).get("urls") or []:
        short = str(link.get("url") or "")
        if not short:
            continue
        if link.get("media_key"):
            text, had_media = text.replace(short, ""), True
        else:
            text = text.replace(short, str(link.get("expanded_url") or short))
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return text.rstrip() if had_media else text


def _mentions(page: dict[str, Any]) -> Iterator[Mention]:
    users = (page.get("includes") or {}).get("users") or []
    usernames = {str(user["id"]): str(user["username"]) for user in users}
    for tweet in _data(page):
        username = usernames.get(str(tweet.get("author_id")), "")
        yield Mention(
            remote_id=str(tweet["id"]),
            author=f"@{username}" if username else str(tweet.get("author_id") or ""),
            text=original_text(tweet),
            url=tweet_url(username, str(tweet["id"])),
            published_at=_created_at(tweet),
        )


def _data(body: dict[str, Any]) -> list[dict[str, Any]]:
    data = body.get("data") or []
    return data if isinstance(data, list) else [data]


def _created_at(tweet: dict[str, Any]) -> datetime:
    stamp = tweet.get("created_at")
    if isinstance(stamp, str) and stamp:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    return created_at_of_id(str(tweet["id"]))


def created_at_of_id(tweet_id: str) -> datetime:
    """When X made a post, read from its snowflake id (the create call returns no time)."""
    try:
        milliseconds = (int(tweet_id) >> 22) + SNOWFLAKE_EPOCH_MS
    except ValueError:
        return utcnow()
    return datetime.fromtimestamp(milliseconds / 1000, UTC)


def tweet_url(username: str, tweet_id: str) -> str:
    # x.com/i/web/status/<id> opens any post when the author's name is not known.
    return TWEET_URL.format(username=username or "i/web", id=tweet_id)


def _client(session: XSession, access_token: Any) -> Any:
    # wait_on_rate_limit=False: tweepy would otherwise sleep in the worker until the limit
    # resets; publishing holds the account instead (RateLimited) and serves the others.
    client = tweepy.Client(bearer_token=access_token, return_type=dict, wait_on_rate_limit=False)
    client.session = session
    return client


def _delete_tweet(client: Any, remote_id: str) -> None:
    with suppress(tweepy.NotFound):  # already gone: what deleting was for
        client.delete_tweet(remote_id, user_auth=False)
