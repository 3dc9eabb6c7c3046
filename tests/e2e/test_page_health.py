"""Every main page carries the security headers and loads without a console error."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import PageProblems, SixfoldServer, sign_in

pytestmark = pytest.mark.e2e

PAGES = ("/", "/people", "/teams", "/roles", "/imports", "/audit", "/profile", "/network")


def assert_secure_headers(headers: dict[str, str], path: str) -> None:
    policy = headers.get("content-security-policy", "")
    assert "script-src 'self'" in policy, f"{path}: CSP is {policy!r}"
    assert "unsafe-inline" not in policy, f"{path}: CSP is {policy!r}"
    assert "frame-ancestors 'none'" in policy, f"{path}: CSP is {policy!r}"
    assert headers.get("x-content-type-options") == "nosniff", path


def test_pages_send_a_content_security_policy_and_log_no_errors(
    page: Page, sixfold_server: SixfoldServer, page_problems: PageProblems
) -> None:
    response = page.goto("/login")
    assert response is not None
    assert_secure_headers(response.headers, "/login")
    sign_in(page, sixfold_server.logins["administrator"])

    for path in PAGES:
        response = page.goto(path)
        assert response is not None
        assert response.status == 200, path
        assert_secure_headers(response.headers, path)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
    page.goto("/teams")
    page.get_by_role("navigation", name="Team tree").get_by_role("link").first.click()
    expect(page.get_by_role("navigation", name="Breadcrumb")).to_be_visible()
    page.goto("/people")
    page.get_by_role("main").get_by_role("table").get_by_role("link").first.click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()

    assert page_problems.all() == []
