from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pytest

import sixfold.risk as risk
from sixfold.risk import (
    SCANNER_TYPES,
    BatchItem,
    Context,
    Document,
    Engine,
    Policy,
    RegistryError,
    Severity,
    VerdictLevel,
    check_batch,
    check_text,
    default_engine,
    load_registry,
)
from tests.risk.helpers import on

# One post per scanner, each of which that scanner must flag (review or block).
TRIGGERS = {
    "sensitive_events": ("Never forget 9/11. Shop our sale, 20% off", "2019-09-11"),
    "tragedy_promotion": ("Earthquake? Shop our flash sale", None),
    "profanity": ("what the fuck", None),
    "personal_attack": ("@sam_k you idiot", None),
    "confidential": ("We are being acquired by Globex, keep it quiet", None),
    "personal_data": ("card 4111 1111 1111 1111", None),
    "secrets": ("key AKIAIOSFODNN7EXAMPLE", None),
    "hot_topics": ("Vote Republican", None),
    "harmful_messaging": ("Man up and order the wings", None),
    "off_brand": ("we are so drunk right now", None),
    "links": ("http://bit.ly/abc", None),
}


def test_every_registered_scanner_fulfils_the_contract() -> None:
    engine = default_engine()
    names = [scanner.name for scanner in engine.scanners]
    assert names == [spec.name for spec in load_registry()]
    for scanner in engine.scanners:
        text, day = TRIGGERS.get(scanner.name, ("Hello!!!! #don't", None))
        doc = Document(text)
        context = on(day or "2024-03-05")
        findings = scanner.scan(doc, context)
        assert findings, scanner.name
        for finding in findings:
            assert finding.scanner == scanner.name
            assert 0 <= finding.start < finding.end <= len(text)
            assert 0.0 <= finding.score <= 1.0
            assert finding.message
            assert finding.category


def test_clean_post_is_ok() -> None:
    verdict = check_text("Our autumn menu is here: pumpkin soup and fresh bread.", on("2024-10-02"))
    assert verdict.verdict is VerdictLevel.OK
    assert verdict.findings == ()


def test_batch_uses_per_item_dates() -> None:
    text = "Pearl Harbor deals all day"
    verdicts = check_batch([text, BatchItem(text, when=dt.date(2019, 12, 7))], on("2019-12-08"))
    assert [v.verdict for v in verdicts] == [VerdictLevel.OK, VerdictLevel.BLOCK]


def test_a_batch_checks_a_post_once_whether_given_as_text_or_as_an_item() -> None:
    text = "Pearl Harbor deals all day"
    dated = BatchItem(text, when=dt.date(2019, 12, 7))
    imaged = BatchItem(text, alt_texts=("a sailor saluting",))
    items = [text, dated, BatchItem(text), imaged, dated, text]
    verdicts = check_batch(items, on("2019-12-08"))
    assert verdicts[0] is verdicts[2] is verdicts[5]
    assert verdicts[1] is verdicts[4]
    assert [v.verdict for v in verdicts[:2]] == [VerdictLevel.OK, VerdictLevel.BLOCK]
    assert verdicts[3] == check_text(text, on("2019-12-08"), alt_texts=imaged.alt_texts)


def test_policy_can_disable_a_scanner_and_override_a_category() -> None:
    policy = Policy(disabled_scanners=("profanity", "personal_attack"))
    assert check_text("what the fuck", on("2024-03-05", policy=policy)).verdict is VerdictLevel.OK
    lenient = Policy.from_data({"verdicts": {"politics": "ok"}})
    assert check_text("Vote Republican", on("2024-03-05", policy=lenient)).verdict.value == "ok"


def test_findings_are_sorted_and_serialisable() -> None:
    verdict = check_text("fuck!!!! card 4111 1111 1111 1111", Context())
    starts = [f.start for f in verdict.findings]
    assert starts == sorted(starts)
    data = verdict.to_dict()
    assert data["verdict"] == "block"
    findings = data["findings"]
    assert isinstance(findings, list)
    assert {f["severity"] for f in findings} >= {"block", "info"}


def test_registry_is_data(tmp_path: Path) -> None:
    path = tmp_path / "registry.yaml"
    path.write_text("scanners:\n  - {name: only_links, type: LinkScanner}\n")
    engine = Engine.from_registry(path)
    assert [s.name for s in engine.scanners] == ["only_links"]
    verdict = engine.check("http://bit.ly/x what the fuck", Context())
    assert {f.scanner for f in verdict.findings} == {"only_links"}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("scanners:\n  - {name: x, type: Nope}\n", "unknown scanner type"),
        ("scanners:\n  - {name: x}\n", "needs 'name' and 'type'"),
        ("other: 1\n", "needs a 'scanners' list"),
    ],
)
def test_bad_registries_are_rejected(tmp_path: Path, body: str, message: str) -> None:
    path = tmp_path / "registry.yaml"
    path.write_text(body)
    with pytest.raises(RegistryError, match=message):
        load_registry(path)


def test_public_api_is_exported() -> None:
    assert set(risk.__all__) >= {
        "Document",
        "Scanner",
        "Finding",
        "Context",
        "Verdict",
        "Policy",
        "EventRegister",
        "check_text",
        "check_batch",
    }
    assert "SensitiveEventScanner" in SCANNER_TYPES
    assert Severity.BLOCK.rank > Severity.REVIEW.rank > Severity.INFO.rank


@pytest.mark.parametrize(
    "text",
    [
        "a" * 30_000,
        "a." * 15_000,
        "a@" + "b." * 10_000 + "1",
        "1 " * 15_000,
        "#" + "a" * 30_000,
        "a1" * 15_000,
        "http://" + "a" * 30_000,
        "fuсk " * 5_000,
    ],
)
def test_long_adversarial_posts_are_checked_in_linear_time(text: str) -> None:
    # Generous bound: a quadratic regex would take minutes on these, linear code milliseconds.
    default_engine()
    start = time.perf_counter()
    check_text(text, Context())
    assert time.perf_counter() - start < 2.0
