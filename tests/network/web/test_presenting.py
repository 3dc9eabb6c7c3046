"""From a report to what the pages show: histograms, sentences, sorting, neighbourhoods."""

from __future__ import annotations

from typing import Any

from sixfold.network import presenting


def test_histograms_of_small_integers_have_one_bar_per_value() -> None:
    result = presenting.histogram([0, 1, 1, 3, None], integer=True)
    assert result["edges"] == [-0.5, 0.5, 1.5, 2.5, 3.5]
    assert result["counts"] == [1, 2, 0, 1]
    assert result["missing"] == 1


def test_histograms_of_real_values_have_equal_bins_and_keep_the_maximum() -> None:
    result = presenting.histogram([0.0, 0.5, 1.0], integer=False)
    assert len(result["counts"]) == presenting.HISTOGRAM_BINS
    assert sum(result["counts"]) == 3
    assert result["counts"][-1] == 1
    assert presenting.histogram([None], integer=False)["counts"] == []
    assert presenting.histogram([2.0, 2.0], integer=False)["counts"][0] == 2


def _window(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "start": "2026-02-02T00:00:00Z",
        "end": "2026-03-02T00:00:00Z",
        "silos_formed": [],
        "new_bridge_examples": [],
        "became_isolated": 0,
        "communities_split": 0,
        "communities_merged": 0,
        "churn": 0.1,
        "ties_formed": 1,
        "ties_dissolved": 1,
    }
    return base | changes


def test_changes_read_as_sentences_and_leave_out_small_groups() -> None:
    windows = [
        _window(start="2026-01-05T00:00:00Z"),
        _window(
            silos_formed=["Engineering"],
            new_bridge_examples=[["Sales", "Ops"], ["Sales", "Tiny"]],
            became_isolated=1,
            communities_merged=2,
            churn=0.6,
            ties_formed=30,
            ties_dissolved=20,
        ),
        _window(start="2026-03-02T00:00:00Z", churn=0.2),
        _window(start="2026-03-30T00:00:00Z", churn=0.25),
    ]
    (change,) = presenting._changes(windows, shown={"Sales", "Ops", "Engineering"})
    assert change["start"] == "2026-02-02"
    assert change["items"] == [
        "Silo formed: Engineering now talks mostly to itself.",
        "New bridges between departments: Sales – Ops.",
        "1 person lost every tie.",
        "Unusual churn: 60% of ties formed or dissolved (30 formed, 20 dissolved; usually 25%).",
        "Informal groups (communities): 2 merged.",
    ]


def test_churn_that_is_always_high_is_not_news() -> None:
    windows = [_window(churn=0.6), _window(churn=0.62), _window(churn=0.58)]
    assert presenting._changes(windows, shown=set()) == []


def test_rows_without_a_value_sort_last_both_ways() -> None:
    rows = [{"constraint": 0.5}, {"constraint": None}, {"constraint": 0.2}]
    ascending = presenting.sort_rows(rows, "constraint", descending=False)
    descending = presenting.sort_rows(rows, "constraint", descending=True)
    assert [r["constraint"] for r in ascending] == [0.2, 0.5, None]
    assert [r["constraint"] for r in descending] == [0.5, 0.2, None]


def _row(index: int, department: str) -> dict[str, Any]:
    return {"index": index, "name": f"P{index}", "department": department, "degree": 1}


def test_a_neighbourhood_lists_ties_strongest_first_with_the_ties_among_them() -> None:
    rows = [_row(0, "A"), _row(1, "A"), _row(2, "B"), _row(3, "B")]
    ties = [(0, 1, 2.0), (0, 2, 5.0), (1, 2, 1.0), (2, 3, 4.0)]
    result = presenting.neighbourhood(rows, ties, 0)
    assert [(t["name"], t["weight"]) for t in result["ties"]] == [("P2", 5.0), ("P1", 2.0)]
    assert result["by_department"] == [("A", 1), ("B", 1)]
    assert [n["index"] for n in result["ego"]["nodes"]] == [0, 2, 1]
    # Ties among the neighbours (the centre's own are the list above); P3 is not one.
    assert result["ego"]["edges"] == [[1, 2, 1.0]]


def test_percentiles_are_among_connected_people() -> None:
    rows = [
        {"degree": 0, "betweenness": 0.0},
        {"degree": 1, "betweenness": 0.1},
        {"degree": 2, "betweenness": 0.3},
    ]
    result = presenting.percentiles(rows, rows[2])
    assert result["betweenness"] == 1.0
    assert result["degree"] == 1.0
    assert presenting.percentiles(rows, rows[1])["degree"] == 0.5
    assert result["constraint"] is None


def test_the_exported_report_names_no_small_group_beside_a_figure() -> None:
    people = [{"id": f"a{n}", "department": "Sales", "degree": 3} for n in range(3)]
    people += [{"id": "b0", "department": "Board", "degree": 1}]
    report: dict[str, Any] = {
        "meta": {"min_group_size": 3},
        "people": people,
        "departments": [
            {"name": "Sales", "suppressed": False, "size": 3},
            {"name": "Board", "suppressed": True},
        ],
        "timeline": [_window(new_bridge_examples=[["Sales", "Board"], ["Sales", "Ops"]])],
    }
    exported = presenting.without_small_groups(report)
    assert [p["department"] for p in exported["people"]] == ["Sales"] * 3 + [
        "A group under 3 people"
    ]
    assert exported["people"][3]["degree"] == 1
    assert exported["timeline"][0]["new_bridge_examples"] == [["Sales", "Ops"]]
    assert exported["departments"] == report["departments"]
    assert report["people"][3]["department"] == "Board"  # the stored report is unchanged
