from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from sixfold.risk.cli import register


@pytest.fixture
def app() -> typer.Typer:
    app = typer.Typer()
    register(app)

    @app.callback()
    def main() -> None:
        """A stand-in for the main sixfold application."""

    return app


def _run(app: typer.Typer, *args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["check", *args], input=stdin)
    return result.exit_code, result.stdout, result.stderr


def test_single_text_ok_exits_zero(app: typer.Typer) -> None:
    code, out, _ = _run(app, "Fresh bread every morning.", "--date", "2024-03-05")
    assert code == 0
    assert out.startswith("OK (score 0.00)")


def test_single_text_block_exits_one_and_highlights_the_span(app: typer.Typer) -> None:
    code, out, _ = _run(app, "well f.u.c.k that", "--format", "text")
    assert code == 1
    assert "»f.u.c.k«" in out
    assert "profanity" in out


def test_jsonl_batch_from_stdin_reports_bad_lines_and_goes_on(app: typer.Typer) -> None:
    lines = [
        json.dumps({"id": "a", "text": "Hello there", "date": "2024-03-05"}),
        "{not json",
        json.dumps({"id": "b", "text": "Pearl Harbor sale, 20% off!"}),
        json.dumps({"id": "c", "text": 5}),
        json.dumps({"id": "d", "text": "hi", "date": "2024-02-30"}),
        "",
    ]
    code, out, err = _run(
        app, "--file", "-", "--format", "jsonl", "--date", "2016-12-07", stdin="\n".join(lines)
    )
    assert code == 1
    records = [json.loads(line) for line in out.splitlines()]
    assert [r["id"] for r in records] == ["a", "b"]
    assert [r["verdict"] for r in records] == ["ok", "block"]
    assert set(records[1]) == {"id", "verdict", "score", "findings"}
    assert set(records[1]["findings"][0]) == {
        "scanner",
        "category",
        "severity",
        "start",
        "end",
        "message",
    }
    assert "line 2: not valid JSON" in err
    assert "line 4: 'text' must be a string" in err
    assert "line 5: 'date'" in err


def test_json_format_with_events_and_policy_files(app: typer.Typer, tmp_path: Path) -> None:
    events = tmp_path / "events.yaml"
    events.write_text(
        "- {name: Hurricane Sandy, start: 2012-10-28, end: 2012-11-10, recurs: null,"
        " kind: disaster, keywords: [Sandy]}\n"
    )
    policy = tmp_path / "policy.yaml"
    policy.write_text("confidential_terms: [Project Kestrel]\noverrides: {}\n")
    posts = tmp_path / "posts.jsonl"
    posts.write_text(
        json.dumps({"id": 1, "text": "Stay safe from #Sandy and shop online", "date": "2012-10-30"})
        + "\n"
        + json.dumps({"id": 2, "text": "Project Kestrel is coming", "date": "2012-10-30"})
        + "\n"
    )
    code, out, _ = _run(
        app,
        "--file",
        str(posts),
        "--format",
        "json",
        "--events",
        str(events),
        "--policy",
        str(policy),
    )
    assert code == 1
    records = json.loads(out)
    assert [r["verdict"] for r in records] == ["block", "block"]
    assert records[0]["findings"][0]["scanner"] == "sensitive_events"
    assert records[1]["findings"][0]["category"] == "confidential_term"


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["text", "--file", "-"],
        ["text", "--date", "2024-13-01"],
        ["text", "--format", "xml"],
        ["text", "--events", "/nonexistent/events.yaml"],
        ["text", "--policy", "/nonexistent/policy.yaml"],
        ["--file", "/nonexistent/posts.jsonl"],
    ],
)
def test_usage_errors_exit_two(app: typer.Typer, args: list[str]) -> None:
    code, _, _ = _run(app, *args)
    assert code == 2


def test_malformed_event_register_is_a_usage_error(app: typer.Typer, tmp_path: Path) -> None:
    events = tmp_path / "events.yaml"
    events.write_text("- {name: x}\n")
    code, _, err = _run(app, "text", "--events", str(events))
    assert code == 2
    assert "event #1" in err


def test_a_line_nested_too_deeply_is_skipped_and_the_batch_goes_on(app: typer.Typer) -> None:
    lines = ["[" * 100_000 + "]" * 100_000, json.dumps({"id": "b", "text": "Hello there"})]
    code, out, err = _run(app, "--file", "-", "--format", "jsonl", stdin="\n".join(lines))
    assert code == 0
    assert [json.loads(line)["id"] for line in out.splitlines()] == ["b"]
    assert "line 1: not valid JSON (nested too deeply); skipped" in err


@pytest.mark.parametrize("source", ["file", "stdin"])
def test_a_byte_order_mark_is_not_part_of_the_first_post(
    app: typer.Typer, tmp_path: Path, source: str
) -> None:
    text = "\ufeff" + json.dumps({"id": "a", "text": "Hello there"}) + "\n"
    posts = tmp_path / "posts.jsonl"
    posts.write_text(text, encoding="utf-8")
    args = ("--file", str(posts)) if source == "file" else ("--file", "-")
    code, out, err = _run(
        app, *args, "--format", "jsonl", stdin=text if source == "stdin" else None
    )
    assert code == 0
    assert [json.loads(line)["id"] for line in out.splitlines()] == ["a"]
    assert err == ""


_LAUGHS = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{b}: &{b} [*{a}, *{a}, *{a}, *{a}, *{a}, *{a}, *{a}, *{a}, *{a}]\n"
    for a, b in zip("abcdefgh", "bcdefghi", strict=True)
)


@pytest.mark.parametrize(
    ("option", "content", "message"),
    [
        ("--policy", "confidential_terms: *i\n" + _LAUGHS, "aliases (*name) are not allowed"),
        ("--events", "- name: x\n  start: 2024-01-01\n  keywords: *i\n" + _LAUGHS, "aliases"),
        ("--events", "- {name: x, start: 2024-01-01, recurs: [yearly]}", "event #1.recurs"),
        ("--events", "- {name: x, start: 2024-01-01, keywords: [[a, b]]}", "event #1.keywords"),
        ("--policy", "confidential_terms: [{codename: Kestrel}]", "confidential_terms"),
        ("--policy", "confidential_terms: " + "[" * 20_000 + "]" * 20_000, "nested too deeply"),
        ("--policy", "confidential_terms: [Kestrel]\n# " + "x" * 11 * 2**20, "larger than 10 MiB"),
    ],
)
def test_hostile_policy_and_event_files_are_usage_errors(
    app: typer.Typer, tmp_path: Path, option: str, content: str, message: str
) -> None:
    path = tmp_path / "file.yaml"
    path.write_text(content, encoding="utf-8")
    code, _, err = _run(app, "text", option, str(path))
    assert code == 2
    assert message in " ".join(err.split())


def test_large_batches_finish_with_a_progress_bar_on_stderr(app: typer.Typer) -> None:
    lines = "\n".join(json.dumps({"id": i, "text": f"post {i}"}) for i in range(600))
    code, out, _ = _run(app, "--file", "-", "--format", "jsonl", stdin=lines)
    assert code == 0
    assert len(out.splitlines()) == 600


def test_alt_texts_in_jsonl_are_checked_and_located(app: typer.Typer) -> None:
    lines = [
        json.dumps({"id": "a", "text": "New mugs!", "alt_text": ["A mug", "A mug: fuck off"]}),
        json.dumps({"id": "b", "text": "New mugs!", "alt_text": "A plain white mug"}),
        json.dumps({"id": "c", "text": "hi", "alt_text": 5}),
    ]
    code, out, err = _run(app, "--file", "-", "--format", "jsonl", stdin="\n".join(lines))
    records = [json.loads(line) for line in out.splitlines()]
    assert code == 1
    assert [r["verdict"] for r in records] == ["block", "ok"]
    finding = records[0]["findings"][0]
    assert finding["location"] == "alt_text"
    assert finding["image"] == 1
    assert "A mug: fuck off"[finding["start"] : finding["end"]] == "fuck"
    assert "line 3: 'alt_text' must be a string or a list of strings" in err


def test_a_large_batch_is_checked_in_chunks_with_the_same_verdicts(app: typer.Typer) -> None:
    posts = [{"id": i, "text": t} for i, t in enumerate(["Hello", "what the fuck"] * 400)]
    stdin = "\n".join(json.dumps(p) for p in posts)
    code, out, _ = _run(app, "--file", "-", "--format", "jsonl", stdin=stdin)
    verdicts = [json.loads(line)["verdict"] for line in out.splitlines()]
    assert code == 1
    assert verdicts == ["ok", "block"] * 400
