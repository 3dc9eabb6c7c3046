"""One outgoing post as an `app.bsky.feed.post` record: text, links, images, reply.

Links become rich-text facets, or Bluesky shows them as plain text: the SDK's detection (a
port of the reference TypeScript one) finds every URL, bare domain, #tag and @mention and
gives each its UTF-8 byte range, which is what facets index (not characters). Mentions are
resolved to DIDs through the PDS; a handle that does not resolve stays plain text.
"""

from __future__ import annotations

import io
from typing import Any

from atproto import Client, models
from atproto_client.models.utils import get_response_model
from PIL import Image, UnidentifiedImageError

from sixfold.channels.base import MediaItem, OutgoingPost, PermanentError
from sixfold.channels.connectors import bluesky_records as records
from sixfold.channels.connectors.transport import count_graphemes
from sixfold.db import utcnow

MAX_IMAGE_BYTES = 1_000_000  # app.bsky.embed.images#image: blob maxSize
MAX_IMAGES = 4
MAX_ALT_GRAPHEMES = 2000
IMAGE_TYPES = ("image/png", "image/jpeg", "image/webp", "image/gif")


class PostBuilder:
    def __init__(self, post: OutgoingPost) -> None:
        self.post = post

    def check(self) -> None:
        """Refuse, before any call, what Bluesky would refuse: retrying cannot help."""
        problem = records.text_problem(self.post.text)
        if problem is None and not self.post.text.strip() and not self.post.media:
            problem = "A Bluesky post needs text or an image."
        if problem is None:
            problem = _media_problem(self.post.media)
        if problem is not None:
            raise PermanentError(problem)

    def build(self, client: Client, idempotency_key: str) -> models.AppBskyFeedPost.Record:
        text = self.post.text
        facets = client.detect_facets(text) if text else []
        extra = {records.KEY_FIELD: idempotency_key}
        return models.AppBskyFeedPost.Record(
            text=text,
            created_at=_now_iso(),
            facets=facets or None,
            embed=self._images(client),
            reply=self._reply(client),
            **extra,
        )

    def _images(self, client: Client) -> models.AppBskyEmbedImages.Main | None:
        if not self.post.media:
            return None
        images = [_image(client, item) for item in self.post.media]
        return models.AppBskyEmbedImages.Main(images=images)

    def _reply(self, client: Client) -> models.AppBskyFeedPost.ReplyRef | None:
        if not self.post.reply_to:
            return None
        target = records.reply_target(self.post.reply_to)
        if target is None:
            raise PermanentError(f"{self.post.reply_to} is not a Bluesky post to reply to.")
        parent = client.com.atproto.repo.get_record(
            models.ComAtprotoRepoGetRecord.Params(
                repo=target.repo, collection=target.collection, rkey=target.rkey
            )
        )
        if parent.cid is None:
            raise PermanentError(f"{self.post.reply_to} has no version to reply to.")
        parent_ref = models.ComAtprotoRepoStrongRef.Main(uri=parent.uri, cid=parent.cid)
        # A reply names its thread's first post too: the parent's root, or the parent itself.
        thread = records.field(parent.value, "reply")
        root = records.field(thread, "root") if thread is not None else None
        root_ref = (
            models.ComAtprotoRepoStrongRef.Main(
                uri=str(records.field(root, "uri")), cid=str(records.field(root, "cid"))
            )
            if root is not None
            else parent_ref
        )
        return models.AppBskyFeedPost.ReplyRef(parent=parent_ref, root=root_ref)


def _media_problem(media: Any) -> str | None:
    if len(media) > MAX_IMAGES:
        return f"Bluesky posts hold at most {MAX_IMAGES} images."
    for item in media:
        if item.content_type not in IMAGE_TYPES:
            return f"Bluesky does not take {item.content_type} images ({item.filename})."
        if len(item.content) > MAX_IMAGE_BYTES:
            return f"{item.filename} is larger than Bluesky's 1 MB per image."
        if count_graphemes(item.alt_text) > MAX_ALT_GRAPHEMES:
            return f"The description of {item.filename} is longer than {MAX_ALT_GRAPHEMES}."
    return None


def _image(client: Client, item: MediaItem) -> models.AppBskyEmbedImages.Image:
    # The SDK's upload_blob hands the bytes to httpx as `data=`, which httpx deprecates;
    # the same call with `content=` sends the same request.
    response = client.invoke_procedure(
        "com.atproto.repo.uploadBlob",
        content=item.content,
        input_encoding=item.content_type,
        output_encoding="application/json",
    )
    uploaded = get_response_model(response, models.ComAtprotoRepoUploadBlob.Response)
    return models.AppBskyEmbedImages.Image(
        alt=item.alt_text, image=uploaded.blob, aspect_ratio=_aspect_ratio(item.content)
    )


def _aspect_ratio(content: bytes) -> models.AppBskyEmbedDefs.AspectRatio | None:
    # Lets the apps lay the image out before it loads; an unreadable image simply has none.
    try:
        with Image.open(io.BytesIO(content)) as image:
            width, height = image.size
    except (UnidentifiedImageError, OSError):
        return None
    return models.AppBskyEmbedDefs.AspectRatio(width=width, height=height)


def _now_iso() -> str:
    return utcnow().strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
