"""Bluesky through the official `atproto` SDK, on bsky.social or any Personal Data Server.

Posts are records written by this account's PDS: `publish` writes an `app.bsky.feed.post`
with `com.atproto.repo.putRecord` under a record key derived from the idempotency key
(bluesky_records.record_key), so a repeated attempt rewrites the same record instead of
posting twice. Reading back uses `com.atproto.repo.listRecords` on the PDS itself, which
answers from the repository the write went to; mentions and metrics come from the AppView
(`app.bsky.*` calls the PDS forwards), which may lag or be down: its failures are transient.

Sessions: logging in (`createSession`) is rate-limited by PDSes (30 per 5 minutes per
account), so the session is stored with the credentials and reused; the SDK refreshes it
before it expires and every renewed session is saved at once through
`ConnectorContext.save_credentials`. Only when the PDS refuses the session does the
connector log in again with the app password; when it refuses that too, the channel needs
reconnecting (CredentialsError).
"""

from __future__ import annotations

import atexit
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any, ClassVar, TypeVar

import httpx
from atproto import Client, Session, SessionEvent, models
from atproto_client.exceptions import AtProtocolError, BadRequestError
from atproto_client.models.utils import get_model_as_dict
from atproto_client.request import Request

from sixfold.channels.base import (
    ChannelLimits,
    Connection,
    ConnectorContext,
    ConnectorError,
    CredentialsError,
    Mention,
    Metrics,
    OutgoingPost,
    PermanentError,
    RemotePost,
    SetupField,
)
from sixfold.channels.connectors import bluesky_records as records
from sixfold.channels.connectors.bluesky_errors import error_name, is_session_failure, translate
from sixfold.channels.connectors.bluesky_post import PostBuilder
from sixfold.channels.connectors.transport import count_graphemes
from sixfold.db import utcnow

DEFAULT_SERVICE = records.DEFAULT_SERVICE
_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
_PAGE = 100
_Result = TypeVar("_Result")


class BlueskyConnector:
    kind: ClassVar[str] = "bluesky"
    label: ClassVar[str] = "Bluesky"
    # app.bsky.feed.post: 300 graphemes; app.bsky.embed.images: 4 images of at most 1 MB.
    # The lexicon sets no limit on alt text; the Bluesky app stops at 2,000 characters.
    limits: ClassVar[ChannelLimits] = ChannelLimits(
        max_chars=records.MAX_GRAPHEMES,
        max_media=4,
        alt_text_max_chars=2000,
        media_types=("image/png", "image/jpeg", "image/webp", "image/gif"),
    )
    # putRecord under the derived record key: a second attempt replaces, never adds.
    idempotent: ClassVar[bool] = True
    # listRecords reads the repository the PDS wrote before answering putRecord (no index,
    # no lag), every Sixfold post carries its key in its record key and its `sixfoldKey`
    # field, and the record-key band is read in full: a key absent there was never posted.
    authoritative_record: ClassVar[bool] = True
    auth_flow: ClassVar[str] = "form"
    connect_summary: ClassVar[str] = "your handle and an app password"
    setup_fields: ClassVar[tuple[SetupField, ...]] = (
        SetupField(
            "service",
            "Server",
            help="Leave empty for bsky.social; give your PDS's address if you host your own.",
            input_type="url",
            required=False,
            placeholder=DEFAULT_SERVICE,
        ),
        SetupField("handle", "Handle", placeholder="yourname.bsky.social"),
        SetupField(
            "app_password",
            "App password",
            help="Made for Sixfold alone, never the account's own password.",
            secret=True,
            input_type="password",
            placeholder="xxxx-xxxx-xxxx-xxxx",
        ),
    )
    connect_steps: ClassVar[tuple[str, ...]] = (
        "In Bluesky, open Settings → Privacy and security → App passwords.",
        "Add an app password named “Sixfold” and copy it.",
        "Enter your handle and the app password below (and your server if it is not bsky.social).",
    )

    def __init__(self, context: ConnectorContext) -> None:
        try:
            # Checked again here: a channel stored before the rule must not send in clear.
            self.service = records.service_url(str(context.settings.get("service") or ""))
        except ConnectorError as error:
            raise CredentialsError(f"{error} Connect the channel again.") from error
        self.did = str(context.settings.get("did") or "")
        self.web = records.web_base(self.service, context.settings.get("web"))
        self.credentials = dict(context.credentials)
        self._save = context.save_credentials
        self._client: Client | None = None
        self._fresh_login = False
        if not self.did:
            raise CredentialsError("The Bluesky channel has no account: connect it again.")

    # Connecting ---------------------------------------------------------------------------

    @classmethod
    def connect(cls, values: dict[str, str]) -> Connection:
        service = records.service_url(values.get("service") or "")
        handle = (values.get("handle") or "").strip().lstrip("@")
        password = (values.get("app_password") or "").strip()
        if not handle or not password:
            raise CredentialsError("Enter the account's handle and an app password.")
        client = _new_client(service)
        try:
            client.login(handle, password, fetch_bsky_profile=False)
        except AtProtocolError as error:
            raise translate(error, writing=False) from error
        session = _session_of(client)
        if _scope(session) == "com.atproto.access":
            raise CredentialsError(
                "That is the account's own password. Make an app password for Sixfold "
                "(Settings → Privacy and security → App passwords) and enter it instead."
            )
        return Connection(
            handle=session.handle,
            settings={"service": service, "did": session.did},
            credentials={"app_password": password, "session": client.export_session_string()},
        )

    # The Connector protocol ---------------------------------------------------------------

    def verify(self) -> str:
        answer = self.call(lambda c: c.com.atproto.server.get_session())
        if answer.did != self.did:
            raise CredentialsError("These credentials belong to another Bluesky account.")
        return str(answer.handle)

    def publish(self, post: OutgoingPost, idempotency_key: str) -> RemotePost:
        builder = PostBuilder(post)
        builder.check()
        rkey = records.record_key(idempotency_key)
        existing = self._get_record(rkey)
        if existing is not None:
            return self._existing(rkey, existing, idempotency_key)
        record = self.call(lambda c: builder.build(c, idempotency_key))
        answer = self.call(
            lambda c: c.com.atproto.repo.put_record(
                models.ComAtprotoRepoPutRecord.Data(
                    repo=self.did,
                    collection=records.POST_COLLECTION,
                    rkey=rkey,
                    record=record,
                    validate=True,
                )
            ),
            writing=True,
        )
        return self._remote(str(answer.uri), get_model_as_dict(record))

    def delete(self, remote_id: str) -> None:
        uri = records.parse_at_uri(remote_id)
        if uri is None or uri.repo != self.did or uri.collection != records.POST_COLLECTION:
            raise PermanentError(f"{remote_id} is not a post of this Bluesky account.")
        self.call(
            lambda c: c.com.atproto.repo.delete_record(
                models.ComAtprotoRepoDeleteRecord.Data(
                    repo=self.did, collection=uri.collection, rkey=uri.rkey
                )
            ),
            writing=True,
        )

    def fetch_own_posts(self, since: datetime) -> list[RemotePost]:
        low, high = records.band_bounds()
        found: dict[str, RemotePost] = {}
        # Sixfold's band is read whole: our keys fall anywhere in it.
        for rkey, value in self._records(start_below=high, stop=lambda k: k < low):
            self._collect(found, rkey, value, since)
        # The rest newest-first, until keys minted by a clock are older than `since` (a day
        # of slack for clocks that disagree).
        floor = int(since.timestamp() * 1_000_000) - 86_400_000_000
        for rkey, value in self._records(start_below=None, stop=lambda k: _older(k, floor)):
            self._collect(found, rkey, value, since)
        return sorted(found.values(), key=lambda p: p.published_at, reverse=True)

    def find_post(self, idempotency_key: str) -> RemotePost | None:
        """Our post by its key: one getRecord under the record key the key derives, instead
        of reading every Sixfold record on the account. A record there that carries another
        key is not ours."""
        rkey = records.record_key(idempotency_key)
        value = self._get_record(rkey)
        if value is None or records.own_key(rkey, value) != idempotency_key:
            return None
        return self._remote(f"at://{self.did}/{records.POST_COLLECTION}/{rkey}", value)

    def fetch_mentions(self, since: datetime) -> list[Mention]:
        from sixfold.channels.connectors.bluesky_appview import mentions

        return mentions(self, since)

    def fetch_metrics(self, remote_ids: Sequence[str]) -> list[Metrics]:
        from sixfold.channels.connectors.bluesky_appview import metrics

        return metrics(self, remote_ids)

    @classmethod
    def count_characters(cls, text: str) -> int:
        return count_graphemes(text)

    # Reading and writing ------------------------------------------------------------------

    def post_url(self, did: str, rkey: str) -> str:
        return records.post_url(web=self.web, service=self.service, did=did, rkey=rkey)

    def _get_record(self, rkey: str) -> Any | None:
        def fetch(client: Client) -> Any | None:
            try:
                answer = client.com.atproto.repo.get_record(
                    models.ComAtprotoRepoGetRecord.Params(
                        repo=self.did, collection=records.POST_COLLECTION, rkey=rkey
                    )
                )
            except BadRequestError as error:
                if error_name(error) == "RecordNotFound":
                    return None
                raise
            return answer.value

        return self.call(fetch)

    def _existing(self, rkey: str, value: Any, idempotency_key: str) -> RemotePost:
        if records.own_key(rkey, value) != idempotency_key:
            # Two keys that derive the same record key: never overwrite the other post.
            raise PermanentError(
                "Another post already holds this post's Bluesky record key; it was not sent."
            )
        return self._remote(f"at://{self.did}/{records.POST_COLLECTION}/{rkey}", value)

    def _records(
        self, *, start_below: str | None, stop: Callable[[str], bool]
    ) -> Iterator[tuple[str, Any]]:
        cursor = start_below
        while True:
            page = self._list_page(cursor)
            for item in page.records:
                rkey = str(item.uri).rsplit("/", 1)[-1]
                if stop(rkey):
                    return
                yield rkey, item.value
            if not page.cursor or len(page.records) < _PAGE:
                return
            cursor = page.cursor

    def _list_page(self, cursor: str | None) -> Any:
        return self.call(
            lambda c: c.com.atproto.repo.list_records(
                models.ComAtprotoRepoListRecords.Params(
                    repo=self.did, collection=records.POST_COLLECTION, limit=_PAGE, cursor=cursor
                )
            )
        )

    def _collect(
        self, found: dict[str, RemotePost], rkey: str, value: Any, since: datetime
    ) -> None:
        uri = f"at://{self.did}/{records.POST_COLLECTION}/{rkey}"
        post = self._remote(uri, value)
        if post.published_at >= since:
            found[uri] = post

    def _remote(self, uri: str, value: Any) -> RemotePost:
        rkey = uri.rsplit("/", 1)[-1]
        created = records.parse_time(records.field(value, "createdAt"))
        return RemotePost(
            remote_id=uri,
            url=self.post_url(self.did, rkey),
            text=str(records.field(value, "text", "")),
            published_at=created or utcnow(),
            idempotency_key=records.own_key(rkey, value),
        )

    # Sessions -----------------------------------------------------------------------------

    def call(self, operation: Callable[[Client], _Result], *, writing: bool = False) -> _Result:
        """Run one SDK call on a logged-in client; log in again once if the PDS refuses the
        session (it refused the request, so nothing was written and repeating is safe)."""
        try:
            return operation(self._session())
        except AtProtocolError as error:
            if self._fresh_login or not is_session_failure(error):
                raise translate(error, writing=writing) from error
        self._client = self._password_login()
        try:
            return operation(self._client)
        except AtProtocolError as error:
            raise translate(error, writing=writing) from error

    def _session(self) -> Client:
        if self._client is None:
            self._client = self._stored_login() or self._password_login()
        return self._client

    def _stored_login(self) -> Client | None:
        stored = self.credentials.get("session")
        if not stored:
            return None
        client = self._watched_client()
        try:
            client.login(session_string=str(stored), fetch_bsky_profile=False)
        except (AtProtocolError, ValueError):
            return None  # Unreadable: the app password makes a new one.
        # An imported session may belong to another account only if settings were edited.
        return client if _session_of(client).did == self.did else None

    def _password_login(self) -> Client:
        password = self.credentials.get("app_password")
        if not password:
            raise CredentialsError("The Bluesky session expired and no app password is stored.")
        client = self._watched_client()
        self._fresh_login = True
        try:
            client.login(self.did, str(password), fetch_bsky_profile=False)
        except AtProtocolError as error:
            raise translate(error, writing=False) from error
        return client

    def _watched_client(self) -> Client:
        client = _new_client(self.service)

        def saved(event: SessionEvent, session: Session) -> None:
            if event in (SessionEvent.CREATE, SessionEvent.REFRESH):
                renewed = {"session": session.export()}
                self.credentials.update(renewed)
                if self._save is not None:
                    self._save(renewed)

        client.on_session_change(saved)
        return client


# One connection pool per process, shared by every connector: a publish builds a connector,
# uses it and drops it, and a pool of its own would leave its keep-alive sockets for the
# garbage collector. Shared, connections to the PDS are reused across publishes as well.
_TRANSPORT = httpx.HTTPTransport()
atexit.register(_TRANSPORT.close)


def _new_client(service: str) -> Client:
    return Client(base_url=service, request=Request(timeout=_TIMEOUT, transport=_TRANSPORT))


def _session_of(client: Client) -> Session:
    session = client._session  # The SDK exposes the session only this way.
    if session is None:
        raise CredentialsError("Bluesky did not open a session.")
    return session


def _scope(session: Session) -> str | None:
    payload = session.access_jwt_payload
    return getattr(payload, "scope", None) if payload is not None else None


def _older(rkey: str, floor_us: int) -> bool:
    timestamp = records.tid_time_us(rkey)
    return timestamp is not None and timestamp < floor_us
