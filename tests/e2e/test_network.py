"""The network area in a browser: a network analyst reads the demo organisation's network.

The demo seeds a year of synthetic interactions and analyses them, so the area opens on a
finished report. The charts are drawn by the plotly.min.js Sixfold serves itself, under a
Content-Security-Policy without inline scripts or styles: any violation fails the test.
"""

from __future__ import annotations

import itertools
import re

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import PageProblems, Screenshots, SixfoldServer, sign_in

pytestmark = pytest.mark.e2e

# Collects Content-Security-Policy violations: Chromium reports some only as events.
WATCH_CSP = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  const where = `${event.sourceFile}:${event.lineNumber}`;
  window.__cspViolations.push(`${event.violatedDirective} at ${where}`);
});
"""


def column_numbers(table: Locator, column: int) -> list[float]:
    """The numbers in one column of a table's body, in the order shown (blanks left out)."""
    cells = table.locator("tbody tr").locator(f"td:nth-child({column})")
    values = [cell.get_attribute("data-value") or "" for cell in cells.all()]
    return [float(value) for value in values if value]


def test_a_network_analyst_reads_the_demo_network(
    page: Page,
    sixfold_server: SixfoldServer,
    page_problems: PageProblems,
    screenshots: Screenshots,
) -> None:
    page.add_init_script(WATCH_CSP)
    sign_in(page, sixfold_server.logins["network_analyst"])

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Network").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Network")
    # plotly has drawn the department matrix and the timeline: its containers hold SVG.
    expect(page.locator("#chart-matrix .plot-container svg.main-svg").first).to_be_visible()
    expect(page.locator("#chart-activity .plot-container")).to_be_visible()
    expect(page.get_by_text("Silo formed: Engineering now talks mostly to itself.")).to_be_visible()

    # Sorting the departments by size: largest first, then smallest first.
    departments = page.get_by_role("table", name="Departments")
    people = departments.get_by_role("columnheader", name="People")
    people.get_by_role("button").click()
    expect(people).to_have_attribute("aria-sort", "descending")
    sizes = column_numbers(departments, 2)
    assert len(sizes) >= 5
    assert sizes == sorted(sizes, reverse=True)
    people.get_by_role("button").press("Enter")  # the keyboard does the same
    expect(people).to_have_attribute("aria-sort", "ascending")
    assert column_numbers(departments, 2) == sorted(sizes)
    # The smaller-than-five Executive Office stays listed, without figures.
    expect(departments.get_by_role("row", name=re.compile("Executive Office"))).to_contain_text(
        "fewer than 5 people: not shown"
    )
    page.get_by_label("Show", exact=True).select_option("observed")
    expect(page.locator("#matrix-key-labels")).not_to_contain_text("8×")
    screenshots.take(page, "network-overview")

    page.get_by_role("navigation", name="Network").get_by_role("link", name="People").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("People in the network")
    expect(page.get_by_role("note")).to_contain_text("recorded in the audit log")
    table = page.get_by_role("table", name="Everyone's figures")
    ties = table.get_by_role("columnheader", name="Ties")
    ties.get_by_role("button").click()
    expect(ties).to_have_attribute("aria-sort", "descending")
    degrees = column_numbers(table, 3)
    assert len(degrees) > 150
    assert degrees == sorted(degrees, reverse=True)

    mentors = page.get_by_role("table", name="Community-mentor candidates")
    mentors.get_by_role("link").first.click()
    expect(page.get_by_role("heading", level=2, name="Neighbourhood")).to_be_visible()
    expect(page.locator("#chart-ego .plot-container svg.main-svg").first).to_be_visible()
    screenshots.take(page, "network-person")

    assert page.evaluate("window.__cspViolations") == []
    assert page_problems.all() == []


PHONE = {"width": 390, "height": 844}


def scrolls_sideways(page: Page) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth > window.innerWidth"))


def overlapping(boxes: list[dict[str, float]]) -> list[tuple[float, float]]:
    """Pairs of neighbouring labels (left to right) whose boxes run into each other."""
    ordered = sorted(boxes, key=lambda box: box["x"])
    return [
        (a["x"], b["x"])
        for a, b in itertools.pairwise(ordered)
        if a["x"] + a["width"] > b["x"] + 0.5
    ]


def test_the_network_pages_fit_a_phone(
    page: Page,
    sixfold_server: SixfoldServer,
    page_problems: PageProblems,
    screenshots: Screenshots,
) -> None:
    page.set_viewport_size(PHONE)
    sign_in(page, sixfold_server.logins["network_analyst"])
    page.goto("/network")
    expect(page.locator("#chart-matrix .plot-container svg.main-svg").first).to_be_visible()
    expect(page.locator("#chart-directions .xtitle")).to_be_visible()
    # The department names over the matrix's columns do not run into each other.
    names = page.locator("#chart-matrix .xtick text")
    boxes = [box for box in (name.bounding_box() for name in names.all()) if box is not None]
    assert len(boxes) >= 5
    assert overlapping(boxes) == []
    # The axis title under "Which way conversation flows" is whole, inside its chart.
    title = page.locator("#chart-directions .xtitle").bounding_box()
    chart = page.locator("#chart-directions").bounding_box()
    assert title is not None
    assert chart is not None
    assert title["x"] >= chart["x"]
    assert title["x"] + title["width"] <= chart["x"] + chart["width"]
    measure = page.get_by_label("Measure").bounding_box()
    assert measure is not None
    assert measure["x"] + measure["width"] <= PHONE["width"]
    assert not scrolls_sideways(page)
    screenshots.take(page, "network-overview-phone")

    page.get_by_role("navigation", name="Network").get_by_role("link", name="Analyses").click()
    page.locator("summary", has_text="Settings").click()  # the settings open, and still fit
    assert not scrolls_sideways(page)
    page.get_by_role("navigation", name="Network").get_by_role("link", name="People").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("People in the network")
    assert not scrolls_sideways(page)
    page.get_by_role("table", name="Community-mentor candidates").get_by_role("link").first.click()
    expect(page.locator("#chart-ego .plot-container svg.main-svg").first).to_be_visible()
    assert not scrolls_sideways(page)
    screenshots.take(page, "network-person-phone")
    assert page_problems.all() == []


def test_everyones_figures_fit_a_laptop_screen(
    page: Page, sixfold_server: SixfoldServer, page_problems: PageProblems
) -> None:
    sign_in(page, sixfold_server.logins["network_analyst"])  # at 1280x800
    page.goto("/network")
    page.get_by_role("navigation", name="Network").get_by_role("link", name="People").click()
    table = page.get_by_role("table", name="Everyone's figures")
    box = table.locator("xpath=..")  # the box the table scrolls in
    table.scroll_into_view_if_needed()
    # Every column is in view: the last heading ends inside the table's box, and the box, and
    # with it any scroll bar of its own, fits the window's height.
    roles = table.get_by_role("columnheader", name="Roles").bounding_box()
    frame = box.bounding_box()
    assert roles is not None
    assert frame is not None
    assert roles["x"] + roles["width"] <= frame["x"] + frame["width"] + 0.5
    assert frame["height"] <= 800
    assert not scrolls_sideways(page)
    # The headings stay in view while the table scrolls.
    box.evaluate("element => { element.scrollTop = 2000; }")
    heading = table.get_by_role("columnheader", name="Name").bounding_box()
    assert heading is not None
    assert frame["y"] - 1 <= heading["y"] <= frame["y"] + 1
    # It is a named region the keyboard can scroll.
    expect(page.get_by_role("region", name="Everyone's figures")).to_have_attribute("tabindex", "0")
    assert page_problems.all() == []
