"""What the navigation offers each role, and moving through a page with the keyboard."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Screenshots, SixfoldServer, sign_in

pytestmark = pytest.mark.e2e


def test_a_contributor_sees_no_audit_or_import_and_is_refused_the_audit_log(
    page: Page, sixfold_server: SixfoldServer, screenshots: Screenshots
) -> None:
    sign_in(page, sixfold_server.logins["contributor"])
    navigation = page.get_by_role("navigation", name="Main")
    expect(navigation.get_by_role("link", name="Overview")).to_be_visible()

    expect(navigation.get_by_role("link", name="Audit log")).to_have_count(0)
    expect(navigation.get_by_role("link", name="Import")).to_have_count(0)

    for path in ("/audit", "/imports"):
        response = page.goto(path)
        assert response is not None
        assert response.status == 403
        expect(page.get_by_role("heading", level=1)).to_have_text("Not allowed")
        expect(page.get_by_role("table")).to_have_count(0)
    screenshots.take(page, "not-allowed")


def test_the_skip_link_comes_first_and_moves_focus_to_the_main_content(
    page: Page, sixfold_server: SixfoldServer
) -> None:
    sign_in(page, sixfold_server.logins["administrator"])
    skip = page.get_by_role("link", name="Skip to content")

    page.keyboard.press("Tab")

    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.get_by_role("main")).to_be_focused()
    page.keyboard.press("Tab")
    # The next stop is inside the content, past the navigation.
    assert page.evaluate("document.querySelector('main').contains(document.activeElement)")
