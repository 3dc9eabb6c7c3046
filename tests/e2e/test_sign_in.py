"""Signing in with the demo logins that `sixfold demo` hands out."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Login, Screenshots, SixfoldServer, sign_in, submit_login_form

pytestmark = pytest.mark.e2e

DEMO_ORGANISATION = "Northwind Outdoor Co."


def test_a_wrong_password_is_refused_and_the_right_one_opens_the_overview(
    page: Page, sixfold_server: SixfoldServer, screenshots: Screenshots
) -> None:
    admin = sixfold_server.logins["administrator"]

    submit_login_form(page, Login(admin.email, admin.password + "-wrong"))

    expect(page.get_by_role("alert")).to_have_text("E-mail or password is not correct.")
    expect(page.get_by_label("E-mail")).to_have_value(admin.email)
    expect(page.get_by_role("navigation", name="Main")).to_have_count(0)

    sign_in(page, admin)

    expect(page).to_have_url(sixfold_server.url + "/")
    expect(page.get_by_role("heading", level=1)).to_have_text(DEMO_ORGANISATION)
    expect(page.get_by_text("Welcome, Alex Admin.")).to_be_visible()
    expect(page.get_by_role("link", name="Alex Admin")).to_be_visible()
    screenshots.take(page, "overview")


def test_a_page_asked_for_before_signing_in_opens_after_it(
    page: Page, sixfold_server: SixfoldServer
) -> None:
    page.goto("/teams")
    expect(page).to_have_url(sixfold_server.url + "/login?next=/teams")

    page.get_by_label("E-mail").fill(sixfold_server.logins["administrator"].email)
    page.get_by_label("Password").fill(sixfold_server.logins["administrator"].password)
    page.get_by_role("button", name="Sign in").click()

    expect(page).to_have_url(sixfold_server.url + "/teams")
    expect(page.get_by_role("heading", level=1)).to_have_text("Teams")
