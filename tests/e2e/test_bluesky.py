"""Bluesky in the browser, the story issue 5 asks for, against a real local PDS.

An administrator connects a Bluesky account with an app password and sends a test post. A
contributor writes a post with a link for that channel; a community mentor approves it; the
worker of the real `sixfold serve` publishes it. The post page links to the post, which the
browser opens on the PDS, and the PDS holds it once, with the link as a link facet.
"""

from __future__ import annotations

import re
import secrets
import time

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.bluesky.pds import LocalPds
from tests.e2e.conftest import PageProblems, People, Screenshots, approve_post, submit_post

pytestmark = pytest.mark.e2e

PUBLISHED_WITHIN_SECONDS = 30


def _connect(page: Page, pds: LocalPds, name: str) -> tuple[str, str]:
    account = pds.create_account("e2e")
    page.goto("/channels/new")
    page.locator('a[href="/channels/connect/bluesky"]').click()
    page.wait_for_url("**/channels/connect/bluesky")
    page.locator("#field-service").fill(pds.url)
    page.locator("#field-handle").fill(account.handle)
    page.locator("#field-app_password").fill(account.app_password)
    page.locator("#channel-name").fill(name)
    page.get_by_role("button", name="Connect", exact=True).click()
    page.wait_for_url(re.compile(r"/channels/\d+"))
    expect(page.get_by_role("status")).to_contain_text(f"Connected as {account.handle}")
    return account.handle, account.did


def _compose_for(page: Page, channel: str, text: str) -> None:
    page.goto("/posts/new")
    for box in page.locator("input[name=channel_ids]").all():
        box.set_checked(box.get_attribute("data-name") == channel)
    page.locator("#text").fill(text)
    page.get_by_label("As soon as it is approved").check()


def _wait_until_published(page: Page, post_id: int) -> None:
    deadline = time.monotonic() + PUBLISHED_WITHIN_SECONDS
    while not page.locator(".pub-confirmed").count():
        if time.monotonic() > deadline:
            pytest.fail(f"post {post_id} was not published on Bluesky in time")
        page.wait_for_timeout(500)
        page.goto(f"/posts/{post_id}")


def test_connect_bluesky_then_publish_through_review_and_see_the_post_on_the_pds(
    people: People,
    bluesky_pds: LocalPds,
    page_problems: PageProblems,
    screenshots: Screenshots,
) -> None:
    channel = f"Bluesky {secrets.token_hex(3)}"
    admin = people.signed_in("administrator")
    handle, did = _connect(admin, bluesky_pds, channel)
    screenshots.take(admin, "bluesky-connected")

    # The test post proves the connection before anyone relies on it, and can be removed.
    admin.get_by_role("button", name="Send a test post").click()
    test_post = admin.locator("#test-post")
    expect(test_post).to_contain_text("The test post was published")
    [sent] = bluesky_pds.records(did)
    assert "Sixfold connection test" in sent["value"]["text"]  # type: ignore[index]
    admin.get_by_role("button", name="Delete the test post").click()
    expect(admin.get_by_role("status")).to_contain_text("deleted")
    assert bluesky_pds.records(did) == []

    link = f"https://example.org/trails/{secrets.token_hex(4)}"
    text = f"Our autumn trail guide is out, with twelve walks for families: {link}"
    contributor = people.signed_in("contributor")
    _compose_for(contributor, channel, text)
    post_id = submit_post(contributor)
    expect(contributor.locator("h1 .status-pill")).to_have_text("in review")

    mentor = people.signed_in("community_mentor")
    approve_post(mentor, post_id, text)
    _wait_until_published(contributor, post_id)
    screenshots.take(contributor, "bluesky-published")

    # The post page links to the post; the browser opens it on the PDS.
    row = contributor.locator("tr", has=contributor.locator(".pub-confirmed"))
    view = row.get_by_role("link", name="View")
    address = view.get_attribute("href")
    assert address is not None
    assert address.startswith(bluesky_pds.url)
    record = httpx.get(address, timeout=10).json()
    assert record["value"]["text"] == text
    # A tab of its own: the PDS serves no favicon, which is not a problem of our pages.
    on_pds = contributor.context.new_page()
    on_pds.goto(address)
    expect(on_pds.locator("body")).to_contain_text(link)
    screenshots.take(on_pds, "bluesky-on-the-pds")
    on_pds.close()

    # Once on the PDS, with the link as a link facet over exactly the URL's bytes.
    records = bluesky_pds.records(did)
    assert [r["value"]["text"] for r in records] == [text]  # type: ignore[index]
    facet = records[0]["value"]["facets"][0]  # type: ignore[index]
    encoded = text.encode("utf-8")
    start, end = facet["index"]["byteStart"], facet["index"]["byteEnd"]
    assert encoded[start:end].decode() == link
    assert facet["features"][0]["uri"] == link
    assert handle.endswith(".test")
    assert page_problems.all() == []
