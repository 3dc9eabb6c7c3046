"""Measure the risk engine on tests/data/risk/eval.jsonl.

Prints recall on the risky posts and the false-positive rate on the benign ones (a post is
flagged when its verdict is review or block) twice: with the built-in calendar only, and with
the news register (tests/data/risk/news-register.yaml: the events that were in the news on the
posts' dates, as a person would have confirmed them from news-feed suggestions) added to it.
Then a breakdown by the set's categories and a per-scanner table, for the news-register run.
Posts with an ``alt_text`` field (the description of their image) are checked with it, as the
composer does. Run: .venv/bin/python bench/risk_eval.py [--show-misses] [--show-false-positives]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from collections import Counter
from pathlib import Path
from typing import Any

from sixfold.risk import BatchItem, Context, EventRegister, Policy, Severity, Verdict, VerdictLevel
from sixfold.risk.engine import default_engine

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "risk"
RECALL_TARGET, FPR_TARGET = 0.95, 0.03


def load_rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def alt_texts(row: dict[str, Any]) -> tuple[str, ...]:
    alt = row.get("alt_text") or ()
    return (alt,) if isinstance(alt, str) else tuple(alt)


def evaluate(rows: list[dict[str, Any]], events: EventRegister) -> list[Verdict]:
    context = Context(policy=Policy.from_yaml(DATA / "policy.yaml"), events=events)
    items = [
        BatchItem(row["text"], dt.date.fromisoformat(row["date"]), alt_texts(row)) for row in rows
    ]
    return default_engine().check_many(items, context)


def flagged(verdict: Verdict) -> bool:
    return verdict.verdict is not VerdictLevel.OK


def scanners_that_flag(verdict: Verdict) -> set[str]:
    return {f.scanner for f in verdict.findings if f.severity is not Severity.INFO}


def rate(verdicts: list[Verdict]) -> tuple[float, int, int]:
    hits = sum(map(flagged, verdicts))
    return hits / len(verdicts), hits, len(verdicts)


def print_summary(name: str, rows: list[dict[str, Any]], verdicts: list[Verdict]) -> None:
    pairs = list(zip(rows, verdicts, strict=True))
    risky = [v for r, v in pairs if r["label"] == "risky"]
    benign = [v for r, v in pairs if r["label"] == "benign"]
    imaged = [v for r, v in pairs if r["label"] == "risky" and alt_texts(r)]
    recall, fpr = rate(risky), rate(benign)
    blocked = sum(v.verdict is VerdictLevel.BLOCK for v in risky)
    print(f"\n## {name}")
    target = f"target >= {RECALL_TARGET}"
    print(f"recall on risky:      {recall[0]:.3f}  ({recall[1]}/{recall[2]}; {target})")
    print(f"false-positive rate:  {fpr[0]:.3f}  ({fpr[1]}/{fpr[2]}; target <= {FPR_TARGET})")
    print(f"risky posts blocked:  {blocked}/{len(risky)}; the rest caught go to review")
    if imaged:
        image = rate(imaged)
        print(f"risky posts with an image description: {image[1]}/{image[2]} flagged")


def print_categories(rows: list[dict[str, Any]], verdicts: list[Verdict]) -> None:
    total: Counter[tuple[str, str]] = Counter()
    hit: Counter[tuple[str, str]] = Counter()
    for row, verdict in zip(rows, verdicts, strict=True):
        key = (row["label"], row["category"])
        total[key] += 1
        hit[key] += flagged(verdict)
    print("\n| label | category | posts | flagged | rate |\n| --- | --- | ---: | ---: | ---: |")
    for key in sorted(total):
        print(f"| {key[0]} | {key[1]} | {total[key]} | {hit[key]} | {hit[key] / total[key]:.2f} |")


def print_scanners(rows: list[dict[str, Any]], verdicts: list[Verdict]) -> None:
    on_risky: Counter[str] = Counter()
    on_benign: Counter[str] = Counter()
    only: Counter[str] = Counter()
    for row, verdict in zip(rows, verdicts, strict=True):
        names = scanners_that_flag(verdict)
        counter = on_risky if row["label"] == "risky" else on_benign
        counter.update(names)
        if row["label"] == "risky" and len(names) == 1:
            only.update(names)
    n_risky = sum(r["label"] == "risky" for r in rows)
    n_benign = len(rows) - n_risky
    print("\n| scanner | flags risky | sole catch | flags benign (false positives) |")
    print("| --- | ---: | ---: | ---: |")
    for name in [s.name for s in default_engine().scanners]:
        print(
            f"| {name} | {on_risky[name]}/{n_risky} | {only[name]} | {on_benign[name]}/{n_benign} |"
        )


def print_rows(rows: list[dict[str, Any]], verdicts: list[Verdict], *, label: str) -> None:
    want_flagged = label == "benign"
    for row, verdict in zip(rows, verdicts, strict=True):
        if row["label"] == label and flagged(verdict) == want_flagged:
            reasons = "; ".join(
                f"{f.scanner}/{f.severity.value}: {f.message[:90]!r}"
                for f in verdict.findings
                if f.severity is not Severity.INFO
            )
            print(f"{row['id']} [{row['category']}] {row['text'][:110]!r}\n    -> {reasons}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--show-misses", action="store_true", help="list risky posts not flagged")
    parser.add_argument("--show-false-positives", action="store_true", help="list flagged benign")
    args = parser.parse_args()
    rows = load_rows(DATA / "eval.jsonl")
    calendar = EventRegister.builtin()
    news = calendar.extended(EventRegister.from_yaml(DATA / "news-register.yaml"))
    runs = {
        "built-in calendar only": evaluate(rows, calendar),
        f"built-in calendar + news register ({len(news) - len(calendar)} events)": evaluate(
            rows, news
        ),
    }
    print(f"posts: {len(rows)} ({sum(r['label'] == 'risky' for r in rows)} risky)")
    for name, verdicts in runs.items():
        print_summary(name, rows, verdicts)
    for name, verdicts in runs.items():
        print(f"\n## {name}: by category and scanner")
        print_categories(rows, verdicts)
        print_scanners(rows, verdicts)
        if args.show_misses:
            print("\nmissed risky posts:")
            print_rows(rows, verdicts, label="risky")
        if args.show_false_positives:
            print("\nflagged benign posts:")
            print_rows(rows, verdicts, label="benign")


if __name__ == "__main__":
    main()
