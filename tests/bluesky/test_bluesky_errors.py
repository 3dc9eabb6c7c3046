"""Faults a real PDS does not make on demand, from a PDS played by pytest-httpserver.

Each test serves the recorded answers (tests/channels/payloads/bluesky/) for one fault and
checks what publishing is told: refused for good, try later (and when), no answer (reconcile
first), or reconnect.
"""

from __future__ import annotations

import base64
import json
import socket
import time
from typing import Any

import httpx
import pytest
from atproto import Session
from atproto_client.exceptions import InvokeTimeoutError, NetworkError
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from sixfold.channels.base import (
    AmbiguousError,
    ConnectorContext,
    CredentialsError,
    OutgoingPost,
    PermanentError,
    RateLimited,
    TransientError,
)
from sixfold.channels.connectors import bluesky
from sixfold.channels.connectors.bluesky_errors import translate
from tests.bluesky.appview import payload

DID = "did:plc:ewvi7nxzyoun6zhxrhs64oiz"
ERRORS = payload("pds_errors.json")


def jwt(**claims: Any) -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'typ': 'at+jwt', 'alg': 'ES256K'})}.{part(claims)}.c2ln"


def session_answer() -> dict[str, Any]:
    answer = dict(payload("create_session.json"))
    exp = int(time.time()) + 7200
    answer["accessJwt"] = jwt(sub=DID, exp=exp, scope="com.atproto.appPass")
    answer["refreshJwt"] = jwt(sub=DID, exp=exp + 86400, scope="com.atproto.refresh")
    return answer


def fake_pds(httpserver: HTTPServer, put_record: Any) -> bluesky.BlueskyConnector:
    httpserver.expect_request("/xrpc/com.atproto.server.createSession").respond_with_json(
        session_answer()
    )
    httpserver.expect_request("/xrpc/com.atproto.repo.getRecord").respond_with_json(
        ERRORS["record_not_found"], status=400
    )
    httpserver.expect_request("/xrpc/com.atproto.repo.putRecord").respond_with_handler(put_record)
    context = ConnectorContext(
        channel_id=1,
        settings={"service": httpserver.url_for("/").rstrip("/"), "did": DID},
        credentials={"app_password": "aaaa-bbbb-cccc-dddd"},
    )
    return bluesky.BlueskyConnector(context)


def answer(body: Any, status: int, headers: dict[str, str] | None = None) -> Any:
    def handle(request: Request) -> Response:
        return Response(json.dumps(body), status, headers, content_type="application/json")

    return handle


def publish(connector: bluesky.BlueskyConnector) -> None:
    connector.publish(OutgoingPost(text="The harbour walk opens on Saturday."), "fault-key")


def test_a_rate_limit_says_when_to_try_again(httpserver: HTTPServer) -> None:
    reset = int(time.time()) + 120
    headers = {
        "ratelimit-limit": "5000",
        "ratelimit-remaining": "0",
        "ratelimit-reset": str(reset),
        "ratelimit-policy": "5000;w=3600",
    }
    connector = fake_pds(httpserver, answer(ERRORS["rate_limit_exceeded"], 429, headers))
    with pytest.raises(RateLimited) as limited:
        publish(connector)
    assert limited.value.scope == "account"
    assert limited.value.retry_after is not None
    assert 110 <= limited.value.retry_after <= 121


def test_a_crash_before_accepting_is_transient(httpserver: HTTPServer) -> None:
    connector = fake_pds(httpserver, answer(ERRORS["internal_server_error"], 500))
    with pytest.raises(TransientError) as error:
        publish(connector)
    assert not isinstance(error.value, RateLimited)


def test_a_record_the_lexicon_refuses_is_refused_for_good(httpserver: HTTPServer) -> None:
    connector = fake_pds(httpserver, answer(ERRORS["invalid_record"], 400))
    with pytest.raises(PermanentError, match="must not be longer than 300 graphemes"):
        publish(connector)


def test_a_session_refused_after_a_fresh_login_needs_reconnecting(
    httpserver: HTTPServer,
) -> None:
    connector = fake_pds(httpserver, answer(ERRORS["invalid_token"], 401))
    with pytest.raises(CredentialsError):
        publish(connector)
    logins = [r for r, _ in httpserver.log if r.path.endswith("createSession")]
    assert len(logins) == 1, "one login per connector: the first one was fresh"


def test_an_expired_token_logs_in_again_and_goes_on(httpserver: HTTPServer) -> None:
    answers = [
        (ERRORS["expired_token"], 400),
        ({"uri": f"at://{DID}/app.bsky.feed.post/x", "cid": "bafyrei" + "a" * 52}, 200),
    ]

    def put_record(request: Request) -> Response:
        body, status = answers.pop(0)
        return Response(json.dumps(body), status, content_type="application/json")

    connector = fake_pds(httpserver, put_record)
    connector.credentials["session"] = stored_session(connector.service)
    publish(connector)
    logins = [r for r, _ in httpserver.log if r.path.endswith("createSession")]
    assert len(logins) == 1


def stored_session(service: str) -> str:
    data = session_answer()
    return Session(
        handle=data["handle"],
        did=data["did"],
        access_jwt=data["accessJwt"],
        refresh_jwt=data["refreshJwt"],
        pds_endpoint=service,
    ).export()


def test_no_answer_after_sending_is_ambiguous(
    httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bluesky, "_TIMEOUT", httpx.Timeout(0.5))

    def slow(request: Request) -> Response:
        time.sleep(1.0)
        return Response("{}", 200, content_type="application/json")

    connector = fake_pds(httpserver, slow)
    with pytest.raises(AmbiguousError):
        publish(connector)


def test_a_server_that_cannot_be_reached_is_transient() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    context = ConnectorContext(
        channel_id=1,
        settings={"service": f"http://127.0.0.1:{port}", "did": DID},
        credentials={"app_password": "aaaa-bbbb-cccc-dddd"},
    )
    with pytest.raises(TransientError) as error:
        publish(bluesky.BlueskyConnector(context))
    assert not isinstance(error.value, AmbiguousError)


def transport_failure(kind: type[NetworkError], cause: Exception) -> NetworkError:
    try:
        raise kind() from cause
    except NetworkError as error:
        return error


@pytest.mark.parametrize(
    ("failure", "writing", "expected"),
    [
        (transport_failure(NetworkError, httpx.ConnectError("refused")), True, TransientError),
        (transport_failure(InvokeTimeoutError, httpx.ConnectTimeout("slow")), True, TransientError),
        (transport_failure(InvokeTimeoutError, httpx.ReadTimeout("late")), True, AmbiguousError),
        (transport_failure(NetworkError, httpx.RemoteProtocolError("cut")), True, AmbiguousError),
        (transport_failure(InvokeTimeoutError, httpx.ReadTimeout("late")), False, TransientError),
    ],
)
def test_transport_failures_are_ambiguous_only_when_a_write_may_have_landed(
    failure: NetworkError, writing: bool, expected: type[Exception]
) -> None:
    translated = translate(failure, writing=writing)
    assert type(translated) is expected
