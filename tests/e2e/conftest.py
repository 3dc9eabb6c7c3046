"""End-to-end fixtures: the real `sixfold` command serving each backend, driven by Chromium.

Per backend the run seeds the demo organisation with `sixfold demo` and starts
`sixfold serve` as a subprocess, exactly as `make run` does, with its embedded worker. One
Chromium (Debian's, at /usr/bin/chromium) serves every test; each test gets a fresh browser
context, so no cookie or session leaks from one test into the next.

Set SIXFOLD_E2E_SCREENSHOTS=1 to keep screenshots of the main pages in tests/e2e/screenshots/.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Dialog,
    Error,
    Page,
    Playwright,
    Request,
    expect,
    sync_playwright,
)
from sqlalchemy.engine import make_url

from tests.conftest import _fresh_postgres_database
from tests.pgcluster import free_port

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SECRET_KEY = "e2e-secret-key-" + "k" * 40
SCREENSHOTS = Path(__file__).parent / "screenshots"
START_SECONDS = 30
STOP_SECONDS = 10
# Browser actions and assertions wait this long; the server answers locally in milliseconds.
TIMEOUT_MS = 10_000

expect.set_options(timeout=TIMEOUT_MS)


@dataclass(frozen=True)
class Login:
    email: str
    password: str


@dataclass(frozen=True)
class SixfoldServer:
    """A running `sixfold serve` with the demo organisation in its own database."""

    backend: str
    url: str
    data_dir: Path
    logins: dict[str, Login]


@dataclass
class PageProblems:
    """What a person would not see but a developer's console would: errors and failed loads."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)

    def watch(self, page: Page) -> None:
        page.on("console", self._on_console)
        page.on("pageerror", self._on_page_error)
        page.on("requestfailed", self._on_request_failed)

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.console_errors.append(f"{message.text} at {message.location.get('url')}")

    def _on_page_error(self, error: Error) -> None:
        self.page_errors.append(str(error))

    def _on_request_failed(self, request: Request) -> None:
        # Moving to the next page cancels what the last one still loads (the favicon,
        # typically); Chromium reports that as aborted, which is the test's doing.
        if request.failure != "net::ERR_ABORTED":
            self.failed_requests.append(f"{request.method} {request.url}: {request.failure}")

    def all(self) -> list[str]:
        return [*self.console_errors, *self.page_errors, *self.failed_requests]


def _sixfold_command() -> str:
    """The `sixfold` script installed beside the running Python, as `make run` uses it."""
    beside = Path(sys.executable).with_name("sixfold")
    found = str(beside) if beside.exists() else shutil.which("sixfold")
    if found is None:
        pytest.fail("the `sixfold` command is not installed: run `make install`", pytrace=False)
    return found


def _environment(data_dir: Path, database_url: str | None) -> dict[str, str]:
    # A developer's own SIXFOLD_* settings (an OIDC issuer, say) must not change what the
    # tests see, so the server gets only the settings named here.
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIXFOLD_")}
    env.update(SIXFOLD_DATA_DIR=str(data_dir), SIXFOLD_SECRET_KEY=SECRET_KEY)
    if database_url is not None:
        env["SIXFOLD_DATABASE_URL"] = database_url
    return env


def _seed_demo(command: str, env: dict[str, str], data_dir: Path) -> dict[str, Login]:
    result = subprocess.run(
        [command, "demo"], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    if result.returncode != 0:
        pytest.fail(f"`sixfold demo` failed:\n{result.stdout}\n{result.stderr}", pytrace=False)
    rows = json.loads((data_dir / "demo-logins.json").read_text("utf-8"))
    return {role: Login(email, password) for role, email, password in rows}


def _healthy(port: int) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
    try:
        connection.request("GET", "/healthz")
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


def _wait_until_healthy(process: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(
                f"`sixfold serve` exited with {process.returncode}:\n{log.read_text()}",
                pytrace=False,
            )
        if _healthy(port):
            return
        time.sleep(0.1)
    pytest.fail(
        f"`sixfold serve` did not answer /healthz within {START_SECONDS} s:\n{log.read_text()}",
        pytrace=False,
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="session")
def sixfold_server(
    request: pytest.FixtureRequest,
    database_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[SixfoldServer]:
    """`sixfold demo` then `sixfold serve` on a fresh database of each backend."""
    backend = make_url(database_url).get_backend_name()
    data_dir = tmp_path_factory.mktemp(f"e2e-{backend}")
    server_database = None
    if backend == "postgresql":
        # The run's test database belongs to the rollback-per-test fixtures; the server
        # commits for real, so it gets a database of its own.
        server_database = _fresh_postgres_database(
            request.getfixturevalue("postgres_server_url"), "sixfold_e2e"
        )
    command = _sixfold_command()
    env = _environment(data_dir, server_database)
    logins = _seed_demo(command, env, data_dir)
    port = free_port()
    log = data_dir / "serve.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [command, "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_until_healthy(process, port, log)
        yield SixfoldServer(backend, f"http://127.0.0.1:{port}", data_dir, logins)
    finally:
        _stop(process)


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not CHROMIUM.exists():
        # CI installs Debian's chromium; a missing browser is a broken machine, not a
        # reason to skip the only tests that look at what people see.
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: install Debian's `chromium` package "
            "(apt-get install chromium). The end-to-end tests never skip.",
            pytrace=False,
        )
    chromium = playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
    )
    yield chromium
    chromium.close()


@pytest.fixture
def context(browser: Browser, sixfold_server: SixfoldServer) -> Iterator[BrowserContext]:
    fresh = browser.new_context(
        base_url=sixfold_server.url, viewport={"width": 1280, "height": 800}
    )
    fresh.set_default_timeout(TIMEOUT_MS)
    yield fresh
    fresh.close()


@pytest.fixture
def page_problems() -> PageProblems:
    return PageProblems()


@pytest.fixture
def page(context: BrowserContext, page_problems: PageProblems) -> Page:
    opened = context.new_page()
    page_problems.watch(opened)
    return opened


def submit_login_form(page: Page, login: Login) -> None:
    page.goto("/login")
    page.get_by_label("E-mail").fill(login.email)
    page.get_by_label("Password").fill(login.password)
    page.get_by_role("button", name="Sign in").click()


def sign_in(page: Page, login: Login) -> None:
    """Sign in through the login form, as a person would, and wait for the signed-in page."""
    submit_login_form(page, login)
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


@dataclass(frozen=True)
class Screenshots:
    """Full-page screenshots, kept only when SIXFOLD_E2E_SCREENSHOTS is set."""

    backend: str
    enabled: bool

    def take(self, page: Page, name: str) -> None:
        if self.enabled:
            SCREENSHOTS.mkdir(exist_ok=True)
            page.screenshot(path=SCREENSHOTS / f"{self.backend}-{name}.png", full_page=True)


@pytest.fixture
def screenshots(sixfold_server: SixfoldServer) -> Screenshots:
    return Screenshots(sixfold_server.backend, bool(os.environ.get("SIXFOLD_E2E_SCREENSHOTS")))


def _accept(dialog: Dialog) -> None:
    dialog.accept()


class People:
    """One browser context per person, as if each sat at their own computer."""

    def __init__(self, browser: Browser, server: SixfoldServer, problems: PageProblems) -> None:
        self.browser, self.server, self.problems = browser, server, problems
        self.contexts: list[BrowserContext] = []

    def signed_in(self, role: str) -> Page:
        context = self.browser.new_context(
            base_url=self.server.url, viewport={"width": 1280, "height": 900}
        )
        context.set_default_timeout(TIMEOUT_MS)
        self.contexts.append(context)
        page = context.new_page()
        self.problems.watch(page)
        # Confirmation dialogs ("Stop publishing now?") are answered yes, as a person would.
        page.on("dialog", _accept)
        sign_in(page, self.server.logins[role])
        return page

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def people(
    browser: Browser, sixfold_server: SixfoldServer, page_problems: PageProblems
) -> Iterator[People]:
    crowd = People(browser, sixfold_server, page_problems)
    yield crowd
    crowd.close()


def submit_post(page: Page) -> int:
    page.get_by_role("button", name="Save and submit").click()
    page.wait_for_url(re.compile(r"/posts/\d+(\?.*)?$"))
    match = re.search(r"/posts/(\d+)", page.url)
    assert match is not None
    return int(match.group(1))


def approve_post(page: Page, post_id: int, text: str) -> None:
    page.goto("/review")
    link = page.locator(f'a[href="/posts/{post_id}"]')
    expect(link).to_contain_text(text[:30])
    link.click()
    page.wait_for_url(f"**/posts/{post_id}")
    page.get_by_role("button", name=re.compile(r"^Approve version")).click()
    expect(page.locator("h1 .status-pill")).to_have_text("scheduled")
