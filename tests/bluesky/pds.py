"""A real AT Protocol PDS for the tests: started from tools/pds/server.mjs, one per test run.

The PDS (with its PLC directory) runs in a Node process bound to 127.0.0.1 on free ports,
with its data in a temporary folder, and forwards `app.bsky.*` calls to a FakeAppView. It
starts on first use (`shared_pds()`), so runs without Bluesky tests never pay for it, and
`stop_shared_pds()` ends it when the run ends (tests/bluesky/plugin.py). Node and the npm
packages are required: without them the tests fail with what to install, never skip.
"""

from __future__ import annotations

import json
import os
import secrets
import selectors
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx

from tests.bluesky.appview import FakeAppView

ROOT = Path(__file__).resolve().parents[2]
LAUNCHER = ROOT / "tools" / "pds" / "server.mjs"
START_TIMEOUT_SECONDS = 60
ADMIN_PASSWORD = "sixfold-test-admin"


@dataclass(frozen=True)
class Account:
    handle: str
    did: str
    password: str
    app_password: str


@dataclass
class LocalPds:
    url: str
    plc_url: str
    process: subprocess.Popen[bytes]
    appview: FakeAppView
    data_dir: Path
    startup_seconds: float
    log: IO[bytes]
    accounts: list[Account] = field(default_factory=list)

    def create_account(self, prefix: str = "t") -> Account:
        """A fresh account with an app password, as a person would make for Sixfold."""
        handle = f"{prefix}{secrets.token_hex(4)}.test"
        password = secrets.token_urlsafe(12)
        created = _post(
            f"{self.url}/xrpc/com.atproto.server.createAccount",
            json={"handle": handle, "email": f"{handle}@example.com", "password": password},
        )
        app = _post(
            f"{self.url}/xrpc/com.atproto.server.createAppPassword",
            json={"name": "Sixfold"},
            headers={"Authorization": f"Bearer {created['accessJwt']}"},
        )
        account = Account(handle, created["did"], password, app["password"])
        self.accounts.append(account)
        return account

    def records(self, did: str, collection: str = "app.bsky.feed.post") -> list[dict[str, str]]:
        """Every record of a collection, read straight from the PDS (all pages)."""
        found: list[dict[str, str]] = []
        cursor: str | None = None
        while True:
            params = {"repo": did, "collection": collection, "limit": "100"}
            if cursor:
                params["cursor"] = cursor
            page = httpx.get(f"{self.url}/xrpc/com.atproto.repo.listRecords", params=params)
            page.raise_for_status()
            body = page.json()
            found.extend(body["records"])
            cursor = body.get("cursor")
            if not cursor or not body["records"]:
                return found

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for pipe in (self.process.stdin, self.process.stdout):
            if pipe is not None:
                pipe.close()
        self.appview.stop()
        self.log.close()
        shutil.rmtree(self.data_dir, ignore_errors=True)


def _post(url: str, **kwargs: object) -> dict[str, str]:
    answer = httpx.post(url, timeout=30, **kwargs)  # type: ignore[arg-type]
    if answer.status_code != 200:
        raise RuntimeError(f"the local PDS refused {url}: {answer.status_code} {answer.text}")
    body: dict[str, str] = answer.json()
    return body


def start_pds(*, answer_delay_ms: int = 0) -> LocalPds:
    node = shutil.which("node")
    if node is None or not (LAUNCHER.parent / "node_modules").is_dir():
        raise RuntimeError(
            "The Bluesky tests need Node.js and the PDS packages: install nodejs and npm, "
            "then run `make install` (it runs `npm ci` in tools/pds)."
        )
    appview = FakeAppView.start()
    data_dir = Path(tempfile.mkdtemp(prefix="sixfold-pds-"))
    log = (data_dir / "launcher.log").open("wb")
    started = time.monotonic()
    process = subprocess.Popen(
        [
            node,
            str(LAUNCHER),
            "--data-dir",
            str(data_dir),
            "--admin-password",
            ADMIN_PASSWORD,
            "--appview-url",
            appview.url,
            "--answer-delay-ms",
            str(answer_delay_ms),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=log,
        env={**os.environ, "LOG_ENABLED": "false"},
    )
    try:
        ready = _ready_line(process)
    except Exception:
        process.kill()
        process.wait()
        appview.stop()
        log.close()
        raise
    appview.pds_url = ready["pds"]
    return LocalPds(
        ready["pds"], ready["plc"], process, appview, data_dir, time.monotonic() - started, log
    )


def _ready_line(process: subprocess.Popen[bytes]) -> dict[str, str]:
    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(timeout=START_TIMEOUT_SECONDS):
            raise RuntimeError(f"the local PDS did not start within {START_TIMEOUT_SECONDS} s")
    line = process.stdout.readline()
    if not line:
        raise RuntimeError(f"the local PDS exited with {process.wait()} before it was ready")
    ready: dict[str, str] = json.loads(line)
    return ready


_shared: list[LocalPds] = []


def shared_pds() -> LocalPds:
    """The run's PDS, started on first use."""
    if not _shared:
        _shared.append(start_pds())
    return _shared[0]


def stop_shared_pds() -> None:
    while _shared:
        _shared.pop().stop()
