"""Governed publishing in the browser, the story issue 4 asks for.

A contributor writes a post and sees the risk findings while typing, then submits it. A
community mentor approves it. It goes out on the internal stream at the time asked for,
through the embedded worker of the real `sixfold serve`. Then a leader pauses all
publishing, sees the banner, resumes, and publishes the post that came due meanwhile.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import (
    PageProblems,
    People,
    Screenshots,
    SixfoldServer,
    approve_post,
    sign_in,
    submit_post,
)

pytestmark = pytest.mark.e2e

ZONE = ZoneInfo("Europe/Amsterdam")  # the demo organisation's time zone
STREAM = "Northwind stream"
# The embedded worker looks for due work every second; a publication is late when it takes
# longer than this after its due time to show on the stream.
ON_TIME_SECONDS = 15


def _compose(page: Page, text: str, *, at: dt.datetime | None) -> None:
    page.goto("/posts/new")
    for box in page.locator("input[name=channel_ids]").all():
        box.set_checked(box.get_attribute("data-name") == STREAM)
    page.locator("#text").fill(text)
    if at is not None:
        page.get_by_label("At a time").check()
        page.locator("#publish-at").fill(at.astimezone(ZONE).strftime("%Y-%m-%dT%H:%M"))
    else:
        page.get_by_label("As soon as it is approved").check()


def _wait_for_stream(page: Page, text: str, *, deadline: float) -> None:
    while True:
        page.goto("/stream")
        if page.get_by_text(text).count():
            return
        if time.monotonic() > deadline:
            pytest.fail(f"{text!r} did not appear on the stream in time")
        page.wait_for_timeout(1000)


def _wait_for_state(page: Page, post_id: int, state: str, *, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while True:
        page.goto(f"/posts/{post_id}")
        if page.locator(f".pub-{state}").count():
            return
        if time.monotonic() > deadline:
            pytest.fail(f"post {post_id} never reached {state}")
        page.wait_for_timeout(500)


def test_write_review_schedule_publish_pause_and_resume(
    people: People, page_problems: PageProblems, screenshots: Screenshots
) -> None:
    contributor = people.signed_in("contributor")

    # 1. Writing: the risk check answers while the author types.
    now = dt.datetime.now(dt.UTC)
    due = (now + dt.timedelta(seconds=70)).replace(second=0, microsecond=0)
    due += dt.timedelta(minutes=1) if due - now < dt.timedelta(seconds=60) else dt.timedelta()
    text = (
        f"Town hall at {due:%H:%M}: our CEO on the election results and what they mean for "
        "our stores. Questions welcome below."
    )
    _compose(contributor, text, at=due)
    findings = contributor.locator("#findings")
    expect(findings).to_contain_text("politics")
    expect(contributor.locator("#risk-mirror mark").first).to_have_text("election results")
    screenshots.take(contributor, "composer")
    post_id = submit_post(contributor)
    expect(contributor.locator("h1 .status-pill")).to_have_text("in review")

    # 2. Review: the mentor finds it in the queue and approves; it is scheduled for `due`.
    mentor = people.signed_in("community_mentor")
    approve_post(mentor, post_id, text)
    expect(mentor.locator(".pub-pending")).to_have_count(1)

    # 3. Publishing at the right time, not before.
    assert dt.datetime.now(dt.UTC) < due, "the scheduled time passed before approval"
    contributor.goto("/stream")
    expect(contributor.get_by_text(text)).to_have_count(0)
    seconds_left = (due - dt.datetime.now(dt.UTC)).total_seconds()
    _wait_for_stream(contributor, text, deadline=time.monotonic() + seconds_left + ON_TIME_SECONDS)
    assert dt.datetime.now(dt.UTC) >= due
    screenshots.take(contributor, "stream")

    # 4. Crisis: the leader pauses everything and every page says so.
    leader = people.signed_in("leader")
    leader.goto("/publishing/pause")
    leader.locator("#pause-reason").fill("Flooding in the Rhine valley: all posts on hold.")
    leader.get_by_role("button", name="Pause publishing").click()
    banner = leader.get_by_role("alert").filter(has_text="Publishing is paused")
    expect(banner).to_contain_text("Flooding in the Rhine valley")
    contributor.goto("/calendar")
    expect(contributor.get_by_role("alert")).to_contain_text("Publishing is paused")

    # 5. A post approved during the pause is held, not published.
    held_text = "Thank you to the volunteers who filled sandbags in Arnhem this weekend."
    _compose(contributor, held_text, at=None)
    held_id = submit_post(contributor)
    approve_post(mentor, held_id, held_text)
    _wait_for_state(leader, held_id, "held")
    contributor.goto("/stream")
    expect(contributor.get_by_text(held_text)).to_have_count(0)

    # 6. Resume: the leader sees what became overdue and publishes it.
    leader.goto("/publishing/pause")
    leader.get_by_role("button", name=re.compile("^Resume")).first.click()
    leader.wait_for_url("**/publishing/overdue**")
    row = leader.locator("tr", has_text=held_text[:40])
    expect(row).to_have_count(1)
    screenshots.take(leader, "overdue")
    row.get_by_role("button", name="Publish now").click()
    expect(leader.get_by_role("alert").filter(has_text="Publishing is paused")).to_have_count(0)
    _wait_for_stream(contributor, held_text, deadline=time.monotonic() + 30)

    # Everything consequential is in the audit log.
    for action in ("post.approved", "post.published", "publishing.paused", "publishing.resumed"):
        leader.goto(f"/audit?action={action}")
        expect(leader.locator("tbody tr").filter(has_text=action).first).to_be_visible()
    assert page_problems.all() == []


def test_the_alt_text_counter_follows_the_chosen_channels(
    people: People, page_problems: PageProblems
) -> None:
    page = people.signed_in("contributor")
    page.goto("/posts/new")
    counter = page.locator("#new-alt-count")
    expect(counter).to_have_text("0 / 1500")  # what a draft keeps; the demo's channels take it
    page.locator("#new-alt-text").fill("A red tent by a lake")
    expect(counter).to_have_text("20 / 1500")
    # A channel that takes less (X takes 1,000) sets the limit once chosen. The demo has none,
    # so the stream is given a small limit the way the page gives it to the script.
    stream = page.locator(f"input[data-name='{STREAM}']")
    stream.evaluate("box => { box.dataset.altLimit = '12'; }")
    stream.set_checked(False)
    expect(counter).to_have_text("20 / 1500")
    stream.set_checked(True)
    expect(counter).to_have_text(f"20 / 12 ({STREAM}) — too long for {STREAM}")
    expect(counter).to_have_class(re.compile(r"\bover\b"))
    assert page_problems.all() == []


def test_the_composer_says_when_it_saved_in_the_organisation_zone(
    browser: Browser, sixfold_server: SixfoldServer, page_problems: PageProblems
) -> None:
    # The browser is in New York, the organisation in Amsterdam: the composer tells the time
    # as every page does, in the organisation's zone and labelled.
    context = browser.new_context(base_url=sixfold_server.url, timezone_id="America/New_York")
    page = context.new_page()
    page_problems.watch(page)
    sign_in(page, sixfold_server.logins["contributor"])
    page.goto("/posts/new")
    page.locator("#text").fill("Our Lisbon store opens an hour earlier on Saturdays.")
    status = page.locator("#save-status")
    expect(status).to_have_text(re.compile(r"^Saved at "))
    shown, label = status.inner_text().removeprefix("Saved at ").rsplit(" ", 1)
    now = dt.datetime.now(ZONE)
    assert label == f"{now:%Z}"  # "CET", where the browser itself would say "EST"
    saved = dt.datetime.strptime(shown, "%d %b %Y %H:%M").replace(tzinfo=ZONE)
    assert abs(now - saved) < dt.timedelta(minutes=2)
    context.close()
    assert page_problems.all() == []
