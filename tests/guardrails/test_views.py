"""The guardrails settings pages: who may use them, what they validate, what they record."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from sixfold.audit import AuditEntry
from sixfold.auth.permissions import Role
from sixfold.guardrails.forms import local_today
from sixfold.guardrails.models import EventSuggestion, FeedFetchJob, RiskSettings, SensitiveEvent
from sixfold.org import service as org_service
from tests import factories
from tests.guardrails.conftest import Browser, Guardians

EVENT = {"name": "Harbour fire", "kind": "disaster", "keywords": "harbour fire\nRotterdam blaze"}


def event_form(guardians: Guardians, **changes: str) -> dict[str, str]:
    return {**EVENT, "starts_on": local_today(guardians.org).isoformat(), **changes}


def audit_actions(db: Session) -> list[str]:
    db.expire_all()
    return [e.action for e in db.scalars(select(AuditEntry).order_by(AuditEntry.seq))]


def events(db: Session) -> list[SensitiveEvent]:
    db.expire_all()
    return list(db.scalars(select(SensitiveEvent).order_by(SensitiveEvent.id)))


def add(browser: Browser, guardians: Guardians, **changes: str) -> SensitiveEvent:
    response = browser.form("/settings/risk/events", event_form(guardians, **changes))
    assert response.status_code == 303, response.text
    return events(browser.db)[-1]


def suggestion(db: Session, guardians: Guardians, title: str = "Wildfire near Athens") -> int:
    row = EventSuggestion(
        organisation_id=guardians.org.id,
        guid=title,
        title=title,
        link="https://news.example/athens",
        published_at=dt.datetime(2026, 11, 20, 8, tzinfo=dt.UTC),
        keywords=["Athens", "wildfire"],
        kind="disaster",
    )
    db.add(row)
    db.commit()
    return row.id


def test_leaders_find_the_pages_in_the_navigation_and_others_are_kept_out(
    db: Session, browser: Browser, guardians: Guardians
) -> None:
    assert 'href="/settings"' in browser.get("/").text  # the navigation's Settings entry
    assert 'href="/settings/risk"' in browser.get("/settings").text
    contributor = factories.person(db, guardians.org, roles=(Role.CONTRIBUTOR,), password=None)
    browser.as_(contributor)
    assert 'href="/settings/risk"' not in browser.get("/settings").text
    assert browser.get("/settings/risk").status_code == 403
    assert browser.form("/settings/risk/events", event_form(guardians)).status_code == 403
    assert events(db) == []
    browser.as_(None)
    response = browser.get("/settings/risk/policy")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")


def test_a_form_without_the_csrf_token_changes_nothing(
    db: Session, browser: Browser, guardians: Guardians
) -> None:
    response = browser.client.post("/settings/risk/events", data=event_form(guardians))
    assert response.status_code == 403
    response = browser.client.post(
        "/settings/risk/policy", data={"phone_region": "NL", "csrf_token": "forged"}
    )
    assert response.status_code == 403
    assert events(db) == []
    assert db.get(RiskSettings, guardians.org.id) is None


def test_the_overview_shows_todays_events_the_register_and_the_policy(
    db: Session, browser: Browser, guardians: Guardians
) -> None:
    add(browser, guardians)
    add(browser, guardians, name="Old storm", starts_on="2020-01-01", ends_on="2020-01-05")
    suggestion(db, guardians)
    page = browser.get("/settings/risk")
    assert page.status_code == 200
    today = page.text.split('id="today-heading"')[1].split("</section>")[0]
    assert "Harbour fire" in today
    assert "Old storm" not in today
    ended = page.text.split("<h3>Ended</h3>")[1].split("</table>")[0]
    assert "Old storm" in ended
    assert re.search(r'stat-value">1</span><span class="stat-label">news suggestion ', page.text)
    assert "none: the default policy applies" in page.text


def test_adding_an_event_saves_it_audits_it_and_opens_it(
    db: Session, browser: Browser, guardians: Guardians
) -> None:
    assert browser.get("/settings/risk/events/new").status_code == 200
    response = browser.form("/settings/risk/events", event_form(guardians, recurs_yearly="yes"))
    row = events(db)[0]
    assert response.headers["location"] == f"/settings/risk/events/{row.id}?done=added"
    assert (row.name, row.kind, row.recurs) == ("Harbour fire", "disaster", "yearly")
    assert row.keywords == ["harbour fire", "Rotterdam blaze"]
    assert row.created_by_id == guardians.leader.id
    assert "guardrails.event_added" in audit_actions(db)
    page = browser.get(response.headers["location"])
    assert "The event was added" in page.text
    assert 'value="Harbour fire"' in page.text


@pytest.mark.parametrize("suggestion_id", ["²", "9" * 30])
def test_a_suggestion_id_that_is_no_id_is_ignored(
    db: Session, browser: Browser, guardians: Guardians, suggestion_id: str
) -> None:
    row = add(browser, guardians, suggestion_id=suggestion_id)
    assert row.name == "Harbour fire"


def test_an_invalid_event_is_shown_again_with_the_problems(
    db: Session, browser: Browser, guardians: Guardians
) -> None:
    response = browser.form(
        "/settings/risk/events",
        event_form(guardians, keywords="", ends_on="2000-01-01", name="Keep <me>"),
    )
    assert response.status_code == 422
    assert "Add at least one keyword" in response.text
    assert 'value="Keep &lt;me&gt;"' in response.text
    assert 'aria-invalid="true"' in response.text
    assert events(db) == []
    assert browser.form("/settings/risk/events", {}).status_code == 422


def test_editing_and_ending_an_event(db: Session, browser: Browser, guardians: Guardians) -> None:
    row = add(browser, guardians)
    url = f"/settings/risk/events/{row.id}"
    bad = browser.form(url, event_form(guardians, keywords="x" * 101))
    assert bad.status_code == 422
    assert "longer than 100 characters" in bad.text
    response = browser.form(url, event_form(guardians, name="Harbour fire, Rotterdam"))
    assert response.headers["location"] == f"{url}?done=saved"
    assert events(db)[0].name == "Harbour fire, Rotterdam"

    response = browser.form(f"{url}/end")
    assert response.headers["location"] == f"{url}?done=ended"
    assert events(db)[0].ends_on == local_today(guardians.org)
    assert browser.form(f"{url}/end").status_code == 409
    assert audit_actions(db)[-3:] == [
        "guardrails.event_added",
        "guardrails.event_changed",
        "guardrails.event_ended",
    ]
    assert len(events(db)) == 1  # ended, never deleted


def test_events_that_do_not_exist_or_belong_elsewhere_are_not_found(
    db: Session, browser: Browser, guardians: Guardians
) -> None:
    other = org_service.ensure_organisation(db, "Other", "other")
    foreign = SensitiveEvent(
        organisation_id=other.id, name="X", starts_on=dt.date(2026, 1, 1), keywords=["x"]
    )
    db.add(foreign)
    db.commit()
    for url in (f"/settings/risk/events/{foreign.id}", "/settings/risk/events/999999"):
        assert browser.get(url).status_code == 404
        assert browser.form(url, event_form(guardians)).status_code == 404
        assert browser.form(f"{url}/end").status_code == 404


def test_try_it_shows_the_verdict_with_the_words_highlighted(
    browser: Browser, guardians: Guardians
) -> None:
    add(browser, guardians)
    response = browser.form("/settings/risk/try", {"text": "Harbour fire? Hot deals! <b>"})
    assert response.status_code == 200
    assert '<span class="risk-verdict block">Blocked</span>' in response.text  # as the composer
    assert '<mark class="risk-mark block"' in response.text
    assert "&lt;b&gt;" in response.text
    empty = browser.form("/settings/risk/try", {"text": " "})
    assert empty.status_code == 422
    assert "Type a sample post" in empty.text
    reloaded = browser.get("/settings/risk/try")  # a result page reloaded, or its address shared
    assert reloaded.status_code == 200
    assert 'action="/settings/risk/try"' in reloaded.text


def test_the_policy_page_lists_categories_and_saves_a_valid_policy(
    db: Session, browser: Browser, guardians: Guardians
) -> None:
    page = browser.get("/settings/risk/policy")
    assert page.status_code == 200
    assert 'name="verdict.tragedy_promotion"' in page.text
    assert "Slurs against a group of people." in page.text
    response = browser.form(
        "/settings/risk/policy",
        {
            "confidential_terms": "Project Kestrel\nSummit X2",
            "allowed_domains": "example.com",
            "public_contacts": "press@example.com",
            "phone_region": "GB",
            "news_feed_url": "https://news.example/feed.xml",
            "verdict.politics": "ok",
            "verdict.profanity": "",
        },
    )
    assert response.headers["location"] == "/settings/risk/policy?done=policy"
    db.expire_all()
    row = db.get(RiskSettings, guardians.org.id)
    assert row is not None
    assert (row.confidential_terms, row.verdicts) == (
        ["Project Kestrel", "Summit X2"],
        {"politics": "ok"},
    )
    # A new feed address is read at once, without anyone pressing "fetch".
    assert audit_actions(db)[-2:] == [
        "guardrails.policy_changed",
        "guardrails.feed_fetch_requested",
    ]
    job = db.scalars(select(FeedFetchJob)).one()
    assert (job.url, job.state) == ("https://news.example/feed.xml", "queued")
    saved = browser.get(response.headers["location"])
    assert '<option value="ok" selected>OK</option>' in saved.text
    assert "The policy was saved" in saved.text


def test_an_invalid_policy_is_shown_again_with_the_problems(
    db: Session, browser: Browser, guardians: Guardians
) -> None:
    response = browser.form(
        "/settings/risk/policy",
        {"phone_region": "GB", "news_feed_url": "gopher://x", "confidential_terms": "Kestrel"},
    )
    assert response.status_code == 422
    assert "http:// or https://" in response.text
    assert ">Kestrel</textarea>" in response.text
    assert browser.form("/settings/risk/policy", {}).status_code == 422
    assert db.get(RiskSettings, guardians.org.id) is None


def test_reading_the_feed_needs_an_address_then_queues_a_job(
    db: Session, browser: Browser, guardians: Guardians
) -> None:
    response = browser.form("/settings/risk/feed/fetch")
    assert response.status_code == 422
    assert "Set the news feed address" in response.text
    db.add(RiskSettings(organisation_id=guardians.org.id, news_feed_url="https://n.example/rss"))
    db.commit()
    response = browser.form("/settings/risk/feed/fetch")
    assert response.headers["location"] == "/settings/risk/suggestions?done=queued"
    job = db.scalars(select(FeedFetchJob)).one()
    assert (job.state, job.url, job.requested_by_id) == (
        "queued",
        "https://n.example/rss",
        guardians.leader.id,
    )
    assert audit_actions(db)[-1] == "guardrails.feed_fetch_requested"
    page = browser.get("/settings/risk/suggestions")
    assert "Waiting for the background worker" in page.text


def test_the_suggestions_page_shows_the_last_result_and_escapes_titles(
    db: Session, browser: Browser, guardians: Guardians
) -> None:
    suggestion(db, guardians, title="<script>alert('x')</script> Blast in <b>Oslo</b>")
    job = FeedFetchJob.create(
        db, organisation_id=guardians.org.id, url="https://n.example/rss", result={}
    )
    job.transition_to("failed")
    job.result = {"error": "The feed server answered 404 for this address."}
    db.commit()
    page = browser.get("/settings/risk/suggestions")
    assert page.status_code == 200
    assert "<script>alert" not in page.text
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; Blast in &lt;b&gt;Oslo" in page.text
    assert "answered 404" in page.text
    assert "To review (1)" in page.text


def test_confirming_opens_a_filled_in_form_and_saving_it_confirms(
    db: Session, browser: Browser, guardians: Guardians
) -> None:
    suggestion_id = suggestion(db, guardians)
    form = browser.form(f"/settings/risk/suggestions/{suggestion_id}/confirm")
    assert form.status_code == 200
    assert f'name="suggestion_id" value="{suggestion_id}"' in form.text
    assert 'value="Wildfire near Athens"' in form.text
    assert "Athens\nwildfire</textarea>" in form.text
    assert 'value="2026-11-20"' in form.text
    assert events(db) == []  # nothing is added until the person saves the form

    data = event_form(guardians, name="Athens wildfire", suggestion_id=str(suggestion_id))
    response = browser.form("/settings/risk/events", data)
    assert response.status_code == 303
    row = db.get(EventSuggestion, suggestion_id)
    assert row is not None
    assert (row.status, row.event_id) == ("confirmed", events(db)[0].id)
    again = browser.form(f"/settings/risk/suggestions/{suggestion_id}/confirm")
    assert again.status_code == 409
    repeat = browser.form("/settings/risk/events", data)
    assert repeat.status_code == 409
    assert "already confirmed" in repeat.text
    assert len(events(db)) == 1


def test_dismissing_a_suggestion(db: Session, browser: Browser, guardians: Guardians) -> None:
    suggestion_id = suggestion(db, guardians)
    response = browser.form(f"/settings/risk/suggestions/{suggestion_id}/dismiss")
    assert response.headers["location"] == "/settings/risk/suggestions?done=dismissed"
    db.expire_all()
    row = db.get(EventSuggestion, suggestion_id)
    assert row is not None
    assert row.status == "dismissed"
    assert audit_actions(db)[-1] == "guardrails.suggestion_dismissed"
    assert browser.form(f"/settings/risk/suggestions/{suggestion_id}/dismiss").status_code == 409
    assert "Recently handled" in browser.get("/settings/risk/suggestions").text


@pytest.mark.parametrize("action", ["confirm", "dismiss"])
def test_suggestions_of_another_organisation_are_not_found(
    db: Session, browser: Browser, action: str
) -> None:
    other = org_service.ensure_organisation(db, "Other", "other")
    foreign = EventSuggestion(organisation_id=other.id, guid="g", title="Flood", keywords=[])
    db.add(foreign)
    db.commit()
    assert browser.form(f"/settings/risk/suggestions/{foreign.id}/{action}").status_code == 404
