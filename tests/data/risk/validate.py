"""Check eval.jsonl, events.yaml, news-register.yaml and policy.yaml in this folder: run with the
project's Python."""

import collections
import datetime
import json
import pathlib
import sys

import yaml

HERE = pathlib.Path(__file__).parent
REQUIRED = {"id", "text", "date", "label", "category", "source", "note"}
RISKY = {
    "sensitive_event",
    "newsjacking",
    "profanity",
    "attack",
    "confidential",
    "personal_data",
    "secret",
    "hot_topic",
    "off_brand",
    "link",
}
BENIGN = {"benign", "tricky_benign"}


def main() -> int:
    errors, ids = [], set()
    counts = collections.Counter()
    for n, line in enumerate((HERE / "eval.jsonl").read_text(encoding="utf-8").splitlines(), 1):
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as e:
            errors.append(f"line {n}: bad JSON: {e}")
            continue
        missing = REQUIRED - rec.keys()
        if missing:
            errors.append(f"line {n}: missing {sorted(missing)}")
            continue
        if rec["id"] in ids:
            errors.append(f"line {n}: duplicate id {rec['id']}")
        ids.add(rec["id"])
        try:
            datetime.date.fromisoformat(rec["date"])
        except ValueError:
            errors.append(f"line {n}: bad date {rec['date']!r}")
        ok = (
            rec["label"] == "risky" and rec["category"] in RISKY and rec["id"].startswith("r")
        ) or (rec["label"] == "benign" and rec["category"] in BENIGN and rec["id"].startswith("b"))
        if not ok:
            errors.append(
                f"line {n}: label/category/id mismatch {rec['id']} {rec['label']} {rec['category']}"
            )
        if not rec["text"].strip() or not rec["source"].strip():
            errors.append(f"line {n}: empty text or source")
        alt = rec.get("alt_text")
        if alt is not None and not (
            (isinstance(alt, str) and alt.strip())
            or (isinstance(alt, list) and alt and all(isinstance(a, str) for a in alt))
        ):
            errors.append(f"line {n}: alt_text must be a non-empty string or list of strings")
        counts[(rec["label"], rec["category"])] += 1
    events = (
        yaml.safe_load((HERE / "events.yaml").read_text(encoding="utf-8"))
        if (HERE / "events.yaml").exists()
        else []
    )
    for ev in events or []:
        if set(ev) != {"name", "start", "end", "recurs", "kind", "keywords"}:
            errors.append(f"event {ev.get('name')}: keys {sorted(ev)}")
        start, end = (datetime.date.fromisoformat(str(ev[k])) for k in ("start", "end"))
        if end < start or ev["recurs"] not in ("yearly", None) or not ev["keywords"]:
            errors.append(f"event {ev['name']}: bad window/recurs/keywords")
    news = yaml.safe_load((HERE / "news-register.yaml").read_text(encoding="utf-8"))
    for ev in news or []:
        if set(ev) != {"name", "start", "end", "recurs", "kind", "keywords", "source"}:
            errors.append(f"news event {ev.get('name')}: keys {sorted(ev)}")
            continue
        start, end = (datetime.date.fromisoformat(str(ev[k])) for k in ("start", "end"))
        if end < start or ev["recurs"] is not None or not ev["keywords"] or not ev["source"]:
            errors.append(f"news event {ev['name']}: bad window/recurs/keywords/source")
    if (HERE / "policy.yaml").exists():
        pol = yaml.safe_load((HERE / "policy.yaml").read_text(encoding="utf-8"))
        if not pol.get("confidential_terms") or pol.get("overrides") != {}:
            errors.append("policy.yaml: needs confidential_terms and empty overrides")
    for (label, cat), c in sorted(counts.items()):
        print(f"{label:7} {cat:16} {c}")
    print(
        "total",
        sum(counts.values()),
        "risky",
        sum(c for (label, _), c in counts.items() if label == "risky"),
        "benign",
        sum(c for (label, _), c in counts.items() if label == "benign"),
    )
    for e in errors:
        print("ERROR", e)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
