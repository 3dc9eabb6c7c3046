"""Measure the risk engine on tests/data/risk/eval.jsonl.

Prints recall on the risky posts, the false-positive rate on the benign ones (a post is flagged
when its verdict is review or block), a breakdown by the set's categories and a per-scanner
table. Run: .venv/bin/python bench/risk_eval.py [--show-misses] [--show-false-positives]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
from collections import Counter
from pathlib import Path
from typing import Any

from sixfold.risk import Context, EventRegister, Policy, Severity, Verdict, VerdictLevel
from sixfold.risk.engine import default_engine

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "risk"
RECALL_TARGET, FPR_TARGET = 0.95, 0.03


def load_rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def evaluate(rows: list[dict[str, Any]]) -> list[Verdict]:
    events = EventRegister.builtin().extended(EventRegister.from_yaml(DATA / "events.yaml"))
    base = Context(policy=Policy.from_yaml(DATA / "policy.yaml"), events=events)
    engine = default_engine()
    return [engine.check(row["text"], base.on(dt.date.fromisoformat(row["date"]))) for row in rows]


def flagged(verdict: Verdict) -> bool:
    return verdict.verdict is not VerdictLevel.OK


def scanners_that_flag(verdict: Verdict) -> set[str]:
    return {f.scanner for f in verdict.findings if f.severity is not Severity.INFO}


def print_summary(rows: list[dict[str, Any]], verdicts: list[Verdict]) -> None:
    risky = [v for r, v in zip(rows, verdicts, strict=True) if r["label"] == "risky"]
    benign = [v for r, v in zip(rows, verdicts, strict=True) if r["label"] == "benign"]
    recall = sum(map(flagged, risky)) / len(risky)
    fpr = sum(map(flagged, benign)) / len(benign)
    print(f"posts: {len(rows)} ({len(risky)} risky, {len(benign)} benign)")
    print(f"recall on risky:      {recall:.3f}  (target >= {RECALL_TARGET})")
    print(f"false-positive rate:  {fpr:.3f}  (target <= {FPR_TARGET})")
    blocked = sum(v.verdict is VerdictLevel.BLOCK for v in risky)
    print(f"risky posts blocked:  {blocked}/{len(risky)}; the rest caught go to review")
    # The set marks posts whose offence was in the picture with "[image: ...]"; a text-only
    # engine can fairly miss those, so recall is also given without them.
    text_only = [
        v
        for r, v in zip(rows, verdicts, strict=True)
        if r["label"] == "risky" and "[image:" not in r["text"]
    ]
    text_recall = sum(map(flagged, text_only)) / len(text_only)
    print(f"recall without image-borne posts: {text_recall:.3f}  ({len(text_only)} posts)")


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
                f"{f.scanner}/{f.severity.value}: {row['text'][f.start : f.end]!r}"
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
    verdicts = evaluate(rows)
    print_summary(rows, verdicts)
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
