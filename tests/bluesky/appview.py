"""A stand-in for Bluesky's AppView that the real local PDS forwards `app.bsky.*` calls to.

The AppView is Bluesky's index of the whole network and cannot run here. The PDS under test
is started with `PDS_BSKY_APP_VIEW_URL` pointing at this server, so the connector's calls go
through the PDS's real proxying (service auth, error passing) and land here. Answers are the
recorded payloads in tests/channels/payloads/bluesky/, made stateful where the tests need it:
`getPosts` describes the records that really are on the PDS (read back from it), with the
recorded counts. `fail_next` makes the next call(s) fail as an AppView can.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

PAYLOADS = Path(__file__).parents[1] / "channels" / "payloads" / "bluesky"


def payload(name: str) -> Any:
    return json.loads((PAYLOADS / name).read_text("utf-8"))


@dataclass
class Failure:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class FakeAppView:
    server: HTTPServer
    pds_url: str = ""
    failures: list[Failure] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    # Authorization headers the PDS sent: it signs each forwarded call for the account.
    authorizations: list[str] = field(default_factory=list)

    @classmethod
    def start(cls) -> FakeAppView:
        server = HTTPServer(host="127.0.0.1", port=0)
        server.start()
        view = cls(server)
        server.expect_request("/xrpc/app.bsky.feed.getPosts").respond_with_handler(
            view._guarded(view._get_posts)
        )
        server.expect_request("/xrpc/app.bsky.notification.listNotifications").respond_with_handler(
            view._guarded(view._list_notifications)
        )
        return view

    @property
    def url(self) -> str:
        return self.server.url_for("/").rstrip("/")

    def stop(self) -> None:
        self.server.clear()
        if self.server.is_running():
            self.server.stop()

    def fail_next(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        self.failures.append(Failure(status, body, headers or {}))

    def _guarded(self, answer: Any) -> Any:
        def handle(request: Request) -> Response:
            self.calls.append(request.path.rsplit("/", 1)[-1])
            self.authorizations.append(request.headers.get("Authorization", ""))
            if self.failures:
                failure = self.failures.pop(0)
                return _json(failure.body, status=failure.status, headers=failure.headers)
            return _json(answer(request))

        return handle

    def _get_posts(self, request: Request) -> Any:
        template = payload("get_posts.json")["posts"][0]
        views = [self._post_view(template, uri) for uri in request.args.getlist("uris")]
        return {"posts": [v for v in views if v is not None]}

    def _post_view(self, template: dict[str, Any], uri: str) -> dict[str, Any] | None:
        repo, collection, rkey = uri.removeprefix("at://").split("/", 2)
        answer = httpx.get(
            f"{self.pds_url}/xrpc/com.atproto.repo.getRecord",
            params={"repo": repo, "collection": collection, "rkey": rkey},
        )
        if answer.status_code != 200:
            return None  # The AppView leaves out posts it does not know.
        record = answer.json()
        view = copy.deepcopy(template)
        view.update(uri=record["uri"], cid=record["cid"], record=record["value"])
        view["author"].update(did=repo, handle=_handle_of(self.pds_url, repo))
        return dict(view)

    def _list_notifications(self, request: Request) -> Any:
        if request.args.get("cursor"):
            return {"notifications": []}
        return payload("list_notifications.json")


def _handle_of(pds_url: str, did: str) -> str:
    answer = httpx.get(f"{pds_url}/xrpc/com.atproto.repo.describeRepo", params={"repo": did})
    return str(answer.json()["handle"]) if answer.status_code == 200 else "handle.invalid"


def _json(body: Any, *, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps(body), status=status, headers=headers or {}, content_type="application/json"
    )
