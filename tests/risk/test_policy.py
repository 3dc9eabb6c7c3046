from __future__ import annotations

from pathlib import Path

import pytest

from sixfold.risk import Finding, Policy, PolicyError, Severity, VerdictLevel


def _finding(category: str, severity: Severity, score: float = 0.5) -> Finding:
    return Finding("scanner", category, severity, score, 0, 1, "why")


def test_default_policy_takes_the_strongest_severity() -> None:
    policy = Policy()
    assert policy.decide([]).verdict is VerdictLevel.OK
    assert policy.decide([_finding("hygiene", Severity.INFO)]).verdict is VerdictLevel.OK
    verdict = policy.decide(
        [_finding("hot_topic", Severity.REVIEW, 0.5), _finding("slur", Severity.BLOCK, 0.98)]
    )
    assert verdict.verdict is VerdictLevel.BLOCK
    assert verdict.score == 0.98


def test_findings_may_come_from_any_iterable() -> None:
    findings = [_finding("slur", Severity.BLOCK, 0.98), _finding("hygiene", Severity.INFO)]
    assert Policy().decide(f for f in findings) == Policy().decide(findings)
    assert Policy().decide(f for f in findings).verdict is VerdictLevel.BLOCK


def test_category_overrides_change_the_verdict_both_ways() -> None:
    policy = Policy.from_data({"overrides": {"politics": "ok", "profanity": "block"}})
    assert policy.decide([_finding("politics", Severity.REVIEW)]).verdict is VerdictLevel.OK
    assert policy.decide([_finding("profanity", Severity.INFO)]).verdict is VerdictLevel.BLOCK


def test_loads_yaml_with_confidential_terms(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(
        "confidential_terms:\n  - Project Kestrel   # codename\nverdicts: {hygiene: review}\n"
        "allowed_domains: [example.com]\nsomething_else: 1\n"
    )
    policy = Policy.from_yaml(path)
    assert policy.confidential_terms == ("Project Kestrel",)
    assert policy.verdicts == {"hygiene": VerdictLevel.REVIEW}
    assert policy.unknown_keys == ("something_else",)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (["a"], "must be a YAML mapping"),
        ({"confidential_terms": "Kestrel"}, "expected a list"),
        ({"verdicts": {"profanity": "maybe"}}, "is not ok, review or block"),
        ({"overrides": ["profanity"]}, "expected a mapping"),
        ({"brand_account": "false"}, "expected true or false, without quotes"),
        ({"phone_region": "ZZ"}, "is not a two-letter country code"),
        ({"allowed_domains": [["example.com"]]}, "found list"),
    ],
)
def test_malformed_policies_say_what_is_wrong(data: object, message: str) -> None:
    with pytest.raises(PolicyError, match=message):
        Policy.from_data(data)


def test_brand_account_and_phone_region_are_read_as_written() -> None:
    policy = Policy.from_data({"brand_account": False, "phone_region": "nl"})
    assert (policy.brand_account, policy.phone_region) == (False, "NL")
