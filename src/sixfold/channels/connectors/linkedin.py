"""The LinkedIn connector: posts as a member or as an organisation page through LinkedIn's
REST Posts API, signed in with OAuth 2 (3-legged authorization code).

Exactly once: LinkedIn takes no idempotency key, so a post whose answer was lost is found
again among the author's own posts by its text (`fetch_own_posts` returns the commentary
un-escaped, so it compares equal to the text we sent). LinkedIn also refuses to post the
same content twice within a while, naming the earlier post ("Content is a duplicate of
urn:li:share:..."). That is not taken as our post: the publisher never sends to LinkedIn again
after an unanswered call (it looks instead), so the earlier post is almost always a different
one with the same text, and `publish` refuses with a PermanentError naming it.

What LinkedIn lets an app read is narrower than what it lets it post. Reading a member's own
posts and their likes needs `r_member_social`, which LinkedIn grants to approved apps only;
without it those reads fail with a PermanentError that says so, and reconciliation cannot see
a member's posts. Organisation pages (`r_organization_social`) have no such gap.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from datetime import datetime
from functools import partial
from typing import Any, ClassVar

from sixfold.channels import tokens
from sixfold.channels.base import (
    AmbiguousError,
    Authorization,
    ChannelLimits,
    Connection,
    ConnectorContext,
    CredentialsError,
    MediaItem,
    Mention,
    Metrics,
    OutgoingPost,
    PermanentError,
    RemotePost,
    SetupField,
)
from sixfold.channels.connectors.linkedin_api import (
    API_BASE,
    OAUTH_BASE,
    LinkedInApi,
    Session,
    authorization_url,
    encode_urn,
    epoch_ms,
    error_message,
    escape_little,
    feed_url,
    from_epoch_ms,
    open_http,
    read_userinfo,
    token_credentials,
    token_request,
    unescape_little,
)
from sixfold.db import utcnow

MEMBER_SCOPES = ["openid", "profile", "w_member_social"]
# Pages need the Community Management API product; rw_organization_admin is what LinkedIn asks
# for reading a page's notifications (its mentions).
PAGE_SCOPES = [
    "openid",
    "profile",
    "w_organization_social",
    "r_organization_social",
    "rw_organization_admin",
]
PAGE_SIZE = 50
MAX_PAGES = 20  # 1000 posts or notifications: far more than any reconciliation window holds.
_BASES = ("api_base", "oauth_base")
_ORGANISATION = re.compile(r"^(?:urn:li:organization:)?(\d+)$")
_DUPLICATE = re.compile(r"duplicate of (urn:li:(?:share|ugcPost):\d+)", re.IGNORECASE)


def author_from(post_as: str) -> str | None:
    """The page to post as, from what a person typed (12345, or urn:li:organization:12345);
    None to post as the member who signs in."""
    wanted = post_as.strip()
    if not wanted:
        return None
    match = _ORGANISATION.match(wanted)
    if match is None:
        raise PermanentError(
            f"{wanted!r} is not a LinkedIn page number: give the digits of the page's admin "
            "address (linkedin.com/company/12345/admin), or leave it empty to post as yourself."
        )
    return f"urn:li:organization:{match.group(1)}"


def handle_for(author: str, member_name: str) -> str:
    if author.startswith("urn:li:organization:"):
        return f"page {author.rsplit(':', 1)[1]} via {member_name}"
    return member_name


class LinkedInConnector:
    kind: ClassVar[str] = "linkedin"
    label: ClassVar[str] = "LinkedIn"
    # 3000 characters of commentary. Up to 9 images: LinkedIn's multi-image documentation says
    # 9 in one sentence and 20 in the next, and 9 holds for both. Alt text up to 4086
    # characters (the Posts API media schema). The Images API takes JPEG, PNG and GIF.
    limits: ClassVar[ChannelLimits] = ChannelLimits(
        max_chars=3000,
        max_media=9,
        alt_text_max_chars=4086,
        media_types=("image/png", "image/jpeg", "image/gif"),
    )
    # LinkedIn takes no idempotency key: only reconciliation keeps a post exactly once.
    idempotent: ClassVar[bool] = False
    auth_flow: ClassVar[str] = "oauth2"
    connect_summary: ClassVar[str] = "your LinkedIn app's client ID and secret, then sign in"
    setup_fields: ClassVar[tuple[SetupField, ...]] = (
        SetupField("client_id", "Client ID", "From your app's Auth tab."),
        SetupField("client_secret", "Client secret", "From the same tab.", secret=True),
        SetupField(
            "post_as",
            "Post as page",
            "The number of a company page you administer (linkedin.com/company/12345/admin), "
            "or empty to post as yourself.",
            required=False,
            placeholder="12345",
        ),
    )
    connect_steps: ClassVar[tuple[str, ...]] = (
        "Create an app at https://www.linkedin.com/developers/apps and add the products "
        "'Sign In with LinkedIn using OpenID Connect' and 'Share on LinkedIn' (to post as "
        "a page: 'Community Management API').",
        "In the app's Auth tab, add this page's return address as an authorized redirect URL.",
        "Copy the client ID and secret here, then sign in to LinkedIn when asked.",
    )

    def __init__(self, context: ConnectorContext) -> None:
        author = context.settings.get("author_urn")
        if not author:
            raise CredentialsError("The LinkedIn channel has no author: connect it again")
        self.author = str(author)
        renew = partial(tokens.renew, context)
        self.api = LinkedInApi(context.settings, context.credentials, renew)

    @classmethod
    def count_characters(cls, text: str) -> int:
        # LinkedIn counts what people see, not the escaping we add. Its services are Java and
        # measure UTF-16 code units (an emoji is two): counting them can only over-count, so
        # a text that fits here fits there.
        return len(text.encode("utf-16-le")) // 2

    # Connecting ------------------------------------------------------------------------------

    @classmethod
    def authorize(cls, values: dict[str, str], redirect_uri: str, state: str) -> Authorization:
        client_id = values.get("client_id", "").strip()
        if not client_id or not values.get("client_secret", "").strip():
            raise PermanentError("Give the client ID and client secret of your LinkedIn app.")
        page = author_from(values.get("post_as", ""))
        url = authorization_url(
            values.get("oauth_base") or OAUTH_BASE,
            client_id=client_id,
            redirect_uri=redirect_uri,
            state=state,
            scopes=PAGE_SCOPES if page else MEMBER_SCOPES,
        )
        # The platform keeps what the person typed for the return trip; this is what it means.
        pending = {"page": page or ""}
        return Authorization(url=url, pending=pending)

    @classmethod
    def complete(
        cls, values: dict[str, str], pending: dict[str, Any], redirect_uri: str, code: str
    ) -> Connection:
        known = {**{k: v.strip() for k, v in values.items()}, **pending}
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "client_id": str(known["client_id"]),
            "client_secret": str(known["client_secret"]),
            "redirect_uri": redirect_uri,
        }
        with open_http() as http:
            body = token_request(http, str(known.get("oauth_base") or OAUTH_BASE), form)
            credentials = token_credentials(body, utcnow())
            api_base = str(known.get("api_base") or API_BASE)
            me = read_userinfo(http, api_base, credentials["access_token"])
        member = f"urn:li:person:{me['sub']}"
        author = str(known.get("page") or member)
        settings = {"author_urn": author, "member_urn": member}
        settings |= {key: known[key] for key in _BASES if known.get(key)}
        credentials |= {"client_id": form["client_id"], "client_secret": form["client_secret"]}
        return Connection(handle_for(author, str(me["name"])), settings, credentials)

    def verify(self) -> str:
        with self.api.session() as api:
            me = api.call("GET", "/v2/userinfo").json()
        return handle_for(self.author, str(me.get("name") or me.get("sub")))

    # Posting ---------------------------------------------------------------------------------

    def publish(self, post: OutgoingPost, idempotency_key: str) -> RemotePost:
        # No key reaches LinkedIn: `idempotency_key` only names the attempt (see module doc).
        self._check(post)
        with self.api.session() as api:
            body = self._post_body(post.text, self._upload_all(api, post.media))
            response = api.call("POST", "/rest/posts", kind="create", json=body, allow=(422,))
            if response.status_code == 422:
                raise _refused(error_message(response))
        urn = response.headers.get("x-restli-id")
        if not urn:
            # Created (201), so the post is there: reconciliation finds it by its text.
            raise AmbiguousError("LinkedIn took the post but did not say its id")
        return RemotePost(urn, feed_url(urn), post.text, utcnow())

    def _check(self, post: OutgoingPost) -> None:
        limits = self.limits
        if post.reply_to:
            raise PermanentError(
                "LinkedIn posts cannot answer other posts: a reply there is a comment, "
                "which Sixfold does not publish."
            )
        if self.count_characters(post.text) > limits.max_chars:
            raise PermanentError(f"The text is longer than LinkedIn's {limits.max_chars}.")
        if len(post.media) > limits.max_media:
            raise PermanentError(f"LinkedIn takes at most {limits.max_media} images.")
        for item in post.media:
            if item.content_type not in limits.media_types:
                raise PermanentError(f"LinkedIn does not take {item.content_type} images.")
            if len(item.alt_text) > limits.alt_text_max_chars:
                raise PermanentError(f"Alt text of {item.filename} is too long for LinkedIn.")

    def _upload_all(self, api: Session, media: Sequence[MediaItem]) -> list[dict[str, str]]:
        images = []
        for item in media:
            started = api.call(
                "POST",
                "/rest/images",
                kind="write",
                params={"action": "initializeUpload"},
                json={"initializeUploadRequest": {"owner": self.author}},
            ).json()["value"]
            api.upload(str(started["uploadUrl"]), item.content, item.content_type)
            images.append({"id": str(started["image"]), "altText": item.alt_text})
        return images

    def _post_body(self, text: str, images: list[dict[str, str]]) -> dict[str, Any]:
        body: dict[str, Any] = {
            "author": self.author,
            "commentary": escape_little(text),
            "visibility": "PUBLIC",
            "distribution": {
                "feedDistribution": "MAIN_FEED",
                "targetEntities": [],
                "thirdPartyDistributionChannels": [],
            },
            "lifecycleState": "PUBLISHED",
            "isReshareDisabledByAuthor": False,
        }
        if len(images) == 1:
            body["content"] = {"media": images[0]}
        elif images:
            body["content"] = {"multiImage": {"images": images}}
        return body

    def delete(self, remote_id: str) -> None:
        with self.api.session() as api:
            # 404: already gone, which is what deleting wants.
            api.call("DELETE", f"/rest/posts/{encode_urn(remote_id)}", kind="write", allow=(404,))

    # Reading ---------------------------------------------------------------------------------

    def fetch_own_posts(self, since: datetime) -> list[RemotePost]:
        params = {"q": "author", "author": self.author, "sortBy": "LAST_MODIFIED"}
        with self.api.session() as api:
            return [
                _remote(element)
                for element in _newest_first(api, "/rest/posts", params=params, since=since)
                if element.get("lifecycleState", "PUBLISHED") == "PUBLISHED"
                and _created(element) >= since
            ]

    def fetch_mentions(self, since: datetime) -> list[Mention]:
        """Posts that mention the organisation page, from its notifications (SHARE_MENTION).

        A member has no mentions here: LinkedIn offers no API that lists the posts mentioning
        a member, so for a member this returns [] (they see mentions in LinkedIn's own
        notifications)."""
        if not self.author.startswith("urn:li:organization:"):
            return []
        window = f"(start:{epoch_ms(since)},end:{epoch_ms(utcnow())})"
        query = (
            f"q=criteria&actions=List(SHARE_MENTION)&organizationalEntity="
            f"{encode_urn(self.author)}&timeRange={window}"
        )
        path = "/rest/organizationalEntityNotifications"
        with self.api.session() as api:
            notes = list(_newest_first(api, path, query=query, since=since))
        return [
            _mention(n) for n in notes if n.get("action") == "SHARE_MENTION" and _at(n) >= since
        ]

    def fetch_metrics(self, remote_ids: Sequence[str]) -> list[Metrics]:
        found = []
        with self.api.session() as api:
            for urn in remote_ids:
                response = api.call("GET", f"/rest/socialActions/{encode_urn(urn)}", allow=(404,))
                if response.status_code != 404:  # A deleted post has no counts left.
                    found.append(_metrics(urn, response.json()))
        return found


def _newest_first(
    api: Session,
    path: str,
    *,
    since: datetime,
    params: dict[str, Any] | None = None,
    query: str | None = None,
) -> Iterator[dict[str, Any]]:
    """Elements of a paged collection that LinkedIn returns newest (last modified) first,
    until they are older than `since`: a post modified before `since` was created before it."""
    for page in range(MAX_PAGES):
        paging = {"start": page * PAGE_SIZE, "count": PAGE_SIZE}
        if query is not None:
            found = api.call(
                "GET", path, query=f"{query}&start={paging['start']}&count={PAGE_SIZE}"
            )
        else:
            found = api.call("GET", path, params={**(params or {}), **paging})
        elements: list[dict[str, Any]] = found.json().get("elements", [])
        yield from elements
        if len(elements) < PAGE_SIZE or any(_at(e) < since for e in elements):
            return


def _at(element: dict[str, Any]) -> datetime:
    return from_epoch_ms(element.get("lastModifiedAt") or element.get("createdAt") or 0)


def _created(element: dict[str, Any]) -> datetime:
    return from_epoch_ms(element.get("publishedAt") or element.get("createdAt") or 0)


def _refused(message: str) -> PermanentError:
    """A 422: LinkedIn's validation refused the post for good. A duplicate names the earlier
    post, which people need to see to decide (see the module doc)."""
    duplicate = _DUPLICATE.search(message)
    if duplicate is None:
        return PermanentError(message)
    url = feed_url(duplicate.group(1))
    return PermanentError(f"LinkedIn refused this as a duplicate of {url}")


def _remote(element: dict[str, Any]) -> RemotePost:
    urn = str(element["id"])
    # Un-escaped, so reconciliation compares it with the text we sent (see module doc).
    text = unescape_little(str(element.get("commentary", "")))
    return RemotePost(urn, feed_url(urn), text, _created(element))


def _mention(note: dict[str, Any]) -> Mention:
    source = note.get("decoratedSourcePost") or {}
    urn = str(note.get("sourcePost") or source.get("entity"))
    text = unescape_little(str(source.get("text", "")))
    return Mention(urn, str(source.get("owner", "")), text, feed_url(urn), _at(note))


def _metrics(urn: str, actions: dict[str, Any]) -> Metrics:
    likes = actions.get("likesSummary") or {}
    comments = actions.get("commentsSummary") or {}
    return Metrics(
        urn,
        {
            "likes": int(likes.get("totalLikes", likes.get("aggregatedTotalLikes", 0))),
            "comments": int(
                comments.get("aggregatedTotalComments", comments.get("totalFirstLevelComments", 0))
            ),
        },
    )
