"""Importing an org chart through the browser: upload, progress, team tree, audit log."""

from __future__ import annotations

import csv
import random
import re
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e.conftest import PageProblems, Screenshots, SixfoldServer, sign_in

pytestmark = pytest.mark.e2e

# An operations division four levels deep, none of it in the demo organisation.
LEAF_TEAMS = (
    "Operations/Retail/Stores/Amsterdam Flagship",
    "Operations/Retail/Stores/Berlin Mitte",
    "Operations/Retail/Stores/Lisbon Chiado",
    "Operations/Retail/E-commerce/Marketplace",
    "Operations/Retail/E-commerce/Checkout",
    "Operations/Logistics/Warehousing/Rotterdam Hub",
    "Operations/Logistics/Transport",
    "Operations/Sustainability/Materials Research",
    "Operations/Sustainability/Repair Programme",
)
FIRST = ("Aino", "Bashir", "Cleo", "Dario", "Emeka", "Freya", "Goran", "Hana", "Ilse", "Joao")
LAST = ("Aalto", "Bergström", "Cardoso", "Dimitrov", "Eze", "Fontaine", "Gruber", "Haddad")
CITIES = ("Amsterdam", "Berlin", "Lisbon", "Rotterdam", "Remote")


def write_org_chart(path: Path, *, people: int = 300) -> list[dict[str, str]]:
    """A believable chart: a COO, a head for every inner team, leads and staff in the leaves."""
    rng = random.Random(7)
    rows: list[dict[str, str]] = []

    def add(title: str, department: str, manager_id: str) -> str:
        number = len(rows) + 1
        name = f"{FIRST[number % len(FIRST)]} {LAST[number // len(FIRST) % len(LAST)]} {number}"
        rows.append(
            {
                "id": f"OPS-{number:04d}",
                "name": name,
                "email": f"ops.{number:04d}@ops.northwind.example",
                "title": title,
                "department": department,
                "manager_id": manager_id,
                "location": rng.choice(CITIES),
                "cost_centre": f"CC-{700 + len(department.split('/')) * 10}",
            }
        )
        return rows[-1]["id"]

    heads = {"Operations": add("Chief Operating Officer", "Operations", "")}
    for leaf in LEAF_TEAMS:
        parts = leaf.split("/")
        for depth in range(2, len(parts) + 1):
            team = "/".join(parts[:depth])
            if team not in heads:
                parent = heads["/".join(parts[: depth - 1])]
                heads[team] = add(f"Head of {parts[depth - 1]}", team, parent)
    leaves = list(LEAF_TEAMS)
    while len(rows) < people:
        leaf = leaves[len(rows) % len(leaves)]
        add(rng.choice(("Specialist", "Associate", "Coordinator")), leaf, heads[leaf])
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return rows


def people_count(page: Page) -> int:
    page.goto("/")
    stat = page.get_by_role("link", name=re.compile(r"^\d+ people$"))
    return int(stat.inner_text().split()[0])


def import_status(page: Page) -> Locator:
    """The import page's status line; it reads "Status: queued" until the worker is done."""
    return page.get_by_role("paragraph").filter(has_text=re.compile(r"^Status:"))


def upload(page: Page, chart: Path) -> None:
    page.goto("/imports")
    expect(page.get_by_role("heading", level=1)).to_have_text("Import an org chart")
    page.get_by_label(re.compile("^CSV file")).set_input_files(chart)
    page.get_by_role("button", name="Upload and import").click()
    expect(page).to_have_url(re.compile(r"/imports/\d+$"))


def test_an_uploaded_org_chart_builds_the_team_tree_and_is_audited(
    page: Page,
    sixfold_server: SixfoldServer,
    screenshots: Screenshots,
    page_problems: PageProblems,
    tmp_path: Path,
) -> None:
    chart = tmp_path / "operations-org-chart.csv"
    rows = write_org_chart(chart)
    sign_in(page, sixfold_server.logins["administrator"])

    upload(page, chart)

    # The page polls the import and reloads itself when the worker has finished.
    expect(import_status(page)).to_have_text("Status: succeeded", timeout=30_000)
    expect(page.get_by_role("status")).to_have_text(
        f"Imported: {len(rows)} new, 0 updated, 0 unchanged."
    )
    # The progress page polled the API from app.js; under the CSP that must log nothing.
    assert page_problems.all() == []
    screenshots.take(page, "import-result")

    page.get_by_role("link", name="See the team tree").click()
    tree = page.get_by_role("navigation", name="Team tree")
    operations = tree.get_by_role("listitem").filter(
        has=page.get_by_role("link", name="Operations", exact=True)
    )
    expect(operations.get_by_text(str(len(rows)), exact=True).first).to_be_visible()
    # Items nest: the innermost list item holding a team's link is that team's own item.
    stores = tree.get_by_role("listitem").filter(
        has=page.get_by_role("link", name="Stores", exact=True)
    )
    for city in ("Amsterdam Flagship", "Berlin Mitte", "Lisbon Chiado"):
        expect(stores.last.get_by_role("link", name=city, exact=True)).to_be_visible()
    expect(tree.get_by_role("link", name="Rotterdam Hub", exact=True)).to_be_visible()
    screenshots.take(page, "teams")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Audit log").click()
    entry = page.get_by_role("row").filter(has=page.get_by_text("org.import", exact=True))
    expect(entry).to_have_count(1)
    expect(entry).to_contain_text("admin@northwind.example")
    expect(entry).to_contain_text(f"Created {len(rows)} Updated 0")
    expect(entry).to_contain_text("Northwind Outdoor Co.")
    screenshots.take(page, "audit")


INVALID_CHART = """\
id,name,email,title,department,manager_id
Q1,Quinn Harbour,quinn@quarantine.example,Head of Quarantine,Quarantine,
Q2,Rafa Lopes,rafa@quarantine.example,Analyst,Quarantine/Isolation Ward,Q1
Q3,Sol Ferreira,sol@quarantine.example,Analyst,Quarantine/Isolation Ward,Q404
Q2,Tess Varga,tess@quarantine.example,Analyst,Quarantine/Isolation Ward,Q1
"""
# (line, column, problem) as the import page lists them; line 1 is the header.
INVALID_CHART_PROBLEMS = (
    ("4", "manager_id", "manager_id 'Q404' is not in the file or the organisation"),
    ("5", "id", "id 'Q2' is also on line 3"),
)


def test_an_invalid_org_chart_lists_its_problems_by_line_and_imports_nothing(
    page: Page, sixfold_server: SixfoldServer, screenshots: Screenshots, tmp_path: Path
) -> None:
    chart = tmp_path / "broken-chart.csv"
    chart.write_text(INVALID_CHART, encoding="utf-8")
    sign_in(page, sixfold_server.logins["administrator"])
    before = people_count(page)

    upload(page, chart)

    expect(import_status(page)).to_have_text("Status: rejected", timeout=30_000)
    expect(page.get_by_role("alert")).to_contain_text(
        "Nothing was imported: the file has 2 problems."
    )
    rows = page.get_by_role("table").get_by_role("row")
    expect(rows).to_have_count(1 + len(INVALID_CHART_PROBLEMS))
    for index, cells in enumerate(INVALID_CHART_PROBLEMS, start=1):
        expect(rows.nth(index).get_by_role("cell")).to_have_text(list(cells))
    screenshots.take(page, "import-rejected")

    assert people_count(page) == before
    page.goto("/teams")
    expect(page.get_by_role("navigation", name="Team tree")).to_be_visible()
    expect(page.get_by_role("link", name="Quarantine")).to_have_count(0)
    expect(page.get_by_role("link", name="Isolation Ward")).to_have_count(0)
