"""The `sixfold network` command-line contract."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import typer
from typer.testing import CliRunner

from sixfold.network.cli import register

PERSON_KEYS = {
    "id",
    "department",
    "degree",
    "betweenness",
    "pagerank",
    "constraint",
    "effective_size",
    "breadth",
    "community",
    "roles",
}


def _app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """The main command, as sixfold.cli builds it."""

    register(app)
    return app


def _generate(tmp_path: Path) -> Path:
    result = CliRunner().invoke(
        _app(),
        [
            "network",
            "generate",
            "--out",
            str(tmp_path / "org"),
            "--people",
            "300",
            "--interactions",
            "20000",
        ],
    )
    assert result.exit_code == 0, result.output
    return tmp_path / "org"


def test_analyze_writes_the_report_contract(tmp_path: Path) -> None:
    org = _generate(tmp_path)
    out = tmp_path / "out"
    result = CliRunner().invoke(
        _app(),
        [
            "network",
            "analyze",
            "--people",
            str(org / "people.csv"),
            "--interactions",
            str(org / "interactions.csv"),
            "--since",
            "2026-01-01",
            "--until",
            "2026-12-31",
            "--min-interactions",
            "2",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text())
    assert {"people", "departments", "organisation", "mentor_candidates", "timeline"} <= set(report)
    assert len(report["people"]) == 300
    assert set(report["people"][0]) >= PERSON_KEYS
    assert report["mentor_candidates"][0]["reasons"]
    assert len(report["timeline"]) >= 12
    assert report["meta"]["broadcast_messages"] == 20
    html = (out / "report.html").read_text()
    assert "<svg" in html
    assert not re.search(r"""(src|href)=["']?https?:""", html)  # self-contained


def test_analyze_reports_bad_rows_and_refuses_hostile_input(tmp_path: Path) -> None:
    people = tmp_path / "people.csv"
    people.write_text(
        "id,name,email,title,department,manager_id\na,A,a@x.org,,X,\nb,B,b@x.org,,X,a\n"
    )
    interactions = tmp_path / "i.csv"
    interactions.write_text(
        "timestamp,source,target\n1767600000,a,b\nnot-a-date,a,b\n"
        "1767600000,b,a\n1767600000,a,ghost@x.org\n"
    )
    out = tmp_path / "out"
    result = CliRunner().invoke(
        _app(),
        [
            "network",
            "analyze",
            "--people",
            str(people),
            "--interactions",
            str(interactions),
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "i.csv:3: timestamp is neither ISO 8601 nor Unix seconds" in result.output
    meta = json.loads((out / "report.json").read_text())["meta"]
    assert meta["unknown_people"] == 1
    assert meta["unknown_examples"] == ["ghost@x.org"]
    bomb = tmp_path / "bad.zip"
    bomb.write_bytes(b"not a zip")
    refused = CliRunner().invoke(
        _app(),
        ["network", "analyze", "--people", str(people), "--slack", str(bomb), "--out", str(out)],
    )
    assert refused.exit_code == 2
    assert "not a readable ZIP" in refused.output


def test_pseudonymised_analysis_keeps_joins_and_hides_ids(tmp_path: Path) -> None:
    org = _generate(tmp_path)
    key = tmp_path / "key"
    key.write_bytes(b"0123456789abcdef0123456789abcdef")
    out = tmp_path / "out"
    result = CliRunner().invoke(
        _app(),
        [
            "network",
            "analyze",
            "--people",
            str(org / "people.csv"),
            "--interactions",
            str(org / "interactions.csv"),
            "--pseudonymise-key-file",
            str(key),
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text())
    assert all(p["id"].startswith("p_") for p in report["people"])
    assert report["meta"]["unknown_people"] == 0
    assert report["organisation"]["ties"] > 0


def test_min_group_size_below_three_is_rejected(tmp_path: Path) -> None:
    org = _generate(tmp_path)
    result = CliRunner().invoke(
        _app(),
        [
            "network",
            "analyze",
            "--people",
            str(org / "people.csv"),
            "--interactions",
            str(org / "interactions.csv"),
            "--min-group-size",
            "2",
        ],
    )
    assert result.exit_code != 0


def test_short_pseudonymisation_key_is_a_usage_error(tmp_path: Path) -> None:
    org = _generate(tmp_path)
    key = tmp_path / "key"
    key.write_bytes(b"short")
    result = CliRunner().invoke(
        _app(),
        [
            "network",
            "analyze",
            "--people",
            str(org / "people.csv"),
            "--interactions",
            str(org / "interactions.csv"),
            "--pseudonymise-key-file",
            str(key),
        ],
    )
    assert result.exit_code == 2
    assert "at least 16 bytes" in result.output


def test_the_package_loads_its_heavy_parts_only_on_use() -> None:
    # Listing `sixfold` subcommands must not pay for NetworKit's import.
    code = (
        "import sys, sixfold.cli; "
        "assert 'networkit' not in sys.modules, 'networkit loaded at start-up'; "
        "from sixfold.network import analyze; assert 'networkit' in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
