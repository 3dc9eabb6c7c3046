"""Mastodon, through Mastodon.py: one account on one server, connected with OAuth 2.

Exactly once: every status goes out with Mastodon's `Idempotency-Key` header, and the server
answers a second request with the same key (within an hour) with the status the first one
made. Mastodon does not show the key on the status, so reconciliation matches by text; the
text is read back from the status's HTML with a real HTML parser.

Errors are sorted by what the server said. Mastodon.py is told to raise on a rate limit
(`ratelimit_method="throw"`) instead of sleeping a worker until the limit resets, and every
request has a timeout.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, ClassVar
from urllib.parse import urlsplit

from mastodon import Mastodon
from mastodon.errors import (
    MastodonAPIError,
    MastodonError,
    MastodonIllegalArgumentError,
    MastodonNotFoundError,
)

from sixfold.channels.base import (
    Authorization,
    ChannelLimits,
    Connection,
    ConnectorContext,
    ConnectorError,
    CredentialsError,
    MediaItem,
    Mention,
    Metrics,
    OutgoingPost,
    PermanentError,
    RemotePost,
    SetupField,
    TransientError,
)
from sixfold.channels.connectors import mastodon_instance as instance_info
from sixfold.channels.connectors.mastodon_errors import connecting, message_of, translated
from sixfold.channels.connectors.mastodon_text import Status, count_characters, status_text

SCOPES = ["read", "write"]
APP_NAME = "Sixfold"
PAGE_SIZE = 40  # Mastodon's largest page
MAX_PAGES = 25  # a thousand posts back is far beyond any reconciliation look-back
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


class MastodonConnector:
    kind: ClassVar[str] = "mastodon"
    label: ClassVar[str] = "Mastodon"
    # What a default Mastodon server accepts, and what a channel connected before Sixfold
    # kept its server's limits goes on with. Each server sets its own (many take 5,000
    # characters): they are read at connect and Verify, and `limits_for` gives them back.
    limits: ClassVar[ChannelLimits] = ChannelLimits(
        max_chars=500,
        max_media=4,
        alt_text_max_chars=1500,
        media_types=("image/png", "image/jpeg", "image/gif", "image/webp", "video/mp4"),
    )
    # The Idempotency-Key makes a second POST with the same key return the first status, for
    # one hour. Beyond the hour the server forgets the key and a second POST would post
    # again; publishing never resends blindly, though: after an unanswered call it first
    # reconciles against the account's own posts (by text, since Mastodon does not echo the
    # key) and sends again only when the post is absent. A text look can miss (the status
    # was edited), so past the hour a post not found is not resent: its row fails with
    # "check the account" (see channels.base.idempotency_window).
    idempotent: ClassVar[bool] = True
    idempotency_window: ClassVar[timedelta | None] = timedelta(hours=1)
    auth_flow: ClassVar[str] = "oauth2"
    setup_fields: ClassVar[tuple[SetupField, ...]] = (
        SetupField(
            "server",
            "Mastodon server",
            help=(
                "The address of the server the account is on, such as https://mastodon.social. "
                "It must start with https:// (plain http:// only for a server on this "
                "machine, for testing)."
            ),
            input_type="url",
            placeholder="https://mastodon.social",
        ),
    )
    connect_steps: ClassVar[tuple[str, ...]] = (
        "Give the address of the Mastodon server the organisation's account is on.",
        "Sixfold registers itself there as an app and sends you to the server to sign in.",
        "Sign in as the account and approve Sixfold's access (read and write); you come "
        "back here with the channel connected.",
    )
    request_timeout: ClassVar[float] = 30.0
    media_wait_seconds: ClassVar[float] = 60.0
    media_poll_seconds: ClassVar[float] = 1.0

    def __init__(self, context: ConnectorContext) -> None:
        self.settings = context.settings
        self.credentials = context.credentials
        self._client: Mastodon | None = None
        self._account_id: str | None = None

    # Connecting ----------------------------------------------------------------------

    @classmethod
    def authorize(cls, values: Mapping[str, str], redirect_uri: str, state: str) -> Authorization:
        server = server_url(values.get("server", ""))
        client_id, client_secret = connecting(
            server, lambda: _register(server, redirect_uri, timeout=cls.request_timeout)
        )
        api = cls._make_client(server, client_id=client_id, client_secret=client_secret)
        url = connecting(
            server,
            lambda: api.auth_request_url(
                redirect_uris=redirect_uri, scopes=SCOPES, state=state, allow_http=_plain(server)
            ),
        )
        pending = {"client_id": client_id, "client_secret": client_secret, "server": server}
        return Authorization(url=url, pending=pending)

    @classmethod
    def complete(
        cls, values: Mapping[str, str], pending: Mapping[str, Any], redirect_uri: str, code: str
    ) -> Connection:
        server = server_url(str(pending.get("server") or values.get("server", "")))
        client_id, client_secret = str(pending["client_id"]), str(pending["client_secret"])
        api = cls._make_client(server, client_id=client_id, client_secret=client_secret)
        try:
            token = api.log_in(
                code=code, redirect_uri=redirect_uri, scopes=SCOPES, allow_http=_plain(server)
            )
        except (MastodonIllegalArgumentError, MastodonAPIError) as error:
            # Mastodon.py wraps the server's refusal (a used or wrong code, scopes not
            # granted) in these; the person has to start again.
            raise CredentialsError(f"{server} did not accept the sign-in: {error}") from error
        account = connecting(server, api.account_verify_credentials)
        instance = connecting(server, lambda: instance_info.read_instance(api))
        domain = instance_info.local_domain(instance, server)
        return Connection(
            handle=f"@{account['username']}@{domain}",
            settings={
                "server": server,
                "account_id": str(account["id"]),
                "domain": domain,
                **instance_info.reported_limits(instance),
            },
            credentials={
                "client_id": client_id,
                "client_secret": client_secret,
                "access_token": token,
            },
        )

    @classmethod
    def _make_client(
        cls,
        server: str,
        *,
        access_token: str | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
    ) -> Mastodon:
        return Mastodon(
            client_id=client_id,
            client_secret=client_secret,
            access_token=access_token,
            api_base_url=server,
            ratelimit_method="throw",
            request_timeout=cls.request_timeout,
            user_agent=APP_NAME,
        )

    # The account ---------------------------------------------------------------------

    def verify(self) -> str:
        account = self._call(lambda api: api.account_verify_credentials())
        self._account_id = str(account["id"])
        return f"@{account['username']}@{self._domain()}"

    def reported_settings(self) -> dict[str, Any]:
        instance = self._call(instance_info.read_instance)
        return instance_info.reported_limits(instance, stored=self.settings)

    def publish(self, post: OutgoingPost, idempotency_key: str) -> RemotePost:
        most = self.limits_for(self.settings).max_media
        if len(post.media) > most:
            # Mastodon would silently drop the attachments past its limit.
            raise PermanentError(f"This Mastodon server takes at most {most} attachments.")
        media_ids = [self._upload(item) for item in post.media]
        status = self._call(
            lambda api: api.status_post(
                post.text,
                in_reply_to_id=post.reply_to,
                media_ids=media_ids or None,
                visibility="public",
                idempotency_key=idempotency_key,
            ),
            sending=True,
        )
        return self._remote(status)

    def delete(self, remote_id: str) -> None:
        # Deleting a status that is already gone leaves the account as wanted.
        self._call(lambda api: api.status_delete(remote_id), missing_ok=True)

    def fetch_own_posts(self, since: datetime) -> list[RemotePost]:
        account_id = self._own_id()
        statuses = self._newer_than(
            since,
            lambda api: api.account_statuses(account_id, exclude_reblogs=True, limit=PAGE_SIZE),
        )
        return [self._remote(s) for s in statuses if not s.get("reblog")]

    def fetch_mentions(self, since: datetime) -> list[Mention]:
        notifications = self._newer_than(
            since, lambda api: api.notifications(types=["mention"], limit=PAGE_SIZE)
        )
        return [
            self._mention(n["status"])
            for n in notifications
            if n.get("type") == "mention" and n.get("status")
        ]

    def fetch_metrics(self, remote_ids: Sequence[str]) -> list[Metrics]:
        found = []
        for remote_id in remote_ids:
            status = self._call(partial(Mastodon.status, id=remote_id), missing_ok=True)
            if status is not None:  # a deleted status has no metrics any more
                values = {
                    "replies": int(status.get("replies_count") or 0),
                    "reblogs": int(status.get("reblogs_count") or 0),
                    "favourites": int(status.get("favourites_count") or 0),
                }
                found.append(Metrics(remote_id=remote_id, values=values))
        return found

    @classmethod
    def count_characters(cls, text: str) -> int:
        return count_characters(text)

    @classmethod
    def count_characters_for(cls, text: str, settings: Mapping[str, Any]) -> int:
        return count_characters(text, instance_info.url_chars(settings))

    @classmethod
    def limits_for(cls, settings: Mapping[str, Any]) -> ChannelLimits:
        return instance_info.limits_from(settings, cls.limits)

    # Calls ---------------------------------------------------------------------------

    def _api(self) -> Mastodon:
        if self._client is None:
            server, token = self.settings.get("server"), self.credentials.get("access_token")
            if not server or not token:
                raise CredentialsError("The Mastodon channel is not connected: connect it again.")
            self._client = self._make_client(
                server_url(str(server)),
                access_token=str(token),
                client_id=self.credentials.get("client_id") or None,
                client_secret=self.credentials.get("client_secret") or None,
            )
        return self._client

    def _call(
        self, action: Callable[[Mastodon], Any], *, sending: bool = False, missing_ok: bool = False
    ) -> Any:
        api = self._api()
        try:
            return action(api)
        except MastodonNotFoundError as error:
            if missing_ok:
                return None
            raise PermanentError(message_of(error)) from error
        except MastodonError as error:
            raise translated(error, api, sending=sending) from error

    def _upload(self, item: MediaItem) -> str:
        media = self._call(
            lambda api: api.media_post(
                item.content,
                mime_type=item.content_type,
                description=item.alt_text or None,
                file_name=item.filename,
            )
        )
        media_id = str(media["id"])
        # Video and large images are processed after the upload answers (202); a status
        # naming unprocessed media is refused, so wait here, within a bound.
        deadline = time.monotonic() + self.media_wait_seconds
        while media.get("url") is None:
            if time.monotonic() > deadline:
                raise TransientError(f"Mastodon is still processing {item.filename}.")
            time.sleep(self.media_poll_seconds)
            media = self._call(lambda api: api.media(media_id))
        return media_id

    def _newer_than(self, since: datetime, first: Callable[[Mastodon], Any]) -> list[Status]:
        """Items of a newest-first timeline created at or after `since`, page by page."""
        found: list[Status] = []
        page = self._call(first)
        for _ in range(MAX_PAGES):
            if not page:
                break
            for item in page:
                if aware(item["created_at"]) < since:
                    return found
                found.append(item)
            page = self._call(partial(Mastodon.fetch_next, previous_page=page))
        return found

    def _own_id(self) -> str:
        if self._account_id is None:
            stored = self.settings.get("account_id")
            account = (
                {"id": stored}
                if stored
                else self._call(lambda api: api.account_verify_credentials())
            )
            self._account_id = str(account["id"])
        return self._account_id

    def _domain(self) -> str:
        domain = self.settings.get("domain")
        return str(domain) if domain else urlsplit(str(self.settings.get("server"))).netloc

    def _remote(self, status: Status) -> RemotePost:
        return RemotePost(
            remote_id=str(status["id"]),
            url=str(status.get("url") or status.get("uri") or ""),
            text=status_text(status),
            published_at=aware(status["created_at"]),
        )

    def _mention(self, status: Status) -> Mention:
        acct = str(status["account"]["acct"])
        return Mention(
            remote_id=str(status["id"]),
            # Accounts on the same server are shown without their domain: add it.
            author="@" + (acct if "@" in acct else f"{acct}@{self._domain()}"),
            text=status_text(status),
            url=str(status.get("url") or status.get("uri") or ""),
            published_at=aware(status["created_at"]),
        )


# Servers and dates ------------------------------------------------------------------------


def server_url(raw: str) -> str:
    """The server's base URL from what a person typed: https only, except for this machine."""
    text = raw.strip()
    if text and "://" not in text:
        text = "https://" + text
    parts = urlsplit(text)
    host = (parts.hostname or "").lower()
    if not host or parts.username or parts.password or parts.query or parts.fragment:
        raise ConnectorError(f"{raw!r} is not a server address such as https://mastodon.social.")
    if parts.path not in ("", "/"):
        raise ConnectorError("Give only the server's address, without a path.")
    if parts.scheme != "https" and not (parts.scheme == "http" and host in LOCAL_HOSTS):
        raise ConnectorError("The server address must start with https://.")
    return f"{parts.scheme}://{parts.netloc.lower()}"


def _plain(server: str) -> bool:
    return server.startswith("http://")


def _register(server: str, redirect_uri: str, *, timeout: float) -> tuple[str, str]:
    """Sixfold as an app on the server, with the callback of this installation."""
    origin = urlsplit(redirect_uri)
    try:
        return Mastodon.create_app(
            APP_NAME,
            scopes=SCOPES,
            redirect_uris=redirect_uri,
            website=f"{origin.scheme}://{origin.netloc}",
            api_base_url=server,
            request_timeout=timeout,
            user_agent=APP_NAME,
        )
    except (KeyError, TypeError):
        # create_app reads client_id from whatever came back: an error body has none.
        raise ConnectorError(
            f"{server} did not register Sixfold as an app. Is it a Mastodon server?"
        ) from None


def aware(value: Any) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
