"""`sixfold check`: the risk engine on the command line, a contract other tools rely on.

    sixfold check [TEXT] [--file PATH|-] [--format text|json|jsonl] [--events PATH]
                  [--policy PATH] [--date YYYY-MM-DD]

Exit status 0 when no post is blocked, 1 when one is, 2 on a usage error. A bad input line is
reported on stderr with its number and skipped; it never aborts the batch. An input line may
carry ``alt_text`` (a string, or a list with one description per image); a finding made in an
image description adds ``"location": "alt_text"`` and the image's index to its record.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import Progress
from rich.text import Text

from sixfold.risk.engine import BatchItem, default_engine
from sixfold.risk.events import EventRegister, RegisterError
from sixfold.risk.model import Context, Finding, Location, Severity, Verdict, VerdictLevel
from sixfold.risk.policy import Policy, PolicyError

PROGRESS_THRESHOLD = 500  # posts; smaller batches finish before a bar is worth drawing
_CHUNK = 2000  # posts per batch call when a progress bar is shown
_STYLES = {Severity.BLOCK: "bold red", Severity.REVIEW: "yellow", Severity.INFO: "cyan"}


class OutputFormat(enum.StrEnum):
    TEXT = "text"
    JSON = "json"
    JSONL = "jsonl"


@dataclass(frozen=True, slots=True)
class Post:
    id: object
    text: str
    date: dt.date
    alt_texts: tuple[str, ...] = ()


def register(app: typer.Typer) -> None:
    """Add the ``check`` command to the main ``sixfold`` application."""
    app.command("check")(check)


def check(
    text: Annotated[str | None, typer.Argument(help="The post to check.")] = None,
    file: Annotated[
        str | None, typer.Option("--file", help="JSON Lines of {id, text, date}; '-' is stdin.")
    ] = None,
    output: Annotated[OutputFormat, typer.Option("--format", help="Output format.")] = (
        OutputFormat.TEXT
    ),
    events: Annotated[
        Path | None, typer.Option("--events", help="YAML list of sensitive events.")
    ] = None,
    policy: Annotated[Path | None, typer.Option("--policy", help="Policy YAML.")] = None,
    date: Annotated[
        str | None, typer.Option("--date", help="Posting date YYYY-MM-DD (default today).")
    ] = None,
) -> None:
    """Check posts for tone-deaf, leaking or hostile content before they go out."""
    if (text is None) == (file is None):
        raise typer.BadParameter("give either TEXT or --file, not both and not neither")
    context = Context(
        when=_posting_time(_parse_date(date, "--date") if date else dt.datetime.now(dt.UTC).date()),
        policy=_load_policy(policy),
        events=_load_events(events),
    )
    if text is not None:
        posts = [Post(None, text, context.date)]
    else:
        posts = list(_read_posts(_open_lines(file or "-"), context.date))
    verdicts = _check_all(posts, context)
    _emit(posts, verdicts, output)
    if any(v.verdict is VerdictLevel.BLOCK for v in verdicts):
        raise typer.Exit(1)


def _parse_date(value: str, where: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a YYYY-MM-DD date", param_hint=where) from None


def _posting_time(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(12, 0), tzinfo=dt.UTC)


def _load_policy(path: Path | None) -> Policy:
    if path is None:
        return Policy()
    try:
        loaded = Policy.from_yaml(path)
    except (OSError, PolicyError) as error:
        raise typer.BadParameter(str(error), param_hint="--policy") from None
    if loaded.unknown_keys:
        _stderr(f"warning: {path}: ignoring unknown keys {', '.join(loaded.unknown_keys)}")
    return loaded


def _load_events(path: Path | None) -> EventRegister:
    if path is None:
        return EventRegister.builtin()
    try:
        return EventRegister.builtin().extended(EventRegister.from_yaml(path))
    except (OSError, RegisterError) as error:
        raise typer.BadParameter(str(error), param_hint="--events") from None


def _open_lines(file: str) -> Iterable[str]:
    if file == "-":
        return sys.stdin.read().removeprefix("\ufeff").splitlines()
    try:
        # A byte-order mark (Windows tools write one) is not part of the first post.
        return Path(file).read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise typer.BadParameter(str(error), param_hint="--file") from None


def _read_posts(lines: Iterable[str], default_date: dt.date) -> Iterator[Post]:
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            yield _parse_post(line, number, default_date)
        except ValueError as error:
            _stderr(f"line {number}: {error}; skipped")


def _parse_post(line: str, number: int, default_date: dt.date) -> Post:
    try:
        data = json.loads(line)
    except json.JSONDecodeError as error:
        raise ValueError(f"not valid JSON ({error.msg})") from None
    except RecursionError:
        raise ValueError("not valid JSON (nested too deeply)") from None
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    if not isinstance(data.get("text"), str):
        raise ValueError("'text' must be a string")
    day = default_date
    if data.get("date") is not None:
        try:
            day = dt.date.fromisoformat(str(data["date"]))
        except ValueError:
            raise ValueError(f"'date' {data['date']!r} is not YYYY-MM-DD") from None
    return Post(data.get("id", number), data["text"], day, _alt_texts(data.get("alt_text")))


def _alt_texts(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise ValueError("'alt_text' must be a string or a list of strings")


def _check_all(posts: list[Post], context: Context) -> list[Verdict]:
    engine = default_engine()
    items = [
        BatchItem(p.text, None if p.date == context.date else _posting_time(p.date), p.alt_texts)
        for p in posts
    ]
    if len(items) < PROGRESS_THRESHOLD:
        return engine.check_many(items, context)
    verdicts: list[Verdict] = []
    with Progress(console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("checking posts", total=len(items))
        for start in range(0, len(items), _CHUNK):
            chunk = items[start : start + _CHUNK]
            verdicts.extend(engine.check_many(chunk, context))
            progress.advance(task, len(chunk))
    return verdicts


def _record(post: Post, verdict: Verdict) -> dict[str, Any]:
    return {
        "id": post.id,
        "verdict": verdict.verdict.value,
        "score": round(verdict.score, 3),
        "findings": [_finding_record(f) for f in verdict.findings],
    }


def _finding_record(f: Finding) -> dict[str, Any]:
    record: dict[str, Any] = {
        "scanner": f.scanner,
        "category": f.category,
        "severity": f.severity.value,
        "start": f.start,
        "end": f.end,
        "message": f.message,
    }
    if f.location is not Location.TEXT:
        record["location"] = f.location.value
        record["image"] = f.image
    return record


def _emit(posts: list[Post], verdicts: list[Verdict], output: OutputFormat) -> None:
    if output is OutputFormat.JSONL:
        for post, verdict in zip(posts, verdicts, strict=True):
            typer.echo(json.dumps(_record(post, verdict), ensure_ascii=False))
    elif output is OutputFormat.JSON:
        records = [_record(p, v) for p, v in zip(posts, verdicts, strict=True)]
        typer.echo(json.dumps(records, ensure_ascii=False, indent=2))
    else:
        console = Console(highlight=False, soft_wrap=True)
        for post, verdict in zip(posts, verdicts, strict=True):
            _print_report(console, post, verdict)


def _print_report(console: Console, post: Post, verdict: Verdict) -> None:
    head = f"{verdict.verdict.value.upper()} (score {verdict.score:.2f})"
    console.print(head if post.id is None else f"[{post.id}] {head}", markup=False)
    console.print(Text("  ") + highlighted(post.text, verdict, plain=not console.is_terminal))
    for f in verdict.findings:
        line = Text(f"  - {f.severity.value:<6} ", style=_STYLES[f.severity])
        where = f"[{f.start}:{f.end}]"
        if f.location is not Location.TEXT and f.image is not None:
            alt = post.alt_texts[f.image]
            where = f"in image {f.image + 1}'s description »{alt[f.start : f.end]}«"
        line.append(f"{f.category} {where}: {f.message}", style="default")
        console.print(line)


def highlighted(text: str, verdict: Verdict, *, plain: bool) -> Text:
    """The post with flagged spans styled; on a plain stream they are bracketed »like this«."""
    spans = sorted(
        (f.start, f.end, f.severity)
        for f in verdict.findings
        if f.end > f.start and f.location is Location.TEXT
    )
    if plain:
        return Text(_bracketed(text, [(s, e) for s, e, _ in spans]))
    rendered = Text(text)
    for start, end, severity in spans:
        rendered.stylize(_STYLES[severity] + " underline", start, end)
    return rendered


def _bracketed(text: str, spans: list[tuple[int, int]]) -> str:
    merged: list[list[int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    out, cursor = [], 0
    for start, end in merged:
        out += [text[cursor:start], "»", text[start:end], "«"]
        cursor = end
    return "".join([*out, text[cursor:]])


def _stderr(message: str) -> None:
    typer.echo(message, err=True)
